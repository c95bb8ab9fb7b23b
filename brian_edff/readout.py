"""Readouts of the trained circuit.

* Online spiking classifier: argmax of the classifier layer's spike counts in
  a context-free window (Ororbia 2023, "online classifier").
* Goodness readout (forward-forward style, Hinton 2022): the image is shown
  once with each candidate label as context; the label whose window has the
  highest summed goodness (z1 + z2) wins.
* Linear probe: scikit-learn logistic regression on the z1 + z2 spike counts
  of context-free windows, fitted on the training images, scored on the test
  images.
* Reconstruction: binary cross-entropy and squared error between an image
  and the reconstruction layer's mean trace, summed over pixels and averaged
  over images.
"""

from __future__ import annotations

import numpy as np

__all__ = ["classifier_predictions", "goodness_predictions", "probe_accuracy",
           "fit_probe", "probe_predict",
           "reconstruction_errors", "confusion_matrix", "accuracy"]


def accuracy(predictions, labels) -> float:
    """Fraction of correct predictions."""
    return float(np.mean(np.asarray(predictions) == np.asarray(labels)))


def classifier_predictions(counts) -> np.ndarray:
    """Label with the most classifier spikes in each window (ties: lowest label)."""
    return np.asarray(counts).argmax(axis=1)


def classifier_likelihoods(counts) -> np.ndarray:
    """Softmax of the classifier's spike counts."""
    counts = np.asarray(counts, dtype=float)
    shifted = np.exp(counts - counts.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def goodness_predictions(goodness, n_labels: int) -> np.ndarray:
    """Candidate label with the highest goodness (summed over layers).

    Parameters
    ----------
    goodness : ndarray, shape (n_images * n_labels, n_layers)
        Window goodness, the candidates of one image in consecutive rows.
    """
    total = np.asarray(goodness).sum(axis=1).reshape(-1, n_labels)
    return total.argmax(axis=1)


def fit_probe(train_features, train_labels, seed: int = 0):
    """Logistic regression on standardised log(1 + count) features, fitted."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(),
                          LogisticRegression(max_iter=2000, C=1.0, random_state=seed))
    return probe.fit(np.log1p(train_features), train_labels)


def probe_predict(probe, features) -> np.ndarray:
    """Labels a fitted probe (:func:`fit_probe`) gives spike-count features."""
    return probe.predict(np.log1p(features))


def probe_accuracy(train_features, train_labels, test_features, test_labels,
                   seed: int = 0) -> tuple[float, np.ndarray]:
    """Logistic regression on standardised spike counts; (test accuracy, predictions)."""
    predictions = probe_predict(fit_probe(train_features, train_labels, seed), test_features)
    return accuracy(predictions, test_labels), predictions


def reconstruction_errors(reconstructions, images, eps: float = 1e-7) -> tuple[float, float]:
    """(BCE, MSE): sums over pixels, means over images."""
    r = np.clip(np.asarray(reconstructions, dtype=float), eps, 1 - eps)
    x = np.asarray(images, dtype=float)
    bce = -(x * np.log(r) + (1 - x) * np.log(1 - r)).sum(axis=1).mean()
    mse = ((x - r) ** 2).sum(axis=1).mean()
    return float(bce), float(mse)


def confusion_matrix(predictions, labels, n_labels: int) -> np.ndarray:
    """Counts[true, predicted]."""
    matrix = np.zeros((n_labels, n_labels), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix
