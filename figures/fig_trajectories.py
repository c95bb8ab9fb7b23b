"""Figure (f') Learned against control: dev accuracy per epoch, mean +- sd over seeds.

Reads run directories of both arms (e.g. ``protocols/multi_seed.py``'s
``OUT/learned_seed*`` and ``OUT/control_seed*``) and writes
`trajectories.png` and `trajectories.csv` into `--out` (default: this
folder); a dotted line marks the first epoch from which the learned circuit's
mean stays above its frozen control's.

Run::

    python figures/fig_trajectories.py RUN_DIR [RUN_DIR ...] [--out figures/]
"""

from brian_edff.plotting import script_main

if __name__ == "__main__":
    script_main("trajectories")
