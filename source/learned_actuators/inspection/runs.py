"""Per-run statistics of the inspection: rate, jitter, gaps, spans, ranges, saturation, velocity lag, glitches.

Every statistic is measured on the runs as the training readers return them (after the column map's cleaning); the
time-stamp figures of a resampled run come from its source time stamps (``meta["cleaning"]``). Each problem becomes
a finding (:func:`run_findings`) that names what to change, usually a column-map key.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.cleaning import GAP_FACTOR, remove_glitches
from ..data.joint_log import JointLog
from ..data.unit_checks import smooth_derivative

__all__ = ["GLITCH_MIN", "SATURATION_SHARE", "run_findings", "run_stats", "valid_spans", "velocity_lag"]

GLITCH_MIN = 0.2
"""Least glitch size [rad] the inspection looks for in the position."""

GLITCH_FACTOR = 4.0
"""The inspection's glitch threshold: this many times the 99th percentile of the position change per sample."""

SATURATION_SHARE = 0.05
"""A signal sitting on a plateau at its extreme on more than this share of the frames looks clipped."""

MIN_LAG_CORRELATION = 0.5
"""The velocity lag is reported only when velocity and d(position)/dt correlate this well at the best lag."""


def valid_spans(log: JointLog) -> list[list[float]]:
    """``[start, stop]`` times [s] of the contiguous valid stretches of a run."""
    valid = np.ones(len(log), dtype=bool) if log.valid is None else log.valid
    edges = np.flatnonzero(np.diff(np.concatenate([[0], valid.astype(np.int8), [0]])))
    return [[float(log.t[a]), float(log.t[b - 1])] for a, b in zip(edges[::2], edges[1::2], strict=True)]


def velocity_lag(t: np.ndarray, q: np.ndarray, qd: np.ndarray, max_lag_s: float = 0.1) -> tuple[float, float] | None:
    """How much the velocity lags d(position)/dt [s] (best cross-correlation lag, parabola-refined) and that peak.

    Positive: the velocity comes late. None when the two do not correlate (> :data:`MIN_LAG_CORRELATION`).
    """
    dt = float(np.median(np.diff(t)))
    deriv = smooth_derivative(t, q[:, None])[:, 0]
    n, k = len(t), max(1, min(round(max_lag_s / dt), len(t) // 4))
    corr = np.full(2 * k + 1, -1.0)
    for i, lag in enumerate(range(-k, k + 1)):
        x, y = qd[max(lag, 0) : n + min(lag, 0)], deriv[max(-lag, 0) : n + min(-lag, 0)]
        if len(x) > 3 and x.std() > 0 and y.std() > 0:
            corr[i] = float(np.corrcoef(x, y)[0, 1])
    best = int(np.argmax(corr))
    if corr[best] < MIN_LAG_CORRELATION:
        return None
    shift = 0.0
    if 0 < best < 2 * k:
        a, b, c = corr[best - 1], corr[best], corr[best + 1]
        denom = a - 2 * b + c
        shift = 0.5 * (a - c) / denom if denom < 0 else 0.0
    return (best - k + shift) * dt, float(corr[best])


def _time_stats(log: JointLog) -> dict[str, Any]:
    dt = np.diff(log.t)
    med = float(np.median(dt))
    out = {
        "rate_hz": 1.0 / med,
        "step_ms": [float(v) * 1e3 for v in np.percentile(dt, [1, 50, 99, 100])],
        "jitter_ms": float(np.std(dt)) * 1e3,
        "gaps": int((dt > GAP_FACTOR * med).sum()),
    }
    src = log.meta.get("cleaning", {})
    if "source_step_ms" in src:  # resampled: the source time stamps tell the log's own rate and jitter
        out["source_timestamps"] = {"rate_hz": src["source_rate_hz"], "step_ms": src["source_step_ms"]}
        out["gaps_source_frames"] = src.get("frames_in_gaps", 0)
    return out


def _plateau_share(x: np.ndarray) -> float:
    """Share of frames on a flat stretch (>= 3 equal frames) within 1 % of the range from the column's extreme."""
    span = float(np.ptp(x))
    if span <= 0:
        return 0.0
    near = (x >= x.max() - 0.01 * span) | (x <= x.min() + 0.01 * span)
    flat = np.zeros(len(x), dtype=bool)
    same = np.abs(np.diff(x)) <= 1e-9 * max(1.0, float(np.abs(x).max()))
    run = same[:-1] & same[1:]
    flat[1:-1] |= run
    flat[:-2] |= run
    flat[2:] |= run
    return float((near & flat).mean())


def _saturation(log: JointLog) -> dict[str, float]:
    """Share of valid frames where the torque label / commanded torque is clipped (at ``effort_limit`` or a plateau)."""
    valid = np.ones(len(log), dtype=bool) if log.valid is None else log.valid
    out = {}
    for name, arr in (("torque", log.tau), *((k, log.channels.get(k)) for k in ("tau_cmd", "tau_motor"))):
        if arr is None or not valid.any():
            continue
        x = arr[valid, 0]
        limit = log.meta.get("effort_limit")
        out[name] = float((np.abs(x) >= 0.98 * limit).mean()) if limit else _plateau_share(x)
    return out


def glitch_threshold(q: np.ndarray) -> float:
    """The inspection's position glitch threshold [rad] (:data:`GLITCH_FACTOR`, at least :data:`GLITCH_MIN`)."""
    step = np.abs(np.diff(q))
    return max(GLITCH_MIN, GLITCH_FACTOR * float(np.percentile(step, 99)) if len(step) else 0.0)


def run_stats(log: JointLog) -> dict[str, Any]:
    """Statistics of one single-joint run (see the module docstring)."""
    q, qd = log.q[:, 0], log.qd[:, 0]
    valid = np.ones(len(log), dtype=bool) if log.valid is None else log.valid
    ranges = {
        "position": [float(q.min()), float(q.max())],
        "target": [float(log.q_target.min()), float(log.q_target.max())],
    }
    ranges["velocity"] = [float(qd.min()), float(qd.max())]
    if log.tau is not None:
        ranges["torque"] = [float(log.tau.min()), float(log.tau.max())]
    thr = glitch_threshold(q)
    q_clean, found = remove_glitches(log.t, q, thr)
    lag = velocity_lag(log.t, q_clean, qd)
    cleaning = log.meta.get("cleaning", {})
    return {
        "name": log.name,
        "source": log.source,
        "joint": log.joint_names[0],
        "group": str(log.meta.get("group", "")),
        "frames": len(log),
        "duration_s": float(log.t[-1] - log.t[0]),
        **_time_stats(log),
        "valid_share": float(valid.mean()),
        "valid_spans_s": valid_spans(log),
        "ranges": ranges,
        "saturation": _saturation(log),
        "velocity_lag_ms": None if lag is None else lag[0] * 1e3,
        "velocity_lag_corr": None if lag is None else lag[1],
        "velocity_lag_applied_ms": _applied_lag_ms(log),
        "glitches": {"threshold_rad": thr, "found": found, "replaced": cleaning.get("glitches_replaced", {})},
        "torque_label": log.meta.get("torque_label", "logged" if log.tau is not None else None),
    }


def _applied_lag_ms(log: JointLog) -> float | None:
    lag = log.meta.get("velocity_lag_s")
    return None if lag is None else float(lag) * 1e3


def run_findings(s: dict[str, Any]) -> list[dict[str, str]]:
    """Findings of one run's statistics: ``{"level", "run", "what", "fix"}`` each."""
    out = []

    def add(level: str, what: str, fix: str) -> None:
        out.append({"level": level, "run": s["name"], "what": what, "fix": fix})

    src = s.get("source_timestamps", {"step_ms": s["step_ms"], "rate_hz": s["rate_hz"]})
    p1, med, p99, top = src["step_ms"]
    if "source_timestamps" not in s and (p99 - p1) > 0.25 * med:
        add(
            "warning",
            f"irregular time stamps: steps {p1:.3g}-{p99:.3g} ms (1-99 %), median {med:.3g} ms",
            f'set "resample_hz" (e.g. {1e3 / med:.0f}) in the column map to resample uniformly',
        )
    if s["gaps"] or s.get("gaps_source_frames"):
        add(
            "warning",
            f"time gaps: longest step {top:.3g} ms ({top / med:.3g}x the median)",
            'frames in gaps are marked invalid after resampling; set "resample_max_gap_s" to change what is a gap',
        )
    lag = s["velocity_lag_ms"]
    if lag is not None and abs(lag) > max(5.0, 0.5 * s["step_ms"][1]):
        applied = s["velocity_lag_applied_ms"] or 0.0
        add(
            "warning",
            f"the velocity lags d(position)/dt by {lag:.3g} ms (correlation {s['velocity_lag_corr']:.2f})",
            f'set "velocity": {{"lag_s": {(applied + lag) / 1e3:.3g}}} in the column map',
        )
    if s["glitches"]["found"]:
        add(
            "warning",
            f"{s['glitches']['found']} one-sample position glitch(es) over {s['glitches']['threshold_rad']:.3g} rad",
            f'set "glitches": {{"position": {s["glitches"]["threshold_rad"]:.2g}}} in the column map',
        )
    for name, share in s["saturation"].items():
        if share > SATURATION_SHARE:
            add(
                "warning",
                f"the {name} sits on a plateau at its extreme on {share:.0%} of the frames (clipped or saturated)",
                'mark those frames invalid (column map "valid") or lower the excitation amplitude',
            )
    if s["valid_share"] < 0.5:
        add(
            "info",
            f"only {s['valid_share']:.0%} of the frames are valid (e.g. torque disabled)",
            'check the column map\'s "valid" column; invalid frames are skipped by training and metrics',
        )
    return out
