"""Excitation signals: amplitudes, chirp frequency range, steps, smoothing, ramps, determinism by seed."""

from __future__ import annotations

import numpy as np
import pytest

from learned_actuators.excitation.signals import chirp, chirp_frequency, envelope, random_targets, steps

pytestmark = pytest.mark.unit

RATE = 500.0


def _zero_crossing_freq(t: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frequency [Hz] between consecutive upward zero crossings, at their mid times."""
    up = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
    times = t[up] - x[up] * (t[up + 1] - t[up]) / (x[up + 1] - x[up])
    return 0.5 * (times[1:] + times[:-1]), 1.0 / np.diff(times)


@pytest.mark.parametrize("sweep", ["log", "linear"])
def test_chirp_sweeps_from_f0_to_f1_within_its_amplitude(sweep):
    duration, f0, f1 = 20.0, 0.5, 5.0
    t = np.arange(round(duration * RATE)) / RATE
    x = chirp(t, duration, f0, f1, amplitude=0.3, max_speed=1e9, sweep=sweep)
    assert np.abs(x).max() <= 0.3 + 1e-12 and np.abs(x).max() > 0.299
    mid, freq = _zero_crossing_freq(t, x)
    expected = chirp_frequency(mid, duration, f0, f1, sweep)
    np.testing.assert_allclose(freq, expected, rtol=0.03)
    assert mid[0] < 0.15 * duration and mid[-1] > 0.97 * duration  # the whole sweep, f0 to f1
    assert freq.min() < 2 * f0 and freq.max() > 0.95 * f1 and freq.max() < 1.02 * f1
    if sweep == "log":  # geometric: the frequency at mid-time is the geometric mean
        assert chirp_frequency(np.array([10.0]), duration, f0, f1, sweep)[0] == pytest.approx(np.sqrt(f0 * f1))


def test_chirp_amplitude_falls_where_the_speed_cap_binds():
    duration = 10.0
    t = np.arange(round(duration * RATE)) / RATE
    x = chirp(t, duration, 0.2, 4.0, amplitude=0.4, max_speed=3.0, sweep="linear")
    speed = np.abs(np.diff(x)) * RATE
    assert speed.max() <= 3.0 * 1.01
    early, late = x[t < 3.0], x[t > 8.0]
    assert np.abs(early).max() > 0.39  # low frequencies keep the full amplitude
    assert np.abs(late).max() < 3.0 / (2 * np.pi * 3.2) + 1e-3  # 1/f above the cap


def test_steps_hold_distinct_levels_within_the_amplitude():
    t = np.arange(round(6.0 * RATE)) / RATE
    x = steps(t, hold_s=0.5, amplitude=0.2, seed=3)
    levels = x[:: round(0.5 * RATE)]
    assert len(levels) == 12
    assert set(np.round(np.abs(levels) / 0.2, 6)) <= {0.25, 0.5, 1.0}
    assert (np.diff(levels) != 0).all()  # every hold starts with a step
    for k, level in enumerate(levels):  # held for the whole hold
        assert (x[k * 250 : (k + 1) * 250] == level).all()
    assert np.abs(x).max() <= 0.2


def test_random_targets_are_smooth_band_limited_and_within_the_amplitude():
    t = np.arange(round(20.0 * RATE)) / RATE
    x = random_targets(t, RATE, bandwidth_hz=2.0, amplitude=0.3, max_speed=100.0, seed=1)
    assert np.abs(x).max() == pytest.approx(0.3)
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    assert spectrum[freqs > 6.0].sum() < 1e-3 * spectrum.sum()  # nothing left well above the bandwidth
    capped = random_targets(t, RATE, bandwidth_hz=2.0, amplitude=0.3, max_speed=0.5, seed=1)
    assert np.abs(np.diff(capped)).max() * RATE == pytest.approx(0.5)
    np.testing.assert_allclose(capped, x * (capped.max() / x.max()))  # the same shape, scaled down


def test_the_same_seed_gives_the_same_signal_and_another_seed_another():
    t = np.arange(2000) / RATE
    a = random_targets(t, RATE, 2.0, 0.3, 10.0, seed=7)
    np.testing.assert_array_equal(a, random_targets(t, RATE, 2.0, 0.3, 10.0, seed=7))
    assert not np.allclose(a, random_targets(t, RATE, 2.0, 0.3, 10.0, seed=8))
    s = steps(t, 0.25, 0.3, seed=7)
    np.testing.assert_array_equal(s, steps(t, 0.25, 0.3, seed=7))
    assert not np.array_equal(s, steps(t, 0.25, 0.3, seed=8))


def test_envelope_ramps_in_and_out_smoothly():
    t = np.arange(0, 4.0, 0.01)
    e = envelope(t, 4.0, ramp_s=0.5)
    assert e[0] == 0.0 and e[-1] < 1e-3
    assert (e[(t >= 0.5) & (t <= 3.5)] == 1.0).all()
    assert (np.diff(e[t <= 0.5]) >= 0).all() and (np.diff(e[t >= 3.5]) <= 0).all()
    assert np.abs(np.diff(e)).max() < 0.04  # no jump
