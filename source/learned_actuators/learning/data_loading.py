"""Reading the runs a :class:`~.data_cfg.DataCfg` names, sampling them and splitting them into folds."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from ..data.bench_csv import read_bench_folder
from ..data.bench_csv_cfg import BenchCsvCfg
from ..data.column_map import read_mapped_folder
from ..data.demo import load_demo_logs
from ..data.history_npz import read_history_npz
from ..data.inverse_dynamics import label_by_inverse_dynamics
from ..data.joint_log import JointLog
from ..data.lazy_runs import LazyRuns
from ..data.run_files import read_run_files
from ..data.splits import (
    Split,
    block_spans,
    hold_out_spans,
    kfold_blocks,
    leave_one_group_out,
    split_blocks,
    split_joints,
    split_runs,
)
from ..data.torque_profile import read_torque_profile, read_torque_profile_npz
from ..errors import UserInputError
from .data_cfg import DataCfg, shared_path

__all__ = ["check_data_path", "load_data", "sample_runs", "splits_of"]


def load_data(cfg: DataCfg) -> list[JointLog]:
    """Read the runs a :class:`DataCfg` names (single-joint runs).

    The readers check the format and the physical plausibility of every file (degrees declared as radians, a
    velocity off d(position)/dt by the degree factor, time stamps in the wrong unit, isolated absurd values); all
    runs must share one sampling rate, since every run is a test run of some split. ``data.accept`` waives checks
    by name (:data:`~learned_actuators.data.checks.PLAUSIBILITY_CHECKS`); each error names the value that waives it.
    Torque profiles (``torque_profile``) are searched recursively (``play_policy.py`` writes
    ``<experiment>/<run>/env_*.npz``); a ``.csv`` profile is read unless an ``.npz`` of the same name lies beside it.
    With ``data.streaming`` the result is a :class:`~learned_actuators.data.lazy_runs.LazyRuns` (each file read once
    here, for its checks and metadata, and again when a run is needed; nothing kept).

    Raises:
        UserInputError: A missing or unreadable file, a bad ``data.*`` field, or implausible data.
    """
    from ..data.checks import check_rates_consistent, validate_accept

    accept = validate_accept(cfg.accept)
    if cfg.streaming:
        return _load_lazy(cfg, accept)
    logs = load_demo_logs(accept) if cfg.reader == "demo" else _read(cfg, accept)
    if cfg.include_joints is not None:
        logs = [g for g in split_joints(logs) if g.joint_names[0] in cfg.include_joints]
    logs = split_joints(logs)
    if cfg.include_groups is not None:
        logs = [g for g in logs if str(g.meta.get(cfg.group_key)) in cfg.include_groups]
    if cfg.load is not None:
        logs = [label_by_inverse_dynamics(g, **cfg.load) if g.tau is None else g for g in logs]
    if not logs:
        raise UserInputError(
            "data.include_groups / data.include_joints: no runs left; check the names against the data "
            f"(data.group_key {cfg.group_key!r})."
        )
    logs = sample_runs(logs, cfg.max_runs, cfg.group_key, cfg.max_runs_seed)
    check_rates_consistent(logs, None, accept)
    return logs


def _read(cfg: DataCfg, accept: list[str]) -> list[JointLog]:
    """The runs under ``data.path`` with the reader ``data.reader`` names (every reader but ``demo``)."""
    readers = ("demo", "column_map", "bench_csv", "history_npz", "torque_profile")
    if cfg.reader not in readers:
        raise UserInputError(f"data.reader: {cfg.reader!r}; expected one of {list(readers)}.")
    if cfg.path is None:
        raise UserInputError(f"data.path: data.reader {cfg.reader!r} needs data.path (a folder or file of runs).")
    path = shared_path(cfg.path)
    if not path.exists():
        raise UserInputError(f"{path}: data.path not found (no such file or folder).")
    if cfg.reader == "column_map":
        if cfg.column_map is None:
            raise UserInputError(
                "data.column_map: data.reader 'column_map' needs data.column_map (a shipped map name or a JSON file)."
            )
        return read_mapped_folder(path, cfg.column_map, accept)
    if cfg.reader == "bench_csv":
        known = [f.name for f in dataclasses.fields(BenchCsvCfg)]
        unknown = sorted(set(cfg.bench) - set(known))
        if unknown:
            raise UserInputError(f"data.bench: unknown key(s) {unknown}; BenchCsvCfg fields are {known}.")
        return read_bench_folder(path, BenchCsvCfg(**cfg.bench), accept)
    return read_run_files(path, *_run_file_reader(cfg, accept))


def _run_file_reader(cfg: DataCfg, accept: list[str]):
    """``(patterns, read)`` of the readers whose files are runs (``history_npz``, ``torque_profile``)."""
    if cfg.reader == "history_npz":
        return ("*.npz",), lambda f: read_history_npz(f, cfg.dt, accept=accept)
    return (
        ("*.npz", "*.csv"),
        lambda f: read_torque_profile_npz(f, accept) if f.suffix == ".npz" else read_torque_profile(f, accept),
    )


def _load_lazy(cfg: DataCfg, accept: list[str]) -> LazyRuns:
    """:func:`load_data` for ``data.streaming``: the runs as :class:`LazyRuns`, filtered and sampled by metadata."""
    from ..data.checks import check_rates_consistent

    if cfg.reader not in ("torque_profile", "history_npz"):
        raise UserInputError(
            f"data.streaming=true reads run files one at a time, which data.reader {cfg.reader!r} does not do; use "
            "data.reader=torque_profile or history_npz, or set data.streaming=false."
        )
    if cfg.path is None:
        raise UserInputError(f"data.path: data.reader {cfg.reader!r} needs data.path (a folder or file of runs).")
    path = shared_path(cfg.path)
    if not path.exists():
        raise UserInputError(f"{path}: data.path not found (no such file or folder).")

    def prepare(log: JointLog) -> JointLog | None:
        if cfg.include_joints is not None and log.joint_names[0] not in cfg.include_joints:
            return None
        return label_by_inverse_dynamics(log, **cfg.load) if cfg.load is not None and log.tau is None else log

    runs = LazyRuns.index(path, *_run_file_reader(cfg, accept), prepare=prepare)
    if cfg.include_groups is not None:
        runs = runs.subset(
            i for i, info in enumerate(runs.infos) if str(info.meta.get(cfg.group_key)) in cfg.include_groups
        )
    if not runs:
        raise UserInputError(
            "data.include_groups / data.include_joints: no runs left; check the names against the data "
            f"(data.group_key {cfg.group_key!r})."
        )
    where = runs.position_of()
    runs = runs.subset(where[id(i)] for i in sample_runs(runs.infos, cfg.max_runs, cfg.group_key, cfg.max_runs_seed))
    check_rates_consistent(runs.infos, None, accept)
    return runs


def sample_runs(logs: list[JointLog], max_runs: int | None, group_key: str, seed: int = 0) -> list[JointLog]:
    """``max_runs`` of ``logs`` spread over the groups (metadata ``group_key``), deterministic for ``seed``.

    The groups take turns in a random order; each gives its runs in a random order, until ``max_runs`` are chosen.
    The chosen runs keep their order in ``logs``. All runs when ``max_runs`` is None or not smaller.
    """
    if not max_runs or len(logs) <= max_runs:
        return logs
    rng = np.random.default_rng(seed)
    groups: dict[str, list[int]] = {}
    for i, log in enumerate(logs):
        groups.setdefault(str(log.meta.get(group_key, "")), []).append(i)
    queues = [list(rng.permutation(groups[name])) for name in sorted(groups)]
    queues = [queues[k] for k in rng.permutation(len(queues))]
    chosen: list[int] = []
    while len(chosen) < max_runs:
        for queue in queues:
            if queue and len(chosen) < max_runs:
                chosen.append(int(queue.pop(0)))
    return [logs[i] for i in sorted(chosen)]


def splits_of(logs: list[JointLog], cfg: DataCfg, seed: int = 0) -> list[tuple[str, Split]]:
    """Named splits: one per fold (``groups``) or a single one.

    Raises:
        UserInputError: when the data cannot be split as asked (``data.test_groups`` names a group the data does
            not have, fewer than two groups, a split without test runs); the error lists the groups.
    """
    if isinstance(logs, LazyRuns):
        return _lazy_splits(logs, cfg, seed)
    if cfg.split == "groups":
        try:
            folds = leave_one_group_out(logs, cfg.group_key)
        except UserInputError:
            raise
        except ValueError as err:
            raise UserInputError(f"data.split=groups with data.group_key={cfg.group_key}: {err}") from err
        names = [f.name for f in folds]
        if cfg.test_groups is not None:
            unknown = [g for g in cfg.test_groups if g not in names]
            if unknown:
                raise UserInputError(
                    f"data.test_groups={json.dumps(cfg.test_groups)}: {', '.join(map(repr, unknown))} is not among "
                    f"the data's groups (run metadata '{cfg.group_key}'): {', '.join(names)}."
                )
        splits = [(f.name, f) for f in folds if cfg.test_groups is None or f.name in cfg.test_groups]
    elif cfg.split in ("runs", "blocks", "kfold"):
        try:
            splits = _time_splits(logs, cfg, seed)
        except UserInputError:
            raise
        except ValueError as err:
            raise UserInputError(f"data.split={cfg.split} with data.ratios={json.dumps(cfg.ratios)}: {err}") from err
    else:
        raise UserInputError(f"data.split={cfg.split}: expected groups, runs, blocks or kfold.")
    for name, split in splits:
        if not split.test:
            raise UserInputError(
                f"data.split={cfg.split}: split '{name}' has no test runs ({len(logs)} runs; data.ratios="
                f"{json.dumps(cfg.ratios)}); give more runs or a larger test share."
            )
    return splits


def _lazy_splits(logs: LazyRuns, cfg: DataCfg, seed: int) -> list[tuple[str, Split]]:
    """:func:`splits_of` of lazily read runs: split by their metadata, each part again lazily read runs."""
    if cfg.split not in ("groups", "runs"):
        raise UserInputError(
            f"data.split={cfg.split} cuts runs into time blocks, which needs them in memory; with data.streaming=true "
            "use data.split=groups or runs (whole runs)."
        )
    where = logs.position_of()
    out = []
    for name, split in splits_of(logs.infos, cfg, seed):
        parts = {k: logs.subset(where[id(i)] for i in getattr(split, k)) for k in ("train", "val", "test")}
        out.append((name, dataclasses.replace(split, **parts)))
    return out


def _time_splits(logs: list[JointLog], cfg: DataCfg, seed: int) -> list[tuple[str, Split]]:
    """Splits of ``runs``, ``blocks`` and ``kfold`` (see :class:`DataCfg`)."""
    if cfg.split == "runs":
        return [("runs", split_runs(logs, tuple(cfg.ratios), seed))]
    if cfg.split == "kfold":
        return [(f.name, f) for f in kfold_blocks(logs, cfg.blocks, cfg.gap_s, cfg.test_blocks)]
    if cfg.test_blocks is None and cfg.test_span_s is None:
        return [("blocks", split_blocks(logs, tuple(cfg.ratios), cfg.gap_s))]

    def spans(log: JointLog) -> list[tuple[int, int]]:
        if cfg.test_blocks is not None:
            return [block_spans(len(log), cfg.blocks)[k] for k in cfg.test_blocks]
        return [tuple(int(i) for i in np.searchsorted(log.t - log.t[0], cfg.test_span_s))]

    return [("blocks", hold_out_spans(logs, spans, cfg.gap_s))]


def check_data_path(preset: dict, demo: bool = False) -> None:
    """A run needs ``data.path`` unless it reads the built-in demo data (``--demo`` or ``data.reader=demo``).

    Also checks that a given path exists and that ``data.reader`` says how to read it (before any work starts).
    """
    data = preset.get("data", {})
    reader = data.get("reader")
    if demo or reader == "demo":
        return
    path = data.get("path")
    if path is None:
        raise UserInputError(
            f"data.path is not set (data.reader: {reader or 'not set'}): give your logs with data.reader=<reader> "
            "data.path=<folder> (e.g. data.reader=column_map data.path=logs/ data.column_map=my_map.json), or use "
            "--demo for the built-in data."
        )
    resolved = shared_path(str(path))
    if not resolved.exists():
        raise UserInputError(f"data.path={path}: {resolved} does not exist.")
    if reader is None:
        raise UserInputError(
            f"data.reader is not set for data.path={path}: say how to read it, e.g. data.reader=column_map "
            "data.column_map=my_map.json (or bench_csv, history_npz, torque_profile)."
        )
