"""Figure (b) Layer goodness over the window, positive against negative (mean and sd).

Reads run directories written by `python -m brian_edff train` (or the
protocols) and writes `goodness.png` and `goodness.csv` (the data behind it) into
`--out` (default: this folder). All figures at once:
`python -m brian_edff figures RUN_DIR... --out figures/`.

Run::

    python figures/fig_goodness.py RUN_DIR [RUN_DIR ...] [--out figures/]
"""

from brian_edff.plotting import script_main

if __name__ == "__main__":
    script_main("goodness")
