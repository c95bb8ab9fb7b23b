"""The circuit's Brian2 network, written from the model strings of :mod:`brian_edff.models`.

:class:`CircuitNetwork` creates every Brian2 object of the circuit (the
populations, the projections with their propagation and learning pathways,
the layer summaries, the monitors) for one parameter set, input size and
chunk length, and maps a state of the circuit (weights, base thresholds,
learning state, constants) onto the variables of that network and back
(:meth:`CircuitNetwork.state_values`, :meth:`CircuitNetwork.collect`).
Running it on a device, chunk after chunk, is :class:`brian_edff.circuit.Circuit`.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import brian2
import numpy as np
from brian2 import (
    Equations,
    Network,
    NeuronGroup,
    PopulationRateMonitor,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    TimedArray,
    linked_var,
    ms,
    prefs,
)
from brian2.equations.equations import FLOAT, SUBEXPRESSION

from . import models
from .params import PATHWAYS, Params, lesion_pathways

__all__ = ["CircuitNetwork", "ChunkResult", "PROJECTIONS", "Projection", "init_weights",
           "population_sizes", "state_variables", "neuron_state_variables",
           "initial_synapse_state", "STATEFUL_POPULATIONS", "upgrade_synapse_state",
           "float_state_dtypes", "float_precision"]


@dataclass(frozen=True)
class Projection:
    """One synaptic projection of the circuit.

    Attributes
    ----------
    name : str
        Short name used in checkpoints (``W1``, ``M1`` ...).
    pre, post : str
        Population names.
    rule : {"csdp", "classifier", "recon"}
        Learning rule.
    inhibitory : bool
        Lateral inhibition (subtracted, non-negative, no self-connection).
    lazy_decay : bool
        CSDP weight decay settled lazily (:data:`brian_edff.models.CSDP_SETTLE`)
        rather than swept on each postsynaptic spike. Lazy pays off where
        presynaptic spikes are sparse (the hidden layers, about 4 per step)
        and the column sweep is long; eager where the presynaptic population
        spikes densely (the input) or is tiny (the label context).
    """

    name: str
    pre: str
    post: str
    rule: str
    inhibitory: bool = False
    lazy_decay: bool = False


#: All projections: bottom-up W, top-down V, context Y, lateral M, heads C, R
#: (named in :data:`brian_edff.params.PATHWAYS`).
PROJECTIONS = (
    Projection("W1", "z0", "z1", "csdp"),
    Projection("V2", "z2", "z1", "csdp", lazy_decay=True),
    Projection("Y1", "zc", "z1", "csdp"),
    Projection("M1", "z1", "z1", "csdp", inhibitory=True, lazy_decay=True),
    Projection("W2", "z1", "z2", "csdp", lazy_decay=True),
    Projection("Y2", "zc", "z2", "csdp"),
    Projection("M2", "z2", "z2", "csdp", inhibitory=True, lazy_decay=True),
    Projection("C1", "z1", "zy", "classifier"),
    Projection("C2", "z2", "zy", "classifier"),
    Projection("R1", "z1", "zR", "recon"),
)

assert tuple(proj.name for proj in PROJECTIONS) == PATHWAYS


def population_sizes(params: Params, n_input: int) -> dict:
    """Sizes of the populations ``z0, zc, z1, z2, zy, zR``."""
    return {"z0": n_input, "zc": params.n_labels, "z1": params.n_hidden1,
            "z2": params.n_hidden2, "zy": params.n_labels, "zR": n_input}


def init_weights(params: Params, n_input: int, rng: np.random.Generator) -> dict:
    """Initial weights U(-w_init, w_init) as dense [pre, post] float32 matrices.

    Lateral matrices are clipped to [0, 1] with a zero diagonal, which is what
    the author's first update does to its U(-1, 1) initialisation.
    """
    sizes = population_sizes(params, n_input)
    weights = {}
    for proj in PROJECTIONS:
        shape = (sizes[proj.pre], sizes[proj.post])
        w = np.clip(rng.uniform(-params.w_init, params.w_init, size=shape),
                    -params.w_bound, params.w_bound).astype(np.float32)
        if proj.inhibitory:
            w = np.clip(w, 0, params.w_bound)
            np.fill_diagonal(w, 0)
        weights[proj.name] = w
    return weights


def float_state_dtypes(eqs, dtype: str) -> dict:
    """``{name: dtype}`` for the float variables of ``eqs``.

    For ``"float32"`` every dimensionless float variable (per cell, per
    synapse and shared constants such as the learning rate and the weight
    bounds) is single precision, and variables with units (time constants,
    the event times ``t_csdp``) stay float64 like Brian2's clock.
    Subexpressions and linked variables store nothing. The ``dtype``
    argument of a Brian2 group; empty for float64, Brian2's default. Used
    with :func:`float_precision`, which makes the rest of the generated code
    (the loop invariants Brian2 hoists out of a statement) single precision
    too.
    """
    if dtype == "float64":
        return {}
    eqs = eqs if isinstance(eqs, Equations) else Equations(eqs)
    return {name: np.dtype(dtype if eq.dim.is_dimensionless else "float64")
            for name, eq in eqs.items()
            if eq.var_type == FLOAT and eq.type != SUBEXPRESSION and "linked" not in eq.flags}


# Brian2 checks a run's state for values above 1e50; with float32 state the
# constant overflows in the comparison (the check itself stays right: inf).
warnings.filterwarnings("ignore", message="overflow encountered in cast",
                        category=RuntimeWarning, module="brian2.groups.group")


@contextmanager
def float_precision(dtype: str):
    """Brian2's default float type (``prefs.core.default_float_dtype``) set to
    ``dtype`` while a circuit's code is generated.

    Brian2 gives the loop invariants it hoists out of a statement (``const
    double _lio_1 = eta * gain``) this type. With float32 state but double
    invariants, ``w - _lio_1 * d_post`` is computed in double and converted
    back per synapse; in single precision throughout, as the author's code
    computes, the learning pass stays in single precision (docs/speed.md).
    Variables with an explicit ``dtype`` keep it.
    """
    old = prefs.core.default_float_dtype
    prefs.core.default_float_dtype = np.dtype(dtype).type
    try:
        yield
    finally:
        prefs.core.default_float_dtype = old


def state_variables(params: Params, proj: Projection) -> tuple:
    """Per-synapse learning variables of ``proj`` besides ``w`` (none for a plain step)."""
    if proj.rule == "csdp" and params.csdp_step == "rmsprop":
        return models.RMS_STATE_VARIABLES
    return ()


#: Populations whose cells send CSDP projections (and so keep the adaptive
#: step's per-row state, :data:`brian_edff.models.RMS_NEURON_EQS`).
CSDP_PRE_POPULATIONS = tuple(dict.fromkeys(p.pre for p in PROJECTIONS if p.rule == "csdp"))


#: Populations with homeostatic threshold offsets when ``rho_h > 0``.
HOMEOSTATIC_POPULATIONS = ("z1", "z2")

#: Populations whose cells receive CSDP projections (and so keep the per-cell
#: adaptive step's state, :data:`brian_edff.models.RMS_CELL_EQS`).
RMS_CELL_POPULATIONS = ("z1", "z2")

#: Every population that can keep per-cell learning state
#: (:func:`neuron_state_variables`): what chunks carry and checkpoints hold.
STATEFUL_POPULATIONS = tuple(dict.fromkeys(CSDP_PRE_POPULATIONS + HOMEOSTATIC_POPULATIONS
                                            + RMS_CELL_POPULATIONS))


def homeostasis_on(params: Params) -> bool:
    """Whether the hidden layers carry homeostatic thresholds (``rho_h > 0``)."""
    return params.rho_h > 0


def input_gain_on(params: Params) -> bool:
    """Whether the input population scales its rates (``input_gain != 1``)."""
    return params.input_gain != 1.0


def neuron_state_variables(params: Params, population: str) -> tuple:
    """Per-cell learning variables of ``population``: the adaptive step's
    per-row state and the homeostatic threshold offsets (none by default)."""
    names = ()
    if params.csdp_step == "rmsprop" and population in CSDP_PRE_POPULATIONS:
        names += models.RMS_NEURON_STATE_VARIABLES
    if params.csdp_step == "rmsprop_cell" and population in RMS_CELL_POPULATIONS:
        names += models.RMS_CELL_STATE_VARIABLES
    if homeostasis_on(params) and population in HOMEOSTATIC_POPULATIONS:
        names += models.HOMEOSTASIS_STATE_VARIABLES
    return names


def initial_synapse_state(params: Params, n_input: int) -> dict:
    """Zeros for every learning variable besides the weights: per synapse,
    dense [pre, post] (``"W1.g2"`` ...), and per presynaptic cell
    (``"z0.g2_norm"`` ...)."""
    sizes = population_sizes(params, n_input)
    state = {f"{proj.name}.{var}": np.zeros((sizes[proj.pre], sizes[proj.post]))
             for proj in PROJECTIONS for var in state_variables(params, proj)}
    state.update({f"{pop}.{var}": np.zeros(sizes[pop]) for pop in STATEFUL_POPULATIONS
                  for var in neuron_state_variables(params, pop)})
    return state


def upgrade_synapse_state(state: dict) -> dict:
    """The learning state of an older run, in today's layout.

    Earlier runs kept the adaptive step's ``g2_norm`` and event
    time per synapse (``"W1.g2_norm"``, ``"W1.t_last"``), equal along each
    presynaptic row; they are now per presynaptic cell (``"z0.g2_norm"``,
    ``"z0.t_csdp"``). Each cell's values are read from the first excitatory
    CSDP projection it sends (no missing diagonal).
    """
    state = dict(state)
    for proj in PROJECTIONS:
        for old, new in (("g2_norm", "g2_norm"), ("t_last", "t_csdp")):
            dense = state.pop(f"{proj.name}.{old}", None)
            if dense is not None and not proj.inhibitory:
                state.setdefault(f"{proj.pre}.{new}", np.asarray(dense)[:, 0])
    return state


@dataclass
class ChunkResult:
    """What one chunk of windows produced.

    Attributes
    ----------
    weights : dict of ndarray
        Dense [pre, post] weights after the chunk.
    counts : dict of ndarray
        Spike counts per window, ``{"z1": (n_windows, n1), "z2": ..., "zy": ...}``.
    goodness : ndarray
        Goodness summed over each window, shape (n_windows, 2) for z1, z2.
    recon : ndarray or None
        Reconstruction per window (summed zR trace / (T + 1)), (n_windows, n_input).
    spikes : dict
        ``{population: (indices, times in steps)}`` when spikes were recorded.
    goodness_steps : ndarray or None
        Goodness of z1 and z2 at every step, (n_steps, 2), when recorded.
    membrane : dict
        ``{"z1": (n_steps, k), "z2": ...}``: membrane potential of the first
        ``k`` cells of each hidden layer at every step, before the step's
        reset (``record_cells``).
    population_rate : dict
        ``{"z1": (n_steps,), "z2": ...}``: each hidden layer's rate in Hz at
        every step (Brian2's ``PopulationRateMonitor``, ``record_cells``).
    synapse_state : dict of ndarray
        Learning state other than the weights (the adaptive step's running
        mean square): per synapse, dense [pre, post], keyed ``"W1.g2"`` etc.,
        and per presynaptic cell, keyed ``"z0.g2_norm"`` etc.
    """

    weights: dict
    counts: dict
    goodness: np.ndarray
    recon: np.ndarray | None
    spikes: dict = field(default_factory=dict)
    goodness_steps: np.ndarray | None = None
    synapse_state: dict = field(default_factory=dict)
    membrane: dict = field(default_factory=dict)
    population_rate: dict = field(default_factory=dict)


def _window_function_names():
    return ("y_target", "csdp_on", "classifier_on", "recon_on", "context_label",
            "target_label")


class CircuitNetwork:
    """The Brian2 objects of the circuit and the mapping of its state onto them.

    Parameters
    ----------
    params : Params
        Validated parameters.
    n_input : int
        Pixels per image.
    n_windows : int
        Windows per chunk (the TimedArrays' length).
    record_spikes : bool
        Also record every spike (for rasters).
    record_cells : int
        Also record the membrane potential of this many cells of each hidden
        layer (the first ones) and each hidden layer's population rate, at
        every step (for physiology).
    extra_namespace : dict, optional
        Additional constants made visible to every equation (for user edits
        of :mod:`brian_edff.models`).
    weight_dtype : {"float32", "float64"}
        Storage of the synaptic weights (default
        :data:`brian_edff.models.WEIGHT_DTYPE`).
    lazy_decay : bool
        Settle the weight decay lazily where :attr:`Projection.lazy_decay`
        says so (default); ``False`` sweeps it eagerly everywhere (the same
        results, slower; kept for tests and benchmarks).
    model : Model, str or None
        The hidden layers' neuron model (:class:`brian_edff.models.Model`, a
        variant name or a ``.py`` file); default ``params.model``.
    """

    def __init__(self, params: Params, n_input: int, n_windows: int,
                 record_spikes: bool = False, record_cells: int = 0,
                 extra_namespace: dict | None = None,
                 weight_dtype: str = models.WEIGHT_DTYPE, lazy_decay: bool = True,
                 model=None):
        if n_windows < 1:
            raise ValueError(f"n_windows: must be >= 1, got {n_windows}")
        if isinstance(record_cells, bool) or not isinstance(record_cells, int) \
                or record_cells < 0:
            raise ValueError(f"record_cells: must be an integer >= 0, got {record_cells!r}")
        if weight_dtype not in ("float32", "float64"):
            raise ValueError(f"weight_dtype: use 'float32' or 'float64', got {weight_dtype!r}")
        self.params = params
        self.model = models.load_model(params.model if model is None else model)
        self.n_input = int(n_input)
        self.n_windows = int(n_windows)
        self.record_spikes = record_spikes
        self.record_cells = record_cells
        self.extra_namespace = dict(extra_namespace or {})
        self.weight_dtype = weight_dtype
        self.lazy_decay = bool(lazy_decay)
        self.sizes = population_sizes(params, n_input)
        self._index_cache = {}

    def _namespace(self, **extra):
        ns = {"inf": np.inf}
        ns.update(self.model.namespace())
        ns.update(self.extra_namespace)
        ns.update(extra)
        return ns

    def apply_constants(self, objs) -> None:
        """Set every ``(shared, constant)`` variable (runtime device)."""
        for view, value in self.constants(objs).items():
            setattr(view.group, view.name, value)

    def constants(self, objs) -> dict:
        """Values of every ``(shared, constant)`` variable, keyed by VariableView."""
        p = self.params
        pops, syn = objs["pops"], objs["synapses"]
        values = {}
        # A lesioned pathway neither learns nor decays (:meth:`lesioned`).
        # (Each variable is set once: VariableViews compare by value.)
        silenced = lesion_pathways(p.lesions)
        for name in ("z1", "z2", "zy", "zR"):
            group = pops[name]
            hidden = name in ("z1", "z2")
            for var, value in (("tau_m", p.tau_m), ("tau_tr", p.tau_tr),
                               ("R_exc", p.R_m if hidden else 1.0),
                               ("R_inh", p.R_inh if hidden else 0.0),
                               ("rho_b", p.rho_b), ("theta_min", p.theta_min)):
                values[getattr(group, var)] = value
        values[objs["summaries"]["z1"].theta_g] = p.theta_g1
        values[objs["summaries"]["z2"].theta_g] = p.theta_g2
        for proj in PROJECTIONS:
            s = syn[proj.name]
            values[s.w_max] = p.w_bound
            values[s.w_min] = 0.0 if proj.inhibitory else -p.w_bound
            if proj.rule == "csdp":
                gain = p.R_m
                if proj.inhibitory:
                    gain = p.R_inh if p.lateral_sign == "reference" else -p.R_inh
                live = proj.name not in silenced
                values[s.eta], values[s.gain] = p.eta * live, gain
                values[s.lambda_w] = p.w_decay * live
                if self.state_variables(proj):
                    values[s.eps_rms] = p.eps_rms
            else:
                values[s.eta] = p.eta_head * (proj.name not in silenced)
                values[s.gain] = p.head_gain
        if p.csdp_step == "rmsprop":
            for name in CSDP_PRE_POPULATIONS:
                values[pops[name].tau_rms] = p.tau_rms
        if p.csdp_step == "rmsprop_cell":
            for name in RMS_CELL_POPULATIONS:
                values[pops[name].tau_rms] = p.tau_rms
                values[pops[name].eps_rms] = p.eps_rms
                values[pops[name].d_ms_floor] = models.RMS_CELL_NORM_FLOOR
        if homeostasis_on(p):
            for name in HOMEOSTATIC_POPULATIONS:
                values[pops[name].rho_h] = p.rho_h
        if input_gain_on(p):
            values[pops["z0"].input_gain] = p.input_gain
        return values

    def lesioned(self, weights: dict) -> dict:
        """``weights`` with the pathways of ``params.lesions`` set to zero.

        With their rates and decay zero (:meth:`constants`) these weights
        stay zero: a lesion is a switch of the run's values, and an intact
        circuit (no lesions) gets ``weights`` unchanged.
        """
        silenced = lesion_pathways(self.params.lesions)
        if not silenced:
            return weights
        return {name: np.zeros_like(w) if name in silenced else w
                for name, w in weights.items()}

    def _timed_arrays(self, plan=None):
        """The per-window functions of time, from ``plan`` or zeros."""
        n, window = self.n_windows, self.params.window
        if plan is None:
            pixels = np.zeros((n, self.n_input))
            phase = np.zeros((n, self.n_input))
            per_window = {name: np.zeros(n) for name in _window_function_names()}
        else:
            pixels, phase = plan.pixels, plan.phase
            per_window = plan.window_functions()
        arrays = {"pixel_rate": TimedArray(np.asarray(pixels, dtype=float), dt=window,
                                           name="pixel_rate"),
                  "pixel_phase": TimedArray(np.asarray(phase, dtype=float), dt=window,
                                            name="pixel_phase")}
        for name, values in per_window.items():
            arrays[name] = TimedArray(np.asarray(values, dtype=float), dt=window,
                                      name=name)
        return arrays

    def build_network(self, plan=None):
        """Create every Brian2 object; returns a dict of them and the Network."""
        p, sizes = self.params, self.sizes
        funcs = self._timed_arrays(plan)
        window = p.window
        objs = {"funcs": funcs}
        pop_events = {"csdp_event": models.CSDP_EVENT}
        rms = models.RMS_NEURON_EQS if p.csdp_step == "rmsprop" else ""

        state = self._state_dtypes
        input_eqs = models.input_eqs(input_gain_on(p))
        z0 = NeuronGroup(sizes["z0"], input_eqs + rms, dtype=state(input_eqs + rms),
                         threshold=models.INPUT_THRESHOLD,
                         reset=models.SPIKE_RESET, events=dict(pop_events),
                         namespace=self._namespace(**funcs), dt=p.dt, name="z0")
        zc = NeuronGroup(sizes["zc"], models.CONTEXT_EQS + rms,
                         dtype=state(models.CONTEXT_EQS + rms),
                         threshold=models.CONTEXT_THRESHOLD, reset=models.SPIKE_RESET,
                         events=dict(pop_events), namespace=self._namespace(**funcs),
                         dt=p.dt, name="zc")
        hidden_events = {"csdp_event": models.CSDP_EVENT,
                         "head_event": models.HEAD_EVENT,
                         "csdp_spike": models.CSDP_SPIKE_EVENT,
                         "recon_event": models.RECON_EVENT}
        layers, model = {}, self.model
        homeostasis = homeostasis_on(p)
        hidden_eqs = model.eqs + models.HIDDEN_EXTRA_EQS + rms
        hidden_window_reset = model.window_reset
        hidden_step = [models.CSDP_MODULATOR, models.THRESHOLD_ADAPTATION,
                       models.DECAY_COUNT]
        if p.csdp_step == "rmsprop_cell":
            hidden_eqs += models.RMS_CELL_EQS
            hidden_step.insert(1, models.RMS_CELL_MODULATOR.strip())
        if homeostasis:
            hidden_eqs += models.HOMEOSTASIS_EQS
            hidden_window_reset += "\n" + models.HOMEOSTASIS_WINDOW_START
            hidden_step.append(models.HOMEOSTASIS)
        for name in ("z1", "z2"):
            layers[name] = NeuronGroup(
                sizes[name], hidden_eqs, dtype=state(hidden_eqs),
                threshold=model.threshold, reset=model.reset,
                refractory=model.refractory or False,
                events=dict(hidden_events), method=model.method, dt=p.dt, name=name,
                namespace=self._namespace(**funcs))
        zy = NeuronGroup(sizes["zy"], models.LIF_EQS + models.CLASSIFIER_EXTRA_EQS,
                         dtype=state(models.LIF_EQS + models.CLASSIFIER_EXTRA_EQS),
                         threshold=models.LIF_THRESHOLD, reset=models.LIF_RESET,
                         method="euler", dt=p.dt, name="zy",
                         namespace=self._namespace(**funcs))
        zR = NeuronGroup(sizes["zR"], models.LIF_EQS + models.RECON_EXTRA_EQS,
                         dtype=state(models.LIF_EQS + models.RECON_EXTRA_EQS),
                         threshold=models.LIF_THRESHOLD, reset=models.LIF_RESET,
                         method="euler", dt=p.dt, name="zR",
                         namespace=self._namespace(**funcs))
        zR.s_input = linked_var(z0, "s")
        pops = {"z0": z0, "zc": zc, "z1": layers["z1"], "z2": layers["z2"], "zy": zy,
                "zR": zR}
        objs["pops"] = pops
        extra = []
        if rms:
            # The adaptive step's per-row state, before the synapses learn.
            for name in CSDP_PRE_POPULATIONS:
                pops[name].run_on_event("csdp_event", models.RMS_ON_CSDP_EVENT)

        # Window start: reset all state except weights.
        for group in (z0, zc):
            extra.append(group.run_regularly("s = 0\ns_prev = 0", dt=window,
                                             when="start", name=f"{group.name}_window"))
            extra.append(group.run_regularly(models.STEP_BOOKKEEPING, when="after_groups",
                                             name=f"{group.name}_bookkeeping"))
        for group in (layers["z1"], layers["z2"], zy):
            hidden = group is not zy
            extra.append(group.run_regularly(
                hidden_window_reset if hidden else models.LIF_WINDOW_RESET, dt=window,
                when="start", name=f"{group.name}_window"))
            extra.append(group.run_regularly(
                model.bookkeeping if hidden else models.LIF_BOOKKEEPING,
                when="after_groups", name=f"{group.name}_bookkeeping"))

        # Layer summaries (goodness, spike count) as summed variables.
        summaries = {}
        for name in ("z1", "z2", "zy"):
            hidden = name != "zy"
            eqs = models.SUMMARY_EQS + (models.HIDDEN_SUMMARY_EQS if hidden else "")
            summary = NeuronGroup(1, eqs, dtype=state(eqs), dt=p.dt, name=f"{name}_summary")
            link = Synapses(pops[name], summary, models.SUMMARY_SYNAPSE, dt=p.dt,
                            name=f"{name}_to_summary")
            link.connect()
            for updater in link.summed_updaters.values():
                updater.when, updater.order = "after_resets", 0
            extra += [link]
            extra.append(summary.run_regularly(models.SUMMARY_WINDOW_RESET, dt=window,
                                               when="start", name=f"{name}_summary_window"))
            accumulate = models.SUMMARY_ACCUMULATE
            if hidden:
                accumulate += "\n" + models.LAYER_PROBABILITY
            extra.append(summary.run_regularly(accumulate, when="after_resets", order=1,
                                               name=f"{name}_summary_accumulate"))
            pops[name].n_spikes = linked_var(summary, "n_spikes")
            if hidden:
                pops[name].G = linked_var(summary, "G")
                pops[name].p_positive = linked_var(summary, "p_positive")
            summaries[name] = summary
        objs["summaries"] = summaries

        # Per-step signals after the spikes of the step are known.
        for name in ("z1", "z2"):
            extra.append(layers[name].run_regularly(
                "\n".join(hidden_step), when="after_resets", order=2,
                name=f"{name}_modulator"))
        extra.append(zy.run_regularly(
            models.CLASSIFIER_ERROR + "\n" + models.THRESHOLD_ADAPTATION,
            when="after_resets", order=2, name="zy_error"))

        # Reconstruction layer: updated after the synapses of the step, so that
        # it integrates z1's spikes of the same step.
        zR.state_updater.when, zR.state_updater.order = "after_synapses", 0
        extra.append(zR.run_regularly(models.RECON_BOOKKEEPING, when="after_synapses",
                                      order=1, name="zR_bookkeeping"))
        zR.thresholder["spike"].when, zR.thresholder["spike"].order = "after_synapses", 2
        zR.resetter["spike"].when, zR.resetter["spike"].order = "after_synapses", 3
        extra.append(zR.run_regularly(models.RECON_ERROR, when="after_synapses", order=4,
                                      name="zR_error"))
        extra.append(zR.run_regularly(models.RECON_WINDOW_RESET, dt=window, when="start",
                                      name="zR_window"))

        objs["synapses"] = {proj.name: self._projection(proj, pops, funcs)
                            for proj in PROJECTIONS}

        # Per-window readouts, sampled at each window start (before the reset).
        monitor_kw = dict(record=True, dt=window, when="start", order=-10)
        monitors = {name: StateMonitor(pops[name], "count", name=f"{name}_counts",
                                       **monitor_kw) for name in ("z1", "z2", "zy")}
        monitors["goodness"] = StateMonitor(
            summaries["z1"], "G_window", name="z1_goodness", **monitor_kw)
        monitors["goodness2"] = StateMonitor(
            summaries["z2"], "G_window", name="z2_goodness", **monitor_kw)
        monitors["recon"] = StateMonitor(zR, "tr_sum", name="zR_recon", **monitor_kw)
        objs["monitors"] = monitors
        spike_monitors = {}
        if self.record_spikes:
            spike_monitors = {name: SpikeMonitor(group, name=f"{name}_spikes")
                              for name, group in pops.items()}
            for layer in ("z1", "z2"):
                monitors[f"{layer}_goodness_steps"] = StateMonitor(
                    summaries[layer], "G", record=True, when="after_resets", order=3,
                    name=f"{layer}_goodness_steps")
        objs["spike_monitors"] = spike_monitors
        cell_monitors = {}
        for layer in ("z1", "z2") if self.record_cells else ():
            cells = range(min(self.record_cells, sizes[layer]))
            cell_monitors[f"{layer}_v"] = StateMonitor(
                pops[layer], "v", record=cells, when="thresholds", order=-1,
                name=f"{layer}_membrane")
            cell_monitors[f"{layer}_rate"] = PopulationRateMonitor(
                pops[layer], name=f"{layer}_population_rate")
        objs["cell_monitors"] = cell_monitors

        net = Network(*pops.values(), *summaries.values(), *extra,
                      *objs["synapses"].values(), *monitors.values(),
                      *spike_monitors.values(), *cell_monitors.values())
        net.schedule = models.SCHEDULE
        objs["net"] = net
        return objs

    def _state_dtypes(self, eqs) -> dict:
        """The ``dtype`` argument of a group with equations ``eqs``
        (``params.state_dtype``, see :func:`float_state_dtypes`)."""
        return float_state_dtypes(eqs, self.params.state_dtype)

    def _projection(self, proj: Projection, pops: dict, funcs: dict) -> Synapses:
        """Synapses of one projection with its propagation and learning pathways."""
        pre, post = pops[proj.pre], pops[proj.post]
        ns = self._namespace(**funcs)
        model, on_pre, on_post = models.WEIGHT_EQS, {}, None
        on_event = {"pre": "spike"}
        propagate = models.PROPAGATE_INH if proj.inhibitory else models.PROPAGATE_EXC
        decay = self.decay(proj)
        step = self.params.csdp_step
        if decay == "lazy":
            model = models.LAZY_CSDP_WEIGHT_EQS
            on_pre = {"pre": models.CSDP_SETTLE + "\n" + propagate,
                      "learn": models.csdp_on_pre(step, lazy=True)}
        elif decay == "eager":
            model = models.CSDP_WEIGHT_EQS
            on_pre = {"pre": propagate, "learn": models.csdp_on_pre(step)}
            on_post = models.CSDP_DECAY_ON_POST
            on_event["post"] = "csdp_spike"
        else:
            on_pre = {"pre": propagate, "learn": models.HEAD_ON_PRE}
        if self.state_variables(proj):
            model += models.RMS_WEIGHT_EQS
        on_event["learn"] = {"csdp": "csdp_event", "classifier": "head_event",
                             "recon": "recon_event"}[proj.rule]
        # Every pathway acts on the step of its event: a scalar zero delay,
        # so that no per-synapse delay array is stored, initialised and
        # written out with every chunk's results.
        delays = {pathway: 0 * ms for pathway in (*on_pre, *(["post"] if on_post else []))}
        syn = Synapses(pre, post, model, on_pre=on_pre, on_post=on_post, on_event=on_event,
                       delay=delays, namespace=ns, dt=self.params.dt, name=proj.name,
                       dtype={**self._state_dtypes(model),
                              "w": np.dtype(self.weight_dtype)})
        # Generated in C++ by the standalone build (no index files to load),
        # in the pre-major order of :meth:`_make_indices`.
        syn.connect(condition="i != j" if proj.inhibitory else None)
        # Learning first (uses the weights of the previous step), then eager
        # decay, then propagation with the freshly updated weights.
        syn.learn.order = -2
        if on_post is not None:
            syn.post.order = -1
        if proj.rule == "recon":
            # zR learns after its own spikes of this step are known.
            syn.learn.when, syn.learn.order = "after_synapses", 5
        return syn

    def decay(self, proj: Projection) -> str:
        """How this circuit applies the weight decay of ``proj``.

        Returns "none" (heads do not decay), "lazy" (where
        :attr:`Projection.lazy_decay` and this circuit's ``lazy_decay`` both
        say so) or "eager".
        """
        if proj.rule != "csdp":
            return "none"
        return "lazy" if proj.lazy_decay and self.lazy_decay else "eager"

    def state_variables(self, proj: Projection) -> tuple:
        """Per-synapse learning variables of ``proj`` besides ``w``, carried across chunks."""
        return state_variables(self.params, proj)

    def neuron_state_variables(self, population: str) -> tuple:
        """Per-cell learning variables of ``population``, carried across chunks."""
        return neuron_state_variables(self.params, population)

    def initial_synapse_state(self) -> dict:
        """Zeros for every learning variable besides the weights (``"W1.g2"``,
        ``"z0.g2_norm"`` etc.)."""
        return initial_synapse_state(self.params, self.n_input)

    def end_chunk(self, objs) -> None:
        """Settle pending decays and rebase the adaptive step's event times.

        Runs after each chunk (compiled into standalone builds).
        """
        self.settle_weights(objs)
        if self.params.csdp_step == "rmsprop":
            for name in CSDP_PRE_POPULATIONS:
                objs["pops"][name].t_csdp = models.RMS_SHIFT_CLOCK.split("=", 1)[1]

    def settle_weights(self, objs) -> None:
        """Apply every pending weight decay (see :data:`brian_edff.models.CSDP_SETTLE`).

        Runs after each chunk (compiled into standalone builds); call it before
        reading weights of a network run by hand with ``objs["net"].run``.
        """
        for proj in PROJECTIONS:
            if self.decay(proj) == "lazy":
                syn = objs["synapses"][proj.name]
                syn.w = models.SETTLED_WEIGHT
                syn.n_settled = "n_decay_post"

    def _indices(self, proj: Projection):
        """Pre-major synapse indices of a dense (or hollow) projection (cached)."""
        if proj.name not in self._index_cache:
            self._index_cache[proj.name] = self._make_indices(proj)
        return self._index_cache[proj.name]

    def _make_indices(self, proj: Projection):
        n_pre, n_post = self.sizes[proj.pre], self.sizes[proj.post]
        ii = np.repeat(np.arange(n_pre, dtype=np.int32), n_post)
        jj = np.tile(np.arange(n_post, dtype=np.int32), n_pre)
        if proj.inhibitory:
            keep = ii != jj
            ii, jj = ii[keep], jj[keep]
        return ii, jj

    def dense_to_vector(self, proj: Projection, matrix: np.ndarray) -> np.ndarray:
        """Dense [pre, post] matrix to the synapse vector of ``proj``."""
        ii, jj = self._indices(proj)
        return np.asarray(matrix, dtype=float)[ii, jj]

    def vector_to_dense(self, proj: Projection, vector: np.ndarray,
                        dtype=np.float32) -> np.ndarray:
        """Synapse vector of ``proj`` to a dense [pre, post] matrix."""
        ii, jj = self._indices(proj)
        dense = np.zeros((self.sizes[proj.pre], self.sizes[proj.post]), dtype=dtype)
        dense[ii, jj] = vector
        return dense

    def state_values(self, objs, weights: dict, theta_base: dict,
                     synapse_state: dict | None = None) -> dict:
        """The values a chunk starts from, keyed by the variables they set.

        Constants (:meth:`constants`), weights (lesions applied,
        :meth:`lesioned`), learning state and base thresholds: the one
        mapping from a state to the network, set on the groups of the
        runtime device and passed as ``run_args`` to a compiled binary.
        """
        values = dict(self.constants(objs))
        weights = self.lesioned(weights)
        for proj in PROJECTIONS:
            values[objs["synapses"][proj.name].w] = self.dense_to_vector(
                proj, weights[proj.name])
        syn_values, pop_values = self._learning_state(synapse_state)
        for (name, var), array in syn_values.items():
            values[getattr(objs["synapses"][name], var)] = array
        for (name, var), array in pop_values.items():
            values[getattr(objs["pops"][name], var)] = array
        for name, array in theta_base.items():
            values[objs["pops"][name].theta_base] = np.asarray(array, dtype=float)
        return values

    def _learning_state(self, synapse_state: dict | None):
        """Per-synapse vectors and per-cell arrays to load, keyed (object name, variable)."""
        learner = self.initial_synapse_state()
        learner.update({k: v for k, v in (synapse_state or {}).items() if k in learner})
        projections = {proj.name: proj for proj in PROJECTIONS}
        syn_values, pop_values = {}, {}
        for key, values in learner.items():
            name, var = key.split(".")
            if name in projections:
                syn_values[(name, var)] = self.dense_to_vector(projections[name], values)
            else:
                values = np.asarray(values, dtype=float)
                pop_values[(name, var)] = values * brian2.second if var == "t_csdp" else values
        return syn_values, pop_values

    def collect(self, objs, with_state: bool = True) -> ChunkResult:
        """Read weights (``with_state``) and per-window readouts after a run."""
        weights, synapse_state = {}, {}
        for proj in PROJECTIONS if with_state else ():
            weights[proj.name] = self.vector_to_dense(proj, np.asarray(
                objs["synapses"][proj.name].w[:]), dtype=self.weight_dtype)
        for proj in PROJECTIONS if with_state else ():
            for var in self.state_variables(proj):
                values = np.asarray(getattr(objs["synapses"][proj.name], var)[:])
                synapse_state[f"{proj.name}.{var}"] = self.vector_to_dense(
                    proj, values, dtype=np.float64)
        for name in STATEFUL_POPULATIONS if with_state else ():
            for var in self.neuron_state_variables(name):
                values = getattr(objs["pops"][name], var)[:]
                synapse_state[f"{name}.{var}"] = np.array(values, dtype=np.float64)
        mons, pops = objs["monitors"], objs["pops"]

        def per_window(monitor, group, var):
            # Sample k (k >= 1) holds window k-1; the group holds the last one.
            recorded = np.asarray(getattr(monitor, var)).T[1:]
            return np.vstack([recorded, np.asarray(getattr(group, var)[:])[None, :]])

        counts = {name: per_window(mons[name], pops[name], "count").astype(np.float32)
                  for name in ("z1", "z2", "zy")}
        goodness = np.column_stack([
            per_window(mons["goodness"], objs["summaries"]["z1"], "G_window")[:, 0],
            per_window(mons["goodness2"], objs["summaries"]["z2"], "G_window")[:, 0]])
        recon = per_window(mons["recon"], pops["zR"], "tr_sum") / (self.params.T + 1)
        spikes = {}
        for name, mon in objs["spike_monitors"].items():
            steps = np.round(np.asarray(mon.t / self.params.dt)).astype(np.int64)
            spikes[name] = (np.asarray(mon.i[:]), steps)
        goodness_steps = None
        if self.record_spikes:
            goodness_steps = np.column_stack([
                np.asarray(mons[f"{layer}_goodness_steps"].G)[0] for layer in ("z1", "z2")])
        cells = objs.get("cell_monitors", {})
        membrane = {layer: np.asarray(cells[f"{layer}_v"].v).T.copy()
                    for layer in ("z1", "z2") if f"{layer}_v" in cells}
        population_rate = {layer: np.asarray(cells[f"{layer}_rate"].rate / brian2.Hz)
                           for layer in ("z1", "z2") if f"{layer}_rate" in cells}
        return ChunkResult(weights=weights, counts=counts, goodness=goodness,
                           recon=recon.astype(np.float32), spikes=spikes,
                           goodness_steps=goodness_steps, synapse_state=synapse_state,
                           membrane=membrane, population_rate=population_rate)
