"""Format checks shared by the readers: numbers, finite values, time stamps and one sampling rate.

They always apply (no ``data.accept`` waives them); each failure raises
:class:`~learned_actuators.data.joint_log.LogFormatError` naming the file, the field and a row.
"""

from __future__ import annotations

import numpy as np

from .joint_log import LogFormatError

__all__ = ["MIN_RUN_SAMPLES", "check_finite", "check_numeric", "check_rate", "check_time"]

MIN_RUN_SAMPLES = 10
"""Runs shorter than this many samples are rejected (too short for filtering, histories and sequences)."""


def check_numeric(values, source: str, name: str) -> np.ndarray:
    """Convert ``values`` to float64, raising on non-numeric cells (reports the first bad row)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64)
    out = np.empty(arr.shape, dtype=np.float64)
    flat_in, flat_out = arr.reshape(-1), out.reshape(-1)
    for i, v in enumerate(flat_in):
        try:
            flat_out[i] = float(v)
        except (TypeError, ValueError):
            row = i // (arr.shape[1] if arr.ndim == 2 else 1)
            what = "an empty cell" if isinstance(v, str) and not v.strip() else f"a non-numeric value {v!r}"
            raise LogFormatError(f"{source}: field '{name}' has {what} at row {row}; expected a number.") from None
    return out


def check_finite(arr: np.ndarray, source: str, name: str) -> None:
    """Raise if ``arr`` holds NaN or inf (reports the first bad row)."""
    bad = ~np.isfinite(arr)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise LogFormatError(
            f"{source}: field '{name}' has {int(bad.sum())} NaN/inf values (first at row {row}); "
            "expected finite numbers."
        )


def check_time(t: np.ndarray, source: str, name: str = "time", min_samples: int = MIN_RUN_SAMPLES) -> None:
    """Require finite, strictly increasing time stamps [s] and at least ``min_samples`` of them."""
    check_finite(t, source, name)
    if len(t) < min_samples:
        raise LogFormatError(f"{source}: run has {len(t)} samples; expected at least {min_samples}.")
    dt = np.diff(t)
    if (dt == 0).any():
        row = int(np.argmax(dt == 0)) + 1
        raise LogFormatError(f"{source}: field '{name}' has a duplicated time stamp at row {row} ({t[row]!r}).")
    if (dt < 0).any():
        row = int(np.argmax(dt < 0)) + 1
        raise LogFormatError(
            f"{source}: field '{name}' is not monotonic at row {row} ({t[row - 1]!r} -> {t[row]!r}); "
            "expected strictly increasing time stamps."
        )


def check_rate(t: np.ndarray, source: str, name: str = "time", tolerance: float = 0.25) -> float:
    """Return the median sampling period [s]; raise when the rate changes within the run.

    A run whose sampling periods deviate from the median by more than ``tolerance`` (relative) on more than 5 % of
    the samples mixes sampling rates; resample it first.
    """
    dt = np.diff(t)
    med = float(np.median(dt))
    off = np.abs(dt - med) > tolerance * med
    if off.mean() > 0.05:
        other = float(np.median(dt[off]))
        raise LogFormatError(
            f"{source}: field '{name}' mixes sampling rates (median period {med * 1e3:.3g} ms, but "
            f"{off.mean() * 100:.0f} % of the periods are near {other * 1e3:.3g} ms); expected one rate."
        )
    return med
