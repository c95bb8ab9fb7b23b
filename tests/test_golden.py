"""Hold the Brian2 circuit against trajectories of the author's implementation.

``tests/data/csdp_reference_T12.npz`` was recorded, step by step, from the
author's released JAX/ngc-learn implementation of CSDP (BSD-3 licensed;
Ororbia 2023, arXiv:2303.18187; Science Advances 10:eadn6076, 2024) on a tiny
circuit: 16 inputs, z1 = 8, z2 = 6, 10 labels, T = 12. Rows 0-1 are positive
windows, rows 2-3 negative windows. The author runs the four rows as one
batch with Adam; we run each row as its own window, inject the recorded
weights before every step and compare states (and raw updates) row by row.

The same comparisons run twice: on Brian2's runtime device (weights injected
and states read by network operations around every step) and on brian_edff's
compiled device (all rows in one build, weights injected between runs, states
recorded by monitors at the end of every step; two threads for the synaptic
event loops; marked slow, run with ``pytest -m slow``).
"""

import os

import numpy as np
import pytest
from brian2 import NetworkOperation, StateMonitor, ms, prefs

from brian_edff.circuit import PROJECTIONS, Circuit, float_precision
from brian_edff.params import Params
from brian_edff.stimuli import readout_plan

GOLDEN = os.path.join(os.path.dirname(__file__), "data", "csdp_reference_T12.npz")
#: Our projection names -> the author's.
AUTHOR_NAMES = {"W1": "W1", "V2": "V2", "Y1": "V2y", "M1": "M1", "W2": "W2",
                "Y2": "V3y", "M2": "M2", "C1": "C2", "C2": "C3", "R1": "R1"}
CSDP = ("W1", "V2", "Y1", "M1", "W2", "Y2", "M2")


@pytest.fixture(scope="module")
def golden():
    return dict(np.load(GOLDEN))


def golden_params(state_dtype="float64", **changes):
    """The recorded circuit; double precision unless ``state_dtype`` says otherwise."""
    params = Params(n_input=16, n_hidden1=8, n_hidden2=6, n_labels=10, T=12,
                    dt=3 * ms, tau_m=100 * ms, tau_tr=13 * ms, theta_g1=10.0,
                    theta_g2=10.0, eta=0.0, w_decay=0.0, eta_head=0.0, chunk_windows=1,
                    state_dtype=state_dtype)
    return params.replace(**changes).validate()


def weights_at(golden, step):
    """The author's weights after ``step - 1``'s update (1-based ``step``)."""
    key = "W0_{}" if step == 1 else "W_{}"
    out = {}
    for ours, theirs in AUTHOR_NAMES.items():
        w = golden[key.format(theirs)]
        out[ours] = np.array(w if step == 1 else w[step - 2], dtype=float)
    return out


def golden_plan(golden, rows):
    """One window per entry of ``rows`` (golden row indices): image, label, contrast."""
    rows = np.asarray(rows)
    labels = golden["Y_rows"][rows].argmax(axis=1)
    contrast = golden["contrast"][rows].astype(float)
    plan = readout_plan(golden["X_rows"][rows], np.random.default_rng(0))
    plan.context_label[:] = labels
    plan.target_label[:] = labels
    plan.y_target[:] = contrast
    plan.csdp_on[:] = 1.0
    plan.classifier_on[:] = contrast
    plan.recon_on[:] = contrast
    return plan


def run_row(golden, row, params):
    """Run row ``row`` step by step with injected weights; record everything."""
    with float_precision(params.state_dtype):
        return _run_row(golden, row, params)


def _run_row(golden, row, params):
    prefs.codegen.target = "numpy"
    # Double-precision weights: the tests below measure updates of 1e-4 on
    # weights of order 1, below float32 resolution.
    circuit = Circuit(params, n_input=16, n_windows=1, device="runtime",
                      weight_dtype="float64")
    plan = golden_plan(golden, [row])
    objs = circuit.build_network(plan)
    circuit.apply_constants(objs)
    pops, syn = objs["pops"], objs["synapses"]
    for name, key in (("z1", "thr0_z1"), ("z2", "thr0_z2"), ("zy", "thr0_zy"),
                      ("zR", "thr0_zR")):
        pops[name].theta_base = golden[key]
    record = {key: [] for key in ("z1_v", "z1_s", "z1_thr", "z2_v", "z2_thr", "tr1", "tr2",
                                  "G1", "G2", "d1", "d2", "zy_v", "zy_thr", "tr3", "ey",
                                  "zR_v", "zR_s", "tr0", "eR")}
    record["dW"] = {name: [] for name in syn}
    injected = {}

    def inject(t):
        # Spikes of this step reach the next one through the weights as they
        # stand after this step's update: inject those (plasticity measured on top).
        # zR integrates z1's spikes of the same step, through R1 as it stood
        # after the previous step.
        step = int(round(float(t / params.dt))) + 1
        before = weights_at(golden, step + 1) | {"R1": weights_at(golden, step)["R1"]}
        for proj in syn:
            syn[proj].w = circuit.dense_to_vector(_proj(proj), before[proj])
        injected.update(before)

    def read_states():
        circuit.settle_weights(objs)
        z1, z2, zy, zR = pops["z1"], pops["z2"], pops["zy"], pops["zR"]
        record["z1_v"].append(z1.v[:].copy())
        record["z1_s"].append(z1.s[:].copy())
        record["z1_thr"].append(z1.theta[:].copy())
        record["z2_v"].append(z2.v[:].copy())
        record["z2_thr"].append(z2.theta[:].copy())
        record["tr1"].append(z1.tr[:].copy())
        record["tr2"].append(z2.tr[:].copy())
        record["G1"].append(float(objs["summaries"]["z1"].G[0]))
        record["G2"].append(float(objs["summaries"]["z2"].G[0]))
        record["d1"].append(z1.d[:].copy())
        record["d2"].append(z2.d[:].copy())
        record["zy_v"].append(zy.v[:].copy())
        record["zy_thr"].append(zy.theta[:].copy())
        record["tr3"].append(zy.tr[:].copy())
        record["ey"].append(zy.err[:].copy())
        record["zR_v"].append(zR.v[:].copy())
        record["zR_s"].append(zR.s[:].copy())
        record["tr0"].append(zR.tr[:].copy())
        record["eR"].append(zR.err[:].copy())
        for proj in syn:
            after = circuit.vector_to_dense(_proj(proj), np.asarray(syn[proj].w[:]),
                                           dtype=float)
            record["dW"][proj].append(after - injected[proj])

    # One run of 12 steps (Brian2 generates the code once), weights injected
    # before and states read after every step by network operations.
    objs["net"].add(NetworkOperation(inject, dt=params.dt, when="start", order=-1000),
                    NetworkOperation(read_states, dt=params.dt, when="end", order=1000))
    objs["net"].run(12 * params.dt)
    counts = pops["zy"].count[:].copy()
    recon = pops["zR"].tr_sum[:].copy() / (params.T + 1)
    return {k: (np.array(v) if k != "dW" else {p: np.array(x) for p, x in v.items()})
            for k, v in record.items()} | {"y_count": counts, "s0_mu": recon}


def _proj(name):
    return next(p for p in PROJECTIONS if p.name == name)


#: States recorded at the end of every step on the compiled device:
#: (record key, population, variable).
RECORDED = (("z1_v", "z1", "v"), ("z1_s", "z1", "s"), ("z1_thr", "z1", "theta"),
            ("z2_v", "z2", "v"), ("z2_thr", "z2", "theta"), ("tr1", "z1", "tr"),
            ("tr2", "z2", "tr"), ("d1", "z1", "d"), ("d2", "z2", "d"), ("zy_v", "zy", "v"),
            ("zy_thr", "zy", "theta"), ("tr3", "zy", "tr"), ("ey", "zy", "err"),
            ("zR_v", "zR", "v"), ("zR_s", "zR", "s"), ("tr0", "zR", "tr"),
            ("eR", "zR", "err"), ("zy_count", "zy", "count"), ("zR_tr_sum", "zR", "tr_sum"))


def run_rows_compiled(golden, passes, directory):
    """Every row once per parameter set of ``passes``, in one compiled build.

    The windows run back to back (row 0..3 of the first pass, then of the
    next); before every step the author's weights are assigned, as in
    :func:`run_row`; monitors record the states at the end of every step.
    Returns one list of rows (records as :func:`run_row`'s) per pass.
    """
    from brian2 import device, set_device

    from brian_edff.device import DEVICE_NAME

    prefs.devices.cpp_standalone.openmp_threads = 0
    set_device(DEVICE_NAME, directory=directory, build_on_run=False, with_output=False)
    try:
        device.set_synapse_threads(2)
        n_rows, T = 4, passes[0].T
        plan = golden_plan(golden, np.tile(np.arange(n_rows), len(passes)))
        circuit = Circuit(passes[0], n_input=16, n_windows=plan.n_windows, device="runtime",
                          weight_dtype="float64")
        objs = circuit.build_network(plan)
        pops, syn, net = objs["pops"], objs["synapses"], objs["net"]
        monitors = {}
        for key, pop, var in RECORDED:
            monitors[key] = StateMonitor(pops[pop], var, record=True, when="end", order=100,
                                         name=f"golden_{key}")
        for layer in ("z1", "z2"):
            monitors[f"G_{layer}"] = StateMonitor(objs["summaries"][layer], "G", record=True,
                                                  when="end", order=100,
                                                  name=f"golden_G_{layer}")
        for proj in syn:
            # Standalone needs the synapse indices spelled out.
            n_synapses = len(circuit._indices(_proj(proj))[0])
            monitors[f"w_{proj}"] = StateMonitor(syn[proj], "w", record=np.arange(n_synapses),
                                                 when="end", order=100,
                                                 name=f"golden_w_{proj}")
        net.add(*monitors.values())
        for name, key in (("z1", "thr0_z1"), ("z2", "thr0_z2"), ("zy", "thr0_zy"),
                          ("zR", "thr0_zR")):
            pops[name].theta_base = golden[key]
        injected = []
        for params in passes:
            circuit.params = params
            circuit.apply_constants(objs)
            for _row in range(n_rows):
                for step in range(1, T + 1):
                    before = weights_at(golden, step + 1) | {
                        "R1": weights_at(golden, step)["R1"]}
                    for proj in syn:
                        syn[proj].w = circuit.dense_to_vector(_proj(proj), before[proj])
                    injected.append(before)
                    net.run(params.dt)
        device.build(directory=directory, compile=True, run=True, with_output=False)
        traces = {key: np.asarray(getattr(mon, var)).T
                  for (key, _pop, var), mon in zip(RECORDED, monitors.values())}
        traces["G1"] = np.asarray(monitors["G_z1"].G)[0]
        traces["G2"] = np.asarray(monitors["G_z2"].G)[0]
        weights = {proj: np.asarray(monitors[f"w_{proj}"].w).T for proj in syn}
    finally:
        device.reinit()
        device.activate()
        set_device("runtime")
    out = []
    for k in range(len(passes)):
        rows = []
        for row in range(n_rows):
            steps = slice((k * n_rows + row) * T, (k * n_rows + row + 1) * T)
            record = {key: traces[key][steps] for key in traces
                      if key not in ("zy_count", "zR_tr_sum")}
            record["dW"] = {proj: np.array([
                circuit.vector_to_dense(_proj(proj), weights[proj][n], dtype=float)
                - injected[n][proj] for n in range(steps.start, steps.stop)]) for proj in syn}
            record["y_count"] = traces["zy_count"][steps.stop - 1]
            record["s0_mu"] = traces["zR_tr_sum"][steps.stop - 1] / (T + 1)
            rows.append(record)
        out.append(rows)
    return out


#: Learning rates of the update tests: small, so that learning within a step
#: barely moves the states the comparison holds fixed.
ETA = 1e-3


#: The compiled device's fixture parameter: one build of its own (slow).
ON_DEVICE = pytest.param("standalone", marks=pytest.mark.slow)


def learning_params(state_dtype="float64"):
    return golden_params(state_dtype, eta=ETA, eta_head=ETA, w_bound=1e6)


@pytest.fixture(scope="module")
def compiled_rows(golden, tmp_path_factory):
    """State rows and learning rows from one build on brian_edff's device."""
    directory = str(tmp_path_factory.mktemp("golden_build"))
    return run_rows_compiled(golden, [golden_params(), learning_params()], directory)


#: The runtime device in both precisions (float32 is every named set's
#: default; the recordings hold for it to the same tolerances).
ON_RUNTIME = ["runtime", "runtime-float32"]


def _dtype(param):
    return "float32" if param.endswith("float32") else "float64"


@pytest.fixture(scope="module", params=ON_RUNTIME + [ON_DEVICE])
def state_rows(golden, request):
    if request.param == "standalone":
        return request.getfixturevalue("compiled_rows")[0]
    params = golden_params(_dtype(request.param))
    return [run_row(golden, row, params) for row in range(4)]


@pytest.mark.parametrize("row", range(4))
def test_states_match_author(golden, state_rows, row):
    ours = state_rows[row]
    # Spikes must match exactly.
    np.testing.assert_array_equal(ours["z1_s"], golden["z1_s"][:, row])
    np.testing.assert_array_equal(ours["zR_s"], golden["zR_s"][:, row])
    pairs = [("z1_v", "z1_v"), ("z1_thr", "z1_thr"), ("z2_v", "z2_v"),
             ("z2_thr", "z2_thr"), ("tr1", "tr1"), ("tr2", "tr2"), ("zy_v", "zy_v"),
             ("zy_thr", "zy_thr"), ("tr3", "tr3"), ("zR_v", "zR_v"), ("tr0", "tr0")]
    for mine, theirs in pairs:
        np.testing.assert_allclose(ours[mine], golden[theirs][:, row], atol=2e-5,
                                   err_msg=mine)
    np.testing.assert_allclose(ours["G1"], golden["G1"][:, row], atol=2e-5)
    np.testing.assert_allclose(ours["G2"], golden["G2"][:, row], atol=2e-5)
    # The author's modulator is the batch mean: m = d / 4.
    np.testing.assert_allclose(ours["d1"] / 4, golden["m1"][:, row], atol=2e-6)
    np.testing.assert_allclose(ours["d2"] / 4, golden["m2"][:, row], atol=2e-6)
    np.testing.assert_allclose(ours["y_count"], golden["y_count"][row])
    np.testing.assert_allclose(ours["s0_mu"], golden["s0_mu"][row], atol=2e-5)


def test_head_errors_match_author(golden, state_rows):
    """Classifier and reconstruction errors (author: divided by sum(c) = 2)."""
    for row in range(4):
        ours = state_rows[row]
        np.testing.assert_allclose(ours["ey"] / 2, golden["ey"][:, row], atol=2e-5)
        np.testing.assert_allclose(ours["eR"] / 2, golden["eR"][:, row], atol=2e-5)


@pytest.fixture(scope="module", params=ON_RUNTIME + [ON_DEVICE])
def learning_rows(golden, request):
    """All four rows with CSDP and both heads learning (they touch disjoint weights)."""
    if request.param == "standalone":
        return request.getfixturevalue("compiled_rows")[1]
    params = learning_params(_dtype(request.param))
    return [run_row(golden, row, params) for row in range(4)]


def test_csdp_updates_match_author(golden, learning_rows):
    """Sum over rows of our per-row CSDP step, / 4, equals the author's raw update."""
    eta, rows = ETA, learning_rows
    for name in CSDP:
        ours = sum(r["dW"][name] for r in rows) / (-eta * 4)
        theirs = golden[f"dWraw_{AUTHOR_NAMES[name]}"]
        before = np.array([weights_at(golden, s + 1)[name] for s in range(1, 13)])
        usable = np.ones_like(before, dtype=bool)
        if name.startswith("M"):
            # Lateral weights are clipped at 0: compare where no row hit the bound.
            usable = before > 1e-3
            np.fill_diagonal(usable[0], False)
        np.testing.assert_allclose(ours[usable], theirs[usable], atol=1e-5, err_msg=name)
    assert np.abs(golden["dWraw_W1"]).max() > 0.01  # the comparison is not vacuous


@pytest.mark.parametrize("state_dtype", ["float64", "float32"])
def test_decay_matches_author(golden, state_dtype):
    """Weight decay where the post cell fired and the pre cell had not."""
    lam = 1e-4
    params = golden_params(state_dtype, w_decay=lam, w_bound=1e6)
    rows = [run_row(golden, row, params) for row in range(4)]
    for name in ("W1", "Y1", "V2"):
        ours = sum(r["dW"][name] for r in rows)
        theirs = golden[f"decay_{AUTHOR_NAMES[name]}"]
        np.testing.assert_allclose(ours, theirs, atol=1e-7, err_msg=name)
    assert np.abs(golden["decay_W1"]).max() > 0


def test_head_updates_match_author(golden, learning_rows):
    """Classifier and reconstruction learning equal the author's Hebbian products."""
    eta, rows = ETA, learning_rows
    for name in ("C1", "C2", "R1"):
        # Author: pre^T (0.1 e) with e divided by sum(c) = 2.
        ours = sum(r["dW"][name] for r in rows) / (eta * 2)
        theirs = golden[f"hebbraw_{AUTHOR_NAMES[name]}"]
        np.testing.assert_allclose(ours, theirs, atol=1e-5, err_msg=name)
    assert np.abs(golden["hebbraw_R1"]).max() > 0
