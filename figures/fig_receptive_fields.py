"""Figure (c) Receptive fields of the first-layer synapses (W1 columns as image tiles).

Reads run directories written by `python -m brian_edff train` (or the
protocols) and writes `receptive_fields.png` and `receptive_fields.csv` (the data behind it) into
`--out` (default: this folder). All figures at once:
`python -m brian_edff figures RUN_DIR... --out figures/`.

Run::

    python figures/fig_receptive_fields.py RUN_DIR [RUN_DIR ...] [--out figures/]
"""

from brian_edff.plotting import script_main

if __name__ == "__main__":
    script_main("receptive_fields")
