"""brian_edff's device (``edff_standalone``) against Brian2's ``cpp_standalone``.

The device replaces only the loop around Brian2's generated synapse
statements, so it must compute exactly what ``cpp_standalone`` computes: the
same spikes and, with float64 weights, bit-identical weights and readouts,
for one thread and for two (threads own disjoint targets and keep every
sum's order). It must also equal the independent NumPy reference, run a
model edit, and handle what the circuit does not use (subgroups, unsorted or
sparse connectivity, several synapses per pair, writes to presynaptic
variables, delays, ``on_post``, random numbers in statements).

Every test compiles standalone projects (about a minute each on 2 cores; the
builds of one shape are cached between tests, and one build runs with any
thread count). The default suite builds once: the device with two threads
against the NumPy reference, and readout chunks two at a time. The
comparisons with ``cpp_standalone`` (one more build each), the model-edit and
generic-network tests are marked slow (``pytest -m slow``).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_circuit import (
    N_INPUT,
    TOLERANCE,
    assert_adaptive_state_equals,
    repeated,
    run_reference,
    small_params,
    three_windows,
)

from brian_edff import models
from brian_edff.circuit import PROJECTIONS, Circuit
from brian_edff.device import (
    HUGE_PAGES_TUNABLE,
    hoist_shared_loads,
    huge_pages_tunables,
    independent_rows,
    inline_math,
    may_vectorise,
    thread_safe_by_target,
    vectorisable,
)
from brian_edff.stimuli import WindowPlan, readout_plan
from brian_edff.training import initial_state, read_out, simulate

pytestmark = pytest.mark.standalone


def random_plan(n_windows, seed):
    """Training-like windows with grey pixels (random Bernoulli input)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n_windows)
    positive = np.arange(n_windows) % 2 == 0
    wrong = (labels + 1 + rng.integers(0, 3, n_windows)) % 4
    return WindowPlan(pixels=rng.random((n_windows, N_INPUT)),
                      phase=rng.random((n_windows, N_INPUT)),
                      context_label=np.where(positive, labels, wrong),
                      target_label=np.where(positive, labels, -1),
                      y_target=positive.astype(float), csdp_on=np.ones(n_windows),
                      classifier_on=positive.astype(float), recon_on=positive.astype(float),
                      image=np.arange(n_windows), kind=np.where(positive, 1, 2))


def run_chunks(device, threads, n_chunks=2, step="plain", state_dtype="float64"):
    """Two chunks of learning windows, weights handed over; all readouts (and
    the build's directory).

    With the adaptive step the hidden layers are wider (41 and 23 cells), so
    that its vectorised rows run full vectors and a remainder at every width.
    """
    adaptive = ({"csdp_step": step, "eta": 0.01, "n_hidden1": 41, "n_hidden2": 23}
                if step != "plain" else {})
    params = small_params(w_decay=0.02, state_dtype=state_dtype, **adaptive)
    state = initial_state(params, N_INPUT, seed=7)
    circuit = Circuit(params, N_INPUT, 3, device=device, threads=threads,
                      weight_dtype="float64", record_spikes=True)
    results, weights = [], state.weights
    try:
        for chunk in range(n_chunks):
            result = circuit.run(random_plan(3, seed=chunk), weights, state.theta_base)
            weights = result.weights
            results.append(result)
    finally:
        circuit.close()
    return state, results, circuit.build_dir


@pytest.fixture(scope="module")
def plain_runs():
    return {}


@pytest.mark.slow
@pytest.mark.parametrize("step, threads, state_dtype", [
    ("plain", 1, "float64"), ("plain", 2, "float64"), ("rmsprop", 1, "float64"),
    ("rmsprop", 2, "float64"), ("rmsprop", 1, "float32"), ("rmsprop", 2, "float32"),
    ("rmsprop_cell", 2, "float32")])
def test_device_equals_cpp_standalone(plain_runs, step, threads, state_dtype):
    """Bit-identical to cpp_standalone, with float64 and with float32 cell state."""
    key = (step, state_dtype)
    if key not in plain_runs:
        plain_runs[key] = run_chunks("cpp_standalone", 0, step=step, state_dtype=state_dtype)
    state, plain, _ = plain_runs[key]
    _, ours, build_dir = run_chunks("standalone", threads, step=step, state_dtype=state_dtype)
    if state_dtype == "float32":  # single precision throughout: constants, loop invariants
        learn = (Path(build_dir) / "code_objects").glob("W1_learn_codeobject*.cpp")
        code = "".join(path.read_text() for path in learn)
        assert "const float eta = " in code and "double _lio" not in code
    if step == "rmsprop":  # the square root is inlined; the square stays in the state precision
        learn = (Path(build_dir) / "code_objects").glob("W1_learn_codeobject*.cpp")
        code = "".join(path.read_text() for path in learn)
        assert "_edff_sqrt(g2 * g2_inv_norm_pre)" in code and "(g * g)" in code
    # The layer summaries take the device's one-target summed-variable path.
    summaries = list((Path(build_dir) / "code_objects").glob(
        "z*_to_summary_summed_variable_*.cpp"))
    assert summaries and all("_edff_sum" in path.read_text() for path in summaries)
    # Thresholders take the two-pass path; the modulators read the summary once.
    code_objects = Path(build_dir) / "code_objects"
    thresholders = list(code_objects.glob("z[12]_*thresholder_codeobject*.cpp"))
    assert thresholders and all("_edff_conditions" in path.read_text()
                                for path in thresholders)
    # The input's condition draws a random number per cell: Brian2's loop.
    inputs = list(code_objects.glob("z0_spike_thresholder_codeobject*.cpp"))
    assert inputs and not any("_edff_conditions" in path.read_text() for path in inputs)
    modulators = list(code_objects.glob("z[12]_modulator_codeobject*.cpp"))
    assert modulators and all("shared values the loop reads" in path.read_text()
                              for path in modulators)
    assert sum(r.counts["z1"].sum() for r in plain) > 0, "the circuit must spike"
    for mine, theirs in zip(ours, plain):
        for proj in PROJECTIONS:
            np.testing.assert_array_equal(mine.weights[proj.name], theirs.weights[proj.name],
                                          err_msg=proj.name)
        for name in ("z1", "z2", "zy"):
            np.testing.assert_array_equal(mine.counts[name], theirs.counts[name])
        np.testing.assert_array_equal(mine.goodness, theirs.goodness)
        np.testing.assert_array_equal(mine.recon, theirs.recon)
        np.testing.assert_array_equal(mine.goodness_steps, theirs.goodness_steps)
        for name, (i, t) in theirs.spikes.items():
            np.testing.assert_array_equal(mine.spikes[name][0], i, err_msg=name)
            np.testing.assert_array_equal(mine.spikes[name][1], t, err_msg=name)
    moved = max(np.abs(plain[-1].weights[p.name] - state.weights[p.name]).max()
                for p in PROJECTIONS)
    assert moved > 0, "the weights must learn for the comparison to mean anything"


@pytest.fixture(scope="module")
def homeostatic_circuit():
    """The device's build of the small circuit with homeostatic thresholds
    (two synaptic threads by default)."""
    params = small_params(rho_h=0.002)
    circuit = Circuit(params, N_INPUT, 3, device="standalone", threads=2,
                      weight_dtype="float64", record_spikes=True)
    yield circuit
    circuit.close()


def test_device_equals_numpy_reference(homeostatic_circuit):
    """Fixed input spikes, every rule on, homeostatic thresholds included: the
    device agrees with the NumPy reference (the golden tests cover the
    device without them)."""
    circuit = homeostatic_circuit
    params = circuit.params
    state = initial_state(params, N_INPUT, seed=5)
    plan = three_windows()
    ref, _, windows = run_reference(params, state, plan)
    result = circuit.run(plan, state.weights, state.theta_base)
    for proj in PROJECTIONS:
        np.testing.assert_allclose(result.weights[proj.name], ref.W[proj.name],
                                   atol=TOLERANCE["float64"]["weight"], err_msg=proj.name)
    for k, window in enumerate(windows):
        for name in ("z1", "z2", "zy"):
            np.testing.assert_array_equal(result.counts[name][k], window["counts"][name])
        np.testing.assert_allclose(result.goodness[k], window["goodness"], atol=1e-9)
    for name in ("z1", "z2"):
        np.testing.assert_allclose(result.synapse_state[f"{name}.h"], ref.h[name],
                                   atol=1e-12, err_msg=f"{name}.h")
    assert result.counts["z1"].sum() > 0


def test_independent_chunks_at_once_equal_chunk_by_chunk(homeostatic_circuit):
    """Readout chunks run two binaries at once (one synaptic thread each) and
    give what the same build gives chunk by chunk on two threads: the
    device's thread count is the run's, and no chunk depends on another."""
    circuit = homeostatic_circuit
    state = initial_state(circuit.params, N_INPUT, seed=6)
    images = np.random.default_rng(3).random((8, N_INPUT))
    plan = readout_plan(images, np.random.default_rng(4))  # 3 chunks, the last padded
    _, serial = simulate(circuit, plan, state)
    at_once = read_out(circuit, plan, state, jobs=2)
    assert serial.counts["z1"].sum() > 0 and np.ptp(serial.goodness) > 0
    for name in ("z1", "z2", "zy"):
        np.testing.assert_array_equal(at_once.counts[name], serial.counts[name], err_msg=name)
    np.testing.assert_array_equal(at_once.goodness, serial.goodness)
    np.testing.assert_array_equal(at_once.recon, serial.recon)
    learning = three_windows()
    with pytest.raises(ValueError, match="switches learning on"):
        circuit.run_independent([learning], state.weights, state.theta_base)
    with pytest.raises(ValueError, match="jobs: must be an integer >= 1"):
        circuit.run_independent([plan.select(slice(0, 3))], state.weights,
                                state.theta_base, jobs=0)


@pytest.mark.slow
def test_model_edit_builds_and_runs():
    """A variant derived as in models.py's docstring runs on the device and
    lowers the rates."""
    params = small_params(eta=0.0, w_decay=0.0, eta_head=0.0)
    state = initial_state(params, N_INPUT, seed=5)
    plan = three_windows()
    plain = Circuit(params, N_INPUT, 3, device="runtime").run(
        plan, state.weights, state.theta_base)
    edited = models.ADAPTATION_MODEL.derive(
        "my_adaptation", "strong, fast adaptation",
        constants={"tau_a": "50 ms", "b_a": "0.5"})
    circuit = Circuit(params, N_INPUT, 3, device="standalone", model=edited)
    try:
        adapted = circuit.run(plan, state.weights, state.theta_base)
    finally:
        circuit.close()
    assert 0 < adapted.counts["z1"].sum() < plain.counts["z1"].sum()


def test_loops_that_draw_random_numbers_are_not_vectorisable():
    assert vectorisable("const char _cond = v > theta;")
    assert not vectorisable("const char _cond = _rand(_vectorisation_idx) < (dt * rates);")
    assert not vectorisable("x += _randn(_vectorisation_idx);")
    assert not vectorisable("const char _cond = exp(v) > theta;")
    assert vectorisable("const char _cond = operand < theta;")   # not a call of rand


def test_inline_math_renames_only_the_library_calls():
    code = ("g2 = (rms * g2) + (_brian_pow(g, 2));\n"
            "w = w - eta * g / (eps + sqrt(g2 * inv));\n"
            "y = std::sqrt(x) + mysqrt(x) + a.sqrt(x) + sqrtx;")
    assert inline_math(code) == (
        "g2 = (rms * g2) + (_edff_pow(g, 2));\n"
        "w = w - eta * g / (eps + _edff_sqrt(g2 * inv));\n"
        "y = std::sqrt(x) + mysqrt(x) + a.sqrt(x) + sqrtx;")
    assert inline_math(["a = sqrt(b)", "c = d"]) == "a = _edff_sqrt(b)\nc = d"


def test_thread_safety_analysis():
    """Statements are split by target only when that cannot change a result."""
    idx = {"w": "_idx", "v_post": "_postsynaptic_idx", "x_pre": "_presynaptic_idx",
           "c": "0"}
    post = "_postsynaptic_idx"
    assert thread_safe_by_target({None: "v_post += w\nw = clip(w - v_post, 0, 1)"}, idx, post)
    assert not thread_safe_by_target({None: "x_pre += w"}, idx, post)
    assert not thread_safe_by_target({None: "c += w"}, idx, post)
    assert not thread_safe_by_target({None: "w += 0.1 * randn()"}, idx, post)
    # A postsynaptic pathway owns presynaptic targets.
    assert thread_safe_by_target({None: "x_pre += w"}, idx, "_presynaptic_idx")


def test_independent_rows_analysis():
    """A row is declared free of dependences only where no array written
    through the target index is read through another one."""
    z1_v, z1_x, w, c = object(), object(), object(), object()
    post = "_postsynaptic_idx"
    idx = {"w": "_idx", "v_post": post, "x_pre": "_presynaptic_idx", "c": "0",
           "v_pre": "_presynaptic_idx"}
    variables = {"w": w, "v_post": z1_v, "x_pre": z1_x, "c": c}
    assert independent_rows({None: "v_post += w\nw = clip(w - x_pre, 0, 1)"}, variables,
                             idx, post)
    # Recurrent: the target's v is also read as the source's v.
    recurrent = dict(variables, v_pre=z1_v)
    assert not independent_rows({None: "v_post += w * v_pre"}, recurrent, idx, post)
    # Reading a written synaptic variable is fine; so is reading v_pre when
    # only synaptic variables are written.
    assert independent_rows({None: "w = clip(w - v_pre, 0, 1)"}, recurrent, idx, post)
    # Not thread-safe by target, not independent.
    assert not independent_rows({None: "x_pre += w"}, variables, idx, post)
    assert not independent_rows({None: "w += 0.1 * randn()"}, variables, idx, post)


def test_shared_loads_move_before_the_loop():
    """Only loads at index 0 of arrays the loop does not write move out, and
    nothing moves (or vectorises anew) where a math function is called."""
    code = ("const float n_spikes = _ptr_array_summary_n_spikes[0];\n"
            "const float c = _ptr_array_counter[0];\n"
            "float theta = _ptr_array_z1_theta[_idx];\n"
            "theta = theta + n_spikes + c;\n"
            "_ptr_array_counter[0] = c + 1;\n"
            "_ptr_array_z1_theta[_idx] = theta;")
    loads, rest = hoist_shared_loads(code)
    assert loads == "const float n_spikes = _ptr_array_summary_n_spikes[0];"
    assert rest == "\n".join(line for line in code.split("\n") if line != loads)
    assert hoist_shared_loads(code.split("\n"))[0] == loads
    assert not may_vectorise("theta = theta * exp(-dt / tau);")
    assert not may_vectorise("x = _brian_pow(y, 2);")
    assert may_vectorise("theta = _clip(theta + rho_b * n_spikes, theta_min, INFINITY);")
    with_exp = code.replace("theta + n_spikes", "expf(theta) + n_spikes")
    assert hoist_shared_loads(with_exp) == ("", with_exp)


GENERIC_NETWORK = os.path.join(os.path.dirname(__file__), "generic_network.py")


@pytest.mark.slow
def test_generic_network_equals_cpp_standalone(tmp_path):
    """Subgroups, sparse/unsorted synapses, pre writes, delays, on_post, randn,
    summed variables (onto one cell and onto many), thresholders with
    refractoriness and a custom event that draws random numbers."""
    outputs = {}
    for device, threads in (("cpp_standalone", 0), ("edff_standalone", 2)):
        out = tmp_path / f"{device}.npz"
        # A split threshold of 40 synapses: some steps' rows are split over the
        # threads, others run on one (devices.edff_standalone.min_parallel_synapses).
        subprocess.run([sys.executable, GENERIC_NETWORK, device, str(threads),
                        str(tmp_path / device), str(out), "40"], check=True,
                       capture_output=True)
        with np.load(out) as data:
            outputs[device] = {k: data[k] for k in data.files}
    plain, ours = outputs["cpp_standalone"], outputs["edff_standalone"]
    assert len(plain["spikes_i"]) > 100
    assert np.ptp(plain["summary_count"]) > 0 and np.ptp(plain["summary_total"]) > 0
    assert len(plain["refractory_i"]) > 100 and len(plain["burst_i"]) > 100
    assert np.ptp(plain["z_target"]) > 0
    assert set(plain) == set(ours)
    for key in plain:
        if key in CONTRACTION_SENSITIVE:
            np.testing.assert_allclose(ours[key], plain[key], rtol=0, atol=1e-12, err_msg=key)
        else:
            np.testing.assert_array_equal(ours[key], plain[key], err_msg=key)


#: Outputs of the generic network that may differ in the last bits: in the
#: ``dense_on_post`` pathway the source neuron's ``v_post`` is the same for a
#: whole row, so gcc hoists ``0.01 * v_post`` out of the row loop and rounds it,
#: where plain cpp_standalone fuses it into ``w - 0.01 * v_post`` (FMA); ``v``
#: takes the difference in through that pathway's ``on_pre``. Everything else,
#: spikes included, is compared bit for bit.
CONTRACTION_SENSITIVE = ("dense_on_post", "v")


@pytest.mark.slow
def test_adaptive_step_on_device_equals_numpy_reference():
    """The adaptive CSDP step on the device: two chunks (event times rebased in
    between by the build's end-of-chunk code) against the NumPy reference."""
    from brian2 import ms

    from brian_edff.training import simulate

    params = small_params(csdp_step="rmsprop", eta=0.01, tau_rms=20 * ms)
    state = initial_state(params, N_INPUT, seed=8)
    plan6 = repeated(three_windows(), 2)
    ref, _, _ = run_reference(params, state, plan6)
    circuit = Circuit(params, N_INPUT, 3, device="standalone", threads=2,
                      weight_dtype="float64")
    try:
        after, _ = simulate(circuit, plan6, state)
    finally:
        circuit.close()
    for proj in PROJECTIONS:
        np.testing.assert_allclose(after.weights[proj.name], ref.W[proj.name],
                                   atol=TOLERANCE["float64"]["weight"], err_msg=proj.name)
    assert_adaptive_state_equals(after.synapse_state, ref, plan6.n_windows * params.window)


@pytest.fixture
def device_prefs():
    """The device's preferences, restored after the test."""
    from brian2 import prefs

    from brian_edff import device

    saved = device.device_prefs()
    device._automatic_threads.cache_clear()
    device._automatic_parallel_runs.cache_clear()
    yield prefs
    for name, value in saved.items():
        prefs[name] = value
    device._automatic_threads.cache_clear()
    device._automatic_parallel_runs.cache_clear()


@pytest.mark.parametrize("cores, load, expected", [(2, 0.2, 2), (2, 0.8, 1), (2, 2.5, 1),
                                                   (1, 0.0, 1), (16, 3.0, 2)])
def test_default_threads_follow_the_free_cores(monkeypatch, device_prefs, cores, load,
                                               expected):
    """Two threads only where more than 1.5 cores are free (a busy machine
    makes the per-step barriers wait for descheduled threads)."""
    from brian_edff import device

    device_prefs.devices.edff_standalone.synapse_threads = 0
    monkeypatch.setattr(device.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(device.os, "getloadavg", lambda: (load, load, load))
    assert device.default_synapse_threads() == expected
    monkeypatch.setattr(device.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert device.default_synapse_threads() == expected  # decided once per process


def test_default_threads_from_the_preference(device_prefs):
    """The preference fixes the default; a bad value is a one-line error naming it."""
    from brian2.core.preferences import PreferenceError

    from brian_edff import device

    for value in (3, 1):
        device_prefs.devices.edff_standalone.synapse_threads = value
        assert device.default_synapse_threads() == value
    for value in (-1, "two", 1.5, True):
        with pytest.raises(PreferenceError,
                           match="devices.edff_standalone.synapse_threads: must be an "
                                 "integer >= 0"):
            device_prefs.devices.edff_standalone.synapse_threads = value


@pytest.mark.parametrize("cores, load, expected", [(2, 0.2, 2), (2, 0.8, 1), (2, 2.5, 1),
                                                   (1, 0.0, 1), (16, 3.0, 13)])
def test_parallel_runs_follow_the_free_cores(monkeypatch, device_prefs, cores, load,
                                             expected):
    """Readout chunks run at once on the cores the load leaves free; the
    preference fixes it, a bad value is a one-line error."""
    from brian2.core.preferences import PreferenceError

    from brian_edff import device

    device_prefs.devices.edff_standalone.parallel_runs = 0
    monkeypatch.setattr(device.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(device.os, "getloadavg", lambda: (load, load, load))
    assert device.default_parallel_runs() == expected
    monkeypatch.setattr(device.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert device.default_parallel_runs() == expected  # decided once per process
    device_prefs.devices.edff_standalone.parallel_runs = 3
    assert device.default_parallel_runs() == 3
    with pytest.raises(PreferenceError, match="parallel_runs: must be an integer >= 0"):
        device_prefs.devices.edff_standalone.parallel_runs = -2


def test_split_threshold_from_the_preference(device_prefs):
    """The split threshold: default, override, and a one-line error for bad values."""
    from brian2.core.preferences import PreferenceError

    from brian_edff.device import MIN_PARALLEL_SYNAPSES, min_parallel_synapses

    device_prefs.devices.edff_standalone.min_parallel_synapses = MIN_PARALLEL_SYNAPSES
    assert min_parallel_synapses() == MIN_PARALLEL_SYNAPSES
    device_prefs.devices.edff_standalone.min_parallel_synapses = 0
    assert min_parallel_synapses() == 0
    for bad in ("many", -1, 1.5):
        with pytest.raises(PreferenceError, match="min_parallel_synapses: must be"):
            device_prefs.devices.edff_standalone.min_parallel_synapses = bad


def test_vector_width_from_the_preference(monkeypatch, device_prefs):
    """The row loops' vector width: on x86-64 gcc only, part of the build
    key, a preference, and a one-line error for bad values."""
    import platform

    from brian2.core.preferences import PreferenceError

    from brian_edff import device

    device_prefs.devices.edff_standalone.vector_width = device.VECTOR_WIDTH
    assert device.vector_width() == device.VECTOR_WIDTH
    default_digest = device.templates_digest()
    device_prefs.devices.edff_standalone.vector_width = 256
    assert device.vector_width() == 256
    if platform.machine().lower() in ("x86_64", "amd64"):
        assert device.synapse_vector_width() == 256
        assert device.templates_digest() != default_digest
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    assert device.synapse_vector_width() is None
    for bad in ("wide", 384, 0, 256.5):
        with pytest.raises(PreferenceError, match="vector_width: must be one of 128, 256, 512"):
            device_prefs.devices.edff_standalone.vector_width = bad


def test_independent_rows_preference(device_prefs):
    """Rows declared free of dependences: on by default, part of the build
    key, a one-line error for bad values."""
    from brian2.core.preferences import PreferenceError

    from brian_edff import device

    assert device_prefs.devices.edff_standalone.independent_rows is True
    default_digest = device.templates_digest()
    device_prefs.devices.edff_standalone.independent_rows = False
    assert device.templates_digest() != default_digest
    with pytest.raises(PreferenceError, match="independent_rows: must be True or False"):
        device_prefs.devices.edff_standalone.independent_rows = "yes"


def test_build_key_follows_the_device_code_in_memory(monkeypatch):
    """A process started before an edit of the device module files its builds
    under a key of its own, not under the key of the edited code."""
    from brian_edff import device

    current = device.templates_digest()
    monkeypatch.setattr(device, "_SOURCE_DIGEST", "an older device module")
    assert device.templates_digest() != current


def test_preferences_reach_sweep_workers(device_prefs):
    """Worker processes start with Brian2's defaults: a sweep hands them
    the preferences of the process that submits it."""
    from brian_edff.device import device_prefs as current

    device_prefs.devices.edff_standalone.vector_width = 128
    assert current()["devices.edff_standalone.vector_width"] == 128
    assert set(current()) == {f"devices.edff_standalone.{name}" for name in (
        "synapse_threads", "parallel_runs", "min_parallel_synapses", "vector_width",
        "independent_rows", "huge_pages", "cache_directory")}


def test_huge_pages_tunables(monkeypatch, device_prefs):
    """The binary's environment asks glibc for huge pages, keeps the caller's
    other tunables, leaves this process's environment alone and respects the
    opt-out preference."""
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    device_prefs.devices.edff_standalone.huge_pages = True
    assert huge_pages_tunables() == HUGE_PAGES_TUNABLE
    assert "GLIBC_TUNABLES" not in os.environ
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    assert huge_pages_tunables() == "glibc.malloc.arena_max=2:" + HUGE_PAGES_TUNABLE
    assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2"
    device_prefs.devices.edff_standalone.huge_pages = False
    assert huge_pages_tunables() == "glibc.malloc.arena_max=2"
