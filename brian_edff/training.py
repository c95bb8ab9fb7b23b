"""The learning loop: chunks of windows, weight hand-over, evaluation, run records.

A training run presents, for every training image in a seeded order, a
positive and a negative window (and, with ``head_window``, a context-free
window that trains the classifier), many windows per Brian2 ``run``. After
each epoch the dev set is read out; the epoch with the best dev classifier
accuracy is kept and scored on the test set with every readout.

Randomness: one seed fixes everything. The image order of epoch ``e`` comes
from ``default_rng([seed, e])``; the wrong labels, hybrid partners and input
phases of chunk ``c`` from ``default_rng([seed, e, c])``; so a run resumed at
a chunk boundary continues exactly as an uninterrupted one.
The head-only epochs come last, so :func:`extend_run` can add more of them
to a finished run: the result is the run trained with them from the start.

Run directory
-------------
``config.json``  parameters, data set, mode, seed, versions, git revision
``checkpoint.npz`` / ``progress.json``  state after the last complete chunk
``weights.npz``  the selected (best dev) weights and thresholds
``metrics.json``  test readouts, dev curves, timings
``test_readouts.npz``  per-image spike counts, goodness and reconstructions
"""

from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass, field

import brian2
import numpy as np
from brian2.utils.logger import catch_logs

from . import readout
from .checkpoint import (
    CheckpointError,
    check_weights,
    load_arrays,
    load_weights,
    provenance,
    read_json,
    save_arrays,
    write_json,
)
from .circuit import (
    PROJECTIONS,
    STATEFUL_POPULATIONS,
    Circuit,
    init_weights,
    initial_synapse_state,
    population_sizes,
    root_message,
    upgrade_synapse_state,
)
from .datasets import Dataset, load_dataset
from .device import default_parallel_runs
from .models import Model, ModelError, load_model
from .params import Params, ParamsError
from .stimuli import MODES, goodness_plan, head_plan, readout_plan, training_plan

__all__ = ["CircuitState", "initial_state", "train", "extend_run", "evaluate_state",
           "Readouts",
           "recorded_model",
           "simulate", "RunError"]

THRESHOLD_POPULATIONS = ("z1", "z2", "zy", "zR")
#: Where :func:`train` scores its best state at the end.
EVAL_SPLITS = ("test", "dev")


class RunError(ValueError):
    """A run directory cannot be created, resumed or evaluated."""


@dataclass
class CircuitState:
    """Everything that persists across windows: weights, base thresholds and
    learning state of the adaptive step (per synapse, ``"W1.g2"``, and per
    presynaptic cell, ``"z0.g2_norm"`` ...)."""

    weights: dict
    theta_base: dict
    synapse_state: dict = field(default_factory=dict)

    def to_arrays(self, prefix: str = "") -> dict:
        out = {f"{prefix}{k}": v for k, v in self.weights.items()}
        out.update({f"{prefix}theta_{k}": v for k, v in self.theta_base.items()})
        out.update({f"{prefix}{k}": v for k, v in self.synapse_state.items()})
        return out

    @classmethod
    def from_arrays(cls, arrays: dict, prefix: str = "") -> CircuitState:
        weights = {p.name: arrays[f"{prefix}{p.name}"] for p in PROJECTIONS}
        theta = {k: arrays[f"{prefix}theta_{k}"] for k in THRESHOLD_POPULATIONS}
        owners = set(weights) | set(STATEFUL_POPULATIONS)
        learner = {key[len(prefix):]: value for key, value in arrays.items()
                   if key.startswith(prefix) and "." in key[len(prefix):]
                   and key[len(prefix):].split(".")[0] in owners}
        return cls(weights, theta, upgrade_synapse_state(learner))

    def copy(self) -> CircuitState:
        return CircuitState({k: v.copy() for k, v in self.weights.items()},
                            {k: v.copy() for k, v in self.theta_base.items()},
                            {k: v.copy() for k, v in self.synapse_state.items()})


def initial_state(params: Params, n_input: int, seed: int) -> CircuitState:
    """U(-1, 1) weights and thresholds theta0 + U(-jitter, jitter), seeded."""
    rng = np.random.default_rng([seed, 0xED])
    weights = init_weights(params, n_input, rng)
    sizes = population_sizes(params, n_input)
    theta = {name: (params.theta0 + rng.uniform(-params.theta_jitter, params.theta_jitter,
                                                size=sizes[name])).astype(np.float32)
             for name in THRESHOLD_POPULATIONS}
    return CircuitState(weights, theta, initial_synapse_state(params, n_input))


def weight_shapes(params: Params, n_input: int) -> dict:
    """Expected [pre, post] shape of every projection."""
    sizes = population_sizes(params, n_input)
    return {p.name: (sizes[p.pre], sizes[p.post]) for p in PROJECTIONS}


@dataclass
class Readouts:
    """Per-window readouts of a simulated plan (padding removed)."""

    counts: dict
    goodness: np.ndarray
    recon: np.ndarray

    @classmethod
    def concatenate(cls, parts) -> Readouts:
        return cls({k: np.concatenate([p.counts[k] for p in parts]) for k in parts[0].counts},
                   np.concatenate([p.goodness for p in parts]),
                   np.concatenate([p.recon for p in parts]))


def simulate(circuit: Circuit, plan, state: CircuitState, progress=None):
    """Run ``plan`` chunk by chunk from ``state``; return (new state, readouts)."""
    parts = []
    for start, chunk in plan.chunks(circuit.n_windows):
        result = circuit.run(chunk, state.weights, state.theta_base,
                             synapse_state=state.synapse_state)
        state = CircuitState(result.weights, state.theta_base,
                             result.synapse_state or state.synapse_state)
        n = min(circuit.n_windows, plan.n_windows - start)
        parts.append(Readouts({k: v[:n] for k, v in result.counts.items()},
                              result.goodness[:n], result.recon[:n]))
        if progress is not None:
            progress.update(n)
    return state, Readouts.concatenate(parts)


def read_out(circuit: Circuit, plan, state: CircuitState, progress=None,
             jobs: int | None = None) -> Readouts:
    """Readouts of ``plan``, in which nothing learns, every chunk from ``state``.

    The chunks do not depend on each other, so a compiled circuit runs up to
    ``jobs`` of them at once (:meth:`Circuit.run_independent`); the readouts
    are those of :func:`simulate` chunk by chunk.
    """
    chunks = list(plan.chunks(circuit.n_windows))
    step = jobs or default_parallel_runs()
    parts = []
    for first in range(0, len(chunks), step):
        batch = chunks[first:first + step]
        results = circuit.run_independent([chunk for _, chunk in batch], state.weights,
                                          state.theta_base, state.synapse_state, jobs=step)
        for (start, _), result in zip(batch, results):
            n = min(circuit.n_windows, plan.n_windows - start)
            parts.append(Readouts({k: v[:n] for k, v in result.counts.items()},
                                  result.goodness[:n], result.recon[:n]))
            if progress is not None:
                progress.update(n)
    return Readouts.concatenate(parts)


def _progress(total, desc, enabled):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="win", leave=False, mininterval=2.0)


def evaluate_state(circuit: Circuit, state: CircuitState, dataset: Dataset, seed: int,
                   split: str = "test", probe: bool = True, goodness: bool = True,
                   progress: bool = False, jobs: int | None = None) -> tuple[dict, dict]:
    """Every readout on ``split``; returns (metrics, per-image arrays).

    ``jobs``: readout chunks run at once on a compiled device (:func:`read_out`;
    default :func:`brian_edff.device.default_parallel_runs`). The metrics do
    not depend on it.
    """
    params = circuit.params
    x, y = getattr(dataset, f"{split}_x"), getattr(dataset, f"{split}_y")
    rng = np.random.default_rng([seed, 0xE7A1, len(x)])
    bar = _progress(len(x) * (1 + (params.n_labels if goodness else 0)) +
                    (len(dataset.train_x) if probe else 0), f"evaluate {split}", progress)
    out = read_out(circuit, readout_plan(x, rng), state, bar, jobs)
    predictions = readout.classifier_predictions(out.counts["zy"])
    bce, mse = readout.reconstruction_errors(out.recon, x)
    metrics = {"n_images": int(len(x)),
               "classifier_accuracy": readout.accuracy(predictions, y),
               "recon_bce": bce, "recon_mse": mse,
               "z1_rate_per_step": float(out.counts["z1"].sum(1).mean() / params.T),
               "z2_rate_per_step": float(out.counts["z2"].sum(1).mean() / params.T)}
    arrays = {"labels": y, "classifier_counts": out.counts["zy"],
              "classifier_predictions": predictions, "z1_counts": out.counts["z1"],
              "z2_counts": out.counts["z2"], "recon": out.recon,
              "images": x}
    if goodness:
        cand = read_out(circuit, goodness_plan(x, params.n_labels, rng), state, bar, jobs)
        g_pred = readout.goodness_predictions(cand.goodness, params.n_labels)
        metrics["goodness_accuracy"] = readout.accuracy(g_pred, y)
        arrays["goodness_candidates"] = cand.goodness.reshape(len(x), params.n_labels, -1)
        arrays["goodness_predictions"] = g_pred
    if probe:
        train_out = read_out(circuit, readout_plan(dataset.train_x, rng), state, bar, jobs)
        features = np.hstack([train_out.counts["z1"], train_out.counts["z2"]])
        test_features = np.hstack([out.counts["z1"], out.counts["z2"]])
        metrics["probe_accuracy"], arrays["probe_predictions"] = readout.probe_accuracy(
            features, dataset.train_y, test_features, y, seed)
    metrics["confusion_matrix"] = readout.confusion_matrix(
        predictions, y, params.n_labels).tolist()
    if bar is not None:
        bar.close()
    return metrics, arrays


#: Digests of the models that :func:`check_model` built and ran in this process.
_CHECKED_MODELS = set()


def check_model(model) -> Model:
    """Build and run a tiny circuit with ``model`` (NumPy runtime, one window).

    Catches what a model file can get wrong before anything is written: a
    malformed equation, an undefined constant, a unit mismatch. A model whose
    content (:meth:`~brian_edff.models.Model.digest`) already passed in this
    process is not run again.

    Raises
    ------
    ModelError
        One line naming the variant and the problem.
    """
    model = load_model(model)
    for line in model.eqs.splitlines():
        if line.strip():
            try:
                brian2.Equations(line)
            except Exception as err:  # noqa: BLE001
                raise ModelError(f"model {model.name}: eqs: cannot parse "
                                        f"{line.strip()!r} ({root_message(err)})") from None
    digest = model.digest()
    if digest in _CHECKED_MODELS:
        return model
    # Brian2's warnings about the trial circuit (objects of a failed trial
    # that never ran are "never included in a network" when collected) are
    # caught, so that a refusal is the one-line error alone.
    with catch_logs():
        problem = _model_problem(model)
        gc.collect()
    if problem is not None:
        raise ModelError(f"model {model.name}: {problem}")
    _CHECKED_MODELS.add(digest)
    return model


def _model_problem(model) -> str | None:
    """Run a tiny circuit with ``model`` (NumPy runtime, one window); the
    problem as one line, or ``None``."""
    params = Params(n_hidden1=3, n_hidden2=2, n_labels=2, T=4, chunk_windows=1)
    previous = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    try:
        rng = np.random.default_rng(0)
        circuit = Circuit(params, 4, 1, device="runtime", model=model)
        weights = init_weights(params, 4, rng)
        theta = {name: np.full(size, params.theta0) for name, size in
                 population_sizes(params, 4).items() if name in ("z1", "z2", "zy", "zR")}
        circuit.run(readout_plan(np.full((1, 4), 0.5), rng), weights, theta)
    except ModelError as err:
        return str(err)
    except Exception as err:  # noqa: BLE001 (Brian2 raises many kinds)
        return root_message(err)
    finally:
        brian2.prefs.codegen.target = previous
    return None


def _config(params, dataset, mode, epochs, seed, plasticity, device, model):
    return {"params": params.to_dict(), "model": model.to_dict(),
            "dataset": dataset.name, "mode": mode,
            "epochs": epochs, "seed": seed, "plasticity": plasticity, "device": device,
            "n_input": dataset.n_input, "image_shape": list(dataset.image_shape),
            "n_train": int(len(dataset.train_x)), "n_dev": int(len(dataset.dev_x)),
            "n_test": int(len(dataset.test_x)), "provenance": provenance()}


def prepare_run_dir(out_dir: str, resume: bool) -> None:
    """Create ``out_dir`` or check it can be resumed; RunError otherwise."""
    if resume:
        if not os.path.isfile(os.path.join(out_dir, "config.json")):
            raise RunError(f"{out_dir}: not a run directory (no config.json) to resume")
        return
    if os.path.exists(out_dir) and os.listdir(out_dir):
        raise RunError(f"{out_dir}: run directory exists and is not empty "
                       "(use --resume to continue it, or another --out)")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as err:
        raise RunError(f"{out_dir}: cannot create run directory ({err.strerror})") from None
    if not os.access(out_dir, os.W_OK):
        raise RunError(f"{out_dir}: run directory is not writable")


def _with_defaults(saved_params, config_path: str) -> dict | None:
    """A recorded parameter dict with the fields added since it was written
    filled in at their defaults.

    Every option added to :class:`Params` defaults to the behaviour before it
    existed, so a run recorded without it resumes as the same run.
    """
    if not isinstance(saved_params, dict):
        return saved_params
    try:
        return Params.from_record(saved_params).to_dict()
    except ParamsError as err:
        raise RunError(f"{config_path}: recorded parameters are not valid: {err}") from err


def train(dataset: Dataset, params: Params, out_dir: str, mode: str = "supervised",
          epochs: int | None = None, seed: int = 0, plasticity: bool = True,
          device: str = "standalone", progress: bool = True, resume: bool = False,
          evaluate: bool = True, circuit: Circuit | None = None,
          threads: int | None = None, model=None, eval_split: str = "test") -> dict:
    """Train the circuit, evaluate it, and write a complete run directory.

    Parameters
    ----------
    dataset : Dataset
        Train/dev/test splits.
    params : Params
        Validated against the data set here.
    out_dir : str
        Run directory (new, or existing with ``resume=True``).
    mode : {"supervised", "unsupervised"}
        Negative samples: wrong label, or hybrid image without context.
    epochs : int, optional
        Default ``params.epochs``.
    seed : int
        Fixes weights, thresholds, image order, negatives and input noise.
    plasticity : bool
        ``False``: hidden (CSDP) synapses frozen at their initial values, heads
        still learn -- the control every results table needs.
    device : {"standalone", "cpp_standalone", "runtime"}
        Brian2 device (:mod:`brian_edff.circuit`).
    progress : bool
        Show progress bars.
    resume : bool
        Continue ``out_dir`` from its last complete chunk.
    evaluate : bool
        Score the best state on ``eval_split`` at the end.
    eval_split : {"test", "dev"}
        ``"test"``: every readout on the test split (``metrics["test"]``).
        ``"dev"``: classifier, reconstruction and goodness readout on the dev
        split (``metrics["dev_final"]``), no linear probe -- the cheap end of
        a screen that must not look at the test set.
    circuit : Circuit, optional
        A compiled circuit to reuse (same shape).
    threads : int, optional
        Threads of the compiled device (see :class:`~brian_edff.circuit.Circuit`).
    model : Model or str, optional
        The hidden layers' neuron model; default ``params.model``. It is
        checked (a tiny NumPy build) before anything is written, recorded in
        full in ``config.json``, and on ``resume`` the recorded one is used.

    Returns
    -------
    dict
        The metrics written to ``metrics.json``.
    """
    if mode not in MODES:
        raise RunError(f"mode: unknown mode {mode!r}; use one of {', '.join(MODES)}")
    params.validate(n_input=dataset.n_input)
    if params.n_labels != 10 and dataset.n_labels > params.n_labels:
        raise RunError(f"n_labels: data set has {dataset.n_labels} labels, "
                       f"parameters {params.n_labels}")
    epochs = params.epochs if epochs is None else int(epochs)
    if eval_split not in EVAL_SPLITS:
        raise RunError(f"eval_split: unknown split {eval_split!r}; "
                       f"use one of {', '.join(EVAL_SPLITS)}")
    if epochs < 1:
        raise RunError(f"epochs: must be >= 1, got {epochs}")
    config_path = os.path.join(out_dir, "config.json")
    if resume and os.path.isfile(config_path) and "model" in read_json(config_path):
        model = Model.from_dict(read_json(config_path)["model"])
    else:
        model = load_model(params.model if model is None else model)
    if circuit is None:
        check_model(model)
    prepare_run_dir(out_dir, resume)
    if resume:
        saved = read_json(config_path)
        saved["params"] = _with_defaults(saved.get("params"), config_path)
        mine = _config(params, dataset, mode, epochs, seed, plasticity, device, model)
        for key in ("params", "dataset", "mode", "epochs", "seed", "plasticity"):
            if saved.get(key) != mine[key]:
                raise RunError(f"{config_path}: {key} differs from the run being resumed "
                               f"({saved.get(key)!r} != {mine[key]!r})")
    else:
        write_json(config_path, _config(params, dataset, mode, epochs, seed, plasticity,
                                        device, model))

    own_circuit = circuit is None
    if not own_circuit:
        if circuit.model.digest() != model.digest():
            raise RunError(f"model: the given circuit runs {circuit.model.name!r}, "
                           f"the run asks for {model.name!r}")
        circuit.set_params(params)
    else:
        circuit = Circuit(params, dataset.n_input, params.chunk_windows, device=device,
                          seed=seed, threads=threads, model=model)
    try:
        return _train_loop(circuit, dataset, params, out_dir, mode, epochs, seed,
                           plasticity, progress, resume, eval_split if evaluate else None)
    finally:
        if own_circuit:
            circuit.close()


def extend_run(src_dir: str, out_dir: str, head_epochs: int, dataset: Dataset | None = None,
               device: str = "standalone", progress: bool = True,
               threads: int | None = None) -> dict:
    """More head-only epochs on a finished run, without training it again.

    The head epochs come after every CSDP epoch and each epoch's randomness
    depends only on the seed and its index, so a run with ``head_epochs=k``
    is the first ``epochs + k`` epochs of one with more. ``extend_run``
    copies the finished run ``src_dir`` into the new directory ``out_dir``
    with ``head_epochs`` raised, and resumes it: the result is the run a
    fresh ``train(..., params.replace(head_epochs=head_epochs))`` gives,
    at the cost of the extra head epochs only. ``src_dir`` is not touched.

    Parameters
    ----------
    src_dir : str
        A finished run directory (``metrics.json``, ``checkpoint.npz``).
    out_dir : str
        New (or empty) run directory.
    head_epochs : int
        Total head-only epochs of the extended run; more than the source's.
    dataset : Dataset, optional
        Default: the recorded data set, loaded with the recorded seed.
    device, progress, threads
        As for :func:`train`.

    Returns
    -------
    dict
        The metrics of the extended run, scored on the split the source was.
    """
    for name in ("config.json", "metrics.json", "progress.json", "checkpoint.npz"):
        if not os.path.isfile(os.path.join(src_dir, name)):
            raise RunError(f"{src_dir}: not a finished run directory (no {name})")
    config = read_json(os.path.join(src_dir, "config.json"))
    metrics = read_json(os.path.join(src_dir, "metrics.json"))
    params = Params.from_record(config["params"])
    extended = params.replace(head_epochs=head_epochs).validate()
    if head_epochs <= params.head_epochs:
        raise RunError(f"head_epochs: the run in {src_dir} already has {params.head_epochs} "
                       f"head epochs; ask for more than that (got {head_epochs})")
    prepare_run_dir(out_dir, resume=False)
    params = extended
    config.update(params=params.to_dict(), device=device, provenance=provenance(),
                  extended_from={"run_dir": os.path.abspath(src_dir),
                                 "head_epochs": metrics.get("head_epochs", 0),
                                 "provenance": config.get("provenance")})
    save_arrays(os.path.join(out_dir, "checkpoint.npz"),
                load_arrays(os.path.join(src_dir, "checkpoint.npz")))
    write_json(os.path.join(out_dir, "progress.json"),
               read_json(os.path.join(src_dir, "progress.json")))
    write_json(os.path.join(out_dir, "config.json"), config)
    if dataset is None:
        dataset = load_dataset(config["dataset"], config["seed"])
    split = "dev" if "dev_final" in metrics else "test" if "test" in metrics else None
    return train(dataset, params, out_dir, mode=config["mode"], epochs=config["epochs"],
                 seed=config["seed"], plasticity=config["plasticity"], device=device,
                 progress=progress, resume=True, threads=threads,
                 evaluate=split is not None, eval_split=split or "test")


def _load_progress(out_dir, params, n_input):
    path = os.path.join(out_dir, "progress.json")
    if not os.path.exists(path):
        return None
    prog = read_json(path)
    checkpoint = os.path.join(out_dir, "checkpoint.npz")
    arrays = load_arrays(checkpoint)
    shapes = weight_shapes(params, n_input)
    check_weights(arrays, shapes, checkpoint)
    if "best_W1" in arrays:
        check_weights(arrays, shapes, checkpoint, prefix="best_")
    prog["state"] = CircuitState.from_arrays(arrays)
    prog["best_state"] = (CircuitState.from_arrays(arrays, "best_")
                          if "best_W1" in arrays else None)
    return prog


def _save_progress(out_dir, state, best_state, prog):
    arrays = state.to_arrays()
    if best_state is not None:
        arrays.update(best_state.to_arrays("best_"))
    save_arrays(os.path.join(out_dir, "checkpoint.npz"), arrays)
    write_json(os.path.join(out_dir, "progress.json"), prog)


def epoch_params(params: Params, epoch: int) -> Params:
    """The parameters of training epoch ``epoch`` (from 0): the CSDP and head
    rates after their per-epoch decay (``eta_decay``, ``eta_head_decay``)."""
    if params.eta_decay == 1.0 and params.eta_head_decay == 1.0:
        return params
    return params.replace(eta=params.eta * params.eta_decay ** epoch,
                          eta_head=params.eta_head * params.eta_head_decay ** epoch)


def _train_loop(circuit, dataset, params, out_dir, mode, epochs, seed, plasticity,
                progress, resume, score_split):
    n_train = len(dataset.train_x)
    total_epochs = epochs + params.head_epochs
    prog = _load_progress(out_dir, params, dataset.n_input) if resume else None
    if prog is None:
        prog = {"epoch": 0, "chunk": 0, "train_wall_s": 0.0, "dev": [], "train": [],
                "best_epoch": None, "best_dev_accuracy": -1.0, "epoch_stats": {}}
        state = initial_state(params, dataset.n_input, seed)
        best_state = None
    else:
        state, best_state = prog.pop("state"), prog.pop("best_state")

    while prog["epoch"] < total_epochs:
        epoch = prog["epoch"]
        # After the CSDP epochs, head epochs train only the readout heads on
        # the final representation (one context-free window per image).
        head_only = epoch >= epochs
        windows_per_image = 1 if head_only else params.windows_per_image
        per_chunk = max(1, params.chunk_windows // windows_per_image)
        n_chunks = -(-n_train // per_chunk)
        epoch_rng = np.random.default_rng([seed, epoch])
        order = epoch_rng.permutation(n_train)
        # Negatives are drawn per epoch, input phases per chunk: the windows an
        # image sees do not depend on how the epoch is cut into chunks.
        negatives = ({} if head_only else
                     _epoch_negatives(dataset, order, params, mode, epoch_rng,
                                      prog.get("dev_confusion")))
        circuit.set_params(epoch_params(params, epoch))
        bar = _progress((n_chunks - prog["chunk"]) * per_chunk * windows_per_image,
                        f"epoch {epoch + 1}/{total_epochs}", progress)
        stats = prog["epoch_stats"]
        while prog["chunk"] < n_chunks:
            c = prog["chunk"]
            idx = order[c * per_chunk:(c + 1) * per_chunk]
            rng = np.random.default_rng([seed, epoch, c])
            part = slice(c * per_chunk, (c + 1) * per_chunk)
            if head_only:
                plan = head_plan(dataset.train_x[idx], dataset.train_y[idx], params, rng)
            else:
                plan = training_plan(dataset.train_x[idx], dataset.train_y[idx], params,
                                     mode, rng, csdp=plasticity,
                                     image_shape=dataset.image_shape,
                                     **{k: v[part] for k, v in negatives.items()})
            start = time.perf_counter()
            state, out = simulate(circuit, plan, state, bar)
            prog["train_wall_s"] += time.perf_counter() - start
            _accumulate_goodness(stats, plan, out, params.T)
            prog["chunk"] = c + 1
            _save_progress(out_dir, state, best_state, prog)
        if bar is not None:
            bar.close()
        dev_metrics, _ = evaluate_state(circuit, state, dataset, seed, split="dev",
                                        probe=False, goodness=False)
        prog["dev_confusion"] = dev_metrics.pop("confusion_matrix")
        dev_metrics["epoch"] = epoch + 1
        prog["dev"].append(dev_metrics)
        prog["train"].append({"epoch": epoch + 1, **{
            k: v[0] / max(v[1], 1) for k, v in stats.items()}})
        if dev_metrics["classifier_accuracy"] > prog["best_dev_accuracy"]:
            prog["best_dev_accuracy"] = dev_metrics["classifier_accuracy"]
            prog["best_epoch"] = epoch + 1
            best_state = state.copy()
        prog.update(epoch=epoch + 1, chunk=0, epoch_stats={})
        _save_progress(out_dir, state, best_state, prog)
        if progress:
            print(f"epoch {epoch + 1}/{total_epochs}: dev classifier accuracy "
                  f"{dev_metrics['classifier_accuracy']:.3f}, recon BCE "
                  f"{dev_metrics['recon_bce']:.1f}", flush=True)

    save_arrays(os.path.join(out_dir, "weights.npz"), best_state.to_arrays())
    save_arrays(os.path.join(out_dir, "weights_last.npz"), state.to_arrays())
    metrics = {"dataset": dataset.name, "mode": mode, "seed": seed,
               "plasticity": plasticity, "epochs": epochs,
               "head_epochs": params.head_epochs, "best_epoch": prog["best_epoch"],
               "dev": prog["dev"], "train": prog["train"],
               "train_wall_s": prog["train_wall_s"], "build_s": circuit.build_s,
               "train_images": n_train * total_epochs,
               "train_ms_per_image": 1000 * prog["train_wall_s"] /
               max(n_train * total_epochs, 1)}
    if score_split is not None:
        start = time.perf_counter()
        final, arrays = evaluate_state(circuit, best_state, dataset, seed, split=score_split,
                                       probe=score_split == "test", progress=progress)
        metrics["eval_wall_s"] = time.perf_counter() - start
        metrics["test" if score_split == "test" else "dev_final"] = final
        save_arrays(os.path.join(out_dir, f"{score_split}_readouts.npz"), arrays)
    write_json(os.path.join(out_dir, "metrics.json"), metrics)
    return metrics


def _epoch_negatives(dataset, order, params, mode, rng, confusion=None) -> dict:
    """Wrong labels (supervised) or hybrid images (unsupervised), in epoch order.

    With ``params.negatives == "confused"`` and the dev confusion matrix of
    the previous epoch, wrong labels follow the classifier's confusions.
    """
    from .stimuli import confused_labels, hybrid_images, wrong_labels

    labels = dataset.train_y[order]
    if mode == "supervised":
        if params.negatives == "hybrid":
            return {"negative_labels": labels,
                    "negative_images": hybrid_images(dataset.train_x[order], labels, rng)}
        if params.negatives == "confused" and confusion is not None:
            return {"negative_labels": confused_labels(labels, confusion, rng)}
        return {"negative_labels": wrong_labels(labels, params.n_labels, rng)}
    return {"negative_images": hybrid_images(dataset.train_x[order], labels, rng)
            .astype(np.float32)}


def _accumulate_goodness(stats, plan, out, steps):
    """Running sums of mean goodness per step (per layer), positive/negative windows."""
    for kind, code in (("positive", 1), ("negative", 2)):
        mask = plan.kind == code
        if not mask.any():
            continue
        for layer in range(out.goodness.shape[1]):
            key = f"goodness{layer + 1}_{kind}"
            total, count = stats.get(key, (0.0, 0))
            stats[key] = (total + float(out.goodness[mask, layer].sum() / steps),
                          count + int(mask.sum()))


def recorded_model(config: dict) -> Model:
    """The neuron model a run used: its recorded equations (``config["model"]``),
    or, for runs recorded before models were, the one its parameters name."""
    if "model" in config:
        return Model.from_dict(config["model"])
    return load_model(config.get("params", {}).get("model", "default"))


def load_run_state(run_dir: str, params: Params, n_input: int) -> CircuitState:
    """The selected weights of a finished run, checked against the circuit shape."""
    path = os.path.join(run_dir, "weights.npz")
    if not os.path.exists(path):
        raise RunError(f"{path}: weights missing (did the run finish?)")
    shapes = weight_shapes(params, n_input)
    arrays = load_weights(path, shapes)
    for name in THRESHOLD_POPULATIONS:
        if f"theta_{name}" not in arrays:
            raise CheckpointError(f"{path}: thresholds of {name} missing")
    return CircuitState.from_arrays(arrays)


def read_run_config(run_dir: str) -> tuple[dict, Params]:
    """A run directory's ``config.json`` and its validated parameters.

    Raises
    ------
    RunError
        Not a run directory.
    CheckpointError
        No recorded parameters.
    """
    config_path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(config_path):
        raise RunError(f"{run_dir}: not a run directory (no config.json)")
    config = read_json(config_path)
    try:
        params = Params.from_record(config["params"]).validate()
    except KeyError:
        raise CheckpointError(f"{config_path}: no 'params' entry") from None
    return config, params


def evaluate_run(run_dir: str, dataset: str | None = None, device: str = "standalone",
                 threads: int | None = None, jobs: int | None = None,
                 progress: bool = False) -> dict:
    """Every readout of a finished (or interrupted) run on a test split.

    Loads the run's recorded parameters, neuron model and selected weights,
    scores them on ``dataset``'s test split (default: the run's data set)
    and writes ``evaluation.json`` and ``evaluation_readouts.npz`` into
    ``run_dir``. Returns what ``evaluation.json`` holds.

    Raises
    ------
    RunError, CheckpointError
        Not a run directory, no recorded parameters, missing or incompatible
        weights.
    """
    config, params = read_run_config(run_dir)
    data = load_dataset(dataset or config["dataset"], config.get("seed", 0))
    params.validate(n_input=data.n_input)
    state = load_run_state(run_dir, params, data.n_input)
    circuit = Circuit(params, data.n_input, params.chunk_windows, device=device,
                      model=recorded_model(config), threads=threads)
    try:
        metrics, arrays = evaluate_state(circuit, state, data, config.get("seed", 0),
                                         progress=progress, jobs=jobs)
    finally:
        circuit.close()
    out = {"dataset": data.name, "run_dir": run_dir, "test": metrics}
    save_arrays(os.path.join(run_dir, "evaluation_readouts.npz"), arrays)
    write_json(os.path.join(run_dir, "evaluation.json"), out)
    return out
