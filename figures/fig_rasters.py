"""Figure (a) Spike rasters of every layer over one positive and one negative window.

Reads run directories written by `python -m brian_edff train` (or the
protocols) and writes `rasters.png` and `rasters.csv` (the data behind it) into
`--out` (default: this folder). All figures at once:
`python -m brian_edff figures RUN_DIR... --out figures/`.

Run::

    python figures/fig_rasters.py RUN_DIR [RUN_DIR ...] [--out figures/]
"""

from brian_edff.plotting import script_main

if __name__ == "__main__":
    script_main("rasters")
