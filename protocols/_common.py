"""Command-line arguments shared by the protocols."""

import argparse
import os


def protocol_parser(doc: str, dataset: str = "digits", params: str = "fast"):
    """Parser with --dataset, --params, --epochs, --seed and --out."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--dataset", default=dataset,
                        help="digits, mnist5k or idx:DIR (MNIST, Fashion-MNIST, KMNIST)")
    parser.add_argument("--params", default=params, help="reference, fast, tuned, paper or .json")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="output directory")
    return parser


def train_both_arms(args, mode: str = "supervised") -> dict:
    """Train the learned circuit and its frozen-hidden-synapse control.

    Returns ``{arm: (run_dir, metrics)}`` for ``arm`` in ("learned", "control");
    run directories are ``args.out/<arm>``.
    """
    import os

    from brian_edff.datasets import load_dataset
    from brian_edff.params import load_params
    from brian_edff.training import train

    dataset = load_dataset(args.dataset, args.seed)
    runs = {}
    for arm, plastic in (("learned", True), ("control", False)):
        run_dir = os.path.join(args.out, arm)
        metrics = train(dataset, load_params(args.params), run_dir, mode=mode,
                        epochs=args.epochs, seed=args.seed, plasticity=plastic,
                        device=getattr(args, "device", "standalone"),
                        threads=getattr(args, "threads", None))
        runs[arm] = (run_dir, metrics)
    return runs


# --------------------------------------------------------------------------
# Experiments on saved runs (lesions, physiology, robustness)
# --------------------------------------------------------------------------

class ProtocolError(ValueError):
    """Bad arguments of a protocol: reported in one line, nothing written."""


def experiment_parser(doc: str):
    """Parser of a protocol that probes saved runs or trains both arms first."""
    parser = protocol_parser(doc, dataset="digits", params="fast")
    parser.add_argument("--run", action="append", default=[], metavar="DIR",
                        help="a finished run directory (repeatable: e.g. a learned run "
                             "and its control); without it both arms are trained "
                             "into OUT/learned and OUT/control first")
    parser.add_argument("--format", default="png", choices=("png", "pdf", "svg"),
                        help="figure format")
    parser.add_argument("--device", default="standalone",
                        choices=("standalone", "cpp_standalone", "runtime"))
    parser.add_argument("--threads", type=int, default=None,
                        help="synaptic threads (default: as the machine's load allows)")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="use N test images drawn at random, the same for every run "
                             "(default: all)")
    parser.add_argument("--probe-limit", type=int, default=None, metavar="N",
                        help="fit the linear probe on N training images drawn at random "
                             "(default: all)")
    return parser


def run_protocol(main, argv=None) -> int:
    """Run ``main(argv)``; a bad argument or run directory ends in one line on
    stderr and exit status 2, before anything is written."""
    import sys

    from brian_edff.checkpoint import CheckpointError
    from brian_edff.degradation import DegradationError
    from brian_edff.params import ParamsError
    from brian_edff.training import RunError

    try:
        main(argv)
    except (ProtocolError, RunError, CheckpointError, ParamsError, DegradationError) as err:
        prog = os.path.basename(sys.argv[0]) if argv is None else "protocol"
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    return 0


def check_limits(args):
    for name in ("limit", "probe_limit"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ProtocolError(f"--{name.replace('_', '-')}: must be >= 1, got {value}")


def subject_runs(args) -> list:
    """The saved runs a protocol probes: ``--run`` directories (checked
    before any work) or, without them, both arms trained into ``args.out``."""
    from brian_edff.experiments import check_runs, load_saved_run

    if args.run:
        check_runs(args.run)
        dirs = list(args.run)
    else:
        dirs = [run_dir for run_dir, _ in train_both_arms(args).values()]
    runs = [load_saved_run(run_dir) for run_dir in dirs]
    for run in runs:
        run.dataset = sample_images(run.dataset, args.limit, args.probe_limit)
    return runs


def sample_images(dataset, n_test=None, n_train=None):
    """``dataset`` with ``n_test`` test and ``n_train`` training images drawn
    without replacement (seeded, the same for every run; all where None),
    in their original order: the splits are sorted by class, so their first
    images would be a few classes only."""
    import numpy as np

    from brian_edff.datasets import Dataset

    def pick(n, size, salt):
        if n is None or n >= size:
            return np.arange(size)
        return np.sort(np.random.default_rng([0x5A3, salt]).choice(size, n, replace=False))

    test = pick(n_test, len(dataset.test_y), 1)
    train = pick(n_train, len(dataset.train_y), 2)
    return Dataset(dataset.name, dataset.image_shape, dataset.train_x[train],
                   dataset.train_y[train], dataset.dev_x, dataset.dev_y,
                   dataset.test_x[test], dataset.test_y[test])


def write_tidy(out_dir: str, name: str, header, rows) -> str:
    """``OUT/name.csv``, written atomically."""
    import csv
    import io

    from brian_edff.checkpoint import write_text

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path = os.path.join(out_dir, f"{name}.csv")
    write_text(path, buffer.getvalue())
    return path


def write_results(out_dir: str, name: str, header, rows, table: str) -> None:
    """``OUT/name.csv`` (tidy rows) and ``OUT/name.md`` (``table``), atomically."""
    from brian_edff.checkpoint import write_text

    os.makedirs(out_dir, exist_ok=True)
    write_tidy(out_dir, name, header, rows)
    write_text(os.path.join(out_dir, f"{name}.md"), table)


def save_figure(fig, out_dir: str, name: str, fmt: str) -> str:
    """Save ``fig`` as ``OUT/name.fmt`` and close it; returns the path."""
    import matplotlib.pyplot as plt

    path = os.path.join(out_dir, f"{name}.{fmt}")
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def mean_sd(values, signed: bool = False) -> str:
    """``"93.1 +- 0.4"`` of finite values (``"-"`` where none); ``signed``
    writes the sign of the mean (``"+1.2 +- 0.3"``)."""
    import numpy as np

    values = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if not len(values):
        return "-"
    mean = f"{values.mean():+.3g}" if signed else f"{values.mean():.3g}"
    return f"{mean} +- {values.std():.2g}" if len(values) > 1 else mean
