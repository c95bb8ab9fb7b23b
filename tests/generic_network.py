"""A network that exercises what brian_edff's circuit does not (tests/test_device.py).

Run as ``python generic_network.py DEVICE THREADS BUILD_DIR OUT.npz``: builds the
network on ``DEVICE`` (``cpp_standalone`` or ``edff_standalone`` with
``THREADS`` synapse threads in its run), runs it and saves spikes, voltages and every
weight. Each run is a process of its own, as Brian2 builds one standalone
project per process.
"""

import os
import sys

import numpy as np
from brian2 import (
    EventMonitor,
    Network,
    NeuronGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    device,
    linked_var,
    ms,
    seed,
    set_device,
)

import brian_edff.device  # noqa: F401  (registers edff_standalone)


def build_and_run(device_name, threads, directory):
    set_device(device_name, directory=directory, build_on_run=False, with_output=False)
    if device_name == "edff_standalone":
        # The device's threads are the run's: Brian2's device.run starts the
        # binary with this process's environment.
        os.environ["BRIAN_EDFF_SYNAPSE_THREADS"] = str(threads)
    seed(1)
    rng = np.random.RandomState(3)
    source = NeuronGroup(50, "x : 1\nu : 1", threshold="rand() < 0.3",
                         reset="u = 0.9 * u + 0.1 * (i + 1)", name="P")
    target = NeuronGroup(40, "dv/dt = -v / (10*ms) : 1\nx : 1\ny : 1\nz : 1\n"
                         "total_seen : 1 (linked)", threshold="v > 1",
                         reset="v = 0", method="exact", name="G")
    target.x = "i * 0.01"
    synapses = {}

    def connect(name, pre, post, on_pre, connection, **kwds):
        syn = Synapses(pre, post, "w : 1", on_pre=on_pre, name=name, **kwds)
        syn.connect(**connection)
        syn.w = "rand() * 0.02"
        synapses[name] = syn

    connect("sparse", source, target, "v_post += w", {"p": 0.5})
    connect("subgroups", source[10:30], target[5:25], "v_post += w\nw += 0.01 * x_post", {})
    connect("delayed", source, target, "v_post += w", {"p": 0.2}, delay=1 * ms)
    connect("unsorted", source, target, "v_post += w\nw = clip(w + 0.001 * v_post, -1, 1)",
            {"i": rng.randint(0, 50, 300), "j": rng.randint(0, 40, 300)})
    connect("pre_writes", source, target, "x_pre += w\nv_post += 0.1 * w", {"p": 0.3})
    connect("multapses", source, target, "v_post += w", {"p": 0.2, "n": 2})
    connect("on_post", source, target, "v_post += w", {"p": 0.4},
            on_post="w = clip(w - 0.01, 0, 1)")
    connect("random", source, target, "w += 0.001 * randn()\nv_post += w", {"p": 0.3})
    connect("recurrent", target, target, "v_post += w", {"condition": "i != j"})
    connect("dense_post_writes", source, target, "v_post += w\nx_post += 0.1 * w", {})
    connect("dense_on_post", source[5:35], target[3:40], "v_post += 0.5 * w", {},
            on_post="x_pre += 0.01 * w\nw = clip(w - 0.01 * v_post, -1, 1)")
    # Summed variables: onto a one-cell group (a float and an integer sum, the
    # device's one-target path) and onto many cells (cpp_standalone's path).
    # They read u, which only the spikes change: x takes in dense_on_post's
    # last-bit differences (CONTRACTION_SENSITIVE in test_device.py).
    summary = NeuronGroup(1, "total : 1\ncount : integer", name="S")
    to_summary = Synapses(source, summary, "total_post = u_pre**2 + 0.5 * u_pre : 1 (summed)\n"
                          "count_post = int(u_pre > 2) : integer (summed)", name="to_summary")
    to_summary.connect()
    to_many = Synapses(source, target, "w : 1\ny_post = w * u_pre : 1 (summed)",
                       name="to_many")
    # No random numbers here: the other pathways' draws stay as they were.
    to_many.connect(condition="(i + j) % 2 == 0")
    to_many.w = "0.005 * ((7 * i + 3 * j) % 5)"
    # Thresholders with refractoriness and a custom event (the device's
    # two-pass threshold template; P's threshold draws random numbers). No
    # random numbers here either.
    refractory = NeuronGroup(30, "dv/dt = -v / (5*ms) : 1 (unless refractory)\n"
                             "bursts : integer", threshold="v > 0.2", reset="v = 0",
                             refractory=2 * ms, method="exact", name="R",
                             events={"burst": "v > 0.1 and i % 3 != 0"})
    refractory.run_on_event("burst", "bursts += 1")
    to_refractory = Synapses(source, refractory, "w : 1", on_pre="v_post += w",
                             name="to_refractory")
    to_refractory.connect(condition="(i + 2 * j) % 3 == 0")
    to_refractory.w = "0.002 * ((5 * i + j) % 7)"
    refractory_spikes = SpikeMonitor(refractory)
    bursts = EventMonitor(refractory, "burst")
    # A run_regularly reading a variable linked to the one-cell group (the
    # device moves that load out of the loop).
    target.total_seen = linked_var(summary, "total")
    target.run_regularly("z = clip(z + 1e-8 * total_seen - 0.0001 * x, -10, 10)")
    sums = StateMonitor(summary, ["total", "count"], record=True)
    monitor = SpikeMonitor(target)
    net = Network(source, target, monitor, *synapses.values(), summary, to_summary, to_many,
                  sums, refractory, to_refractory, refractory_spikes, bursts)
    net.run(100 * ms)
    device.build(directory=directory, compile=True, run=True, with_output=False)
    out = {"spikes_i": np.asarray(monitor.i[:]), "spikes_t": np.asarray(monitor.t[:]),
           "v": np.asarray(target.v[:]), "x_source": np.asarray(source.x[:]),
           "x_target": np.asarray(target.x[:]), "y_target": np.asarray(target.y[:]),
           "z_target": np.asarray(target.z[:]),
           "summary_total": np.asarray(sums.total[:]), "summary_count": np.asarray(sums.count[:]),
           "refractory_i": np.asarray(refractory_spikes.i[:]),
           "refractory_t": np.asarray(refractory_spikes.t[:]),
           "refractory_lastspike": np.asarray(refractory.lastspike[:]),
           "refractory_bursts": np.asarray(refractory.bursts[:]),
           "burst_i": np.asarray(bursts.i[:]), "burst_t": np.asarray(bursts.t[:])}
    out.update({name: np.asarray(syn.w[:]) for name, syn in synapses.items()})
    return out


if __name__ == "__main__":
    name, threads, directory, path = sys.argv[1:5]
    if len(sys.argv) > 5:  # the device's split threshold
        from brian2 import prefs

        import brian_edff.device  # noqa: F401  (registers its preferences)

        prefs.devices.edff_standalone.min_parallel_synapses = int(sys.argv[5])
    np.savez(path, **build_and_run(name, int(threads), directory))
