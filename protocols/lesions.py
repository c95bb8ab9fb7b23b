"""Pathway lesions: what does each pathway of the trained circuit contribute?

Question: the circuit's claims are architectural (Ororbia 2023, section 2,
"The event-driven forward-forward process"): each layer is driven bottom-up
(``W``), top-down (``V2``), by lateral inhibition (``M``) and by the label
context (``Y``), all in parallel, and no feedback pathway carries learning
signals. Which of these pathways do the readouts depend on, in the learned
circuit and in its frozen control? Every test-time lesion silences the
named pathways of the trained circuit (their weights zero, a switch of the
run's values: the compiled network stays the same, see
``Params.lesions``) and scores every readout: the online classifier, the
goodness readout, a linear probe refitted on the lesioned circuit's
training counts (what information is left) and the reconstruction BCE, each
beside the intact circuit. A run trained with a lesion (``"lesions"`` in
its parameters, e.g. ``protocols/paper_no_topdown.json``) is a
*training-time* lesion: it learned without the pathway and is scored without
it, against the intact learned run of the same seed.

Run (saved runs of the ``paper`` set on mnist5k and a training-time lesion;
about 12 minutes per run and 9 lesions on one core beside other jobs with
``--limit 300 --probe-limit 1500``, 2026-12-06)::

    python protocols/lesions.py --run runs/paper_mnist5k/learned_seed0 \\
        --run runs/paper_mnist5k/control_seed0 \\
        --run runs/paper_no_topdown/learned_seed0 --limit 300 --probe-limit 1500 \\
        --out runs/lesions

or, training both arms first (digits, ``fast`` set, a few minutes)::

    python protocols/lesions.py --dataset digits --params fast --out runs/lesions_digits

Writes ``OUT/lesions.csv`` (one row per run, lesion and readout),
``OUT/lesions.md`` (mean +- sd over seeds, and the change from the intact
circuit) and ``OUT/lesions.png`` (the change per lesion and readout).
"""

import sys

import numpy as np
from _common import (
    check_limits,
    experiment_parser,
    mean_sd,
    run_protocol,
    save_figure,
    subject_runs,
    write_results,
)

from brian_edff.experiments import READOUTS, Scorer
from brian_edff.params import lesion_pathways

#: Test-time lesions by default: each pathway into the hidden layers in turn,
#: the lateral and context pathways together, and layer 2 entirely.
DEFAULT_LESIONS = ("V2", "M1", "M2", "lateral", "Y1", "Y2", "context", "layer2")
HEADER = ("run", "arm", "seed", "trained_without", "lesion", "readout", "value", "intact",
          "change")


def parse_args(argv):
    parser = experiment_parser(__doc__)
    parser.add_argument("--lesions", nargs="+", default=list(DEFAULT_LESIONS),
                        metavar="NAME", help="test-time lesions: pathways (W1 V2 Y1 M1 W2 "
                        "Y2 M2 C1 C2 R1) or groups (top-down lateral context layer2), "
                        "each name one lesion; join names with '+' to silence them together")
    parser.add_argument("--no-goodness", action="store_true",
                        help="skip the goodness readout (n_labels windows per image)")
    args = parser.parse_args(argv)
    check_limits(args)
    for lesion in args.lesions:
        lesion_pathways(lesion.split("+"))
    return args


def trained_without(run) -> str:
    """The pathways a run learned without ("" for an intact run)."""
    return "+".join(lesion_pathways(run.params.lesions))


def lesion_rows(run, lesions, args) -> list:
    """Rows of :data:`HEADER` for one run: intact, then each lesion."""
    x, y = run.dataset.test_x, run.dataset.test_y
    scorer = Scorer(run, device=args.device, threads=args.threads)
    rows, intact = [], None
    try:
        for lesion in ("intact", *lesions):
            scorer.use_lesions(() if lesion == "intact" else lesion.split("+"))
            rng = np.random.default_rng([run.seed, 0x1E5])
            metrics, _ = scorer.score(x, y, rng, goodness=not args.no_goodness)
            intact = intact or metrics
            for name in READOUTS:
                if name in metrics:
                    rows.append((run.run_dir, run.arm, run.seed, trained_without(run), lesion,
                                 name, metrics[name], intact[name],
                                 metrics[name] - intact[name]))
            print(f"{run.label} {trained_without(run) or 'intact'}: {lesion}: "
                  + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()), flush=True)
    finally:
        scorer.close()
    return rows


def training_lesion_rows(rows) -> list:
    """Rows comparing each run trained with a lesion, intact at test, with the
    intact learned run of its seed (``lesion`` = ``trained without X``)."""
    reference = {(r[2], r[5]): r[6] for r in rows
                 if r[1] == "learned" and not r[3] and r[4] == "intact"}
    out = []
    for r in rows:
        if r[3] and r[4] == "intact" and (r[2], r[5]) in reference:
            base = reference[(r[2], r[5])]
            out.append((r[0], r[1], r[2], r[3], f"trained without {r[3]}", r[5], r[6], base,
                        r[6] - base))
    return out


def markdown(rows) -> str:
    """Mean +- sd over seeds per arm, lesion and readout, with the change."""
    groups = {}
    for r in rows:
        key = (r[1] if not r[3] or r[4].startswith("trained") else f"{r[1]}, trained "
               f"without {r[3]}", r[4])
        groups.setdefault(key, {}).setdefault(r[5], []).append((r[6], r[8]))
    lines = ["| arm | lesion | seeds | " + " | ".join(READOUTS) + " |",
             "|---|---|---|" + "---|" * len(READOUTS)]
    for (arm, lesion), readouts in groups.items():
        cells = []
        for name in READOUTS:
            values = readouts.get(name, [])
            scale = 100 if name.endswith("accuracy") else 1
            if not values:
                cells.append("-")
            elif lesion == "intact":
                cells.append(mean_sd([v * scale for v, _ in values]))
            else:
                cells.append(f"{mean_sd([v * scale for v, _ in values])} "
                             f"({mean_sd([c * scale for _, c in values], signed=True)})")
        seeds = len(next(iter(readouts.values())))
        lines.append(f"| {arm} | {lesion} | {seeds} | " + " | ".join(cells) + " |")
    return ("Accuracies in %, reconstruction BCE summed over pixels; in brackets the "
            "change from the intact circuit (trained-without rows: from the intact "
            "learned run of the same seed).\n\n" + "\n".join(lines) + "\n")


def figure(rows, out_dir, fmt) -> str:
    """Change from intact per lesion (rows of panels: readouts), learned vs control."""
    from brian_edff.plotting import COLORS, _plt

    plt = _plt()
    lesions = list(dict.fromkeys(r[4] for r in rows if r[4] != "intact"))
    readouts = [name for name in READOUTS if any(r[5] == name for r in rows)]
    fig, axes = plt.subplots(1, len(readouts), figsize=(3.2 * len(readouts), 0.35 *
                             len(lesions) + 1.2), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], readouts):
        scale = 100 if name.endswith("accuracy") else 1
        for k, arm in enumerate(("learned", "control")):
            means, sds = [], []
            for lesion in lesions:
                change = [r[8] * scale for r in rows if r[1] == arm and r[4] == lesion
                          and r[5] == name and (not r[3] or lesion.startswith("trained"))]
                means.append(np.mean(change) if change else np.nan)
                sds.append(np.std(change) if change else 0)
            ax.barh(np.arange(len(lesions)) + (k - 0.5) * 0.38, means, 0.38, xerr=sds,
                    color=COLORS[arm], label=arm)
        ax.axvline(0, color="k", lw=0.6)
        ax.set_title(name.replace("_", " "))
        ax.set_xlabel("change from intact" + (" (points)" if scale == 100 else ""))
    axes[0][0].set_yticks(np.arange(len(lesions)), lesions)
    axes[0][0].invert_yaxis()
    axes[0][0].legend(loc="best", fontsize=7)
    return save_figure(fig, out_dir, "lesions", fmt)


def main(argv=None):
    args = parse_args(argv)
    runs = subject_runs(args)
    rows = []
    for run in runs:
        rows += lesion_rows(run, args.lesions, args)
    rows += training_lesion_rows(rows)
    table = markdown(rows)
    write_results(args.out, "lesions", HEADER, rows, table)
    figure(rows, args.out, args.format)
    print(table)


if __name__ == "__main__":
    sys.exit(run_protocol(main))
