"""Stimulus windows: what each window shows and which plasticity it switches on.

A :class:`WindowPlan` lists, window by window, the pixel rates of the Bernoulli
input, the label shown by the context population (or -1 for silence), the
classifier's target, the CSDP target ``y`` (1 positive, 0 negative) and the
plasticity switches. The circuit turns these arrays into TimedArrays.

Negative samples (Ororbia 2023, section "negative samples"):

* supervised mode: the same image with a uniformly drawn wrong label;
* unsupervised mode: no context; a 50/50 blend of the image with an image of
  another class, optionally rotated (the "hybrid image" of forward-forward,
  Hinton 2022).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["WindowPlan", "KIND", "training_plan", "readout_plan", "goodness_plan",
           "MODES"]

MODES = ("supervised", "unsupervised")

#: Codes of the ``kind`` array.
KIND = {"pad": 0, "positive": 1, "negative": 2, "head": 3, "test": 4, "candidate": 5}


@dataclass
class WindowPlan:
    """Per-window arrays of one protocol (any number of windows).

    Attributes
    ----------
    pixels, phase : ndarray, shape (n_windows, n_input)
        Spike probabilities per step and the random phase of the draws.
    context_label, target_label : ndarray of int, shape (n_windows,)
        Label shown by the context population / taught to the classifier
        (-1: none).
    y_target, csdp_on, classifier_on, recon_on : ndarray, shape (n_windows,)
        CSDP target and plasticity switches (0 or 1).
    image : ndarray of int
        Index of the image in its data split (-1 for padding).
    kind : ndarray of int
        Window kind, see :data:`KIND`.
    """

    pixels: np.ndarray
    phase: np.ndarray
    context_label: np.ndarray
    target_label: np.ndarray
    y_target: np.ndarray
    csdp_on: np.ndarray
    classifier_on: np.ndarray
    recon_on: np.ndarray
    image: np.ndarray
    kind: np.ndarray

    @property
    def n_windows(self) -> int:
        return len(self.kind)

    @property
    def learns(self) -> bool:
        """Whether any window switches a plasticity on (CSDP, classifier or
        reconstruction): then each chunk starts from the state the last left."""
        return bool(np.any(self.csdp_on) or np.any(self.classifier_on) or
                    np.any(self.recon_on))

    def window_functions(self) -> dict:
        """The 1-D per-window arrays, by TimedArray name."""
        return {"y_target": self.y_target, "csdp_on": self.csdp_on,
                "classifier_on": self.classifier_on, "recon_on": self.recon_on,
                "context_label": self.context_label, "target_label": self.target_label}

    def timed_array_values(self) -> dict:
        """All TimedArray values as float arrays, by name."""
        values = {name: np.asarray(v, dtype=float)
                  for name, v in self.window_functions().items()}
        values["pixel_rate"] = np.asarray(self.pixels, dtype=float)
        values["pixel_phase"] = np.asarray(self.phase, dtype=float)
        return values

    def select(self, index) -> WindowPlan:
        """Windows ``index`` (slice or array) as a new plan."""
        return WindowPlan(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def padded(self, n_windows: int) -> WindowPlan:
        """Append silent, non-learning windows up to ``n_windows``."""
        missing = n_windows - self.n_windows
        if missing < 0:
            raise ValueError(f"plan has {self.n_windows} windows, more than {n_windows}")
        if missing == 0:
            return self
        pad = _empty(missing, self.pixels.shape[1])
        return WindowPlan(**{f.name: np.concatenate([getattr(self, f.name),
                                                     getattr(pad, f.name)])
                             for f in fields(self)})

    def chunks(self, n_windows: int):
        """Yield consecutive chunks of exactly ``n_windows`` (last one padded)."""
        for start in range(0, self.n_windows, n_windows):
            yield start, self.select(slice(start, start + n_windows)).padded(n_windows)


def _empty(n: int, n_input: int) -> WindowPlan:
    zeros = np.zeros(n, dtype=np.float32)
    return WindowPlan(pixels=np.zeros((n, n_input), dtype=np.float32),
                      phase=np.zeros((n, n_input), dtype=np.float32),
                      context_label=-np.ones(n, dtype=np.int32),
                      target_label=-np.ones(n, dtype=np.int32), y_target=zeros.copy(),
                      csdp_on=zeros.copy(), classifier_on=zeros.copy(),
                      recon_on=zeros.copy(), image=-np.ones(n, dtype=np.int64),
                      kind=np.zeros(n, dtype=np.int8))


def _windows(images, rng, **columns) -> WindowPlan:
    n = len(images)
    plan = _empty(n, images.shape[1])
    plan.pixels = np.asarray(images, dtype=np.float32)
    plan.phase = rng.random(images.shape, dtype=np.float32)
    for name, value in columns.items():
        getattr(plan, name)[:] = value
    return plan


def _interleave(plans) -> WindowPlan:
    """Window k of every plan in turn: a0, b0, c0, a1, b1, c1 ..."""
    out = {}
    for f in fields(WindowPlan):
        stacked = np.stack([getattr(p, f.name) for p in plans], axis=1)
        out[f.name] = stacked.reshape((-1,) + stacked.shape[2:])
    return WindowPlan(**out)


def wrong_labels(labels, n_labels: int, rng) -> np.ndarray:
    """A uniformly drawn label different from each true label."""
    shift = rng.integers(1, n_labels, size=len(labels))
    return (np.asarray(labels) + shift) % n_labels


def confused_labels(labels, confusion, rng) -> np.ndarray:
    """A wrong label per image, drawn in proportion to the classifier's confusions.

    Label ``k`` is drawn for an image of class ``c`` with probability
    proportional to ``confusion[c, k] + 1`` (``k != c``): the classes the
    classifier mistakes ``c`` for most often come up most, and every wrong
    label stays possible.

    Parameters
    ----------
    labels : ndarray of int
        True labels.
    confusion : array_like, shape (n_labels, n_labels)
        Counts of (true, predicted) pairs, e.g. on the dev split.
    rng : numpy.random.Generator
    """
    confusion = np.asarray(confusion, dtype=float)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"confusion: must be a square matrix, got shape {confusion.shape}")
    weights = confusion + 1.0
    np.fill_diagonal(weights, 0.0)
    cumulative = np.cumsum(weights / weights.sum(1, keepdims=True), axis=1)
    labels = np.asarray(labels)
    u = rng.random(len(labels))[:, None]
    drawn = (u >= cumulative[labels]).sum(1)
    return np.minimum(drawn, len(confusion) - 1)


def hybrid_images(images, labels, rng, rotate: bool = False,
                  image_shape=None) -> np.ndarray:
    """50/50 blends of each image with an image of another class."""
    labels = np.asarray(labels)
    partners = rng.integers(0, len(images), size=len(images))
    for _ in range(20):
        same = labels[partners] == labels
        if not same.any():
            break
        partners[same] = rng.integers(0, len(images), size=int(same.sum()))
    other = np.asarray(images)[partners]
    if rotate and image_shape is not None:
        side = other.reshape((-1,) + tuple(image_shape))
        other = np.rot90(side, k=1, axes=(1, 2)).reshape(len(images), -1)
    return 0.5 * np.asarray(images) + 0.5 * other


def training_plan(images, labels, params, mode: str, rng, csdp: bool = True,
                  image_shape=None, negative_labels=None,
                  negative_images=None) -> WindowPlan:
    """Positive, negative (and head) windows for each image, in the given order.

    Parameters
    ----------
    images : ndarray, shape (n, n_input)
        Images in presentation order, pixels in [0, 1].
    labels : ndarray of int
        Their labels.
    params : Params
        Uses ``head_window``, ``reconstruction`` and ``n_labels``.
    mode : {"supervised", "unsupervised"}
        Negative samples: wrong label, or hybrid image without context.
    rng : numpy.random.Generator
        Draws wrong labels, hybrid partners and input phases.
    csdp : bool
        ``False`` freezes the hidden layers (the no-plasticity control).
    negative_labels, negative_images : ndarray, optional
        Precomputed context labels (supervised) and images of the negative
        windows; drawn from ``rng`` when not given: wrong labels with the
        image itself (supervised), hybrid images without context
        (unsupervised). Supervised hybrid negatives give both.
    """
    if mode not in MODES:
        raise ValueError(f"mode: unknown mode {mode!r}; use one of {MODES}")
    labels = np.asarray(labels, dtype=np.int32)
    on = 1.0 if csdp else 0.0
    supervised = mode == "supervised"
    head_in_positive = 0.0 if params.head_window else 1.0
    recon = 1.0 if params.reconstruction else 0.0
    positive = _windows(images, rng, context_label=labels if supervised else -1,
                        target_label=labels, y_target=1.0, csdp_on=on,
                        classifier_on=head_in_positive, recon_on=recon,
                        image=np.arange(len(images)), kind=KIND["positive"])
    if supervised:
        if negative_labels is None:
            negative_labels = wrong_labels(labels, params.n_labels, rng)
        negative = _windows(images if negative_images is None else negative_images, rng,
                            context_label=negative_labels, y_target=0.0, csdp_on=on,
                            image=np.arange(len(images)), kind=KIND["negative"])
    else:
        if negative_images is None:
            negative_images = hybrid_images(images, labels, rng)
        negative = _windows(negative_images, rng, y_target=0.0,
                            csdp_on=on, image=np.arange(len(images)),
                            kind=KIND["negative"])
    plans = [positive, negative]
    if params.head_window:
        plans.append(_windows(images, rng, target_label=labels, classifier_on=1.0,
                              image=np.arange(len(images)), kind=KIND["head"]))
    return _interleave(plans)


def head_plan(images, labels, params, rng) -> WindowPlan:
    """One context-free window per image in which only the heads learn."""
    recon = 1.0 if params.reconstruction else 0.0
    return _windows(images, rng, target_label=np.asarray(labels, dtype=np.int32),
                    classifier_on=1.0, recon_on=recon, image=np.arange(len(images)),
                    kind=KIND["head"])


def readout_plan(images, rng) -> WindowPlan:
    """One context-free window per image; nothing learns."""
    return _windows(images, rng, image=np.arange(len(images)), kind=KIND["test"])


def goodness_plan(images, n_labels: int, rng) -> WindowPlan:
    """Each image once per candidate label as context; nothing learns."""
    n = len(images)
    repeated = np.repeat(np.asarray(images), n_labels, axis=0)
    candidates = np.tile(np.arange(n_labels), n)
    return _windows(repeated, rng, context_label=candidates,
                    image=np.repeat(np.arange(n), n_labels), kind=KIND["candidate"])
