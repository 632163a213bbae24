"""Excitation signals: offsets [rad] from a nominal position, sampled at the control rate, within ``[-A, A]``.

Each function returns an array shaped like ``t`` (seconds from the segment's start) whose absolute value never
exceeds ``amplitude``. :func:`envelope` brings a segment in from and back out to zero offset (the nominal pose).
Random signals are reproducible: the same ``seed`` gives the same samples.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

__all__ = ["chirp", "chirp_frequency", "envelope", "random_targets", "steps"]


def chirp_frequency(t: np.ndarray, duration: float, f0: float, f1: float, sweep: str) -> np.ndarray:
    """Instantaneous frequency [Hz] of the sweep from ``f0`` at t=0 to ``f1`` at ``duration``.

    ``sweep="log"``: geometric (equal time per octave, the usual choice for system identification); ``"linear"``.
    """
    x = np.clip(np.asarray(t, dtype=np.float64) / duration, 0.0, 1.0)
    if sweep == "log":
        return f0 * (f1 / f0) ** x
    return f0 + (f1 - f0) * x


def _chirp_phase(t: np.ndarray, duration: float, f0: float, f1: float, sweep: str) -> np.ndarray:
    """Phase [rad] of the sweep (the integral of 2π times :func:`chirp_frequency`)."""
    t = np.asarray(t, dtype=np.float64)
    if sweep == "log" and not np.isclose(f0, f1):
        k = np.log(f1 / f0)
        return 2.0 * np.pi * f0 * duration / k * (np.exp(k * t / duration) - 1.0)
    return 2.0 * np.pi * (f0 * t + 0.5 * (f1 - f0) * t**2 / duration)


def chirp(
    t: np.ndarray, duration: float, f0: float, f1: float, amplitude: float, max_speed: float, sweep: str = "log"
) -> np.ndarray:
    """A sine sweep from ``f0`` to ``f1`` [Hz] over ``duration`` [s].

    The amplitude is ``amplitude`` [rad] at low frequencies and ``max_speed / (2π f)`` where that is smaller, so the
    commanded speed stays near ``max_speed`` [rad/s] at most as the frequency rises.
    """
    freq = chirp_frequency(t, duration, f0, f1, sweep)
    amp = np.minimum(amplitude, max_speed / (2.0 * np.pi * freq))
    return amp * np.sin(_chirp_phase(t, duration, f0, f1, sweep))


_STEP_LEVELS = np.array([-1.0, -0.5, -0.25, 0.25, 0.5, 1.0])


def steps(t: np.ndarray, hold_s: float, amplitude: float, seed: int) -> np.ndarray:
    """Position steps held for ``hold_s`` [s] each, to levels ±¼, ±½ and ±1 times ``amplitude`` (random order).

    Consecutive levels differ (every hold starts with a step); the order is drawn from ``seed``.
    """
    t = np.asarray(t, dtype=np.float64)
    index = np.floor(t / hold_s + 1e-9).astype(int)
    count = int(index.max()) + 1 if index.size else 0
    rng = np.random.default_rng(seed)
    picks = []
    for _ in range(count):
        choices = _STEP_LEVELS if not picks else _STEP_LEVELS[picks[-1] != _STEP_LEVELS]
        picks.append(float(rng.choice(choices)))
    return amplitude * np.asarray(picks)[index] if count else np.zeros_like(t)


def random_targets(
    t: np.ndarray, rate_hz: float, bandwidth_hz: float, amplitude: float, max_speed: float, seed: int
) -> np.ndarray:
    """Smoothed random positions: white noise low-passed at ``bandwidth_hz`` (4th-order Butterworth, zero phase).

    Scaled so that its peak is ``amplitude`` [rad], then scaled down further if its steepest step
    (finite difference at ``rate_hz``) would exceed ``max_speed`` [rad/s].
    """
    t = np.asarray(t, dtype=np.float64)
    n = t.size
    if n < 2:
        return np.zeros_like(t)
    rng = np.random.default_rng(seed)
    pad = int(np.ceil(rate_hz / bandwidth_hz)) * 3  # filter edge effects fall outside the kept samples
    noise = rng.standard_normal(n + 2 * pad)
    cutoff = min(bandwidth_hz / (0.5 * rate_hz), 0.99)
    x = sosfiltfilt(butter(4, cutoff, output="sos"), noise)[pad : pad + n]
    x = x * (amplitude / np.max(np.abs(x)))
    speed = np.max(np.abs(np.diff(x))) * rate_hz
    if speed > max_speed:
        x *= max_speed / speed
    return x


def envelope(t: np.ndarray, duration: float, ramp_s: float) -> np.ndarray:
    """0 → 1 → 0 over a segment of ``duration`` [s]: raised-cosine ramps of ``ramp_s`` [s] at both ends."""
    t = np.asarray(t, dtype=np.float64)
    ramp = min(ramp_s, 0.5 * duration)
    if ramp <= 0:
        return np.ones_like(t)
    rise = np.clip(t / ramp, 0.0, 1.0)
    fall = np.clip((duration - t) / ramp, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * np.minimum(rise, fall))
