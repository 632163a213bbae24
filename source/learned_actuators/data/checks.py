"""Input checks shared by the readers: every failure names the file, the field and what was expected.

Two kinds of checks live here. Format checks (numbers, finite values, time stamps, one sampling rate) always apply.
Plausibility checks (:data:`PLAUSIBILITY_CHECKS`) catch data that parses but cannot be what the file says it is:
degrees declared as radians, a velocity off d(position)/dt by the degree factor, time stamps in ms declared as s,
an isolated absurd value, runs at different rates. Each raises :class:`ImplausibleDataError` naming the file, the
column and a row, and the value of ``data.accept`` (reader argument ``accept``) that waives it for data that
really is unusual.

The checks live in :mod:`~learned_actuators.data.format_checks` (format), :mod:`~learned_actuators.data.plausibility`
(the catalogue and the single-column checks) and :mod:`~learned_actuators.data.unit_checks` (checks that compare
columns or runs); this module gathers them under one name for the readers.
"""

from __future__ import annotations

from .format_checks import MIN_RUN_SAMPLES, check_finite, check_numeric, check_rate, check_time
from .plausibility import (
    DEGREE_FACTOR,
    PLAUSIBILITY_CHECKS,
    ImplausibleDataError,
    check_angle_units,
    check_outliers,
    check_time_gaps,
    check_time_unit,
    validate_accept,
)
from .unit_checks import (
    check_declared_rate,
    check_rates_consistent,
    check_target_scale,
    check_velocity_scale,
    smooth_derivative,
)

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
    "check_time_gaps",
    "check_time_unit",
    "check_velocity_scale",
    "smooth_derivative",
    "validate_accept",
]
