"""Reader for the bench CSV format: one folder per inertia group, IMU-derived torque labels."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import UserInputError
from .bench_csv_cfg import BenchCsvCfg
from .checks import (
    check_angle_units,
    check_finite,
    check_numeric,
    check_outliers,
    check_rate,
    check_time,
    check_time_gaps,
    check_time_unit,
    check_velocity_scale,
    validate_accept,
)
from .inverse_dynamics import differentiate, lowpass
from .joint_log import JointLog, LogFormatError

__all__ = ["BENCH_COLUMNS", "read_bench_csv", "read_bench_folder"]

BENCH_COLUMNS = ("Time_ms", "Encoder_Angle", "Commanded_Angle", "Acc_X", "Acc_Y", "Acc_Z", "Gyro_X", "Gyro_Y", "Gyro_Z")
"""Columns of a bench CSV run (``Time_ms`` may be absent when a fallback rate is configured)."""


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise LogFormatError(f"{path}: file not found.")
    try:
        df = pd.read_csv(path, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise LogFormatError(f"{path}: not a readable CSV file ({err}).") from err
    if len(df) == 0:
        raise LogFormatError(
            f"{path}: has a header ({list(df.columns)}) but no data rows; expected one row per sample with "
            f"{list(BENCH_COLUMNS)}."
        )
    return df


def _column(df: pd.DataFrame, name: str, source: str) -> np.ndarray:
    if name not in df.columns:
        raise LogFormatError(f"{source}: missing column '{name}'; the file has {list(df.columns)}.")
    arr = check_numeric(df[name].to_numpy(), source, name)
    check_finite(arr, source, name)
    return arr


def read_bench_csv(
    path: str | Path, inertia: float, cfg: BenchCsvCfg | None = None, group: str = "", accept: Iterable[str] = ()
) -> JointLog:
    """Read one bench CSV run; the torque is ``inertia × angular acceleration`` [N·m].

    Args:
        path: CSV file.
        inertia: Load inertia about the joint [kg·m²] (must be positive).
        cfg: Reader configuration (axes, radius, filter, fallback rate).
        group: Inertia-group name stored in ``meta["group"]``.
        accept: Plausibility checks to waive (names of :data:`~learned_actuators.data.checks.PLAUSIBILITY_CHECKS`).
    """
    accept = validate_accept(accept)
    cfg = cfg or BenchCsvCfg()
    path = Path(path)
    source = str(path)
    if not inertia > 0:
        raise LogFormatError(f"{source}: inertia of group {group!r} is {inertia}; expected a positive value [kg·m²].")
    for axis_name, axis in (("gyro_axis", cfg.gyro_axis), ("accel_axis", cfg.accel_axis)):
        if axis not in ("X", "Y", "Z"):
            raise UserInputError(
                f"BenchCsvCfg.{axis_name} (data.bench.{axis_name}) is {axis!r}; expected 'X', 'Y' or 'Z'."
            )
    df = _read_csv(path)
    q = np.deg2rad(_column(df, "Encoder_Angle", source))
    q_target = np.deg2rad(_column(df, "Commanded_Angle", source))
    t, time_name = _time(df, cfg, source)
    check_time(t, source, time_name, cfg.min_samples)
    check_time_gaps(t, source, time_name, accept)
    dt = check_rate(t, source, time_name)
    check_time_unit(t, source, time_name, "ms" if time_name == "Time_ms" else "Hz", accept)
    check_outliers(q, source, "Encoder_Angle", "angle", accept)
    check_outliers(q_target, source, "Commanded_Angle", "angle", accept)
    qd = _velocity(df, cfg, source, (t, q, dt), accept)
    acc = cfg.accel_sign * _column(df, f"Acc_{cfg.accel_axis}", source)
    check_outliers(acc, source, f"Acc_{cfg.accel_axis}", "acceleration", accept)
    hint = "the bench CSV format stores degrees, so the column holds more than 720°: is it in another unit?"
    check_angle_units(q, source, "Encoder_Angle", "angle", accept, hint=hint)
    check_angle_units(q_target, source, "Commanded_Angle", "angle", accept, hint=hint)
    if cfg.velocity_source == "gyro":
        gyro = f"Gyro_{cfg.gyro_axis}"
        check_angle_units(
            qd, source, gyro, "speed", accept, hint="the bench CSV format stores deg/s: is the column in another unit?"
        )
        check_velocity_scale(t, q, qd, source, "Encoder_Angle", gyro, accept, ("deg", "deg/s"))
    alpha = lowpass(acc, dt, cfg.filter_cutoff_hz, cfg.filter_order) / cfg.radius
    return JointLog(
        name=path.stem if not group else f"{group}/{path.stem}",
        source=source,
        t=t,
        q=q,
        q_target=q_target,
        qd=qd,
        tau=inertia * alpha,
        meta={"group": group, "inertia": float(inertia), "format": "bench_csv"},
    )


def _time(df: pd.DataFrame, cfg: BenchCsvCfg, source: str) -> tuple[np.ndarray, str]:
    """Time stamps [s] from ``Time_ms``, else from the fallback rate (with a warning), and their source's name."""
    if "Time_ms" in df.columns:
        return _column(df, "Time_ms", source) * 1e-3, "Time_ms"
    if not cfg.fallback_rate_hz:
        raise LogFormatError(
            f"{source}: missing column 'Time_ms' and no fallback rate configured (BenchCsvCfg.fallback_rate_hz)."
        )
    warnings.warn(f"{source}: no 'Time_ms' column; using the fallback rate {cfg.fallback_rate_hz} Hz.", stacklevel=3)
    return np.arange(len(df)) / cfg.fallback_rate_hz, "fallback_rate_hz"


def _velocity(df: pd.DataFrame, cfg: BenchCsvCfg, source: str, motion: tuple, accept: frozenset[str]) -> np.ndarray:
    """Joint velocity [rad/s] from the gyro column or the filtered encoder (``cfg.velocity_source``)."""
    t, q, dt = motion
    if cfg.velocity_source == "gyro":
        gyro = f"Gyro_{cfg.gyro_axis}"
        qd = cfg.gyro_sign * np.deg2rad(_column(df, gyro, source))
        check_outliers(qd, source, gyro, "speed", accept)
        return qd
    if cfg.velocity_source == "encoder":
        return differentiate(lowpass(q, dt, cfg.filter_cutoff_hz, cfg.filter_order), t)
    raise UserInputError(
        f"BenchCsvCfg.velocity_source (data.bench.velocity_source) is {cfg.velocity_source!r}; expected 'gyro' "
        "or 'encoder'."
    )


def _group_inertia(folder: Path, cfg: BenchCsvCfg) -> float:
    if folder.name in cfg.group_inertia:
        return float(cfg.group_inertia[folder.name])
    meta_file = folder / "group.json"
    if meta_file.is_file():
        try:
            data = json.loads(meta_file.read_text())
            return float(data["inertia"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise LogFormatError(
                f"{meta_file}: expected a JSON object with a numeric 'inertia' [kg·m²] ({err})."
            ) from err
    raise LogFormatError(
        f"{folder}: no inertia for group {folder.name!r}; set BenchCsvCfg.group_inertia[{folder.name!r}] "
        'or add group.json with {"inertia": <kg·m²>}.'
    )


def read_bench_folder(root: str | Path, cfg: BenchCsvCfg | None = None, accept: Iterable[str] = ()) -> list[JointLog]:
    """Read every inertia-group folder under ``root`` (each holding ``*.csv`` runs).

    ``accept`` names plausibility checks to waive (see :func:`read_bench_csv`).

    Raises:
        LogFormatError: if ``root`` is missing, holds no group folder, or a group folder holds no CSV.
    """
    accept = validate_accept(accept)
    cfg = cfg or BenchCsvCfg()
    root = Path(root)
    if not root.is_dir():
        raise LogFormatError(f"{root}: folder not found (expected one sub-folder of CSV runs per inertia group).")
    groups = sorted(p for p in root.iterdir() if p.is_dir())
    if not groups:
        raise LogFormatError(f"{root}: no inertia-group sub-folders; expected e.g. {root}/light/run1.csv.")
    logs = []
    for folder in groups:
        files = sorted(folder.glob("*.csv"))
        if not files:
            raise LogFormatError(f"{folder}: inertia group {folder.name!r} is empty; expected at least one *.csv run.")
        inertia = _group_inertia(folder, cfg)
        logs.extend(read_bench_csv(f, inertia, cfg, group=folder.name, accept=accept) for f in files)
    return logs
