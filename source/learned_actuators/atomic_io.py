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
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .errors import disk_full_error

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_json", "atomic_write_text", "torch_save_atomic"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; on success flush, fsync and rename it onto ``path``.

    Args:
        path: the file to (re)place.
        mode: ``"wb"`` or ``"w"`` (text, UTF-8).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode {mode!r}; expected 'w' or 'wb'.")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
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
