"""Input checks shared by the readers: every failure names the file, the field and what was expected.

Two kinds of checks live here. Format checks (numbers, finite values, time stamps, one sampling rate) always apply.
Plausibility checks (:data:`PLAUSIBILITY_CHECKS`) catch data that parses but cannot be what the file says it is:
degrees declared as radians, a velocity off d(position)/dt by the degree factor, time stamps in ms declared as s,
an isolated absurd value, runs at different rates. Each raises :class:`ImplausibleDataError` naming the file, the
column and a row, and the value of ``data.accept`` (reader argument ``accept``) that waives it for data that
really is unusual.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import UserInputError
from .joint_log import JointLog, LogFormatError

__all__ = [
    "DEGREE_FACTOR",
    "MIN_RUN_SAMPLES",
    "PLAUSIBILITY_CHECKS",
    "ImplausibleDataError",
    "check_angle_units",
    "check_declared_rate",
    "check_finite",
    "check_numeric",
    "check_outliers",
    "check_rate",
    "check_rates_consistent",
    "check_target_scale",
    "check_time",
    "check_time_unit",
    "check_velocity_scale",
    "validate_accept",
]

MIN_RUN_SAMPLES = 10
"""Runs shorter than this many samples are rejected (too short for filtering, histories and sequences)."""

DEGREE_FACTOR = 180.0 / np.pi
"""Degrees per radian (57.3): the factor between a quantity in degrees and the same in radians."""

MAX_PLAUSIBLE_ANGLE = 4 * np.pi
"""An angle column reaching beyond this [rad] (1st/99th percentile or their spread) is probably in degrees."""

MAX_PLAUSIBLE_SPEED = 200.0
"""A velocity column whose 99th percentile of |value| exceeds this [rad/s] is probably in deg/s."""

UNIT_FACTOR_BAND = 4.0
"""A ratio within a factor of this of 57.3 (or 1/57.3), i.e. in [14.3, 229], counts as a degree/radian mix-up."""

MIN_CORRELATION = 0.5
"""Velocity vs d(position)/dt (and target vs position) must correlate this well (at the best lag) before their
scale ratio is trusted: unrelated signals never trigger the unit-factor checks."""

MIN_SCALE_SAMPLES = 50
"""Runs shorter than this skip the unit-factor checks (a correlation of fewer samples can be high by chance)."""

OUTLIER_FACTOR = 20.0
"""A value farther than this many 1-99 % ranges (plus :data:`OUTLIER_FLOOR`) from the median is absurd."""

OUTLIER_FLOOR = {"angle": 4 * np.pi, "speed": 200.0, "torque": 1e3, "acceleration": 1e3}
"""Least absurd deviation from the median, per quantity (SI units), so near-constant columns may still step."""

MAX_TIME_GAP = 100.0
"""A time step longer than this many median steps is an absurd gap (e.g. a stray 1e9 in the last row)."""

MAX_PLAUSIBLE_PERIOD = 0.1
"""Median time step above this [s] (below 10 Hz) is implausible for an actuator log: ms declared as s?"""

MIN_PLAUSIBLE_PERIOD = 1e-5
"""Median time step below this [s] (above 100 kHz) is implausible: s declared as ms?"""

RATE_TOLERANCE = 0.05
"""Runs whose median time steps differ by more than this (relative) are at different rates."""

RATE_FACTOR_BAND = 1.5
"""A log without time stamps whose velocity, integrated over the declared time steps, moves the joint more than this
factor more (or less) than the position does, is sampled at another rate than declared (e.g. 2x)."""

MIN_RATE_CORRELATION = 0.8
"""Integrated velocity and position change (per window) must correlate this well before their ratio is trusted."""

PLAUSIBILITY_CHECKS: dict[str, str] = {
    "outlier": (
        f"an isolated absurd value: farther than {OUTLIER_FACTOR:g}x the column's 1-99 % range (plus "
        f"{OUTLIER_FLOOR['angle']:.3g} rad, {OUTLIER_FLOOR['speed']:g} rad/s, {OUTLIER_FLOOR['torque']:g} N·m or "
        f"m/s²) from its median, or a time step over {MAX_TIME_GAP:g}x the median step"
    ),
    "degrees_as_radians": (
        f"an angle beyond {MAX_PLAUSIBLE_ANGLE:.3g} rad (4π) or a speed beyond {MAX_PLAUSIBLE_SPEED:g} rad/s "
        "(1st/99th percentiles): degrees (deg/s) declared as radians (rad/s)"
    ),
    "velocity_unit": (
        f"the velocity's RMS is {DEGREE_FACTOR:.1f}x or 1/{DEGREE_FACTOR:.1f}x (within a factor "
        f"{UNIT_FACTOR_BAND:g}) that of d(position)/dt while the two correlate (> {MIN_CORRELATION:g} at the best "
        f"lag within 0.1 s; runs of {MIN_SCALE_SAMPLES}+ samples): one of them is in degrees, the other in radians"
    ),
    "target_unit": (
        f"the target's 1-99 % range is {DEGREE_FACTOR:.1f}x or 1/{DEGREE_FACTOR:.1f}x (within a factor "
        f"{UNIT_FACTOR_BAND:g}) that of the position while they correlate (> {MIN_CORRELATION:g} at the best lag "
        f"within 0.3 s; runs of {MIN_SCALE_SAMPLES}+ samples): one of them is in degrees, the other in radians"
    ),
    "time_unit": (
        f"a median time step above {MAX_PLAUSIBLE_PERIOD:g} s (ms or us declared as s or ms) or below "
        f"{MIN_PLAUSIBLE_PERIOD:g} s (s declared as ms)"
    ),
    "rate_mismatch": f"runs sampled at rates more than {RATE_TOLERANCE:.0%} apart (e.g. test runs vs training runs)",
    "declared_rate": (
        f"a log without time stamps whose velocity, integrated over the declared rate's time steps, moves the joint "
        f"over {RATE_FACTOR_BAND:g}x more or less than its position does (correlation > {MIN_RATE_CORRELATION:g}): "
        "the declared rate_hz is wrong"
    ),
}
"""The plausibility checks by name (the values ``data.accept`` takes) and what each rejects."""


class ImplausibleDataError(LogFormatError):
    """Data that parses but is physically implausible; ``check`` is the :data:`PLAUSIBILITY_CHECKS` name."""

    def __init__(self, check: str, message: str):
        assert check in PLAUSIBILITY_CHECKS, check
        self.check = check
        super().__init__(
            f"{message} If the data really is so, waive this check with data.accept=['{check}'] "
            f"(reader argument accept=['{check}'])."
        )


def validate_accept(accept: Iterable[str] | str | None, field: str = "data.accept") -> frozenset[str]:
    """The set of waived checks, after checking every name is one of :data:`PLAUSIBILITY_CHECKS`."""
    if accept is None:
        return frozenset()
    if isinstance(accept, str):
        accept = [accept]
    names = list(accept)
    unknown = [n for n in names if n not in PLAUSIBILITY_CHECKS]
    if unknown:
        raise UserInputError(
            f"{field}: unknown plausibility check(s) {unknown}; expected names from {sorted(PLAUSIBILITY_CHECKS)}."
        )
    return frozenset(names)


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


# ------------------------------------------------------------------------------------------------ plausibility


def _as_2d(arr: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr, dtype=np.float64)
    return arr[:, None] if arr.ndim == 1 else arr.reshape(arr.shape[0], -1)


def _label(columns: Sequence[str] | str, j: int) -> str:
    if isinstance(columns, str):
        return columns
    return columns[j] if j < len(columns) else f"{columns[0]}[{j}]"


def check_outliers(
    arr: np.ndarray, source: str, columns: Sequence[str] | str, kind: str, accept: Iterable[str] = ()
) -> None:
    """Raise on an isolated absurd value (e.g. 1e30 in one row) of a (T,) or (T, J) column in SI units.

    Args:
        arr: Values, time along axis 0.
        source: File named in the error.
        columns: Column name, or one name per column of ``arr``.
        kind: ``"angle"``, ``"speed"``, ``"torque"`` or ``"acceleration"`` (sets the floor, :data:`OUTLIER_FLOOR`).
        accept: Waived checks (``"outlier"`` skips this one).
    """
    if "outlier" in accept:
        return
    data = _as_2d(arr)
    if data.shape[0] < 3:
        return
    lo, med, hi = np.percentile(data, [1, 50, 99], axis=0)
    limit = OUTLIER_FACTOR * (hi - lo) + OUTLIER_FLOOR[kind]
    bad = np.abs(data - med) > limit
    if bad.any():
        row, j = (int(i) for i in np.argwhere(bad)[0])
        raise ImplausibleDataError(
            "outlier",
            f"{source}: column '{_label(columns, j)}' has an absurd value {data[row, j]:.6g} at row {row} "
            f"({int(bad[:, j].sum())} such row(s)); the column's 1-99 % range is [{lo[j]:.4g}, {hi[j]:.4g}] "
            "(SI units, after unit conversion). Fix or drop that row.",
        )


def check_time_gaps(t: np.ndarray, source: str, name: str, accept: Iterable[str] = ()) -> None:
    """Raise on a time step over :data:`MAX_TIME_GAP` median steps (a stray huge time stamp or a long pause)."""
    if "outlier" in accept or len(t) < 3:
        return
    dt = np.diff(t)
    med = float(np.median(dt))
    bad = dt > MAX_TIME_GAP * med
    if bad.any():
        row = int(np.argmax(bad)) + 1
        raise ImplausibleDataError(
            "outlier",
            f"{source}: column '{name}' jumps from {t[row - 1]:.6g} s to {t[row]:.6g} s at row {row}, "
            f"{dt[row - 1] / med:.3g}x the median time step ({med:.4g} s): an absurd time stamp or a pause in the "
            "log. Fix that row or split the run there.",
        )


def check_time_unit(t: np.ndarray, source: str, name: str, declared: str, accept: Iterable[str] = ()) -> None:
    """Raise when the median time step [s] is implausible for an actuator log (wrong declared time unit).

    Args:
        t: Time stamps after unit conversion [s].
        source: File named in the error.
        name: Time column (or ``fps``/``rate_hz``/``dt``) named in the error.
        declared: The unit the values were read in (``"s"``, ``"ms"``, ``"Hz"`` ...), for the message.
        accept: Waived checks (``"time_unit"`` skips this one).
    """
    if "time_unit" in accept or len(t) < 2:
        return
    med = float(np.median(np.diff(t)))
    where = f"{source}: column '{name}' (declared in {declared}) gives a median time step of {med:.4g} s"
    rate = declared in ("Hz", "1/s")
    if med > MAX_PLAUSIBLE_PERIOD:
        question = (
            "is it a period or in another unit?"
            if rate
            else f"are the time stamps in a finer unit (ms, us) than the declared {declared}?"
        )
        raise ImplausibleDataError(
            "time_unit",
            f"{where} ({1 / med:.3g} Hz; rows 0-1: {t[0]:.6g} -> {t[1]:.6g} s); actuator logs are sampled faster "
            f"than {1 / MAX_PLAUSIBLE_PERIOD:g} Hz: {question}",
        )
    if med < MIN_PLAUSIBLE_PERIOD:
        question = (
            "is it in another unit?"
            if rate
            else f"are the time stamps in a coarser unit (s, ms) than the declared {declared}?"
        )
        raise ImplausibleDataError(
            "time_unit",
            f"{where} ({1 / med:.3g} Hz; rows 0-1: {t[0]:.6g} -> {t[1]:.6g} s); faster than "
            f"{1 / MIN_PLAUSIBLE_PERIOD:g} Hz is implausible: {question}",
        )


def check_angle_units(
    arr: np.ndarray,
    source: str,
    columns: Sequence[str] | str,
    kind: str = "angle",
    accept: Iterable[str] = (),
    hint: str | None = None,
) -> None:
    """Raise when an angle [rad] or speed [rad/s] column is too large for radians (degrees declared as radians).

    Uses the 1st/99th percentiles, so one absurd value is left to :func:`check_outliers`. ``hint`` replaces the
    default advice (declare the unit as degrees in the column map).
    """
    if "degrees_as_radians" in accept:
        return
    unit = "'deg'" if kind == "angle" else "'deg/s'"
    hint = hint or f"is it in degrees? If so, declare its unit as {unit} in the column map."
    data = _as_2d(arr)
    if data.shape[0] == 0 or not np.isfinite(data).all():
        return
    lo, hi = np.percentile(data, [1, 99], axis=0)
    for j in range(data.shape[1]):
        if kind == "angle":
            reach = max(abs(lo[j]), abs(hi[j]), hi[j] - lo[j])
            if reach > MAX_PLAUSIBLE_ANGLE:
                row = int(np.argmax(np.abs(data[:, j])))
                raise ImplausibleDataError(
                    "degrees_as_radians",
                    f"{source}: column '{_label(columns, j)}' reaches {reach:.4g} rad (1-99 % range [{lo[j]:.4g}, "
                    f"{hi[j]:.4g}], {data[row, j]:.6g} at row {row}); beyond 4π rad is implausible for radians: "
                    f"{hint}",
                )
        else:
            peak = max(abs(lo[j]), abs(hi[j]))
            if peak > MAX_PLAUSIBLE_SPEED:
                row = int(np.argmax(np.abs(data[:, j])))
                raise ImplausibleDataError(
                    "degrees_as_radians",
                    f"{source}: column '{_label(columns, j)}' reaches {peak:.4g} rad/s (99th percentile of |value|; "
                    f"{data[row, j]:.6g} at row {row}); beyond {MAX_PLAUSIBLE_SPEED:g} rad/s is implausible: {hint}",
                )


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


def _smooth_derivative(t: np.ndarray, q: np.ndarray) -> np.ndarray:
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
    q2, qd2 = _as_2d(q), _as_2d(qd)
    if q2.shape != qd2.shape or not (np.isfinite(q2).all() and np.isfinite(qd2).all()):
        return
    deriv = _smooth_derivative(np.asarray(t, dtype=np.float64), q2)
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
        raise ImplausibleDataError(
            "velocity_unit",
            f"{source}: column '{_label(velocity, j)}' (declared {units[1]}) is {ratio:.3g}x d('"
            f"{_label(position, j)}')/dt (declared {units[0]}) over the run (RMS; correlation {corr:.2f}; e.g. row "
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
    q2, qt2 = _as_2d(q), _as_2d(q_target)
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
            f"{source}: column '{_label(target, j)}' (declared {units[1]}) spans {ratio:.3g}x the range of "
            f"'{_label(position, j)}' (declared {units[0]}) that tracks it (correlation {corr:.2f}; e.g. row "
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
    q2, qd2 = _as_2d(q), _as_2d(qd)
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
        raise ImplausibleDataError(
            "declared_rate",
            f"{source}: column '{_label(velocity, j)}' integrated at {declared} ({rate:.4g} Hz) moves the joint "
            f"{1.0 / ratio:.3g}x as far as column '{_label(position, j)}' does (least squares over {len(a)} windows "
            f"of {width} rows, correlation {corr:.2f}); the log looks sampled at about {rate / ratio:.0f} Hz. Fix "
            "rate_hz (or, for a velocity in other units or on the motor side of a gear, the velocity's 'scale').",
        )
