"""The Brian2 circuit equals an independent NumPy implementation, step by step.

The pattern of Brian2's own ``test_event_driven``: the same discrete-time
equations, written once as event-driven Brian2 code and once as dense NumPy
matrix algebra, must agree on fixed input spikes (pixels 0 or 1 make the
Bernoulli input deterministic), with every plasticity rule switched on.
"""

import numpy as np
import pytest
from brian2 import ms, prefs
from reference_numpy import ReferenceCircuit

from brian_edff.circuit import (
    PROJECTIONS,
    Circuit,
    float_precision,
    initial_synapse_state,
    upgrade_synapse_state,
)
from brian_edff.params import Params
from brian_edff.stimuli import WindowPlan
from brian_edff.training import CircuitState, initial_state, simulate

N_INPUT, T = 12, 10


def small_params(**changes):
    params = Params(n_input=N_INPUT, n_hidden1=7, n_hidden2=5, n_labels=4, T=T,
                    dt=1 * ms, tau_m=10 * ms, tau_tr=5 * ms, theta0=0.05,
                    theta_jitter=0.02, theta_min=0.01, rho_b=0.002, R_m=0.8, R_inh=0.3,
                    theta_g1=1.0, theta_g2=0.5, eta=0.05, w_decay=0.01, eta_head=0.1,
                    head_gain=0.5, chunk_windows=3, state_dtype="float64")
    return params.replace(**changes).validate()


def three_windows():
    """Positive, negative, context-free head window of one binary image."""
    rng = np.random.default_rng(3)
    pixels = (rng.random((3, N_INPUT)) < 0.5).astype(float)
    pixels[1] = pixels[0]
    pixels[2] = pixels[0]
    return WindowPlan(pixels=pixels, phase=rng.random((3, N_INPUT)),
                      context_label=np.array([2, 0, -1]), target_label=np.array([2, -1, 2]),
                      y_target=np.array([1.0, 0.0, 0.0]), csdp_on=np.array([1.0, 1.0, 0.0]),
                      classifier_on=np.array([1.0, 0.0, 1.0]),
                      recon_on=np.array([1.0, 0.0, 0.0]), image=np.zeros(3, dtype=int),
                      kind=np.array([1, 2, 3]))


def repeated(plan, times):
    """``plan`` shown ``times`` times in a row."""
    return WindowPlan(**{f: np.concatenate([getattr(plan, f)] * times)
                         for f in plan.__dataclass_fields__})


def run_reference(params, state, plan):
    ref = ReferenceCircuit(params, state.weights, state.theta_base)
    steps, windows = [], []
    for k in range(plan.n_windows):
        ref.start_window()
        for _ in range(params.T):
            steps.append(ref.step(plan.pixels[k], int(plan.context_label[k]),
                                  int(plan.target_label[k]), plan.y_target[k],
                                  plan.csdp_on[k], plan.classifier_on[k], plan.recon_on[k]))
        windows.append({"counts": {n: ref.count[n].copy() for n in ("z1", "z2", "zy")},
                        "goodness": ref.goodness.copy(),
                        "recon": ref.tr_sum / (params.T + 1)})
    return ref, steps, windows


#: Tolerance on states and weights per weight storage: the NumPy reference
#: keeps float64 weights, so float32 weights agree to their resolution only;
#: float64 weights prove the lazy decay exact.
TOLERANCE = {"float32": {"state": 1e-6, "weight": 1e-6},
             "float64": {"state": 1e-9, "weight": 1e-9}}


#: The homeostatic thresholds on the runtime device are slow tests: the
#: default suite holds them to the NumPy reference on the compiled device
#: (``test_device.py::test_device_equals_numpy_reference``).
@pytest.fixture(params=[("reference", "float32", "plain", 0.0),
                        ("consistent", "float64", "plain", 0.0),
                        ("reference", "float64", "rmsprop", 0.0),
                        ("consistent", "float64", "rmsprop_cell", 0.0),
                        pytest.param(("reference", "float64", "plain", 0.002),
                                     marks=pytest.mark.slow)],
                ids=["reference-float32", "consistent-float64", "rmsprop-float64",
                     "rmsprop_cell-float64", "homeostasis-float64"])
def setup(request):
    prefs.codegen.target = "numpy"
    lateral_sign, dtype, step, rho_h = request.param
    params = small_params(lateral_sign=lateral_sign, csdp_step=step, eta=0.01,
                          tau_rms=20 * ms, rho_h=rho_h)
    state = initial_state(params, N_INPUT, seed=5)
    return params, state, three_windows(), dtype


def test_step_by_step_equals_numpy(setup):
    params, state, plan, dtype = setup
    _, ref_steps, _ = run_reference(params, state, plan)
    circuit = Circuit(params, N_INPUT, plan.n_windows, device="runtime", weight_dtype=dtype)
    objs = circuit.build_network(plan)
    circuit.apply_constants(objs)
    for proj in PROJECTIONS:
        objs["synapses"][proj.name].w = circuit.dense_to_vector(proj, state.weights[proj.name])
    for name, values in state.theta_base.items():
        objs["pops"][name].theta_base = values
    pops = objs["pops"]
    spiking_steps = 0
    for step, ref in enumerate(ref_steps):
        objs["net"].run(params.dt)
        mine = {"v1": pops["z1"].v[:], "v2": pops["z2"].v[:], "theta1": pops["z1"].theta[:],
                "theta2": pops["z2"].theta[:], "tr1": pops["z1"].tr[:],
                "tr2": pops["z2"].tr[:], "G1": objs["summaries"]["z1"].G[0],
                "G2": objs["summaries"]["z2"].G[0], "d1": pops["z1"].d[:],
                "d2": pops["z2"].d[:], "vy": pops["zy"].v[:], "vR": pops["zR"].v[:]}
        for key, value in ref.items():
            np.testing.assert_allclose(mine[key], value, atol=TOLERANCE[dtype]["state"],
                                       err_msg=f"{key} at step {step}")
        spiking_steps += int(pops["z1"].s[:].sum() > 0)
    assert spiking_steps > 5, "the test circuit must spike to test anything"


def test_chunk_run_equals_numpy(setup):
    params, state, plan, dtype = setup
    ref, _, windows = run_reference(params, state, plan)
    circuit = Circuit(params, N_INPUT, plan.n_windows, device="runtime", weight_dtype=dtype)
    result = circuit.run(plan, state.weights, state.theta_base)
    for proj in PROJECTIONS:
        np.testing.assert_allclose(result.weights[proj.name], ref.W[proj.name],
                                   atol=TOLERANCE[dtype]["weight"],
                                   err_msg=proj.name)
        if proj.name not in ("Y1", "Y2"):  # context rows of unused labels stay put
            moved = np.abs(result.weights[proj.name] - state.weights[proj.name]).max()
            assert moved > 0, f"{proj.name} did not learn"
    for k, window in enumerate(windows):
        for name in ("z1", "z2", "zy"):
            np.testing.assert_array_equal(result.counts[name][k], window["counts"][name])
        np.testing.assert_allclose(result.goodness[k], window["goodness"],
                                   atol=TOLERANCE[dtype]["state"])
        np.testing.assert_allclose(result.recon[k], window["recon"], atol=1e-6)
    if params.rho_h > 0:
        for name in ("z1", "z2"):
            np.testing.assert_allclose(result.synapse_state[f"{name}.h"], ref.h[name],
                                       atol=1e-12, err_msg=f"{name}.h")
            assert np.abs(ref.h[name]).max() > 0, f"{name}'s offsets did not move"


def test_frozen_windows_do_not_learn():
    prefs.codegen.target = "numpy"
    params = small_params()
    state = initial_state(params, N_INPUT, seed=1)
    plan = three_windows()
    for name in ("csdp_on", "classifier_on", "recon_on"):
        getattr(plan, name)[:] = 0.0
    result = Circuit(params, N_INPUT, 3).run(plan, state.weights, state.theta_base)
    for proj in PROJECTIONS:
        np.testing.assert_array_equal(result.weights[proj.name], state.weights[proj.name])
    assert result.counts["z1"].sum() > 0


@pytest.mark.parametrize("gain", [0.5, 2.0])
def test_input_gain_scales_the_input_rate(gain):
    """``input_gain`` makes a pixel of intensity x spike with probability min(gain x, 1)."""
    prefs.codegen.target = "numpy"
    params = small_params(input_gain=gain, T=40)
    state = initial_state(params, N_INPUT, seed=2)
    plan = three_windows()
    plan.pixels[:] = 0.3
    result = Circuit(params, N_INPUT, 3, record_spikes=True).run(
        plan, state.weights, state.theta_base)
    draws = 3 * params.T * N_INPUT
    rate = len(result.spikes["z0"][0]) / draws
    expected = min(gain * 0.3, 1.0)
    assert abs(rate - expected) < 4 * np.sqrt(expected * (1 - expected) / draws), rate


def test_lazy_decay_equals_eager_decay():
    """Settling decays lazily gives the weights of the eager column sweep."""
    prefs.codegen.target = "numpy"
    params = small_params(w_decay=0.02)
    state = initial_state(params, N_INPUT, seed=6)
    plan = three_windows()
    results = [Circuit(params, N_INPUT, plan.n_windows, device="runtime",
                       weight_dtype="float64", lazy_decay=lazy).run(
                           plan, state.weights, state.theta_base) for lazy in (True, False)]
    for proj in PROJECTIONS:
        np.testing.assert_allclose(results[0].weights[proj.name],
                                   results[1].weights[proj.name], atol=1e-12,
                                   err_msg=proj.name)
    decayed = results[0].weights["M1"] - state.weights["M1"]
    assert (decayed < 0).any(), "the lateral weights must decay for the test to mean anything"



def test_adaptive_step_carries_over_chunks():
    """The adaptive step's state crosses chunk boundaries exactly (its event
    times are rebased at each chunk's end), on the compiled-free runtime."""
    _, state_after, ref, duration = two_chunks_against_reference("rmsprop")
    assert_adaptive_state_equals(state_after.synapse_state, ref, duration)


def two_chunks_against_reference(step):
    """Six windows in two chunks of three on the runtime device, state handed
    over, against the NumPy reference run through: weights equal, and
    (params, state after, reference, duration) returned."""
    prefs.codegen.target = "numpy"
    params = small_params(csdp_step=step, eta=0.01, tau_rms=20 * ms)
    state = initial_state(params, N_INPUT, seed=8)
    plan6 = repeated(three_windows(), 2)
    ref, _, _ = run_reference(params, state, plan6)
    circuit = Circuit(params, N_INPUT, 3, device="runtime", weight_dtype="float64")
    state_after, _ = simulate(circuit, plan6, state)
    for proj in PROJECTIONS:
        np.testing.assert_allclose(state_after.weights[proj.name], ref.W[proj.name],
                                   atol=1e-9, err_msg=proj.name)
    return params, state_after, ref, plan6.n_windows * params.window


def test_per_cell_adaptive_step_carries_over_chunks():
    """The per-cell adaptive step's running mean squares cross chunk
    boundaries (they are per-cell state, carried like the weights)."""
    _, state_after, ref, _ = two_chunks_against_reference("rmsprop_cell")
    assert "z1.d_ms" in state_after.synapse_state and "z2.d_ms_norm" in state_after.synapse_state
    for layer in ("z1", "z2"):
        np.testing.assert_allclose(state_after.synapse_state[f"{layer}.d_ms"],
                                   ref.d_ms[layer], rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(state_after.synapse_state[f"{layer}.d_ms_norm"],
                                   ref.d_ms_norm[layer], rtol=1e-9)
    assert ref.d_ms_norm["z1"].min() > 1 and ref.d_ms["z1"].max() > 0, \
        "the running mean squares must accumulate for the test to mean anything"


def assert_adaptive_state_equals(mine, ref, duration):
    """The circuit's adaptive-step state (``g2`` per synapse, ``g2_norm`` and
    ``t_csdp`` per presynaptic cell, times rebased to the end of the run)
    against the NumPy reference's per-synapse arrays."""
    pre = {proj.name: proj.pre for proj in PROJECTIONS}
    for name, rms in ref.rms.items():
        mask = np.ones_like(rms["g2"], dtype=bool)
        if name in ("M1", "M2"):
            np.fill_diagonal(mask, False)
        np.testing.assert_allclose(mine[f"{name}.g2"][mask], rms["g2"][mask],
                                   rtol=1e-9, atol=1e-15, err_msg=name)
        rows = np.broadcast_to(mine[f"{pre[name]}.g2_norm"][:, None], mask.shape)
        np.testing.assert_allclose(rows[mask], rms["norm"][mask], rtol=1e-9, err_msg=name)
        seen = rms["norm"] > 0
        times = np.broadcast_to(mine[f"{pre[name]}.t_csdp"][:, None], mask.shape)
        np.testing.assert_allclose((times + float(duration))[mask & seen],
                                   rms["t_last"][mask & seen], atol=1e-12, err_msg=name)
    assert mine["z0.g2_norm"].max() > 1, \
        "some cell must see several events for the test to mean anything"


def test_older_adaptive_state_is_upgraded():
    """Per-synapse ``g2_norm`` and ``t_last`` of older checkpoints become the
    per-cell state of today's layout, and the circuit accepts them."""
    params = small_params(csdp_step="rmsprop")
    fresh = initial_synapse_state(params, N_INPUT)
    rng = np.random.default_rng(0)
    old = {k: v for k, v in fresh.items() if k.endswith(".g2")}
    per_cell = {}
    for proj in PROJECTIONS:
        if proj.rule == "csdp":
            n_pre, n_post = old[f"{proj.name}.g2"].shape
            per_cell.setdefault(proj.pre, (rng.uniform(1, 2, n_pre), rng.uniform(-1, 0, n_pre)))
            norm, t_last = per_cell[proj.pre]
            old[f"{proj.name}.g2_norm"] = np.repeat(norm[:, None], n_post, axis=1)
            old[f"{proj.name}.t_last"] = np.repeat(t_last[:, None], n_post, axis=1)
            if proj.inhibitory:
                np.fill_diagonal(old[f"{proj.name}.g2_norm"], 0)
                np.fill_diagonal(old[f"{proj.name}.t_last"], 0)
    upgraded = upgrade_synapse_state(old)
    assert set(upgraded) == set(fresh)
    for pop, (norm, t_last) in per_cell.items():
        np.testing.assert_array_equal(upgraded[f"{pop}.g2_norm"], norm)
        np.testing.assert_array_equal(upgraded[f"{pop}.t_csdp"], t_last)
    # Checkpoints are upgraded where they are read.
    state = initial_state(params, N_INPUT, seed=0)
    arrays = {**state.weights, **{f"theta_{k}": v for k, v in state.theta_base.items()},
              **old}
    assert set(CircuitState.from_arrays(arrays).synapse_state) == set(fresh)


def test_synapse_order_is_pre_major():
    """Brian2 creates the synapses in the order dense_to_vector assumes."""
    prefs.codegen.target = "numpy"
    params = small_params()
    circuit = Circuit(params, N_INPUT, 1, device="runtime")
    objs = circuit.build_network(three_windows().select(slice(0, 1)))
    for proj in PROJECTIONS:
        syn = objs["synapses"][proj.name]
        ii, jj = circuit._indices(proj)
        np.testing.assert_array_equal(syn.i[:], ii, err_msg=proj.name)
        np.testing.assert_array_equal(syn.j[:], jj, err_msg=proj.name)


@pytest.mark.parametrize("step", ["plain", "rmsprop"])
def test_float32_state_equals_numpy(step):
    """``state_dtype="float32"`` stores the cells' state (and the adaptive
    step's ``g2``) in single precision, as the author's code does: the same
    spikes as the float64 NumPy reference, states and weights to float32
    resolution."""
    prefs.codegen.target = "numpy"
    params = small_params(state_dtype="float32", csdp_step=step, eta=0.01,
                          tau_rms=20 * ms)
    state = initial_state(params, N_INPUT, seed=5)
    plan = three_windows()
    ref, _, windows = run_reference(params, state, plan)
    circuit = Circuit(params, N_INPUT, plan.n_windows, device="runtime")
    with float_precision("float32"):
        objs = circuit.build_network(plan)
    stored = {"z1.v": objs["pops"]["z1"].v, "z1.I_exc": objs["pops"]["z1"].I_exc,
              "z2.d": objs["pops"]["z2"].d, "zR.tr": objs["pops"]["zR"].tr,
              "z1_summary.G": objs["summaries"]["z1"].G,
              "W1.eta": objs["synapses"]["W1"].eta, "W1.w_min": objs["synapses"]["W1"].w_min,
              "z1.theta_min": objs["pops"]["z1"].theta_min}
    if step == "rmsprop":
        stored["W1.g2"] = objs["synapses"]["W1"].g2
        stored["z0.g2_norm"] = objs["pops"]["z0"].g2_norm
    for name, variable in stored.items():
        assert np.asarray(variable[:]).dtype == np.float32, name
    # variables with units (time constants, event times) stay double, like Brian2's clock
    assert np.asarray(objs["pops"]["z1"].tau_m[:]).dtype == np.float64
    if step == "rmsprop":
        assert np.asarray(objs["pops"]["z0"].t_csdp[:]).dtype == np.float64
    result = circuit.run(plan, state.weights, state.theta_base)
    for proj in PROJECTIONS:
        np.testing.assert_allclose(result.weights[proj.name], ref.W[proj.name],
                                   atol=2e-5, err_msg=proj.name)
    for k, window in enumerate(windows):
        for name in ("z1", "z2", "zy"):
            np.testing.assert_array_equal(result.counts[name][k], window["counts"][name])
        np.testing.assert_allclose(result.goodness[k], window["goodness"], rtol=1e-5)
    assert result.counts["z1"].sum() > 0
