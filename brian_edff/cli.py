"""Command line: ``python -m brian_edff train | evaluate ...``.

Examples
--------
Train the fast circuit on the bundled 8x8 digits and score it::

    python -m brian_edff train --dataset digits --params fast --out runs/digits

Re-score a finished run from its saved weights::

    python -m brian_edff evaluate runs/digits

Refit the heads for two more epochs on the final representation (a new run
directory, equal to training with ``head_epochs`` 3 from the start)::

    python -m brian_edff extend runs/digits --head-epochs 3 --out runs/digits_head3

Errors are printed as one line on stderr with a non-zero exit status.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import signal
import sys

from .checkpoint import CheckpointError, read_json
from .circuit import DEVICES
from .datasets import DataError, load_dataset
from .models import ModelError
from .params import Params, ParamsError, load_params
from .stimuli import MODES

#: Brian2 devices of the circuit (see brian_edff.circuit).

__all__ = ["main"]

#: Errors that are the user's input, reported as one line.
USER_ERRORS = (ParamsError, DataError, CheckpointError, ModelError)


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m brian_edff",
        description="Event-driven forward-forward (CSDP) learning in Brian2.")
    parser.add_argument("--pref", action="append", default=[], metavar="NAME=VALUE",
                        help="set a Brian2 preference before the command, e.g. "
                             "devices.edff_standalone.vector_width=256 (repeatable)")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a circuit and score it on the test set")
    train.add_argument("--dataset", default="digits",
                       help="digits (default), mnist5k, or idx:DIR")
    train.add_argument("--params", default="fast",
                       help="reference, fast (default), tuned, or a .json file")
    train.add_argument("--mode", default="supervised", choices=MODES)
    train.add_argument("--epochs", type=int, default=None,
                       help="training epochs (default: the parameter set's)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--no-plasticity", action="store_true",
                       help="freeze the hidden (CSDP) synapses; heads still learn")
    train.add_argument("--out", help="run directory (must be new or empty)")
    train.add_argument("--resume", metavar="RUN_DIR",
                       help="continue an interrupted run from its last complete chunk")
    train.add_argument("--device", default="standalone", choices=DEVICES,
                       help="standalone (brian_edff's compiled device, default), "
                            "cpp_standalone (Brian2's), or runtime")
    train.add_argument("--threads", type=int, default=None,
                       help="standalone: threads of the synaptic event loops (default 2 on "
                            "an idle machine with 2+ cores, else 1); "
                            "cpp_standalone: Brian2's OpenMP threads (default 0)")
    train.add_argument("--model", default=None, metavar="NAME|FILE.py",
                       help="neuron model of the hidden layers: default, adaptation, "
                            "refractory, exp_synapses, conductance, or a .py file "
                            "defining MODEL (default: the parameter set's)")
    train.add_argument("--no-progress", action="store_true")

    evaluate = sub.add_parser("evaluate", help="recompute test metrics from saved weights")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--dataset", default=None,
                          help="score on another data set of the same image size")
    evaluate.add_argument("--device", default="standalone", choices=DEVICES)
    evaluate.add_argument("--threads", type=int, default=None,
                          help="threads of the compiled device (as for train)")
    evaluate.add_argument("--jobs", type=_positive_int, default=None,
                          help="readout chunks run at once, one thread each (default: the "
                               "cores the load leaves free; results do not depend on it)")
    evaluate.add_argument("--no-progress", action="store_true")

    extend = sub.add_parser("extend", help="more head-only epochs on a finished run, "
                                           "in a new run directory")
    extend.add_argument("run_dir")
    extend.add_argument("--head-epochs", type=int, required=True,
                        help="total head-only epochs of the new run (more than the run's)")
    extend.add_argument("--out", required=True, help="new run directory")
    extend.add_argument("--device", default="standalone", choices=DEVICES)
    extend.add_argument("--threads", type=int, default=None,
                        help="threads of the compiled device (as for train)")
    extend.add_argument("--no-progress", action="store_true")

    figures = sub.add_parser("figures", help="all figures and the results table from runs")
    figures.add_argument("run_dirs", nargs="+")
    figures.add_argument("--out", default="figures")
    figures.add_argument("--format", default="png", choices=("png", "pdf", "svg"),
                         help="file format of the figures (pdf and svg for papers)")
    figures.add_argument("--images", type=int, default=40,
                         help="test images replayed for rasters and goodness traces")

    sweep = sub.add_parser("sweep", help="grid x seeds as independent runs on Dask")
    sweep.add_argument("grid", help="grid JSON file")
    sweep.add_argument("--seeds", default="0", help="e.g. 0-4 or 1,3,7")
    sweep.add_argument("--out", required=True, help="sweep directory")
    sweep.add_argument("--scheduler", default=None,
                       help="address of a running Dask scheduler (default: local cluster)")
    sweep.add_argument("--workers", type=int, default=None,
                       help="local worker processes (default: one per core)")
    sweep.add_argument("--plot-metric", default="classifier_accuracy")
    return parser


def _cmd_sweep(args) -> int:
    from .sweep import parse_seeds, run_sweep

    seeds = parse_seeds(args.seeds)
    rows = run_sweep(args.grid, seeds, args.out, scheduler=args.scheduler,
                     n_workers=args.workers, plot_metric=args.plot_metric)
    failed = sum(r["status"] != "ok" for r in rows)
    print(f"{args.out}: {len(rows)} runs, {failed} failed; see results.csv and summary.md")
    return 1 if failed else 0


def _cmd_figures(args) -> int:
    from brian2 import prefs

    from .plotting import make_all

    for run_dir in args.run_dirs:
        if not os.path.isfile(os.path.join(run_dir, "metrics.json")):
            raise CheckpointError(f"{run_dir}: not a finished run directory (no metrics.json)")
    prefs.codegen.target = "numpy"
    for path in make_all(args.run_dirs, args.out, n_images=args.images, fmt=args.format):
        print(path)
    return 0


def _summary(metrics: dict) -> str:
    test = metrics.get("test", metrics)
    keys = ("classifier_accuracy", "goodness_accuracy", "probe_accuracy", "recon_bce",
            "recon_mse")
    return json.dumps({k: round(test[k], 4) for k in keys if k in test})


def _cmd_train(args) -> int:
    from .training import RunError, train

    if args.resume:
        run_dir = args.resume
        if os.path.isfile(os.path.join(run_dir, "metrics.json")):
            raise RunError(f"{run_dir}: run already complete (metrics.json exists)")
        if not os.path.isfile(os.path.join(run_dir, "config.json")):
            raise RunError(f"{run_dir}: not a run directory (no config.json) to resume")
        config = read_json(os.path.join(run_dir, "config.json"))
        params = Params.from_record(config["params"])
        dataset = load_dataset(config["dataset"], config["seed"])
        metrics = train(dataset, params, run_dir, mode=config["mode"],
                        epochs=config["epochs"], seed=config["seed"],
                        plasticity=config["plasticity"], device=args.device,
                        progress=not args.no_progress, resume=True, threads=args.threads)
    else:
        if not args.out:
            raise RunError("--out: give a run directory (or --resume RUN_DIR)")
        params = load_params(args.params)
        if args.model is not None:
            params = params.replace(model=args.model)
        dataset = load_dataset(args.dataset, args.seed)
        params.validate(n_input=dataset.n_input)
        run_dir = args.out
        metrics = train(dataset, params, run_dir, mode=args.mode, epochs=args.epochs,
                        seed=args.seed, plasticity=not args.no_plasticity,
                        device=args.device, progress=not args.no_progress,
                        threads=args.threads)
    print(f"{run_dir}: test {_summary(metrics)}; training {metrics['train_wall_s']:.1f} s, "
          f"build {metrics['build_s']:.1f} s")
    return 0


def _cmd_extend(args) -> int:
    from .training import extend_run

    metrics = extend_run(args.run_dir, args.out, args.head_epochs, device=args.device,
                         progress=not args.no_progress, threads=args.threads)
    split = "test" if "test" in metrics else "dev"
    scores = metrics.get("test", metrics.get("dev_final", {}))
    print(f"{args.out}: best epoch {metrics['best_epoch']} of "
          f"{metrics['epochs'] + metrics['head_epochs']}; {split} {_summary(scores)}")
    return 0


def _cmd_evaluate(args) -> int:
    from .training import evaluate_run

    out = evaluate_run(args.run_dir, dataset=args.dataset, device=args.device,
                       threads=args.threads, jobs=args.jobs, progress=not args.no_progress)
    print(f"{args.run_dir}: test {_summary(out)}")
    return 0


def _terminate(signum, frame):
    """SIGTERM ends a run like Ctrl-C: the last complete chunk stays saved."""
    raise KeyboardInterrupt


def set_preferences(assignments) -> None:
    """Set Brian2 preferences from ``NAME=VALUE`` texts (``--pref``).

    Values are Python literals (``256``, ``False``, ``'gcc'``); anything
    else is taken as a string. Raises ValueError, one line naming the
    preference, for a malformed assignment, an unknown name or a bad value.
    """
    from brian2 import prefs
    from brian2.core.preferences import PreferenceError

    from . import device  # noqa: F401  (registers the device's preferences)

    for text in assignments:
        name, sep, value = text.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--pref: give NAME=VALUE, got {text!r}")
        try:
            value = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            value = value.strip()
        try:
            prefs[name] = value
        except PreferenceError as err:
            raise ValueError(str(err).splitlines()[0]) from None
        except KeyError:
            raise ValueError(f"--pref: unknown preference {name!r}") from None


def main(argv=None) -> int:
    """Entry point; returns the exit status."""
    from .sweep import GridError
    from .training import RunError

    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        set_preferences(args.pref)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        if args.command == "train":
            return _cmd_train(args)
        if args.command == "figures":
            return _cmd_figures(args)
        if args.command == "sweep":
            return _cmd_sweep(args)
        if args.command == "extend":
            return _cmd_extend(args)
        return _cmd_evaluate(args)
    except (*USER_ERRORS, RunError, GridError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        target = getattr(args, "out", None) or getattr(args, "resume", None)
        hint = f" resume with: python -m brian_edff train --resume {target}" if target else ""
        print(f"interrupted; the last complete chunk is saved.{hint}", file=sys.stderr)
        return 130
    except OSError as err:
        print(f"error: {err.filename or ''}: {err.strerror}", file=sys.stderr)
        return 2
