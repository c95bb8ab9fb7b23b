/* The floor of the adaptive CSDP step: bare C learning rows, plain and adaptive.
 *
 * For every presynaptic spike, walk its row of n_post float32 weights and
 * apply the CSDP update the circuit's learning rows apply (models.py):
 *
 *   plain:     w = clip(w - eta * gain * d_post, w_min, w_max)
 *   adaptive:  g = gain * d_post
 *              g2 = decay * g2 + g * g
 *              w = clip(w - eta * g / (sqrt(g2 * inv_norm) + eps), w_min, w_max)
 *
 *   traffic:   the adaptive row without its square root and division
 *              (w = clip(w - eta * g * g2 * inv_norm, ...)): the same loads
 *              and stores, to tell memory from arithmetic
 *
 * with nothing else: no spike queue, no propagation, no Brian2. Compiled with
 * the flags the device's synaptic rows use (Brian2's -O3 -ffast-math
 * -march=native, reciprocals kept exact, 512-bit vectors preferred), so the
 * compiler may vectorise both rows exactly as it does the device's. The two
 * rows alternate for several rounds on the same weights; each round's time
 * is printed, and the ratio of the two rows' best times.
 *
 * Build and run (n_post 3000: the paper's W1; 500: tuned's):
 *   gcc -O3 -ffast-math -fno-finite-math-only -fno-reciprocal-math -march=native \
 *       -mprefer-vector-width=512 -o adaptive_floor adaptive_floor.c -lm
 *   ./adaptive_floor 3000
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static float clip(float v, float lo, float hi) { return v > hi ? hi : (v < lo ? lo : v); }

static void plain_row(float *restrict w, const float *restrict d_post, int n,
                      float eta, float gain) {
    for (int j = 0; j < n; j++) w[j] = clip(w[j] - eta * gain * d_post[j], -1.f, 1.f);
}

static void adaptive_row(float *restrict w, float *restrict g2, const float *restrict d_post,
                         int n, float eta, float gain, float decay, float inv_norm,
                         float eps) {
    for (int j = 0; j < n; j++) {
        float g = gain * d_post[j];
        g2[j] = decay * g2[j] + g * g;
        w[j] = clip(w[j] - eta * g / (sqrtf(g2[j] * inv_norm) + eps), -1.f, 1.f);
    }
}

static void traffic_row(float *restrict w, float *restrict g2, const float *restrict d_post,
                        int n, float eta, float gain, float decay, float inv_norm) {
    for (int j = 0; j < n; j++) {
        float g = gain * d_post[j];
        g2[j] = decay * g2[j] + g * g;
        w[j] = clip(w[j] - eta * g * g2[j] * inv_norm, -1.f, 1.f);
    }
}

int main(int argc, char **argv) {
    int n_pre = 784, n_post = argc > 1 ? atoi(argv[1]) : 3000;
    int steps = argc > 2 ? atoi(argv[2]) : 300, rounds = argc > 3 ? atoi(argv[3]) : 5;
    int spikes_per_step = 100;
    long n_syn = (long)n_pre * n_post;
    float *w = malloc(sizeof(float) * n_syn), *g2 = calloc(n_syn, sizeof(float));
    float *d_post = malloc(sizeof(float) * n_post);
    int *pre = malloc(sizeof(int) * (long)steps * spikes_per_step);
    srand(1);
    for (long k = 0; k < n_syn; k++) w[k] = 0.7f * ((rand() / (float)RAND_MAX) * 2 - 1);
    for (int j = 0; j < n_post; j++) d_post[j] = 0.01f * ((rand() / (float)RAND_MAX) - 0.5f);
    for (long k = 0; k < (long)steps * spikes_per_step; k++) pre[k] = rand() % n_pre;
    const float eta = 3e-4f, gain = 1.0f, decay = 0.999f, inv_norm = 0.01f, eps = 1e-8f;
    double events = (double)steps * spikes_per_step * n_post;
    double best_plain = 1e30, best_adaptive = 1e30, best_traffic = 1e30;
    printf("n_post %d, %d steps x %d spikes per round\n", n_post, steps, spikes_per_step);
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        for (long k = 0; k < (long)steps * spikes_per_step; k++)
            plain_row(w + (long)pre[k] * n_post, d_post, n_post, eta, gain);
        double t1 = now();
        for (long k = 0; k < (long)steps * spikes_per_step; k++)
            adaptive_row(w + (long)pre[k] * n_post, g2 + (long)pre[k] * n_post, d_post,
                         n_post, eta, gain, decay, inv_norm, eps);
        double t2 = now();
        for (long k = 0; k < (long)steps * spikes_per_step; k++)
            traffic_row(w + (long)pre[k] * n_post, g2 + (long)pre[k] * n_post, d_post,
                        n_post, eta, gain, decay, inv_norm);
        double t3 = now();
        double plain = 1e9 * (t1 - t0) / events, adaptive = 1e9 * (t2 - t1) / events;
        double traffic = 1e9 * (t3 - t2) / events;
        printf("round %d: plain %.4f, adaptive %.4f, traffic %.4f ns/event\n",
               r + 1, plain, adaptive, traffic);
        if (traffic < best_traffic) best_traffic = traffic;
        if (plain < best_plain) best_plain = plain;
        if (adaptive < best_adaptive) best_adaptive = adaptive;
    }
    printf("best: plain %.4f, adaptive %.4f, traffic %.4f ns/event; adaptive / plain %.2f, "
           "traffic / plain %.2f (checksum %g)\n", best_plain, best_adaptive, best_traffic,
           best_adaptive / best_plain, best_traffic / best_plain, (double)w[0] + g2[0]);
    return 0;
}
