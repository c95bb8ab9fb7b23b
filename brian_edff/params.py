"""Parameter sets of the circuit, with units, validation and JSON round trip.

Three named sets are provided:

* :func:`reference` -- the author's constants (784-3000-600, T = 50,
  dt = 3 ms, tau_m = 100 ms, theta0 = 0.055 ...), Ororbia (2023/2024).
* :func:`fast` -- a small, quick circuit for tries, tests and CI.
* :func:`tuned` -- the best settings found so far (see README, "Results").

A user parameter file is a JSON object naming a base set and overrides::

    {"base": "fast", "n_hidden1": 300, "tau_m": "50 ms"}

The base may also be another parameter file, as a path relative to the file
that names it (``{"base": "tuned_v4.json", "T": 70}``). Times are given as
strings with a unit (``"50 ms"``) or as plain numbers in milliseconds.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass, field, fields

from brian2 import Quantity, ms, second, us

__all__ = ["Params", "ParamsError", "reference", "fast", "tuned", "paper", "load_params",
           "PARAMETER_SETS", "TIME_FIELDS"]


class ParamsError(ValueError):
    """A parameter set is invalid; the message names the field."""


#: Fields that carry a time unit.
TIME_FIELDS = ("dt", "tau_m", "tau_tr", "tau_rms")

LATERAL_SIGNS = ("reference", "consistent")
CSDP_STEPS = ("plain", "rmsprop", "rmsprop_cell")
NEGATIVES = ("random", "confused", "hybrid")
STATE_DTYPES = ("float64", "float32")
#: The circuit's synaptic pathways (:data:`brian_edff.circuit.PROJECTIONS`):
#: bottom-up ``W``, top-down ``V2``, label context ``Y``, lateral ``M``, the
#: classifier's ``C`` and the reconstruction's ``R1``.
PATHWAYS = ("W1", "V2", "Y1", "M1", "W2", "Y2", "M2", "C1", "C2", "R1")
#: Named lesions: groups of pathways silenced together (:func:`lesion_pathways`).
LESION_GROUPS = {
    "top-down": ("V2",),
    "lateral": ("M1", "M2"),
    "context": ("Y1", "Y2"),
    "layer2": ("W2", "Y2", "M2", "V2", "C2"),
}


@dataclass
class Params:
    """All constants of the circuit and of its learning protocol.

    Parameters
    ----------
    n_input : int or None
        Input population size (pixels); ``None`` takes it from the data set.
    n_hidden1, n_hidden2 : int
        Sizes of the hidden LIF layers z1 and z2.
    n_labels : int
        Size of the context and classifier populations.
    T : int
        Steps per stimulus window.
    dt : Quantity
        Simulation step.
    tau_m, tau_tr : Quantity
        Membrane and spike-trace time constants.
    theta0, theta_jitter, theta_min : float
        Initial threshold, half-width of its fixed per-neuron uniform jitter,
        and floor of the adaptive threshold.
    rho_b : float
        Threshold adaptation rate (per spike above one per step).
    rho_h : float
        Rate of the hidden cells' homeostatic threshold offsets (per spike,
        :data:`brian_edff.models.HOMEOSTASIS`): cells firing more than their
        layer's mean become harder to excite, across windows, while CSDP is
        on. 0 (every named set) switches them off and builds the circuit
        without them.
    R_m, R_inh : float
        Gains of excitatory and lateral inhibitory currents.
    theta_g1, theta_g2 : float
        Goodness thresholds of z1 and z2 (the layers' activity set-points).
    eta, w_decay : float
        CSDP learning rate and weight decay (per event).
    eta_head, head_gain : float
        Learning rate and error gain of the classifier and reconstruction.
    w_bound : float
        Weights are clipped to [-w_bound, w_bound] (lateral: [0, w_bound]).
    lateral_sign : {"reference", "consistent"}
        ``"reference"`` updates lateral inhibition with the excitatory sign,
        as the author's code does; ``"consistent"`` uses the gradient sign.
    head_window : bool
        Train the classifier in an extra, context-free third window per
        training image (hidden layers frozen in it) instead of in the
        positive window.
    reconstruction : bool
        Simulate and train the reconstruction layer.
    chunk_windows : int
        Windows simulated per ``run`` (one compiled run per chunk).
    epochs : int
        Default number of training epochs (CSDP on).
    head_epochs : int
        Extra epochs after those in which CSDP is off and only the classifier
        and reconstruction heads learn, on the final representation (one
        context-free window per image). Both arms of a comparison get them.
    csdp_step : {"plain", "rmsprop", "rmsprop_cell"}
        ``"plain"``: every CSDP event moves a weight by ``eta * gain * d``
        (the reference). ``"rmsprop"``: by about ``eta`` per event, the update
        divided by the root of its per-synapse running mean square
        (:data:`brian_edff.models.RMS_CSDP_ON_PRE`). ``"rmsprop_cell"``: the
        same with one running mean square per postsynaptic cell, of its
        modulator over every step with CSDP on, at the plain step's cost
        (:data:`brian_edff.models.RMS_CELL_CSDP_ON_PRE`).
    tau_rms, eps_rms : Quantity, float
        Memory (simulated time) and floor of that running mean square.
    eta_decay : float
        The CSDP rate is ``eta * eta_decay ** epoch`` (epoch counted from 0):
        an annealed step, so that the representation the heads read settles
        over the epochs; 1 (every named set) keeps it constant. A frozen
        control is unaffected.
    eta_head_decay : float
        The heads' rate is ``eta_head * eta_head_decay ** epoch`` (epoch
        counted from 0, head epochs included); 1 keeps it constant.
    input_gain : float
        Input rate scale: pixel ``i`` spikes with probability
        ``min(input_gain * x_i, 1)`` per step (:data:`brian_edff.models.INPUT_GAIN_RATE`).
        1 (every named set) builds the circuit without it.
    w_init : float
        Initial weights are drawn from U(-w_init, w_init) (then clipped to the
        bounds); the author uses 1.
    model : str
        The hidden layers' neuron model: a built-in variant
        (:data:`brian_edff.models.VARIANTS`: ``default``, ``adaptation``,
        ``refractory``, ``exp_synapses``, ``conductance``) or a ``.py`` file
        defining ``MODEL``.
    state_dtype : {"float64", "float32"}
        Precision of the circuit's arithmetic. ``"float32"``: the cells'
        state (``v``, ``I_exc``, ``d``, traces, ...), the adaptive step's
        per-synapse ``g2``, the shared constants (rates, bounds,
        ``theta_g``) and the code Brian2 generates (its loop invariants) are
        single precision, as in the author's code; variables with units
        (time constants, event times) stay float64. float32 is the default
        of every named set: the circuit then meets the author's recorded
        trajectories to their tolerances as float64 does
        (``tests/test_golden.py`` runs both). ``"float64"`` is what the
        NumPy reference and the device-equality tests pin.
    lesions : tuple of str
        Pathways (:data:`PATHWAYS`) silenced and frozen: their weights are
        zero and their learning rates and decay zero in every run, a switch
        of the run's values that leaves the compiled network as it is. Empty
        (every named set) is the intact circuit; in a training run it is a
        training-time lesion, in an evaluation a test-time one
        (``protocols/lesions.py``; names of groups: :data:`LESION_GROUPS`).
    negatives : {"random", "confused", "hybrid"}
        Supervised negatives: a wrong label drawn uniformly; or drawn in
        proportion to how often the classifier mistook the image's class for
        it on the dev split after the previous epoch (plus one, so every wrong
        label stays possible); or ``"hybrid"``: the image's own label with a
        hybrid image (a 50/50 blend with an image of another class), so that
        the label alone cannot make a window positive.
    """

    n_input: int | None = None
    n_hidden1: int = 3000
    n_hidden2: int = 600
    n_labels: int = 10
    T: int = 50
    dt: Quantity = field(default_factory=lambda: 3 * ms)
    tau_m: Quantity = field(default_factory=lambda: 100 * ms)
    tau_tr: Quantity = field(default_factory=lambda: 13 * ms)
    theta0: float = 0.055
    theta_jitter: float = 0.025
    theta_min: float = 0.025
    rho_b: float = 0.001
    rho_h: float = 0.0
    R_m: float = 0.1
    R_inh: float = 0.01
    theta_g1: float = 10.0
    theta_g2: float = 10.0
    eta: float = 0.002
    w_decay: float = 5e-5
    eta_head: float = 0.1
    head_gain: float = 0.1
    w_bound: float = 1.0
    lateral_sign: str = "reference"
    head_window: bool = False
    reconstruction: bool = True
    chunk_windows: int = 1000
    epochs: int = 1
    head_epochs: int = 0
    csdp_step: str = "plain"
    tau_rms: Quantity = field(default_factory=lambda: 100 * second)
    eps_rms: float = 1e-4
    eta_decay: float = 1.0
    eta_head_decay: float = 1.0
    w_init: float = 1.0
    input_gain: float = 1.0
    negatives: str = "random"
    model: str = "default"
    state_dtype: str = "float32"
    lesions: tuple = ()

    # -- validation --------------------------------------------------------
    def validate(self, n_input: int | None = None) -> Params:
        """Check every field; raise :class:`ParamsError` naming the first bad one.

        Parameters
        ----------
        n_input : int, optional
            Number of pixels of the data set; must match ``n_input`` if set.

        Returns
        -------
        Params
            ``self``, for chaining.
        """
        for name in ("n_hidden1", "n_hidden2", "n_labels", "T", "chunk_windows",
                     "epochs"):
            _positive_int(name, getattr(self, name))
        if isinstance(self.head_epochs, bool) or not isinstance(self.head_epochs, int) \
                or self.head_epochs < 0:
            raise ParamsError(f"head_epochs: must be an integer >= 0, got {self.head_epochs!r}")
        if self.n_labels < 2:
            raise ParamsError(f"n_labels: need at least 2 labels, got {self.n_labels}")
        if self.n_input is not None:
            _positive_int("n_input", self.n_input)
            if n_input is not None and self.n_input != n_input:
                raise ParamsError(
                    f"n_input: parameters say {self.n_input} inputs but the data "
                    f"set has {n_input} pixels per image")
        for name in TIME_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, Quantity) or not value.has_same_dimensions(second):
                raise ParamsError(f"{name}: must be a time (e.g. '3 ms'), got {value!r}")
            if not float(value) > 0 or not math.isfinite(float(value)):
                raise ParamsError(f"{name}: must be positive and finite, got {value}")
        for name in ("tau_m", "tau_tr"):
            if self.dt >= getattr(self, name):
                raise ParamsError(
                    f"dt: the step ({self.dt}) must be shorter than {name} "
                    f"({getattr(self, name)}) for the Euler step to be stable")
        for name in ("theta0", "theta_min", "R_m", "R_inh", "head_gain", "w_bound",
                     "eps_rms", "eta_decay", "eta_head_decay", "w_init", "input_gain"):
            _finite(name, getattr(self, name), positive=True)
        for name in ("theta_jitter", "rho_b", "rho_h", "eta", "w_decay", "eta_head", "theta_g1",
                     "theta_g2"):
            _finite(name, getattr(self, name), positive=False)
            if name not in ("theta_g1", "theta_g2") and getattr(self, name) < 0:
                raise ParamsError(f"{name}: must be >= 0, got {getattr(self, name)}")
        if self.theta0 - self.theta_jitter <= 0:
            raise ParamsError("theta_jitter: theta0 - theta_jitter must stay positive")
        if self.lateral_sign not in LATERAL_SIGNS:
            raise ParamsError(f"lateral_sign: must be one of {LATERAL_SIGNS}, "
                              f"got {self.lateral_sign!r}")
        if self.csdp_step not in CSDP_STEPS:
            raise ParamsError(f"csdp_step: must be one of {CSDP_STEPS}, "
                              f"got {self.csdp_step!r}")
        if self.negatives not in NEGATIVES:
            raise ParamsError(f"negatives: must be one of {NEGATIVES}, "
                              f"got {self.negatives!r}")
        if self.state_dtype not in STATE_DTYPES:
            raise ParamsError(f"state_dtype: must be one of {STATE_DTYPES}, "
                              f"got {self.state_dtype!r}")
        if not isinstance(self.model, str) or not self.model:
            raise ParamsError(f"model: must be a variant name or a .py file, "
                              f"got {self.model!r}")
        lesion_pathways(self.lesions)
        for name in ("head_window", "reconstruction"):
            if not isinstance(getattr(self, name), bool):
                raise ParamsError(f"{name}: must be true or false")
        return self

    # -- conversion ----------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready dictionary; times as strings with units (``"3 ms"``)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in TIME_FIELDS:
                value = _format_time(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict, base: Params | None = None) -> Params:
        """Build from a dictionary of overrides on top of ``base``.

        Raises
        ------
        ParamsError
            On unknown keys or values of the wrong type.
        """
        if not isinstance(data, dict):
            raise ParamsError(f"parameters must be a JSON object, got {type(data).__name__}")
        params = dataclasses.replace(base) if base is not None else cls()
        names = {f.name: f for f in fields(cls)}
        for key, value in data.items():
            if key == "base":
                continue
            if key not in names:
                raise ParamsError(f"{key}: unknown parameter (known: {', '.join(names)})")
            setattr(params, key, _coerce(key, value, getattr(params, key)))
        return params

    @classmethod
    def from_record(cls, data: dict) -> Params:
        """The parameters recorded in a run's ``config.json``.

        Like :meth:`from_dict`, except that a record without ``state_dtype``
        was written while double precision was the default, and stays so.
        """
        if isinstance(data, dict) and "state_dtype" not in data:
            data = {**data, "state_dtype": "float64"}
        return cls.from_dict(data)

    def replace(self, **changes) -> Params:
        """Copy with some fields changed (values coerced like JSON values)."""
        return Params.from_dict(changes, base=self)

    @property
    def window(self) -> Quantity:
        """Duration of one stimulus window, ``T * dt``."""
        return self.T * self.dt

    @property
    def windows_per_image(self) -> int:
        """Training windows per image: positive, negative (and head window)."""
        return 3 if self.head_window else 2


def lesion_pathways(names) -> tuple:
    """The pathways that ``names`` (pathways or :data:`LESION_GROUPS`) silence.

    Returns them in the order of :data:`PATHWAYS`, each once.

    Raises
    ------
    ParamsError
        For a name that is neither a pathway nor a group.
    """
    if isinstance(names, str):
        names = (names,)
    chosen = set()
    for name in names:
        if name in LESION_GROUPS:
            chosen.update(LESION_GROUPS[name])
        elif name in PATHWAYS:
            chosen.add(name)
        else:
            raise ParamsError(f"lesions: unknown pathway {name!r} (pathways: "
                              f"{', '.join(PATHWAYS)}; groups: {', '.join(LESION_GROUPS)})")
    return tuple(name for name in PATHWAYS if name in chosen)


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParamsError(f"{name}: must be a positive integer, got {value!r}")


def _finite(name, value, positive):
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise ParamsError(f"{name}: must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ParamsError(f"{name}: must be > 0, got {value}")


_TIME_RE = re.compile(r"^\s*([-+0-9.eE]+)\s*(s|second|ms|msecond|us|usecond)?\s*$")
_TIME_UNITS = {"s": second, "second": second, "ms": ms, "msecond": ms, "us": us,
               "usecond": us, None: ms}


def _format_time(value) -> str:
    """``"3 ms"``-style text that reads back to exactly ``value``."""
    number = float(value / ms)
    text = f"{int(number)} ms" if number.is_integer() else f"{number!r} ms"
    if _coerce("dt", text, None) == value:
        return text
    return f"{float(value / second)!r} s"


def _coerce(key, value, current):
    """Turn a JSON value into the field's type, or raise ParamsError."""
    if key in TIME_FIELDS:
        if isinstance(value, Quantity):
            return value
        if isinstance(value, bool):
            raise ParamsError(f"{key}: must be a time such as '3 ms', got {value!r}")
        if isinstance(value, (int, float)):
            return float(value) * ms
        match = _TIME_RE.match(str(value))
        if not match:
            raise ParamsError(f"{key}: cannot read {value!r} as a time (e.g. '3 ms')")
        try:
            number = float(match.group(1))
        except ValueError:
            raise ParamsError(f"{key}: cannot read {value!r} as a time") from None
        return number * _TIME_UNITS[match.group(2)]
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ParamsError(f"{key}: must be true or false, got {value!r}")
        return value
    if isinstance(current, int) or key == "n_input":
        if value is None and key == "n_input":
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(f"{key}: must be an integer, got {value!r}")
        return value
    if isinstance(current, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamsError(f"{key}: must be a number, got {value!r}")
        return float(value)
    if isinstance(current, tuple):
        if isinstance(value, str) or not isinstance(value, (list, tuple)) \
                or not all(isinstance(item, str) for item in value):
            raise ParamsError(f"{key}: must be a list of names, got {value!r}")
        return tuple(value)
    if isinstance(current, str):
        if not isinstance(value, str):
            raise ParamsError(f"{key}: must be a string, got {value!r}")
        return value
    return value


def reference() -> Params:
    """The author's constants (Ororbia 2023, released code): 784-3000-600.

    The author trains with Adam on mini-batches of 500; this online circuit
    takes plain gradient steps per event, with CSDP rate 0.002 and decay 5e-5
    (ALGORITHM.md) and a head rate of 0.1, chosen on the mnist5k dev split
    (docs/results.md). Single precision, as the author's code.
    """
    return Params()


def fast() -> Params:
    """A small circuit (256/128 units, T = 30) that trains on the 8x8 digits in a minute.

    Larger learning rates than the reference (CSDP 0.03, heads 0.1) and the
    classifier trained in a context-free third window; chosen on the digits'
    dev split (README, "How the parameter sets were chosen").
    """
    return Params(n_hidden1=256, n_hidden2=128, T=30, eta=0.03, eta_head=0.1,
                  head_window=True, chunk_windows=600, epochs=10)


def tuned() -> Params:
    """Best settings found for MNIST-size inputs (see README, "Results", and
    docs/results.md for the lever table that chose them).

    500/500 units; goodness thresholds set to the random circuit's own goodness
    (16 for z1, 3.6 for z2: CSDP then holds the layers at their initial
    activity instead of halving it); the classifier trained in a context-free
    third window; the adaptive CSDP step (``csdp_step="rmsprop"``, rate 3e-4,
    :data:`brian_edff.models.RMS_CSDP_ON_PRE`); head rate 0.05; initial
    weights U(-0.7, 0.7) (the author's: U(-1, 1)); 10 CSDP epochs, then 1
    epoch in which only the heads learn on the final representation. The
    set before the initial weights were narrowed is
    ``protocols/tuned_v4.json``; the plain-step set is
    ``protocols/tuned_v1.json``.
    """
    return Params(n_hidden1=500, n_hidden2=500, theta_g1=16.0, theta_g2=3.6,
                  csdp_step="rmsprop", eta=3e-4, w_decay=5e-5, eta_head=0.05,
                  head_window=True, chunk_windows=1200, epochs=10, head_epochs=1,
                  w_init=0.7)


def paper() -> Params:
    """The paper's circuit (784-3000-600, T = 50, the author's time constants)
    with the levers that make CSDP pay in ``tuned``.

    Goodness thresholds set to the random circuit's own goodness at these
    initial weights (21.0 for z1, 2.8 for z2: the mean per step of the
    frozen circuit over 500 mnist5k images, positive and negative windows
    alike); the per-cell adaptive CSDP step at rate 3e-4
    (``csdp_step="rmsprop_cell"``, :data:`brian_edff.models.RMS_CELL_CSDP_ON_PRE`:
    at this size it learns as well as the per-synapse step of ``tuned`` at
    the plain step's cost; the per-synapse set is ``protocols/paper_rmsprop.json``);
    the classifier trained in a context-free third window; head rate 0.05;
    initial weights U(-0.7, 0.7); 10 CSDP epochs, then 1 head-only epoch.
    Everything else is the author's (:func:`reference`).
    """
    return Params(theta_g1=21.0, theta_g2=2.8, csdp_step="rmsprop_cell", eta=3e-4,
                  w_decay=5e-5,
                  eta_head=0.05, head_window=True, chunk_windows=1200, epochs=10,
                  head_epochs=1, w_init=0.7)


PARAMETER_SETS = {"reference": reference, "fast": fast, "tuned": tuned, "paper": paper}


def read_json_object(path: str, error, what: str) -> dict:
    """A JSON object from ``path``; ``error`` names the file and the problem."""
    try:
        with open(path) as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except json.JSONDecodeError as err:
        raise error(f"{path}: malformed JSON ({err.msg}, line {err.lineno})") from None
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{path}: cannot read ({err})") from None
    if not isinstance(data, dict):
        raise error(f"{path}: must hold a JSON object")
    return data


def load_params(spec: str) -> Params:
    """A named set (``reference``, ``fast``, ``tuned``) or a JSON file path.

    A file's ``base`` is a named set (default ``reference``) or another
    parameter file, given as a path relative to the file that names it::

        {"base": "tuned_v4.json", "T": 70}

    Raises
    ------
    ParamsError
        Unknown name, unreadable or malformed file, a chain of files that
        loops, bad field.
    """
    if spec in PARAMETER_SETS:
        return PARAMETER_SETS[spec]()
    if not spec.endswith(".json"):
        raise ParamsError(f"unknown parameter set {spec!r}: use one of "
                          f"{', '.join(PARAMETER_SETS)} or a .json file")
    return _load_params_file(spec, chain=())


def _load_params_file(path: str, chain: tuple[str, ...]) -> Params:
    """The set a parameter file describes; ``chain`` holds the files naming it."""
    real = os.path.realpath(path)
    if real in chain:
        loop = " -> ".join([*chain[chain.index(real):], real])
        raise ParamsError(f"{path}: base files form a loop: {loop}")
    data = read_json_object(path, ParamsError, "parameter file")
    base_name = data.get("base", "reference")
    if not isinstance(base_name, str):
        raise ParamsError(f"{path}: base: must be a set name or a .json path, "
                          f"not {base_name!r}")
    if base_name in PARAMETER_SETS:
        base = PARAMETER_SETS[base_name]()
    elif base_name.endswith(".json"):
        base_path = os.path.join(os.path.dirname(path), base_name)
        try:
            base = _load_params_file(base_path, chain=(*chain, real))
        except ParamsError as err:
            raise ParamsError(f"{path}: base: {err}") from None
    else:
        raise ParamsError(f"{path}: base: unknown parameter set {base_name!r}: use "
                          f"one of {', '.join(PARAMETER_SETS)} or a .json file")
    try:
        return Params.from_dict(data, base=base)
    except ParamsError as err:
        raise ParamsError(f"{path}: {err}") from None
