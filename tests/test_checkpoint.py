"""Atomic files: a full disk keeps the previous version and names the disk."""

import errno
import json

import numpy as np
import pytest

from brian_edff import checkpoint
from brian_edff.checkpoint import DiskFullError, load_arrays, save_arrays, write_json


def full_disk_after(n_bytes):
    """A write function that writes ``n_bytes`` and then finds the disk full."""
    def write(handle):
        handle.write(b"x" * n_bytes)
        raise OSError(errno.ENOSPC, "No space left on device")
    return write


def test_full_disk_keeps_the_previous_file(tmp_path):
    path = tmp_path / "checkpoint.npz"
    save_arrays(str(path), {"W1": np.arange(6.0)})
    with pytest.raises(DiskFullError, match=f"no space left on the disk that holds {tmp_path}"):
        checkpoint._atomic_write(str(path), full_disk_after(100))
    np.testing.assert_array_equal(load_arrays(str(path))["W1"], np.arange(6.0))
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.npz"]  # no temporary left


def test_full_disk_while_writing_json(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    write_json(str(path), {"chunk": 1})

    def fsync(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint.os, "fsync", fsync)
    with pytest.raises(DiskFullError, match="the previous version of the file is kept"):
        write_json(str(path), {"chunk": 2})
    assert json.loads(path.read_text()) == {"chunk": 1}


def test_other_errors_pass_through(tmp_path):
    def write(_handle):
        raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(OSError) as info:
        checkpoint._atomic_write(str(tmp_path / "a.json"), write)
    assert not isinstance(info.value, DiskFullError)
    assert list(tmp_path.iterdir()) == []
