"""Stimulus-window length T against accuracy.

Question: how many simulation steps per stimulus does the circuit need? The
same protocol is run with T = 10, 20, 30, 50 steps (window = T * dt); each T
is a separate network shape (its own compiled build). Paper: the choice of
T = 50 steps of 3 ms in the author's code (the preprint used other values).

Run (digits, about 8 minutes on 2 cores)::

    python protocols/window_length.py --dataset digits --params fast \\
        --steps 10 20 30 50 --out runs/window_length_digits

The summary table is printed and written to ``OUT/window_length.md``.
"""

import os

from _common import protocol_parser

from brian_edff.datasets import load_dataset
from brian_edff.params import load_params
from brian_edff.training import train

METRICS = ("classifier_accuracy", "goodness_accuracy", "probe_accuracy", "recon_bce")


def main():
    parser = protocol_parser(__doc__)
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 20, 30, 50])
    args = parser.parse_args()
    dataset = load_dataset(args.dataset, args.seed)
    lines = ["| T | window | " + " | ".join(METRICS) + " | train ms/image |",
             "|---|---|" + "---|" * (len(METRICS) + 1)]
    for steps in args.steps:
        params = load_params(args.params).replace(T=steps)
        run_dir = os.path.join(args.out, f"T{steps}")
        if os.path.exists(os.path.join(run_dir, "metrics.json")):
            from brian_edff.checkpoint import read_json
            metrics = read_json(os.path.join(run_dir, "metrics.json"))
        else:
            metrics = train(dataset, params, run_dir, epochs=args.epochs, seed=args.seed,
                            resume=os.path.exists(os.path.join(run_dir, "config.json")))
        test = metrics["test"]
        lines.append(f"| {steps} | {params.window} | "
                     + " | ".join(f"{test[m]:.3f}" for m in METRICS)
                     + f" | {metrics['train_ms_per_image']:.1f} |")
        print(lines[-1], flush=True)
    with open(os.path.join(args.out, "window_length.md"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
