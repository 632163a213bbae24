"""Per-joint constants and metadata side files for column-mapped logs.

A log format without metadata (a CSV) can carry it in a side file next to each log, ``<stem>.meta.json`` by
default (the column map's ``meta_file`` pattern; ``{stem}`` is the log's file name without its suffix)::

    {
        "rate_hz": 100,
        "joint_names": ["l_ankle_pitch", "l_ankle_roll", "r_ankle_pitch", "r_ankle_roll"],
        "constants": {"robot": "biped"},
        "joint_constants": {"kp": [35, 30, 25, 25], "kd": 2.0, "effort_limit": {"l_ankle_pitch": 20, ...}}
    }

Its keys are column-map fields (:data:`SIDE_FILE_KEYS`, including the cleaning keys ``resample_hz``,
``resample_max_gap_s`` and ``glitches`` of :mod:`~learned_actuators.data.cleaning`) and override the map's for that
log. ``joint_constants``
gives each joint's constants (gains ``kp`` [N·m/rad], ``kd`` [N·m·s/rad], limits, ...): a number (all joints), a
list aligned with the joint columns, or a dict keyed by the joint names. They are stored under
``meta["joints"][<joint name>]``; :func:`~learned_actuators.data.splits.split_joints` gives each joint's run its own
values at the top level of its metadata (``meta["kp"]`` is what the GRU-PD trainer reads).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .cleaning import check_cleaning_keys
from .joint_log import GAIN_CHANNELS, LogFormatError

__all__ = ["CHANNELS", "NUMERIC_KEYS", "SIDE_FILE_KEYS", "add_joint_constants", "joint_values", "read_side_file"]

SIDE_FILE_KEYS = (
    "rate_hz",
    "joint_names",
    "constants",
    "joint_constants",
    "description",
    "resample_hz",
    "resample_max_gap_s",
    "glitches",
)
"""Column-map fields a metadata side file may set (per log)."""

CHANNELS = {
    "tau_cmd": "N·m",
    "kp": "N·m/rad",
    "kd": "N·m·s/rad",
    "qd_target": "rad/s",
    "tau_ff": "N·m",
    "tau_motor": "N·m",
}
"""Extra per-step channels a column map may read (``channels``), with their SI units. ``kp``, ``kd``, ``qd_target``
and ``tau_ff`` complete the low-level command (with the target angle); the trainers, baselines and rollouts use
them (:func:`learned_actuators.learning.features.run_command`). ``tau_motor`` is the motor's own torque from its
measured current (the current column with the torque constant [N·m/A] as its ``scale``): the physics fit matches
the prior's motor part to it (:func:`learned_actuators.learning.baselines.fit_physics`)."""


NUMERIC_KEYS = (
    "kp",
    "kd",
    "inertia",
    "mass",
    "length",
    "armature",
    "friction",
    "stall_torque",
    "no_load_speed",
    "effort_limit",
    "velocity_limit",
    "lower_limit",
    "upper_limit",
)
"""Per-joint constants that must be numbers (others may also be text, e.g. a motor model)."""


def read_side_file(path: Path, pattern: str) -> tuple[Path, dict[str, Any] | None]:
    """The side file of log ``path`` (``pattern`` with ``{stem}``) and its checked contents (None when absent)."""
    folder = path if path.is_dir() else path.parent
    side = folder / pattern.format(stem=path.stem if path.is_file() else path.name)
    if not side.is_file():
        return side, None
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise LogFormatError(f"{side}: metadata side file of {path.name} is not valid JSON ({err}).") from err
    if not isinstance(data, dict):
        raise LogFormatError(f"{side}: metadata side file must be a JSON object with keys {list(SIDE_FILE_KEYS)}.")
    unknown = sorted(set(data) - set(SIDE_FILE_KEYS))
    if unknown:
        raise LogFormatError(f"{side}: metadata side file has unknown keys {unknown}; expected {list(SIDE_FILE_KEYS)}.")
    rate = data.get("rate_hz")
    if rate is not None and not (_is_number(rate) and rate > 0):
        raise LogFormatError(f"{side}: field 'rate_hz' is {rate!r}; expected a positive number [Hz].")
    for key in ("constants", "joint_constants"):
        if not isinstance(data.get(key, {}), dict):
            raise LogFormatError(f"{side}: field '{key}' must be an object of name -> value.")
    check_cleaning_keys(data, str(side))
    return side, data


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_value(value) -> bool:
    return _is_number(value) or isinstance(value, str)


def joint_values(constants: dict[str, Any], names: list[str], source: str) -> tuple[dict, dict[str, dict]]:
    """Split ``joint_constants`` into values shared by every joint and per-joint values.

    Args:
        constants: ``{name: number | text | [one per joint] | {joint name: value}}``.
        names: The log's joint names, in column order.
        source: The file that gave ``constants`` (map or side file), named in errors.

    Returns:
        ``(shared, {joint name: {name: value}})``.

    Raises:
        LogFormatError: a list of the wrong length, a dict whose keys are not the joint names, a non-numeric value.
    """
    shared: dict[str, Any] = {}
    per_joint: dict[str, dict[str, Any]] = {n: {} for n in names}
    for key, value in constants.items():
        where = f"{source}: field 'joint_constants.{key}'"
        ok = _is_number if key in NUMERIC_KEYS else _is_value
        if ok(value):
            shared[key] = value
            continue
        if isinstance(value, list):
            if len(value) != len(names):
                raise LogFormatError(
                    f"{where} has {len(value)} values; expected one per joint column ({len(names)}: {names})."
                )
            values = dict(zip(names, value, strict=True))
        elif isinstance(value, dict):
            missing, unknown = [n for n in names if n not in value], sorted(set(value) - set(names))
            if missing or unknown:
                raise LogFormatError(
                    f"{where} is keyed by joint name; missing {missing}, unknown {unknown}; the joints are {names}."
                )
            values = value
        else:
            raise LogFormatError(f"{where} is {value!r}; expected a number, a list (one per joint) or a dict by joint.")
        for name, v in values.items():
            if not ok(v):
                raise LogFormatError(f"{where} for joint '{name}' is {v!r}; expected a number.")
            per_joint[name][key] = v
    return shared, per_joint


def add_joint_constants(meta: dict, names: list[str], sources, channels: dict[str, np.ndarray]) -> None:
    """Add per-joint constants to a run's ``meta`` (in place).

    Args:
        meta: The run metadata; values shared by all joints go to its top level, the others to
            ``meta["joints"][<joint name>]`` (or the top level for a single-joint run).
        names: The run's joint names, in column order.
        sources: ``[(joint_constants, file that gave them), ...]``, later ones overriding earlier ones.
        channels: Per-step channels; a ``kp``/``kd`` channel constant over the run sets that joint's gain unless a
            constant gives it.
    """
    per_joint: dict[str, dict] = {n: {} for n in names}
    for consts, source in sources:
        shared, own = joint_values(consts, names, str(source))
        meta.update(shared)
        for name in names:
            per_joint[name] = {k: v for k, v in per_joint[name].items() if k not in shared} | own[name]
    for key in GAIN_CHANNELS:
        arr = channels.get(key)
        if arr is None or key in meta:
            continue
        for j, name in enumerate(names):
            col = arr[:, j]
            if key not in per_joint[name] and np.ptp(col) <= 1e-9 * max(1.0, float(np.abs(col).max())):
                per_joint[name][key] = float(col[0])
    if any(per_joint.values()):
        if len(names) == 1:
            meta.update(per_joint[names[0]])
        else:
            meta["joints"] = per_joint
