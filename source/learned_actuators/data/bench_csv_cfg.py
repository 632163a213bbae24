"""Configuration of the bench CSV reader (:mod:`learned_actuators.data.bench_csv`)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["BenchCsvCfg"]


@dataclass
class BenchCsvCfg:
    """How to turn bench CSV runs into joint logs.

    The bench: one actuator drives a rigid load of known inertia; an IMU on the load gives its angular velocity
    (gyro) and tangential acceleration (accelerometer at ``radius`` from the axis). One folder per inertia group,
    holding CSV runs with ``Time_ms``, ``Encoder_Angle`` [deg], ``Commanded_Angle`` [deg], ``Acc_X/Y/Z`` [m/s²],
    ``Gyro_X/Y/Z`` [deg/s].
    """

    group_inertia: dict[str, float] = field(default_factory=dict)
    """Load inertia [kg·m²] per group folder name. Groups not listed read ``inertia`` from ``group.json`` in the
    folder; a group with neither is an error."""
    gyro_axis: str = "Z"
    """Gyro axis (``"X"``, ``"Y"`` or ``"Z"``) measuring the joint velocity; default Z."""
    gyro_sign: float = 1.0
    """Sign (+1/-1) that makes the gyro reading positive along +q; default +1."""
    accel_axis: str = "Y"
    """Accelerometer axis measuring the tangential acceleration; default Y."""
    accel_sign: float = 1.0
    """Sign (+1/-1) that makes the tangential acceleration positive along +q; default +1."""
    radius: float = 0.05
    """Distance of the accelerometer from the joint axis [m]; angular acceleration = tangential / radius.
    Default 0.05 m."""
    fallback_rate_hz: float | None = None
    """Sampling rate [Hz] used when the file has no ``Time_ms`` column (a warning is issued); None: missing time is
    an error. Default None."""
    filter_cutoff_hz: float | None = 20.0
    """Zero-phase Butterworth cut-off [Hz] on the acceleration used for the torque label; None disables it.
    Default 20 Hz."""
    filter_order: int = 2
    """Butterworth order. Default 2."""
    velocity_source: str = "gyro"
    """``"gyro"`` (IMU rate) or ``"encoder"`` (differentiated encoder angle). Default ``"gyro"``."""
    min_samples: int = 10
    """Shortest accepted run [samples]. Default 10."""
