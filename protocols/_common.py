"""Command-line arguments shared by the protocols."""

import argparse


def protocol_parser(doc: str, dataset: str = "digits", params: str = "fast"):
    """Parser with --dataset, --params, --epochs, --seed and --out."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--dataset", default=dataset,
                        help="digits, mnist5k or idx:DIR (MNIST, Fashion-MNIST, KMNIST)")
    parser.add_argument("--params", default=params, help="reference, fast, tuned or .json")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="output directory")
    return parser
