"""Sweeps: a grid of parameter values x seeds, as independent runs on Dask.

A grid file names a base parameter set, a data set, a mode, epochs, and lists
of values for any parameters (names as in ``config.json``)::

    {"params": "fast", "dataset": "digits", "mode": "supervised", "epochs": 1,
     "grid": {"tau_m": ["50 ms", "100 ms"], "theta_g1": [8, 10, 12]}}

A ``"model"`` list compares neuron models (built-in variant names or ``.py``
files) in one sweep. Optional keys: ``"plasticity"`` (true/false), ``"device"`` ("standalone",
"cpp_standalone" or "runtime"; every run is single-threaded, one per core),
``"codegen_target"`` ("numpy" or "cython", runtime device only), ``"n_train"`` /
``"n_test"`` (use the first images only).

Every point x seed is an ordinary run directory ``SWEEP_DIR/runs/<name>``.
Runs go to a ``dask.distributed`` cluster: a local one (one single-threaded
worker process per core) or an existing scheduler given by address, so the
same command spreads over many machines (e.g. with ``dask-jobqueue`` on SLURM
or PBS, see README). Runs of one network shape share one compiled standalone
build. A failing run is recorded (``error.json``) and the others go on;
rerunning the command skips finished runs and retries failed ones.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import platform
import re
import shutil
import time
import traceback

import numpy as np

from .checkpoint import write_json
from .models import ModelError, load_model
from .params import ParamsError, load_params, read_json_object
from .stimuli import MODES

__all__ = ["GridError", "load_grid", "expand", "run_sweep", "run_points", "parse_seeds",
           "run_point", "dev_summary", "check_eval_split", "finished_row", "METRICS", "DEV_METRICS"]

METRICS = ("classifier_accuracy", "goodness_accuracy", "probe_accuracy", "recon_bce",
           "recon_mse")
#: From the dev curve: classifier accuracy after the last epoch and at its
#: best epoch, the largest epoch-to-epoch drop, reconstruction BCE at the end.
DEV_METRICS = ("dev_classifier_last", "dev_classifier_best", "dev_classifier_max_drop",
               "dev_recon_bce_last", "dev_goodness_accuracy")
GRID_KEYS = {"params", "dataset", "mode", "epochs", "grid", "plasticity", "device",
             "n_train", "n_test", "n_dev", "codegen_target", "eval_split"}


class GridError(ValueError):
    """A grid file is invalid; the message names the key."""


def parse_seeds(text: str) -> list:
    """``"0-4"`` -> [0, 1, 2, 3, 4]; ``"1,3,7"`` -> [1, 3, 7]."""
    seeds = []
    for part in str(text).split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise GridError(f"--seeds: cannot read {text!r} (use e.g. 0-4 or 1,3,7)")
        lo, hi = int(match.group(1)), int(match.group(2) or match.group(1))
        if hi < lo:
            raise GridError(f"--seeds: empty range {part!r}")
        seeds.extend(range(lo, hi + 1))
    if len(set(seeds)) != len(seeds):
        raise GridError(f"--seeds: duplicate seeds in {text!r}")
    return seeds


def load_grid(path: str) -> dict:
    """Read and validate a grid file before anything runs.

    Raises
    ------
    GridError
        Unknown key or parameter, empty list, invalid value, duplicate point.
    """
    spec = read_json_object(path, GridError, "grid file")
    for key in spec:
        if key not in GRID_KEYS:
            raise GridError(f"{path}: {key}: unknown key (known: {', '.join(sorted(GRID_KEYS))})")
    for key in ("params", "dataset", "grid"):
        if key not in spec:
            raise GridError(f"{path}: {key}: missing")
    spec.setdefault("mode", "supervised")
    spec.setdefault("epochs", 1)
    spec.setdefault("plasticity", True)
    spec.setdefault("device", "standalone")
    if spec["mode"] not in MODES:
        raise GridError(f"{path}: mode: unknown mode {spec['mode']!r}")
    if not isinstance(spec["epochs"], int) or spec["epochs"] < 1:
        raise GridError(f"{path}: epochs: must be a positive integer")
    if spec["device"] not in ("standalone", "cpp_standalone", "runtime"):
        raise GridError(f"{path}: device: must be standalone, cpp_standalone or runtime")
    check_eval_split(spec, path)
    try:
        base = load_params(spec["params"])
    except ParamsError as err:
        raise GridError(f"{path}: params: {err}") from None
    grid = spec["grid"]
    if not isinstance(grid, dict) or not grid:
        raise GridError(f"{path}: grid: must be a non-empty object of parameter lists")
    known = set(base.to_dict())
    for name, values in grid.items():
        if name not in known:
            raise GridError(f"{path}: grid.{name}: unknown parameter")
        if not isinstance(values, list) or not values:
            raise GridError(f"{path}: grid.{name}: must be a non-empty list of values")
        normalised = []
        for value in values:
            try:
                params = base.replace(**{name: value}).validate()
                if name == "model":
                    load_model(value)
            except (ParamsError, ModelError) as err:
                raise GridError(f"{path}: grid.{name}: invalid value {value!r} ({err})") \
                    from None
            normalised.append(json.dumps(params.to_dict()[name]))
        if len(set(normalised)) != len(normalised):
            raise GridError(f"{path}: grid.{name}: duplicate points {values}")
    spec["base"] = base
    return spec


def check_eval_split(spec: dict, path: str) -> None:
    """``eval_split`` of a grid or lever file: "test" (default) or "dev"."""
    from .training import EVAL_SPLITS

    split = spec.setdefault("eval_split", "test")
    if split not in EVAL_SPLITS:
        raise GridError(f"{path}: eval_split: must be one of {', '.join(EVAL_SPLITS)}, "
                        f"got {split!r}")


def expand(spec: dict, seeds) -> list:
    """Every grid point x seed, with a stable run name."""
    names = sorted(spec["grid"])
    points = []
    for combo in itertools.product(*(spec["grid"][n] for n in names)):
        values = dict(zip(names, combo))
        label = "_".join(f"{n}={_slug(v)}" for n, v in values.items())
        for seed in seeds:
            points.append({"values": values, "seed": seed, "name": f"{label}_seed{seed}"})
    return points


def _slug(value) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]", "", str(value)) or "x"


def run_point(point: dict, spec: dict, sweep_dir: str) -> dict:
    """Train one point in this process; never raises: failures become rows."""
    from .datasets import load_dataset
    from .training import train

    run_dir = os.path.join(sweep_dir, "runs", point["name"])
    row = {"run": point["name"], "seed": point["seed"], **point["values"],
           "host": platform.node(), "status": "ok", "error": ""}
    plasticity = point.get("plasticity", spec["plasticity"])
    start = time.perf_counter()
    if spec.get("codegen_target"):
        from brian2 import prefs

        prefs.codegen.target = spec["codegen_target"]
    # A worker is a process of its own, started with Brian2's default
    # preferences: it takes the device preferences of the process that
    # submitted the sweep, and runs one binary at a time in the readouts
    # too, since the runs fill the cores (device.default_parallel_runs).
    from brian2 import prefs

    for name, value in spec.get("device_prefs", {}).items():
        prefs[name] = value
    prefs["devices.edff_standalone.parallel_runs"] = 1
    try:
        params = spec["base"].replace(**point["values"]).validate()
        dataset = load_dataset(spec["dataset"], point["seed"])
        sizes = [spec.get(f"n_{split}") for split in ("train", "test", "dev")]
        if any(sizes):
            dataset = dataset.subset(*sizes)
        if os.path.exists(run_dir):
            shutil.rmtree(run_dir)
        metrics = train(dataset, params, run_dir, mode=spec["mode"], epochs=spec["epochs"],
                        seed=point["seed"], plasticity=plasticity,
                        device=spec["device"], progress=False,
                        # one run per core: the runs, not the threads, fill the cores
                        threads=1 if spec["device"] == "standalone" else None,
                        eval_split=spec.get("eval_split", "test"))
        row.update(_metric_row(metrics))
        row["train_wall_s"] = metrics["train_wall_s"]
    except Exception as err:  # noqa: BLE001 (a failed run must not stop the sweep)
        os.makedirs(run_dir, exist_ok=True)
        row.update(status="failed", error=f"{type(err).__name__}: {err}")
        write_json(os.path.join(run_dir, "error.json"),
                   {"error": row["error"], "traceback": traceback.format_exc()})
    row["wall_s"] = time.perf_counter() - start
    return row


def _headline(row: dict) -> str:
    if row.get("classifier_accuracy") is not None:
        return f"classifier {row['classifier_accuracy']:.3f}"
    return f"dev classifier {row['dev_classifier_last']:.3f}"


def _metric_row(metrics: dict) -> dict:
    """The :data:`METRICS` (test split, if scored) and :data:`DEV_METRICS` of a run."""
    test = metrics.get("test", {})
    final = metrics.get("dev_final", {})
    return {**{k: test.get(k) for k in METRICS}, **dev_summary(metrics["dev"]),
            "dev_goodness_accuracy": final.get("goodness_accuracy")}


def dev_summary(dev: list) -> dict:
    """The dev-curve part of :data:`DEV_METRICS` from a run's per-epoch dev records.

    ``dev_goodness_accuracy`` is not on the curve: it comes from the final
    scoring of a dev-only run (:func:`_metric_row`).
    """
    accuracy = [d["classifier_accuracy"] for d in dev]
    drops = [a - b for a, b in zip(accuracy, accuracy[1:])]
    return {"dev_classifier_last": accuracy[-1], "dev_classifier_best": max(accuracy),
            "dev_classifier_max_drop": max([0.0, *drops]),
            "dev_recon_bce_last": dev[-1]["recon_bce"]}


def finished_row(point: dict, sweep_dir: str) -> dict | None:
    """The row of a point whose run finished earlier, or None."""
    path = os.path.join(sweep_dir, "runs", point["name"], "metrics.json")
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        metrics = json.load(handle)
    return {"run": point["name"], "seed": point["seed"], **point["values"],
            **_metric_row(metrics),
            "train_wall_s": metrics.get("train_wall_s"), "wall_s": None, "host": "",
            "status": "ok", "error": "", "skipped": True}


def run_sweep(grid_path: str, seeds, sweep_dir: str, scheduler: str | None = None,
              n_workers: int | None = None, plot_metric: str = "classifier_accuracy",
              log=print) -> list:
    """Run (or finish) a sweep and write results.csv, summary.md and a plot."""
    spec = load_grid(grid_path)
    points = expand(spec, seeds)
    os.makedirs(os.path.join(sweep_dir, "runs"), exist_ok=True)
    write_json(os.path.join(sweep_dir, "grid.json"),
               {k: v for k, v in spec.items() if k != "base"} | {"seeds": list(seeds)})
    rows = run_points(points, spec, sweep_dir, scheduler, n_workers, log)
    rows.sort(key=lambda r: r["run"])
    write_results(rows, spec, sweep_dir, plot_metric)
    return rows


def run_points(points: list, spec: dict, sweep_dir: str, scheduler: str | None = None,
               n_workers: int | None = None, log=print) -> list:
    """Run every point not finished yet on Dask; rows of all points.

    A point is ``{"values": {param: value}, "seed": int, "name": str}``, with
    an optional ``"plasticity"`` overriding the spec's. The workers run with
    this process's device preferences (:func:`brian_edff.device.device_prefs`).
    """
    from dask.distributed import Client, LocalCluster, as_completed

    from .device import device_prefs

    spec = {"device_prefs": device_prefs(), **spec}

    os.makedirs(os.path.join(sweep_dir, "runs"), exist_ok=True)
    rows, todo = [], []
    for point in points:
        done = finished_row(point, sweep_dir)
        (rows.append(done) if done else todo.append(point))
    log(f"sweep: {len(points)} runs, {len(rows)} already finished, {len(todo)} to run")
    if todo:
        if scheduler:
            client, cluster = Client(scheduler), None
        else:
            cluster = LocalCluster(n_workers=n_workers or os.cpu_count(),
                                   threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        try:
            futures = [client.submit(run_point, p, spec, os.path.abspath(sweep_dir),
                                     key=f"edff-{p['name']}-{time.time_ns()}", pure=False)
                       for p in todo]
            for k, future in enumerate(as_completed(futures), 1):
                row = future.result()
                rows.append(row)
                log(f"[{k}/{len(todo)}] {row['run']}: {row['status']} "
                    + (row["error"] if row["status"] != "ok" else _headline(row))
                    + f" ({row['wall_s']:.0f} s on {row['host']})")
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return rows


def write_results(rows, spec, sweep_dir, plot_metric="classifier_accuracy"):
    """results.csv (one row per run), summary.md (mean +- sd per point), plot PNG."""
    names = sorted(spec["grid"])
    columns = (["run", "seed", *names, *METRICS, *DEV_METRICS, "train_wall_s", "wall_s",
                "host", "status", "error"])
    with open(os.path.join(sweep_dir, "results.csv"), "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    groups = {}
    for row in rows:
        groups.setdefault(tuple(json.dumps(row[n]) for n in names), []).append(row)
    lines = ["| " + " | ".join(names) + " | runs | failed | " + " | ".join(METRICS) + " |",
             "|" + "---|" * (len(names) + 2 + len(METRICS))]
    summary = []
    for key, group in sorted(groups.items()):
        ok = [r for r in group if r["status"] == "ok"]
        cells = []
        for metric in METRICS:
            values = np.array([r[metric] for r in ok if r.get(metric) is not None], float)
            cells.append(f"{values.mean():.4f} +- {values.std():.4f}" if len(values) else "-")
        summary.append((key, ok))
        lines.append("| " + " | ".join(json.loads(k) if isinstance(json.loads(k), str)
                                         else k for k in key)
                     + f" | {len(group)} | {len(group) - len(ok)} | " + " | ".join(cells) + " |")
    with open(os.path.join(sweep_dir, "summary.md"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    _plot(summary, names, sweep_dir, plot_metric)


def _plot(summary, names, sweep_dir, metric):
    from .plotting import _plt

    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.5, 3))
    xs, means, sds, labels = [], [], [], []
    for k, (key, ok) in enumerate(summary):
        values = [r[metric] for r in ok if r.get(metric) is not None]
        if not values:
            continue
        xs.append(k)
        means.append(np.mean(values))
        sds.append(np.std(values))
        labels.append(", ".join(f"{n}={json.loads(v)}" for n, v in zip(names, key)))
    ax.errorbar(xs, means, yerr=sds, fmt="o-", capsize=3)
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel(f"{metric} (mean +- sd over seeds)")
    fig.savefig(os.path.join(sweep_dir, f"sweep_{metric}.png"), bbox_inches="tight")
    plt.close(fig)
