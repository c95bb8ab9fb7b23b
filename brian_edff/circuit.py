"""Run the CSDP circuit on a Brian2 device, chunk after chunk.

The network itself (every Brian2 object, written from :mod:`brian_edff.models`,
and the mapping of a state onto it) is :class:`brian_edff.network.CircuitNetwork`;
:class:`Circuit` runs it. It knows nothing about data sets or training loops: it simulates a
*chunk* of stimulus windows (a :class:`~brian_edff.stimuli.WindowPlan`) in a
single ``run``, starting from given weights, and returns the weights after the
chunk and per-window readouts (spike counts, goodness, reconstructions).

Three Brian2 devices are supported:

* ``"standalone"`` -- brian_edff's own device (:mod:`brian_edff.device`,
  ``cpp_standalone`` with our synaptic event loops): compiled once per
  network shape (cached on disk), then run chunk after chunk with
  ``device.run(run_args=...)`` swapping in the chunk's TimedArrays and the
  current weights. The default.
* ``"cpp_standalone"`` -- the same through Brian2's own templates (the
  baseline the device is held equal to, bit for bit).
* ``"runtime"`` -- Brian2's runtime device (Cython, or NumPy where no
  compiler is at hand); the network is rebuilt for each chunk, compiled code
  is cached by Brian2.

Compiled builds (cache folders, run_args files, results folders) are
:mod:`brian_edff.builds`; the device itself is :mod:`brian_edff.device`.
"""

from __future__ import annotations

import hashlib
import os
import time

import brian2

from . import models
from .builds import COMPILED_DEVICES, StandaloneBuild
from .device import (
    default_cache_dir,
    default_parallel_runs,
    default_synapse_threads,
    templates_digest,
)
from .network import (
    CSDP_PRE_POPULATIONS,
    HOMEOSTATIC_POPULATIONS,
    PROJECTIONS,
    STATEFUL_POPULATIONS,
    ChunkResult,
    CircuitNetwork,
    Projection,
    float_precision,
    float_state_dtypes,
    homeostasis_on,
    init_weights,
    initial_synapse_state,
    input_gain_on,
    neuron_state_variables,
    population_sizes,
    state_variables,
    upgrade_synapse_state,
)
from .params import Params

# The network's names, for the modules and scripts that take them from here.
__all__ = ["Circuit", "ChunkResult", "PROJECTIONS", "Projection", "init_weights",
           "DEVICES", "state_variables", "neuron_state_variables", "initial_synapse_state",
           "STATEFUL_POPULATIONS", "upgrade_synapse_state", "float_state_dtypes",
           "float_precision", "population_sizes", "root_message", "CSDP_PRE_POPULATIONS",
           "HOMEOSTATIC_POPULATIONS", "homeostasis_on", "input_gain_on"]

DEVICES = ("runtime", *COMPILED_DEVICES)

#: Name of the stored state a runtime circuit restores at the start of a chunk.
RUNTIME_START = "chunk_start"

#: What network.py builds beyond the models and the shape (part of
#: :meth:`Circuit.build_key`): changed when the construction changes.
BUILD_LAYOUT = "scalar zero delays"


def root_message(err: BaseException) -> str:
    """The innermost error of a Brian2 exception chain, as one line."""
    while True:
        inner = getattr(err, "original_error", None) or err.__cause__
        if inner is None or inner is err:
            break
        err = inner
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = " ".join(lines)[:300] if lines else ""
    return f"{type(err).__name__}: {text}"


class Circuit(CircuitNetwork):
    """The circuit's network (:class:`~brian_edff.network.CircuitNetwork`) run
on a Brian2 device, one chunk of windows per :meth:`run`.

    Parameters
    ----------
    params, n_input, n_windows
        As for :class:`~brian_edff.network.CircuitNetwork` (``n_windows``:
        every :meth:`run` simulates this many windows).
    device : {"runtime", "standalone", "cpp_standalone"}
        Brian2 device (see the module docstring).
    build_dir : str, optional
        Where a compiled project is built (a cache keyed by the equations,
        shape and device); default under
        :func:`brian_edff.device.default_cache_dir`.
    seed : int
        Seed of Brian2's random generator for the runtime device, restarted at
        every chunk (standalone builds always restart from seed 0); the
        per-window random phases of the plan make each chunk's draws differ.
    threads : int, optional
        ``"standalone"``: threads of the synaptic event loops (default
        :func:`brian_edff.device.default_synapse_threads`, 2 on an idle
        machine with 2+ cores, else 1; results do not depend on it). The
        build is the same for any count: the attribute may be changed
        between runs. ``"cpp_standalone"``: Brian2's OpenMP threads
        (default 0, off; compiled in; Brian2 runs synapse code that writes
        postsynaptic variables on one thread).
    profile : bool
        Build the standalone project with Brian2's per-code-object timers
        (see :meth:`profiling_info`).
    record_spikes, record_cells, extra_namespace, weight_dtype, lazy_decay, model
        As for :class:`~brian_edff.network.CircuitNetwork`.
    """

    def __init__(self, params: Params, n_input: int, n_windows: int,
                 device: str = "runtime", build_dir: str | None = None,
                 record_spikes: bool = False, record_cells: int = 0, seed: int = 0,
                 extra_namespace: dict | None = None, threads: int | None = None,
                 profile: bool = False, weight_dtype: str = models.WEIGHT_DTYPE,
                 lazy_decay: bool = True, model=None):
        if device not in DEVICES:
            raise ValueError(f"device: unknown device {device!r}; use one of {DEVICES}")
        super().__init__(params, n_input, n_windows, record_spikes=record_spikes,
                         record_cells=record_cells, extra_namespace=extra_namespace,
                         weight_dtype=weight_dtype, lazy_decay=lazy_decay, model=model)
        self.device = device
        self.seed = int(seed)
        if threads is None:
            threads = default_synapse_threads() if device == "standalone" else 0
        lowest = 1 if device == "standalone" else 0
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < lowest:
            raise ValueError(f"threads: must be an integer >= {lowest} for device "
                             f"{device!r}, got {threads!r}")
        self.threads = threads
        self.profile = bool(profile)
        self.last_overhead_s = 0.0
        self._built = None
        self._build = None
        self._runtime_objs = None
        if device in COMPILED_DEVICES:
            self.build_dir = build_dir or os.path.join(default_cache_dir(), self.build_key())
            self._build = StandaloneBuild(device, self.build_dir, self.threads,
                                          profile=self.profile)
            with float_precision(params.state_dtype):
                self._built = self._build.build(
                    lambda: self.build_network(plan=None), self.n_windows * params.window,
                    finalize=self.end_chunk, key=self.build_key())

    @property
    def build_s(self) -> float:
        """Seconds spent building (and, the first time, compiling) the project."""
        return self._build.build_s if self._build is not None else 0.0

    # -- identification -----------------------------------------------------
    def build_key(self) -> str:
        """Hash of everything compiled into a standalone build."""
        p = self.params
        # Brian2's OpenMP threads are compiled in; our device's are the run's.
        threads = self.threads if self.device == "cpp_standalone" else "any"
        shape = (self.device, self.n_input, p.n_hidden1, p.n_hidden2, p.n_labels, p.T,
                 float(p.dt), p.csdp_step, self.n_windows, self.record_spikes,
                 threads, self.profile, self.weight_dtype, self.lazy_decay)
        if p.state_dtype != "float64":
            # Appended only when set, so that float64 builds keep their cache;
            # "single" marks builds whose generated code is single precision
            # throughout (:func:`float_precision`).
            shape += (p.state_dtype, "single")
        if homeostasis_on(p):
            shape += ("homeostasis",)
        if input_gain_on(p):
            shape += ("input_gain",)
        if self.record_cells:
            shape += ("record_cells", self.record_cells)
        templates = templates_digest() if self.device == "standalone" else ""
        parts = [brian2.__version__, templates, repr(shape), BUILD_LAYOUT, self.model.digest(),
                 repr(sorted(self.extra_namespace.items()))]
        parts += [f"{k}={getattr(models, k)!r}" for k in sorted(dir(models))
                  if k.isupper()]
        digest = hashlib.sha1("\n".join(parts).encode()).hexdigest()[:16]
        return f"edff_{self.n_input}_{self.params.n_hidden1}_{self.params.n_hidden2}_{digest}"

    def set_params(self, params: Params) -> None:
        """Use other parameter values with the same network shape (no rebuild).

        Raises
        ------
        ValueError
            If ``params`` changes the shape (sizes, T, dt).
        """
        old_key, old = self.build_key(), self.params
        self.params = params
        if self.build_key() != old_key:
            self.params = old
            raise ValueError("set_params: these parameters change the network shape; "
                             "build a new Circuit")

    def close(self):
        """Release the compiled device (so another circuit can be built)."""
        if self._build is not None and self._built is not None:
            self._build.close()
            self._built = None
        self._runtime_objs = None

    # -- running ---------------------------------------------------------------
    def run(self, plan, weights: dict, theta_base: dict, report=None,
            synapse_state: dict | None = None) -> ChunkResult:
        """Simulate one chunk of windows.

        Parameters
        ----------
        plan : WindowPlan
            Exactly ``n_windows`` windows.
        weights : dict of ndarray
            Dense [pre, post] weights per projection name.
        theta_base : dict of ndarray
            Per-neuron base thresholds for ``z1, z2, zy, zR``.
        report : str or None
            Brian2 progress report for the runtime device.
        synapse_state : dict of ndarray, optional
            Learning state besides the weights (:meth:`state_variables`,
            :meth:`neuron_state_variables`), as in :attr:`ChunkResult.synapse_state`;
            zeros where missing (checkpoints of older layouts are upgraded
            when loaded, :func:`upgrade_synapse_state`).

        Returns
        -------
        ChunkResult
        """
        if plan.n_windows != self.n_windows:
            raise ValueError(f"plan has {plan.n_windows} windows, circuit expects "
                             f"{self.n_windows}")
        duration = self.n_windows * self.params.window
        start = time.perf_counter()
        if self.device == "runtime":
            # Every chunk starts the generator afresh, as a compiled run does;
            # the plan's per-window phases make the draws differ between chunks.
            brian2.seed(self.seed)
            with float_precision(self.params.state_dtype):
                objs = self._runtime_network(plan)
                for view, values in self.state_values(objs, weights, theta_base,
                                                      synapse_state).items():
                    setattr(view.group, view.name, values)
                simulate_start = time.perf_counter()
                objs["net"].run(duration, report=report)
                self.end_chunk(objs)
                simulate_s = time.perf_counter() - simulate_start
        else:
            objs = self._built
            fixed = self.state_values(objs, weights, theta_base, synapse_state)
            simulate_s = self._build.run(self._plan_run_args(plan, fixed), self.threads)
        result = self.collect(objs)
        #: Seconds of the last run spent outside the simulation itself.
        self.last_overhead_s = time.perf_counter() - start - simulate_s
        return result

    def run_independent(self, plans, weights: dict, theta_base: dict,
                        synapse_state: dict | None = None, jobs: int | None = None,
                        with_state: bool = False) -> list:
        """Simulate chunks in which nothing learns, each from the same state.

        On a compiled device up to ``jobs`` binaries run at once, one
        synaptic thread each where more than one runs (the chunks do not
        depend on each other: every run starts the generator from the same
        seed, and the plans' per-window phases make their draws differ). Each
        result is the one :meth:`run` gives for that plan from this state.

        Parameters
        ----------
        plans : list of WindowPlan
            Chunks of exactly ``n_windows`` windows, none of which learns
            (:attr:`WindowPlan.learns`).
        weights, theta_base, synapse_state
            The state every chunk starts from, as for :meth:`run`.
        jobs : int, optional
            Binaries at once (default :func:`brian_edff.device.default_parallel_runs`).
        with_state : bool
            Also read back the weights and learning state of every chunk
            (default: readouts only, the weights and ``synapse_state`` of the
            results are empty).

        Returns
        -------
        list of ChunkResult
        """
        plans = list(plans)
        for plan in plans:
            if plan.n_windows != self.n_windows:
                raise ValueError(f"plan has {plan.n_windows} windows, circuit expects "
                                 f"{self.n_windows}")
            if plan.learns:
                raise ValueError("run_independent: a plan switches learning on, so its "
                                 "chunks depend on each other; use run() chunk by chunk")
        jobs = default_parallel_runs() if jobs is None else jobs
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise ValueError(f"jobs: must be an integer >= 1, got {jobs!r}")
        if self.device == "runtime":
            return [self._readouts_only(self.run(plan, weights, theta_base,
                                                 synapse_state=synapse_state), with_state)
                    for plan in plans]
        fixed = self.state_values(self._built, weights, theta_base, synapse_state)
        threads = self.threads if self.device == "cpp_standalone" or jobs == 1 else 1
        results = []
        for first in range(0, len(plans), jobs):
            batch = plans[first:first + jobs]
            start = time.perf_counter()
            simulate_s = self._build.run_many(
                [self._plan_run_args(plan, fixed) for plan in batch], threads)
            for job in range(len(batch)):
                self._build.select(job)
                results.append(self.collect(self._built, with_state))
            self.last_overhead_s = time.perf_counter() - start - simulate_s
        return results

    @staticmethod
    def _readouts_only(result: ChunkResult, with_state: bool) -> ChunkResult:
        if not with_state:
            result.weights, result.synapse_state = {}, {}
        return result

    def _plan_run_args(self, plan, fixed: dict) -> dict:
        """``fixed`` and the plan's TimedArray values: one compiled run's run_args."""
        funcs = self._built["funcs"]
        run_args = {funcs[name]: values for name, values in plan.timed_array_values().items()}
        run_args.update(fixed)
        return run_args

    def _runtime_network(self, plan):
        """The runtime device's network for ``plan``, built once per circuit.

        The first chunk builds it and stores its state at time 0
        (``Network.store``); later chunks restore that state (time, cells,
        monitors emptied) and write the plan into the TimedArrays' value
        arrays in place, so Brian2 does not create every object again.
        Weights, learning state and constants are set by the caller.
        """
        if self._runtime_objs is None:
            objs = self.build_network(plan)
            objs["net"].store(RUNTIME_START)
            self._runtime_objs = objs
            return objs
        objs = self._runtime_objs
        objs["net"].restore(RUNTIME_START)
        for name, values in plan.timed_array_values().items():
            objs["funcs"][name].values[...] = values
        return objs

    def profiling_info(self) -> list:
        """Seconds spent in each code object during the last compiled run.

        Only for a circuit built on a compiled device with ``profile=True``;
        returns ``[(code object name, seconds), ...]``, longest first.
        """
        if self._build is None or not self.profile:
            raise ValueError("profiling_info: build the circuit on a compiled device with "
                             "profile=True")
        return self._build.profiling_info()

    def delete_build(self):
        """Remove the compiled project from disk."""
        if self._build is not None:
            self._build.delete()
