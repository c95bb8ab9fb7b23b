"""Poisson inputs onto LIF cells with spike-timing-dependent plasticity, on any
standalone device: brian_edff's device serves any Brian2 network.

A plain Brian2 script in the style of Brian2's examples: 1,000 Poisson
inputs at 15 Hz drive 50 leaky integrate-and-fire cells through all-to-all
excitatory synapses whose weights follow pair-based STDP with exponential
traces, updated on pre- and postsynaptic spikes (event-driven, as in Song,
Miller & Abbott 2000, Nat. Neurosci. 3:919). Nothing in it is specific to
brian_edff but the device's name: ``import brian_edff`` registers
``edff_standalone`` beside Brian2's ``cpp_standalone``.

Run (one device; prints the run time, the build time and where the weights
were saved; ``--profile`` adds Brian2's time per code object)::

    python benchmarks/plastic_network.py edff_standalone OUT_DIR [--profile]
    python benchmarks/plastic_network.py cpp_standalone OUT_DIR

``benchmarks/bench_speed.py --plastic-network`` runs both side by side and
checks that their weights are equal.
"""

import sys
import time

import numpy as np
from brian2 import (
    Hz,
    NeuronGroup,
    PoissonGroup,
    SpikeMonitor,
    Synapses,
    device,
    magic_network,
    ms,
    mV,
    run,
    second,
    seed,
    set_device,
)

import brian_edff  # noqa: F401  (registers edff_standalone)

# Parameters
n_inputs, n_cells = 1000, 50
input_rate = 15 * Hz
tau_m, v_rest, v_reset, v_threshold = 20 * ms, -70 * mV, -70 * mV, -54 * mV
w_unit = 0.1 * mV           # depolarisation by a synapse of weight 1
tau_pre = tau_post = 20 * ms
w_max = 1.0
step_pre, step_post = 0.01, -0.0105   # potentiation and (slightly larger) depression
duration = 100 * second

lif = """
dv/dt = (v_rest - v) / tau_m : volt (unless refractory)
"""
stdp = """
w : 1
dtrace_in/dt = -trace_in / tau_pre : 1 (event-driven)
dtrace_out/dt = -trace_out / tau_post : 1 (event-driven)
"""
on_pre = """
v_post += w * w_unit
trace_in += step_pre
w = clip(w + trace_out, 0, w_max)
"""
on_post = """
trace_out += step_post
w = clip(w + trace_in, 0, w_max)
"""


def build_and_run(device_name: str, directory: str, profile: bool = False) -> tuple:
    """Build and run the network on ``device_name``; (weights, run s, build s,
    output spikes, Brian2's time per code object where ``profile``)."""
    set_device(device_name, directory=directory, build_on_run=False)
    seed(2026)
    inputs = PoissonGroup(n_inputs, rates=input_rate)
    cells = NeuronGroup(n_cells, lif, threshold="v > v_threshold", reset="v = v_reset",
                        refractory=2 * ms, method="exact")
    cells.v = v_rest
    synapses = Synapses(inputs, cells, stdp, on_pre=on_pre, on_post=on_post)
    synapses.connect()
    synapses.w = "rand() * w_max"
    spikes = SpikeMonitor(cells)
    run(duration, profile=profile)
    start = time.perf_counter()
    device.build(directory=directory, compile=True, run=True)
    build_s = time.perf_counter() - start
    weights = np.array(synapses.w[:])
    run_s = device._last_run_time
    n_spikes = spikes.num_spikes
    timers = (sorted(magic_network.profiling_info, key=lambda item: -float(item[1]))
              if profile else [])
    device.reinit()
    device.activate()
    return weights, run_s, build_s - run_s, n_spikes, timers


if __name__ == "__main__":
    name, out = sys.argv[1], sys.argv[2]
    profile = sys.argv[3:4] == ["--profile"]
    weights, run_s, build_s, n_spikes, timers = build_and_run(name, out, profile)
    for code_object, seconds in timers[:8]:
        print(f"  {code_object:<50} {float(seconds):.3f} s")
    np.save(f"{out}/weights.npy", weights)
    print(f"{name}: run {run_s:.3f} s, build {build_s:.1f} s, {n_spikes} output spikes, "
          f"mean weight {weights.mean():.6f}; weights in {out}/weights.npy")
