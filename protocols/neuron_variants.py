"""Neuron variants: each built-in model of the hidden layers, learned vs its frozen control.

Question: does CSDP learning keep paying when the hidden neurons are changed
(spike-frequency adaptation, an absolute refractory period, exponentially
decaying synaptic currents, conductance-based excitation; see
:data:`brian_edff.models.VARIANTS` for the equations and their sources)?
Every variant is trained twice per seed with the same protocol, once with CSDP
on and once with the hidden synapses frozen (Ororbia 2023, "Experiments"), and
scored on the same readouts. Uses the lever machinery of ``ablation.py``:
each variant is a lever ``{"model": NAME}`` with a control of its own.

Run (``fast`` on the bundled 8x8 digits, 3 seeds, one single-threaded run per
core on a local Dask cluster; about 2 minutes per run on a free core, plus a
1-2 minute build per variant)::

    python protocols/neuron_variants.py --seeds 0-2 --out runs/neuron_variants_digits

A user variant file can be added with ``--model mine.py`` (repeatable).
Writes ``OUT/levers.md`` (the table), ``OUT/levers.png`` (learned minus
control per variant) and ``OUT/results.csv``.
"""

import argparse
import os
import sys

from ablation import load_levers, run_levers

from brian_edff.models import VARIANTS, ModelError, load_model
from brian_edff.sweep import GridError, parse_seeds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits", help="digits, mnist5k or idx:DIR")
    parser.add_argument("--params", default="fast", help="reference, fast, tuned, paper or .json")
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS),
                        help=f"built-in variants (default: all of {', '.join(VARIANTS)})")
    parser.add_argument("--model", action="append", default=[], metavar="FILE.py",
                        help="also a user variant file (repeatable)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds)
        names = [*args.variants, *args.model]
        for name in names:
            load_model(name)
    except (GridError, ModelError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    spec_path = os.path.join(args.out, "variants.json")
    os.makedirs(args.out, exist_ok=True)
    import json

    with open(spec_path, "w") as handle:
        json.dump({"params": args.params, "dataset": args.dataset, "mode": "supervised",
                   "levers": {name: {"model": name} for name in names}}, handle, indent=1)
    try:
        spec = load_levers(spec_path)
    except GridError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    run_levers(spec, seeds, args.out, workers=args.workers)
    print(open(os.path.join(args.out, "levers.md")).read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
