"""The learning loop: chunking, determinism, resume (runtime device, tiny circuit)."""

import json

import numpy as np
import pytest
from brian2 import ms, prefs

from brian_edff.datasets import Dataset
from brian_edff.params import Params, ParamsError
from brian_edff.training import RunError, epoch_params, extend_run, train

N_INPUT = 12


def tiny_dataset(n_train=12, binary=True):
    rng = np.random.default_rng(0)
    x = rng.random((n_train + 8, N_INPUT)).astype(np.float32)
    if binary:
        x = (x > 0.5).astype(np.float32)
    y = np.arange(n_train + 8) % 4
    return Dataset("tiny", (3, 4), x[:n_train], y[:n_train], x[n_train:n_train + 4],
                   y[n_train:n_train + 4], x[n_train + 4:], y[n_train + 4:])


def tiny_params(**changes):
    return Params(n_hidden1=6, n_hidden2=5, n_labels=4, T=8, dt=1 * ms, tau_m=10 * ms,
                  tau_tr=5 * ms, theta0=0.05, theta_jitter=0.02, theta_min=0.01,
                  rho_b=0.002, R_m=0.8, R_inh=0.3, theta_g1=1.0, theta_g2=0.5, eta=0.05,
                  w_decay=0.01, eta_head=0.1, chunk_windows=24, epochs=2).replace(**changes)


@pytest.fixture(autouse=True)
def numpy_target():
    prefs.codegen.target = "numpy"


def weights(run_dir, name="weights_last.npz"):
    with np.load(run_dir / name) as data:
        return {k: data[k] for k in data.files}


def test_chunking_does_not_change_results(tmp_path):
    """Weight hand-over between chunks: 1 chunk per epoch == 6 chunks per epoch."""
    ds = tiny_dataset()
    train(ds, tiny_params(chunk_windows=24), str(tmp_path / "one"), device="runtime",
          progress=False, evaluate=False)
    train(ds, tiny_params(chunk_windows=4), str(tmp_path / "six"), device="runtime",
          progress=False, evaluate=False)
    one, six = weights(tmp_path / "one"), weights(tmp_path / "six")
    for name in one:
        np.testing.assert_allclose(one[name], six[name], atol=1e-6, err_msg=name)
    with np.load(tmp_path / "one" / "checkpoint.npz") as start:
        assert np.abs(start["W1"] - one["W1"]).max() == 0  # checkpoint = last state
    assert json.loads((tmp_path / "six" / "progress.json").read_text())["epoch"] == 2


def test_same_seed_same_run_other_seed_differs(tmp_path):
    ds = tiny_dataset(binary=False)
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        train(ds, tiny_params(epochs=1), str(tmp_path / name), seed=seed, device="runtime",
              progress=False)
    a, b, c = (weights(tmp_path / n) for n in "abc")
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["W1"], c["W1"])
    ma = json.loads((tmp_path / "a" / "metrics.json").read_text())["test"]
    mb = json.loads((tmp_path / "b" / "metrics.json").read_text())["test"]
    assert ma == mb


@pytest.mark.parametrize("step", ["plain", "rmsprop", "rmsprop_cell",
                                  pytest.param("homeostasis", marks=pytest.mark.slow)])
def test_resume_continues_to_the_same_result(tmp_path, step):
    """A run stopped after its first epoch and resumed ends like an uninterrupted
    one (with the adaptive step or the homeostatic thresholds, their per-synapse
    and per-cell state resume too)."""
    ds = tiny_dataset(binary=False)
    homeostasis = step == "homeostasis"
    params = tiny_params(chunk_windows=12, csdp_step="plain" if homeostasis else step,
                         tau_rms=20 * ms, rho_h=1e-3 if homeostasis else 0.0)
    train(ds, params, str(tmp_path / "full"), seed=1, device="runtime", progress=False)
    # Rewind the partial run to the end of epoch 1 by replaying its first epoch.
    train(ds, params, str(tmp_path / "first"), seed=1, device="runtime", progress=False,
          epochs=1, evaluate=False)
    progress = json.loads((tmp_path / "first" / "progress.json").read_text())
    progress["epoch"], progress["chunk"] = 1, 0
    resume_dir = tmp_path / "first"
    (resume_dir / "progress.json").write_text(json.dumps(progress))
    config = json.loads((resume_dir / "config.json").read_text())
    config["epochs"] = 2
    if step == "plain":  # a run recorded before an option existed resumes at its default
        del config["params"]["input_gain"]
    (resume_dir / "config.json").write_text(json.dumps(config))
    train(ds, params, str(resume_dir), seed=1, device="runtime", progress=False, epochs=2,
          resume=True)
    full, resumed = weights(tmp_path / "full"), weights(resume_dir)
    assert set(full) == set(resumed)
    for name in full:
        np.testing.assert_array_equal(full[name], resumed[name], err_msg=name)
    if step == "rmsprop":
        assert {"W1.g2", "z0.g2_norm", "z1.t_csdp"} <= set(full)
    if step == "rmsprop_cell":
        assert {"z1.d_ms", "z2.d_ms_norm"} <= set(full) and "W1.g2" not in set(full)
        assert full["z1.d_ms_norm"].min() > 1, "the running mean squares did not move"
    if homeostasis:
        assert {"z1.h", "z2.h"} <= set(full)
        assert np.abs(full["z1.h"]).max() > 0, "the offsets did not move"


def test_refuses_existing_run_and_bad_resume(tmp_path):
    ds = tiny_dataset()
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("1")
    with pytest.raises(RunError, match="exists and is not empty"):
        train(ds, tiny_params(), str(tmp_path / "busy"), device="runtime")
    with pytest.raises(RunError, match="not a run directory"):
        train(ds, tiny_params(), str(tmp_path), device="runtime", resume=True)
    run = tmp_path / "run"
    train(ds, tiny_params(epochs=1), str(run), device="runtime", progress=False,
          evaluate=False)
    with pytest.raises(RunError, match="params differs from the run being resumed"):
        train(ds, tiny_params(epochs=1, eta=0.01), str(run), device="runtime", resume=True)
    config = json.loads((run / "config.json").read_text())
    config["params"]["not_an_option"] = 1
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(RunError, match="recorded parameters are not valid.*not_an_option"):
        train(ds, tiny_params(epochs=1), str(run), device="runtime", resume=True)


def test_head_epochs_train_only_the_heads(tmp_path):
    ds = tiny_dataset()
    train(ds, tiny_params(epochs=1), str(tmp_path / "a"), device="runtime", progress=False,
          evaluate=False)
    train(ds, tiny_params(epochs=1, head_epochs=1), str(tmp_path / "b"), device="runtime",
          progress=False, evaluate=False)
    a, b = weights(tmp_path / "a"), weights(tmp_path / "b")
    for name in ("W1", "V2", "Y1", "M1", "W2", "Y2", "M2"):
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["C1"], b["C1"]) and not np.array_equal(a["R1"], b["R1"])
    metrics = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert len(metrics["dev"]) == 2 and metrics["head_epochs"] == 1


def test_epoch_params_decay_the_rates():
    params = tiny_params(eta=0.04, eta_decay=0.5, eta_head=0.1, eta_head_decay=0.1)
    assert epoch_params(params, 0) == params
    later = epoch_params(params, 2)
    assert later.eta == pytest.approx(0.01) and later.eta_head == pytest.approx(0.001)
    assert epoch_params(tiny_params(), 5) == tiny_params()


def test_csdp_rate_decay_changes_only_later_epochs(tmp_path):
    """``eta_decay`` leaves epoch 1 as it was and anneals CSDP after it."""
    ds = tiny_dataset()
    runs = {}
    for name, decay in (("constant", 1.0), ("annealed", 0.01)):
        train(ds, tiny_params(eta_decay=decay), str(tmp_path / name), device="runtime",
              progress=False, evaluate=False)
        runs[name] = json.loads((tmp_path / name / "metrics.json").read_text())["dev"]
    assert runs["constant"][0] == runs["annealed"][0]
    a, b = weights(tmp_path / "constant"), weights(tmp_path / "annealed")
    assert not np.array_equal(a["W1"], b["W1"])


def test_extended_head_epochs_equal_a_fresh_run(tmp_path):
    """Two more head epochs added to a finished run give the run trained with
    them from the start: the same dev curve, weights and selected state."""
    ds = tiny_dataset()
    train(ds, tiny_params(epochs=1, head_epochs=3), str(tmp_path / "fresh"),
          device="runtime", progress=False, eval_split="dev")
    train(ds, tiny_params(epochs=1, head_epochs=1), str(tmp_path / "short"),
          device="runtime", progress=False, eval_split="dev")
    before = (tmp_path / "short" / "metrics.json").read_text()
    extended = extend_run(str(tmp_path / "short"), str(tmp_path / "long"), 3, dataset=ds,
                          device="runtime", progress=False)
    fresh = json.loads((tmp_path / "fresh" / "metrics.json").read_text())
    assert extended["dev"] == fresh["dev"] and extended["best_epoch"] == fresh["best_epoch"]
    assert extended["dev_final"] == fresh["dev_final"]
    for name in ("weights.npz", "weights_last.npz"):
        a, b = weights(tmp_path / "fresh", name), weights(tmp_path / "long", name)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{name}: {key}")
    config = json.loads((tmp_path / "long" / "config.json").read_text())
    assert config["params"]["head_epochs"] == 3
    assert config["extended_from"]["head_epochs"] == 1
    assert (tmp_path / "short" / "metrics.json").read_text() == before
    with pytest.raises(RunError, match="already has 3 head epochs"):
        extend_run(str(tmp_path / "long"), str(tmp_path / "again"), 3, dataset=ds,
                   device="runtime")
    with pytest.raises(ParamsError, match="head_epochs"):
        extend_run(str(tmp_path / "long"), str(tmp_path / "half"), 4.5, dataset=ds,
                   device="runtime")
    assert not (tmp_path / "half").exists()
    with pytest.raises(RunError, match="not a finished run directory"):
        extend_run(str(tmp_path / "nothing"), str(tmp_path / "x"), 4, dataset=ds)
