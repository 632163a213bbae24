"""Reader for NPZ files of position-error/velocity histories (as Isaac Lab's actuator-net trainers store them)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .checks import check_angle_units, check_outliers, check_time, check_time_unit, validate_accept
from .joint_log import JointLog, LogFormatError
from .npz_file import load_npz_arrays, require_array

__all__ = ["read_history_npz"]


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
    data = load_npz_arrays(path)
    pos = require_array(data, "pos_err", source, "position-error history (N, H)")
    vel = require_array(data, "vel", source, "velocity history (N, H)")
    effort = require_array(data, "effort", source, "torque [N·m] (N,)").reshape(-1)
    dt_name = "dt (argument / data.dt)"
    if "dt" in data:
        dt, dt_name = float(np.asarray(data["dt"]).reshape(-1)[0]), "dt"
    if dt is None or not dt > 0:
        raise LogFormatError(f"{source}: no positive time step: pass dt=... or store a scalar 'dt' [s] in the file.")
    _check_histories(pos, vel, effort, source)
    h = pos.shape[1]
    e = np.concatenate([pos[0, 1:][::-1], pos[:, 0]]) * pos_error_sign
    v = np.concatenate([vel[0, 1:][::-1], vel[:, 0]])
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


def _check_histories(pos: np.ndarray, vel: np.ndarray, effort: np.ndarray, source: str) -> None:
    """Raise unless the shapes fit and the rows are consecutive time steps (column k of row i = column 0 of i-k)."""
    if pos.ndim != 2 or vel.shape != pos.shape or effort.shape[0] != pos.shape[0]:
        bad = "pos_err" if pos.ndim != 2 else "vel" if vel.shape != pos.shape else "effort"
        raise LogFormatError(
            f"{source}: array '{bad}' does not fit: expected pos_err (N, H), vel (N, H), effort (N,); got "
            f"{pos.shape}, {vel.shape}, {effort.shape}."
        )
    for k in range(1, pos.shape[1]):
        for name, arr in (("pos_err", pos), ("vel", vel)):
            if not np.allclose(arr[k:, k], arr[:-k, 0], rtol=1e-5, atol=1e-7):
                row = int(np.argmax(~np.isclose(arr[k:, k], arr[:-k, 0], rtol=1e-5, atol=1e-7))) + k
                raise LogFormatError(
                    f"{source}: '{name}' column {k} at row {row} does not equal column 0 at row {row - k}; expected "
                    "consecutive time steps (shuffled or subsampled rows cannot be turned into a time series)."
                )
