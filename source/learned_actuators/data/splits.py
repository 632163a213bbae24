"""Leak-free splits: whole runs (or contiguous time blocks) per split, never random frames of one run."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field

import numpy as np

from .joint_log import JointLog

__all__ = [
    "Fold",
    "Split",
    "block_spans",
    "hold_out_spans",
    "kfold_blocks",
    "leave_one_group_out",
    "slice_log",
    "split_blocks",
    "split_joints",
    "split_runs",
]


@dataclass
class Split:
    """Runs per split; a run's frames never appear in two splits."""

    train: list[JointLog]
    val: list[JointLog] = field(default_factory=list)
    test: list[JointLog] = field(default_factory=list)

    def summary(self) -> dict[str, list[str]]:
        """Run names per split."""
        return {k: [log.name for log in getattr(self, k)] for k in ("train", "val", "test")}


@dataclass
class Fold(Split):
    """One cross-validation fold: ``test`` holds the runs of the held-out group ``name``."""

    name: str = ""


def slice_log(log: JointLog, start: int, stop: int, suffix: str) -> JointLog:
    """Contiguous frames ``[start, stop)`` of a run, as a new run named ``<name>#<suffix>``."""
    sl = slice(start, stop)
    return dataclasses.replace(
        log,
        name=f"{log.name}#{suffix}",
        t=log.t[sl],
        q=log.q[sl],
        q_target=log.q_target[sl],
        qd=log.qd[sl],
        tau=None if log.tau is None else log.tau[sl],
        valid=None if log.valid is None else log.valid[sl],
        meta={**log.meta, "parent_run": log.name, "span": [int(start), int(stop)]},
        channels={k: v[sl] for k, v in log.channels.items()},
    )


def split_joints(logs: list[JointLog]) -> list[JointLog]:
    """One single-joint run per (run, joint): actuator nets are per joint (SISO).

    Each joint's run gets its own per-joint metadata (``meta["joints"][name]``: gains, limits) at the top level of
    its ``meta``, and ``meta["joint"]`` = its name.
    """
    out = []
    for log in logs:
        if log.num_joints == 1:
            out.append(log)
            continue
        for j, name in enumerate(log.joint_names):
            out.append(
                dataclasses.replace(
                    log,
                    name=f"{log.name}/{name}",
                    q=log.q[:, j : j + 1],
                    q_target=log.q_target[:, j : j + 1],
                    qd=log.qd[:, j : j + 1],
                    tau=None if log.tau is None else log.tau[:, j : j + 1],
                    joint_names=[name],
                    meta=_joint_meta(log.meta, name),
                    channels={k: v[:, j : j + 1] for k, v in log.channels.items()},
                )
            )
    return out


def _joint_meta(meta: dict, name: str) -> dict:
    out = {k: v for k, v in meta.items() if k != "joints"}
    out.update((meta.get("joints") or {}).get(name, {}))
    out["joint"] = name
    return out


def _check_ratios(ratios) -> np.ndarray:
    r = np.asarray(ratios, dtype=float)
    if r.shape != (3,) or (r < 0).any() or not np.isclose(r.sum(), 1.0):
        raise ValueError(
            f"split ratios {tuple(ratios)} must be three non-negative numbers summing to 1 (train, val, test)."
        )
    return r


def split_runs(logs: list[JointLog], ratios=(0.7, 0.15, 0.15), seed: int = 0) -> Split:
    """Assign whole runs to train/val/test so the sample counts approach ``ratios``.

    Runs are shuffled with ``seed`` and handed to the split whose share is furthest below its target. Every split
    with a positive ratio gets at least one run when there are enough runs.

    Raises:
        ValueError: for fewer runs than splits with a positive ratio (use :func:`split_blocks` instead).
    """
    r = _check_ratios(ratios)
    wanted = int((r > 0).sum())
    if len(logs) < wanted:
        raise ValueError(f"{len(logs)} runs cannot fill {wanted} splits by whole runs; use split_blocks (time blocks).")
    order = np.random.default_rng(seed).permutation(len(logs))
    buckets: list[list[JointLog]] = [[], [], []]
    counts = np.zeros(3)
    total = sum(len(log) for log in logs)
    for rank, i in enumerate(order):
        remaining = len(order) - rank
        empty = [k for k in range(3) if r[k] > 0 and not buckets[k]]
        if len(empty) >= remaining:
            k = empty[0]
        else:
            k = int(np.argmax(np.where(r > 0, r * total - counts, -np.inf)))
        buckets[k].append(logs[i])
        counts[k] += len(logs[i])
    return Split(*buckets)


def split_blocks(logs: list[JointLog], ratios=(0.7, 0.15, 0.15), gap_s: float = 0.0) -> Split:
    """Cut every run into three contiguous blocks (train first, then val, then test) by ``ratios``.

    ``gap_s`` [s] of frames between blocks are left out of every split so that recurrent/history context does not
    straddle a boundary (they are not lost silently: the gap is recorded in each block's ``meta["span"]``).
    """
    r = _check_ratios(ratios)
    out = Split([], [], [])
    for log in logs:
        n = len(log)
        gap = round(gap_s / log.dt) if gap_s else 0
        edges = np.round(np.cumsum(np.r_[0.0, r]) * n).astype(int)
        for k, name in enumerate(("train", "val", "test")):
            start = edges[k] + (gap if k > 0 else 0)
            stop = edges[k + 1]
            if stop - start > 1:
                getattr(out, name).append(slice_log(log, start, stop, name))
    return out


def leave_one_group_out(logs: list[JointLog], key: str = "group", val_ratio: float = 0.0, seed: int = 0) -> list[Fold]:
    """One fold per distinct ``meta[key]`` value: that group's runs are the test set, the others train (+ val).

    Args:
        logs: Runs with ``meta[key]`` set (e.g. the inertia group, the trajectory, the motor).
        key: Metadata key defining the groups.
        val_ratio: Share of the remaining runs' samples held out (whole runs) for validation/early stopping.
        seed: Seed of the validation draw.

    Raises:
        ValueError: if a run lacks ``meta[key]`` or there are fewer than two groups.
    """
    missing = [log.name for log in logs if key not in log.meta or log.meta[key] in (None, "")]
    if missing:
        raise ValueError(f"runs {missing[:5]} have no metadata '{key}'; cannot build leave-one-group-out folds.")
    groups = sorted({str(log.meta[key]) for log in logs})
    if len(groups) < 2:
        raise ValueError(f"leave-one-group-out needs at least two '{key}' groups; found {groups}.")
    folds = []
    for g in groups:
        test = [log for log in logs if str(log.meta[key]) == g]
        rest = [log for log in logs if str(log.meta[key]) != g]
        if val_ratio > 0 and len(rest) >= 2:
            inner = split_runs(rest, (1.0 - val_ratio, val_ratio, 0.0), seed)
            folds.append(Fold(inner.train, inner.val, test, name=g))
        else:
            folds.append(Fold(rest, [], test, name=g))
    return folds


def block_spans(n: int, blocks: int) -> list[tuple[int, int]]:
    """Frame ranges ``[start, stop)`` of ``blocks`` contiguous, near-equal blocks of a run of ``n`` frames."""
    edges = np.round(np.linspace(0, n, blocks + 1)).astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def hold_out_spans(logs: list[JointLog], spans_of, gap_s: float = 0.0, name: str = "held_out") -> Fold:
    """Hold out chosen frame ranges of every run; train on the rest, minus ``gap_s`` [s] on each side of them.

    Args:
        logs: The runs.
        spans_of: ``callable(log) -> [(start, stop), ...]``: the held-out frame ranges of a run (may be empty).
        gap_s: Frames within this time of a held-out range are in neither split (recurrent/history context and
            slow drifts do not leak across the boundary).
        name: The fold's name.

    Returns:
        A :class:`Fold` (``val`` empty): test pieces ``<run>#test<i>``, train pieces ``<run>#train<i>`` (pieces of
        fewer than 2 frames are dropped); each piece's ``meta["span"]`` gives its frames in the run.
    """
    fold = Fold([], [], [], name=name)
    for log in logs:
        n = len(log)
        gap = round(gap_s / log.dt) if gap_s else 0
        spans = sorted((max(0, a), min(n, b)) for a, b in spans_of(log) if min(n, b) > max(0, a))
        blocked = np.zeros(n, dtype=bool)
        for i, (a, b) in enumerate(spans):
            blocked[max(0, a - gap) : b + gap] = True
            if b - a > 1:
                fold.test.append(slice_log(log, a, b, f"test{i}"))
        edges = np.flatnonzero(np.diff(np.r_[0, (~blocked).astype(np.int8), 0]))
        for i, (a, b) in enumerate(zip(edges[::2], edges[1::2], strict=True)):
            if b - a > 1:
                fold.train.append(slice_log(log, int(a), int(b), f"train{i}"))
    return fold


def kfold_blocks(logs: list[JointLog], blocks: int, gap_s: float = 0.0, only: list[int] | None = None) -> list[Fold]:
    """K-fold over time: fold ``k`` tests block ``k`` of every run (``blocks`` contiguous blocks per run).

    Training uses the other blocks, minus ``gap_s`` [s] on each side of the test block (:func:`hold_out_spans`).
    ``only`` keeps the folds of these block indices. Folds are named ``block<k>``.

    Raises:
        ValueError: for fewer than two blocks or an index outside ``0 .. blocks - 1``.
    """
    if blocks < 2:
        raise ValueError(f"k-fold over blocks needs at least 2 blocks; got {blocks}.")
    bad = [k for k in only or [] if not 0 <= k < blocks]
    if bad:
        raise ValueError(f"block index(es) {bad} outside 0..{blocks - 1} ({blocks} blocks per run).")
    return [
        hold_out_spans(logs, lambda log, k=k: [block_spans(len(log), blocks)[k]], gap_s, name=f"block{k}")
        for k in (range(blocks) if only is None else only)
    ]
