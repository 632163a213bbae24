"""Write a session in our multi-joint CSV log format, with the column map the training readers load unchanged.

Every session gets a new folder ``<root>/go2_<backend>_<YYYYmmdd-HHMMSS>[-n]`` (created exclusively: an earlier
session is never overwritten) holding:

* ``<folder name>.csv``: one row per sample: ``t`` [s], ``segment`` (plan segment, -1 = holding), and per logged
  joint ``q_<joint>`` [rad], ``dq_<joint>`` [rad/s], ``q_cmd_<joint>`` [rad], ``kp_<joint>`` [N·m/rad],
  ``kd_<joint>`` [N·m·s/rad], ``tau_ff_<joint>`` [N·m], ``tau_est_<joint>`` [N·m] (the motor's torque estimate) and
  ``tau_pd_<joint>`` [N·m] (the commanded PD torque ``kp (q_cmd - q) - kd dq + tau_ff`` at the logged state);
* ``<folder name>.meta.json``: the metadata side file (joint names, per-joint gains, limits, leg as ``group`` and
  part; robot, backend and actuator; ``resample_hz`` when the backend's measured time stamps are irregular);
* ``column_map.json``: reads the CSV with :func:`~learned_actuators.data.column_map.read_mapped_folder`, i.e.
  ``scripts/inspect_logs.py FOLDER --column-map FOLDER/column_map.json`` and ``scripts/train_actuator.py
  data.reader=column_map data.path=FOLDER data.column_map=FOLDER/column_map.json``;
* ``session.json`` (written last): the settings, the plan's segments and ranges, the backend, why the session ended.

Every file is written atomically (:mod:`learned_actuators.atomic_io`); when writing fails (a full disk), the new
folder is removed again, so a session folder is complete or absent.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic_io import atomic_write_json, atomic_write_text, json_safe
from ..errors import UserInputError
from .go2 import GO2_MOTOR_LIMITS, GO2_POSITION_LIMITS, joint_leg, joint_part
from .record import ExcitationRecord

__all__ = ["COLUMN_MAP_FILE", "SESSION_FILE", "column_map_for", "new_session_dir", "write_session"]

COLUMN_MAP_FILE = "column_map.json"
SESSION_FILE = "session.json"
COLUMNS = {
    "q": "q",
    "qd": "dq",
    "q_target": "q_cmd",
    "kp": "kp",
    "kd": "kd",
    "tau_ff": "tau_ff",
    "tau": "tau_est",
    "tau_pd": "tau_pd",
}
"""Record field -> CSV column prefix (``<prefix>_<joint name>``)."""


def _cols(prefix: str, joints: list[str]) -> list[str]:
    return [f"{prefix}_{j}" for j in joints]


def column_map_for(joint_names: list[str]) -> dict[str, Any]:
    """The column map (JSON dict) reading a session log of ``joint_names`` (see the module docstring)."""
    return {
        "name": "go2_excitation",
        "description": "Go2 excitation log written by scripts/excite_go2.py (learned_actuators.excitation): one "
        "CSV per session with its side file; tau_est is the motor's torque estimate (the label), tau_pd the "
        "commanded PD torque.",
        "format": "csv",
        "file_glob": "*.csv",
        "time": {"column": "t", "unit": "s"},
        "position": {"column": _cols("q", joint_names), "unit": "rad"},
        "target": {"column": _cols("q_cmd", joint_names), "unit": "rad"},
        "velocity": {"column": _cols("dq", joint_names), "unit": "rad/s"},
        "torque": {"column": _cols("tau_est", joint_names), "unit": "N·m"},
        "channels": {
            "tau_cmd": {"column": _cols("tau_pd", joint_names), "unit": "N·m"},
            "kp": {"column": _cols("kp", joint_names), "unit": "N·m/rad"},
            "kd": {"column": _cols("kd", joint_names), "unit": "N·m·s/rad"},
            "tau_ff": {"column": _cols("tau_ff", joint_names), "unit": "N·m"},
        },
    }


def new_session_dir(root: str | os.PathLike, backend: str, stamp: str | None = None) -> Path:
    """Create and return a new, empty session folder under ``root`` (never one that exists).

    Its name is ``go2_<backend>_<stamp>`` (``stamp`` default: local time ``YYYYmmdd-HHMMSS``), with ``-2``,
    ``-3`` ... appended while that name is taken.
    """
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as err:
        raise UserInputError(f"--out {root}: is not a folder ({err}); expected a folder for session logs.") from err
    base = f"go2_{backend}_{stamp or time.strftime('%Y%m%d-%H%M%S')}"
    for n in range(1, 10_000):
        path = root / (base if n == 1 else f"{base}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise UserInputError(f"--out {root}: no free session folder name for {base}; clean up old sessions.")


def _side_file(record: ExcitationRecord, resample_hz: float | None) -> dict[str, Any]:
    joints = record.joint_names
    side: dict[str, Any] = {
        "joint_names": list(joints),
        "description": "Per-joint gains and limits of this excitation session (learned_actuators.excitation).",
        "constants": {
            "robot": "unitree_go2",
            "backend": str(record.info.get("backend", "")),
            "actuator": str(record.info.get("actuator", "")),
        },
        "joint_constants": {
            "kp": [float(np.median(record.kp[:, j])) for j in range(len(joints))],
            "kd": [float(np.median(record.kd[:, j])) for j in range(len(joints))],
            "lower_limit": [GO2_POSITION_LIMITS[j][0] for j in joints],
            "upper_limit": [GO2_POSITION_LIMITS[j][1] for j in joints],
            "effort_limit": [GO2_MOTOR_LIMITS[joint_part(j)][0] for j in joints],
            "velocity_limit": [GO2_MOTOR_LIMITS[joint_part(j)][1] for j in joints],
            "group": [joint_leg(j) for j in joints],
            "part": [joint_part(j) for j in joints],
        },
    }
    if resample_hz is not None:
        side["resample_hz"] = float(resample_hz)
    return side


def _frame(record: ExcitationRecord) -> pd.DataFrame:
    columns: dict[str, np.ndarray] = {"t": record.t, "segment": record.segment}
    for j, name in enumerate(record.joint_names):
        for field, prefix in COLUMNS.items():
            columns[f"{prefix}_{name}"] = getattr(record, field)[:, j]
    return pd.DataFrame(columns)


def write_session(
    record: ExcitationRecord,
    root: str | os.PathLike,
    session: dict[str, Any],
    resample_hz: float | None = None,
    stamp: str | None = None,
) -> Path:
    """Write ``record`` into a new session folder under ``root`` (see the module docstring); return the folder.

    Args:
        record: What the backend logged (at least 2 rows of finite values).
        root: Folder holding the session folders (created when missing).
        session: Settings and plan summary for ``session.json`` (``backend`` is taken from ``record.info``).
        resample_hz: Set in the side file when the time stamps are measured (robot): the readers resample the log
            onto a uniform grid at this rate and mark frames in gaps invalid.
        stamp: Time stamp of the folder name (default: now).

    Raises:
        UserInputError: an empty record or non-finite values (nothing is written then).
    """
    if len(record) < 2:
        raise UserInputError(
            f"the session logged {len(record)} row(s) (stop reason: {record.info.get('stop_reason', '?')}); "
            "nothing to write."
        )
    frame = _frame(record)
    if not np.isfinite(frame.to_numpy(dtype=np.float64)).all():
        raise UserInputError("the session logged non-finite values (a sensor fault?); nothing was written.")
    folder = new_session_dir(root, str(record.info.get("backend", "log")), stamp)
    stem = folder.name
    try:
        atomic_write_text(folder / f"{stem}.csv", frame.to_csv(index=False, float_format="%.9g"))
        atomic_write_json(folder / f"{stem}.meta.json", _side_file(record, resample_hz))
        atomic_write_json(folder / COLUMN_MAP_FILE, column_map_for(record.joint_names))
        summary = {"rows": len(record), "duration_s": float(record.t[-1]), "log": f"{stem}.csv", **record.info}
        atomic_write_json(folder / SESSION_FILE, json_safe({**session, "record": summary}))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # our own new folder: no half-written session stays behind
        raise
    return folder
