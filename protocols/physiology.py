"""Physiology: what do the learned cells look like to an electrophysiologist?

Question: CSDP shapes each layer's cells by a local, contrastive rule
(Ororbia 2023, section 2.2, "Contrastive signal-dependent plasticity"); how
does that change their responses from those of the same circuit with its
hidden synapses frozen? Per hidden layer (z1, z2) and arm (learned,
control) on the test images (context-free windows, as the classifier sees
them):

* firing rates, per layer and per class of the image; population and
  lifetime sparseness (Treves-Rolls, normalised); the fractions of silent
  and of always-active cells;
* class selectivity of each cell (selectivity index of its mean count per
  class) and the mutual information between its count and the label, over
  the cells with at least 10 spikes on the test images (``active_fraction``;
  the lifetime sparseness too);
* the coefficient of variation of inter-spike intervals (spikes recorded by
  Brian2's ``SpikeMonitor`` in ``--record-windows`` windows) and the Fano
  factor of the count across ``--repeats`` presentations of each of
  ``--repeat-images`` images (the Bernoulli input draws fresh spikes each time);
* a representational similarity matrix of the class-mean counts;
* tuning curves of the most informative cells, and the time course of each
  layer's goodness and of a few cells' membrane potential (``StateMonitor``)
  and of the population rate (``PopulationRateMonitor``) over a positive
  and a negative window of one image.

The measures are :mod:`brian_edff.physiology` (NumPy, tested on constructed
spike trains).

Run (saved runs; about a minute per run of the ``paper`` set on one core
once the recording circuit, a build of its own, is compiled; 2026-12-06)::

    python protocols/physiology.py --run runs/paper_mnist5k/learned_seed0 \\
        --run runs/paper_mnist5k/control_seed0 --out runs/physiology

Writes ``OUT/physiology.csv`` (one row per run, layer and measure),
``OUT/physiology.md`` (mean +- sd over seeds per arm), and the figures
``physiology``, ``tuning``, ``similarity`` and ``time_course`` (``--format``).
"""

import sys

import numpy as np
from _common import (
    ProtocolError,
    check_limits,
    experiment_parser,
    mean_sd,
    run_protocol,
    save_figure,
    subject_runs,
    write_results,
)

from brian_edff import physiology as phys
from brian_edff.circuit import Circuit
from brian_edff.experiments import Scorer
from brian_edff.stimuli import readout_plan, wrong_labels

LAYERS = ("z1", "z2")
HEADER = ("run", "arm", "seed", "layer", "measure", "value")
MEASURES = ("rate_hz", "rate_median_hz", "population_sparseness", "lifetime_sparseness",
            "silent_fraction", "always_active_fraction", "active_fraction",
            "selectivity_index",
            "mutual_information_bits", "rsm_mean_off_diagonal", "isi_cv_median",
            "isi_cv_cells", "fano_factor")


def parse_args(argv):
    parser = experiment_parser(__doc__)
    parser.add_argument("--repeats", type=int, default=20,
                        help="presentations of each image for the Fano factor (>= 2)")
    parser.add_argument("--repeat-images", type=int, default=5,
                        help="images shown --repeats times each")
    parser.add_argument("--record-windows", type=int, default=100,
                        help="test windows whose spikes are recorded (ISI CV)")
    parser.add_argument("--cells", type=int, default=5,
                        help="cells per layer whose membrane potential is recorded")
    args = parser.parse_args(argv)
    check_limits(args)
    if args.repeats < 2:
        raise ProtocolError(f"--repeats: need at least 2, got {args.repeats}")
    for name in ("repeat_images", "record_windows", "cells"):
        if getattr(args, name) < 1:
            raise ProtocolError(f"--{name.replace('_', '-')}: must be >= 1, "
                                f"got {getattr(args, name)}")
    return args


def spread(images, seed: int):
    """``images`` in a seeded random order (the test split is sorted by
    class: its first images would all show one digit)."""
    return images[np.random.default_rng([seed, 0x0DE]).permutation(len(images))]


def record(run, args, rng):
    """A positive and a negative window of a test image, then
    ``--record-windows`` context-free windows of test images drawn at random,
    with spikes, membranes and population rates recorded."""
    x, y = spread(run.dataset.test_x, run.seed), spread(run.dataset.test_y, run.seed)
    n = min(args.record_windows, len(x))
    images = np.vstack([x[:1], x[:1], x[:n]])
    plan = readout_plan(images, rng)
    plan.context_label[:2] = [y[0], wrong_labels(y[:1], run.params.n_labels, rng)[0]]
    circuit = Circuit(run.params, run.dataset.n_input, plan.n_windows, device=args.device,
                      record_spikes=True, record_cells=args.cells, model=run.model,
                      threads=args.threads)
    try:
        return circuit.run(plan, run.state.weights, run.state.theta_base)
    finally:
        circuit.close()


def _finite(statistic, values) -> float:
    """``statistic`` of the finite ``values`` (NaN where there are none)."""
    return float(statistic(values)) if np.isfinite(values).any() else float("nan")


def measure_run(run, args) -> dict:
    """Every measure of one run: scalars per layer, and arrays for the figures."""
    rng = np.random.default_rng([run.seed, 0xF15])
    x, y = run.dataset.test_x, run.dataset.test_y
    scorer = Scorer(run, device=args.device, threads=args.threads)
    try:
        test, _ = scorer.read(x, rng)
        shown = spread(x, run.seed)[:args.repeat_images]
        repeats, _ = scorer.read(np.repeat(shown, args.repeats, axis=0), rng)
    finally:
        scorer.close()
    recording = record(run, args, rng)
    window_s = float(run.params.window)
    n_record = min(args.record_windows, len(x))
    result = {"run": run, "scalars": {}, "arrays": {}, "recording": recording}
    for layer in LAYERS:
        counts = test.counts[layer]
        means = phys.class_means(counts, y, run.params.n_labels)
        scalars = phys.layer_summary(counts, y, run.params.n_labels, window_s)
        for label, rate in enumerate(np.nanmean(means, axis=1) / window_s):
            scalars[f"rate_hz_class_{label}"] = float(rate)
        indices, steps = recording.spikes[layer]
        cv = phys.isi_cv(indices, steps, range(2, 2 + n_record), counts.shape[1],
                         run.params.T)
        scalars["isi_cv_median"] = _finite(np.nanmedian, cv)
        scalars["isi_cv_cells"] = float(np.isfinite(cv).mean())
        per_image = repeats.counts[layer].reshape(len(shown), args.repeats, -1)
        fano = np.concatenate([phys.fano_factor(block) for block in per_image])
        scalars["fano_factor"] = _finite(np.nanmean, fano)
        active = phys.active_cells(counts)
        result["scalars"][layer] = scalars
        result["arrays"][layer] = {
            "rates": counts.mean(axis=0) / window_s,
            "lifetime": np.where(active, phys.lifetime_sparseness(counts), np.nan),
            "selectivity": np.where(active, phys.selectivity_index(means), np.nan),
            "information": np.where(active, phys.mutual_information(counts, y), np.nan),
            "cv": cv, "means": means, "rsm": phys.similarity_matrix(means)}
    return result


def markdown(results) -> str:
    arms = [arm for arm in ("learned", "control") if any(r["run"].arm == arm
                                                         for r in results)]
    lines = ["| layer | measure | " + " | ".join(arms) + " |",
             "|---|---|" + "---|" * len(arms)]
    for layer in LAYERS:
        for measure in MEASURES:
            cells = [mean_sd([r["scalars"][layer][measure] for r in results
                              if r["run"].arm == arm]) for arm in arms]
            lines.append(f"| {layer} | {measure} | " + " | ".join(cells) + " |")
    labels = sorted(int(key.rsplit("_", 1)[1]) for key in results[0]["scalars"]["z1"]
                    if key.startswith("rate_hz_class_"))
    lines += ["", "Mean rate (Hz) of the layer's cells per class of the image:", "",
              "| layer | arm | " + " | ".join(str(label) for label in labels) + " |",
              "|---|---|" + "---|" * len(labels)]
    for layer in LAYERS:
        for arm in arms:
            cells = [mean_sd([r["scalars"][layer][f"rate_hz_class_{label}"] for r in results
                              if r["run"].arm == arm]) for label in labels]
            lines.append(f"| {layer} | {arm} | " + " | ".join(cells) + " |")
    seeds = {arm: sorted({r["run"].seed for r in results if r["run"].arm == arm})
             for arm in arms}
    return ("Mean +- sd over runs (" + "; ".join(f"{arm}: seeds {seeds[arm]}"
                                                for arm in arms) + ").\n\n"
            + "\n".join(lines) + "\n")


def _arm_color(arm):
    from brian_edff.plotting import COLORS

    return COLORS.get(arm, "k")


def figure_physiology(results, out_dir, fmt, plt) -> str:
    """Distributions per layer (columns), learned against control."""
    panels = (("rates", "rate (Hz)"), ("lifetime", "lifetime sparseness"),
              ("selectivity", "selectivity index"), ("cv", "ISI CV"))
    fig, axes = plt.subplots(len(panels), len(LAYERS), figsize=(7, 8.5), squeeze=False)
    for col, layer in enumerate(LAYERS):
        for row, (key, label) in enumerate(panels):
            ax = axes[row][col]
            values = {arm: np.concatenate([r["arrays"][layer][key] for r in results
                                           if r["run"].arm == arm] or [np.array([])])
                      for arm in ("learned", "control")}
            finite = np.concatenate([v[np.isfinite(v)] for v in values.values()])
            if not len(finite):
                ax.set_axis_off()
                continue
            bins = np.linspace(finite.min(), finite.max() + 1e-9, 30)
            for arm, v in values.items():
                v = v[np.isfinite(v)]
                if len(v):
                    ax.hist(v, bins=bins, histtype="step", density=True,
                            color=_arm_color(arm), label=f"{arm} ({len(v)} cells)")
            ax.set_xlabel(label)
            if row == 0:
                ax.set_title(layer)
            ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out_dir, "physiology", fmt)


def figure_tuning(results, out_dir, fmt, plt, n_cells: int = 4) -> str:
    """Mean count per class of the cells whose count carries the most
    information about the label (first run of each arm)."""
    firsts = _first_per_arm(results)
    fig, axes = plt.subplots(len(firsts), len(LAYERS), figsize=(7, 2.6 * len(firsts)),
                             squeeze=False)
    for row, result in enumerate(firsts):
        for col, layer in enumerate(LAYERS):
            ax = axes[row][col]
            arrays = result["arrays"][layer]
            info = np.nan_to_num(arrays["information"], nan=-1)
            for cell in np.argsort(info)[::-1][:n_cells]:
                ax.plot(arrays["means"][:, cell], marker="o", ms=3,
                        label=f"cell {cell} (SI {arrays['selectivity'][cell]:.2f}, "
                              f"{info[cell]:.2f} bits)")
            ax.set_title(f"{layer}, {result['run'].label}")
            ax.set_xlabel("class")
            ax.set_ylabel("mean spikes per window")
            ax.legend(fontsize=6)
    fig.tight_layout()
    return save_figure(fig, out_dir, "tuning", fmt)


def figure_similarity(results, out_dir, fmt, plt) -> str:
    """Representational similarity of the class means, per arm and layer."""
    firsts = _first_per_arm(results)
    fig, axes = plt.subplots(len(firsts), len(LAYERS), figsize=(6, 3 * len(firsts)),
                             squeeze=False)
    for row, result in enumerate(firsts):
        for col, layer in enumerate(LAYERS):
            ax = axes[row][col]
            image = ax.imshow(result["arrays"][layer]["rsm"], vmin=-1, vmax=1, cmap="RdBu_r")
            ax.set_title(f"{layer}, {result['run'].label}")
            ax.set_xlabel("class")
            ax.set_ylabel("class")
    fig.colorbar(image, ax=axes, shrink=0.6, label="Pearson r of class means")
    return save_figure(fig, out_dir, "similarity", fmt)


def figure_time_course(results, out_dir, fmt, plt) -> str:
    """Goodness, population rate and membrane potentials over a positive and
    a negative window of one image (first run of each arm)."""
    firsts = _first_per_arm(results)
    fig, axes = plt.subplots(3, len(firsts), figsize=(4 * len(firsts), 7), squeeze=False)
    for col, result in enumerate(firsts):
        rec, params = result["recording"], result["run"].params
        T, dt_ms = params.T, float(params.dt) * 1000
        steps = np.arange(2 * T) * dt_ms
        ax = axes[0][col]
        for k, layer in enumerate(LAYERS):
            ax.plot(steps, rec.goodness_steps[:2 * T, k], label=f"goodness {layer}")
        ax.set_title(result["run"].label)
        ax = axes[1][col]
        for layer in LAYERS:
            ax.plot(steps, rec.population_rate[layer][:2 * T], label=f"rate {layer} (Hz)")
        ax = axes[2][col]
        v = rec.membrane["z1"][:2 * T]
        ax.plot(steps, v, lw=0.8)
        ax.set_ylabel("z1 membrane v")
        ax.set_xlabel("time (ms)")
        for ax in axes[:, col]:
            ax.axvline(T * dt_ms, color="k", lw=0.6, ls=":")
            ax.legend(fontsize=7) if ax.get_legend_handles_labels()[0] else None
        axes[0][col].text(0.02, 0.95, "positive | negative", transform=axes[0][col].transAxes,
                          va="top", fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out_dir, "time_course", fmt)


def _first_per_arm(results) -> list:
    firsts = {}
    for result in results:
        firsts.setdefault(result["run"].arm, result)
    return [firsts[arm] for arm in ("learned", "control") if arm in firsts]


def main(argv=None):
    args = parse_args(argv)
    runs = subject_runs(args)
    results = []
    for run in runs:
        results.append(measure_run(run, args))
        print(f"{run.label}: " + "; ".join(
            f"{layer} rate {s['rate_hz']:.3g} Hz, SI {s['selectivity_index']:.3g}, "
            f"CV {s['isi_cv_median']:.3g}, Fano {s['fano_factor']:.3g}"
            for layer, s in results[-1]["scalars"].items()), flush=True)
    rows = [(r["run"].run_dir, r["run"].arm, r["run"].seed, layer, measure, value)
            for r in results for layer in LAYERS
            for measure, value in r["scalars"][layer].items()]
    table = markdown(results)
    write_results(args.out, "physiology", HEADER, rows, table)
    from brian_edff.plotting import _plt

    plt = _plt()
    for draw in (figure_physiology, figure_tuning, figure_similarity, figure_time_course):
        draw(results, args.out, args.format, plt)
    print(table)


if __name__ == "__main__":
    sys.exit(run_protocol(main))
