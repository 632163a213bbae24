"""Torque profiles written by policy playback (NPZ or CSV) as joint logs, for training and validation.

The format (keys, shapes, units, the CSV layout) is :mod:`learned_actuators.recording.profile`'s and
:mod:`learned_actuators.recording.profile_csv`'s; this reader takes the joint arrays of a profile, checks them as
training data (time stamps, plausibility, errors naming ``data.accept``) and returns one :class:`JointLog`. It is
more lenient than :func:`~learned_actuators.recording.validate_profile`: body arrays and names are not needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .checks import (
    check_angle_units,
    check_outliers,
    check_target_scale,
    check_time,
    check_time_gaps,
    check_time_unit,
    check_velocity_scale,
    validate_accept,
)
from .joint_log import JointLog, LogFormatError
from .npz_file import load_npz_arrays, require_array

__all__ = ["read_torque_profile", "read_torque_profile_npz"]


def read_torque_profile_npz(path: str | Path, accept: Iterable[str] = ()) -> JointLog:
    """Read a torque profile written by policy playback (``learned_actuators.recording``).

    Fields: ``fps`` [Hz], ``dof_names`` (J,), ``joint_torques`` (T, J) [N·m], ``dof_positions`` (T, J) [rad],
    ``dof_velocities`` (T, J) [rad/s]; optional ``dof_position_targets`` / ``joint_position_targets`` (T, J) [rad]
    and ``time`` (T,) [s]. Other fields (``body_*`` ...) are kept out of the log. Without targets, ``q_target``
    is NaN and ``meta["has_target"]`` is False (such runs serve torque-vs-state fits and validation only).
    ``accept`` names plausibility checks to waive (:data:`~learned_actuators.data.checks.PLAUSIBILITY_CHECKS`).
    """
    accept = validate_accept(accept)
    path = Path(path)
    return _profile_log(load_npz_arrays(path), path, accept, csv=False)


def read_torque_profile(path: str | Path, accept: Iterable[str] = ()) -> JointLog:
    """Read a torque profile from an ``.npz`` file (:func:`read_torque_profile_npz`) or its CSV form (by suffix).

    The CSV layout is :mod:`learned_actuators.recording.profile_csv`'s; errors name its columns
    (``dof_pos/<dof>`` ...).
    """
    accept = validate_accept(accept)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return read_torque_profile_npz(path, accept)
    if suffix != ".csv":
        raise LogFormatError(f"{path}: unknown torque-profile file type '{suffix}'; expected .npz or .csv.")
    if not path.is_file():
        raise LogFormatError(f"{path}: file not found.")
    from ..recording.profile_csv import read_csv  # the recording package imports this one

    return _profile_log(read_csv(path).arrays(), path, accept, csv=True)


def _profile_log(data: Mapping[str, Any], path: Path, accept: frozenset[str], csv: bool) -> JointLog:
    """One joint log from a profile's arrays (``csv``: the arrays came from a CSV file, errors name its columns)."""
    from ..recording import profile as fmt  # the recording package imports this one

    source = str(path)
    q, qd, tau = _dof_arrays(data, source)
    t, time_name, declared = _profile_time(data, source, q.shape[0], fmt)
    check_time(t, source, time_name)
    check_time_gaps(t, source, time_name, accept)
    check_time_unit(t, source, time_name, declared, accept)
    target_key = next((k for k in fmt.TARGET_KEYS if k in data), None)
    q_target = _targets(data, target_key, source, q)
    names = [str(n) for n in data[fmt.DOF_NAMES_KEY]] if fmt.DOF_NAMES_KEY in data else None
    names = names if names is not None else [f"joint_{i}" for i in range(q.shape[1])]
    if len(names) != q.shape[1]:
        raise LogFormatError(f"{source}: 'dof_names' has {len(names)} names for {q.shape[1]} joints.")
    labels = _Labels(names, csv, target_key)
    _check_plausible(t, (q, qd, tau, q_target if target_key else None), source, labels, accept)
    return JointLog(
        name=path.stem,
        source=source,
        t=t,
        q=q,
        q_target=q_target,
        qd=qd,
        tau=tau,
        joint_names=names,
        meta={
            "format": "torque_profile_csv" if csv else "torque_profile_npz",
            "fps": 1.0 / float(np.median(np.diff(t))),
            "has_target": target_key is not None,
            "group": path.stem,
        },
    )


def _dof_arrays(data: Mapping[str, Any], source: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Joint angles, velocities and torques, (T, J) each (a (T,) array is one joint)."""
    q = require_array(data, "dof_positions", source, "joint angles [rad] (T, J)")
    qd = require_array(data, "dof_velocities", source, "joint velocities [rad/s] (T, J)")
    tau = require_array(data, "joint_torques", source, "joint torques [N·m] (T, J)")
    if q.ndim == 1:
        q, qd, tau = q[:, None], qd[:, None], tau[:, None]
    if q.ndim != 2:
        raise LogFormatError(f"{source}: array 'dof_positions' has shape {q.shape}; expected (T, J).")
    for key, arr in (("dof_velocities", qd), ("joint_torques", tau)):
        if arr.shape != q.shape:
            raise LogFormatError(
                f"{source}: array '{key}' has shape {arr.shape}, 'dof_positions' {q.shape}; expected the same "
                "(T, J) shape (a truncated or misaligned array)."
            )
    return q, qd, tau


def _profile_time(data: Mapping[str, Any], source: str, frames: int, fmt) -> tuple[np.ndarray, str, str]:
    """Time stamps [s] (from ``time``, else ``fps``), the key they came from and its unit (for messages)."""
    if fmt.TIME_KEY in data:
        t = require_array(data, fmt.TIME_KEY, source, "time [s] (T,)").reshape(-1)
        if t.shape[0] != frames:
            raise LogFormatError(
                f"{source}: array 'time' has {t.shape[0]} rows, 'dof_positions' {frames}; expected equal."
            )
        return t, fmt.TIME_KEY, "s"
    fps = float(require_array(data, fmt.FPS_KEY, source, "frame rate [Hz]").reshape(-1)[0])
    if not fps > 0:
        raise LogFormatError(f"{source}: 'fps' is {fps}; expected a positive frame rate [Hz].")
    return np.arange(frames) / fps, fmt.FPS_KEY, "Hz"


def _targets(data: Mapping[str, Any], target_key: str | None, source: str, q: np.ndarray) -> np.ndarray:
    """Joint targets (T, J) [rad] stored under ``target_key``; NaN when the profile has none."""
    if target_key is None:
        return np.full_like(q, np.nan)
    q_target = require_array(data, target_key, source, "joint targets [rad] (T, J)")
    if q_target.size != q.size or q_target.shape[0] != q.shape[0]:
        raise LogFormatError(
            f"{source}: array '{target_key}' has shape {q_target.shape}, 'dof_positions' {q.shape}; expected "
            "the same (T, J) shape (a truncated or misaligned array)."
        )
    return q_target.reshape(q.shape)


class _Labels:
    """Per-joint column labels for messages: ``dof_positions[:, 0] (hip)`` (NPZ) or ``dof_pos/hip`` (CSV)."""

    def __init__(self, names: list[str], csv: bool, target_key: str | None):
        self.names, self.csv = names, csv
        self.target_key = target_key if not csv and target_key else "dof_position_targets"

    def __call__(self, key: str) -> list[str]:
        if self.csv:
            from ..recording.profile_csv import CSV_PREFIXES

            return [f"{CSV_PREFIXES[key]}/{n}" for n in self.names]
        return [f"{key}[:, {j}] ({n})" for j, n in enumerate(self.names)]


def _check_plausible(t: np.ndarray, arrays: tuple, source: str, labels: _Labels, accept: frozenset[str]) -> None:
    """Outlier and unit plausibility checks of ``(q, qd, tau, q_target or None)``."""
    q, qd, tau, q_target = arrays
    pos, vel = labels("dof_positions"), labels("dof_velocities")
    check_outliers(q, source, pos, "angle", accept)
    check_outliers(qd, source, vel, "speed", accept)
    check_outliers(tau, source, labels("joint_torques"), "torque", accept)
    if q_target is not None:
        check_outliers(q_target, source, labels(labels.target_key), "angle", accept)
    hint = "is it in degrees? The torque-profile format stores radians."
    check_angle_units(q, source, pos, "angle", accept, hint=hint)
    check_angle_units(qd, source, vel, "speed", accept, hint="is it in deg/s? It must be rad/s.")
    check_velocity_scale(t, q, qd, source, pos, vel, accept)
    if q_target is not None:
        check_angle_units(q_target, source, labels(labels.target_key), "angle", accept, hint=hint)
        check_target_scale(t, q, q_target, source, pos, labels(labels.target_key), accept)
