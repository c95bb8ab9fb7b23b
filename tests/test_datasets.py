"""Data loading: real files, splits, and one-line errors naming file and problem."""

import gzip
import struct

import numpy as np
import pytest

from brian_edff.datasets import DataError, load_dataset, read_idx, validate_images


def write_idx(path, array, magic_type=0x08, compress=False, truncate=0, extra=b""):
    header = bytes([0, 0, magic_type, array.ndim]) + struct.pack(">" + "I" * array.ndim,
                                                                  *array.shape)
    data = header + array.astype(np.uint8).tobytes() + extra
    if truncate:
        data = data[:-truncate]
    opener = gzip.open if compress else open
    with opener(path, "wb") as handle:
        handle.write(data)


def make_idx_dir(tmp_path, n_train=60, n_test=20, compress=False):
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("t10k", n_test)):
        suffix = ".gz" if compress else ""
        write_idx(tmp_path / f"{split}-images-idx3-ubyte{suffix}",
                  rng.integers(0, 256, size=(n, 5, 4)), compress=compress)
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte{suffix}",
                  np.arange(n) % 10, compress=compress)
    return tmp_path


def test_digits_splits():
    ds = load_dataset("digits", seed=0)
    assert ds.n_input == 64 and ds.image_shape == (8, 8)
    assert len(ds.train_x) + len(ds.dev_x) + len(ds.test_x) == 1797
    assert 0 <= ds.train_x.min() and ds.train_x.max() <= 1
    other = load_dataset("digits", seed=1)
    np.testing.assert_array_equal(ds.test_y, other.test_y)  # fixed test split
    assert not np.array_equal(ds.dev_y, other.dev_y) or not np.array_equal(
        ds.train_y, other.train_y)


def test_mnist5k_split():
    ds = load_dataset("mnist5k", seed=0)
    assert ds.n_input == 784
    assert len(ds.train_x) + len(ds.dev_x) == 4000 and len(ds.test_x) == 1000
    assert np.bincount(ds.test_y).tolist() == [100] * 10


@pytest.mark.parametrize("compress", [False, True])
def test_idx_directory(tmp_path, compress):
    ds = load_dataset(f"idx:{make_idx_dir(tmp_path, compress=compress)}", seed=0)
    assert ds.image_shape == (5, 4) and len(ds.test_x) == 20
    assert len(ds.train_x) + len(ds.dev_x) == 60


def test_unknown_dataset():
    with pytest.raises(DataError, match="unknown data set 'cifar'"):
        load_dataset("cifar")


def test_missing_directory_and_file(tmp_path):
    with pytest.raises(DataError, match="data directory not found"):
        load_dataset(f"idx:{tmp_path / 'nope'}")
    make_idx_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.*file not found"):
        load_dataset(f"idx:{tmp_path}")


def test_truncated_idx(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    write_idx(path, np.zeros((4, 3, 3)), truncate=5)
    with pytest.raises(DataError, match="x-idx3-ubyte: truncated IDX file"):
        read_idx(str(path))


def test_wrong_magic(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x08\x03" + b"\x00" * 40)
    with pytest.raises(DataError, match="wrong IDX magic number"):
        read_idx(str(path))


def test_corrupt_gzip(tmp_path):
    path = tmp_path / "x-idx3-ubyte.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage-that-is-not-deflate")
    with pytest.raises(DataError, match="x-idx3-ubyte.gz: corrupt or unreadable"):
        read_idx(str(path))


def test_count_mismatch(tmp_path):
    make_idx_dir(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(59) % 10)
    with pytest.raises(DataError, match="60 images but .* has 59 labels"):
        load_dataset(f"idx:{tmp_path}")


@pytest.mark.parametrize("bad, message", [
    (np.nan, "NaN or inf"), (np.inf, "NaN or inf"), (1.5, r"\[0, 1\]"), (-0.1, r"\[0, 1\]"),
])
def test_pixel_values(bad, message):
    x = np.zeros((3, 4))
    x[1, 2] = bad
    with pytest.raises(DataError, match=f"my-images: .*{message}"):
        validate_images(x, np.array([0, 1, 2]), "my-images", n_labels=10)


def test_shape_errors():
    with pytest.raises(DataError, match="2-D array"):
        validate_images(np.zeros((3, 2, 2)), np.zeros(3, int), "src")
    with pytest.raises(DataError, match="3 images but 2 labels"):
        validate_images(np.zeros((3, 4)), np.zeros(2, int), "src")
