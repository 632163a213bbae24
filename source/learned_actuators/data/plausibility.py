"""Plausibility checks: data that parses but cannot be what the file says it is, each waivable by name.

:data:`PLAUSIBILITY_CHECKS` names every check (the values ``data.accept`` takes) and what it rejects; this module
holds the checks on single columns (an isolated absurd value, a time gap, an implausible time step, angles beyond
4π rad); :mod:`~learned_actuators.data.unit_checks` the checks that compare columns (velocity vs d(position)/dt,
target vs position, a declared rate) or runs (one sampling rate). Each raises :class:`ImplausibleDataError` naming
the file, the column and a row, and the ``data.accept`` value that waives it for data that really is unusual.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..errors import UserInputError
from .joint_log import LogFormatError

__all__ = [
    "DEGREE_FACTOR",
    "PLAUSIBILITY_CHECKS",
    "ImplausibleDataError",
    "as_2d",
    "check_angle_units",
    "check_outliers",
    "check_time_gaps",
    "check_time_unit",
    "column_label",
    "validate_accept",
]

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


def as_2d(arr: np.ndarray) -> np.ndarray:
    """``arr`` as float64 (T, columns): (T,) becomes (T, 1), (T, a, b) becomes (T, a*b)."""
    arr = np.asarray(arr, dtype=np.float64)
    return arr[:, None] if arr.ndim == 1 else arr.reshape(arr.shape[0], -1)


def column_label(columns: Sequence[str] | str, j: int) -> str:
    """The name of column ``j`` for an error message (one name for all columns, or one per column)."""
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
    data = as_2d(arr)
    if data.shape[0] < 3:
        return
    lo, med, hi = np.percentile(data, [1, 50, 99], axis=0)
    limit = OUTLIER_FACTOR * (hi - lo) + OUTLIER_FLOOR[kind]
    bad = np.abs(data - med) > limit
    if bad.any():
        row, j = (int(i) for i in np.argwhere(bad)[0])
        raise ImplausibleDataError(
            "outlier",
            f"{source}: column '{column_label(columns, j)}' has an absurd value {data[row, j]:.6g} at row {row} "
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
    data = as_2d(arr)
    if data.shape[0] == 0 or not np.isfinite(data).all():
        return
    lo, hi = np.percentile(data, [1, 99], axis=0)
    for j in range(data.shape[1]):
        if kind == "angle":
            reach = max(abs(lo[j]), abs(hi[j]), hi[j] - lo[j])
            if reach > MAX_PLAUSIBLE_ANGLE:
                row = int(np.argmax(np.abs(data[:, j])))
                name = column_label(columns, j)
                raise ImplausibleDataError(
                    "degrees_as_radians",
                    f"{source}: column '{name}' reaches {reach:.4g} rad (1-99 % range [{lo[j]:.4g}, "
                    f"{hi[j]:.4g}], {data[row, j]:.6g} at row {row}); beyond 4π rad is implausible for radians: "
                    f"{hint}",
                )
        else:
            peak = max(abs(lo[j]), abs(hi[j]))
            if peak > MAX_PLAUSIBLE_SPEED:
                row = int(np.argmax(np.abs(data[:, j])))
                name = column_label(columns, j)
                raise ImplausibleDataError(
                    "degrees_as_radians",
                    f"{source}: column '{name}' reaches {peak:.4g} rad/s (99th percentile of |value|; "
                    f"{data[row, j]:.6g} at row {row}); beyond {MAX_PLAUSIBLE_SPEED:g} rad/s is implausible: {hint}",
                )
