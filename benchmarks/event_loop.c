/* The ceiling: a bare event loop over contiguous float32 weight rows.
 *
 * For every presynaptic spike, walk its row of n_post weights: add the
 * weight into the postsynaptic current, apply a CSDP-like update gated by a
 * postsynaptic signal and clip -- the work of one synaptic event in the
 * circuit, with nothing else. Prints nanoseconds per event.
 *
 * Build and run: gcc -O3 -march=native -o event_loop event_loop.c && ./event_loop
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    int n_pre = 784, n_post = argc > 1 ? atoi(argv[1]) : 3000;
    int steps = argc > 2 ? atoi(argv[2]) : 2000, spikes_per_step = 100;
    float *w = malloc(sizeof(float) * n_pre * n_post);
    float *current = calloc(n_post, sizeof(float));
    float *signal = malloc(sizeof(float) * n_post);
    int *pre = malloc(sizeof(int) * spikes_per_step);
    srand(1);
    for (long k = 0; k < (long)n_pre * n_post; k++) w[k] = (rand() / (float)RAND_MAX) - 0.5f;
    for (int j = 0; j < n_post; j++) signal[j] = (rand() / (float)RAND_MAX) - 0.5f;
    const float eta = 1e-4f;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int s = 0; s < steps; s++) {
        for (int k = 0; k < spikes_per_step; k++) pre[k] = rand() % n_pre;
        for (int k = 0; k < spikes_per_step; k++) {
            float *row = w + (long)pre[k] * n_post;
            for (int j = 0; j < n_post; j++) {
                current[j] += row[j];
                float v = row[j] - eta * signal[j];
                row[j] = v > 1.f ? 1.f : (v < -1.f ? -1.f : v);
            }
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double seconds = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    double events = (double)steps * spikes_per_step * n_post;
    printf("%.4f ns/event (%.0f M events/s; checksum %g)\n", 1e9 * seconds / events,
           events / seconds / 1e6, (double)current[0]);
    return 0;
}
