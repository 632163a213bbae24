"""Per-run frame arrays in memory or in a file on disk, and the windows the trainer gathers from them.

A :class:`FrameArray` holds rows of one width, run after run: a NumPy array (in memory) or a flat binary file read
with ``pread`` (on disk; pages are not mapped, so reading it does not grow the process's resident memory). Runs are
appended one at a time, so building a store on disk needs memory for one run only.

A store on disk is a folder: ``frames.bin`` (written under a temporary name and renamed when complete),
``table.npz`` and, written last, ``manifest.json`` with a key of what was stored. :func:`open_store` reuses a folder
whose manifest matches the key and whose frames file has the stated size; anything else (an interrupted write, other
data or settings) is deleted and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..atomic_io import atomic_write, atomic_write_json
from ..errors import UserInputError

__all__ = ["FrameArray", "StoreFolder", "store_key"]


class FrameArray:
    """Rows ``(N, width)`` of one dtype, appended run by run; in memory (``path`` None) or in a file."""

    def __init__(self, width: int, dtype, capacity: int = 0, path: Path | None = None):
        self.width, self.dtype = width, np.dtype(dtype)
        self.rows = 0
        self.path = path
        self._array = np.zeros((capacity, width), self.dtype) if path is None else None
        self._file = None
        self._fd: int | None = None

    @property
    def on_disk(self) -> bool:
        """Whether the rows live in a file."""
        return self.path is not None

    def append(self, block: np.ndarray, out=None) -> int:
        """Append ``block`` (n, width); returns the row offset it starts at. ``out``: the open file on disk."""
        block = np.ascontiguousarray(block, dtype=self.dtype)
        offset = self.rows
        if self.path is None:
            if offset + len(block) > len(self._array):  # grow (only when the capacity was not known)
                grown = np.zeros((max(2 * len(self._array), offset + len(block)), self.width), self.dtype)
                grown[:offset] = self._array[:offset]
                self._array = grown
            self._array[offset : offset + len(block)] = block
        else:
            out.write(block.tobytes())
        self.rows += len(block)
        return offset

    def finish(self) -> None:
        """Trim the in-memory array to the rows appended; open the file for reading."""
        if self.path is None:
            self._array = self._array[: self.rows]
        else:
            self.open_read()

    def open_read(self) -> None:
        """Open the file for reading (on disk)."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)

    def close(self) -> None:
        """Close the file (on disk); in memory nothing to do."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def read(self, start: int, count: int) -> np.ndarray:
        """Rows ``[start, start + count)``."""
        if self.path is None:
            return self._array[start : start + count]
        size = self.dtype.itemsize * self.width
        data = os.pread(self._fd, count * size, int(start) * size)
        return np.frombuffer(data, self.dtype).reshape(count, self.width)

    def gather(self, starts: np.ndarray, lengths: np.ndarray, width: int) -> np.ndarray:
        """``(B, width, W)``: rows ``starts[k] + [0, lengths[k])`` of each k, zero beyond ``lengths[k]``."""
        if self.path is None:
            steps = np.arange(width)
            inside = steps[None, :] < lengths[:, None]
            rows = np.where(inside, starts[:, None] + steps[None, :], 0)
            out = self._array[rows]
            if not inside.all():
                out[~inside] = 0
            return out
        out = np.zeros((len(starts), width, self.width), self.dtype)
        for k, (s, n) in enumerate(zip(starts.tolist(), lengths.tolist(), strict=True)):
            out[k, :n] = self.read(s, n)
        return out


def store_key(parts: dict) -> str:
    """A hash of what a store holds (run names and lengths, normalisation, window settings)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class StoreFolder:
    """A store on disk: ``frames.bin``, ``table.npz`` and ``manifest.json`` (written last) in ``folder``."""

    def __init__(self, folder: Path, key: str = ""):
        self.folder, self.key = Path(folder), key
        self.frames, self.table, self.manifest = (self.folder / n for n in ("frames.bin", "table.npz", "manifest.json"))

    def complete(self) -> dict | None:
        """The manifest of a complete store with this key, else None."""
        try:
            manifest = json.loads(self.manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        size = manifest.get("rows", -1) * manifest.get("row_bytes", 0)
        if manifest.get("key") != self.key or not self.frames.is_file() or self.frames.stat().st_size != size:
            return None
        if not self.table.is_file():
            return None
        return manifest

    def build(self, array: FrameArray, write: Callable[[object], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        """Write a fresh store: ``write(file)`` appends the runs to ``array`` and returns the table arrays."""
        if self.folder.exists():
            shutil.rmtree(self.folder)  # a partial or stale store: never used
        self.folder.mkdir(parents=True)
        _check_space(self.folder)
        array.path = self.frames
        with atomic_write(self.frames, "wb") as f:
            table = write(f)
        with atomic_write(self.table, "wb") as f:
            np.savez(f, **table)
        atomic_write_json(self.manifest, {"key": self.key, "rows": array.rows, "row_bytes": _row_bytes(array)})
        return table

    def load_table(self) -> dict[str, np.ndarray]:
        """The window table of a complete store."""
        with np.load(self.table) as data:
            return {k: data[k] for k in data.files}

    def remove(self) -> None:
        """Delete the folder."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _row_bytes(array: FrameArray) -> int:
    return array.width * array.dtype.itemsize


def _check_space(folder: Path) -> None:
    """Refuse clearly when the disk is (nearly) full before a store is written."""
    free = shutil.disk_usage(folder).free
    if free < 64 * 2**20:
        raise UserInputError(
            f"{folder}: only {free / 2**20:.0f} MiB free for the streaming training store; free disk space or "
            "give another run directory."
        )
