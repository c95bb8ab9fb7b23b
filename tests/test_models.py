"""Neuron models as data: the default, the built-in variants and user files.

Each variant's mechanism is shown on a bare population of its hidden-layer
neurons under a controlled drive (Brian2's own style of testing a neuron
model), then each builds and learns inside the circuit on the runtime device
(and, in ``-m slow``, on the compiled device). Bad variants end with one line
and exit status 2 before anything is written.
"""

import os

import numpy as np
import pytest
from brian2 import Network, NeuronGroup, SpikeMonitor, StateMonitor, ms, prefs, second
from test_circuit import N_INPUT, small_params, three_windows

from brian_edff import models
from brian_edff.circuit import Circuit
from brian_edff.cli import main
from brian_edff.models import DEFAULT_MODEL, VARIANTS, Model, ModelError, load_model
from brian_edff.training import check_model, initial_state

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DT = 1 * ms


def bare_neurons(model: Model, n=1, drive=1.0, theta=0.05):
    """``n`` hidden-layer neurons of ``model`` with a constant excitatory drive.

    Plain Brian2: the model's equations, threshold, reset and refractoriness,
    with the circuit's constants; ``I_exc`` is held at ``drive`` (no
    bookkeeping clears it), the threshold is fixed.
    """
    group = NeuronGroup(n, model.eqs, threshold=model.threshold, reset=model.reset,
                        refractory=model.refractory or False, method=model.method, dt=DT,
                        namespace=model.namespace())
    group.tau_m, group.tau_tr, group.R_exc, group.R_inh = 10 * ms, 5 * ms, 1.0, 0.0
    group.theta = theta
    group.I_exc = drive
    return group


def firing(model, duration=500 * ms, **kwargs):
    prefs.codegen.target = "numpy"
    group = bare_neurons(model, **kwargs)
    spikes = SpikeMonitor(group)
    Network(group, spikes).run(duration)
    return np.asarray(spikes.t / second)


def test_default_model_is_the_module_strings():
    assert DEFAULT_MODEL.eqs == models.LIF_EQS and DEFAULT_MODEL.reset == models.LIF_RESET
    assert DEFAULT_MODEL.bookkeeping == models.LIF_BOOKKEEPING
    assert DEFAULT_MODEL.refractory is None and DEFAULT_MODEL.constants == {}
    assert Model.from_dict(DEFAULT_MODEL.to_dict()) == DEFAULT_MODEL
    assert load_model("default") is DEFAULT_MODEL
    digests = {m.digest() for m in VARIANTS.values()}
    assert len(digests) == len(VARIANTS), "every variant has its own build key"
    renamed = DEFAULT_MODEL.derive("same", "only the name differs")
    assert renamed.digest() == DEFAULT_MODEL.digest()


def test_adaptation_lowers_the_rate_under_constant_drive():
    plain = firing(DEFAULT_MODEL)
    adapted = firing(VARIANTS["adaptation"])
    assert len(plain) > 20
    assert len(adapted) < 0.8 * len(plain)
    isi = np.diff(adapted)
    assert isi[-5:].mean() > isi[:3].mean(), "inter-spike intervals lengthen"


def test_refractoriness_bounds_inter_spike_intervals():
    t_ref = float(VARIANTS["refractory"].namespace()["t_ref"])
    plain = firing(DEFAULT_MODEL, drive=5.0)
    refractory = firing(VARIANTS["refractory"], drive=5.0)
    assert np.diff(plain).min() < t_ref, "the drive must be strong enough to test anything"
    assert np.diff(refractory).min() > t_ref - 1e-9
    assert len(refractory) > 10


def test_synaptic_current_decays_with_its_time_constant():
    prefs.codegen.target = "numpy"
    model = VARIANTS["exp_synapses"]
    tau_syn = model.namespace()["tau_syn"]
    group = bare_neurons(model, drive=1.0, theta=1e9)
    trace = StateMonitor(group, "I_exc", record=0)
    Network(group, trace).run(30 * ms)
    steps = np.arange(len(trace.t))
    expected = (1 - float(DT / tau_syn)) ** steps  # the Euler step of dI/dt = -I / tau_syn
    np.testing.assert_allclose(trace.I_exc[0], expected, rtol=1e-9)
    assert trace.I_exc[0][-1] < 0.1


def test_conductance_drive_saturates_at_the_reversal_potential():
    prefs.codegen.target = "numpy"
    model = VARIANTS["conductance"]
    e_exc = model.namespace()["E_exc"]
    states = {}
    for name, m in (("plain", DEFAULT_MODEL), ("conductance", model)):
        group = bare_neurons(m, drive=5.0, theta=1e9)
        Network(group).run(200 * ms)
        states[name] = float(group.v[0])
    assert states["plain"] > 4.0
    assert states["conductance"] <= e_exc + 1e-9
    assert states["conductance"] > 0.9 * e_exc


@pytest.mark.parametrize("name", [n for n in VARIANTS if n != "default"])
def test_variant_builds_and_learns_on_runtime(name):
    prefs.codegen.target = "numpy"
    params = small_params(model=name)
    state = initial_state(params, N_INPUT, seed=5)
    result = Circuit(params, N_INPUT, 3).run(three_windows(), state.weights,
                                             state.theta_base)
    assert result.counts["z1"].sum() > 0
    assert np.abs(result.weights["W1"] - state.weights["W1"]).max() > 0


@pytest.mark.slow
@pytest.mark.standalone
@pytest.mark.parametrize("name", [n for n in VARIANTS if n != "default"])
def test_variant_builds_and_learns_on_the_device(name):
    params = small_params(model=name)
    state = initial_state(params, N_INPUT, seed=5)
    prefs.codegen.target = "numpy"
    runtime = Circuit(params, N_INPUT, 3).run(three_windows(), state.weights,
                                              state.theta_base)
    circuit = Circuit(params, N_INPUT, 3, device="standalone", threads=2,
                      weight_dtype="float32")
    try:
        compiled = circuit.run(three_windows(), state.weights, state.theta_base)
    finally:
        circuit.close()
    # Pixels are 0 or 1, so the input is deterministic: the device must agree.
    for layer in ("z1", "z2", "zy"):
        np.testing.assert_array_equal(compiled.counts[layer], runtime.counts[layer])
    np.testing.assert_allclose(compiled.weights["W1"], runtime.weights["W1"], atol=1e-6)


BAD_FILES = {
    "no_model.py": ("x = 1\n", "defines no MODEL"),
    "malformed.py": ("from brian_edff.models import DEFAULT_MODEL\n"
                     "MODEL = DEFAULT_MODEL.derive('bad', 'x', eqs=DEFAULT_MODEL.eqs + "
                     "'da/dt = -a / : 1\\n')\n", "cannot parse 'da/dt = -a / : 1'"),
    "missing.py": ("from brian_edff.models import DEFAULT_MODEL, LIF_RESET\n"
                   "MODEL = DEFAULT_MODEL.derive('bad', 'x', reset=LIF_RESET + "
                   "'\\nv = v - b_a')\n", "b_a"),
    "units.py": ("from brian_edff.models import DEFAULT_MODEL\n"
                 "MODEL = DEFAULT_MODEL.derive('bad', 'x', eqs=DEFAULT_MODEL.eqs + "
                 "'da/dt = -a / tau_a : 1\\n', constants={'tau_a': '0.3'})\n",
                 "DimensionMismatchError"),
    "crash.py": ("raise RuntimeError('boom')\n", "cannot run model file"),
}


@pytest.mark.parametrize("name", [*BAD_FILES, "nosuch"])
def test_bad_variants_end_with_one_line_and_write_nothing(tmp_path, capsys, name):
    if name == "nosuch":
        spec, message = "nosuch", "unknown variant 'nosuch'"
    else:
        text, message = BAD_FILES[name]
        spec = str(tmp_path / name)
        (tmp_path / name).write_text(text)
    out = tmp_path / "run"
    status = main(["train", "--dataset", "digits", "--params", "fast", "--model", spec,
                   "--device", "runtime", "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2, err[-2000:]
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], err[-2000:]
    assert not out.exists()


def test_user_file_variant_loads(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("from brian_edff.models import ADAPTATION_MODEL\n"
                    "MODEL = ADAPTATION_MODEL.derive('strong', 'more adaptation', "
                    "constants={'b_a': '0.05'})\n")
    model = check_model(str(path))
    assert model.name == "strong" and model.constants["b_a"] == "0.05"
    assert model.constants["tau_a"] == "300 ms"
    with pytest.raises(ModelError, match="not found"):
        load_model(str(tmp_path / "absent.py"))
