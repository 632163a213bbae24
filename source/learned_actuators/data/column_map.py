"""Joint logs in the user's own format via a column map (CSV, JSON, NPZ, SAGE, wtw pickles, LeRobot, MCAP, ROS 2).

A column map is a JSON file (shipped maps are package data, ``learned_actuators/config/column_maps/``) that says
which column holds which quantity and in which unit::

    {
        "name": "my_bench",
        "format": "csv",
        "time": {"column": "t_ms", "unit": "ms"},
        "position": {"column": "q", "unit": "deg"},
        "target": {"column": "q_cmd", "unit": "deg"},
        "velocity": {"column": "qd", "unit": "deg/s", "lag_s": 0.0},
        "torque": {"column": "tau", "unit": "N·m"},
        "constants": {"inertia": 0.01},
    }

Fields: ``column`` is one name, or a list of names (one per joint). For JSON, columns are keys of the per-sample
records (``records`` names the list) and ``meta`` maps metadata names to top-level keys; for NPZ, columns are array
names ((T,) or (T, J)); for ``sage_csv`` folders, ``"state_motor.csv:positions"`` picks a list-valued column of one
file; for ``wtw_pickle``, columns are per-step keys and ``meta`` entries are dotted paths into the config dict.

Multi-joint logs: ``joint_constants`` gives per-joint constants (a number, a list aligned with the joint columns
or a dict by joint name; e.g. ``{"kp": [35, 30, 25, 25], "kd": 2}``), ``channels`` extra per-step columns
(``tau_cmd``: the logged PD or commanded torque; ``kp``/``kd``: gain columns; ``qd_target``: target velocity;
``tau_ff``: feed-forward torque; ``tau_motor``: measured motor current with the torque constant as ``scale``) and
``csv_columns`` the column names of
a CSV without a header row. A side file ``<stem>.meta.json`` beside a log may set ``rate_hz``, ``joint_names``,
``constants`` and ``joint_constants`` for that log (:mod:`~learned_actuators.data.joint_meta`). Without a time column,
the declared rate is checked against the velocity column (``declared_rate``).

Cleaning (:mod:`~learned_actuators.data.cleaning`): ``glitches`` (``{"position": 0.5}``: one-sample glitches larger
than the threshold [SI units] are replaced by their neighbours' interpolation), ``resample_hz`` (uniform linear
resampling of an irregular log; frames in time gaps longer than ``resample_max_gap_s`` are marked invalid). Both may
also come from a side file. The count of replaced samples and the rates are kept in ``meta["cleaning"]``.

When torque is absent and the load is known (``inertia`` [kg·m²], optionally ``mass`` [kg] and ``length`` [m], from
``meta``/``constants``), the torque label comes from inverse dynamics ``J·q̈ + m·g·l·sin(q)`` with ``J = inertia +
armature`` and the zero-phase filter of ``inverse_dynamics``. A logged velocity that lags the motion is advanced by
``velocity.lag_s``; the last frames then have no source sample and are marked invalid (``JointLog.valid``), never
dropped.

Every run is checked for plausibility after the unit conversion (:mod:`~learned_actuators.data.checks`): an isolated
absurd value, angles beyond 4π rad, a velocity ~57.3x (or 1/57.3x) d(position)/dt or a target ~57.3x the position (a
declared unit that contradicts the data), a time step that suggests the wrong time unit. Each failure names the file,
the column and a row, and the ``accept`` value (``data.accept`` in a preset) that waives it.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .checks import (
    check_angle_units,
    check_declared_rate,
    check_rate,
    check_target_scale,
    check_velocity_scale,
    validate_accept,
)
from .cleaning import clean_run
from .column_map_cfg import (
    FORMAT_DOCS,
    FORMATS,
    UNIT_SCALE,
    ColumnMap,
    FieldMap,
    available_column_maps,
    load_column_map,
)
from .inverse_dynamics import inverse_dynamics_torque, shift_signal
from .joint_log import JointLog, LogFormatError
from .joint_meta import add_joint_constants, read_side_file
from .log_tables import LogTable, episode_tables, open_log
from .mapped_signals import MappedSignals, field_labels, read_signals

__all__ = [
    "FORMATS",
    "FORMAT_DOCS",
    "UNIT_SCALE",
    "ColumnMap",
    "FieldMap",
    "available_column_maps",
    "load_column_map",
    "read_mapped_folder",
    "read_mapped_log",
]


def _joint_names(cmap: ColumnMap, path: Path, num: int, table: LogTable) -> list[str]:
    """The run's joint names: the map's (or its name file's), the file's own for the position column, or defaults."""
    names = cmap.joint_names
    if names is None and isinstance(cmap.position.column, str):
        names = table.names.get(cmap.position.column)
    if isinstance(names, str):
        name_file = (path if path.is_dir() else path.parent) / names
        if not name_file.is_file():
            raise LogFormatError(f"{name_file}: joint-name file named by column map '{cmap.name}' not found.")
        names = [n.strip() for n in name_file.read_text().splitlines() if n.strip()]
    if names is None:
        names = [f"joint_{i}" for i in range(num)] if num > 1 else ["joint"]
    if len(names) != num:
        raise LogFormatError(f"{path}: {num} joint columns but column map '{cmap.name}' names {len(names)} joints.")
    return list(names)


def _with_side_file(cmap: ColumnMap, path: Path) -> tuple[ColumnMap, Path, dict | None]:
    """The map with the log's metadata side file applied (its keys override the map's), the side file and its data."""
    side_path, side = read_side_file(path, cmap.meta_file)
    if not side:
        return cmap, side_path, side
    keys = ("rate_hz", "joint_names", "resample_hz", "resample_max_gap_s", "glitches")
    changes = {k: side[k] for k in keys if k in side}
    changes["constants"] = {**cmap.constants, **side.get("constants", {})}
    return dataclasses.replace(cmap, **changes), side_path, side


def _metadata(table: LogTable, cmap: ColumnMap, names: list[str], side: tuple[Path, dict | None], channels) -> dict:
    """Run metadata: file keys (``meta``), constants, and per-joint constants (map, then side file) by joint."""
    meta: dict[str, Any] = {"format": cmap.format, "column_map": cmap.name}
    for key, file_key in cmap.meta.items():
        value = table.meta(file_key, cmap)
        meta[key] = value.item() if isinstance(value, np.generic) else value
    meta.update(cmap.constants)
    side_path, side_data = side
    sources = [(cmap.joint_constants, cmap.source), ((side_data or {}).get("joint_constants", {}), side_path)]
    add_joint_constants(meta, names, sources, channels)
    if side_data is not None:
        meta["meta_file"] = str(side_path)
    meta["group"] = meta.get(cmap.group, meta.get("group", ""))
    return meta


def read_mapped_log(
    path: str | Path, column_map: ColumnMap | str | Path | dict, accept: Iterable[str] = ()
) -> JointLog:
    """Read one run with a column map (see the module docstring for the map format).

    Args:
        path: The log file (or motion folder for ``sage_csv``).
        column_map: A :class:`ColumnMap`, its dict, a JSON file or the name of a shipped map.
        accept: Plausibility checks to waive (names of :data:`~learned_actuators.data.checks.PLAUSIBILITY_CHECKS`).

    Raises:
        LogFormatError: The file does not match the map, or its data is implausible (``ImplausibleDataError``,
            naming the check to waive).
    """
    accept = validate_accept(accept)
    cmap = column_map if isinstance(column_map, ColumnMap) else load_column_map(column_map)
    path = Path(path)
    return _read_table(open_log(path, cmap), cmap, path, accept)


def _read_table(table: LogTable, cmap: ColumnMap, path: Path, accept, name: str | None = None) -> JointLog:
    """One run from an opened table (:func:`read_mapped_log`); ``name``: the run's name (default: from ``path``)."""
    cmap, side_path, side = _with_side_file(cmap, path)
    sig = read_signals(table, cmap, side_path, accept)
    sig, cleaning = _clean(sig, cmap, table.source)
    dt = _check_rate(sig.t, table.source, sig.time_name, cmap)
    _check_units(sig, cmap, table.source, (side_path, side), accept)
    qd, valid = _velocity(sig, cmap, dt)
    names = _joint_names(cmap, path, sig.q.shape[1], table)
    meta = _metadata(table, cmap, names, (side_path, side), sig.channels)
    if cleaning:
        meta["cleaning"] = cleaning
    if cmap.velocity is not None and cmap.velocity.lag_s:
        meta["velocity_lag_s"] = cmap.velocity.lag_s
    tau = sig.tau
    if tau is None and ("inertia" in meta or "mass" in meta):
        tau = _inverse_dynamics(sig.t, sig.q, qd, meta, cmap)
    return JointLog(
        name=name or (path.stem if path.stem != "log" else path.parent.name),
        source=table.source,
        t=sig.t,
        q=sig.q,
        q_target=sig.q_target,
        qd=qd,
        tau=tau,
        joint_names=names,
        valid=None if valid.all() else valid,
        meta=meta,
        channels=sig.channels,
    )


def _check_units(sig: MappedSignals, cmap: ColumnMap, source: str, side: tuple[Path, dict | None], accept) -> None:
    """The plausibility checks of the declared units (and of a declared rate) on the cleaned signals."""
    num = sig.q.shape[1]
    pos_labels, target_labels = field_labels(cmap.position, num), field_labels(cmap.target, num)
    check_angle_units(sig.q, source, pos_labels, "angle", accept)
    check_angle_units(sig.q_target, source, target_labels, "angle", accept)
    if sig.qd_logged is not None:
        vel_labels = field_labels(cmap.velocity, num)
        check_angle_units(sig.qd_logged, source, vel_labels, "speed", accept)
        units = (cmap.position.unit, cmap.velocity.unit)
        check_velocity_scale(sig.t, sig.q, sig.qd_logged, source, pos_labels, vel_labels, accept, units)
        if cmap.time is None:
            side_path, side_data = side
            where = f"side file {side_path}" if side_data and "rate_hz" in side_data else f"column map {cmap.source}"
            declared = f"'rate_hz' of the {where}"
            check_declared_rate(sig.t, sig.q, sig.qd_logged, source, pos_labels, vel_labels, declared, accept)
    units = (cmap.position.unit, cmap.target.unit)
    check_target_scale(sig.t, sig.q, sig.q_target, source, pos_labels, target_labels, accept, units)


def _velocity(sig: MappedSignals, cmap: ColumnMap, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """The joint velocity (the logged one advanced by its lag, or d(position)/dt) and the frames still valid."""
    if sig.qd_logged is None:
        return np.gradient(sig.q, sig.t, axis=0), sig.valid
    if not cmap.velocity.lag_s:
        return sig.qd_logged, sig.valid
    qd, ok = shift_signal(sig.qd_logged, round(cmap.velocity.lag_s / dt))
    return qd, sig.valid & ok


def _check_rate(t: np.ndarray, source: str, time_name: str, cmap: ColumnMap) -> float:
    """Median time step; an irregular log's error names the column-map key that fixes it (``resample_hz``)."""
    try:
        return check_rate(t, source, time_name)
    except LogFormatError as err:
        rate = 1.0 / float(np.median(np.diff(t)))
        raise LogFormatError(
            f'{err} Irregular time stamps: set "resample_hz" (e.g. {rate:.0f}) in column map {cmap.source} (or the '
            "log's side file) to resample it uniformly."
        ) from None


def _clean(sig: MappedSignals, cmap: ColumnMap, source: str) -> tuple[MappedSignals, dict[str, Any]]:
    """Glitch removal and resampling of the map (:func:`~learned_actuators.data.cleaning.clean_run`) and its record."""
    if not cmap.glitches and cmap.resample_hz is None:
        return sig, {}
    names = ("position", "target", "velocity", "torque")
    signals = dict(zip(names, (sig.q, sig.q_target, sig.qd_logged, sig.tau), strict=True))
    signals |= {f"channels.{k}": v for k, v in sig.channels.items()}
    t, signals, valid, record = clean_run(
        sig.t, signals, sig.valid, cmap.glitches, cmap.resample_hz, cmap.resample_max_gap_s, source
    )
    channels = {k: signals[f"channels.{k}"] for k in sig.channels}
    q, q_target, qd_logged, tau = (signals[k] for k in names)
    cleaned = dataclasses.replace(
        sig, t=t, q=q, q_target=q_target, qd_logged=qd_logged, tau=tau, valid=valid, channels=channels
    )
    return cleaned, record


def _inverse_dynamics(t, q, qd, meta: dict, cmap: ColumnMap) -> np.ndarray:
    """Torque label from the known load in ``meta`` (module docstring); records ``inertia`` and ``torque_label``."""
    opts = dict(cmap.inverse_dynamics or {})
    unknown = set(opts) - {"armature", "cutoff_hz", "order"}
    if unknown:
        raise LogFormatError(f"{cmap.source}: 'inverse_dynamics' has unknown keys {sorted(unknown)}.")
    mass = float(meta.get("mass", 0.0))
    length = float(meta.get("length", 0.0))
    inertia = float(meta.get("inertia", mass * length**2)) + float(opts.get("armature", 0.0))
    meta["inertia"] = inertia
    meta["torque_label"] = "inverse_dynamics"
    return inverse_dynamics_torque(
        t, q, qd, inertia, mass, length, cutoff_hz=opts.get("cutoff_hz", 15.0), order=int(opts.get("order", 2))
    )


def read_mapped_folder(
    folder: str | Path, column_map: ColumnMap | str | Path | dict, accept: Iterable[str] = ()
) -> list[JointLog]:
    """Read every run matching the map's ``file_glob`` in ``folder`` (sorted by path).

    ``accept`` names plausibility checks to waive (see :func:`read_mapped_log`).
    """
    accept = validate_accept(accept)
    cmap = column_map if isinstance(column_map, ColumnMap) else load_column_map(column_map)
    folder = Path(folder)
    if not folder.is_dir():
        raise LogFormatError(f"{folder}: folder not found.")
    if cmap.format == "lerobot":
        logs = [_read_table(table, cmap, folder, accept, name) for name, table in episode_tables(folder, cmap)]
        return _check_labels(folder, logs)
    if cmap.format in ("sage_csv", "ros2_bag"):
        paths = sorted(p for p in folder.glob(cmap.file_glob) if p.is_dir())
    else:
        side = cmap.meta_file.replace("{stem}", "*")
        paths = sorted(p for p in folder.glob(cmap.file_glob) if p.is_file() and not p.match(side))
    if not paths:
        raise LogFormatError(f"{folder}: no runs match '{cmap.file_glob}' (column map '{cmap.name}').")
    logs = [read_mapped_log(p, cmap, accept) for p in paths]
    names = [log.name for log in logs]
    if len(set(names)) != len(names):
        for i, log in enumerate(logs):
            log.name = str(paths[i].relative_to(folder).with_suffix(""))
    return _check_labels(folder, logs)


def _check_labels(folder: Path, logs: list[JointLog]) -> list[JointLog]:
    """Warn when some runs of a folder have torque labels and others do not."""
    if any(log.tau is None for log in logs) and any(log.tau is not None for log in logs):
        warnings.warn(f"{folder}: some runs have torque labels and some do not.", stacklevel=3)
    return logs
