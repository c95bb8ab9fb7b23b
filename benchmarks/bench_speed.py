"""Speed of the circuit on brian_edff's device against plain cpp_standalone.

For each parameter set, one chunk of training windows (positive + negative
[+ head], learning on) and one chunk of test windows (nothing learns) are run
``--chunks`` times each (default 2; the table shows the warm runs, as an
epoch runs its chunks on one build, and the first beside them) in one
invocation, side by side, on

* ``cpp_standalone`` -- Brian2's own templates, single-threaded (the baseline),
* ``standalone/1`` -- brian_edff's device (:mod:`brian_edff.device`), one thread,
* ``standalone/2`` -- the same with two threads for the synaptic event loops
  (the default on a 2-core machine),

and a few windows on Brian2's runtime device (NumPy code generation, no
compile step) for a ratio. The ceiling is ``event_loop.c``, a bare C loop over
contiguous float32 weight rows, compiled and run here; every events/s figure
is also printed as a percentage of it. Beside the wall time per image, the
CPU time of the compiled binary (user + system, all its threads) per image:
on a machine busy with other jobs it moves much less than the wall time.
All devices compute the same spikes and weights (``tests/test_device.py``).
For the ``standalone/1`` rows also two test chunks run at once, one binary
and one thread each (``Circuit.run_independent``, what the readouts of an
evaluation do on an idle 2-core machine), as wall time per image.

Run (plus the first compilation of each network shape and device)::

    python benchmarks/bench_speed.py --params fast tuned reference

``--state-dtypes float64 float32`` measures brian_edff's device with the
cells' state in double and in single precision (``Params.state_dtype``; the
weights are float32 either way); the cpp_standalone baseline stays float64.
``--profile`` adds Brian2's per-code-object timers and prints, per device,
where the time of a training chunk goes, summed by projection.
``--ablation N`` measures a training chunk of ``N`` windows with the two
speed choices of the model switched off and on (float32 vs float64 weights,
lazy vs eager weight decay), on ``--devices``.

``--plastic-network`` runs ``plastic_network.py``, a plain Brian2 script
(Poisson inputs onto LIF cells with STDP), on ``cpp_standalone`` and on
brian_edff's device, a first build and a rebuild in the same directory
each, and checks that the weights are equal.

``--independent-rows`` measures a learned training chunk with the device's
``independent_rows`` preference off and on (rows of independent iterations
declared free of loop-carried dependences), interleaved, and checks that the
weights are equal::

    python benchmarks/bench_speed.py --independent-rows --params tuned paper --repeats 3

``--learning-cost`` measures, per parameter set and device, a training
chunk with CSDP on, the same chunk with the hidden synapses frozen (the
control arm), and CSDP on with the other step (plain against adaptive), and
prints their ratios: what learning costs. For example::

    python benchmarks/bench_speed.py --learning-cost --params tuned paper --devices standalone/1

Synaptic events are counted as the ceiling counts them: every presynaptic
spike reaching one target is one event (propagation); the learning work
attached to it (the CSDP or head update on the next step) is not counted
again, as the ceiling loop does both in one event. Bernoulli input spikes are
counted as their expectation.
"""

import argparse
import os
import resource
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
    return float(sum((spikes[proj.pre] * sizes[proj.post]).sum() for proj in PROJECTIONS))


def children_cpu_s() -> float:
    """User + system CPU seconds of this process's finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(circuit, plan, state, params, sizes, images):
    """Wall and CPU time of one chunk (the compiled binary is a child process,
    so its CPU time is the children's; on a busy machine it moves far less
    than the wall time)."""
    start, cpu_start = time.perf_counter(), children_cpu_s()
    result = circuit.run(plan, state.weights, state.theta_base)
    seconds = time.perf_counter() - start
    cpu = children_cpu_s() - cpu_start
    events = synaptic_events(plan, result, params, sizes)
    return {"s": seconds, "windows_per_s": plan.n_windows / seconds,
            "ms_per_image": 1000 * seconds / images, "events_per_s": events / seconds,
            "cpu_ms_per_image": 1000 * cpu / images,
            "overhead_s": circuit.last_overhead_s}


def measure_at_once(circuit, plans, state, images):
    """Wall and CPU time per image of test chunks run at once, one binary
    each (:meth:`Circuit.run_independent`, one synaptic thread each)."""
    start, cpu_start = time.perf_counter(), children_cpu_s()
    circuit.run_independent(plans, state.weights, state.theta_base, jobs=len(plans))
    seconds = time.perf_counter() - start
    cpu = children_cpu_s() - cpu_start
    return {"s": seconds, "ms_per_image": 1000 * seconds / (images * len(plans)),
            "cpu_ms_per_image": 1000 * cpu / (images * len(plans))}


def plans(name, n):
    """Parameters, a training plan and a test plan of ``n`` windows, initial state."""
    params = load_params(name)
    dataset = load_dataset("digits" if name == "fast" else "mnist5k", 0)
    params.validate(n_input=dataset.n_input)
    rng = np.random.default_rng(0)
    n_train = n // params.windows_per_image
    x, y = dataset.train_x[:n_train], dataset.train_y[:n_train]
    train_plan = training_plan(x, y, params, "supervised", rng).padded(n)
    test_plan = readout_plan(dataset.test_x[:n], rng).padded(n)
    state = initial_state(params, dataset.n_input, 0)
    return params, dataset.n_input, train_plan, n_train, test_plan, state


def profile_by_projection(circuit):
    """Seconds of the last chunk per projection (all its code objects) and the rest."""
    names = [proj.name for proj in PROJECTIONS]
    totals = {}
    for code_object, seconds in circuit.profiling_info():
        owner = code_object.split("_")[0]
        key = owner if owner in names else "neurons and monitors"
        totals[key] = totals.get(key, 0.0) + seconds
    return totals


def print_profile(label, circuit, wall_s, top=10):
    """Where the time of the last chunk went, by projection."""
    totals = profile_by_projection(circuit)
    total = sum(totals.values())
    print(f"#   profile, {label}: {total:.2f} s in code objects of {wall_s:.2f} s wall",
          flush=True)
    for key, seconds in sorted(totals.items(), key=lambda kv: -kv[1])[:top]:
        print(f"#     {key:<24} {seconds:7.3f} s {100 * seconds / total:5.1f} %", flush=True)
    print("#   longest code objects:", flush=True)
    for name, seconds in circuit.profiling_info()[:top]:
        print(f"#     {name:<40} {seconds:7.3f} s {100 * seconds / total:5.1f} %", flush=True)


#: Devices measured side by side: (label, device, threads).
DEVICE_RUNS = (("cpp_standalone", "cpp_standalone", 0), ("standalone/1", "standalone", 1),
               ("standalone/2", "standalone", 2))


def measure_chunks(circuit, plan, state, params, images, chunks, measure=measure):
    """``chunks`` runs of one chunk on one build: the first, and the mean of
    the others (the first again for one chunk).

    An epoch runs its chunks one after another on one build, so what a chunk
    costs in an epoch is the warm figure; the first run in a process also
    pays for cold file caches and first-touch memory.
    """
    runs = [measure(circuit, plan, state, params, circuit.sizes, images)
            for _ in range(chunks)]
    if len(runs) == 1:
        return runs[0], runs[0]
    warm = {key: float(np.mean([run[key] for run in runs[1:]])) for key in runs[1]}
    return runs[0], warm


def bench(name, devices, profile=False, state_dtypes=("float32",), chunks=2):
    """Training and test chunk of ``name`` on each device (and cell-state
    precision, ``Params.state_dtype``), each run ``chunks`` times; rows of
    measurements (the warm ones, :func:`measure_chunks`, where ``chunks > 1``)."""
    params, n_input, train_plan, n_train, test_plan, state = plans(
        name, load_params(name).chunk_windows)
    n = train_plan.n_windows
    rows = []
    # The baseline stays Brian2's cpp_standalone with float64 cells.
    runs = [(label, device, threads, dtype) for label, device, threads in devices
            for dtype in (state_dtypes if device == "standalone" else ("float64",))]
    # A second test chunk (other phases) for the runs of two chunks at once.
    second_test = readout_plan(test_plan.pixels, np.random.default_rng(1))
    for label, device, threads, dtype in runs:
        if len(state_dtypes) > 1 or dtype != "float64":
            label = f"{label}, {dtype} state"
        # One build of brian_edff's device runs with any thread count.
        circuit = Circuit(params.replace(state_dtype=dtype), n_input, n, device=device,
                          threads=threads, profile=profile)
        at_once = None
        try:
            first_train, train = measure_chunks(circuit, train_plan, state, params, n_train,
                                                chunks)
            if profile:
                print_profile(f"{name} on {label}, training chunk", circuit, train["s"])
            first_test, test = measure_chunks(circuit, test_plan, state, params, n, chunks)
            if profile:
                print_profile(f"{name} on {label}, test chunk", circuit, test["s"])
            if device == "standalone" and threads == 1 and not profile:
                _, at_once = measure_chunks(
                    circuit, [test_plan, second_test], state, params, n, chunks,
                    measure=lambda c, p, s, _params, _sizes, k: measure_at_once(c, p, s, k))
        finally:
            circuit.close()
        rows.append({"label": label, "build_s": circuit.build_s,
                     "train": train, "test": test, "test_at_once": at_once,
                     "first_train": first_train, "first_test": first_test})
    return params, train_plan, rows


def runtime_windows_per_s(name, train_plan, n_windows):
    """Windows/s of Brian2's runtime device (NumPy code generation)."""
    params, n_input, _, _, _, state = plans(name, 2)
    prefs.codegen.target = "numpy"  # no compile step; see the module docstring
    small = train_plan.select(slice(0, n_windows))
    runtime = Circuit(params, n_input, n_windows, device="runtime")
    runtime.run(small, state.weights, state.theta_base)  # code generation once
    start = time.perf_counter()
    runtime.run(small, state.weights, state.theta_base)
    return n_windows / (time.perf_counter() - start)


def learning_cost(name, chunks=2, threads=1, devices=("standalone",)):
    """What learning costs: ms per training image of ``name`` with CSDP on,
    with the hidden synapses frozen (the control), and with CSDP on but the
    other steps (plain, and the per-synapse adaptive step beside a set with
    the per-cell one), on each device, one invocation.

    Returns rows ``(device, step, arm, measurement)``; the frozen arm runs on
    the build of the set's own step.
    """
    base, n_input, train_plan, n_train, test_plan, state = plans(
        name, load_params(name).chunk_windows)
    dataset = load_dataset("digits" if name == "fast" else "mnist5k", 0)
    frozen_plan = training_plan(dataset.train_x[:n_train], dataset.train_y[:n_train], base,
                                "supervised", np.random.default_rng(0),
                                csdp=False).padded(train_plan.n_windows)
    steps = (base.csdp_step,) + tuple(s for s in ("rmsprop", "plain") if s != base.csdp_step)
    rows = []
    for device in devices:
        for step in steps:
            params = base.replace(csdp_step=step)
            arms = [("learned", train_plan)]
            if step == base.csdp_step:
                arms += [("frozen", frozen_plan), ("test", test_plan)]
            circuit = Circuit(params, n_input, train_plan.n_windows, device=device,
                              threads=threads if device == "standalone" else 0)
            try:
                for arm, plan in arms:
                    images = plan.n_windows if arm == "test" else n_train
                    _, warm = measure_chunks(circuit, plan, state, params, images, chunks)
                    rows.append((device, step, arm, warm))
                    print(f"#   {name}, {device}, {step} step, {arm}: "
                          f"{warm['ms_per_image']:.2f} ms/image", flush=True)
            finally:
                circuit.close()
    return base.replace(n_input=n_input), rows


#: A full MNIST epoch: training images, and the windows an evaluation reads
#: out (the test images once, each with every candidate label for the
#: goodness readout, and the training images once for the probe's features).
MNIST_TRAIN, MNIST_TEST = 60000, 10000


def epoch_minutes(train_ms, test_ms, n_labels=10):
    """Minutes of one full-MNIST epoch: training plus an evaluation with every readout."""
    readout_windows = MNIST_TEST * (1 + n_labels) + MNIST_TRAIN
    return (MNIST_TRAIN * train_ms + readout_windows * test_ms) / 1000 / 60


def print_learning_cost(name, base, rows):
    """The learning-cost table of :func:`learning_cost`, with its ratios and
    the projected full-MNIST epoch (:func:`epoch_minutes`)."""
    print(f"\n## {name} ({base.n_input}-{base.n_hidden1}-{base.n_hidden2}, "
          f"T = {base.T}, {base.state_dtype}): what learning costs per training image")
    print("| device | step | arm | ms/image | vs frozen | adaptive vs plain step | "
          "60k epoch + evaluation, min |")
    print("|---|---|---|---|---|---|---|")
    for device in dict.fromkeys(row[0] for row in rows):
        mine = {(step, arm): m["ms_per_image"] for d, step, arm, m in rows if d == device}
        frozen, test = mine[(base.csdp_step, "frozen")], mine[(base.csdp_step, "test")]
        for (step, arm), ms in mine.items():
            if arm == "test":
                print(f"| {device} | {step} | test window | {ms:.2f} | | | |", flush=True)
                continue
            ratio = ""
            if arm == "learned" and step != "plain" and ("plain", "learned") in mine:
                ratio = f"{ms / mine[('plain', 'learned')]:.2f}x"
            print(f"| {device} | {step} | {arm} | {ms:.1f} | {ms / frozen:.2f}x | {ratio} | "
                  f"{epoch_minutes(ms, test, base.n_labels):.0f} |", flush=True)


def plastic_network(repeats=2):
    """``plastic_network.py`` (Poisson inputs onto LIF cells with STDP) on
    cpp_standalone and on brian_edff's device, side by side: run time and
    build time of a first build in a new directory and of a rebuild in the
    same directory, each in a process of its own; weights compared for
    equality."""
    script = os.path.join(HERE, "plastic_network.py")
    rows, weights = [], {}
    for device in ("cpp_standalone", "edff_standalone"):
        directory = tempfile.mkdtemp(prefix=f"plastic_{device}_")
        for attempt in range(repeats):
            out = subprocess.run([sys.executable, script, device, directory],
                                 capture_output=True, text=True, check=True).stdout
            line = next(x for x in out.splitlines() if x.startswith(device))
            run_s = float(line.split("run ")[1].split(" s")[0])
            build_s = float(line.split("build ")[1].split(" s")[0])
            rows.append((device, "first build" if attempt == 0 else "rebuild", run_s,
                         build_s))
            print(f"#   {line}", flush=True)
        weights[device] = np.load(os.path.join(directory, "weights.npy"))
    equal = np.array_equal(weights["cpp_standalone"], weights["edff_standalone"])
    print("\n## Poisson inputs onto LIF cells with STDP (benchmarks/plastic_network.py)")
    print("| device | build | run s | compile and link s | run vs cpp_standalone |")
    print("|---|---|---|---|---|")
    base = {kind: run_s for device, kind, run_s, _ in rows if device == "cpp_standalone"}
    for device, kind, run_s, build_s in rows:
        print(f"| {device} | {kind} | {run_s:.3f} | {build_s:.1f} | "
              f"{base[kind] / run_s:.2f}x |")
    print(f"weights equal to cpp_standalone's: {equal} ({weights['cpp_standalone'].size} "
          "synapses)", flush=True)
    return rows, equal


#: The speed choices of the circuit, off (the baseline) to on.
VARIANTS = (("float64", False), ("float32", False), ("float64", True), ("float32", True))


def ablation(name, n_windows, profile=False, repeats=2, device="standalone", threads=None):
    """ms per training image of each variant, its best of ``repeats`` runs."""
    params, n_input, train_plan, n_train, _, state = plans(name, n_windows)
    best = [np.inf] * len(VARIANTS)
    # Interleave the variants, so that a busy machine slows them alike; the
    # compiled builds are cached, so only the first round compiles.
    for repeat in range(repeats):
        for k, (dtype, lazy) in enumerate(VARIANTS):
            circuit = Circuit(params, n_input, n_windows, device=device, threads=threads,
                              profile=profile, weight_dtype=dtype, lazy_decay=lazy)
            try:
                result = measure(circuit, train_plan, state, params, circuit.sizes, n_train)
                best[k] = min(best[k], result["ms_per_image"])
                if profile and repeat == repeats - 1:
                    print_profile(f"{dtype} weights, {'lazy' if lazy else 'eager'} decay",
                                  circuit, result["s"])
            finally:
                circuit.close()
    print(f"\n## {name} on {device}: training chunk of {n_windows} windows, best of {repeats}")
    print("| weights | decay | ms/train image | speed-up vs float64 + eager |")
    print("|---|---|---|---|")
    for (dtype, lazy), ms in zip(VARIANTS, best):
        print(f"| {dtype} | {'lazy' if lazy else 'eager'} | {ms:.1f} | {best[0] / ms:.2f}x |",
              flush=True)


def independent_rows_ab(name, repeats=3, threads=1):
    """ms per training image with the device's ``independent_rows``
    preference off and on (``#pragma GCC ivdep`` on rows of independent
    iterations), interleaved, ``repeats`` rounds of a warm chunk each; and
    whether the weights after the chunk are equal."""
    params, n_input, train_plan, n_train, _, state = plans(
        name, load_params(name).chunk_windows)
    times, weights = {False: [], True: []}, {}
    for _ in range(repeats):
        for setting in (False, True):
            prefs.devices.edff_standalone.independent_rows = setting
            circuit = Circuit(params, n_input, train_plan.n_windows, device="standalone",
                              threads=threads)
            try:
                # The first run (first touch of memory) gives the weights: every
                # run of the chunk starts from the same state.
                weights[setting] = circuit.run(train_plan, state.weights,
                                               state.theta_base).weights
                run = measure(circuit, train_plan, state, params, circuit.sizes, n_train)
            finally:
                circuit.close()
            times[setting].append(run["ms_per_image"])
            print(f"#   {name}, independent_rows={setting}: {run['ms_per_image']:.2f} "
                  f"ms/image", flush=True)
    prefs.devices.edff_standalone.independent_rows = True
    equal = all(np.array_equal(weights[False][k], weights[True][k]) for k in weights[True])
    off, on = np.mean(times[False]), np.mean(times[True])
    print(f"\n## {name} ({params.n_hidden1}-{params.n_hidden2}, {params.csdp_step} step): "
          f"learned training image, mean of {repeats} warm chunks, {threads} thread(s)")
    print("| rows declared independent | ms/image | speed-up |")
    print("|---|---|---|")
    print(f"| no | {off:.1f} | 1.00x |")
    print(f"| yes | {on:.1f} | {off / on:.2f}x |")
    print(f"weights equal: {equal}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", nargs="+", default=["fast", "tuned", "reference"])
    parser.add_argument("--devices", nargs="+", default=[d[0] for d in DEVICE_RUNS],
                        choices=[d[0] for d in DEVICE_RUNS])
    parser.add_argument("--runtime-windows", type=int, default=4,
                        help="windows on the runtime device for its ratio (0: skip)")
    parser.add_argument("--profile", action="store_true",
                        help="print where the time goes (Brian2 code-object timers)")
    parser.add_argument("--ablation", type=int, default=0, metavar="N",
                        help="only compare the speed choices on a chunk of N windows")
    parser.add_argument("--state-dtypes", nargs="+", default=["float32"],
                        choices=["float64", "float32"],
                        help="precision of the cells' state (Params.state_dtype), each "
                             "measured on brian_edff's device (cpp_standalone: float64)")
    parser.add_argument("--chunks", type=int, default=2,
                        help="runs of each chunk on one build: the table shows the "
                             "mean of all but the first (warm, as in an epoch) and "
                             "the first beside it")
    parser.add_argument("--learning-cost", action="store_true",
                        help="only compare training images with CSDP on (adaptive and "
                             "plain step) and frozen, on --devices")
    parser.add_argument("--plastic-network", action="store_true",
                        help="only run benchmarks/plastic_network.py (any Brian2 network) "
                             "on cpp_standalone and on brian_edff's device")
    parser.add_argument("--repeats", type=int, default=2,
                        help="ablation: runs of each variant (the best counts); "
                             "--independent-rows: rounds")
    parser.add_argument("--independent-rows", action="store_true",
                        help="only compare a learned training chunk with the device's "
                             "independent_rows preference off and on")
    args = parser.parse_args()
    if args.chunks < 1:
        parser.error(f"--chunks must be at least 1, got {args.chunks}")
    devices = [d for d in DEVICE_RUNS if d[0] in args.devices]
    print(f"# {sys.platform}, {os.cpu_count()} cores; python {sys.version.split()[0]}")
    if args.plastic_network:
        plastic_network()
        return
    if args.independent_rows:
        for name in args.params:
            independent_rows_ab(name, repeats=args.repeats)
        return
    if args.learning_cost:
        device_names = tuple(dict.fromkeys(device for _l, device, _t in devices))
        for name in args.params:
            base, rows = learning_cost(name, chunks=args.chunks, devices=device_names)
            print_learning_cost(name, base, rows)
        return
    if args.ablation:
        for name in args.params:
            for _label, device, threads in devices:
                ablation(name, args.ablation, profile=args.profile, repeats=args.repeats,
                         device=device, threads=threads)
        return
    header = ("| params | sizes | T | device | ms/train image | ms/test image | "
              "ms/test image, 2 chunks at once | CPU ms/train image | CPU ms/test image | "
              "M events/s | % of ceiling | train speed-up | test speed-up | "
              "chunk overhead % | 60k-image epoch, min | first chunk, ms/train, test image "
              "| build s |")
    lines = [header, "|" + "---|" * 17]
    runtime = []
    for name in args.params:
        params, train_plan, rows = bench(name, devices, profile=args.profile,
                                         state_dtypes=args.state_dtypes, chunks=args.chunks)
        ceiling = 1e9 / ceiling_ns_per_event(params.n_hidden1)
        print(f"#   ceiling (bare C loop, {params.n_hidden1} targets): "
              f"{ceiling / 1e6:.0f} M events/s", flush=True)
        base = rows[0]
        for row in rows:
            train, test = row["train"], row["test"]
            events = train["events_per_s"]
            at_once = row["test_at_once"]
            at_once = f"{at_once['ms_per_image']:.2f}" if at_once else "-"
            lines.append(
                f"| {name} | {params.n_hidden1}/{params.n_hidden2} | {params.T} | "
                f"{row['label']} | {train['ms_per_image']:.1f} | {test['ms_per_image']:.2f} | "
                f"{at_once} | "
                f"{train['cpu_ms_per_image']:.1f} | {test['cpu_ms_per_image']:.2f} | "
                f"{events / 1e6:.0f} | {100 * events / ceiling:.1f} | "
                f"{base['train']['s'] / train['s']:.2f}x | "
                f"{base['test']['s'] / test['s']:.2f}x | "
                f"{100 * train['overhead_s'] / train['s']:.1f} | "
                f"{60000 * train['ms_per_image'] / 1000 / 60:.1f} | "
                f"{row['first_train']['ms_per_image']:.1f}, "
                f"{row['first_test']['ms_per_image']:.2f} | {row['build_s']:.0f} |")
            print(lines[-1], flush=True)
        if args.runtime_windows:
            wps = runtime_windows_per_s(name, train_plan, args.runtime_windows)
            best = max(rows, key=lambda r: r["train"]["windows_per_s"])
            runtime.append(f"# {name}: runtime (numpy) {wps:.2f} windows/s; "
                           f"{best['label']} is {best['train']['windows_per_s'] / wps:.0f}x "
                           "faster")
            print(runtime[-1], flush=True)
    print("\n".join(lines + runtime))


if __name__ == "__main__":
    main()
