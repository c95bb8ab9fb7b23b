"""Saved runs as the subjects of experiments: load one, score it on any images.

The neuroscience protocols (``protocols/lesions.py``, ``physiology.py``,
``robustness.py``) take finished run directories, a learned run and its
frozen control, and probe them: lesion a pathway, degrade the input, record
the cells. :class:`SavedRun` is a run loaded for that; :class:`Scorer`
scores its circuit on given images with every readout, building the
compiled circuit once and fitting the linear probe's training features once
per lesion.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from . import readout
from .circuit import Circuit
from .datasets import Dataset, load_dataset
from .models import Model
from .params import Params, lesion_pathways
from .stimuli import goodness_plan, readout_plan
from .training import (
    CircuitState,
    RunError,
    load_run_state,
    read_out,
    read_run_config,
    recorded_model,
)

__all__ = ["SavedRun", "load_saved_run", "Scorer", "READOUTS"]

#: The metrics a :class:`Scorer` reports.
READOUTS = ("classifier_accuracy", "goodness_accuracy", "probe_accuracy", "recon_bce")


@dataclass
class SavedRun:
    """A finished run directory, loaded: its parameters, data, model and weights."""

    run_dir: str
    config: dict
    params: Params
    dataset: Dataset
    state: CircuitState
    model: Model
    seed: int

    @property
    def arm(self) -> str:
        """``"learned"`` or ``"control"`` (frozen hidden synapses)."""
        return "learned" if self.config.get("plasticity", True) else "control"

    @property
    def label(self) -> str:
        return f"{self.arm} seed {self.seed}"


def read_finished_run(run_dir: str) -> tuple[dict, Params]:
    """:func:`brian_edff.training.read_run_config` of a run that has weights."""
    config, params = read_run_config(run_dir)
    if not os.path.isfile(os.path.join(run_dir, "weights.npz")):
        raise RunError(f"{run_dir}: no weights.npz (did the run finish?)")
    return config, params


def load_saved_run(run_dir: str, dataset: str | None = None) -> SavedRun:
    """Load a finished run; ``dataset`` overrides the one it was trained on.

    Raises
    ------
    RunError, CheckpointError, ParamsError
        With a one-line message naming the problem.
    """
    config, params = read_finished_run(run_dir)
    seed = int(config.get("seed", 0))
    data = load_dataset(dataset or config["dataset"], seed)
    params.validate(n_input=data.n_input)
    state = load_run_state(run_dir, params, data.n_input)
    return SavedRun(run_dir, config, params, data, state, recorded_model(config), seed)


@dataclass
class Scorer:
    """Every readout of a saved run's circuit on images of one's choice.

    Parameters
    ----------
    run : SavedRun
    device : str
        Brian2 device of the circuit (:data:`brian_edff.circuit.DEVICES`).
    threads, jobs : int, optional
        Synaptic threads, and readout chunks run at once
        (:func:`brian_edff.training.read_out`).
    """

    run: SavedRun
    device: str = "standalone"
    threads: int | None = None
    jobs: int | None = None
    _circuit: Circuit | None = field(default=None, repr=False)
    _probes: dict = field(default_factory=dict, repr=False)

    @property
    def circuit(self) -> Circuit:
        if self._circuit is None:
            params = self.run.params
            self._circuit = Circuit(params, self.run.dataset.n_input, params.chunk_windows,
                                    device=self.device, model=self.run.model,
                                    threads=self.threads)
        return self._circuit

    def close(self) -> None:
        if self._circuit is not None:
            self._circuit.close()
            self._circuit = None

    def use_lesions(self, lesions=()) -> None:
        """Silence ``lesions`` (pathways or groups) in every later readout;
        the compiled circuit stays the same."""
        params = self.run.params.replace(
            lesions=lesion_pathways(tuple(self.run.params.lesions) + tuple(lesions)))
        self.circuit.set_params(params.validate())

    def read(self, images, rng, goodness: bool = False):
        """Readouts of context-free windows of ``images`` (and, with
        ``goodness``, of every candidate label's window)."""
        out = read_out(self.circuit, readout_plan(images, rng), self.run.state,
                       jobs=self.jobs)
        if not goodness:
            return out, None
        cand = read_out(self.circuit, goodness_plan(images, self.run.params.n_labels, rng),
                        self.run.state, jobs=self.jobs)
        return out, cand

    def probe(self):
        """The linear probe on the training images' z1 + z2 counts of the
        current lesion (fitted once per lesion)."""
        key = self.circuit.params.lesions
        if key not in self._probes:
            rng = np.random.default_rng([self.run.seed, 0x9B0E])
            out, _ = self.read(self.run.dataset.train_x, rng)
            features = np.hstack([out.counts["z1"], out.counts["z2"]])
            self._probes[key] = readout.fit_probe(features, self.run.dataset.train_y,
                                                  self.run.seed)
        return self._probes[key]

    def score(self, images, labels, rng, goodness: bool = True, probe: bool = True,
              targets=None) -> tuple[dict, object]:
        """Every readout on ``images``; returns (metrics, context-free readouts).

        ``targets``: the images the reconstruction is scored against
        (default ``images``; the clean images when ``images`` are degraded).
        """
        labels = np.asarray(labels)
        out, cand = self.read(images, rng, goodness)
        predictions = readout.classifier_predictions(out.counts["zy"])
        bce, _ = readout.reconstruction_errors(out.recon,
                                               images if targets is None else targets)
        metrics = {"classifier_accuracy": readout.accuracy(predictions, labels),
                   "recon_bce": bce}
        if cand is not None:
            g_pred = readout.goodness_predictions(cand.goodness, self.run.params.n_labels)
            metrics["goodness_accuracy"] = readout.accuracy(g_pred, labels)
        if probe:
            features = np.hstack([out.counts["z1"], out.counts["z2"]])
            metrics["probe_accuracy"] = readout.accuracy(
                readout.probe_predict(self.probe(), features), labels)
        return metrics, out


def check_runs(run_dirs) -> list:
    """Configs of ``run_dirs``, checked before any work (one-line errors)."""
    return [read_finished_run(run_dir) for run_dir in run_dirs]
