"""Atomic saving and checked loading of weights, checkpoints and run records.

Every file is written to a temporary file in the same directory and renamed
over the target, so a run directory never holds a half-written file.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

__all__ = ["CheckpointError", "DiskFullError", "write_json", "read_json", "save_arrays",
           "load_arrays", "load_weights", "check_weights", "provenance", "write_text"]


class CheckpointError(ValueError):
    """A checkpoint or run directory is missing, corrupt or incompatible."""


class DiskFullError(CheckpointError):
    """The disk filled up while a file was written; the previous file is intact."""


#: Errors of a write to a full disk or an exhausted quota.
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


def _disk_full_message(path: str, directory: str) -> str:
    try:
        free = shutil.disk_usage(directory).free / 2**20
        room = f"{free:.0f} MiB free"
    except OSError:
        room = "free space unknown"
    return (f"{path}: no space left on the disk that holds {directory} ({room}); "
            "the previous version of the file is kept")


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _atomic_write(path: str, write):
    """Write through ``write(handle)`` into a temporary file, then rename it
    over ``path``: ``path`` is either its old or its new content. A full disk
    ends in :class:`DiskFullError` with the temporary file removed."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp_",
                                   suffix=os.path.basename(path))
    except OSError as err:
        if err.errno in _DISK_FULL:
            raise DiskFullError(_disk_full_message(path, directory)) from None
        raise
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # as open() would create it (mkstemp: 0600)
        os.replace(tmp, path)
    except BaseException as err:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(err, OSError) and err.errno in _DISK_FULL:
            raise DiskFullError(_disk_full_message(path, directory)) from None
        raise


def write_json(path: str, data) -> None:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(data, indent=2, sort_keys=False, default=_json_default) + "\n"
    _atomic_write(path, lambda handle: handle.write(text.encode()))


def write_text(path: str, text: str) -> None:
    """Write ``text`` (a table, a CSV file), atomically."""
    _atomic_write(path, lambda handle: handle.write(text.encode()))


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def read_json(path: str):
    """Read JSON; CheckpointError names the file when missing or corrupt."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: file not found") from None
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{path}: corrupt JSON ({err.msg}, line {err.lineno})") from None


def save_arrays(path: str, arrays: dict) -> None:
    """Save a dict of arrays as ``.npz``, atomically."""
    _atomic_write(path, lambda handle: np.savez(handle, **arrays))


def load_arrays(path: str) -> dict:
    """Load a ``.npz`` into a dict; CheckpointError when missing or corrupt."""
    if not os.path.exists(path):
        raise CheckpointError(f"{path}: file not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise CheckpointError(f"{path}: corrupt array file ({err})") from None


def load_weights(path: str, expected_shapes: dict) -> dict:
    """Load weights and check every projection against ``expected_shapes``.

    Raises
    ------
    CheckpointError
        A projection is missing or has another shape (different network).
    """
    arrays = load_arrays(path)
    check_weights(arrays, expected_shapes, path)
    return arrays


def check_weights(arrays: dict, expected_shapes: dict, path: str, prefix: str = "") -> None:
    """Every projection ``prefix + name`` present, of the expected shape, finite."""
    for name, shape in expected_shapes.items():
        key = prefix + name
        if key not in arrays:
            raise CheckpointError(f"{path}: projection {name} missing from checkpoint")
        if tuple(arrays[key].shape) != tuple(shape):
            raise CheckpointError(
                f"{path}: projection {name} has shape {arrays[key].shape}, the circuit "
                f"needs {tuple(shape)} (checkpoint from a different network shape)")
        if not np.isfinite(arrays[key]).all():
            raise CheckpointError(f"{path}: projection {name} contains NaN or inf")


def git_revision() -> str | None:
    """Git commit of the package source, with ``+dirty`` if modified."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10)
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance() -> dict:
    """Package versions, Python, host and git revision, for run records."""
    import brian2
    import sklearn

    from . import __version__

    return {"brian_edff": __version__, "brian2": brian2.__version__,
            "numpy": np.__version__, "scikit-learn": sklearn.__version__,
            "python": sys.version.split()[0], "platform": platform.platform(),
            "host": platform.node(), "git_revision": git_revision(),
            "command": " ".join(sys.argv)}
