"""Log files opened as column tables, one reader per column-map format (CSV, JSON, NPZ, SAGE, wtw, LeRobot, ROS 2...).

:func:`open_log` opens one run as a :class:`LogTable` (column name -> array, metadata keys, joint names per
column); :func:`episode_tables` opens every episode of a LeRobot dataset. What each format holds is
:data:`~learned_actuators.data.column_map_cfg.FORMAT_DOCS`; the column map then picks the columns
(:mod:`~learned_actuators.data.column_map`).
"""

from __future__ import annotations

import ast
import io
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .column_map_cfg import ColumnMap
from .joint_log import LogFormatError
from .npz_file import load_npz_arrays

__all__ = ["LogTable", "episode_tables", "open_log"]


class LogTable:
    """Column access to one opened log: ``column(name) -> ndarray`` and ``meta(key)``."""

    def __init__(
        self,
        source: str,
        columns: dict[str, Any],
        meta: dict[str, Any],
        missing: dict[str, str] | None = None,
        names: dict[str, list[str]] | None = None,
    ):
        self.source, self._columns, self._meta = source, columns, meta
        self.names = names or {}
        """Column -> joint names the file gives for its (T, J) values (LeRobot features, ROS JointState)."""
        self._missing = missing or {}
        """Column -> why it cannot be read (e.g. a JSON record lacking the key); raised only when the map uses it."""

    def column(self, name: str, cmap: ColumnMap, what: str) -> np.ndarray:
        """The values of column ``name`` as stored; errors name the map and ``what`` it reads the column for."""
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
        """The metadata value at ``key`` (a dotted path into nested dicts, e.g. a wtw config entry)."""
        node: Any = self._meta
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise LogFormatError(f"{self.source}: column map '{cmap.name}' expects metadata key '{key}'.")
            node = node[part]
        return node


def _open_csv(path: Path, names: list[str] | None = None) -> LogTable:
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
    return LogTable(str(path), {c: df[c].to_numpy() for c in df.columns}, {})


def _open_json(path: Path, cmap: ColumnMap) -> LogTable:
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
    return LogTable(str(path), columns, meta, missing=missing)


def _open_npz(path: Path) -> LogTable:
    arrays = load_npz_arrays(path)
    columns = {k: v for k, v in arrays.items() if v.ndim >= 1}
    meta = {k: v.item() for k, v in arrays.items() if v.ndim == 0}
    return LogTable(str(path), columns, meta)


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


def _open_sage(folder: Path) -> LogTable:
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
    return LogTable(str(folder), columns, {"folder": folder.name})


class _CpuUnpickler(pickle.Unpickler):
    """Unpickler mapping torch tensors saved on CUDA to the CPU (walk-these-ways logs hold CUDA tensors)."""

    def find_class(self, module, name):
        if module == "torch.storage" and name == "_load_from_bytes":
            import torch

            return lambda b: torch.load(io.BytesIO(b), map_location="cpu", weights_only=False)
        return super().find_class(module, name)


def _open_wtw_pickle(path: Path) -> LogTable:
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
    return LogTable(str(path), columns, cfg if isinstance(cfg, dict) else {})


def _used_columns(cmap: ColumnMap) -> list[str]:
    """Every column the map reads, the position column(s) first."""
    fms = [cmap.position, cmap.target, cmap.velocity, cmap.time, cmap.torque, *cmap.channels.values()]
    cols = [c for fm in fms if fm is not None for c in (fm.column if isinstance(fm.column, list) else [fm.column])]
    cols += [cmap.valid] if cmap.valid else []
    return list(dict.fromkeys(cols))


def _open_messages(path: Path, cmap: ColumnMap) -> LogTable:
    from .message_logs import read_mcap, read_ros2_bag

    if cmap.format == "mcap" and not path.is_file():
        raise LogFormatError(f"{path}: file not found.")
    if cmap.format == "ros2_bag" and not path.is_dir():
        raise LogFormatError(f"{path}: not a ROS 2 bag folder (metadata.yaml and its storage files).")
    read = read_mcap if cmap.format == "mcap" else read_ros2_bag
    table = read(path, _used_columns(cmap))
    return LogTable(str(path), table.columns, table.meta, names=table.names)


def episode_tables(path: Path, cmap: ColumnMap) -> list[tuple[str, LogTable]]:
    """LeRobot episodes of a dataset folder or parquet file, as (run name, table)."""
    from .lerobot import read_episodes

    pattern = "data/**/*.parquet" if cmap.file_glob == "*" else cmap.file_glob
    return [(e.name, LogTable(e.source, e.columns, e.meta, names=e.names)) for e in read_episodes(path, pattern)]


def open_log(path: Path, cmap: ColumnMap) -> LogTable:
    """Open one run (file, or folder for ``sage_csv``/``ros2_bag``/a one-episode LeRobot set) in the map's format."""
    if cmap.format == "sage_csv":
        return _open_sage(path)
    if cmap.format in ("mcap", "ros2_bag"):
        return _open_messages(path, cmap)
    if cmap.format == "lerobot":
        episodes = episode_tables(path, cmap)
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
