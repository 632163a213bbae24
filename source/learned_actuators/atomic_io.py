"""Atomic file writes: a reader sees the old file or the new one, never a half-written one.

Every file we produce that a user keeps (checkpoints, best model, exports, results, reports) goes through
:func:`atomic_write`: the data goes to a temporary file in the same folder, is flushed and fsync-ed, then renamed
over the target (``os.replace``, atomic on POSIX). A crash, SIGTERM or SIGKILL at any moment leaves the previous
file intact; a full disk raises :class:`~learned_actuators.errors.DiskFullError` naming the file and leaves
neither a stub nor a temporary file behind.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from .errors import disk_full_error

__all__ = [
    "atomic_path",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "json_safe",
    "torch_save_atomic",
]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer that wants a file name (``torch.jit.save``, ONNX export).

    When the block succeeds the file is fsync-ed and renamed onto ``path``; on any error it is deleted and
    ``path`` is left as it was (ENOSPC becomes a :class:`~learned_actuators.errors.DiskFullError` naming ``path``).
    The temporary name keeps the suffix (some writers, such as ``onnx.save``, choose the format by it).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".partial{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; the file gets the mode a plain open() would give
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        full = disk_full_error(target, err)
        if full is not None:
            raise full from err
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; on success flush, fsync and rename it onto ``path``.

    Args:
        path: the file to (re)place.
        mode: ``"wb"`` or ``"w"`` (text, UTF-8).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode {mode!r}; expected 'w' or 'wb'.")
    with atomic_path(path) as tmp, open(tmp, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
        yield f


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return the path."""
    with atomic_write(path, "wb") as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    with atomic_write(path, "w") as f:
        f.write(text)
    return Path(path)


def json_safe(value):
    """JSON-ready copy: NumPy types to Python, paths to text, NaN to ``None``, infinities to ``"inf"``/``"-inf"``."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def atomic_write_json(path: str | os.PathLike, data: Any, **dumps_kwargs: Any) -> Path:
    """Write ``data`` as JSON (indent 2 unless given) to ``path`` atomically; return the path."""
    dumps_kwargs.setdefault("indent", 2)
    return atomic_write_text(path, json.dumps(data, **dumps_kwargs) + "\n")


def torch_save_atomic(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)`` through :func:`atomic_write`; return the path."""
    import torch

    with atomic_write(path, "wb") as f:
        torch.save(obj, f)
    return Path(path)
