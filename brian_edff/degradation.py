"""Degraded inputs: pixel noise, occlusion, rate scaling, and the completion score.

Each degradation maps images (n, pixels) with intensities in [0, 1] to
images of the same shape, still in [0, 1], and (for occlusions) a mask of the
hidden pixels. The circuit then codes them as it codes any image (Bernoulli
spikes with the pixel's intensity as probability per step), so a
degradation is a change of the stimulus, never of the network.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DegradationError", "REGIONS", "pixel_noise", "occlude", "random_patches",
           "scale_rate", "masked_bce", "CONDITIONS", "parse_condition", "apply_condition"]

#: Halves of the image that :func:`occlude` hides.
REGIONS = ("top", "bottom", "left", "right")


class DegradationError(ValueError):
    """A degradation was asked for with a value out of its range."""


def _check_images(images) -> np.ndarray:
    images = np.asarray(images, dtype=float)
    if images.ndim != 2:
        raise DegradationError(f"images: expected (n, pixels), got shape {images.shape}")
    return images


def pixel_noise(images, level: float, rng: np.random.Generator) -> np.ndarray:
    """Replace each pixel, with probability ``level``, by a uniform random intensity."""
    if not 0 <= level <= 1:
        raise DegradationError(f"noise level: must be in [0, 1], got {level}")
    images = _check_images(images)
    replace = rng.random(images.shape) < level
    return np.where(replace, rng.random(images.shape), images)


def _region_mask(shape, region: str) -> np.ndarray:
    if region not in REGIONS:
        raise DegradationError(f"occlusion: unknown region {region!r}; use one of {REGIONS}")
    height, width = shape
    mask = np.zeros(shape, dtype=bool)
    rows, cols = np.arange(height)[:, None], np.arange(width)[None, :]
    mask |= {"top": rows < height // 2, "bottom": rows >= height - height // 2,
             "left": cols < width // 2, "right": cols >= width - width // 2}[region]
    return mask.ravel()


def occlude(images, shape, region: str) -> tuple[np.ndarray, np.ndarray]:
    """Set one half of every image (``region``, :data:`REGIONS`) to 0.

    Returns the occluded images and the mask of hidden pixels (n, pixels).
    """
    images = _check_images(images)
    if int(np.prod(shape)) != images.shape[1]:
        raise DegradationError(f"occlusion: image shape {shape} does not hold "
                               f"{images.shape[1]} pixels")
    mask = np.broadcast_to(_region_mask(shape, region), images.shape).copy()
    return np.where(mask, 0.0, images), mask


def random_patches(images, shape, n_patches: int, rng: np.random.Generator,
                   size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Set ``n_patches`` square patches per image (side ``size``, default a
    quarter of the shorter side, at least 1) at random positions to 0."""
    images = _check_images(images)
    height, width = shape
    size = max(1, min(height, width) // 4) if size is None else size
    if n_patches < 1 or not 1 <= size <= min(height, width):
        raise DegradationError(f"patches: need >= 1 patch of side 1..{min(height, width)}, "
                               f"got {n_patches} of side {size}")
    mask = np.zeros((len(images), height, width), dtype=bool)
    tops = rng.integers(0, height - size + 1, size=(len(images), n_patches))
    lefts = rng.integers(0, width - size + 1, size=(len(images), n_patches))
    for k in range(len(images)):
        for top, left in zip(tops[k], lefts[k]):
            mask[k, top:top + size, left:left + size] = True
    mask = mask.reshape(len(images), -1)
    return np.where(mask, 0.0, images), mask


def scale_rate(images, gain: float) -> np.ndarray:
    """Spike probabilities scaled by ``gain`` (> 0) and clipped to [0, 1]:
    the same image as a dimmer or brighter spike train."""
    if not gain > 0 or not np.isfinite(gain):
        raise DegradationError(f"rate gain: must be positive and finite, got {gain}")
    return np.clip(_check_images(images) * gain, 0.0, 1.0)


def masked_bce(reconstructions, images, mask, eps: float = 1e-7) -> float:
    """Binary cross-entropy per pixel between reconstructions and the clean
    images, over the pixels of ``mask`` only (mean over those pixels)."""
    r = np.clip(np.asarray(reconstructions, dtype=float), eps, 1 - eps)
    x, mask = np.asarray(images, dtype=float), np.asarray(mask, dtype=bool)
    if not mask.any():
        raise DegradationError("masked_bce: the mask hides no pixel")
    bce = -(x * np.log(r) + (1 - x) * np.log(1 - r))
    return float(bce[mask].mean())


#: Kinds of condition (:func:`parse_condition`): ``clean``, ``noise:P``,
#: ``occlude:REGION``, ``patches:N``, ``rate:GAIN``.
CONDITIONS = ("clean", "noise", "occlude", "patches", "rate")


def parse_condition(text: str) -> tuple[str, object]:
    """``"noise:0.2"`` -> ``("noise", 0.2)``; checks the kind and the value."""
    kind, _, value = text.partition(":")
    if kind not in CONDITIONS:
        raise DegradationError(f"condition {text!r}: unknown kind {kind!r}; use one of "
                               f"{', '.join(CONDITIONS)} (e.g. noise:0.2, occlude:top)")
    if kind == "clean":
        if value:
            raise DegradationError(f"condition {text!r}: 'clean' takes no value")
        return kind, None
    if kind == "occlude":
        if value not in REGIONS:
            raise DegradationError(f"condition {text!r}: region must be one of {REGIONS}")
        return kind, value
    try:
        number = int(value) if kind == "patches" else float(value)
    except ValueError:
        raise DegradationError(f"condition {text!r}: cannot read {value!r} as a "
                               f"{'count' if kind == 'patches' else 'number'}") from None
    if kind == "noise" and not 0 <= number <= 1:
        raise DegradationError(f"condition {text!r}: noise level must be in [0, 1]")
    if kind == "rate" and not (number > 0 and np.isfinite(number)):
        raise DegradationError(f"condition {text!r}: rate gain must be positive")
    if kind == "patches" and number < 1:
        raise DegradationError(f"condition {text!r}: need at least one patch")
    return kind, number


def apply_condition(condition: str, images, shape, rng: np.random.Generator):
    """Degraded images and the mask of hidden pixels (None where none are hidden)."""
    kind, value = parse_condition(condition)
    if kind == "clean":
        return _check_images(images).copy(), None
    if kind == "noise":
        return pixel_noise(images, value, rng), None
    if kind == "rate":
        return scale_rate(images, value), None
    if kind == "occlude":
        return occlude(images, shape, value)
    return random_patches(images, shape, value, rng)
