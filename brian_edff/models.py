"""The equations of the ED-FF / CSDP circuit, as Brian2 strings.

This is the file to open and edit. Every population and every plastic
projection of the circuit is declared here as plain Brian2 model code; the
builder in :mod:`brian_edff.circuit` only wires these strings together.

The circuit is the one of Ororbia, "Learning Spiking Neural Systems with the
Event-Driven Forward-Forward Process" (arXiv:2303.18187, 2023), published as
"Contrastive signal-dependent plasticity: Self-supervised learning in spiking
neural circuits" (Science Advances 10:eadn6076, 2024).

Discrete-time conventions (those of the author's code)
------------------------------------------------------
* One stimulus is shown for a *window* of ``T`` steps of size ``dt``; all
  state (membranes, traces, thresholds, counters) is reset at the window's
  first step. Weights persist.
* Every projection carries the presynaptic spikes of the *previous* step:
  spikes of step ``t`` are added to ``I_exc``/``I_inh`` during step ``t`` and
  integrated by the membrane at step ``t + 1``. The only exception is the
  reconstruction layer, driven by layer 1's spikes of the *same* step.
* The learning rules fire on presynaptic events, so they cost nothing where
  no spike arrives. CSDP pairs a presynaptic spike of step ``t - 1`` (event
  ``csdp_event``, raised when ``s_prev == 1``) with the postsynaptic
  modulator ``d`` of step ``t``.
* Per-window switches (positive/negative target, plasticity on/off, the
  context label) are :class:`brian2.TimedArray` functions of ``t`` indexed
  by window: ``y_target(t)``, ``csdp_on(t)``, ``classifier_on(t)``,
  ``recon_on(t)``, ``context_label(t)``, ``target_label(t)``; pixel rates are
  ``pixel_rate(t, i)``.

Time constants carry units (``tau_m``, ``tau_tr``); membranes, currents and
weights are dimensionless, as in the paper. Constants (``tau_m``, ``R_exc``,
``theta_g``, ``eta`` ...) are declared as ``(shared, constant)`` variables, set
from :class:`brian_edff.params.Params` before every run: a compiled standalone
build serves every parameter value of the same network shape.

Changing the neuron model
-------------------------
The hidden layers are built from a :class:`Model` (the end of this file):
a frozen dataclass of the strings above and their constants. Built-in
variants (:data:`VARIANTS`: ``adaptation``, ``refractory``, ``exp_synapses``,
``conductance``) are a few lines each; select one with ``train --model NAME``
or ``"model": NAME`` in a parameter file or sweep grid. Your own variant lives
in a file of yours, derived from the default or from a variant; the
equations of :data:`ADAPTATION_MODEL` (near the end of this file) are the
worked example of an added variable, reset and constants::

    # my_model.py
    from brian_edff.models import ADAPTATION_MODEL

    MODEL = ADAPTATION_MODEL.derive("strong_adaptation", "twice the jump",
                                    constants={"b_a": "0.04"})

and run it with ``train --model my_model.py`` (docs/models.md). Editing the
strings of this file in place still works too: builds are keyed on them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field, fields, replace

#: Order of the scheduling slots inside one time step. Resets come before
#: synapses so that traces and modulators of step ``t`` are final when the
#: learning pathways of step ``t`` run.
SCHEDULE = ["start", "groups", "thresholds", "resets", "synapses", "end"]

# --------------------------------------------------------------------------
# Input populations
# --------------------------------------------------------------------------

#: Bernoulli input (z0): pixel ``i`` spikes at each step with probability
#: ``rate`` (its intensity in [0, 1]). ``phase`` is a per-window random phase
#: added to the uniform draw (a Cranley-Patterson rotation, which leaves the
#: draw uniform): it makes every chunk of a compiled standalone run draw fresh
#: noise although the binary's generator restarts from the same seed.
INPUT_EQS = """
rate = pixel_rate(t, i) : 1
phase = pixel_phase(t, i) : 1
s : 1
s_prev : 1
"""
#: Bernoulli spike: ``u < rate`` with ``u`` uniform in [0, 1).
INPUT_THRESHOLD = "(rand() + phase) % 1.0 < rate"
#: Input rate scale (``input_gain != 1`` in :class:`brian_edff.params.Params`;
#: 1 in every named set): pixel ``i`` spikes with probability
#: ``min(input_gain * x_i, 1)`` per step, the same image coded by a brighter
#: or dimmer spike train. Replaces the ``rate`` line of :data:`INPUT_EQS`.
INPUT_GAIN_RATE = "rate = clip(input_gain * pixel_rate(t, i), 0, 1) : 1"
INPUT_GAIN_EQS = "input_gain : 1 (shared, constant)\n"


def input_eqs(gain: bool = False) -> str:
    """Equations of the input population, with the rate scale if ``gain``."""
    if not gain:
        return INPUT_EQS
    line = "rate = pixel_rate(t, i) : 1"
    if line not in INPUT_EQS:
        raise ModelError(f"input_gain: INPUT_EQS has no line {line!r} to scale")
    return INPUT_EQS.replace(line, INPUT_GAIN_RATE) + INPUT_GAIN_EQS

#: Label context (zc): the unit of the window's context label spikes at every
#: step; ``context_label(t) = -1`` silences the population (test windows).
CONTEXT_EQS = """
s : 1
s_prev : 1
"""
CONTEXT_THRESHOLD = "i == int(context_label(t))"

#: Spike bookkeeping of every population: ``s`` marks this step's spike.
SPIKE_RESET = "s = 1"

#: Start of every step (after the membrane update): remember last step's
#: spikes, clear this step's and the input accumulators.
STEP_BOOKKEEPING = "s_prev = s\ns = 0"

# --------------------------------------------------------------------------
# Leaky integrate-and-fire layers (z1, z2, classifier zy, reconstruction zR)
# --------------------------------------------------------------------------

#: LIF membrane (Euler step ``v += dt (-v + j) / tau_m``) and spike trace
#: (``tr *= 1 - dt / tau_tr``, set to 1 on a spike). ``I_exc``/``I_inh`` hold
#: the summed weights of last step's presynaptic spikes, so
#: ``j = R_exc * sum_i w_i s_i(t - dt) - R_inh * sum_k m_k s_k(t - dt)``.
LIF_EQS = """
dv/dt = (-v + j) / tau_m : 1
j = R_exc * I_exc - R_inh * I_inh : 1
dtr/dt = -tr / tau_tr : 1
I_exc : 1
I_inh : 1
theta : 1
theta_base : 1 (constant)
s : 1
s_prev : 1
count : 1
tau_m : second (shared, constant)
tau_tr : second (shared, constant)
R_exc : 1 (shared, constant)
R_inh : 1 (shared, constant)
rho_b : 1 (shared, constant)
theta_min : 1 (shared, constant)
"""
#: Spike when the membrane crosses the (adaptive) threshold; no refractoriness.
LIF_THRESHOLD = "v > theta"
#: On a spike: membrane to 0, trace to 1, count it.
LIF_RESET = "v = 0\ntr = 1\ns = 1\ncount += 1"
#: Clear the input accumulators once the membrane has integrated them.
LIF_BOOKKEEPING = STEP_BOOKKEEPING + "\nI_exc = 0\nI_inh = 0"
#: Window start: everything but the weights goes back to rest.
LIF_WINDOW_RESET = (
    "v = 0\ntr = 0\ntheta = theta_base\nI_exc = 0\nI_inh = 0\ns = 0\ns_prev = 0\n"
    "count = 0"
)

#: Layer-wide adaptive threshold: pushes each layer toward one spike per step,
#: ``theta <- max(theta + rho_b (n_spikes - 1), theta_min)``.
THRESHOLD_ADAPTATION = "theta = clip(theta + rho_b * (n_spikes - 1), theta_min, inf)"

#: Per-neuron homeostatic thresholds beside the layer-wide one
#: (``rho_h > 0`` in :class:`brian_edff.params.Params`; off in every named
#: set). Each hidden cell keeps an offset ``h`` of its threshold that,
#: unlike ``theta``, persists across windows: while CSDP is on it rises by
#: ``rho_h`` for each of the cell's spikes and falls by ``rho_h`` times the
#: layer's mean spike count per cell, ``h <- h + rho_h (s_j - n_spikes / N)``,
#: so cells that fire more than their share become harder to excite and
#: silent ones easier, while the layer's mean offset stays zero (the
#: layer-wide rule keeps setting the overall rate). Every window starts
#: from ``theta = max(theta_base + h, theta_min)``. Intrinsic plasticity
#: in the sense of G. G. Turrigiano & S. B. Nelson, "Homeostatic plasticity
#: in the developing nervous system", Nat. Rev. Neurosci. 5:97 (2004); the
#: adaptive thresholds of P. U. Diehl & M. Cook, Front. Comput. Neurosci.
#: 9:99 (2015). A frozen control (CSDP off) keeps ``h = 0``.
HOMEOSTASIS_EQS = """
h : 1
rho_h : 1 (shared, constant)
"""
HOMEOSTASIS = "h += rho_h * (s - n_spikes / N) * csdp_on(t)"
#: Appended to the hidden layers' window reset (after ``theta = theta_base``).
HOMEOSTASIS_WINDOW_START = "theta = clip(theta + h, theta_min, inf)"
#: Per-cell variables of the homeostatic thresholds, carried from chunk to chunk.
HOMEOSTASIS_STATE_VARIABLES = ("h",)

#: Hidden layers (z1, z2) read back their layer's goodness, spike count and
#: probability of a positive window (:data:`LAYER_PROBABILITY`).
HIDDEN_EXTRA_EQS = """
G : 1 (linked)
n_spikes : 1 (linked)
p_positive : 1 (linked)
d : 1
n_decay : integer
"""
#: CSDP modulatory signal: derivative of the binary cross-entropy of
#: ``p = sigmoid(G - theta_g)`` against the window's target ``y`` (1 for a
#: positive, 0 for a negative window) with respect to the trace:
#: ``d_j = 2 tr_j (p - y)``. ``p`` is the layer's ``p_positive``, computed
#: once per step in its summary cell.
CSDP_MODULATOR = "d = 2 * tr * (p_positive - y_target(t))"
#: Spikes that decay the incoming weights (for the lazy decay, see
#: :data:`CSDP_SETTLE`): counted while CSDP is on, never reset within a chunk.
DECAY_COUNT = "n_decay += int(s > 0.5 and csdp_on(t) > 0.5)"

#: The classifier layer (zy) has an adaptive threshold too and a local error
#: between the target label's spikes and its own traces.
CLASSIFIER_EXTRA_EQS = """
n_spikes : 1 (linked)
err : 1
"""
#: Classifier error ``e_j = 2 (1[j = label] - tr_j)``, switched by
#: ``classifier_on`` (positive windows, or the context-free head window).
CLASSIFIER_ERROR = (
    "err = 2 * (int(i == int(target_label(t))) - tr) * classifier_on(t)"
)

#: The reconstruction layer (zR) predicts the input spikes from z1's spikes
#: of the same step; its threshold stays at ``theta_base``.
RECON_EXTRA_EQS = """
s_input : 1 (linked)
err : 1
tr_sum : 1
"""
#: Reconstruction error ``e_j = 2 (s0_j(t) - sR_j(t))``; the reconstruction of
#: the stimulus is the summed trace over the window.
RECON_ERROR = "err = 2 * (s_input - s) * recon_on(t)\ntr_sum += tr"
RECON_BOOKKEEPING = "s = 0\nI_exc = 0"
RECON_WINDOW_RESET = "v = 0\ntr = 0\ntheta = theta_base\nI_exc = 0\ns = 0\ntr_sum = 0"

# --------------------------------------------------------------------------
# Layer summaries: goodness and spike count of a layer, one neuron each
# --------------------------------------------------------------------------

#: One-neuron group per layer: its goodness ``G = sum_j tr_j^2``, spike count
#: of this step, and the goodness summed over the window (for the readout).
SUMMARY_EQS = """
G : 1
n_spikes : 1
G_window : 1
"""
#: Summed variables from the layer into its summary neuron.
SUMMARY_SYNAPSE = """
G_post = tr_pre ** 2 : 1 (summed)
n_spikes_post = s_pre : 1 (summed)
"""
SUMMARY_ACCUMULATE = "G_window += G"
SUMMARY_WINDOW_RESET = "G_window = 0"
#: The summary of a hidden layer also holds the layer's goodness threshold
#: and its probability of a positive window, ``p = sigmoid(G - theta_g)``:
#: one ``exp`` per layer and step, read by every cell's modulator.
HIDDEN_SUMMARY_EQS = """
theta_g : 1 (shared, constant)
p_positive : 1
"""
LAYER_PROBABILITY = "p_positive = 1 / (1 + exp(theta_g - G))"

# --------------------------------------------------------------------------
# Projections
# --------------------------------------------------------------------------

#: Every projection stores one weight per synapse (float32, see
#: :data:`WEIGHT_DTYPE`), and its learning constants.
WEIGHT_EQS = """
w : 1
eta : 1 (shared, constant)
gain : 1 (shared, constant)
w_min : 1 (shared, constant)
w_max : 1 (shared, constant)
"""
#: CSDP projections also decay.
CSDP_WEIGHT_EQS = WEIGHT_EQS + "lambda_w : 1 (shared, constant)\n"
#: With lazy decay, ``n_settled`` is the postsynaptic decay count already
#: applied to this weight (see :data:`CSDP_SETTLE`).
LAZY_CSDP_WEIGHT_EQS = CSDP_WEIGHT_EQS + "n_settled : integer\n"
#: Weights are single precision, as in the author's JAX code: half the memory
#: traffic of the event loops, which is what bounds their speed (the
#: ``weight_dtype`` option of :class:`brian_edff.circuit.Circuit`).
WEIGHT_DTYPE = "float32"

#: Spike propagation: excitatory (bottom-up, top-down, context, heads) and
#: inhibitory (lateral, subtracted with gain ``R_inh``).
PROPAGATE_EXC = "I_exc_post += w"
PROPAGATE_INH = "I_inh_post += w"

#: CSDP, event-driven: a presynaptic spike of the previous step moves the
#: weight against the postsynaptic modulator,
#: ``dW_ij = -eta * gain * s_i(t - dt) * d_j(t)``, clipped to the bounds.
#: ``gain`` is ``R_m`` for excitatory projections and ``R_inh`` for lateral
#: inhibition (negated for the sign-consistent variant).
CSDP_ON_PRE = "w = clip(w - eta * gain * d_post, w_min, w_max)"
#: Weight decay, on a postsynaptic spike (event ``csdp_spike``): ``W_ij -=
#: lambda_w`` where the presynaptic cell did not fire on the previous step.
CSDP_DECAY_ON_POST = "w = clip(w - lambda_w * (1 - s_prev_pre), w_min, w_max)"

#: The same decay, applied lazily (projections from the hidden layers, see
#: :attr:`brian_edff.circuit.Projection.lazy_decay`). Done eagerly, every
#: postsynaptic spike sweeps a whole column of the pre-major weight matrix,
#: one cache miss per row: for the lateral projection that sweep took a
#: quarter of the simulation. Instead each postsynaptic cell counts its
#: decaying spikes (``n_decay``, :data:`DECAY_COUNT`) and each synapse settles
#: the decays it has not yet applied whenever its row is read or changed:
#: ``w = clip(w - lambda_w (n_decay_post - n_settled), w_min, w_max)``. This
#: equals the eager rule: a run of clipped decrements is one clipped
#: decrement of their sum (weights start within their bounds and
#: ``lambda_w >= 0``), and every step at which the presynaptic cell is exempt
#: from the decay (it fired on the previous step) is a step at which
#: :data:`LAZY_CSDP_ON_PRE` settles the row.
#: :meth:`brian_edff.circuit.Circuit.settle_weights` settles every synapse
#: before weights are read out; propagation settles the rows it reads.
SETTLED_WEIGHT = "clip(w - lambda_w * (n_decay_post - n_settled), w_min, w_max)"
CSDP_SETTLE = f"w = {SETTLED_WEIGHT}\nn_settled = n_decay_post"
#: CSDP with lazy decay: the decays pending before this step are settled
#: first; this step's (the postsynaptic spike ``s_post``, already counted)
#: does not apply, as the presynaptic cell fired on the previous step.
LAZY_CSDP_ON_PRE = (
    "w = clip(w - lambda_w * (n_decay_post - s_post - n_settled), w_min, w_max)\n"
    + CSDP_ON_PRE + "\n"
    "n_settled = n_decay_post"
)

#: CSDP with a per-synapse adaptive step (``csdp_step = "rmsprop"`` in
#: :class:`brian_edff.params.Params`; off in every named set but ``tuned``).
#: The author trains with Adam on batch-summed updates; the event-driven
#: analogue for one stimulus at a time keeps, per synapse, a running mean of
#: the squared update ``g = gain * d_post`` over its own events, weighted by
#: ``exp(-(t - t_k) / tau_rms)`` for an event at ``t_k`` (RMSprop, Tieleman &
#: Hinton 2012, Lecture 6.5; Adam, Kingma & Ba, arXiv:1412.6980). The decay
#: between two events of a synapse is applied in closed form at the second
#: one, so the rule stays exact and costs nothing where no spike arrives.
#:
#: Every synapse of a presynaptic cell learns on that cell's ``csdp_event``,
#: so the event times, the decay factor between them and the sum of the
#: weights are the same along the cell's whole row: they live in the
#: presynaptic cell (:data:`RMS_NEURON_EQS`, updated by
#: :data:`RMS_ON_CSDP_EVENT` before the synapses of the step), and a synapse
#: keeps only ``g2``, the weighted sum of its ``g**2``. ``g2_norm`` is the sum
#: of the weights (so ``g2 / g2_norm`` is unbiased from the first event on),
#: ``t_csdp`` the time of the cell's last event; every chunk ends by shifting
#: ``t_csdp`` back by the chunk's duration (:data:`RMS_SHIFT_CLOCK`), since
#: each chunk's clock starts at zero. This is the arithmetic of a per-synapse
#: ``g2_norm`` and event time, with one ``exp`` and one division per
#: presynaptic event instead of one per synaptic event (``g2_inv_norm``, the
#: reciprocal of the norm, multiplies the synapse's ``g2``). The step,
#: ``eta * g / (sqrt(g2 / g2_norm) + eps_rms)``, is about ``eta`` per event
#: whatever the size of ``g``.
RMS_NEURON_EQS = """
g2_norm : 1
g2_inv_norm : 1
t_csdp : second
rms_decay : 1
tau_rms : second (shared, constant)
"""
RMS_ON_CSDP_EVENT = """
rms_decay = exp(-(t - t_csdp) / tau_rms)
g2_norm = rms_decay * g2_norm + 1
g2_inv_norm = 1 / g2_norm
t_csdp = t
"""
RMS_WEIGHT_EQS = """
g2 : 1
eps_rms : 1 (shared, constant)
"""
RMS_CSDP_ON_PRE = """
g = gain * d_post
g2 = rms_decay_pre * g2 + g * g
w = clip(w - eta * g / (sqrt(g2 * g2_inv_norm_pre) + eps_rms), w_min, w_max)
"""
#: Per-synapse variables of the adaptive step, carried from chunk to chunk.
RMS_STATE_VARIABLES = ("g2",)
#: Per-presynaptic-cell variables of the adaptive step, carried likewise.
RMS_NEURON_STATE_VARIABLES = ("g2_norm", "t_csdp")
#: End of a chunk: times of last events relative to the next chunk's start.
RMS_SHIFT_CLOCK = "t_csdp = t_csdp - t"


#: CSDP with a per-cell adaptive step (``csdp_step = "rmsprop_cell"``). The
#: running mean square is kept per postsynaptic cell, of its modulator ``d``
#: over every step with CSDP on, instead of per synapse over the synapse's
#: own events (:data:`RMS_CSDP_ON_PRE`): ``d_ms`` is the sum of ``d**2``
#: weighted by ``exp(-(t - t_k) / tau_rms)``, ``d_ms_norm`` the sum of the
#: weights. Each cell computes its normalised modulator ``d_hat = d /
#: (sqrt(d_ms / d_ms_norm) + eps_rms)`` once per step (after ``d``,
#: :data:`CSDP_MODULATOR`), and a synapse moves by ``eta`` times it, signed
#: as the pathway's gain (the per-synapse step is gain-free too, but for
#: ``eps_rms``). This is the plain rule's cost per synaptic event: the
#: per-synapse step keeps a second array as large as the weights and takes
#: a square root and a division per event.
#: ``d_ms_floor`` (:data:`RMS_CELL_NORM_FLOOR`) keeps ``d_ms / d_ms_norm`` at
#: zero before the first step with CSDP on; a constant of the group rather
#: than a literal, so that it has the cells' precision and the statement
#: stays in single precision where the state is.
RMS_CELL_EQS = """
d_ms : 1
d_ms_norm : 1
d_hat : 1
tau_rms : second (shared, constant)
eps_rms : 1 (shared, constant)
d_ms_floor : 1 (shared, constant)
"""
RMS_CELL_MODULATOR = """
d_ms = exp(-dt / tau_rms) * d_ms + csdp_on(t) * d * d
d_ms_norm = exp(-dt / tau_rms) * d_ms_norm + csdp_on(t)
d_hat = d / (sqrt(d_ms / (d_ms_norm + d_ms_floor)) + eps_rms)
"""
RMS_CELL_NORM_FLOOR = 1e-30
RMS_CELL_CSDP_ON_PRE = "w = clip(w - eta * sign(gain) * d_hat_post, w_min, w_max)"
#: Per-cell variables of the per-cell adaptive step, carried from chunk to chunk.
RMS_CELL_STATE_VARIABLES = ("d_ms", "d_ms_norm")


def csdp_on_pre(step: str = "plain", lazy: bool = False) -> str:
    """The CSDP learning statement for a plain or adaptive step (``"rmsprop"``:
    per synapse, ``"rmsprop_cell"``: per postsynaptic cell).

    With ``lazy`` the pending decays are settled first (:data:`LAZY_CSDP_ON_PRE`).
    """
    rule = {"plain": CSDP_ON_PRE, "rmsprop": RMS_CSDP_ON_PRE.strip(),
            "rmsprop_cell": RMS_CELL_CSDP_ON_PRE}[step]
    if not lazy:
        return rule
    return LAZY_CSDP_ON_PRE.replace(CSDP_ON_PRE, rule)


#: Heads (classifier, reconstruction): error-driven, ``dW_ij = +eta * gain *
#: s_i * e_j`` on a presynaptic spike.
HEAD_ON_PRE = "w = clip(w + eta * gain * err_post, w_min, w_max)"

#: Custom events that trigger learning (conditions are checked before reset).
#: ``csdp_event``: spiked on the previous step while CSDP is on;
#: ``head_event``: spiked on the previous step while the classifier learns;
#: ``csdp_spike``: spikes now while CSDP is on (drives the eager decay);
#: ``recon_event``: spikes now while the reconstruction learns.
CSDP_EVENT = "s_prev > 0.5 and csdp_on(t) > 0.5"
HEAD_EVENT = "s_prev > 0.5 and classifier_on(t) > 0.5"
CSDP_SPIKE_EVENT = "v > theta and csdp_on(t) > 0.5"
RECON_EVENT = "v > theta and recon_on(t) > 0.5"


# --------------------------------------------------------------------------
# The model as one object, and its variants
# --------------------------------------------------------------------------

class ModelError(ValueError):
    """A model variant is unknown, missing from its file, or does not build."""


@dataclass(frozen=True)
class Model:
    """The hidden layers' neuron model, as Brian2 strings and constants.

    :class:`brian_edff.circuit.Circuit` builds z1 and z2 from these fields
    (the classifier and reconstruction layers keep the stock LIF of this
    module); everything else (the plasticity, the summaries) comes from the
    module constants. The default equals the circuit of Ororbia (2023).
    Derive a variant with :meth:`derive`; compiled builds are cached by
    :meth:`digest`, so two variants never share a build.

    Attributes
    ----------
    name, description : str
        How runs and tables refer to the variant, and where it comes from.
    eqs : str
        Equations of z1 and z2 (:data:`HIDDEN_EXTRA_EQS` is appended).
    threshold, reset : str
        Spike condition and reset statements.
    refractory : str or None
        Brian2's ``refractory`` argument (e.g. ``"t_ref"``); equations
        flagged ``(unless refractory)`` are clamped while it lasts.
    bookkeeping : str
        Statements after each step's state update (clear delta currents).
    window_reset : str
        Statements at each window's start (everything but weights to rest).
    constants : dict
        Extra constants of these equations, name to value with unit as text
        (``{"tau_a": "300 ms"}``), so that runs can record them.
    method : str
        Brian2 integration method (``"euler"``: the discrete-time equations
        of the paper; ``"exponential_euler"`` stays stable for stiff,
        conductance-like equations).
    """

    name: str = "default"
    description: str = "Leaky integrate-and-fire with delta currents (Ororbia 2023)."
    eqs: str = LIF_EQS
    threshold: str = LIF_THRESHOLD
    reset: str = LIF_RESET
    refractory: str | None = None
    bookkeeping: str = LIF_BOOKKEEPING
    window_reset: str = LIF_WINDOW_RESET
    constants: dict = field(default_factory=dict)
    method: str = "euler"

    def derive(self, name: str, description: str, **changes) -> Model:
        """A copy with some fields changed (``constants`` are merged)."""
        constants = {**self.constants, **changes.pop("constants", {})}
        return replace(self, name=name, description=description, constants=constants,
                       **changes)

    def to_dict(self) -> dict:
        """JSON-ready copy of every field (recorded in ``config.json``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> Model:
        """Inverse of :meth:`to_dict`; ModelError on unknown or missing fields."""
        known = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or set(data) - known:
            raise ModelError(f"model: unknown fields {sorted(set(data) - known)}"
                             if isinstance(data, dict) else "model: must be an object")
        return cls(**data)

    def digest(self) -> str:
        """Hash of the content (names excluded): the key of compiled builds."""
        content = {k: v for k, v in self.to_dict().items() if k not in ("name",
                                                                         "description")}
        return hashlib.sha1(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]

    def namespace(self) -> dict:
        """The constants as Brian2 quantities."""
        return {name: parse_quantity(name, text) for name, text in self.constants.items()}


def parse_quantity(name: str, text):
    """``"300 ms"`` (or a number) as a Brian2 quantity; ModelError names ``name``."""
    from brian2.units import allunits, stdunits

    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return text
    units = {k: v for module in (allunits, stdunits) for k, v in vars(module).items()
             if not k.startswith("_")}
    match = re.fullmatch(r"\s*([-+0-9.eE]+)\s*\*?\s*([A-Za-z]+\w*)?\s*", str(text))
    if not match or (match.group(2) and match.group(2) not in units):
        raise ModelError(f"constant {name}: cannot read {text!r} as a number with a unit "
                         "(e.g. '300 ms')")
    try:
        number = float(match.group(1))
    except ValueError:
        raise ModelError(f"constant {name}: cannot read {text!r} as a number") from None
    return number * units[match.group(2)] if match.group(2) else number


#: The circuit of the paper.
DEFAULT_MODEL = Model()

#: Spike-frequency adaptation: an adaptation current ``a`` that jumps by
#: ``b_a`` on every spike and relaxes with ``tau_a``, subtracted from the
#: input (J. Benda & A. V. M. Herz, "A universal model for spike-frequency
#: adaptation", Neural Computation 15:2523, 2003; the adaptive LIF of
#: Gerstner et al., *Neuronal Dynamics*, 2014, ch. 6).
ADAPTATION_MODEL = DEFAULT_MODEL.derive(
    "adaptation",
    "LIF with a spike-triggered adaptation current (Benda & Herz 2003).",
    eqs=LIF_EQS.replace("j = R_exc * I_exc - R_inh * I_inh : 1",
                        "j = R_exc * I_exc - R_inh * I_inh - a : 1")
    + "da/dt = -a / tau_a : 1\n",
    reset=LIF_RESET + "\na += b_a",
    window_reset=LIF_WINDOW_RESET + "\na = 0",
    constants={"tau_a": "300 ms", "b_a": "0.02"})

#: Absolute refractory period: after a spike the membrane is clamped at its
#: reset value for ``t_ref`` (Brian2's ``refractory`` with ``(unless
#: refractory)``; Gerstner et al., *Neuronal Dynamics*, 2014, ch. 1.3).
#: Every window starts out of refractoriness.
REFRACTORY_MODEL = DEFAULT_MODEL.derive(
    "refractory",
    "LIF with an absolute refractory period (Gerstner et al. 2014, ch. 1.3).",
    eqs=LIF_EQS.replace("dv/dt = (-v + j) / tau_m : 1",
                        "dv/dt = (-v + j) / tau_m : 1 (unless refractory)"),
    refractory="t_ref",
    window_reset=LIF_WINDOW_RESET + "\nlastspike = -1e4 * second",
    constants={"t_ref": "6 ms"})

#: Exponentially decaying synaptic currents in place of the delta currents:
#: ``I_exc``, ``I_inh`` decay with ``tau_syn`` instead of being cleared after
#: each step, and enter the membrane scaled by ``dt / tau_syn``, so that a
#: presynaptic spike delivers the same total charge as with delta currents
#: (P. Dayan & L. F. Abbott, *Theoretical Neuroscience*, 2001, ch. 5.8).
EXP_SYNAPSES_MODEL = DEFAULT_MODEL.derive(
    "exp_synapses",
    "LIF with exponentially decaying synaptic currents (Dayan & Abbott 2001, 5.8).",
    eqs=LIF_EQS.replace("j = R_exc * I_exc - R_inh * I_inh : 1",
                        "j = (R_exc * I_exc - R_inh * I_inh) * dt / tau_syn : 1")
    .replace("I_exc : 1\nI_inh : 1",
             "dI_exc/dt = -I_exc / tau_syn : 1\ndI_inh/dt = -I_inh / tau_syn : 1"),
    bookkeeping=STEP_BOOKKEEPING,
    constants={"tau_syn": "10 ms"})

#: Conductance-based excitation: excitatory input opens a conductance whose
#: current ``g_exc (E_exc - v)`` shrinks as the membrane nears the reversal
#: potential ``E_exc`` (in units of the dimensionless membrane; the
#: threshold is near 0.05). Inhibition stays a current. (Dayan & Abbott 2001,
#: ch. 5.8; A. Destexhe et al., J. Comput. Neurosci. 1:195, 1994.) With
#: ``E_exc = 1`` it is close to the default; smaller values saturate the drive.
#: The membrane is integrated by exponential Euler: a large conductance makes
#: the forward Euler step of the other variants unstable.
CONDUCTANCE_MODEL = DEFAULT_MODEL.derive(
    "conductance",
    "LIF with conductance-based excitation (Dayan & Abbott 2001, 5.8).",
    eqs=LIF_EQS.replace("j = R_exc * I_exc - R_inh * I_inh : 1",
                        "j = R_exc * I_exc * (E_exc - v) / E_exc - R_inh * I_inh : 1"),
    constants={"E_exc": "0.2"}, method="exponential_euler")

#: Built-in variants by name (``train --model NAME``).
VARIANTS = {m.name: m for m in (DEFAULT_MODEL, ADAPTATION_MODEL, REFRACTORY_MODEL,
                                 EXP_SYNAPSES_MODEL, CONDUCTANCE_MODEL)}


def load_model(spec) -> Model:
    """A built-in variant by name, a :class:`Model`, or a Python file defining ``MODEL``.

    A user file derives its variant from the default, e.g.::

        from brian_edff.models import DEFAULT_MODEL, LIF_RESET

        MODEL = DEFAULT_MODEL.derive("my_adaptation", "stronger adaptation",
                                     reset=LIF_RESET + "\\na += 0.05", ...)

    Raises
    ------
    ModelError
        Unknown name, missing or unreadable file, no ``MODEL`` in it.
    """
    if isinstance(spec, Model):
        return spec
    if not isinstance(spec, str) or not spec:
        raise ModelError(f"model: expected a variant name or a .py file, got {spec!r}")
    if spec in VARIANTS:
        return VARIANTS[spec]
    if not spec.endswith(".py"):
        raise ModelError(f"model: unknown variant {spec!r}; use one of "
                         f"{', '.join(VARIANTS)} or a .py file defining MODEL")
    import runpy

    if not os.path.isfile(spec):
        raise ModelError(f"{spec}: model file not found")
    try:
        namespace = runpy.run_path(spec)
    except Exception as err:  # noqa: BLE001 (a user file may raise anything)
        raise ModelError(f"{spec}: cannot run model file ({type(err).__name__}: "
                         f"{err})") from None
    model = namespace.get("MODEL")
    if not isinstance(model, Model):
        raise ModelError(f"{spec}: defines no MODEL (a brian_edff.models.Model, e.g. "
                         "DEFAULT_MODEL.derive(...))")
    return model
