"""Speed of the circuit: windows/s, ms per image, synaptic events/s, vs. a ceiling.

For each parameter set, one chunk of training windows (positive + negative
[+ head], learning on) and one chunk of test windows (nothing learns) are run
on the compiled ``cpp_standalone`` device, and a few windows on Brian2's
runtime device (NumPy code generation, which needs no compile step) in the
same invocation (ratio standalone / runtime). The
ceiling is ``event_loop.c``, a bare C loop over contiguous float32 weight
rows, compiled and run here; every events/s figure is also printed as a
percentage of it.

Run (about 3 minutes for ``fast``, 10 for ``reference`` on 2 cores, plus the
first compilation of each network shape)::

    python benchmarks/bench_speed.py --params fast reference

Synaptic events are counted from the recorded spikes: every presynaptic
spike reaches all targets of each projection it feeds (propagation), and
again on the next step through the CSDP or head pathway when that window
learns. Bernoulli input spikes are counted as their expectation.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from brian2 import prefs

from brian_edff.circuit import PROJECTIONS, Circuit
from brian_edff.datasets import load_dataset
from brian_edff.params import load_params
from brian_edff.stimuli import readout_plan, training_plan
from brian_edff.training import initial_state

HERE = os.path.dirname(os.path.abspath(__file__))


def ceiling_ns_per_event(n_post: int) -> float:
    """Compile and run the bare event loop; nanoseconds per event."""
    exe = os.path.join(tempfile.mkdtemp(), "event_loop")
    subprocess.run(["gcc", "-O3", "-march=native", "-o", exe,
                    os.path.join(HERE, "event_loop.c")], check=True)
    out = subprocess.run([exe, str(n_post), "600"], capture_output=True, text=True,
                         check=True).stdout
    return float(out.split()[0])


def synaptic_events(plan, result, params, sizes) -> float:
    """Events of one simulated plan (see module docstring)."""
    spikes = {"z0": plan.pixels.sum(axis=1) * params.T,
              "zc": (plan.context_label >= 0) * params.T,
              "z1": result.counts["z1"].sum(axis=1), "z2": result.counts["z2"].sum(axis=1)}
    learning = {"csdp": plan.csdp_on, "classifier": plan.classifier_on,
                "recon": plan.recon_on}
    total = 0.0
    for proj in PROJECTIONS:
        per_window = spikes[proj.pre] * sizes[proj.post]
        total += float((per_window * (1 + learning[proj.rule])).sum())
    return total


def measure(circuit, plan, state, params, sizes, images):
    start = time.perf_counter()
    result = circuit.run(plan, state.weights, state.theta_base)
    seconds = time.perf_counter() - start
    events = synaptic_events(plan, result, params, sizes)
    return {"s": seconds, "windows_per_s": plan.n_windows / seconds,
            "ms_per_image": 1000 * seconds / images, "events_per_s": events / seconds,
            "overhead_s": circuit.last_overhead_s}


def bench(name, runtime_windows):
    params = load_params(name)
    dataset = load_dataset("digits" if name == "fast" else "mnist5k", 0)
    params.validate(n_input=dataset.n_input)
    n = params.chunk_windows
    rng = np.random.default_rng(0)
    per_image = params.windows_per_image
    n_train = n // per_image
    x, y = dataset.train_x[:n_train], dataset.train_y[:n_train]
    train_plan = training_plan(x, y, params, "supervised", rng).padded(n)
    test_plan = readout_plan(dataset.test_x[:n], rng).padded(n)
    state = initial_state(params, dataset.n_input, 0)
    circuit = Circuit(params, dataset.n_input, n, device="standalone")
    sizes = circuit.sizes
    build_s = circuit.build_s
    try:
        train = measure(circuit, train_plan, state, params, sizes, n_train)
        test = measure(circuit, test_plan, state, params, sizes, min(n, len(test_plan.kind)))
    finally:
        circuit.close()
    prefs.codegen.target = "numpy"  # no compile step; see the module docstring
    small = train_plan.select(slice(0, runtime_windows))
    runtime = Circuit(params, dataset.n_input, runtime_windows, device="runtime")
    runtime.run(small, state.weights, state.theta_base)  # compile once
    start = time.perf_counter()
    runtime.run(small, state.weights, state.theta_base)
    runtime_wps = runtime_windows / (time.perf_counter() - start)
    return params, build_s, train, test, runtime_wps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", nargs="+", default=["fast", "reference"])
    parser.add_argument("--runtime-windows", type=int, default=4)
    args = parser.parse_args()
    print(f"# {sys.platform}, {os.cpu_count()} cores; python {sys.version.split()[0]}")
    header = ("| params | sizes | T | windows/s (train) | ms/train image | ms/test image | "
              "M events/s | % of ceiling | chunk overhead % | standalone/runtime | "
              "build s |")
    lines = [header, "|" + "---|" * 11]
    for name in args.params:
        params, build_s, train, test, runtime_wps = bench(name, args.runtime_windows)
        ceiling = 1e9 / ceiling_ns_per_event(params.n_hidden1)
        events = train["events_per_s"]
        lines.append(
            f"| {name} | {params.n_hidden1}/{params.n_hidden2} | {params.T} | "
            f"{train['windows_per_s']:.1f} | {train['ms_per_image']:.1f} | "
            f"{test['ms_per_image']:.1f} | {events / 1e6:.0f} | {100 * events / ceiling:.1f} | "
            f"{100 * train['overhead_s'] / train['s']:.1f} | "
            f"{train['windows_per_s'] / runtime_wps:.1f}x | {build_s:.0f} |")
        print(lines[-1], flush=True)
        print(f"#   ceiling (bare C loop, {params.n_hidden1} targets): "
              f"{ceiling / 1e6:.0f} M events/s", flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
