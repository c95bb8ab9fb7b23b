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

from _common import protocol_parser, train_both_arms

from brian_edff.plotting import figure_reconstructions, load_run


def main():
    args = protocol_parser(__doc__).parse_args()
    results = {}
    for arm, (run_dir, metrics) in train_both_arms(args).items():
        results[arm] = {k: metrics["test"][k] for k in ("recon_bce", "recon_mse")}
        figure_reconstructions([load_run(run_dir)], run_dir)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
