"""An independent NumPy implementation of the circuit's discrete-time equations.

Written from the equations (ALGORITHM.md, sections 1-4), not from the Brian2
model code, with dense [pre, post] matrices. Input pixels must be 0 or 1 so
that the Bernoulli input is deterministic.
"""

import numpy as np

CSDP_PROJECTIONS = {  # name: (pre, post)
    "W1": ("z0", "z1"), "V2": ("z2", "z1"), "Y1": ("zc", "z1"), "M1": ("z1", "z1"),
    "W2": ("z1", "z2"), "Y2": ("zc", "z2"), "M2": ("z2", "z2"),
}
LATERAL = ("M1", "M2")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class ReferenceCircuit:
    """Step-by-step NumPy simulation; ``p`` is a :class:`brian_edff.params.Params`."""

    def __init__(self, p, weights, theta_base):
        self.p = p
        self.W = {k: np.array(v, dtype=float) for k, v in weights.items()}
        self.theta_base = {k: np.array(v, dtype=float) for k, v in theta_base.items()}
        self.dt_m = float(p.dt / p.tau_m)
        self.dt_tr = float(p.dt / p.tau_tr)
        self.n_steps = 0  # steps since the start of the run (Brian2's t / dt)
        # Adaptive CSDP step: per-synapse sum of squared updates, sum of
        # their weights, time of the last event.
        self.rms = {k: {"g2": np.zeros_like(self.W[k]), "norm": np.zeros_like(self.W[k]),
                        "t_last": np.zeros_like(self.W[k])} for k in CSDP_PROJECTIONS}
        # Per-cell adaptive step: running mean square of each hidden cell's
        # modulator and the sum of its weights.
        self.d_ms = {k: np.zeros(len(self.theta_base[k])) for k in ("z1", "z2")}
        self.d_ms_norm = {k: np.zeros(len(self.theta_base[k])) for k in ("z1", "z2")}
        # Per-cell homeostatic threshold offsets, kept across windows.
        self.h = {k: np.zeros(len(self.theta_base[k])) for k in ("z1", "z2")}

    def start_window(self):
        n = {k: len(v) for k, v in self.theta_base.items()}
        self.v = {k: np.zeros(n[k]) for k in n}
        self.tr = {k: np.zeros(n[k]) for k in n}
        self.theta = {k: v.copy() for k, v in self.theta_base.items()}
        if self.p.rho_h > 0:
            for k, h in self.h.items():
                self.theta[k] = np.maximum(self.theta[k] + h, self.p.theta_min)
        self.prev = {k: np.zeros(n[k]) for k in ("z1", "z2", "zy")}
        self.prev["z0"] = np.zeros(len(self.W["W1"]))
        self.prev["zc"] = np.zeros(len(self.W["Y1"]))
        self.count = {k: np.zeros(n[k]) for k in ("z1", "z2", "zy")}
        self.goodness = np.zeros(2)
        self.tr_sum = np.zeros(n["zR"])

    def _lif(self, name, current, adaptive=True):
        v = self.v[name] + self.dt_m * (-self.v[name] + current)
        spikes = (v > self.theta[name]).astype(float)
        v[spikes > 0] = 0.0
        self.v[name] = v
        if adaptive:
            self.theta[name] = np.maximum(
                self.theta[name] + self.p.rho_b * (spikes.sum() - 1), self.p.theta_min)
        self.tr[name] = self.tr[name] * (1 - self.dt_tr) * (1 - spikes) + spikes
        return spikes

    def step(self, pixels, context, target, y, csdp_on, cls_on, recon_on):
        """One step; returns a dict of the step's states."""
        p, W, prev = self.p, self.W, self.prev
        s0 = (np.asarray(pixels) > 0.5).astype(float)
        sc = np.zeros(len(W["Y1"]))
        if context >= 0:
            sc[context] = 1.0
        j1 = p.R_m * (prev["z0"] @ W["W1"] + prev["z2"] @ W["V2"] + prev["zc"] @ W["Y1"]) \
            - p.R_inh * (prev["z1"] @ W["M1"])
        j2 = p.R_m * (prev["z1"] @ W["W2"] + prev["zc"] @ W["Y2"]) \
            - p.R_inh * (prev["z2"] @ W["M2"])
        jy = prev["z1"] @ W["C1"] + prev["z2"] @ W["C2"]
        s1 = self._lif("z1", j1)
        s2 = self._lif("z2", j2)
        sy = self._lif("zy", jy)
        sR = self._lif("zR", s1 @ W["R1"], adaptive=False)
        spikes = {"z0": s0, "zc": sc, "z1": s1, "z2": s2, "zy": sy}
        for name in ("z1", "z2", "zy"):
            self.count[name] += spikes[name]
        G = {k: float((self.tr[k] ** 2).sum()) for k in ("z1", "z2")}
        self.goodness += [G["z1"], G["z2"]]
        self.tr_sum += self.tr["zR"]
        d = {"z1": 2 * self.tr["z1"] * (sigmoid(G["z1"] - p.theta_g1) - y),
             "z2": 2 * self.tr["z2"] * (sigmoid(G["z2"] - p.theta_g2) - y)}
        if p.csdp_step == "rmsprop_cell":
            d_hat = self._cell_rms_step(d, csdp_on)
        if csdp_on:
            for k in ("z1", "z2"):
                self.h[k] += p.rho_h * (spikes[k] - spikes[k].mean())
            for name, (pre, post) in CSDP_PROJECTIONS.items():
                lateral = name in LATERAL
                gain = p.R_inh if lateral else p.R_m
                if lateral and p.lateral_sign == "consistent":
                    gain = -gain
                if p.csdp_step == "rmsprop":
                    step = self._rms_step(name, gain * d[post], prev[pre] > 0.5)
                elif p.csdp_step == "rmsprop_cell":
                    step = -p.eta * np.sign(gain) * np.outer(prev[pre], d_hat[post])
                else:
                    step = -p.eta * gain * np.outer(prev[pre], d[post])
                dw = step - p.w_decay * np.outer(1 - prev[pre], spikes[post])
                lo = 0.0 if lateral else -p.w_bound
                W[name] = np.clip(W[name] + dw, lo, p.w_bound)
                if lateral:
                    np.fill_diagonal(W[name], 0.0)
        target_vec = np.zeros(len(sy))
        if target >= 0:
            target_vec[target] = 1.0
        ey = 2 * (target_vec - self.tr["zy"]) * cls_on
        eR = 2 * (s0 - sR) * recon_on
        if cls_on:
            for name, pre in (("C1", "z1"), ("C2", "z2")):
                W[name] = np.clip(W[name] + p.eta_head * p.head_gain *
                                  np.outer(prev[pre], ey), -p.w_bound, p.w_bound)
        if recon_on:
            W["R1"] = np.clip(W["R1"] + p.eta_head * p.head_gain * np.outer(s1, eR),
                              -p.w_bound, p.w_bound)
        self.prev = spikes
        self.n_steps += 1
        return {"v1": self.v["z1"].copy(), "v2": self.v["z2"].copy(),
                "theta1": self.theta["z1"].copy(), "theta2": self.theta["z2"].copy(),
                "tr1": self.tr["z1"].copy(), "tr2": self.tr["z2"].copy(),
                "G1": G["z1"], "G2": G["z2"], "d1": d["z1"], "d2": d["z2"],
                "vy": self.v["zy"].copy(), "vR": self.v["zR"].copy()}

    def _cell_rms_step(self, d, csdp_on):
        """Per-cell adaptive step: update each hidden cell's running mean
        square of its modulator; the normalised modulators ``d_hat``."""
        p = self.p
        decay = np.exp(-float(p.dt) / float(p.tau_rms))
        d_hat = {}
        for k in ("z1", "z2"):
            self.d_ms[k] = decay * self.d_ms[k] + float(csdp_on) * d[k] ** 2
            self.d_ms_norm[k] = decay * self.d_ms_norm[k] + float(csdp_on)
            rms = np.sqrt(self.d_ms[k] / (self.d_ms_norm[k] + 1e-30))
            d_hat[k] = d[k] / (rms + p.eps_rms)
        return d_hat

    def _rms_step(self, name, g_post, active_pre):
        """RMSprop-like step on the rows of presynaptic cells that spiked last step."""
        p, state = self.p, self.rms[name]
        t = self.n_steps * float(p.dt)
        rows = np.flatnonzero(active_pre)
        g = np.broadcast_to(g_post, (len(rows), len(g_post)))
        decay = np.exp(-(t - state["t_last"][rows]) / float(p.tau_rms))
        state["g2"][rows] = decay * state["g2"][rows] + g ** 2
        state["norm"][rows] = decay * state["norm"][rows] + 1
        state["t_last"][rows] = t
        step = np.zeros_like(self.W[name])
        step[rows] = -p.eta * g / (np.sqrt(state["g2"][rows] / state["norm"][rows])
                                   + p.eps_rms)
        return step
