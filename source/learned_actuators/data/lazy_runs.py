"""Runs read from their files on access: a sequence of single-joint runs that holds at most one file in memory.

:class:`LazyRuns` is what ``data.streaming`` gives the trainer instead of a list of :class:`JointLog`: indexing it
reads the run's file (with the reader, the same checks and the same names as :func:`~.run_files.read_run_files`),
splits it per joint and keeps that one file's runs until another file is read. Per-run metadata (:class:`RunInfo`:
name, ``meta``, length, time step, valid frames) is collected once when the sequence is built, so splits, filters
and checks that need only metadata never read the frames again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .joint_log import JointLog
from .run_files import find_run_files, rename_run, run_names
from .splits import split_joints

__all__ = ["LazyRuns", "RunInfo", "runs_in_order"]

Prepare = Callable[[JointLog], JointLog | None]
"""Step applied to each single-joint run after reading (None drops the run, e.g. a joint not asked for)."""


@dataclass
class RunInfo:
    """What is known of a run without its frames (duck-types the metadata part of :class:`JointLog`)."""

    name: str
    source: str
    meta: dict[str, Any]
    length: int
    dt: float
    valid_frames: int
    """Frames with ``valid`` set and a finite torque label (the trainer's loss mask)."""
    has_tau: bool
    sample: JointLog | None = None
    """The run thinned to a frame budget (set by the trainer for fits that need frames, e.g. the mirroring check)."""

    def __len__(self) -> int:
        return self.length

    @classmethod
    def of(cls, log: JointLog) -> RunInfo:
        """The metadata of ``log``."""
        mask = np.ones(len(log), dtype=bool) if log.valid is None else np.asarray(log.valid, dtype=bool)
        if log.tau is not None:
            mask = mask & np.isfinite(log.tau[:, 0])
        meta = dict(log.meta)
        return cls(log.name, log.source, meta, len(log), log.dt, int(mask.sum()), log.tau is not None)


class _Files:
    """The files, their reader and run names, the per-run step, and the one file's runs read last."""

    def __init__(self, files: list[Path], read: Callable[[Path], JointLog], names: list[str | None], prepare: Prepare):
        self.files, self.read, self.names, self.prepare = files, read, names, prepare
        self.cached: tuple[int, list[JointLog | None]] | None = None
        self.reads = 0
        """Files read so far (tests and benchmarks count them)."""

    def runs(self, i: int) -> list[JointLog | None]:
        if self.cached is None or self.cached[0] != i:
            self.cached = None  # release the previous file before reading the next
            log = self.read(self.files[i])
            if self.names[i] is None:
                self.names[i] = log.name
            log = rename_run(log, self.names[i])
            self.reads += 1
            self.cached = (i, [self.prepare(g) for g in split_joints([log])])
        return self.cached[1]

    def release(self) -> None:
        self.cached = None


Entry = tuple[int, int, Callable[[JointLog], JointLog] | None]
"""(file index, joint run index within the file, transform applied on access or None)."""


class LazyRuns(Sequence[JointLog]):
    """Single-joint runs read from their files when accessed; at most one file's runs are held at a time.

    Build with :meth:`index`. ``runs[i]`` reads run i (its file is kept until another one is read), ``runs[a:b]``,
    :meth:`subset`, ``runs + other`` and :meth:`mapped` give new sequences over the same files without reading
    anything. :attr:`infos` holds each run's :class:`RunInfo`. Iterating in :meth:`in_file_order` reads each file
    once.
    """

    def __init__(self, files: _Files, entries: list[Entry], infos: list[RunInfo]):
        self._files, self.entries, self.infos = files, list(entries), list(infos)

    @classmethod
    def index(
        cls, path: str | Path, patterns: Sequence[str], read: Callable[[Path], JointLog], prepare: Prepare | None = None
    ) -> LazyRuns:
        """Read every run file under ``path`` once (one at a time) for its runs' metadata; no frames are kept.

        Files, names and errors are those of :func:`~.run_files.read_run_files` with ``read``; ``prepare`` is applied
        to each single-joint run after reading.

        Raises:
            LogFormatError: ``path`` does not exist, the folder holds no matching file, or a file is unreadable.
        """
        path = Path(path)
        files = find_run_files(path, patterns)
        prepare = prepare or (lambda g: g)
        store = _Files(files, read, [None] * len(files), prepare)
        entries, infos = cls._scan(store)
        names = run_names(path, files, store.names)
        if names != store.names:  # repeated file names: runs are named by their relative paths (a second pass)
            store = _Files(files, read, names, prepare)
            entries, infos = cls._scan(store)
        store.reads = 0
        return cls(store, entries, infos)

    @staticmethod
    def _scan(store: _Files) -> tuple[list[Entry], list[RunInfo]]:
        """Entries and metadata of every run, reading each file once (a file's own run name when none is set)."""
        entries, infos = [], []
        for i in range(len(store.files)):
            for j, run in enumerate(store.runs(i)):
                if run is not None:
                    entries.append((i, j, None))
                    infos.append(RunInfo.of(run))
        store.release()
        return entries, infos

    @property
    def reads(self) -> int:
        """Files read since :meth:`index` (shared by the sequences over the same files)."""
        return self._files.reads

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.subset(range(len(self))[i])
        i = range(len(self))[i]
        f, j, fn = self.entries[i]
        run = self._files.runs(f)[j]
        return run if fn is None else fn(run)

    def subset(self, indices) -> LazyRuns:
        """The runs at ``indices`` (in that order)."""
        idx = [int(i) for i in indices]
        return LazyRuns(self._files, [self.entries[i] for i in idx], [self.infos[i] for i in idx])

    def __add__(self, other):
        if isinstance(other, LazyRuns) and other._files is self._files:
            return LazyRuns(self._files, self.entries + other.entries, self.infos + other.infos)
        if isinstance(other, list | tuple) and not other:
            return self
        return NotImplemented

    def __radd__(self, other):
        if isinstance(other, list | tuple) and not other:
            return self
        return NotImplemented

    def mapped(self, fn: Callable[[JointLog], JointLog], info: Callable[[RunInfo], RunInfo]) -> LazyRuns:
        """The runs transformed by ``fn`` on access; ``info`` gives the transformed runs' metadata."""
        entries = [(f, j, fn if g is None else _compose(g, fn)) for f, j, g in self.entries]
        return LazyRuns(self._files, entries, [info(dataclasses.replace(i, meta=dict(i.meta))) for i in self.infos])

    def in_file_order(self) -> Iterator[tuple[int, JointLog]]:
        """``(position, run)`` for every run, ordered by file so that each file is read once."""
        order = sorted(range(len(self)), key=lambda i: self.entries[i][:2])
        for i in order:
            yield i, self[i]
        self._files.release()

    def position_of(self) -> dict[int, int]:
        """Map from ``id(info)`` of each :attr:`infos` entry to its position (to map metadata splits back)."""
        return {id(info): i for i, info in enumerate(self.infos)}


def _compose(first: Callable, then: Callable) -> Callable:
    return lambda run: then(first(run))


def runs_in_order(runs: Sequence[JointLog]) -> Iterator[tuple[int, JointLog]]:
    """``(position, run)`` of a list or of :class:`LazyRuns` (then by file, each file read once)."""
    if isinstance(runs, LazyRuns):
        return runs.in_file_order()
    return iter(enumerate(runs))
