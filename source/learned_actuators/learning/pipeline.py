"""From a preset to trained, evaluated and exported nets: data loading, splits, per-split training, results table.

A preset is a shipped JSON file (package data, ``learned_actuators/config/presets/``) or any JSON path with a ``data`` section (:class:`DataCfg`) and a
``train`` section (:class:`~learned_actuators.learning.trainer_cfg.TrainCfg` fields); ``"extends": "<preset>"``
inherits another preset. Command-line overrides are ``key=value`` pairs on dotted paths (``train.max_epochs=50``,
``train.gru.hidden_size=64``, ``data.split=runs``); values parse as JSON when they can, else as strings.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import shipped_file, shipped_names
from ..data.bench_csv import read_bench_folder
from ..data.bench_csv_cfg import BenchCsvCfg
from ..data.column_map import read_mapped_folder
from ..data.demo import load_demo_logs
from ..data.history_npz import read_history_npz, read_torque_profile_npz
from ..data.inverse_dynamics import label_by_inverse_dynamics
from ..data.joint_log import JointLog
from ..data.splits import Split, leave_one_group_out, split_blocks, split_joints, split_runs
from .baselines import fit_pd_friction
from .export import export_model
from .features import loss_mask
from .metrics import torque_metrics
from .rollout import rollout
from .trainer import train
from .trainer_cfg import TrainCfg

__all__ = [
    "DataCfg",
    "apply_overrides",
    "build_cfg",
    "evaluate_model",
    "format_table",
    "load_data",
    "load_preset",
    "merge_presets",
    "run_preset",
]

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
    """``"groups"`` (leave one ``group_key`` value out, one fold per value), ``"runs"`` (whole runs by ``ratios``)
    or ``"blocks"`` (contiguous time blocks of every run by ``ratios``)."""
    group_key: str = "group"
    """Metadata key of the groups (e.g. ``trajectory``, ``group`` = inertia group)."""
    test_groups: list[str] | None = None
    """With ``groups``: only these folds (None = all)."""
    ratios: list[float] = field(default_factory=lambda: [0.7, 0.15, 0.15])
    """Train/val/test shares for ``runs`` and ``blocks``."""
    max_runs: int | None = None
    """Use only the first N runs (quick looks)."""
    include_groups: list[str] | None = None
    """Keep only runs whose ``group_key`` value is listed (None = all)."""
    include_joints: list[str] | None = None
    """Keep only these joints of multi-joint logs (None = all)."""
    accept: list[str] = field(default_factory=list)
    """Plausibility checks to waive, by name (see :data:`learned_actuators.data.checks.PLAUSIBILITY_CHECKS`), for
    data that really is unusual: the error of each check names the value to add here."""
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
    """Read the runs a :class:`DataCfg` names (single-joint runs)."""
    if cfg.reader == "demo":
        logs = load_demo_logs()
    else:
        if cfg.path is None:
            raise ValueError(f"data.reader {cfg.reader!r} needs data.path.")
        path = _shared_path(cfg.path)
        if cfg.reader == "column_map":
            if cfg.column_map is None:
                raise ValueError("data.reader 'column_map' needs data.column_map (a shipped map name or a JSON file).")
            logs = read_mapped_folder(path, cfg.column_map)
        elif cfg.reader == "bench_csv":
            logs = read_bench_folder(path, BenchCsvCfg(**cfg.bench))
        elif cfg.reader in ("history_npz", "torque_profile"):
            files = sorted(path.glob("*.npz")) if path.is_dir() else [path]
            if not files:
                raise ValueError(f"{path}: no *.npz files.")
            logs = [
                read_history_npz(f, cfg.dt) if cfg.reader == "history_npz" else read_torque_profile_npz(f)
                for f in files
            ]
        else:
            raise ValueError(
                f"data.reader {cfg.reader!r}; expected demo, column_map, bench_csv, history_npz or torque_profile."
            )
    if cfg.include_joints is not None:
        logs = [g for g in split_joints(logs) if g.joint_names[0] in cfg.include_joints]
    logs = split_joints(logs)
    if cfg.include_groups is not None:
        logs = [g for g in logs if str(g.meta.get(cfg.group_key)) in cfg.include_groups]
    if cfg.load is not None:
        logs = [label_by_inverse_dynamics(g, **cfg.load) if g.tau is None else g for g in logs]
    if not logs:
        raise ValueError("no runs left after data.include_groups / data.include_joints.")
    return logs[: cfg.max_runs] if cfg.max_runs else logs


def splits_of(logs: list[JointLog], cfg: DataCfg, seed: int = 0) -> list[tuple[str, Split]]:
    """Named splits: one per fold (``groups``) or a single one."""
    if cfg.split == "groups":
        folds = leave_one_group_out(logs, cfg.group_key)
        return [(f.name, f) for f in folds if cfg.test_groups is None or f.name in cfg.test_groups]
    if cfg.split == "runs":
        return [("runs", split_runs(logs, tuple(cfg.ratios), seed))]
    if cfg.split == "blocks":
        return [("blocks", split_blocks(logs, tuple(cfg.ratios)))]
    raise ValueError(f"data.split {cfg.split!r}; expected groups, runs or blocks.")


# --------------------------------------------------------------------------------------------------- presets


def load_preset(name_or_path: str | Path) -> dict:
    """Preset dict from a shipped name or a JSON path, with ``extends`` resolved (child keys win)."""
    path = Path(name_or_path)
    if not path.is_file():
        path = shipped_file("presets", str(name_or_path))
        if path is None:
            names = shipped_names("presets")
            raise ValueError(f"preset {str(name_or_path)!r} is neither a file nor a shipped preset {names}.")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: preset is not valid JSON ({err}).") from err
    parent = data.pop("extends", None)
    data.pop("description", None)
    return merge_presets(load_preset(parent), data) if parent else data


def merge_presets(base: dict, over: dict) -> dict:
    """Return ``base`` updated recursively with ``over`` (nested dicts merge, other values replace).

    Neither input is modified.
    """
    out = dict(base)
    for k, v in over.items():
        out[k] = merge_presets(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def apply_overrides(preset: dict, overrides: list[str]) -> dict:
    """Apply ``dotted.key=value`` overrides (values parsed as JSON when possible)."""
    out = json.loads(json.dumps(preset))
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override {item!r} must look like key=value (e.g. train.max_epochs=50).")
        key, text = item.split("=", 1)
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _from_dict(cls, data: dict, where: str):
    if not isinstance(data, dict):
        raise ValueError(f"'{where}' must be a mapping of {cls.__name__} fields, got {data!r}.")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"'{where}' has unknown keys {sorted(unknown)}; {cls.__name__} fields: {sorted(names)}.")
    kwargs = {}
    for key, value in data.items():
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            kwargs[key] = _from_dict(hint, value, f"{where}.{key}")
        else:
            kwargs[key] = value
    return cls(**kwargs)


def build_cfg(preset: dict) -> tuple[DataCfg, TrainCfg]:
    """Typed configs from a (resolved) preset dict; unknown keys are errors."""
    unknown = set(preset) - {"data", "train", "models"}
    if unknown:
        raise ValueError(f"preset has unknown sections {sorted(unknown)}; expected data, train, models.")
    return _from_dict(DataCfg, preset.get("data", {}), "data"), _from_dict(TrainCfg, preset.get("train", {}), "train")


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
        out.update(rollout_rmse=float(np.mean(runs)), diverged=int(sum(r["diverged"] for r in results)))
    out["train_time_s"] = float(sum(r.get("train_time_s", 0.0) for r in results))
    return out


def _per_split(splits, results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per-split (per-fold) metrics plus their plain mean under ``"mean"``."""
    keys = ("rmse", "r2", "rollout_rmse", "diverged", "train_time_s")
    out = {name: {k: r[k] for k in keys if k in r} for (name, _), r in zip(splits, results, strict=True)}
    out["mean"] = {k: float(np.mean([r[k] for r in results])) for k in keys if all(k in r for r in results)}
    return out


def run_preset(
    preset: dict,
    out_dir: str | Path,
    models: list[str] | None = None,
    export: bool = True,
    baseline: bool = True,
    on_split=None,
) -> list[dict[str, Any]]:
    """Train (per split/fold), evaluate on the test runs and export; returns one result row per model.

    Args:
        preset: Resolved preset dict (``data``, ``train`` and optional ``models``: per-model ``train`` overrides).
        out_dir: Run directories go to ``out_dir/<model>/<split>``, exported nets to ``out_dir/export``.
        models: Model types to train (default: the preset's ``models`` keys, else ``train.model_type``).
        export: Export the model of the last split (TorchScript + ONNX).
        baseline: Add the least-squares PD + viscous + Coulomb baseline (one fit for all gains).
        on_split: Optional ``callback(model_name, split_name, model, split, metrics)`` after each trained split (the
            benchmark uses it for error-vs-horizon curves and plots).
    """
    out_dir = Path(out_dir)
    data_cfg, _ = build_cfg(preset)
    logs = load_data(data_cfg)
    model_over = preset.get("models", {})
    models = models or list(model_over) or [preset.get("train", {}).get("model_type", "gru_pd")]
    splits = splits_of(logs, data_cfg, preset.get("train", {}).get("seed", 0))
    rows = []
    for model_type in models:
        train_over = {"model_type": model_type, **model_over.get(model_type, {})}
        _, cfg = build_cfg(merge_presets(preset, {"train": train_over}))
        per_split, weights = [], []
        for name, split in splits:
            if not split.test:
                raise ValueError(f"split '{name}' has no test runs.")
            t0 = time.perf_counter()
            res = train(cfg, split.train, split.val, run_dir=out_dir / model_type / name)
            metrics = evaluate_model(res.model, split.test)
            metrics["train_time_s"] = time.perf_counter() - t0
            per_split.append(metrics)
            weights.append(sum(int(loss_mask(g).sum()) for g in split.test))
            if on_split is not None:
                on_split(model_type, name, res.model, split, metrics)
            logger.info("%s %s: %s", model_type, name, {k: v for k, v in metrics.items() if k != "rollout_rmse_runs"})
            if export and name == splits[-1][0]:
                export_model(res.model, out_dir / "export", model_type, source={"preset_split": name})
        rows.append(
            {
                "model": model_type,
                **_pool(per_split, weights),
                "splits": [n for n, _ in splits],
                "per_split": _per_split(splits, per_split),
            }
        )
    if baseline:
        per_split, weights = [], []
        for split_name, split in splits:
            t0 = time.perf_counter()
            base = fit_pd_friction(split.train + split.val)
            metrics = evaluate_model(base, split.test)
            metrics["train_time_s"] = time.perf_counter() - t0
            per_split.append(metrics)
            weights.append(sum(int(loss_mask(g).sum()) for g in split.test))
            if on_split is not None:
                on_split("pd_friction_lsq", split_name, base, split, metrics)
        rows.append(
            {
                "model": "pd_friction_lsq",
                **_pool(per_split, weights),
                "splits": [n for n, _ in splits],
                "per_split": _per_split(splits, per_split),
            }
        )
    (out_dir / "results.json").write_text(json.dumps(rows, indent=2))
    return rows
