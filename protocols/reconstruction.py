"""Reconstruction: how well does the zR layer predict its input from z1's spikes?

Question: the predictive part of ED-FF (Ororbia 2023, section "predictive
forward-forward"): the reconstruction layer, driven by layer 1's spikes of
the same step, learns from the local error between input spikes and its own
spikes. We report binary cross-entropy and squared error of the mean zR trace
(summed over pixels, averaged over test images) for the learned circuit and
its frozen-hidden-synapse control, and save a figure of reconstructions.

Run (digits, about 4 minutes on 2 cores)::

    python protocols/reconstruction.py --dataset digits --params fast \\
        --out runs/reconstruction_digits
"""

import json
import os

from _common import protocol_parser

from brian_edff.datasets import load_dataset
from brian_edff.params import load_params
from brian_edff.plotting import figure_reconstructions, load_run
from brian_edff.training import train


def main():
    args = protocol_parser(__doc__).parse_args()
    dataset = load_dataset(args.dataset, args.seed)
    results = {}
    for arm, plastic in (("learned", True), ("control", False)):
        run_dir = os.path.join(args.out, arm)
        metrics = train(dataset, load_params(args.params), run_dir, epochs=args.epochs,
                        seed=args.seed, plasticity=plastic)
        results[arm] = {k: metrics["test"][k] for k in ("recon_bce", "recon_mse")}
        figure_reconstructions([load_run(run_dir)], run_dir)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
