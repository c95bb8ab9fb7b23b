"""Sweeps on a 2-worker local Dask cluster: grid x seeds, failures, reruns."""

import csv
import json

import numpy as np
import pytest

from brian_edff.sweep import GridError, expand, load_grid, parse_seeds, run_sweep

TINY = {"base": "fast", "n_hidden1": 8, "n_hidden2": 6, "T": 6, "dt": "1 ms",
        "tau_m": "10 ms", "tau_tr": "5 ms", "R_m": 0.5, "chunk_windows": 60, "epochs": 1,
        "head_window": False}


def write(path, data):
    path.write_text(json.dumps(data))
    return str(path)


@pytest.fixture
def grid(tmp_path):
    params = write(tmp_path / "tiny.json", TINY)
    return tmp_path, {"params": params, "dataset": "digits", "mode": "supervised",
                      "epochs": 1, "device": "runtime", "codegen_target": "numpy",
                      "n_train": 20, "n_test": 10}


def test_two_workers_grid_failure_and_rerun(grid):
    tmp_path, spec = grid
    # n_input = 100 validates alone but not against the 64-pixel digits: it fails at run.
    spec["grid"] = {"theta_g1": [1.0, 2.0], "n_input": [None, 100]}
    path = write(tmp_path / "grid.json", spec)
    out = tmp_path / "sweep"
    logs = []
    rows = run_sweep(path, [0, 1], str(out), n_workers=2, log=logs.append)
    assert len(rows) == 8
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(failed) == 4 and all("n_input" in r["error"] for r in failed)
    ok = [r for r in rows if r["status"] == "ok"]
    assert all(0 <= r["classifier_accuracy"] <= 1 for r in ok)
    with open(out / "results.csv") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 8 and {"theta_g1", "seed", "probe_accuracy", "host"} <= set(table[0])
    summary = (out / "summary.md").read_text()
    assert summary.count("\n") == 2 + 4
    assert (out / "sweep_classifier_accuracy.png").is_file()
    assert any("[8/8]" in line for line in logs)
    # Rerun: finished runs are skipped, failed ones retried (and fail again).
    logs.clear()
    rows = run_sweep(path, [0, 1], str(out), n_workers=2, log=logs.append)
    assert "4 already finished, 4 to run" in logs[0]
    assert sum(r.get("skipped", False) for r in rows) == 4


@pytest.mark.parametrize("change, message", [
    ({"grid": {"tau_membrane": [1]}}, "grid.tau_membrane: unknown parameter"),
    ({"grid": {"theta_g1": []}}, "grid.theta_g1: must be a non-empty list"),
    ({"grid": {"tau_m": ["-5 ms"]}}, "grid.tau_m: invalid value"),
    ({"grid": {"theta_g1": [1, 1.0]}}, "grid.theta_g1: duplicate points"),
    ({"colour": "red", "grid": {"theta_g1": [1]}}, "colour: unknown key"),
    ({"mode": "semi", "grid": {"theta_g1": [1]}}, "mode: unknown mode"),
    ({"grid": {"model": ["default", "adaptaton"]}}, "grid.model: invalid value 'adaptaton'"),
])
def test_bad_grids_are_rejected(grid, change, message):
    tmp_path, spec = grid
    path = write(tmp_path / "bad.json", spec | change)
    with pytest.raises(GridError, match=message):
        load_grid(path)


def test_grid_over_models(grid):
    tmp_path, spec = grid
    path = write(tmp_path / "models.json", spec | {"grid": {"model": ["default",
                                                                  "adaptation"]}})
    points = expand(load_grid(path), [0])
    assert [p["values"]["model"] for p in points] == ["default", "adaptation"]
    assert points[1]["name"] == "model=adaptation_seed0"


def test_seeds_and_expansion(grid):
    tmp_path, spec = grid
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4] and parse_seeds("1,3,7") == [1, 3, 7]
    with pytest.raises(GridError):
        parse_seeds("4-1")
    spec["grid"] = {"theta_g1": [1.0, 2.0], "eta": [0.1]}
    points = expand(load_grid(write(tmp_path / "g.json", spec)), [0, 1, 2])
    assert len(points) == 6 and len({p["name"] for p in points}) == 6


def _ablation():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parents[1] / "protocols" / "ablation.py"
    module_spec = importlib.util.spec_from_file_location("ablation", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def test_lever_screen_on_dev_shares_controls(grid):
    tmp_path, spec = grid
    ablation = _ablation()
    spec = {k: v for k, v in spec.items() if k not in ("epochs", "codegen_target")}
    levers = spec | {"eval_split": "dev", "n_dev": 6, "n_train": 12, "levers": {
        "baseline": {}, "rate": {"eta": 0.01}, "init": {"w_init": 0.5}}}
    path = write(tmp_path / "levers.json", levers)
    lever_spec = ablation.load_levers(path)
    lever_spec["codegen_target"] = "numpy"
    out = tmp_path / "levers"
    table = ablation.run_levers(lever_spec, [0], str(out), workers=2)
    runs = sorted(p.name for p in (out / "runs").iterdir())
    # "rate" only changes CSDP: its control is the baseline's; "init" needs its own.
    assert runs == ["control_base_seed0", "control_w_init=0.5_seed0", "learned_base_seed0",
                    "learned_eta=0.01_seed0", "learned_w_init=0.5_seed0"]
    assert not any((out / "runs" / r / "test_readouts.npz").exists() for r in runs)
    assert all((out / "runs" / r / "dev_readouts.npz").is_file() for r in runs)
    assert [e["lever"] for e in table] == ["baseline", "rate", "init"]
    learned, control = table[1]["dev_goodness_accuracy"]
    assert len(learned) == len(control) == 1 and 0 <= learned[0] <= 1
    assert len(table[0]["probe_accuracy"][0]) == 0  # no test split was scored
    header = (out / "levers.md").read_text().splitlines()[0]
    assert "goodness readout (dev)" in header and "(test)" not in header
    assert (out / "levers.png").is_file()
    # The table from finished runs alone (nothing runs: seed 1 has no runs yet).
    again = ablation.run_levers(lever_spec, [0, 1], str(out), run=False)
    assert [e["seeds"] for e in again] == [1, 1, 1]
    np.testing.assert_array_equal(again[1]["dev_goodness_accuracy"][0], learned)
    assert len(list((out / "runs").iterdir())) == 5
    with pytest.raises(GridError, match="eval_split: must be one of test, dev"):
        ablation.load_levers(write(tmp_path / "bad.json", levers | {"eval_split": "val"}))
