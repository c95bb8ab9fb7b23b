"""Robustness and pattern completion: how does the circuit cope with degraded input?

Question: a circuit whose layers settle together under bottom-up, top-down
and lateral drive (Ororbia 2023, section 2) might fill in what the input
lacks. How do its readouts degrade with pixel noise, occlusion and the
input's spike rate, in the learned circuit and in its frozen control; and
how well does the reconstruction layer complete the hidden part of an
occluded image? Each condition degrades the test images
(:mod:`brian_edff.degradation`), which the circuit codes as it codes any
image, and scores

* the online classifier, the goodness readout, and a linear probe fitted on
  the *clean* training images' counts (a decoder that does not know the
  degradation);
* the reconstruction against the clean image: BCE summed over pixels and,
  for occlusions, BCE per pixel on the hidden pixels only (pattern
  completion) and on the visible ones.

Conditions (``--conditions``): ``clean``; ``noise:P`` (each pixel replaced,
with probability P in [0, 1], by a uniform random intensity);
``occlude:top|bottom|left|right`` (that half set to 0); ``patches:N`` (N
random squares of a quarter of the side set to 0); ``rate:G`` (spike
probabilities scaled by G > 0, clipped to 1).

Run (saved runs; about 10 minutes per run of the ``paper`` set and 13
conditions on one core beside other jobs with ``--limit 300 --probe-limit
1500``, 2026-12-06)::

    python protocols/robustness.py --run runs/paper_mnist5k/learned_seed0 \\
        --run runs/paper_mnist5k/control_seed0 --limit 300 --probe-limit 1500 \\
        --out runs/robustness

Writes ``OUT/robustness.csv`` (one row per run, condition and readout),
``OUT/robustness.md`` (mean +- sd over seeds per arm), ``OUT/robustness``
(accuracy against each degradation) and ``OUT/completion`` (occluded
images and their reconstructions) in ``--format``.
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

from brian_edff.degradation import apply_condition, masked_bce, parse_condition
from brian_edff.experiments import Scorer

DEFAULT_CONDITIONS = ("clean", "noise:0.1", "noise:0.2", "noise:0.4", "occlude:top",
                      "occlude:bottom", "occlude:left", "occlude:right", "patches:3",
                      "rate:0.5", "rate:0.75", "rate:1.5", "rate:2")
HEADER = ("run", "arm", "seed", "condition", "readout", "value", "clean")
READOUTS = ("classifier_accuracy", "goodness_accuracy", "probe_accuracy", "recon_bce",
            "hidden_bce_per_pixel", "visible_bce_per_pixel")
#: Images per occlusion shown in the completion figure.
EXAMPLES = 4


def parse_args(argv):
    parser = experiment_parser(__doc__)
    parser.add_argument("--conditions", nargs="+", default=list(DEFAULT_CONDITIONS),
                        metavar="COND", help="clean, noise:P, occlude:REGION, patches:N, "
                        "rate:G (see above)")
    parser.add_argument("--no-goodness", action="store_true",
                        help="skip the goodness readout (n_labels windows per image)")
    args = parser.parse_args(argv)
    check_limits(args)
    for condition in args.conditions:
        parse_condition(condition)
    if "clean" not in args.conditions:
        args.conditions = ["clean", *args.conditions]
    return args


def example_images(labels) -> np.ndarray:
    """Indices of :data:`EXAMPLES` images of different classes where there are as many."""
    first = np.unique(labels, return_index=True)[1]
    rest = np.setdiff1d(np.arange(len(labels)), first)
    return np.concatenate([first, rest])[:EXAMPLES]


def run_rows(run, args) -> tuple[list, dict]:
    """Rows of :data:`HEADER` for one run, and the completion examples."""
    x, y = run.dataset.test_x, run.dataset.test_y
    scorer = Scorer(run, device=args.device, threads=args.threads)
    rows, clean, examples = [], None, {}
    shown = example_images(y)
    try:
        scorer.probe()
        for k, condition in enumerate(args.conditions):
            rng = np.random.default_rng([run.seed, 0x50B, k])
            degraded, mask = apply_condition(condition, x, run.dataset.image_shape, rng)
            metrics, out = scorer.score(degraded, y, rng, goodness=not args.no_goodness,
                                        targets=x)
            if mask is not None:
                metrics["hidden_bce_per_pixel"] = masked_bce(out.recon, x, mask)
                metrics["visible_bce_per_pixel"] = masked_bce(out.recon, x, ~mask)
                examples[condition] = (degraded[shown], out.recon[shown])
            clean = clean or metrics
            for name in READOUTS:
                if name in metrics:
                    rows.append((run.run_dir, run.arm, run.seed, condition, name,
                                 metrics[name], clean.get(name, float("nan"))))
            print(f"{run.label}: {condition}: " + ", ".join(
                f"{key} {value:.4g}" for key, value in metrics.items()), flush=True)
    finally:
        scorer.close()
    return rows, {"images": x[shown], "shape": run.dataset.image_shape,
                  "examples": examples}


def markdown(rows, conditions) -> str:
    arms = [arm for arm in ("learned", "control") if any(r[1] == arm for r in rows)]
    readouts = [name for name in READOUTS if any(r[4] == name for r in rows)]
    lines = ["| condition | readout | " + " | ".join(arms) + " |",
             "|---|---|" + "---|" * len(arms)]
    for condition in conditions:
        for name in readouts:
            scale = 100 if name.endswith("accuracy") else 1
            cells = [mean_sd([r[5] * scale for r in rows if r[1] == arm and r[3] == condition
                              and r[4] == name]) for arm in arms]
            if any(cell != "-" for cell in cells):
                lines.append(f"| {condition} | {name} | " + " | ".join(cells) + " |")
    return ("Accuracies in %; recon_bce summed over pixels against the clean image; "
            "hidden/visible BCE per pixel. Mean +- sd over runs.\n\n"
            + "\n".join(lines) + "\n")


def figure_robustness(rows, conditions, out_dir, fmt, plt) -> str:
    """Accuracy per condition (one family of degradations per column)."""
    from brian_edff.plotting import COLORS

    families = [("noise", "pixel noise P"), ("occlude", "occluded half"),
                ("patches", "random patches"), ("rate", "rate gain")]
    families = [(f, label) for f, label in families
                if any(c.startswith(f) for c in conditions)]
    readouts = [name for name in READOUTS[:3] if any(r[4] == name for r in rows)]
    fig, axes = plt.subplots(len(readouts), max(len(families), 1),
                             figsize=(2.8 * max(len(families), 1), 2.4 * len(readouts)),
                             squeeze=False, sharey="row")
    for row, name in enumerate(readouts):
        for col, (family, label) in enumerate(families):
            ax = axes[row][col]
            chosen = ["clean"] + [c for c in conditions if c.startswith(family)]
            ticks = ["clean" if c == "clean" else c.split(":")[1] for c in chosen]
            for arm in ("learned", "control"):
                values = [[r[5] * 100 for r in rows if r[1] == arm and r[3] == c
                           and r[4] == name] for c in chosen]
                if not any(values):
                    continue
                ax.errorbar(range(len(chosen)), [np.mean(v) if v else np.nan for v in values],
                            [np.std(v) if v else 0 for v in values], marker="o", ms=3,
                            color=COLORS[arm], label=arm)
            ax.set_xticks(range(len(chosen)), ticks, rotation=30)
            ax.set_xlabel(label)
            if col == 0:
                ax.set_ylabel(name.replace("_accuracy", " acc. (%)"))
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out_dir, "robustness", fmt)


def figure_completion(completions, out_dir, fmt, plt) -> str | None:
    """Occluded test images and their reconstructions, learned and control."""
    firsts = {}
    for run, completion in completions:
        firsts.setdefault(run.arm, completion)
    arms = [arm for arm in ("learned", "control") if arm in firsts]
    if not arms or not firsts[arms[0]]["examples"]:
        return None
    reference = firsts[arms[0]]
    shape, conditions = reference["shape"], list(reference["examples"])
    n_rows = 1 + len(conditions) * (1 + len(arms))
    fig, axes = plt.subplots(n_rows, EXAMPLES, figsize=(1.3 * EXAMPLES, 1.3 * n_rows),
                             squeeze=False)
    panels = [("clean", reference["images"])]
    for condition in conditions:
        panels.append((condition, reference["examples"][condition][0]))
        for arm in arms:
            panels.append((f"{arm}", firsts[arm]["examples"][condition][1]))
    for row, (title, images) in enumerate(panels):
        for col in range(EXAMPLES):
            ax = axes[row][col]
            ax.set_axis_off()
            if col < len(images):
                ax.imshow(np.asarray(images[col]).reshape(shape), cmap="gray", vmin=0, vmax=1)
        axes[row][0].set_title(title, fontsize=7, loc="left")
    fig.tight_layout()
    return save_figure(fig, out_dir, "completion", fmt)


def main(argv=None):
    args = parse_args(argv)
    runs = subject_runs(args)
    rows, completions = [], []
    for run in runs:
        run_rows_, completion = run_rows(run, args)
        rows += run_rows_
        completions.append((run, completion))
    table = markdown(rows, args.conditions)
    write_results(args.out, "robustness", HEADER, rows, table)
    from brian_edff.plotting import _plt

    plt = _plt()
    figure_robustness(rows, args.conditions, args.out, args.format, plt)
    figure_completion(completions, args.out, args.format, plt)
    print(table)


if __name__ == "__main__":
    sys.exit(run_protocol(main))
