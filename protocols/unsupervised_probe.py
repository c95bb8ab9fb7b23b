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

from _common import protocol_parser, train_both_arms


def main():
    args = protocol_parser(__doc__).parse_args()
    results = {arm: {k: metrics["test"][k] for k in ("probe_accuracy", "classifier_accuracy")}
               for arm, (_, metrics) in train_both_arms(args, mode="unsupervised").items()}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
