"""Command-line arguments shared by the protocols."""

import argparse


def protocol_parser(doc: str, dataset: str = "digits", params: str = "fast"):
    """Parser with --dataset, --params, --epochs, --seed and --out."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--dataset", default=dataset,
                        help="digits, mnist5k or idx:DIR (MNIST, Fashion-MNIST, KMNIST)")
    parser.add_argument("--params", default=params, help="reference, fast, tuned, paper or .json")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="output directory")
    return parser


def train_both_arms(args, mode: str = "supervised") -> dict:
    """Train the learned circuit and its frozen-hidden-synapse control.

    Returns ``{arm: (run_dir, metrics)}`` for ``arm`` in ("learned", "control");
    run directories are ``args.out/<arm>``.
    """
    import os

    from brian_edff.datasets import load_dataset
    from brian_edff.params import load_params
    from brian_edff.training import train

    dataset = load_dataset(args.dataset, args.seed)
    runs = {}
    for arm, plastic in (("learned", True), ("control", False)):
        run_dir = os.path.join(args.out, arm)
        metrics = train(dataset, load_params(args.params), run_dir, mode=mode,
                        epochs=args.epochs, seed=args.seed, plasticity=plastic)
        runs[arm] = (run_dir, metrics)
    return runs
