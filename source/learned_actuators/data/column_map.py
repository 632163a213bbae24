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
(``tau_cmd``: the logged PD or commanded torque; ``kp``/``kd``: gain columns) and ``csv_columns`` the column names of
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

import ast
import dataclasses
import io
import json
import pickle
import warnings
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import shipped_file, shipped_names
from .checks import (
    MIN_RUN_SAMPLES,
    check_angle_units,
    check_declared_rate,
    check_finite,
    check_numeric,
    check_outliers,
    check_rate,
    check_target_scale,
    check_time,
    check_time_gaps,
    check_time_unit,
    check_velocity_scale,
    validate_accept,
)
from .cleaning import check_cleaning_keys, clean_run
from .inverse_dynamics import inverse_dynamics_torque, shift_signal
from .joint_log import JointLog, LogFormatError
from .joint_meta import CHANNELS, add_joint_constants, read_side_file

__all__ = [
    "ColumnMap",
    "FieldMap",
    "available_column_maps",
    "load_column_map",
    "read_mapped_folder",
    "read_mapped_log",
]

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
    """Unit of the stored values: s/ms/us/ns, rad/deg, rad/s/deg/s, N·m, A; converted to SI on reading."""
    scale: float = 1.0
    """Extra factor applied after the unit conversion (e.g. a torque constant [N·m/A] for a current)."""
    lag_s: float = 0.0
    """How much this signal lags the true motion [s]; the reader advances it by this much."""

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
    """How to read one log format (see the module docstring)."""

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
    ``kd`` (per-step gains; a gain constant over a run also sets that joint's ``meta["kp"]``/``["kd"]``)."""
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


# ----------------------------------------------------------------------------------------------------- file tables


class _Table:
    """Column access to one opened log: ``column(name) -> ndarray`` and ``meta(key)``."""

    def __init__(
        self,
        source: str,
        columns: dict[str, Any],
        meta: dict[str, Any],
        length: int | None = None,
        missing: dict[str, str] | None = None,
        names: dict[str, list[str]] | None = None,
    ):
        self.source, self._columns, self._meta, self.length = source, columns, meta, length
        self.names = names or {}
        """Column -> joint names the file gives for its (T, J) values (LeRobot features, ROS JointState)."""
        self._missing = missing or {}
        """Column -> why it cannot be read (e.g. a JSON record lacking the key); raised only when the map uses it."""

    def column(self, name: str, cmap: ColumnMap, what: str) -> np.ndarray:
        if name in self._missing:
            raise LogFormatError(
                f"{self.source}: {self._missing[name]} (column map '{cmap.name}' reads it for {what})."
            )
        if name not in self._columns:
            avail = sorted(self._columns)
            raise LogFormatError(
                f"{self.source}: column map '{cmap.name}' expects column '{name}' for {what}, but the file has "
                f"{avail[:30]}{' ...' if len(avail) > 30 else ''}."
            )
        return self._columns[name]

    def meta(self, key: str, cmap: ColumnMap) -> Any:
        node: Any = self._meta
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise LogFormatError(f"{self.source}: column map '{cmap.name}' expects metadata key '{key}'.")
            node = node[part]
        return node


def _open_csv(path: Path, names: list[str] | None = None) -> _Table:
    try:
        df = pd.read_csv(path, keep_default_na=False, header=None if names else "infer")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise LogFormatError(f"{path}: not a readable CSV file ({err}).") from err
    if names:
        if df.shape[1] != len(names):
            raise LogFormatError(
                f"{path}: has {df.shape[1]} columns per row; the column map's 'csv_columns' names {len(names)} "
                f"({names}); expected equal."
            )
        df.columns = names
    if len(df) == 0:
        raise LogFormatError(
            f"{path}: has a header ({list(df.columns)[:30]}) but no data rows; expected one row per sample."
        )
    return _Table(str(path), {c: df[c].to_numpy() for c in df.columns}, {})


def _open_json(path: Path, cmap: ColumnMap) -> _Table:
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise LogFormatError(f"{path}: not valid JSON ({err}).") from err
    meta = data if isinstance(data, dict) else {}
    records = data
    if cmap.records is not None:
        if not isinstance(data, dict) or cmap.records not in data:
            raise LogFormatError(f"{path}: column map '{cmap.name}' expects a top-level key '{cmap.records}'.")
        records = data[cmap.records]
    where = f"'{cmap.records}'" if cmap.records is not None else "the top level"
    missing: dict[str, str] = {}
    if isinstance(records, list):
        if not records:
            raise LogFormatError(f"{path}: the list of per-sample records under {where} is empty.")
        for i, r in enumerate(records):
            if not isinstance(r, dict):
                raise LogFormatError(f"{path}: record {i} under {where} is {type(r).__name__}; expected an object.")
        keys = dict.fromkeys(k for r in records for k in r)
        columns = {}
        for k in keys:
            lacking = next((i for i, r in enumerate(records) if k not in r), None)
            if lacking is None:
                columns[k] = np.array([r[k] for r in records], dtype=object)
            else:
                missing[k] = f"record {lacking} (row {lacking}) under {where} lacks key '{k}' that other records have"
    elif isinstance(records, dict):
        columns = {k: np.asarray(v, dtype=object) for k, v in records.items() if isinstance(v, list)}
    else:
        raise LogFormatError(f"{path}: expected records (a list of objects or a dict of columns).")
    return _Table(str(path), columns, meta, missing=missing)


def _open_npz(path: Path) -> _Table:
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise LogFormatError(f"{path}: holds a single array, not an NPZ archive of named arrays.")
        with npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        if isinstance(err, LogFormatError):
            raise
        raise LogFormatError(f"{path}: not a readable NPZ file (truncated or damaged? {err}).") from err
    columns = {k: v for k, v in arrays.items() if v.ndim >= 1}
    meta = {k: v.item() for k, v in arrays.items() if v.ndim == 0}
    return _Table(str(path), columns, meta)


def _parse_list(text: str) -> list:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return ast.literal_eval(text)


def _parse_list_column(values: np.ndarray, source: str, name: str) -> np.ndarray:
    rows = []
    for i, v in enumerate(values):
        try:
            rows.append([float(x) for x in _parse_list(v)] if isinstance(v, str) else [float(v)])
        except (ValueError, SyntaxError, TypeError) as err:
            raise LogFormatError(f"{source}: column '{name}' row {i} is {v!r}; expected a list of numbers.") from err
    lengths = {len(r) for r in rows}
    if len(lengths) != 1:
        raise LogFormatError(f"{source}: column '{name}' has rows of different lengths {sorted(lengths)}.")
    return np.asarray(rows, dtype=np.float64)


def _open_sage(folder: Path) -> _Table:
    if not folder.is_dir():
        raise LogFormatError(f"{folder}: expected a motion folder holding control.csv and state_motor.csv.")
    columns = {}
    for csv in sorted(folder.glob("*.csv")):
        if csv.name == "event.csv":
            continue
        df = _open_csv(csv)
        for name, values in df._columns.items():
            if name == "type":
                continue
            key = f"{csv.name}:{name}"
            columns[key] = _parse_list_column(values, str(csv), name) if values.dtype == object else values
    return _Table(str(folder), columns, {"folder": folder.name})


class _CpuUnpickler(pickle.Unpickler):
    """Unpickler mapping torch tensors saved on CUDA to the CPU (walk-these-ways logs hold CUDA tensors)."""

    def find_class(self, module, name):
        if module == "torch.storage" and name == "_load_from_bytes":
            import torch

            return lambda b: torch.load(io.BytesIO(b), map_location="cpu", weights_only=False)
        return super().find_class(module, name)


def _open_wtw_pickle(path: Path) -> _Table:
    try:
        with path.open("rb") as f:
            data = _CpuUnpickler(f).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as err:
        raise LogFormatError(f"{path}: not a readable walk-these-ways log pickle ({err}).") from err
    if not isinstance(data, dict) or not data:
        raise LogFormatError(f"{path}: expected a dict {{label: [cfg, steps]}} (walk-these-ways logger layout).")
    cfg, steps = next(iter(data.values()))
    if not steps:
        raise LogFormatError(f"{path}: the log holds no steps.")
    columns = {}
    for key, value in steps[0].items():
        if value is None or isinstance(value, dict):
            continue
        try:
            columns[key] = np.stack([np.asarray(s[key], dtype=np.float64).reshape(-1) for s in steps])
        except (TypeError, ValueError):
            continue
    for key in list(columns):
        if columns[key].shape[1] == 1:
            columns[key] = columns[key][:, 0]
    return _Table(str(path), columns, cfg if isinstance(cfg, dict) else {})


def _used_columns(cmap: ColumnMap) -> list[str]:
    """Every column the map reads, the position column(s) first."""
    fms = [cmap.position, cmap.target, cmap.velocity, cmap.time, cmap.torque, *cmap.channels.values()]
    cols = [c for fm in fms if fm is not None for c in (fm.column if isinstance(fm.column, list) else [fm.column])]
    cols += [cmap.valid] if cmap.valid else []
    return list(dict.fromkeys(cols))


def _open_messages(path: Path, cmap: ColumnMap) -> _Table:
    from .message_logs import read_mcap, read_ros2_bag

    if cmap.format == "mcap" and not path.is_file():
        raise LogFormatError(f"{path}: file not found.")
    if cmap.format == "ros2_bag" and not path.is_dir():
        raise LogFormatError(f"{path}: not a ROS 2 bag folder (metadata.yaml and its storage files).")
    read = read_mcap if cmap.format == "mcap" else read_ros2_bag
    table = read(path, _used_columns(cmap))
    return _Table(str(path), table.columns, table.meta, names=table.names)


def _episode_tables(path: Path, cmap: ColumnMap) -> list[tuple[str, _Table]]:
    """LeRobot episodes of a dataset folder or parquet file, as (run name, table)."""
    from .lerobot import read_episodes

    pattern = "data/**/*.parquet" if cmap.file_glob == "*" else cmap.file_glob
    return [(e.name, _Table(e.source, e.columns, e.meta, names=e.names)) for e in read_episodes(path, pattern)]


def _open(path: Path, cmap: ColumnMap) -> _Table:
    if cmap.format == "sage_csv":
        return _open_sage(path)
    if cmap.format in ("mcap", "ros2_bag"):
        return _open_messages(path, cmap)
    if cmap.format == "lerobot":
        episodes = _episode_tables(path, cmap)
        if len(episodes) != 1:
            raise LogFormatError(
                f"{path}: holds {len(episodes)} LeRobot episodes; read the dataset folder (read_mapped_folder, "
                "data.path) to get one run per episode."
            )
        return episodes[0][1]
    if not path.is_file():
        raise LogFormatError(f"{path}: file not found.")
    if cmap.format == "csv":
        return _open_csv(path, cmap.csv_columns)
    if cmap.format == "json":
        return _open_json(path, cmap)
    if cmap.format == "npz":
        return _open_npz(path)
    return _open_wtw_pickle(path)


# ------------------------------------------------------------------------------------------------------- reading


def _field(table: _Table, fm: FieldMap, cmap: ColumnMap, what: str) -> np.ndarray:
    cols = fm.column if isinstance(fm.column, list) else [fm.column]
    parts = []
    for c in cols:
        arr = table.column(c, cmap, what)
        arr = check_numeric(arr, table.source, c)
        if arr.ndim == 0 or arr.ndim > 2:
            raise LogFormatError(
                f"{table.source}: column '{c}' ({what}) has shape {arr.shape}; expected one value per row, "
                "(T,) or (T, J)."
            )
        arr = arr if arr.ndim == 2 else arr[:, None]
        if parts and arr.shape[0] != parts[0].shape[0]:
            raise LogFormatError(
                f"{table.source}: column '{c}' ({what}) has {arr.shape[0]} rows, column '{cols[0]}' has "
                f"{parts[0].shape[0]}; expected equal (a truncated or misaligned column)."
            )
        parts.append(arr)
    out = np.concatenate(parts, axis=1) * fm.factor
    check_finite(out, table.source, str(fm.column))
    return out


def _joint_names(cmap: ColumnMap, path: Path, num: int, table: _Table) -> list[str]:
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


def _labels(fm: FieldMap, num: int) -> list[str]:
    """One column label per joint, for error messages."""
    if isinstance(fm.column, list):
        return list(fm.column)
    return [fm.column] if num == 1 else [f"{fm.column}[:, {j}]" for j in range(num)]


def _check_rows(source: str, fm: FieldMap, what: str, arr: np.ndarray, position: FieldMap, n: int) -> None:
    if arr.shape[0] != n:
        raise LogFormatError(
            f"{source}: column '{fm.column}' ({what}) has {arr.shape[0]} rows, column '{position.column}' (position) "
            f"has {n}; expected equal (a truncated or misaligned column)."
        )


def _with_side_file(cmap: ColumnMap, path: Path) -> tuple[ColumnMap, Path, dict | None]:
    """The map with the log's metadata side file applied (its keys override the map's), the side file and its data."""
    side_path, side = read_side_file(path, cmap.meta_file)
    if not side:
        return cmap, side_path, side
    keys = ("rate_hz", "joint_names", "resample_hz", "resample_max_gap_s", "glitches")
    changes = {k: side[k] for k in keys if k in side}
    changes["constants"] = {**cmap.constants, **side.get("constants", {})}
    return dataclasses.replace(cmap, **changes), side_path, side


def _read_time(table: _Table, cmap: ColumnMap, n: int, side_path: Path) -> tuple[np.ndarray, str]:
    """Time stamps [s] from 0 and the name of their source (time column or ``rate_hz``)."""
    if cmap.time is not None:
        t = _field(table, cmap.time, cmap, "time")
        _check_rows(table.source, cmap.time, "time", t, cmap.position, n)
        return t[:, 0] - t[0, 0], str(cmap.time.column)
    if cmap.rate_hz is None:
        raise LogFormatError(
            f"{table.source}: column map '{cmap.name}' ({cmap.source}) has no 'time' column and no 'rate_hz', and "
            f"no metadata side file {side_path} gives 'rate_hz'; expected one of them (e.g. {{\"rate_hz\": 100}})."
        )
    return np.arange(n) / float(cmap.rate_hz), "rate_hz"


def _read_channels(table: _Table, cmap: ColumnMap, n: int, num_joints: int) -> dict[str, np.ndarray]:
    out = {}
    for name, fm in cmap.channels.items():
        arr = _field(table, fm, cmap, f"channel '{name}'")
        _check_rows(table.source, fm, f"channel '{name}'", arr, cmap.position, n)
        if arr.shape[1] != num_joints:
            raise LogFormatError(
                f"{table.source}: column '{fm.column}' (channel '{name}') has {arr.shape[1]} joint(s), column "
                f"'{cmap.position.column}' (position) {num_joints}; expected equal."
            )
        out[name] = arr
    return out


def _metadata(table: _Table, cmap: ColumnMap, names: list[str], side: tuple[Path, dict | None], channels) -> dict:
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
    return _read_table(_open(path, cmap), cmap, path, accept)


def _read_table(table: _Table, cmap: ColumnMap, path: Path, accept, name: str | None = None) -> JointLog:
    """One run from an opened table (:func:`read_mapped_log`); ``name``: the run's name (default: from ``path``)."""
    cmap, side_path, side = _with_side_file(cmap, path)
    source = table.source
    q = _field(table, cmap.position, cmap, "position")
    n = q.shape[0]
    if n == 0:
        raise LogFormatError(
            f"{source}: column '{cmap.position.column}' (position) has no rows; expected at least {cmap.min_samples}."
        )
    q_target = _field(table, cmap.target, cmap, "target")
    _check_rows(source, cmap.target, "target", q_target, cmap.position, n)
    if q_target.shape != q.shape:
        raise LogFormatError(
            f"{source}: column '{cmap.target.column}' (target) has {q_target.shape[1]} joint(s), column "
            f"'{cmap.position.column}' (position) {q.shape[1]}; expected equal."
        )
    t, time_name = _read_time(table, cmap, n, side_path)
    check_time(t, source, time_name, cmap.min_samples)
    check_time_gaps(t, source, time_name, accept)
    check_time_unit(t, source, time_name, cmap.time.unit if cmap.time else "Hz", accept)
    valid = np.ones(n, dtype=bool)
    if cmap.valid is not None:
        flags = check_numeric(table.column(cmap.valid, cmap, "valid"), source, cmap.valid)
        if flags.shape[0] != n:
            raise LogFormatError(
                f"{source}: column '{cmap.valid}' (valid) has {flags.shape[0]} rows, column "
                f"'{cmap.position.column}' (position) has {n}; expected equal."
            )
        valid = np.asarray(flags != 0).reshape(n, -1).all(axis=1)
    pos_labels, target_labels = _labels(cmap.position, q.shape[1]), _labels(cmap.target, q.shape[1])
    check_outliers(q, source, pos_labels, "angle", accept)
    check_outliers(q_target, source, target_labels, "angle", accept)
    qd_logged = None
    if cmap.velocity is not None:
        qd_logged = _field(table, cmap.velocity, cmap, "velocity")
        _check_rows(source, cmap.velocity, "velocity", qd_logged, cmap.position, n)
        check_outliers(qd_logged, source, _labels(cmap.velocity, q.shape[1]), "speed", accept)
    tau = None
    if cmap.torque is not None:
        tau = _field(table, cmap.torque, cmap, "torque")
        _check_rows(source, cmap.torque, "torque", tau, cmap.position, n)
        check_outliers(tau, source, _labels(cmap.torque, tau.shape[1]), "torque", accept)
    channels = _read_channels(table, cmap, n, q.shape[1])
    t, (q, q_target, qd_logged, tau), channels, valid, cleaning = _clean(
        t, (q, q_target, qd_logged, tau), channels, valid, cmap, source
    )
    dt = _check_rate(t, source, time_name, cmap)
    check_angle_units(q, source, pos_labels, "angle", accept)
    check_angle_units(q_target, source, target_labels, "angle", accept)
    if qd_logged is not None:
        vel_labels = _labels(cmap.velocity, q.shape[1])
        check_angle_units(qd_logged, source, vel_labels, "speed", accept)
        check_velocity_scale(
            t, q, qd_logged, source, pos_labels, vel_labels, accept, (cmap.position.unit, cmap.velocity.unit)
        )
        if cmap.time is None:
            where = f"side file {side_path}" if side and "rate_hz" in side else f"column map {cmap.source}"
            check_declared_rate(t, q, qd_logged, source, pos_labels, vel_labels, f"'rate_hz' of the {where}", accept)
    check_target_scale(
        t, q, q_target, source, pos_labels, target_labels, accept, (cmap.position.unit, cmap.target.unit)
    )
    if qd_logged is not None:
        qd = qd_logged
        if cmap.velocity.lag_s:
            steps = round(cmap.velocity.lag_s / dt)
            qd, ok = shift_signal(qd, steps)
            valid &= ok
    else:
        qd = np.gradient(q, t, axis=0)
    names = _joint_names(cmap, path, q.shape[1], table)
    meta = _metadata(table, cmap, names, (side_path, side), channels)
    if cleaning:
        meta["cleaning"] = cleaning
    if cmap.velocity is not None and cmap.velocity.lag_s:
        meta["velocity_lag_s"] = cmap.velocity.lag_s
    if tau is None and ("inertia" in meta or "mass" in meta):
        tau = _inverse_dynamics(t, q, qd, meta, cmap)
    return JointLog(
        name=name or (path.stem if path.stem != "log" else path.parent.name),
        source=source,
        t=t,
        q=q,
        q_target=q_target,
        qd=qd,
        tau=tau,
        joint_names=names,
        valid=None if valid.all() else valid,
        meta=meta,
        channels=channels,
    )


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


def _clean(t, fields_, channels: dict, valid, cmap: ColumnMap, source: str):
    """Glitch removal and resampling of the map (:func:`~learned_actuators.data.cleaning.clean_run`)."""
    if not cmap.glitches and cmap.resample_hz is None:
        return t, fields_, channels, valid, {}
    names = ("position", "target", "velocity", "torque")
    signals = dict(zip(names, fields_, strict=True)) | {f"channels.{k}": v for k, v in channels.items()}
    t, signals, valid, record = clean_run(
        t, signals, valid, cmap.glitches, cmap.resample_hz, cmap.resample_max_gap_s, source
    )
    channels = {k: signals[f"channels.{k}"] for k in channels}
    return t, tuple(signals[k] for k in names), channels, valid, record


def _inverse_dynamics(t, q, qd, meta: dict, cmap: ColumnMap) -> np.ndarray:
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
        logs = [_read_table(table, cmap, folder, accept, name) for name, table in _episode_tables(folder, cmap)]
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
    if any(log.tau is None for log in logs) and any(log.tau is not None for log in logs):
        warnings.warn(f"{folder}: some runs have torque labels and some do not.", stacklevel=3)
    return logs
