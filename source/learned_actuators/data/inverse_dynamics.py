"""Torque labels from motion: zero-phase filtering, differentiation and 1-DOF inverse dynamics."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.signal import butter, filtfilt

__all__ = [
    "GRAVITY",
    "differentiate",
    "inverse_dynamics_torque",
    "label_by_inverse_dynamics",
    "lowpass",
    "shift_signal",
]

GRAVITY = 9.81
"""Gravitational acceleration [m/s²]."""


def lowpass(x: np.ndarray, dt: float, cutoff_hz: float | None, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth low-pass along axis 0 (``filtfilt``); ``cutoff_hz=None`` returns ``x`` unchanged.

    Args:
        x: Signal, shape (T,) or (T, J).
        dt: Sampling period [s].
        cutoff_hz: Cut-off frequency [Hz]; must lie below the Nyquist frequency ``0.5 / dt``.
        order: Filter order (the zero-phase response has twice this order).
    """
    if cutoff_hz is None:
        return x
    nyquist = 0.5 / dt
    if not 0 < cutoff_hz < nyquist:
        raise ValueError(f"filter cutoff {cutoff_hz} Hz must lie in (0, {nyquist:.4g}) Hz for dt = {dt} s.")
    b, a = butter(order, cutoff_hz / nyquist)
    padlen = min(3 * max(len(a), len(b)), x.shape[0] - 1)
    return filtfilt(b, a, x, axis=0, padlen=padlen)


def differentiate(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Time derivative along axis 0 by second-order central differences on (possibly uneven) stamps ``t`` [s]."""
    return np.gradient(x, t, axis=0)


def shift_signal(x: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Advance ``x`` by ``steps`` samples (``y[i] = x[i + steps]``); returns ``(y, ok)``.

    The last ``steps`` samples have no source: they hold the last value and ``ok`` (bool, shape (T,)) is False there,
    so callers can mark them invalid instead of silently dropping them.
    """
    ok = np.ones(x.shape[0], dtype=bool)
    if steps <= 0:
        return x.copy(), ok
    y = np.concatenate([x[steps:], np.repeat(x[-1:], steps, axis=0)], axis=0)
    ok[-steps:] = False
    return y, ok


def inverse_dynamics_torque(
    t: np.ndarray,
    q: np.ndarray,
    qd: np.ndarray | None,
    inertia: float,
    mass: float = 0.0,
    length: float = 0.0,
    cutoff_hz: float | None = 15.0,
    order: int = 2,
) -> np.ndarray:
    """Joint torque [N·m] of a pendulum or pure-inertia load: ``tau = J·q̈ + m·g·l·sin(q)``.

    ``q̈`` is the derivative of the low-passed velocity (or of the twice-differentiated position when ``qd`` is None).
    Position 0 hangs down; positive torque pushes toward +q.

    Args:
        t: Time stamps [s], shape (T,).
        q: Joint angle [rad], shape (T,) or (T, J).
        qd: Joint velocity [rad/s] with the shape of ``q``, or None to differentiate ``q``.
        inertia: Total load inertia about the joint ``J`` [kg·m²] (rotor/horn inertia included).
        mass: Pendulum mass [kg] (0 for a pure inertia).
        length: Distance of the mass from the axis [m].
        cutoff_hz: Zero-phase Butterworth cut-off [Hz] applied to the velocity before differentiation (None: off).
        order: Butterworth order.
    """
    dt = float(np.median(np.diff(t)))
    if qd is None:
        qd = differentiate(lowpass(q, dt, cutoff_hz, order), t)
    qdd = differentiate(lowpass(qd, dt, cutoff_hz, order), t)
    return inertia * qdd + mass * GRAVITY * length * np.sin(q)


def label_by_inverse_dynamics(
    log, inertia: float, mass: float = 0.0, length: float = 0.0, cutoff_hz: float | None = 15.0, order: int = 2
):
    """Copy of a :class:`~learned_actuators.data.joint_log.JointLog` with an inverse-dynamics torque label.

    The load (``inertia`` [kg·m²], ``mass`` [kg], ``length`` [m]) is stored in the copy's metadata.
    """
    tau = inverse_dynamics_torque(log.t, log.q, log.qd, inertia, mass, length, cutoff_hz, order)
    meta = {
        **log.meta,
        "inertia": float(inertia),
        "mass": float(mass),
        "length": float(length),
        "torque_label": "inverse_dynamics",
    }
    return dataclasses.replace(log, tau=tau, meta=meta)
