"""Unsupervised CSDP with hybrid-image negatives, read out by a linear probe.

Question: without labels in the circuit, does CSDP learn population codes
that a linear readout can decode? Negative windows show hybrid images (50/50
blends of two images of different classes; Hinton 2022); the context
population stays silent. Paper: the self-supervised setting of Ororbia
(Science Advances 2024). The probe (logistic regression on z1 + z2 spike
counts) is compared with the same protocol on frozen hidden synapses.

Run (digits, about 4 minutes on 2 cores for both arms)::

    python protocols/unsupervised_probe.py --dataset digits --params fast \\
        --out runs/unsupervised_digits
"""

import json
import os

from _common import protocol_parser

from brian_edff.datasets import load_dataset
from brian_edff.params import load_params
from brian_edff.training import train


def main():
    args = protocol_parser(__doc__).parse_args()
    dataset = load_dataset(args.dataset, args.seed)
    results = {}
    for arm, plastic in (("learned", True), ("control", False)):
        metrics = train(dataset, load_params(args.params), os.path.join(args.out, arm),
                        mode="unsupervised", epochs=args.epochs, seed=args.seed,
                        plasticity=plastic)
        results[arm] = {k: metrics["test"][k] for k in ("probe_accuracy",
                                                         "classifier_accuracy")}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
