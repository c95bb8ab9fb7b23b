"""Figures and tables from run directories (one shared style, one helper each).

Every ``figure_*`` function reads run directories, writes ``<name>.png`` and the
data behind it as ``<name>.csv`` into ``out_dir``, and returns the PNG path.
The scripts in ``figures/`` and ``python -m brian_edff figures`` call them.
"""

from __future__ import annotations

import csv
import json
import os

import numpy as np

from .checkpoint import load_arrays, read_json

__all__ = ["FIGURES", "load_run", "make_all", "results_table"]

COLORS = {"positive": "#c0392b", "negative": "#2e86c1", "learned": "#c0392b",
          "control": "#7f8c8d"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.size": 9,
                         "axes.spines.top": False, "axes.spines.right": False,
                         "axes.titlesize": 9, "legend.frameon": False})
    return plt


def load_run(run_dir: str) -> dict:
    """Config, metrics, selected weights and test readouts of a finished run.

    A run trained without a test evaluation (``eval_split="dev"``, e.g. a
    lever screen) takes its test metrics and readouts from a later
    ``python -m brian_edff evaluate RUN_DIR`` (``evaluation.json``,
    ``evaluation_readouts.npz``).
    """
    run = {"dir": run_dir, "config": read_json(os.path.join(run_dir, "config.json")),
           "metrics": read_json(os.path.join(run_dir, "metrics.json"))}
    run["weights"] = load_arrays(os.path.join(run_dir, "weights.npz"))
    evaluation = os.path.join(run_dir, "evaluation.json")
    if "test" not in run["metrics"] and os.path.exists(evaluation):
        run["metrics"]["test"] = read_json(evaluation)["test"]
    run["readouts"] = None
    for name in ("test_readouts.npz", "evaluation_readouts.npz"):
        path = os.path.join(run_dir, name)
        if os.path.exists(path):
            run["readouts"] = load_arrays(path)
            break
    return run


def _label(run) -> str:
    c = run["config"]
    arm = "learned" if c.get("plasticity", True) else "control"
    return f"{c['dataset']} {c['mode']} {arm} seed {c['seed']}"


#: File formats of the figures (``figures --format``).
FORMATS = ("png", "pdf", "svg")


def _save(fig, out_dir, name, header, rows, fmt="png"):
    if fmt not in FORMATS:
        raise ValueError(f"format: unknown figure format {fmt!r}; use one of {FORMATS}")
    os.makedirs(out_dir, exist_ok=True)
    png = os.path.join(out_dir, f"{name}.{fmt}")
    fig.savefig(png, bbox_inches="tight")
    with open(os.path.join(out_dir, f"{name}.csv"), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return png


def record_windows(run, n_images: int = 20, device: str = "runtime"):
    """Replay test images as positive and negative windows, recording spikes.

    Returns the circuit's :class:`~brian_edff.circuit.ChunkResult` of
    ``2 * n_images`` windows (positive, negative, ...) with learning off.
    """
    from .circuit import Circuit
    from .datasets import load_dataset
    from .params import Params
    from .stimuli import KIND, readout_plan, wrong_labels
    from .training import CircuitState, recorded_model

    config = run["config"]
    params = Params.from_record(config["params"])
    dataset = load_dataset(config["dataset"], config["seed"])
    rng = np.random.default_rng([config["seed"], 0xF16])
    x, y = dataset.test_x[:n_images], dataset.test_y[:n_images]
    plan = readout_plan(np.repeat(x, 2, axis=0), rng)
    labels = np.repeat(y, 2)
    supervised = config["mode"] == "supervised"
    if supervised:
        context = labels.copy()
        context[1::2] = wrong_labels(y, params.n_labels, rng)
        plan.context_label[:] = context
    plan.kind[0::2], plan.kind[1::2] = KIND["positive"], KIND["negative"]
    state = CircuitState.from_arrays(run["weights"])
    circuit = Circuit(params, dataset.n_input, plan.n_windows, device=device,
                      record_spikes=True, model=recorded_model(config))
    try:
        return circuit.run(plan, state.weights, state.theta_base), params, labels
    finally:
        circuit.close()


def figure_rasters(runs, out_dir, recording=None, fmt: str = "png"):
    """(a) Spike rasters of every layer over one positive and one negative window."""
    plt = _plt()
    result, params, labels = recording or record_windows(runs[0], n_images=1)
    from .circuit import population_sizes

    layers = ("z0", "zc", "z1", "z2", "zy", "zR")
    sizes = population_sizes(params, runs[0]["config"]["n_input"])
    fig, axes = plt.subplots(len(layers), 2, figsize=(7, 8), sharex=True)
    rows = []
    for col, kind in enumerate(("positive", "negative")):
        lo, hi = col * params.T, (col + 1) * params.T
        for row, layer in enumerate(layers):
            idx, steps = result.spikes[layer]
            keep = (steps >= lo) & (steps < hi)
            ax = axes[row, col]
            ax.plot(steps[keep] - lo, idx[keep], "|", ms=3, color=COLORS[kind])
            ax.set_ylim(-0.5, sizes[layer] - 0.5)
            ax.set_ylabel(layer if col == 0 else "")
            rows += [(kind, layer, int(s - lo), int(i)) for i, s in zip(idx[keep], steps[keep])]
        axes[0, col].set_title(f"{kind} window (label {labels[0]})")
        axes[-1, col].set_xlabel("step")
    return _save(fig, out_dir, "rasters", ("window", "layer", "step", "neuron"), rows, fmt=fmt)


def figure_goodness(runs, out_dir, recording=None, fmt: str = "png"):
    """(b) Layer goodness over the window, positive vs negative, mean +- sd."""
    plt = _plt()
    result, params, _ = recording or record_windows(runs[0], n_images=40)
    per_window = result.goodness_steps.reshape(-1, params.T, 2)
    fig, axes = plt.subplots(1, 2, figsize=(7, 2.6), sharex=True)
    steps = np.arange(1, params.T + 1)
    rows = []
    for layer, ax in enumerate(axes):
        for parity, kind in ((0, "positive"), (1, "negative")):
            g = per_window[parity::2, :, layer]
            mean, sd = g.mean(0), g.std(0)
            ax.plot(steps, mean, color=COLORS[kind], label=kind)
            ax.fill_between(steps, mean - sd, mean + sd, color=COLORS[kind], alpha=0.2)
            rows += [(f"z{layer + 1}", kind, int(s), float(m), float(d))
                     for s, m, d in zip(steps, mean, sd)]
        ax.set_title(f"goodness of z{layer + 1} ({len(per_window) // 2} test images)")
        ax.set_xlabel("step")
    axes[0].legend()
    return _save(fig, out_dir, "goodness", ("layer", "window", "step", "mean", "sd"), rows, fmt=fmt)


def figure_receptive_fields(runs, out_dir, n_units: int = 36, fmt: str = "png"):
    """(c) Receptive fields: columns of W1 as image tiles."""
    plt = _plt()
    run = runs[0]
    shape = tuple(run["config"]["image_shape"])
    w1 = run["weights"]["W1"]
    side = int(np.ceil(np.sqrt(n_units)))
    fig, axes = plt.subplots(side, side, figsize=(6, 6))
    rows = []
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < min(n_units, w1.shape[1]):
            ax.imshow(w1[:, k].reshape(shape), cmap="RdBu_r", vmin=-1, vmax=1)
            rows.append([k] + [float(v) for v in w1[:, k]])
    fig.suptitle(f"W1 receptive fields ({_label(run)})")
    return _save(fig, out_dir, "receptive_fields",
                 ["unit"] + [f"pixel{i}" for i in range(w1.shape[0])], rows, fmt=fmt)


def figure_tsne(runs, out_dir, seed: int = 0, fmt: str = "png"):
    """(d) t-SNE of z2 rate codes of the test images, coloured by class."""
    from sklearn.manifold import TSNE

    plt = _plt()
    run = runs[0]
    counts, labels = run["readouts"]["z2_counts"], run["readouts"]["labels"]
    rates = counts / run["config"]["params"]["T"]
    perplexity = min(30, max(2, len(rates) // 4))
    xy = TSNE(n_components=2, random_state=seed, perplexity=perplexity,
              init="pca").fit_transform(rates)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    scatter = ax.scatter(xy[:, 0], xy[:, 1], c=labels, cmap="tab10", s=6)
    ax.legend(*scatter.legend_elements(), fontsize=7, loc="best", ncol=2)
    ax.set_title(f"t-SNE of z2 rates ({_label(run)})")
    ax.set_xticks([])
    ax.set_yticks([])
    return _save(fig, out_dir, "tsne", ("x", "y", "label"),
                 [(float(a), float(b), int(c)) for (a, b), c in zip(xy, labels)], fmt=fmt)


def _one_per_class(labels, n: int) -> list:
    """Indices of up to ``n`` test images, cycling through the classes."""
    labels = np.asarray(labels)
    classes = list(np.unique(labels))
    queues = {c: list(np.flatnonzero(labels == c)) for c in classes}
    picked = []
    while len(picked) < min(n, len(labels)):
        for c in classes:
            if queues[c] and len(picked) < n:
                picked.append(int(queues[c].pop(0)))
    return picked


def figure_reconstructions(runs, out_dir, n_images: int = 10, fmt: str = "png"):
    """(e) Reconstructions (mean zR trace) beside their inputs, one test image per class."""
    plt = _plt()
    run = runs[0]
    shape = tuple(run["config"]["image_shape"])
    images, recon = run["readouts"]["images"], run["readouts"]["recon"]
    picked = _one_per_class(run["readouts"]["labels"], n_images)
    n = len(picked)
    fig, axes = plt.subplots(2, n, figsize=(1.1 * n, 2.4), squeeze=False)
    rows = []
    for col, k in enumerate(picked):
        for row, data in enumerate((images[k], recon[k])):
            axes[row, col].imshow(data.reshape(shape), cmap="gray_r", vmin=0,
                                  vmax=max(float(data.max()), 1e-6))
            axes[row, col].axis("off")
        rows.append([k, *(float(v) for v in recon[k])])
    axes[0, 0].set_title("input", loc="left")
    axes[1, 0].set_title("reconstruction", loc="left")
    return _save(fig, out_dir, "reconstructions",
                 ["image"] + [f"pixel{i}" for i in range(images.shape[1])], rows, fmt=fmt)


def figure_learning_curves(runs, out_dir, fmt: str = "png"):
    """(f) Dev classifier accuracy and reconstruction BCE per epoch, every run."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(7, 2.6))
    rows = []
    for run in runs:
        dev = run["metrics"]["dev"]
        epochs = [d["epoch"] for d in dev]
        arm = "learned" if run["config"].get("plasticity", True) else "control"
        axes[0].plot(epochs, [100 * d["classifier_accuracy"] for d in dev], "o-",
                     color=COLORS[arm], alpha=0.7, label=_label(run))
        axes[1].plot(epochs, [d["recon_bce"] for d in dev], "o-", color=COLORS[arm],
                     alpha=0.7)
        rows += [(_label(run), d["epoch"], d["classifier_accuracy"], d["recon_bce"])
                 for d in dev]
    axes[0].set_ylabel("dev classifier accuracy (%)")
    axes[1].set_ylabel("dev reconstruction BCE")
    for ax in axes:
        ax.set_xlabel("epoch")
    axes[0].legend(fontsize=6)
    return _save(fig, out_dir, "learning_curves",
                 ("run", "epoch", "classifier_accuracy", "recon_bce"), rows, fmt=fmt)


def arm_trajectories(runs) -> dict:
    """Dev classifier accuracy per CSDP epoch, per arm, over the runs' seeds.

    Returns ``{arm: (epochs, mean, sd, n_seeds)}``, epochs those every run of
    the arm has (head-only epochs left out); accuracies in %.
    """
    curves = {}
    for run in runs:
        arm = "learned" if run["config"].get("plasticity", True) else "control"
        epochs = run["metrics"].get("epochs") or run["config"].get("epochs")
        dev = [d for d in run["metrics"]["dev"] if not epochs or d["epoch"] <= epochs]
        curves.setdefault(arm, []).append({d["epoch"]: 100 * d["classifier_accuracy"]
                                           for d in dev})
    out = {}
    for arm, per_seed in curves.items():
        epochs = sorted(set.intersection(*(set(c) for c in per_seed)))
        values = np.array([[c[e] for e in epochs] for c in per_seed])
        out[arm] = (epochs, values.mean(axis=0), values.std(axis=0), len(per_seed))
    return out


def figure_trajectories(runs, out_dir, fmt: str = "png"):
    """(f') Learned against control: dev accuracy per epoch, mean +- sd over seeds,
    and the first epoch from which the learned mean stays above the control's."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.2, 2.8))
    curves = arm_trajectories(runs)
    rows = []
    for arm, (epochs, mean, sd, n) in curves.items():
        ax.plot(epochs, mean, "o-", color=COLORS[arm], label=f"{arm} ({n} seeds)")
        ax.fill_between(epochs, mean - sd, mean + sd, color=COLORS[arm], alpha=0.2, lw=0)
        rows += [(arm, e, m, s, n) for e, m, s in zip(epochs, mean, sd)]
    if {"learned", "control"} <= set(curves):
        learned, control = curves["learned"], curves["control"]
        common = [e for e in learned[0] if e in control[0]]
        gap = {e: learned[1][learned[0].index(e)] - control[1][control[0].index(e)]
               for e in common}
        ahead = [e for e in common if all(gap[k] > 0 for k in common if k >= e)]
        if ahead:
            ax.axvline(ahead[0], color="k", lw=0.8, ls=":")
            ax.text(ahead[0], ax.get_ylim()[0], f" learned ahead from epoch {ahead[0]}",
                    fontsize=7, va="bottom")
    ax.set_xlabel("CSDP epoch")
    ax.set_ylabel("dev classifier accuracy (%)")
    ax.legend(fontsize=7)
    return _save(fig, out_dir, "trajectories", ("arm", "epoch", "mean", "sd", "seeds"), rows,
                 fmt=fmt)


def figure_confusion(runs, out_dir, fmt: str = "png"):
    """(g) Confusion matrix of the spiking classifier on the test set."""
    plt = _plt()
    run = runs[0]
    matrix = np.array(run["metrics"]["test"]["confusion_matrix"])
    fig, ax = plt.subplots(figsize=(4, 3.6))
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"classifier ({_label(run)})")
    return _save(fig, out_dir, "confusion", ["true"] + [f"pred{k}" for k in
                                                        range(len(matrix))],
                 [[k, *row] for k, row in enumerate(matrix.tolist())], fmt=fmt)


#: Anchor figures (ALGORITHM.md section 6): what the author's JAX code and a
#: NumPy version of the online rule reached on mnist5k (one epoch, 4,000 train).
ANCHORS = {"mnist5k": "author's JAX code (784-3000-600, 1 epoch): classifier 77.4 %, "
           "BCE 214, MSE 51; NumPy online rule, 3 epochs, calibrated theta_g + head "
           "window: classifier 88.7 % (control 86.5 %), probe 88.0 % (86.4 %), goodness "
           "62 % (<= 10 %)"}

TABLE_METRICS = ("classifier_accuracy", "goodness_accuracy", "probe_accuracy", "recon_bce",
                 "recon_mse")


def results_table(runs, out_dir=None) -> str:
    """(h) Mean +- sd over seeds of every readout, per data set, mode, sizes and arm."""
    groups = {}
    for run in runs:
        c = run["config"]
        p = c["params"]
        key = (c["dataset"], c["mode"], f"{c['n_input']}-{p['n_hidden1']}-{p['n_hidden2']}",
               p["T"], c["epochs"], "learned" if c.get("plasticity", True) else "control")
        groups.setdefault(key, []).append(run["metrics"]["test"])
    header = ("| data set | mode | sizes | T | epochs | arm | seeds | classifier % | "
              "goodness % | probe % | recon BCE | recon MSE |")
    lines = [header, "|" + "---|" * 12]
    rows = []
    for key, tests in sorted(groups.items()):
        cells = []
        for metric in TABLE_METRICS:
            values = np.array([t[metric] for t in tests if metric in t], dtype=float)
            scale = 100.0 if metric.endswith("accuracy") else 1.0
            if len(values) == 0:
                cells.append("-")
                continue
            cells.append(f"{scale * values.mean():.1f} +- {scale * values.std():.1f}")
            rows.append((*key, len(tests), metric, float(values.mean()), float(values.std())))
        lines.append("| " + " | ".join(str(k) for k in key) + f" | {len(tests)} | "
                     + " | ".join(cells) + " |")
    datasets = sorted({k[0] for k in groups})
    notes = [f"- anchor, {d}: {ANCHORS[d]}" for d in datasets if d in ANCHORS]
    text = "\n".join(lines + ([""] + notes if notes else [])) + "\n"
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "results_table.md"), "w") as handle:
            handle.write(text)
        with open(os.path.join(out_dir, "results_table.csv"), "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(("dataset", "mode", "sizes", "T", "epochs", "arm", "seeds",
                             "metric", "mean", "sd"))
            writer.writerows(rows)
    return text


FIGURES = {"rasters": figure_rasters, "goodness": figure_goodness,
           "receptive_fields": figure_receptive_fields, "tsne": figure_tsne,
           "reconstructions": figure_reconstructions,
           "learning_curves": figure_learning_curves, "trajectories": figure_trajectories,
           "confusion": figure_confusion}


def make_all(run_dirs, out_dir, device: str = "runtime", n_images: int = 40,
             fmt: str = "png") -> list:
    """Every figure and the results table from ``run_dirs``; returns written paths.

    ``fmt``: ``"png"``, ``"pdf"`` or ``"svg"`` (vector formats for papers).
    """
    if fmt not in FORMATS:
        raise ValueError(f"format: unknown figure format {fmt!r}; use one of {FORMATS}")
    runs = [load_run(d) for d in run_dirs]
    learned = [r for r in runs if r["config"].get("plasticity", True)] or runs
    first = learned[:1]
    recording = record_windows(first[0], n_images=n_images, device=device)
    paths = [figure_rasters(first, out_dir, recording, fmt=fmt),
             figure_goodness(first, out_dir, recording, fmt=fmt)]
    for name in ("receptive_fields", "tsne", "reconstructions", "confusion"):
        paths.append(FIGURES[name](first, out_dir, fmt=fmt))
    paths.append(figure_learning_curves(runs, out_dir, fmt=fmt))
    paths.append(figure_trajectories(runs, out_dir, fmt=fmt))
    results_table(runs, out_dir)
    paths.append(os.path.join(out_dir, "results_table.md"))
    with open(os.path.join(out_dir, "sources.json"), "w") as handle:
        json.dump({"run_dirs": list(run_dirs)}, handle, indent=2)
    return paths


def script_main(name: str, argv=None) -> str:
    """Command line of one figure script: ``python figures/<name>.py RUN_DIR... [--out D]``."""
    import argparse

    from brian2 import prefs

    parser = argparse.ArgumentParser(description=(FIGURES.get(name) or results_table)
                                     .__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+")
    parser.add_argument("--out", default="figures")
    parser.add_argument("--format", default="png", choices=FORMATS)
    args = parser.parse_args(argv)
    prefs.codegen.target = "numpy"
    runs = [load_run(d) for d in args.run_dirs]
    if name == "results_table":
        print(results_table(runs, args.out))
        return os.path.join(args.out, "results_table.md")
    path = FIGURES[name](runs, args.out, fmt=args.format)
    print(path)
    return path
