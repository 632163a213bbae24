"""The column-map schema: :class:`ColumnMap` and :class:`FieldMap`, the log formats and units, and loading a map.

A column map says which column of a log holds which quantity and in which unit; the format and its keys are
described in :mod:`~learned_actuators.data.column_map`, which reads logs with it. Shipped maps are package data
(``learned_actuators/config/column_maps/``), found through :mod:`importlib.resources`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..config import shipped_file, shipped_names
from .checks import MIN_RUN_SAMPLES
from .cleaning import check_cleaning_keys
from .joint_log import LogFormatError
from .joint_meta import CHANNELS

__all__ = ["FORMATS", "FORMAT_DOCS", "UNIT_SCALE", "ColumnMap", "FieldMap", "available_column_maps", "load_column_map"]

FORMAT_DOCS = {
    "csv": "a CSV file with a header row (or ``csv_columns``); one row per sample",
    "json": "a JSON file: a list of per-sample records, a dict of columns, or records under the ``records`` key",
    "npz": "a NumPy ``.npz`` file: arrays (T,) or (T, J) as columns, scalars as metadata",
    "sage_csv": "a SAGE motion folder (``control.csv``, ``state_motor.csv``, ``joint_list.txt``); columns "
    "``file.csv:column`` of list-valued columns",
    "wtw_pickle": "a walk-these-ways deployment log (pickle of ``{name: (cfg, steps)}``)",
    "lerobot": "a LeRobot dataset folder (``meta/info.json``, parquet files under ``data/``): one run per episode; "
    "columns are the parquet columns (:mod:`~learned_actuators.data.lerobot`)",
    "mcap": "an MCAP file with JSON messages; columns ``<topic>:<field>`` (:mod:`~learned_actuators.data."
    "message_logs`)",
    "ros2_bag": "a ROS 2 bag folder (SQLite or MCAP storage, standard message types, read by ``rosbags``); columns "
    "``<topic>:<field>`` (:mod:`~learned_actuators.data.message_logs`)",
}
"""Log formats (the column map's ``format``) and what each reads."""
FORMATS = tuple(FORMAT_DOCS)
UNIT_SCALE = {
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "ns": 1e-9,
    "rad": 1.0,
    "deg": np.pi / 180.0,
    "rad/s": 1.0,
    "deg/s": np.pi / 180.0,
    "N·m": 1.0,
    "Nm": 1.0,
    "N.m": 1.0,
    "A": 1.0,
    "mA": 1e-3,
    "N·m/rad": 1.0,
    "N·m·s/rad": 1.0,
    "1": 1.0,
}


@dataclass
class FieldMap:
    """Where one quantity lives in the file and in which unit."""

    column: str | list[str]
    """Column name, or one name per joint."""
    unit: str = "1"
    """Unit of the stored values: s/ms/us/ns, rad/deg, rad/s/deg/s, N·m, A/mA; converted to SI on reading."""
    scale: float = 1.0
    """Extra factor applied after the unit conversion (e.g. a torque constant [N·m/A] for a current)."""
    lag_s: float = 0.0
    """How much this signal lags the true motion [s]; the reader advances it by this much."""
    signed_bits: int | None = None
    """The column holds a signed register read as unsigned (two's complement, e.g. 16 for a servo's present current
    or load): values from ``2**(bits-1)`` up are read as ``value - 2**bits`` before the unit conversion; values
    outside ``[0, 2**bits)`` or not whole are refused. One of 8, 16, 32; None: values as stored."""

    @classmethod
    def parse(cls, data, source: str, name: str) -> FieldMap | None:
        """Build from a column name, a list of names or a dict; None stays None."""
        if data is None:
            return None
        if isinstance(data, str | list):
            data = {"column": data}
        if not isinstance(data, dict) or "column" not in data:
            raise LogFormatError(f"{source}: column map field '{name}' must be a column name or {{'column': ...}}.")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise LogFormatError(f"{source}: column map field '{name}' has unknown keys {sorted(unknown)}.")
        fm = cls(**data)
        if fm.signed_bits not in (None, 8, 16, 32):
            raise LogFormatError(
                f"{source}: column map field '{name}' has signed_bits {fm.signed_bits!r}; expected 8, 16 or 32."
            )
        if fm.unit not in UNIT_SCALE:
            raise LogFormatError(
                f"{source}: column map field '{name}' has unit {fm.unit!r}; known: {list(UNIT_SCALE)}."
            )
        return fm

    @property
    def factor(self) -> float:
        """Factor from stored values to SI units."""
        return UNIT_SCALE[self.unit] * self.scale


@dataclass
class ColumnMap:
    """How to read one log format (the map format: :mod:`~learned_actuators.data.column_map`)."""

    name: str
    """Name of the map (recorded in each run's ``meta["column_map"]``)."""
    format: str
    """Log format: one of :data:`FORMAT_DOCS` (``csv``, ``json``, ``npz``, ...)."""
    position: FieldMap
    """Measured joint position [rad after conversion]."""
    target: FieldMap
    """Commanded (target) joint position [rad after conversion]."""
    velocity: FieldMap | None = None
    """Measured joint velocity [rad/s]; None: d(position)/dt."""
    time: FieldMap | None = None
    """Time stamps [s after conversion]; None: ``rate_hz`` gives the rate."""
    torque: FieldMap | None = None
    """Measured torque [N·m] (the training label); None: inverse dynamics from a known load, or no label."""
    valid: str | None = None
    """Column of per-sample booleans marking usable frames (e.g. torque enabled)."""
    rate_hz: float | None = None
    """Sampling rate [Hz] when there is no time column."""
    records: str | None = None
    """JSON: key of the list of per-sample records (None: the top level is a list of records or a dict of columns)."""
    meta: dict[str, str] = field(default_factory=dict)
    """Metadata name -> key in the file (JSON top level / NPZ scalar / dotted path into a wtw config)."""
    constants: dict[str, Any] = field(default_factory=dict)
    """Metadata given directly (e.g. ``inertia`` [kg·m²], ``mass`` [kg], ``length`` [m], ``group``)."""
    group: str = "group"
    """Metadata name whose value is the run's split group (copied to ``meta['group']``)."""
    joint_names: list[str] | str | None = None
    """Joint names, or the name of a text file (one per line) next to the log (sage_csv)."""
    joint_constants: dict[str, Any] = field(default_factory=dict)
    """Per-joint constants (``kp``, ``kd``, limits ...): a number, a list aligned with the joint columns or a dict
    keyed by joint name (:func:`~learned_actuators.data.joint_meta.joint_values`)."""
    channels: dict[str, FieldMap] = field(default_factory=dict)
    """Extra per-step columns kept in ``JointLog.channels``: ``tau_cmd`` (logged PD / commanded torque), ``kp``,
    ``kd`` (per-step gains; a gain constant over a run also sets that joint's ``meta["kp"]``/``["kd"]``),
    ``qd_target`` (target velocity) and ``tau_ff`` (feed-forward torque): with the target, the whole low-level
    command, which training, baselines and rollouts use; ``tau_motor``: the motor's torque from its measured current
    (the current column with the torque constant [N·m/A] as ``scale``), which the physics fit matches."""
    meta_file: str = "{stem}.meta.json"
    """Metadata side file next to each log (``{stem}``: the log's name without suffix), read when it exists; its
    keys (:data:`~learned_actuators.data.joint_meta.SIDE_FILE_KEYS`) override the map's for that log."""
    csv_columns: list[str] | None = None
    """CSV without a header row: the names of its columns, in order (the map's columns refer to these)."""
    inverse_dynamics: dict[str, Any] | None = None
    """``{"armature": kg·m², "cutoff_hz": Hz, "order": int}``: torque from inverse dynamics when torque is absent."""
    file_glob: str = "*"
    """Pattern selecting the runs inside a folder (e.g. ``"*.json"``, ``"*/log.pkl"``)."""
    resample_hz: float | None = None
    """Resample runs uniformly at this rate [Hz] (linear interpolation, :mod:`~learned_actuators.data.cleaning`)."""
    resample_max_gap_s: float | None = None
    """With ``resample_hz``: frames in a source time step longer than this [s] are invalid (default: 2.5 steps)."""
    glitches: dict[str, float] = field(default_factory=dict)
    """Field (``position``, ``target``, ``velocity``, ``torque``) -> threshold [SI units]: one-sample glitches larger
    than it are replaced by the interpolation of their neighbours (:func:`~learned_actuators.data.cleaning.
    remove_glitches`)."""
    min_samples: int = MIN_RUN_SAMPLES
    """Shortest accepted run [samples]."""
    description: str = ""
    """Free text describing the map, for people; the reader ignores it."""
    source: str = "<dict>"
    """Set by the reader: the file the map came from (named in errors); not a JSON key."""

    @classmethod
    def from_dict(cls, data: dict, source: str = "<dict>") -> ColumnMap:
        """Validate and build a map from its JSON dict."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise LogFormatError(f"{source}: column map has unknown keys {sorted(unknown)}; known: {sorted(known)}.")
        for key in ("name", "format", "position", "target"):
            if key not in data:
                raise LogFormatError(f"{source}: column map lacks required key '{key}'.")
        if data["format"] not in FORMATS:
            raise LogFormatError(f"{source}: column map format {data['format']!r}; expected one of {FORMATS}.")
        kwargs = dict(data)
        for key in ("position", "target", "velocity", "time", "torque"):
            kwargs[key] = FieldMap.parse(data.get(key), source, key)
        channels = data.get("channels") or {}
        if not isinstance(channels, dict) or set(channels) - set(CHANNELS):
            raise LogFormatError(
                f"{source}: column map field 'channels' must map names from {list(CHANNELS)} to columns; got "
                f"{sorted(channels) if isinstance(channels, dict) else channels!r}."
            )
        kwargs["channels"] = {k: FieldMap.parse(v, source, f"channels.{k}") for k, v in channels.items()}
        if not isinstance(data.get("joint_constants", {}), dict):
            raise LogFormatError(f"{source}: column map field 'joint_constants' must be an object of name -> value.")
        csv_columns = data.get("csv_columns")
        if csv_columns is not None and (
            not isinstance(csv_columns, list) or not all(isinstance(c, str) for c in csv_columns)
        ):
            raise LogFormatError(f"{source}: column map field 'csv_columns' must be a list of column names.")
        check_cleaning_keys(data, source)
        kwargs["glitches"] = dict(data.get("glitches") or {})
        kwargs["source"] = source
        return cls(**kwargs)


def available_column_maps() -> list[str]:
    """Names of the shipped column maps."""
    return shipped_names("column_maps")


def load_column_map(name_or_path: str | Path | dict) -> ColumnMap:
    """Load a column map from a dict, a JSON file, or the name of a shipped map (see :func:`available_column_maps`)."""
    if isinstance(name_or_path, dict):
        return ColumnMap.from_dict(name_or_path)
    path = Path(name_or_path)
    if not path.is_file():
        shipped = shipped_file("column_maps", str(name_or_path))
        if shipped is None:
            raise LogFormatError(
                f"column map {str(name_or_path)!r} is neither a file nor a shipped map ({available_column_maps()})."
            )
        path = shipped
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise LogFormatError(f"{path}: column map is not valid JSON ({err}).") from err
    return ColumnMap.from_dict(data, source=str(path))
