"""Cleaning of column-mapped logs before training and validation: glitch removal and uniform resampling.

Both are column-map keys (and metadata side-file keys, per log), applied by the reader
(:func:`~learned_actuators.data.column_map.read_mapped_log`) after the unit conversion and the time-stamp checks, in
this order:

1. **Glitch removal** (``"glitches": {"position": 0.5, "velocity": 20}``: field -> threshold X in SI units, fields
   ``position``, ``target``, ``velocity``, ``torque``). A sample is a one-sample glitch when it lies farther than X
   from the median of itself and its two neighbours (i.e. farther than X from both neighbours) while the two
   neighbours are within X of each other (the signal is back within one sample). It is replaced by the linear
   interpolation (in time) of its neighbours. The first and last samples and glitches lasting two or more samples
   are left alone. Choose X above the largest real change per sample (speed x time step) and below the glitches
   (a Feetech position read-out dropping to -pi and back: X = 0.5 rad at 50 Hz).
2. **Uniform resampling** (``"resample_hz": 50``): every signal (position, target, velocity, torque, channels) is
   linearly interpolated onto the grid ``t0 + k / resample_hz`` that spans the log. A grid frame that falls into a
   gap of the source time stamps longer than ``resample_max_gap_s`` (default :data:`GAP_FACTOR` x the median source
   step) is interpolated across the gap but marked invalid (``JointLog.valid``), as is a frame next to an invalid
   source sample; training losses and metrics skip invalid frames, runs are never cut.

The velocity lag (``velocity.lag_s``), a velocity computed from the position and inverse dynamics act on the cleaned,
resampled signals. What was done is recorded per run in ``meta["cleaning"]`` (the number of replaced samples per
field, the source and target rates, the frames in gaps); :func:`cleaning_record` gathers it for a run's
``run.json`` and the inspection page reports it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .joint_log import LogFormatError

__all__ = [
    "GAP_FACTOR",
    "GLITCH_FIELDS",
    "MAX_RESAMPLE_FACTOR",
    "check_cleaning_keys",
    "clean_run",
    "cleaning_record",
    "remove_glitches",
    "resample_uniform",
]

GLITCH_FIELDS = ("position", "target", "velocity", "torque")
"""Fields whose one-sample glitches ``glitches`` may remove."""

GAP_FACTOR = 2.5
"""Default ``resample_max_gap_s``: a source time step longer than this many median steps is a gap."""

MAX_RESAMPLE_FACTOR = 10.0
"""``resample_hz`` more than this factor above or below the log's own rate is refused (a unit mix-up?)."""


def _positive(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def check_cleaning_keys(data: dict[str, Any], source: str) -> None:
    """Raise :class:`LogFormatError` naming ``source`` and the key when a cleaning key has a bad value."""
    for key in ("resample_hz", "resample_max_gap_s"):
        value = data.get(key)
        if value is not None and not _positive(value):
            raise LogFormatError(f"{source}: field '{key}' is {value!r}; expected a positive number.")
    if data.get("resample_max_gap_s") is not None and data.get("resample_hz") is None:
        raise LogFormatError(f"{source}: field 'resample_max_gap_s' applies only with 'resample_hz'; give both.")
    glitches = data.get("glitches") or {}
    if not isinstance(glitches, dict):
        raise LogFormatError(
            f"{source}: field 'glitches' is {glitches!r}; expected an object field -> threshold, e.g. "
            '{"position": 0.5} (fields: ' + ", ".join(GLITCH_FIELDS) + ")."
        )
    for name, value in glitches.items():
        if name not in GLITCH_FIELDS:
            raise LogFormatError(f"{source}: field 'glitches.{name}': unknown field; expected {list(GLITCH_FIELDS)}.")
        if not _positive(value):
            raise LogFormatError(
                f"{source}: field 'glitches.{name}' is {value!r}; expected a positive threshold in SI units."
            )


def remove_glitches(t: np.ndarray, x: np.ndarray, threshold: float) -> tuple[np.ndarray, int]:
    """Replace one-sample glitches of ``x`` (T,) or (T, J) by the interpolation of their neighbours.

    Rule (module docstring): sample ``i`` is a glitch when ``|x[i] - median(x[i-1], x[i], x[i+1])| > threshold``
    and ``|x[i+1] - x[i-1]| <= threshold``.

    Returns:
        The cleaned copy and the number of replaced samples (over all columns).
    """
    out = np.array(x, dtype=np.float64, copy=True)
    if out.shape[0] < 3:
        return out, 0
    data = out if out.ndim == 2 else out[:, None]
    prev, mid, nxt = data[:-2], data[1:-1], data[2:]
    med = np.median(np.stack([prev, mid, nxt]), axis=0)
    spike = (np.abs(mid - med) > threshold) & (np.abs(nxt - prev) <= threshold)
    if not spike.any():
        return out, 0
    w = ((t[1:-1] - t[:-2]) / (t[2:] - t[:-2]))[:, None]
    interp = prev + (nxt - prev) * w
    mid[spike] = interp[spike]
    return out, int(spike.sum())


def resample_uniform(
    t: np.ndarray,
    signals: dict[str, np.ndarray | None],
    valid: np.ndarray,
    rate_hz: float,
    max_gap_s: float | None,
    source: str,
) -> tuple[np.ndarray, dict[str, np.ndarray | None], np.ndarray, dict[str, Any]]:
    """Linear interpolation of every signal onto ``t[0] + k / rate_hz`` (see the module docstring).

    Args:
        t: Source time stamps [s], strictly increasing.
        signals: Name -> (T,) or (T, J) array (None entries stay None).
        valid: Source frames usable, bool (T,).
        rate_hz: Target rate [Hz].
        max_gap_s: Longest source step interpolated as data [s] (None: :data:`GAP_FACTOR` median steps).
        source: File named in errors.

    Returns:
        ``(t_new, signals_new, valid_new, info)``; ``info`` holds ``resample_hz``, ``source_rate_hz``,
        ``source_samples``, ``source_step_ms`` (1st, 50th, 99th percentile and largest source step [ms]), ``frames``,
        ``max_gap_s`` and ``frames_in_gaps``.

    Raises:
        LogFormatError: ``rate_hz`` more than :data:`MAX_RESAMPLE_FACTOR` away from the log's rate, or a run too
            short for one grid step.
    """
    dt = np.diff(t)
    src_rate = 1.0 / float(np.median(dt))
    if not 1.0 / MAX_RESAMPLE_FACTOR <= rate_hz / src_rate <= MAX_RESAMPLE_FACTOR:
        raise LogFormatError(
            f"{source}: field 'resample_hz' is {rate_hz:g} Hz, {rate_hz / src_rate:.3g}x the log's own rate "
            f"({src_rate:.4g} Hz, median time step); expected within a factor {MAX_RESAMPLE_FACTOR:g} of it (is the "
            "time column's unit right?)."
        )
    n = int(np.floor((t[-1] - t[0]) * rate_hz + 1e-9)) + 1
    if n < 2:
        raise LogFormatError(f"{source}: run lasts {t[-1] - t[0]:.4g} s, too short to resample at {rate_hz:g} Hz.")
    grid = t[0] + np.arange(n) / rate_hz
    gap = GAP_FACTOR / src_rate if max_gap_s is None else max_gap_s
    i0 = np.clip(np.searchsorted(t, grid, side="right") - 1, 0, len(t) - 1)
    i1 = np.minimum(i0 + 1, len(t) - 1)
    exact = np.isclose(grid, t[i0], rtol=0.0, atol=1e-9)
    i1 = np.where(exact, i0, i1)
    in_gap = ~exact & (t[i1] - t[i0] > gap)
    new_valid = valid[i0] & valid[i1] & ~in_gap
    out = {name: None if arr is None else _interpolate(grid, t, arr) for name, arr in signals.items()}
    info = {
        "resample_hz": float(rate_hz),
        "source_rate_hz": round(src_rate, 4),
        "source_samples": len(t),
        "source_step_ms": [round(float(v) * 1e3, 4) for v in np.percentile(dt, [1, 50, 99, 100])],
        "frames": n,
        "max_gap_s": float(gap),
        "frames_in_gaps": int(in_gap.sum()),
    }
    return grid - grid[0], out, new_valid, info


def _interpolate(grid: np.ndarray, t: np.ndarray, arr: np.ndarray) -> np.ndarray:
    """``arr`` (T,) or (T, J) sampled at ``t``, linearly interpolated at the ``grid`` times (same number of axes)."""
    a = arr if arr.ndim == 2 else arr[:, None]
    res = np.stack([np.interp(grid, t, a[:, j]) for j in range(a.shape[1])], axis=1)
    return res if arr.ndim == 2 else res[:, 0]


def cleaning_record(logs) -> dict[str, Any]:
    """What cleaning did to each run (``meta["cleaning"]``), by run name, for a run's ``run.json``; {} if none."""
    return {log.name: log.meta["cleaning"] for log in logs if log.meta.get("cleaning")}


def clean_run(
    t: np.ndarray,
    signals: dict[str, np.ndarray | None],
    valid: np.ndarray,
    glitches: dict[str, float],
    resample_hz: float | None,
    max_gap_s: float | None,
    source: str,
) -> tuple[np.ndarray, dict[str, np.ndarray | None], np.ndarray, dict[str, Any]]:
    """Glitch removal, then resampling (module docstring); returns ``(t, signals, valid, record)``.

    ``signals`` maps names (``position``, ``target``, ``velocity``, ``torque``, ``channels.<name>``) to arrays in SI
    units; ``glitches`` maps some of those names to thresholds. ``record`` is empty when nothing was asked.
    """
    record: dict[str, Any] = {}
    signals = dict(signals)
    if glitches:
        replaced = {}
        for name, threshold in glitches.items():
            if signals.get(name) is None:
                continue
            signals[name], replaced[name] = remove_glitches(t, signals[name], float(threshold))
        record["glitch_thresholds"] = {k: float(v) for k, v in glitches.items()}
        record["glitches_replaced"] = replaced
    if resample_hz is not None:
        t, signals, valid, info = resample_uniform(t, signals, valid, float(resample_hz), max_gap_s, source)
        record.update(info)
    return t, signals, valid, record
