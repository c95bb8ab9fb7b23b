"""Figure (h) Results table: mean +- sd over seeds of every readout.

Reads run directories written by `python -m brian_edff train` (or the
protocols) and writes `results_table.png` and `results_table.csv` (the data behind it) into
`--out` (default: this folder). All figures at once:
`python -m brian_edff figures RUN_DIR... --out figures/`.

Run::

    python figures/fig_results_table.py RUN_DIR [RUN_DIR ...] [--out figures/]
"""

from brian_edff.plotting import script_main

if __name__ == "__main__":
    script_main("results_table")
