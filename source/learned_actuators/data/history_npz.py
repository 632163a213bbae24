"""Readers for NPZ files: position-error/velocity histories and policy-playback torque profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .checks import check_finite, check_numeric, check_time
from .joint_log import JointLog, LogFormatError

__all__ = ["read_history_npz", "read_torque_profile_npz"]


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise LogFormatError(f"{path}: file not found.")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as err:
        raise LogFormatError(f"{path}: not a readable NPZ file ({err}).") from err


def _require(data: dict, key: str, source: str, what: str) -> np.ndarray:
    if key not in data:
        raise LogFormatError(f"{source}: missing array '{key}' ({what}); the file has {sorted(data)}.")
    arr = check_numeric(data[key], source, key)
    check_finite(arr, source, key)
    return arr


def read_history_npz(path: str | Path, dt: float | None = None, pos_error_sign: int = 1) -> JointLog:
    """Read an NPZ of histories ``pos_err`` (N, H), ``vel`` (N, H) and ``effort`` (N,) as one time series.

    Column k of ``pos_err``/``vel`` is the value k steps ago (``pos_err(t), pos_err(t-1), ...``). The rows must be
    consecutive time steps (row i's column k equals row i-k's column 0); the history of the first row becomes
    ``H-1`` leading frames without a torque label (``valid`` False), so no sample is lost. The joint angle itself is
    not in the file: ``q`` is set to 0 and ``q_target`` to the position error (``meta["q_known"] = False``).

    Args:
        path: NPZ file. Optional scalar ``dt`` [s] in the file overrides the argument.
        dt: Time step [s] between rows (required unless the file holds ``dt``).
        pos_error_sign: +1 when ``pos_err`` is ``q* - q`` (Isaac Lab), -1 when it is ``q - q*`` (walk-these-ways).
    """
    path = Path(path)
    source = str(path)
    data = _load_npz(path)
    pos = _require(data, "pos_err", source, "position-error history (N, H)")
    vel = _require(data, "vel", source, "velocity history (N, H)")
    effort = _require(data, "effort", source, "torque [N·m] (N,)").reshape(-1)
    if "dt" in data:
        dt = float(data["dt"])
    if dt is None or not dt > 0:
        raise LogFormatError(f"{source}: no positive time step: pass dt=... or store a scalar 'dt' [s] in the file.")
    if pos.ndim != 2 or vel.shape != pos.shape or effort.shape[0] != pos.shape[0]:
        raise LogFormatError(
            f"{source}: expected pos_err (N, H), vel (N, H), effort (N,); got {pos.shape}, {vel.shape}, {effort.shape}."
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


def read_torque_profile_npz(path: str | Path) -> JointLog:
    """Read a torque profile written by policy playback (``learned_actuators.recording``).

    Fields: ``fps`` [Hz], ``dof_names`` (J,), ``joint_torques`` (T, J) [N·m], ``dof_positions`` (T, J) [rad],
    ``dof_velocities`` (T, J) [rad/s]; optional ``dof_position_targets`` / ``joint_position_targets`` (T, J) [rad]
    and ``time`` (T,) [s]. Other fields (``body_*`` ...) are kept out of the log. Without targets, ``q_target``
    is NaN and ``meta["has_target"]`` is False (such runs serve torque-vs-state fits and validation only).
    """
    path = Path(path)
    source = str(path)
    data = _load_npz(path)
    q = _require(data, "dof_positions", source, "joint angles [rad] (T, J)")
    qd = _require(data, "dof_velocities", source, "joint velocities [rad/s] (T, J)")
    tau = _require(data, "joint_torques", source, "joint torques [N·m] (T, J)")
    if q.ndim == 1:
        q, qd, tau = q[:, None], qd[:, None], tau[:, None]
    if not (q.shape == qd.shape == tau.shape):
        raise LogFormatError(
            f"{source}: dof_positions {q.shape}, dof_velocities {qd.shape}, joint_torques "
            f"{tau.shape}; expected the same (T, J) shape."
        )
    if "time" in data:
        t = _require(data, "time", source, "time [s] (T,)").reshape(-1)
        fps = 1.0 / float(np.median(np.diff(t)))
    else:
        fps = float(_require(data, "fps", source, "frame rate [Hz]").reshape(-1)[0])
        if not fps > 0:
            raise LogFormatError(f"{source}: 'fps' is {fps}; expected a positive frame rate [Hz].")
        t = np.arange(q.shape[0]) / fps
    check_time(t, source)
    target_key = next((k for k in ("dof_position_targets", "joint_position_targets") if k in data), None)
    if target_key is not None:
        q_target = _require(data, target_key, source, "joint targets [rad] (T, J)").reshape(q.shape)
    else:
        q_target = np.full_like(q, np.nan)
    names = [str(n) for n in data["dof_names"]] if "dof_names" in data else [f"joint_{i}" for i in range(q.shape[1])]
    if len(names) != q.shape[1]:
        raise LogFormatError(f"{source}: 'dof_names' has {len(names)} names for {q.shape[1]} joints.")
    return JointLog(
        name=path.stem,
        source=source,
        t=t,
        q=q,
        q_target=q_target,
        qd=qd,
        tau=tau,
        joint_names=names,
        meta={"format": "torque_profile_npz", "fps": fps, "has_target": target_key is not None, "group": path.stem},
    )
