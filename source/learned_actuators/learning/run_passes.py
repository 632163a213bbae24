"""Passes over the training runs, one run at a time, for what once concatenated every frame.

Each works the same on a list of runs and on :class:`~learned_actuators.data.lazy_runs.LazyRuns` (each file read
once, in file order), and keeps per-run partial results by the run's position so that the result does not depend on
the reading order: the trainer gives the same model whether its runs are in memory or streamed from disk.

* :func:`frame_sample`: the runs thinned to a frame budget (every k-th frame) for the physics fit, the mirroring check
  (:func:`~.recipe_rules.even_torque_share`) and the deploy summary's gains; the runs themselves when they fit.

The normalisation statistics come from streaming moments in the windows' own pass over the runs
(:class:`~.windows.TrainingWindows`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from ..data.joint_log import JointLog
from ..data.lazy_runs import LazyRuns, runs_in_order

__all__ = ["bounded_runs", "frame_sample", "run_lengths", "run_metas", "run_names", "thin_log"]


def run_names(logs: Sequence[JointLog]) -> list[str]:
    """The runs' names (from metadata for lazily read runs: nothing is read)."""
    return [i.name for i in logs.infos] if isinstance(logs, LazyRuns) else [g.name for g in logs]


def run_metas(logs: Sequence[JointLog]) -> list[dict[str, Any]]:
    """The runs' ``meta`` dicts (from metadata for lazily read runs: nothing is read)."""
    return [i.meta for i in logs.infos] if isinstance(logs, LazyRuns) else [g.meta for g in logs]


def run_lengths(logs: Sequence[JointLog]) -> list[int]:
    """Frames per run (from metadata for lazily read runs: nothing is read)."""
    return [i.length for i in logs.infos] if isinstance(logs, LazyRuns) else [len(g) for g in logs]


def thin_log(log: JointLog, k: int) -> JointLog:
    """Every ``k``-th frame of ``log`` (from frame 0), copied; ``log`` itself for ``k = 1``."""
    if k == 1:
        return log

    def thin(a):  # a copy: a view would keep the whole run in memory
        return None if a is None else a[::k].copy()

    return dataclasses.replace(
        log,
        t=thin(log.t),
        q=thin(log.q),
        q_target=thin(log.q_target),
        qd=thin(log.qd),
        tau=thin(log.tau),
        valid=thin(log.valid),
        channels={name: thin(a) for name, a in log.channels.items()},
    )


def frame_sample(logs: Sequence[JointLog], budget: int) -> list[JointLog]:
    """The runs with every ``k``-th frame, ``k = ceil(frames / budget)``: at most about ``budget`` frames in all.

    Deterministic (frames 0, k, 2k ... of each run, in the runs' order), and the runs themselves (``k = 1``) when
    they hold at most ``budget`` frames. Lazily read runs are read one at a time.
    """
    k = max(1, math.ceil(sum(run_lengths(logs)) / max(1, budget)))
    if k == 1 and not isinstance(logs, LazyRuns):
        return list(logs)
    out: dict[int, JointLog] = {}
    for pos, log in runs_in_order(logs):
        out[pos] = thin_log(log, k)
    return [out[p] for p in range(len(out))]


def bounded_runs(logs: Sequence[JointLog], budget: int) -> list[JointLog]:
    """The leading runs holding at most ``budget`` frames (at least one run), as a list; all runs of a list."""
    if not isinstance(logs, LazyRuns):
        return list(logs)
    total, count = 0, 0
    for n in run_lengths(logs):
        if count and total + n > budget:
            break
        total, count = total + n, count + 1
    return [logs[i] for i in range(count)]
