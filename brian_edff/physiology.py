"""Physiology of a population's responses: rates, sparseness, selectivity, variability.

Every measure takes spike counts (windows x cells) or spike trains recorded
by Brian2's monitors and is plain NumPy, so that it can be checked on
constructed spike trains (``tests/test_physiology.py``). The definitions are
the standard ones of systems neuroscience:

* Sparseness after Treves & Rolls, "What determines the capacity of
  autoassociative memories in the brain?", Network 2:371 (1991),
  ``a = (mean r)^2 / mean(r^2)``, normalised as in Vinje & Gallant, "Sparse
  coding and decorrelation in primary visual cortex during natural vision",
  Science 287:1273 (2000): ``S = (1 - a) / (1 - 1/n)``, 0 for a uniform and 1
  for a one-hot response. *Population* sparseness is taken over the cells of
  one window, *lifetime* sparseness over the windows of one cell.
* Class selectivity of a cell from its mean count per class ``m_c``:
  ``SI = (max_c m_c - mean of the others) / (max_c m_c + mean of the others)``
  (0: untuned, 1: responds to one class only); and the mutual information
  between its count and the label (plug-in estimate in bits, with the
  Miller-Madow bias correction: S. Panzeri et al., "Correcting for the
  sampling bias problem in spike train information measures", J.
  Neurophysiol. 98:1064, 2007).
* Variability: the coefficient of variation of inter-spike intervals (1 for
  a Poisson train, 0 for a regular one) and the Fano factor of the count
  across repeats of one stimulus (1 for a Poisson count).
* Representational similarity (N. Kriegeskorte et al., "Representational
  similarity analysis", Front. Syst. Neurosci. 2:4, 2008): the Pearson
  correlation between the class-mean response vectors.
"""

from __future__ import annotations

import numpy as np

__all__ = ["treves_rolls", "population_sparseness", "lifetime_sparseness",
           "silent_fraction", "always_active_fraction", "class_means",
           "selectivity_index", "mutual_information", "isi_cv", "fano_factor",
           "similarity_matrix", "active_cells", "layer_summary"]


def treves_rolls(responses, axis: int = -1) -> np.ndarray:
    """Normalised Treves-Rolls sparseness of non-negative ``responses`` along ``axis``.

    Returns NaN where every response is zero (sparseness undefined) or
    where there is a single response.
    """
    r = np.asarray(responses, dtype=float)
    if np.any(r < 0):
        raise ValueError("treves_rolls: responses must be non-negative")
    n = r.shape[axis]
    mean, mean_sq = r.mean(axis=axis), (r ** 2).mean(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = mean ** 2 / mean_sq
        s = (1 - a) / (1 - 1 / n) if n > 1 else np.full_like(a, np.nan)
    return np.where(mean_sq > 0, s, np.nan)


def population_sparseness(counts) -> np.ndarray:
    """Sparseness over the cells of each window: counts (windows, cells) -> (windows,)."""
    return treves_rolls(counts, axis=1)


def lifetime_sparseness(counts) -> np.ndarray:
    """Sparseness over the windows of each cell: counts (windows, cells) -> (cells,)."""
    return treves_rolls(counts, axis=0)


def silent_fraction(counts) -> float:
    """Fraction of cells that never spike in any window."""
    counts = np.asarray(counts)
    return float(np.mean(counts.sum(axis=0) == 0))


def always_active_fraction(counts) -> float:
    """Fraction of cells that spike in every window."""
    counts = np.asarray(counts)
    return float(np.mean((counts > 0).all(axis=0)))


def class_means(counts, labels, n_labels: int) -> np.ndarray:
    """Mean count of every cell per class: (n_labels, cells); NaN for absent classes."""
    counts, labels = np.asarray(counts, dtype=float), np.asarray(labels)
    means = np.full((n_labels, counts.shape[1]), np.nan)
    for label in range(n_labels):
        if np.any(labels == label):
            means[label] = counts[labels == label].mean(axis=0)
    return means


def selectivity_index(means) -> np.ndarray:
    """Class selectivity of each cell from its class means (n_labels, cells).

    ``(max - mean of the other classes) / (max + mean of the other classes)``;
    NaN for a cell silent in every class.
    """
    means = np.asarray(means, dtype=float)
    best = np.nanmax(means, axis=0)
    others = (np.nansum(means, axis=0) - best) / (np.sum(~np.isnan(means), axis=0) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        index = (best - others) / (best + others)
    return np.where(best > 0, index, np.nan)


def mutual_information(counts, labels, n_bins: int = 8) -> np.ndarray:
    """Information (bits) each cell's count carries about the label.

    Counts above ``n_bins - 1`` share the last bin. Plug-in estimate from the
    joint histogram, less the Miller-Madow bias ``(R_s - 1)(R_l - 1) / (2 N
    ln 2)`` (``R``: occupied bins of count and label), floored at 0.
    """
    counts = np.minimum(np.asarray(counts), n_bins - 1).astype(np.int64)
    labels = np.asarray(labels)
    if counts.ndim != 2 or len(counts) != len(labels):
        raise ValueError("mutual_information: counts must be (windows, cells) with one "
                         "label per window")
    classes, label_index = np.unique(labels, return_inverse=True)
    n = len(labels)
    p_label = np.bincount(label_index, minlength=len(classes)) / n
    info = np.empty(counts.shape[1])
    for cell in range(counts.shape[1]):
        joint = np.zeros((n_bins, len(classes)))
        np.add.at(joint, (counts[:, cell], label_index), 1)
        joint /= n
        p_count = joint.sum(axis=1)
        nz = joint > 0
        plug_in = np.sum(joint[nz] * np.log2(joint[nz] / np.outer(p_count, p_label)[nz]))
        bias = (np.count_nonzero(p_count) - 1) * (len(classes) - 1) / (2 * n * np.log(2))
        info[cell] = max(plug_in - bias, 0.0)
    return info


def isi_cv(indices, steps, windows, n_cells: int, window_steps: int,
           min_intervals: int = 5) -> np.ndarray:
    """Coefficient of variation of each cell's inter-spike intervals.

    Parameters
    ----------
    indices, steps : array
        A spike monitor's cell indices and spike times (in steps).
    windows : array of int
        Windows whose spikes count (intervals never span two windows: the
        circuit is reset at every window start).
    n_cells : int
        Cells of the population.
    window_steps : int
        Steps per window.
    min_intervals : int
        Cells with fewer pooled intervals get NaN.
    """
    indices, steps = np.asarray(indices), np.asarray(steps)
    window_of = steps // window_steps
    keep = np.isin(window_of, np.asarray(windows))
    indices, steps, window_of = indices[keep], steps[keep], window_of[keep]
    order = np.lexsort((steps, window_of, indices))
    indices, steps, window_of = indices[order], steps[order], window_of[order]
    same = (indices[1:] == indices[:-1]) & (window_of[1:] == window_of[:-1])
    intervals, owner = np.diff(steps)[same], indices[1:][same]
    cv = np.full(n_cells, np.nan)
    for cell in np.unique(owner):
        isi = intervals[owner == cell].astype(float)
        if len(isi) >= min_intervals:
            cv[cell] = isi.std() / isi.mean()
    return cv


def fano_factor(repeat_counts) -> np.ndarray:
    """Fano factor of each cell's count across repeats of one stimulus.

    ``repeat_counts``: (repeats, cells). Variance (``ddof=1``) over mean;
    NaN for cells that never spike.
    """
    counts = np.asarray(repeat_counts, dtype=float)
    if len(counts) < 2:
        raise ValueError("fano_factor: need at least 2 repeats")
    mean = counts.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(mean > 0, counts.var(axis=0, ddof=1) / mean, np.nan)


def similarity_matrix(means) -> np.ndarray:
    """Pearson correlation between the class-mean response vectors (n_labels, cells)."""
    means = np.nan_to_num(np.asarray(means, dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.corrcoef(means)      # NaN rows for classes with a constant response


def active_cells(counts, min_spikes: int = 10) -> np.ndarray:
    """Cells with at least ``min_spikes`` spikes over all windows: those whose
    selectivity, information and lifetime sparseness are estimated (a cell
    that fired once is perfectly "selective" by chance)."""
    return np.asarray(counts).sum(axis=0) >= min_spikes


def layer_summary(counts, labels, n_labels: int, window_s: float,
                  min_spikes: int = 10) -> dict:
    """Scalar physiology of one layer from its test counts (windows, cells).

    Selectivity, information and lifetime sparseness are means over the
    :func:`active_cells` (``active_fraction``).
    """
    counts = np.asarray(counts, dtype=float)
    active = active_cells(counts, min_spikes)
    means = class_means(counts, labels, n_labels)
    rates = counts.mean(axis=0) / window_s
    rsm = similarity_matrix(means)
    off_diagonal = rsm[~np.eye(n_labels, dtype=bool)]

    def over_active(values):
        values = np.asarray(values)[active]
        return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")

    return {
        "rate_hz": float(rates.mean()),
        "rate_median_hz": float(np.median(rates)),
        "population_sparseness": float(np.nanmean(population_sparseness(counts))),
        "lifetime_sparseness": over_active(lifetime_sparseness(counts)),
        "silent_fraction": silent_fraction(counts),
        "always_active_fraction": always_active_fraction(counts),
        "active_fraction": float(active.mean()),
        "selectivity_index": over_active(selectivity_index(means)),
        "mutual_information_bits": over_active(mutual_information(counts, labels)),
        "rsm_mean_off_diagonal": float(np.nanmean(off_diagonal)),
    }
