"""Readers for NPZ files: position-error/velocity histories and policy-playback torque profiles (NPZ or CSV)."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .checks import (
    check_angle_units,
    check_finite,
    check_numeric,
    check_outliers,
    check_target_scale,
    check_time,
    check_time_gaps,
    check_time_unit,
    check_velocity_scale,
    validate_accept,
)
from .joint_log import JointLog, LogFormatError

__all__ = ["read_history_npz", "read_run_files", "read_torque_profile", "read_torque_profile_npz"]


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise LogFormatError(f"{path}: file not found.")
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise LogFormatError(f"{path}: holds a single array, not an NPZ archive of named arrays.")
        with npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        if isinstance(err, LogFormatError):
            raise
        raise LogFormatError(f"{path}: not a readable NPZ file (truncated or damaged? {err}).") from err


def _require(data: Mapping[str, Any], key: str, source: str, what: str) -> np.ndarray:
    if key not in data:
        raise LogFormatError(f"{source}: missing array '{key}' ({what}); the file has {sorted(data)}.")
    arr = check_numeric(data[key], source, key)
    check_finite(arr, source, key)
    return arr


def read_history_npz(
    path: str | Path, dt: float | None = None, pos_error_sign: int = 1, accept: Iterable[str] = ()
) -> JointLog:
    """Read an NPZ of histories ``pos_err`` (N, H), ``vel`` (N, H) and ``effort`` (N,) as one time series.

    Column k of ``pos_err``/``vel`` is the value k steps ago (``pos_err(t), pos_err(t-1), ...``). The rows must be
    consecutive time steps (row i's column k equals row i-k's column 0); the history of the first row becomes
    ``H-1`` leading frames without a torque label (``valid`` False), so no sample is lost. The joint angle itself is
    not in the file: ``q`` is set to 0 and ``q_target`` to the position error (``meta["q_known"] = False``).

    Args:
        path: NPZ file. Optional scalar ``dt`` [s] in the file overrides the argument.
        dt: Time step [s] between rows (required unless the file holds ``dt``).
        pos_error_sign: +1 when ``pos_err`` is ``q* - q`` (Isaac Lab), -1 when it is ``q - q*`` (walk-these-ways).
        accept: Plausibility checks to waive (names of :data:`~learned_actuators.data.checks.PLAUSIBILITY_CHECKS`).
    """
    accept = validate_accept(accept)
    path = Path(path)
    source = str(path)
    data = _load_npz(path)
    pos = _require(data, "pos_err", source, "position-error history (N, H)")
    vel = _require(data, "vel", source, "velocity history (N, H)")
    effort = _require(data, "effort", source, "torque [N·m] (N,)").reshape(-1)
    dt_name = "dt (argument / data.dt)"
    if "dt" in data:
        dt, dt_name = float(np.asarray(data["dt"]).reshape(-1)[0]), "dt"
    if dt is None or not dt > 0:
        raise LogFormatError(f"{source}: no positive time step: pass dt=... or store a scalar 'dt' [s] in the file.")
    if pos.ndim != 2 or vel.shape != pos.shape or effort.shape[0] != pos.shape[0]:
        bad = "pos_err" if pos.ndim != 2 else "vel" if vel.shape != pos.shape else "effort"
        raise LogFormatError(
            f"{source}: array '{bad}' does not fit: expected pos_err (N, H), vel (N, H), effort (N,); got "
            f"{pos.shape}, {vel.shape}, {effort.shape}."
        )
    h = pos.shape[1]
    for k in range(1, h):
        for name, arr in (("pos_err", pos), ("vel", vel)):
            if not np.allclose(arr[k:, k], arr[:-k, 0], rtol=1e-5, atol=1e-7):
                row = int(np.argmax(~np.isclose(arr[k:, k], arr[:-k, 0], rtol=1e-5, atol=1e-7))) + k
                raise LogFormatError(
                    f"{source}: '{name}' column {k} at row {row} does not equal column 0 at row {row - k}; expected "
                    "consecutive time steps (shuffled or subsampled rows cannot be turned into a time series)."
                )
    lead_pos = pos[0, 1:][::-1]
    lead_vel = vel[0, 1:][::-1]
    e = np.concatenate([lead_pos, pos[:, 0]]) * pos_error_sign
    v = np.concatenate([lead_vel, vel[:, 0]])
    tau = np.concatenate([np.zeros(h - 1), effort])
    valid = np.ones(len(e), dtype=bool)
    valid[: h - 1] = False
    t = np.arange(len(e)) * dt
    check_time(t, source)
    check_time_unit(t, source, dt_name, "s", accept)
    check_outliers(pos[:, 0], source, "pos_err", "angle", accept)
    check_outliers(vel[:, 0], source, "vel", "speed", accept)
    check_outliers(effort, source, "effort", "torque", accept)
    hint_pos = "is it in degrees? The history format stores radians."
    check_angle_units(pos[:, 0], source, "pos_err", "angle", accept, hint=hint_pos)
    check_angle_units(vel[:, 0], source, "vel", "speed", accept, hint="is it in deg/s? The format stores rad/s.")
    return JointLog(
        name=path.stem,
        source=source,
        t=t,
        q=np.zeros_like(e),
        q_target=e,
        qd=v,
        tau=tau,
        valid=valid if not valid.all() else None,
        meta={"format": "history_npz", "q_known": False, "group": path.stem},
    )


_NPZ_NAMES = {
    "dof_positions": "dof_positions",
    "dof_velocities": "dof_velocities",
    "joint_torques": "joint_torques",
    "dof_position_targets": "dof_position_targets",
    "joint_position_targets": "joint_position_targets",
}
_CSV_NAMES = {
    "dof_positions": "dof_pos",
    "dof_velocities": "dof_vel",
    "joint_torques": "joint_torque",
    "dof_position_targets": "dof_pos_target",
}


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
    return _profile_log(_load_npz(path), path, accept, csv=False)


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
    source = str(path)
    q = _require(data, "dof_positions", source, "joint angles [rad] (T, J)")
    qd = _require(data, "dof_velocities", source, "joint velocities [rad/s] (T, J)")
    tau = _require(data, "joint_torques", source, "joint torques [N·m] (T, J)")
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
    if "time" in data:
        t = _require(data, "time", source, "time [s] (T,)").reshape(-1)
        if t.shape[0] != q.shape[0]:
            raise LogFormatError(
                f"{source}: array 'time' has {t.shape[0]} rows, 'dof_positions' {q.shape[0]}; expected equal."
            )
        time_name, declared = "time", "s"
    else:
        fps = float(_require(data, "fps", source, "frame rate [Hz]").reshape(-1)[0])
        if not fps > 0:
            raise LogFormatError(f"{source}: 'fps' is {fps}; expected a positive frame rate [Hz].")
        t = np.arange(q.shape[0]) / fps
        time_name, declared = "fps", "Hz"
    check_time(t, source, time_name)
    check_time_gaps(t, source, time_name, accept)
    check_time_unit(t, source, time_name, declared, accept)
    fps = 1.0 / float(np.median(np.diff(t)))
    target_key = next((k for k in ("dof_position_targets", "joint_position_targets") if k in data), None)
    if target_key is not None:
        q_target = _require(data, target_key, source, "joint targets [rad] (T, J)")
        if q_target.size != q.size or q_target.shape[0] != q.shape[0]:
            raise LogFormatError(
                f"{source}: array '{target_key}' has shape {q_target.shape}, 'dof_positions' {q.shape}; expected "
                "the same (T, J) shape (a truncated or misaligned array)."
            )
        q_target = q_target.reshape(q.shape)
    else:
        q_target = np.full_like(q, np.nan)
    names = [str(n) for n in data["dof_names"]] if "dof_names" in data else [f"joint_{i}" for i in range(q.shape[1])]
    if len(names) != q.shape[1]:
        raise LogFormatError(f"{source}: 'dof_names' has {len(names)} names for {q.shape[1]} joints.")

    def labels(key: str) -> list[str]:
        if csv:
            return [f"{_CSV_NAMES[key]}/{n}" for n in names]
        return [f"{_NPZ_NAMES[key]}[:, {j}] ({n})" for j, n in enumerate(names)]

    target_labels = labels(target_key if not csv and target_key else "dof_position_targets")
    check_outliers(q, source, labels("dof_positions"), "angle", accept)
    check_outliers(qd, source, labels("dof_velocities"), "speed", accept)
    check_outliers(tau, source, labels("joint_torques"), "torque", accept)
    if target_key is not None:
        check_outliers(q_target, source, target_labels, "angle", accept)
    hint = "is it in degrees? The torque-profile format stores radians."
    check_angle_units(q, source, labels("dof_positions"), "angle", accept, hint=hint)
    check_angle_units(qd, source, labels("dof_velocities"), "speed", accept, hint="is it in deg/s? It must be rad/s.")
    check_velocity_scale(t, q, qd, source, labels("dof_positions"), labels("dof_velocities"), accept)
    if target_key is not None:
        check_angle_units(q_target, source, target_labels, "angle", accept, hint=hint)
        check_target_scale(t, q, q_target, source, labels("dof_positions"), target_labels, accept)
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
            "fps": fps,
            "has_target": target_key is not None,
            "group": path.stem,
        },
    )


def read_run_files(path: str | Path, patterns: Sequence[str], read: Callable[[Path], JointLog]) -> list[JointLog]:
    """Read one file, or every file under a folder (recursively) matching ``patterns``, with ``read``.

    With several patterns (``("*.npz", "*.csv")``) a file is skipped when one of an earlier pattern with the same
    name lies beside it (a converted copy). Runs whose file names repeat in different sub-folders are named (and
    grouped, ``meta["group"]``) by their path relative to the folder.

    Raises:
        LogFormatError: ``path`` does not exist, or the folder holds no matching file.
    """
    path = Path(path)
    if not path.exists():
        raise LogFormatError(f"{path}: no such file or folder.")
    if not path.is_dir():
        return [read(path)]
    files: list[Path] = []
    seen: set[Path] = set()
    for pattern in patterns:
        found = sorted(p for p in path.rglob(pattern) if p.is_file() and p.with_suffix("") not in seen)
        files += found
        seen |= {p.with_suffix("") for p in found}
    if not files:
        raise LogFormatError(
            f"{path}: no files match {' or '.join('**/' + p for p in patterns)} (searched recursively)."
        )
    files.sort()
    logs = [read(f) for f in files]
    if len({log.name for log in logs}) != len(logs):
        for f, log in zip(files, logs, strict=True):
            renamed = str(f.relative_to(path).with_suffix(""))
            if log.meta.get("group") == log.name:
                log.meta["group"] = renamed
            log.name = renamed
    return logs
