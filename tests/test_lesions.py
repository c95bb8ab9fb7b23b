"""Lesions: a run-time switch of the circuit's values, never a new network."""

import numpy as np
import pytest
from brian2 import prefs
from test_circuit import N_INPUT, repeated, small_params, three_windows

from brian_edff.circuit import Circuit
from brian_edff.params import ParamsError, lesion_pathways
from brian_edff.stimuli import readout_plan
from brian_edff.training import initial_state, simulate


@pytest.fixture(autouse=True)
def numpy_target():
    prefs.codegen.target = "numpy"


def run_plan(params, state, plan):
    circuit = Circuit(params, N_INPUT, plan.n_windows, device="runtime", seed=3)
    return simulate(circuit, plan, state)


def test_lesioned_pathways_stay_silent_and_frozen_while_the_rest_learns():
    params = small_params()
    state = initial_state(params, N_INPUT, seed=5)
    plan = repeated(three_windows(), 2)
    intact, _ = run_plan(params, state, plan)
    lesioned, _ = run_plan(params.replace(lesions=["lateral", "V2"]), state, plan)
    for name in ("M1", "M2", "V2"):
        assert not lesioned.weights[name].any(), name
    for name in ("W1", "W2", "C1"):
        assert not np.array_equal(lesioned.weights[name], state.weights[name]), name
        assert not np.array_equal(lesioned.weights[name], intact.weights[name]), name


def test_lesion_of_a_zero_pathway_changes_nothing():
    params = small_params()
    state = initial_state(params, N_INPUT, seed=5)
    state.weights["V2"][:] = 0
    state.weights["Y1"][:] = 0
    images = np.random.default_rng(1).random((6, N_INPUT))
    plan = readout_plan(images, np.random.default_rng(2))
    plan.context_label[:] = np.arange(6) % params.n_labels     # context on: Y1 is read
    _, intact = run_plan(params, state, plan)
    _, lesioned = run_plan(params.replace(lesions=["V2", "Y1"]), state, plan)
    for name in ("z1", "z2", "zy"):
        np.testing.assert_array_equal(intact.counts[name], lesioned.counts[name])
    np.testing.assert_array_equal(intact.goodness, lesioned.goodness)
    np.testing.assert_array_equal(intact.recon, lesioned.recon)
    assert intact.counts["z1"].sum() > 0


def test_layer2_lesion_silences_layer2():
    params = small_params(lesions=["layer2"])
    state = initial_state(params, N_INPUT, seed=5)
    _, out = run_plan(params, state, three_windows())
    assert out.counts["z2"].sum() == 0 and out.counts["z1"].sum() > 0


def test_lesions_keep_the_compiled_network():
    params = small_params()
    circuit = Circuit(params, N_INPUT, 3, device="runtime")
    key = circuit.build_key()
    circuit.set_params(params.replace(lesions=["top-down", "context"]))
    assert circuit.build_key() == key
    assert lesion_pathways(["context", "top-down", "Y1"]) == ("V2", "Y1", "Y2")


def test_unknown_pathway_is_refused_by_name():
    with pytest.raises(ParamsError, match="lesions: unknown pathway 'V3'"):
        small_params(lesions=["V3"])
    with pytest.raises(ParamsError, match="lesions: must be a list of names"):
        small_params(lesions="V2")


def test_compiled_lesion_equals_runtime_lesion():
    """On the compiled device a lesion is the same run-time switch."""
    params = small_params(lesions=["lateral", "V2"])
    state = initial_state(params, N_INPUT, seed=5)
    plan = repeated(three_windows(), 2)
    runtime, runtime_out = run_plan(params, state, plan)
    circuit = Circuit(params, N_INPUT, plan.n_windows, device="standalone", threads=1)
    try:
        compiled, compiled_out = simulate(circuit, plan, state)
    finally:
        circuit.close()
    for name in ("M1", "M2", "V2"):
        assert not compiled.weights[name].any(), name
    for name, weights in runtime.weights.items():
        np.testing.assert_allclose(compiled.weights[name], weights, atol=1e-6, err_msg=name)
    np.testing.assert_array_equal(compiled_out.counts["z1"], runtime_out.counts["z1"])
