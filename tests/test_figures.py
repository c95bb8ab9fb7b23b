"""Figure scripts on a tiny run directory made here, and the results table."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from brian2 import ms, prefs
from matplotlib.image import imread

from brian_edff.datasets import Dataset, load_dataset
from brian_edff.params import Params
from brian_edff.plotting import figure_confusion, load_run, make_all, results_table
from brian_edff.training import train

T = 8


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    prefs.codegen.target = "numpy"
    digits = load_dataset("digits", 0)
    ds = Dataset("digits", (8, 8), digits.train_x[:30], digits.train_y[:30],
                 digits.dev_x[:10], digits.dev_y[:10], digits.test_x[:20],
                 digits.test_y[:20])
    params = Params(n_hidden1=10, n_hidden2=6, T=T, dt=1 * ms, tau_m=10 * ms,
                    tau_tr=5 * ms, R_m=0.5, R_inh=0.1, theta_g1=2.0, theta_g2=1.0,
                    eta=0.02, eta_head=0.1, chunk_windows=60, epochs=2)
    out = tmp_path_factory.mktemp("run") / "tiny"
    train(ds, params, str(out), device="runtime", progress=False, seed=0)
    return out


def rows(path):
    with open(path) as handle:
        return list(csv.reader(handle))[1:]


def test_dev_screen_run_takes_test_readouts_from_evaluate(tiny_run, tmp_path):
    """A run scored on dev only gets its test figures from ``evaluate``'s files."""
    import shutil

    run = tmp_path / "screen"
    shutil.copytree(tiny_run, run)
    metrics = json.loads((run / "metrics.json").read_text())
    test = metrics.pop("test")
    (run / "metrics.json").write_text(json.dumps(metrics))
    (run / "test_readouts.npz").rename(run / "evaluation_readouts.npz")
    assert load_run(str(run))["readouts"] is not None
    assert "test" not in load_run(str(run))["metrics"]
    (run / "evaluation.json").write_text(json.dumps({"test": test}))
    loaded = load_run(str(run))
    assert loaded["metrics"]["test"] == test
    np.testing.assert_array_equal(loaded["readouts"]["labels"],
                                  np.load(tiny_run / "test_readouts.npz")["labels"])


def test_vector_formats(tiny_run, tmp_path):
    for fmt in ("pdf", "svg"):
        path = figure_confusion([load_run(str(tiny_run))], str(tmp_path), fmt=fmt)
        assert path.endswith(f".{fmt}") and os.path.getsize(path) > 1000


def test_all_figures(tiny_run, tmp_path):
    paths = make_all([str(tiny_run)], str(tmp_path), n_images=5)
    assert len(paths) == 9
    for name in ("rasters", "goodness", "receptive_fields", "tsne", "reconstructions",
                 "learning_curves", "trajectories", "confusion"):
        image = imread(tmp_path / f"{name}.png")
        assert image.shape[0] > 150 and image.shape[1] > 200, name
    assert len(rows(tmp_path / "goodness.csv")) == 2 * 2 * T
    assert len(rows(tmp_path / "receptive_fields.csv")) == 10
    assert len(rows(tmp_path / "tsne.csv")) == 20
    picked = [int(r[0]) for r in rows(tmp_path / "reconstructions.csv")]
    labels = np.load(tiny_run / "test_readouts.npz")["labels"]
    assert len(picked) == min(10, len(labels))
    assert len(set(labels[picked])) == min(len(picked), len(set(labels)))
    assert len(rows(tmp_path / "learning_curves.csv")) == 2
    assert len(rows(tmp_path / "confusion.csv")) == 10
    raster = rows(tmp_path / "rasters.csv")
    assert {r[0] for r in raster} == {"positive", "negative"}
    assert {r[1] for r in raster} >= {"z0", "zc"}
    assert "| digits | supervised | 64-10-6 |" in (tmp_path / "results_table.md").read_text()


def test_one_figure_script(tiny_run, tmp_path):
    result = subprocess.run([sys.executable, "figures/fig_confusion.py", str(tiny_run),
                             "--out", str(tmp_path)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-1000:]
    assert (tmp_path / "confusion.png").is_file()
    matrix = np.array([[int(v) for v in r[1:]] for r in rows(tmp_path / "confusion.csv")])
    assert matrix.sum() == 20


def test_results_table_aggregates_seeds(tiny_run):
    base = load_run(str(tiny_run))
    runs = []
    for seed, acc in ((0, 0.80), (1, 0.90), (2, 0.70)):
        run = json.loads(json.dumps({"config": base["config"], "metrics": base["metrics"]}))
        run["config"]["seed"] = seed
        run["metrics"]["test"]["classifier_accuracy"] = acc
        runs.append(run)
    control = json.loads(json.dumps(runs[0]))
    control["config"]["plasticity"] = False
    table = results_table(runs + [control])
    learned_row = next(line for line in table.splitlines() if "| learned |" in line)
    assert "| 3 | 80.0 +- 8.2 |" in learned_row
    assert any("| control | 1 | 80.0 +- 0.0 |" in line for line in table.splitlines())


def test_trajectories_average_seeds_and_mark_the_overtaking_epoch(tiny_run, tmp_path):
    """Mean +- sd per arm over seeds; the learned arm is ahead from the epoch
    after which its mean stays above the control's (hand-made curves)."""
    from brian_edff.plotting import arm_trajectories, figure_trajectories

    base = load_run(str(tiny_run))
    curves = {("learned", 0): [0.70, 0.80, 0.90], ("learned", 1): [0.72, 0.84, 0.94],
              ("control", 0): [0.80, 0.80, 0.80], ("control", 1): [0.84, 0.84, 0.84]}
    runs = []
    for (arm, seed), accuracy in curves.items():
        run = json.loads(json.dumps({"config": base["config"], "metrics": base["metrics"]}))
        run["config"].update(seed=seed, plasticity=arm == "learned")
        run["metrics"]["epochs"] = 3
        run["metrics"]["dev"] = [{"epoch": k + 1, "classifier_accuracy": a, "recon_bce": 0.0}
                                 for k, a in enumerate(accuracy)]
        runs.append(run)
    out = arm_trajectories(runs)
    epochs, mean, sd, n = out["learned"]
    assert epochs == [1, 2, 3] and n == 2
    np.testing.assert_allclose(mean, [71, 82, 92])
    np.testing.assert_allclose(sd, [1, 2, 2])
    np.testing.assert_allclose(out["control"][1], [82, 82, 82])
    path = figure_trajectories(runs, str(tmp_path))
    assert os.path.getsize(path) > 1000
    assert len(rows(tmp_path / "trajectories.csv")) == 6
