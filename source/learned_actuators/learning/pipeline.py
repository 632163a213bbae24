"""From a preset to trained, evaluated and exported nets: data loading, splits, per-split training, results table.

A preset is a shipped JSON file (package data, ``learned_actuators/config/presets/``) or any JSON path with a
``data`` section (:class:`DataCfg`) and a ``train`` section (:class:`~learned_actuators.learning.trainer_cfg.TrainCfg`
fields); ``"extends": "<preset>"`` inherits another preset. Command-line overrides are ``key=value`` pairs on dotted
paths (``train.max_epochs=50``, ``train.gru.hidden_size=64``, ``data.split=runs``, ``models.lstm.max_epochs=10``);
values parse as JSON when they can, else as strings, and are converted to and checked against the type and range of
their cfg field before any work (:mod:`~learned_actuators.learning.typed_cfg`). A ``train.*`` override applies to
every model, also where the preset's ``models`` section sets that field; ``models.<type>.*`` changes one model.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import time
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic_io import atomic_write_json
from ..config import shipped_file, shipped_names
from ..data.bench_csv import read_bench_folder
from ..data.bench_csv_cfg import BenchCsvCfg
from ..data.column_map import read_mapped_folder
from ..data.demo import load_demo_logs
from ..data.history_npz import read_history_npz, read_torque_profile_npz
from ..data.inverse_dynamics import label_by_inverse_dynamics
from ..data.joint_log import JointLog
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
from ..errors import UserInputError
from .baselines import fit_pd_friction
from .export import export_model
from .features import loss_mask
from .metrics import torque_metrics
from .outputs import remove_partial_files
from .rollout import rollout
from .trainer import finished_run, train
from .trainer_cfg import TrainCfg
from .typed_cfg import (
    FIELD_CHECKS,
    _nested_dataclass,
    check_fields,
    coerce,
    field_hint,
    from_dict,
    parse_value,
    unknown_key_error,
)

__all__ = [
    "DataCfg",
    "apply_overrides",
    "build_cfg",
    "check_data_path",
    "evaluate_model",
    "format_table",
    "load_data",
    "load_preset",
    "merge_presets",
    "run_preset",
    "sample_runs",
    "splits_of",
]

MODEL_TYPES = ("gru_pd", "lstm", "mlp")

logger = logging.getLogger(__name__)


@dataclass
class DataCfg:
    """Where the runs come from and how they are split."""

    reader: str = "demo"
    """``"demo"`` (built-in BAM logs), ``"column_map"``, ``"bench_csv"``, ``"history_npz"`` or ``"torque_profile"``."""
    path: str | None = None
    """Folder (column map, bench CSV) or file/folder of NPZ files. Relative paths resolve against the repository's
    parent when they start with ``../shared`` and against the working directory otherwise."""
    column_map: str | None = None
    """Shipped map name or JSON path (reader ``column_map``)."""
    bench: dict[str, Any] = field(default_factory=dict)
    """:class:`BenchCsvCfg` fields (reader ``bench_csv``)."""
    dt: float | None = None
    """Time step [s] for history NPZ files without a ``dt`` entry."""
    split: str = "groups"
    """``"groups"`` (leave one ``group_key`` value out, one fold per value), ``"runs"`` (whole runs by ``ratios``),
    ``"blocks"`` (contiguous time blocks of every run: by ``ratios``, or the chosen ``test_blocks`` / ``test_span_s``
    held out) or ``"kfold"`` (one fold per block of ``blocks`` contiguous blocks per run; one long log)."""
    group_key: str = "group"
    """Metadata key of the groups (e.g. ``trajectory``, ``group`` = inertia group)."""
    test_groups: list[str] | None = None
    """With ``groups``: only these folds (None = all)."""
    ratios: list[float] = field(default_factory=lambda: [0.7, 0.15, 0.15])
    """Train/val/test shares for ``runs`` and ``blocks`` (not used with ``test_blocks``/``test_span_s``/``kfold``,
    where validation is ``train.val_ratio`` of the training pieces)."""
    blocks: int = 5
    """Contiguous, near-equal blocks per run for ``kfold`` and ``test_blocks``."""
    test_blocks: list[int] | None = None
    """``blocks``: hold out these blocks (indices from 0, of ``blocks`` per run) together; ``kfold``: run only these
    folds (None = all)."""
    test_span_s: list[float] | None = None
    """``blocks``: hold out ``[start, stop)`` [s] from each run's start (e.g. ``[60, 90]``)."""
    gap_s: float = 0.0
    """Frames within this time [s] of the held-out frames are in no split (``blocks``, ``kfold``), so history and
    recurrent context do not straddle the boundary."""
    max_runs: int | None = None
    """Use only N runs (quick looks), sampled across the ``group_key`` groups: the groups take turns (in a seeded
    random order), each giving its next run in a seeded random order, so every group is represented while N allows
    (:func:`sample_runs`; the same runs for the same ``max_runs_seed``). None: all runs."""
    max_runs_seed: int = 0
    """Seed of the ``max_runs`` sample. Default 0."""
    include_groups: list[str] | None = None
    """Keep only runs whose ``group_key`` value is listed (None = all)."""
    include_joints: list[str] | None = None
    """Keep only these joints of multi-joint logs (None = all)."""
    accept: list[str] = field(default_factory=list)
    """Plausibility checks to waive, by name (see :data:`learned_actuators.data.checks.PLAUSIBILITY_CHECKS`), for
    data that really is unusual: ``outlier``, ``degrees_as_radians``, ``velocity_unit``, ``target_unit``,
    ``time_unit``, ``rate_mismatch``, ``declared_rate``. The error of each check names the value to add here."""
    load: dict[str, float] | None = None
    """Known load ``{"inertia": kg·m², "mass": kg, "length": m, "cutoff_hz": Hz}`` for runs without a torque
    label: torque from inverse dynamics (``{"inertia": 1.0}`` gives a torque per unit inertia, i.e. the
    acceleration response, for position-only logs)."""


def _shared_path(path: str) -> Path:
    p = Path(path)
    if not p.is_absolute() and path.startswith("../shared"):
        import os

        env = os.environ.get("LEARNED_ACTUATORS_SHARED")
        base = Path(env) if env else Path(__file__).resolve().parents[3] / ".." / "shared"
        return base / Path(*p.parts[2:])
    return p


def load_data(cfg: DataCfg) -> list[JointLog]:
    """Read the runs a :class:`DataCfg` names (single-joint runs).

    The readers check the format and the physical plausibility of every file (degrees declared as radians, a
    velocity off d(position)/dt by the degree factor, time stamps in the wrong unit, isolated absurd values); all
    runs must share one sampling rate, since every run is a test run of some split. ``data.accept`` waives checks
    by name (:data:`~learned_actuators.data.checks.PLAUSIBILITY_CHECKS`); each error names the value that waives it.
    Torque profiles (``torque_profile``) are searched recursively (``play_policy.py`` writes
    ``<experiment>/<run>/env_*.npz``); a ``.csv`` profile is read unless an ``.npz`` of the same name lies beside it.

    Raises:
        UserInputError: A missing or unreadable file, a bad ``data.*`` field, or implausible data.
    """
    from ..data.checks import check_rates_consistent, validate_accept
    from ..data.history_npz import read_run_files, read_torque_profile

    accept = validate_accept(cfg.accept)
    if cfg.reader == "demo":
        logs = load_demo_logs(accept)
    else:
        readers = ("demo", "column_map", "bench_csv", "history_npz", "torque_profile")
        if cfg.reader not in readers:
            raise UserInputError(f"data.reader: {cfg.reader!r}; expected one of {list(readers)}.")
        if cfg.path is None:
            raise UserInputError(f"data.path: data.reader {cfg.reader!r} needs data.path (a folder or file of runs).")
        path = _shared_path(cfg.path)
        if not path.exists():
            raise UserInputError(f"{path}: data.path not found (no such file or folder).")
        if cfg.reader == "column_map":
            if cfg.column_map is None:
                raise UserInputError(
                    "data.column_map: data.reader 'column_map' needs data.column_map (a shipped map name or a JSON "
                    "file)."
                )
            logs = read_mapped_folder(path, cfg.column_map, accept)
        elif cfg.reader == "bench_csv":
            known = [f.name for f in dataclasses.fields(BenchCsvCfg)]
            unknown = sorted(set(cfg.bench) - set(known))
            if unknown:
                raise UserInputError(f"data.bench: unknown key(s) {unknown}; BenchCsvCfg fields are {known}.")
            logs = read_bench_folder(path, BenchCsvCfg(**cfg.bench), accept)
        elif cfg.reader == "history_npz":
            logs = read_run_files(path, ("*.npz",), lambda f: read_history_npz(f, cfg.dt, accept=accept))
        else:
            logs = read_run_files(
                path,
                ("*.npz", "*.csv"),
                lambda f: read_torque_profile_npz(f, accept) if f.suffix == ".npz" else read_torque_profile(f, accept),
            )
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

    Also checks that a given path exists (before any work starts).
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
    resolved = _shared_path(str(path))
    if not resolved.exists():
        raise UserInputError(f"data.path={path}: {resolved} does not exist.")


# --------------------------------------------------------------------------------------------------- presets


def load_preset(name_or_path: str | Path) -> dict:
    """Preset dict from a shipped name or a JSON path, with ``extends`` resolved (child keys win)."""
    path = Path(name_or_path)
    if not path.is_file():
        path = shipped_file("presets", str(name_or_path))
        if path is None:
            names = shipped_names("presets")
            raise UserInputError(f"preset {str(name_or_path)!r} is neither a file nor a shipped preset {names}.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserInputError(f"{path}: preset is not valid JSON ({err}).") from err
    except OSError as err:
        raise UserInputError(f"{path}: cannot read the preset ({err.strerror}).") from err
    if not isinstance(data, dict):
        raise UserInputError(f"{path}: a preset is a JSON object with data/train/models sections.")
    parent = data.pop("extends", None)
    data.pop("description", None)
    if parent is not None and not isinstance(parent, str):
        raise UserInputError(f"{path}: 'extends' must be a preset name or path, got {json.dumps(parent)}.")
    if not parent:
        return data
    try:
        base = load_preset(parent)
    except UserInputError as err:
        raise UserInputError(f"{path}: 'extends': {err}") from err
    return merge_presets(base, data)


def merge_presets(base: dict, over: dict) -> dict:
    """Return ``base`` updated recursively with ``over`` (nested dicts merge, other values replace).

    Neither input is modified.
    """
    out = dict(base)
    for k, v in over.items():
        out[k] = merge_presets(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


_SECTIONS = {"data": DataCfg, "train": TrainCfg}


def _override_field(key: str) -> tuple[list[str], Any, Any]:
    """Path, type and :class:`~learned_actuators.learning.typed_cfg.Check` of the cfg field an override sets."""
    parts = key.split(".")
    if any(not p for p in parts):
        raise UserInputError(f"override key '{key}' has an empty part; keys look like train.max_epochs.")
    if parts[0] == "models":
        if len(parts) < 3 or parts[1] not in MODEL_TYPES:
            raise UserInputError(
                f"override key '{key}': per-model keys look like models.<{'|'.join(MODEL_TYPES)}>.<train field> "
                "(e.g. models.lstm.max_epochs=10)."
            )
        cls, rest, where = TrainCfg, parts[2:], f"models.{parts[1]}"
    elif parts[0] in _SECTIONS:
        cls, rest, where = _SECTIONS[parts[0]], parts[1:], parts[0]
    else:
        raise UserInputError(f"override key '{key}': unknown section '{parts[0]}'; expected data, train or models.")
    if not rest:
        raise UserInputError(f"override key '{key}': give a field, e.g. {parts[0]}.<field>=value.")
    for i, part in enumerate(rest):
        hint = field_hint(cls, part)
        if hint is None:
            raise unknown_key_error(where, part, [f.name for f in dataclasses.fields(cls)])
        where = f"{where}.{part}"
        if i == len(rest) - 1:
            return parts, hint, FIELD_CHECKS.get(cls.__name__, {}).get(part)
        sub = _nested_dataclass(hint)
        if sub is not None:
            cls = sub
            continue
        args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
        mapping = next((a for a in args if a is dict or typing.get_origin(a) is dict), None)
        if mapping is None:
            raise UserInputError(f"override key '{key}': '{where}' is a single value and has no field '{rest[i + 1]}'.")
        if i + 1 < len(rest) - 1:
            return parts, Any, None
        value_args = typing.get_args(mapping)
        return parts, (value_args[1] if len(value_args) == 2 else Any), None
    raise AssertionError(key)


def _set_path(node: dict, parts: list[str], value, create: bool = True) -> bool:
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            if not create:
                return False
            node[part] = {}
        node = node[part]
    if not create and parts[-1] not in node:
        return False
    node[parts[-1]] = value
    return True


def apply_overrides(preset: dict, overrides: list[str]) -> dict:
    """Apply ``dotted.key=value`` overrides, each converted to and checked against its cfg field.

    Values parse as JSON when they can (else as text; text fields keep the text as given). A ``train.<field>``
    override also replaces the field in every ``models.<type>`` section that sets it, so it reaches every model.

    Raises:
        UserInputError: for a malformed item, an unknown key, a value of the wrong type or out of range; the
            message names the key and what is expected. Nothing is changed then (the input is never modified).
    """
    out = json.loads(json.dumps(preset))
    for item in overrides:
        if "=" not in item:
            raise UserInputError(f"override {item!r} must look like key=value (e.g. train.max_epochs=50).")
        key, text = item.split("=", 1)
        parts, hint, check = _override_field(key.strip())
        value = parse_value(text, hint)
        sub = _nested_dataclass(hint)
        if sub is not None and isinstance(value, dict):
            value = check_fields(sub, value, key)
        else:
            value = coerce(value, hint, key, check)
        value = list(value) if isinstance(value, tuple) else value
        _set_path(out, parts, value)
        if parts[0] == "train":
            for section in (out.get("models") or {}).values():
                if isinstance(section, dict):
                    _set_path(section, parts[1:], copy.deepcopy(value), create=False)
    return out


def _from_dict(cls, data: dict, where: str):
    return from_dict(cls, data, where)


def _check_data_cfg(cfg: DataCfg) -> None:
    if len(cfg.ratios) != 3 or abs(sum(cfg.ratios) - 1.0) > 1e-6 or cfg.ratios[0] <= 0:
        raise UserInputError(
            f"data.ratios={json.dumps(cfg.ratios)}: expected three train/val/test shares that sum to 1 with a "
            "positive training share (e.g. [0.7, 0.15, 0.15])."
        )
    if cfg.test_groups is not None and cfg.split != "groups":
        raise UserInputError(
            f"data.test_groups={json.dumps(cfg.test_groups)} applies only with data.split=groups "
            f"(data.split={cfg.split}); drop it or set data.split=groups."
        )
    chosen = {"test_blocks": cfg.test_blocks, "test_span_s": cfg.test_span_s}
    for key, value in chosen.items():
        allowed = ("blocks", "kfold") if key == "test_blocks" else ("blocks",)
        if value is not None and cfg.split not in allowed:
            raise UserInputError(
                f"data.{key}={json.dumps(value)} applies only with data.split={' or '.join(allowed)} "
                f"(data.split={cfg.split})."
            )
    if cfg.test_blocks is not None and cfg.test_span_s is not None:
        raise UserInputError("data.test_blocks and data.test_span_s both choose the held-out frames; give one.")
    bad = [k for k in cfg.test_blocks or [] if not 0 <= k < cfg.blocks]
    if bad or cfg.test_blocks == []:
        raise UserInputError(
            f"data.test_blocks={json.dumps(cfg.test_blocks)}: expected block indices 0..{cfg.blocks - 1} "
            f"(data.blocks={cfg.blocks} blocks per run)."
        )
    span = cfg.test_span_s
    if span is not None and (len(span) != 2 or not 0 <= span[0] < span[1]):
        raise UserInputError(
            f"data.test_span_s={json.dumps(span)}: expected [start, stop] in seconds from each run's start, "
            "0 <= start < stop (e.g. [60, 90])."
        )
    if cfg.reader == "column_map" and cfg.path is not None and cfg.column_map is None:
        raise UserInputError("data.reader=column_map needs data.column_map (a shipped map name or a JSON file).")


def build_cfg(preset: dict) -> tuple[DataCfg, TrainCfg]:
    """Typed configs from a (resolved) preset dict; unknown keys, wrong types and out-of-range values are errors.

    The ``models`` section (per-model ``train`` fields) is checked too.
    """
    if not isinstance(preset, dict):
        raise UserInputError(f"a preset is a mapping with data/train/models sections, got {preset!r}.")
    unknown = set(preset) - {"data", "train", "models"}
    if unknown:
        raise UserInputError(f"preset has unknown sections {sorted(unknown)}; expected data, train, models.")
    data_cfg = from_dict(DataCfg, preset.get("data", {}), "data")
    _check_data_cfg(data_cfg)
    train_cfg = from_dict(TrainCfg, preset.get("train", {}), "train")
    models = preset.get("models") or {}
    if not isinstance(models, dict):
        raise UserInputError(f"models: expected a mapping of model type to train fields, got {models!r}.")
    for name, over in models.items():
        if name not in MODEL_TYPES:
            raise UserInputError(f"models: unknown model type '{name}'; expected {', '.join(MODEL_TYPES)}.")
        from_dict(TrainCfg, merge_presets(preset.get("train", {}), over or {}), f"models.{name}")
    return data_cfg, train_cfg


# ------------------------------------------------------------------------------------------------ evaluation


def evaluate_model(model, logs: list[JointLog], with_rollout: bool = True) -> dict[str, Any]:
    """Torque metrics (pooled valid frames) and, when the load is known, open-loop rollout RMSE per run."""
    preds, trues = [], []
    for log in logs:
        m = loss_mask(log)
        preds.append(model.predict(log)[m])
        trues.append(log.tau[m, 0])
    true = np.concatenate(trues)
    out: dict[str, Any] = torque_metrics(np.concatenate(preds), true)
    out.update(n=int(true.size), label_mean=float(true.mean()), label_var=float(true.var()))
    if with_rollout and all("inertia" in log.meta for log in logs):
        ro = rollout(model, logs)
        out.update(rollout_rmse=ro.mean_rmse, rollout_rmse_runs=ro.rmse.tolist(), diverged=int(ro.diverged.sum()))
    return out


def format_table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of result rows (model, torque RMSE [N·m], R², rollout RMSE [rad], diverged, time [s])."""
    lines = [
        "| model | torque RMSE [N·m] | R² | rollout RMSE [rad] | diverged runs | train time [s] |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ro = f"{r['rollout_rmse']:.3f}" if "rollout_rmse" in r else "—"
        lines.append(
            f"| {r['model']} | {r['rmse']:.3f} | {r['r2']:.2f} | {ro} | {r.get('diverged', '—')} | "
            f"{r.get('train_time_s', 0.0):.1f} |"
        )
    return "\n".join(lines)


def _pool(results: list[dict[str, Any]], weights: list[int]) -> dict[str, Any]:
    """Pool per-fold results as if all test frames were one set.

    MSE and R² are over all frames; the rollout RMSE is the mean over all test runs.
    """
    w = np.asarray(weights, dtype=float)
    out = {"mse": float(np.average([r["mse"] for r in results], weights=w))}
    out["rmse"] = float(np.sqrt(out["mse"]))
    mean = float(np.average([r["label_mean"] for r in results], weights=w))
    var = float(np.average([r["label_var"] + (r["label_mean"] - mean) ** 2 for r in results], weights=w))
    out["r2"] = 1.0 - out["mse"] / var
    if all("rollout_rmse_runs" in r for r in results):
        runs = [x for r in results for x in r["rollout_rmse_runs"]]
        out.update(
            rollout_rmse=float(np.mean(runs)),
            rollout_rmse_runs=[float(x) for x in runs],
            diverged=int(sum(r["diverged"] for r in results)),
        )
    out["train_time_s"] = float(sum(r.get("train_time_s", 0.0) for r in results))
    return out


def _per_split(splits, results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per-split (per-fold) metrics plus their plain mean under ``"mean"``."""
    keys = ("rmse", "r2", "rollout_rmse", "diverged", "train_time_s")
    out = {name: {k: r[k] for k in keys if k in r} for (name, _), r in zip(splits, results, strict=True)}
    out["mean"] = {k: float(np.mean([r[k] for r in results])) for k in keys if all(k in r for r in results)}
    return out


def _baselines(preset: dict, logs: list[JointLog], trajectory: bool) -> dict:
    """Baseline fitters by row name, each fitted on a split's training runs only.

    ``pd_friction_lsq`` (least squares on torque) always; with ``trajectory``, ``traj_physics`` (physics identified by
    trajectory simulation, :func:`~learned_actuators.learning.sysid_fit.fit_trajectory_model`, starting from the
    preset's ``train.physics``) when every run has a known load and a gain.
    """
    from .features import run_physics
    from .sysid_fit import fit_trajectory_model

    fitters: dict = {"pd_friction_lsq": fit_pd_friction}
    if not trajectory:
        return fitters
    physics = build_cfg(preset)[1].physics
    try:
        for log in logs:
            run_physics(log, physics)
    except UserInputError:
        return fitters
    if all("inertia" in log.meta for log in logs):
        fitters["traj_physics"] = lambda runs: fit_trajectory_model(runs, physics)
    return fitters


def run_preset(
    preset: dict,
    out_dir: str | Path,
    models: list[str] | None = None,
    export: bool = True,
    baseline: bool = True,
    on_split=None,
    logs: list[JointLog] | None = None,
    resume: bool = False,
    trajectory_baseline: bool = False,
) -> list[dict[str, Any]]:
    """Train (per split/fold), evaluate on the test runs and export; returns one result row per model.

    Args:
        preset: Resolved preset dict (``data``, ``train`` and optional ``models``: per-model ``train`` overrides).
        out_dir: Run directories go to ``out_dir/<model>/<split>``, exported nets to ``out_dir/export``.
        models: Model types to train (default: the preset's ``models`` keys, else ``train.model_type``).
        export: Export the model of the last split (TorchScript + ONNX).
        baseline: Add the least-squares PD + viscous + Coulomb baseline (one fit for all gains; training runs only).
        on_split: Optional ``callback(model_name, split_name, model, split, metrics)`` after each trained split (the
            benchmark uses it for error-vs-horizon curves and plots).
        logs: The runs, when already loaded (else ``load_data`` reads them).
        resume: Continue an interrupted run in ``out_dir``: a finished split (its ``metrics.json`` written) keeps
            its best model, a split with a ``checkpoint.pt`` continues from it, the others train from the start;
            the result is the one of an uninterrupted run.
        trajectory_baseline: With ``baseline``, also the physics identified by trajectory simulation on each split's
            training runs (row ``traj_physics``; runs with a known load and gain only; tens of seconds per split).
    """
    out_dir = Path(out_dir)
    data_cfg, _ = build_cfg(preset)
    logs = load_data(data_cfg) if logs is None else logs
    model_over = preset.get("models") or {}
    models = models or list(model_over) or [preset.get("train", {}).get("model_type", "gru_pd")]
    unknown = [m for m in models if m not in MODEL_TYPES]
    if unknown:
        raise UserInputError(f"--models {' '.join(unknown)}: unknown model type; expected {', '.join(MODEL_TYPES)}.")
    splits = splits_of(logs, data_cfg, preset.get("train", {}).get("seed", 0))
    if resume:
        remove_partial_files(out_dir)
    rows = []
    for model_type in models:
        train_over = {"model_type": model_type, **model_over.get(model_type, {})}
        _, cfg = build_cfg(merge_presets(preset, {"train": train_over}))
        per_split, weights = [], []
        for name, split in splits:
            t0 = time.perf_counter()
            run_dir = out_dir / model_type / name
            checkpoint = run_dir / "checkpoint.pt"
            done = finished_run(run_dir) if resume else None
            if done is not None:  # finished before the interruption: its best model, as trained
                model, earlier = done
                metrics = evaluate_model(model, split.test)
                metrics["train_time_s"] = float(earlier.get("wall_time_s", 0.0))
            else:
                resume_from = checkpoint if resume and checkpoint.is_file() else None
                model = train(cfg, split.train, split.val, run_dir=run_dir, resume=resume_from).model
                metrics = evaluate_model(model, split.test)
                metrics["train_time_s"] = time.perf_counter() - t0
            per_split.append(metrics)
            weights.append(sum(int(loss_mask(g).sum()) for g in split.test))
            if on_split is not None:
                on_split(model_type, name, model, split, metrics)
            logger.info("%s %s: %s", model_type, name, {k: v for k, v in metrics.items() if k != "rollout_rmse_runs"})
            if export and name == splits[-1][0]:
                export_model(model, out_dir / "export", model_type, source={"preset_split": name})
        rows.append(
            {
                "model": model_type,
                **_pool(per_split, weights),
                "splits": [n for n, _ in splits],
                "per_split": _per_split(splits, per_split),
            }
        )
    for base_name, fitter in _baselines(preset, logs, trajectory_baseline).items() if baseline else ():
        per_split, weights = [], []
        for split_name, split in splits:
            t0 = time.perf_counter()
            base = fitter(split.train + split.val)
            metrics = evaluate_model(base, split.test)
            metrics["train_time_s"] = time.perf_counter() - t0
            per_split.append(metrics)
            weights.append(sum(int(loss_mask(g).sum()) for g in split.test))
            if on_split is not None:
                on_split(base_name, split_name, base, split, metrics)
        rows.append(
            {
                "model": base_name,
                **_pool(per_split, weights),
                "splits": [n for n, _ in splits],
                "per_split": _per_split(splits, per_split),
            }
        )
    atomic_write_json(out_dir / "results.json", rows)
    return rows
