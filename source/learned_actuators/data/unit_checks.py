"""Plausibility checks that compare columns or runs: unit mix-ups between them and wrong sampling rates.

A velocity ~57.3x (or 1/57.3x) d(position)/dt, a target ~57.3x the position, a declared rate the velocity
contradicts, runs at different rates; the names and limits are in
:data:`~learned_actuators.data.plausibility.PLAUSIBILITY_CHECKS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .joint_log import JointLog
from .plausibility import (
    DEGREE_FACTOR,
    MIN_CORRELATION,
    MIN_RATE_CORRELATION,
    MIN_SCALE_SAMPLES,
    RATE_FACTOR_BAND,
    RATE_TOLERANCE,
    UNIT_FACTOR_BAND,
    ImplausibleDataError,
    as_2d,
    column_label,
)

__all__ = [
    "check_declared_rate",
    "check_rates_consistent",
    "check_target_scale",
    "check_velocity_scale",
    "smooth_derivative",
]


def _best_lag_correlation(a: np.ndarray, b: np.ndarray, max_lag: int) -> float:
    """Largest Pearson correlation of ``a[i + lag]`` and ``b[i]`` over ``|lag| <= max_lag``."""
    best = -1.0
    n = len(a)
    for lag in range(-max_lag, max_lag + 1):
        x = a[max(lag, 0) : n + min(lag, 0)]
        y = b[max(-lag, 0) : n + min(-lag, 0)]
        if len(x) < 3:
            continue
        sx, sy = x.std(), y.std()
        if sx > 0 and sy > 0:
            best = max(best, float(np.mean((x - x.mean()) * (y - y.mean())) / (sx * sy)))
    return best


def _is_degree_factor(ratio: float) -> bool:
    return any(f / UNIT_FACTOR_BAND <= ratio <= f * UNIT_FACTOR_BAND for f in (DEGREE_FACTOR, 1 / DEGREE_FACTOR))


def smooth_derivative(t: np.ndarray, q: np.ndarray) -> np.ndarray:
    """d(q)/dt by central differences over about 20 ms (less noisy than neighbour differences)."""
    n = len(t)
    k = max(1, min(round(0.01 / max(float(np.median(np.diff(t))), 1e-12)), (n - 1) // 2))
    idx = np.arange(n)
    hi, lo = np.minimum(idx + k, n - 1), np.maximum(idx - k, 0)
    return (q[hi] - q[lo]) / (t[hi] - t[lo])[:, None]


def check_velocity_scale(
    t: np.ndarray,
    q: np.ndarray,
    qd: np.ndarray,
    source: str,
    position: Sequence[str] | str,
    velocity: Sequence[str] | str,
    accept: Iterable[str] = (),
    units: tuple[str, str] = ("rad", "rad/s"),
) -> None:
    """Raise when the velocity is ~57.3x (or 1/57.3x) d(position)/dt: a degree/radian mix-up between them.

    Compares scales (RMS over the run), not samples, so a velocity that lags the position (BAM: 20 ms) passes; the
    two must correlate (at the best lag within 0.1 s) for the ratio to count.

    Args:
        t: Time stamps [s].
        q: Positions [rad], (T,) or (T, J).
        qd: Velocities [rad/s], same shape.
        source: File named in the error.
        position: Position column name (one per joint or one for all).
        velocity: Velocity column name (one per joint or one for all).
        accept: Waived checks (``"velocity_unit"`` skips this one).
        units: Declared units of the position and velocity columns, for the message.
    """
    if "velocity_unit" in accept or len(t) < MIN_SCALE_SAMPLES:
        return
    q2, qd2 = as_2d(q), as_2d(qd)
    if q2.shape != qd2.shape or not (np.isfinite(q2).all() and np.isfinite(qd2).all()):
        return
    deriv = smooth_derivative(np.asarray(t, dtype=np.float64), q2)
    max_lag = max(1, min(round(0.1 / float(np.median(np.diff(t)))), 100, len(t) // 4))
    for j in range(q2.shape[1]):
        rms_d = float(np.sqrt(np.mean(deriv[:, j] ** 2)))
        rms_v = float(np.sqrt(np.mean(qd2[:, j] ** 2)))
        if rms_d < 1e-9 or rms_v < 1e-12:
            continue
        ratio = rms_v / rms_d
        if not _is_degree_factor(ratio):
            continue
        corr = _best_lag_correlation(qd2[:, j], deriv[:, j], max_lag)
        if corr < MIN_CORRELATION:
            continue
        row = int(np.argmax(np.abs(qd2[:, j])))
        vel_name, pos_name = column_label(velocity, j), column_label(position, j)
        raise ImplausibleDataError(
            "velocity_unit",
            f"{source}: column '{vel_name}' (declared {units[1]}) is {ratio:.3g}x d('"
            f"{pos_name}')/dt (declared {units[0]}) over the run (RMS; correlation {corr:.2f}; e.g. row "
            f"{row}: {qd2[row, j]:.4g} vs {deriv[row, j]:.4g} rad/s); a factor near {DEGREE_FACTOR:.1f} or "
            f"1/{DEGREE_FACTOR:.1f} means one is in degrees and the other in radians: fix the declared unit.",
        )


def check_target_scale(
    t: np.ndarray,
    q: np.ndarray,
    q_target: np.ndarray,
    source: str,
    position: Sequence[str] | str,
    target: Sequence[str] | str,
    accept: Iterable[str] = (),
    units: tuple[str, str] = ("rad", "rad"),
) -> None:
    """Raise when the target's range is ~57.3x (or 1/57.3x) the position's and they correlate: unit mix-up."""
    if "target_unit" in accept or len(t) < MIN_SCALE_SAMPLES:
        return
    q2, qt2 = as_2d(q), as_2d(q_target)
    if q2.shape != qt2.shape or not (np.isfinite(q2).all() and np.isfinite(qt2).all()):
        return
    max_lag = max(1, min(round(0.3 / float(np.median(np.diff(t)))), 300, len(t) // 4))
    for j in range(q2.shape[1]):
        span_q = float(np.ptp(np.percentile(q2[:, j], [1, 99])))
        span_t = float(np.ptp(np.percentile(qt2[:, j], [1, 99])))
        if span_q < 1e-9 or span_t < 1e-9:
            continue
        ratio = span_t / span_q
        if not _is_degree_factor(ratio):
            continue
        corr = _best_lag_correlation(q2[:, j], qt2[:, j], max_lag)
        if corr < MIN_CORRELATION:
            continue
        row = int(np.argmax(np.abs(qt2[:, j])))
        raise ImplausibleDataError(
            "target_unit",
            f"{source}: column '{column_label(target, j)}' (declared {units[1]}) spans {ratio:.3g}x the range of "
            f"'{column_label(position, j)}' (declared {units[0]}) that tracks it (correlation {corr:.2f}; e.g. row "
            f"{row}: target {qt2[row, j]:.4g}, position {q2[row, j]:.4g} rad); a factor near {DEGREE_FACTOR:.1f} or "
            f"1/{DEGREE_FACTOR:.1f} means one is in degrees and the other in radians: fix the declared unit.",
        )


def check_rates_consistent(
    train_logs: Sequence[JointLog], test_logs: Sequence[JointLog] | None = None, accept: Iterable[str] = ()
) -> None:
    """Raise when a test run is sampled at another rate than the training runs (median time steps).

    The reference is the median time step of ``train_logs``; every run of ``test_logs`` (default: ``train_logs``
    themselves, i.e. all runs must share one rate) must be within :data:`RATE_TOLERANCE` of it. A model trained at
    one rate sees different dynamics per step at another: resample the runs to one rate.
    """
    if "rate_mismatch" in accept or not train_logs:
        return
    ref = float(np.median([log.dt for log in train_logs]))
    for log in train_logs if test_logs is None else test_logs:
        if abs(log.dt / ref - 1.0) > RATE_TOLERANCE:
            raise ImplausibleDataError(
                "rate_mismatch",
                f"{log.source}: run '{log.name}' is sampled at {1 / log.dt:.4g} Hz (median step of its time "
                f"column 't', rows 0-{len(log) - 1}: {log.dt * 1e3:.4g} ms), the training runs at {1 / ref:.4g} Hz "
                f"({ref * 1e3:.4g} ms); a model trained at one rate does not transfer to another: resample the runs "
                "to one rate.",
            )


def check_declared_rate(
    t: np.ndarray,
    q: np.ndarray,
    qd: np.ndarray,
    source: str,
    position: Sequence[str] | str,
    velocity: Sequence[str] | str,
    declared: str,
    accept: Iterable[str] = (),
) -> None:
    """Raise when a declared sampling rate contradicts the velocity column (a log without time stamps).

    Over windows of the run, the velocity integrated over the declared time steps must move the joint as far as the
    position column does; their least-squares ratio off by more than :data:`RATE_FACTOR_BAND` (e.g. 50 Hz declared
    for a 100 Hz log gives 0.5) means the rate is wrong. Windows are long enough (about 50 per run) to average the
    velocity's noise and lag out; the two must correlate (> :data:`MIN_RATE_CORRELATION`) for the ratio to count.

    Args:
        t: Time stamps built from the declared rate [s].
        q: Positions [rad], (T,) or (T, J).
        qd: Logged velocities [rad/s], same shape.
        source: File named in the error.
        position: Position column name (one per joint or one for all).
        velocity: Velocity column name (one per joint or one for all).
        declared: Where the rate was declared, for the message (e.g. "'rate_hz' of the side file run.meta.json").
        accept: Waived checks (``"declared_rate"`` skips this one).
    """
    if "declared_rate" in accept or len(t) < MIN_SCALE_SAMPLES:
        return
    q2, qd2 = as_2d(q), as_2d(qd)
    if q2.shape != qd2.shape or not (np.isfinite(q2).all() and np.isfinite(qd2).all()):
        return
    n, width = len(t), max(5, len(t) // 50)
    steps = np.diff(np.asarray(t, dtype=np.float64))[:, None]
    travelled = np.concatenate([np.zeros((1, q2.shape[1])), np.cumsum(0.5 * (qd2[1:] + qd2[:-1]) * steps, axis=0)])
    starts = np.arange(0, n - width, width)
    moved, integrated = q2[starts + width] - q2[starts], travelled[starts + width] - travelled[starts]
    for j in range(q2.shape[1]):
        a, b = moved[:, j], integrated[:, j]
        if len(a) < 3 or a.std() < 1e-12 or b.std() < 1e-12:
            continue
        corr = float(np.corrcoef(a, b)[0, 1])
        if corr < MIN_RATE_CORRELATION:
            continue
        ratio = float(np.dot(a, b) / np.dot(b, b))
        if 1.0 / RATE_FACTOR_BAND <= ratio <= RATE_FACTOR_BAND:
            continue
        rate = 1.0 / float(np.median(steps))
        vel_name, pos_name = column_label(velocity, j), column_label(position, j)
        raise ImplausibleDataError(
            "declared_rate",
            f"{source}: column '{vel_name}' integrated at {declared} ({rate:.4g} Hz) moves the joint "
            f"{1.0 / ratio:.3g}x as far as column '{pos_name}' does (least squares over {len(a)} windows "
            f"of {width} rows, correlation {corr:.2f}); the log looks sampled at about {rate / ratio:.0f} Hz. Fix "
            "rate_hz (or, for a velocity in other units or on the motor side of a gear, the velocity's 'scale').",
        )
