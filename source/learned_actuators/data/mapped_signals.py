"""The signals a column map picks from an opened log table, in SI units, with the format checks on each column.

:func:`read_signals` reads the position, target, time, valid, velocity, torque and channel columns of one run
(:class:`~learned_actuators.data.log_tables.LogTable`), converts them with their declared units, checks that every
column has the position's rows and joints, and runs the time-stamp and outlier checks; the unit plausibility
checks, cleaning and the per-run assembly follow in :mod:`~learned_actuators.data.column_map`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checks import check_finite, check_numeric, check_outliers, check_time, check_time_gaps, check_time_unit
from .column_map_cfg import ColumnMap, FieldMap
from .joint_log import LogFormatError
from .log_tables import LogTable

__all__ = ["MappedSignals", "field_labels", "read_signals"]


@dataclass
class MappedSignals:
    """The mapped signals of one run in SI units, (T, J) each (``valid``: (T,)), before the velocity is final."""

    t: np.ndarray
    """Time stamps [s] from 0, (T,)."""
    time_name: str
    """The time column, or ``rate_hz`` (named in errors)."""
    q: np.ndarray
    """Joint positions [rad]."""
    q_target: np.ndarray
    """Joint targets [rad]."""
    qd_logged: np.ndarray | None
    """The logged velocity [rad/s]; None: the velocity is d(position)/dt."""
    tau: np.ndarray | None
    """Measured torque [N·m]; None: no torque column."""
    valid: np.ndarray
    """Usable frames, bool (T,)."""
    channels: dict[str, np.ndarray]
    """Extra per-step columns by channel name (``ColumnMap.channels``)."""


def read_signals(table: LogTable, cmap: ColumnMap, side_path: Path, accept) -> MappedSignals:
    """Every mapped column, its rows and joints checked against the position's; the time and outlier checks."""
    source = table.source
    q = _field(table, cmap.position, cmap, "position")
    n = q.shape[0]
    if n == 0:
        raise LogFormatError(
            f"{source}: column '{cmap.position.column}' (position) has no rows; expected at least {cmap.min_samples}."
        )
    q_target = _mapped(table, cmap, "target", n)
    if q_target.shape != q.shape:
        raise LogFormatError(
            f"{source}: column '{cmap.target.column}' (target) has {q_target.shape[1]} joint(s), column "
            f"'{cmap.position.column}' (position) {q.shape[1]}; expected equal."
        )
    t, time_name = _read_time(table, cmap, n, side_path)
    check_time(t, source, time_name, cmap.min_samples)
    check_time_gaps(t, source, time_name, accept)
    check_time_unit(t, source, time_name, cmap.time.unit if cmap.time else "Hz", accept)
    valid = _read_valid(table, cmap, n)
    check_outliers(q, source, field_labels(cmap.position, q.shape[1]), "angle", accept)
    check_outliers(q_target, source, field_labels(cmap.target, q.shape[1]), "angle", accept)
    qd_logged = tau = None
    if cmap.velocity is not None:
        qd_logged = _mapped(table, cmap, "velocity", n)
        check_outliers(qd_logged, source, field_labels(cmap.velocity, q.shape[1]), "speed", accept)
    if cmap.torque is not None:
        tau = _mapped(table, cmap, "torque", n)
        check_outliers(tau, source, field_labels(cmap.torque, tau.shape[1]), "torque", accept)
    channels = _read_channels(table, cmap, n, q.shape[1])
    return MappedSignals(t, time_name, q, q_target, qd_logged, tau, valid, channels)


def _mapped(table: LogTable, cmap: ColumnMap, key: str, n: int) -> np.ndarray:
    """The field ``key`` of the map (``target``, ``velocity``, ``torque``), checked to have the position's n rows."""
    fm = getattr(cmap, key)
    arr = _field(table, fm, cmap, key)
    _check_rows(table.source, fm, key, arr, cmap.position, n)
    return arr


def _read_valid(table: LogTable, cmap: ColumnMap, n: int) -> np.ndarray:
    """Per-frame usability (T,) from the map's ``valid`` column (all True without one)."""
    if cmap.valid is None:
        return np.ones(n, dtype=bool)
    flags = check_numeric(table.column(cmap.valid, cmap, "valid"), table.source, cmap.valid)
    if flags.shape[0] != n:
        raise LogFormatError(
            f"{table.source}: column '{cmap.valid}' (valid) has {flags.shape[0]} rows, column "
            f"'{cmap.position.column}' (position) has {n}; expected equal."
        )
    return np.asarray(flags != 0).reshape(n, -1).all(axis=1)


def _field(table: LogTable, fm: FieldMap, cmap: ColumnMap, what: str) -> np.ndarray:
    """The (T, J) values of a field's column(s), numeric, finite and in SI units (``what`` is named in errors)."""
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
    out = np.concatenate(parts, axis=1)
    if fm.signed_bits is not None:
        out = _twos_complement(out, fm.signed_bits, f"{table.source}: column '{fm.column}' ({what})")
    out = out * fm.factor
    check_finite(out, table.source, str(fm.column))
    return out


def _twos_complement(raw: np.ndarray, bits: int, where: str) -> np.ndarray:
    """Unsigned ``bits``-bit register values as the signed values they hold (two's complement)."""
    whole = np.isfinite(raw) & (raw == np.round(raw))
    bad = ~whole | (raw < 0) | (raw >= 2.0**bits)
    if bad.any():
        first = float(raw[bad].flat[0])
        raise LogFormatError(
            f"{where}: value {first:g} is not an unsigned {bits}-bit integer (signed_bits={bits}); expected whole "
            f"values in [0, {2**bits}), as the register was read. Remove signed_bits if the column is already signed."
        )
    return np.where(raw >= 2.0 ** (bits - 1), raw - 2.0**bits, raw)


def field_labels(fm: FieldMap, num: int) -> list[str]:
    """One column label per joint, for error messages."""
    if isinstance(fm.column, list):
        return list(fm.column)
    return [fm.column] if num == 1 else [f"{fm.column}[:, {j}]" for j in range(num)]


def _check_rows(source: str, fm: FieldMap, what: str, arr: np.ndarray, position: FieldMap, n: int) -> None:
    """Raise unless ``arr`` has the position column's ``n`` rows."""
    if arr.shape[0] != n:
        raise LogFormatError(
            f"{source}: column '{fm.column}' ({what}) has {arr.shape[0]} rows, column '{position.column}' (position) "
            f"has {n}; expected equal (a truncated or misaligned column)."
        )


def _read_time(table: LogTable, cmap: ColumnMap, n: int, side_path: Path) -> tuple[np.ndarray, str]:
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


def _read_channels(table: LogTable, cmap: ColumnMap, n: int, num_joints: int) -> dict[str, np.ndarray]:
    """The map's extra per-step columns, each with the position's rows and joints."""
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
