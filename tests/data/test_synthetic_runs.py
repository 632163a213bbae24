"""The vectorised synthetic bench (simulate_reference_runs): shapes, metadata, determinism, the torque lag."""

import numpy as np
import pytest

from learned_actuators.data.inverse_dynamics import GRAVITY
from learned_actuators.data.synthetic import simulate_reference_runs

pytestmark = pytest.mark.unit


def test_shapes_and_meta():
    logs = simulate_reference_runs(7, duration=2.0, dt=0.01, seed=3)
    assert len(logs) == 7
    assert len({g.name for g in logs}) == 7
    for g in logs:
        assert g.q.shape == g.qd.shape == g.q_target.shape == g.tau.shape == (200, 1)
        assert np.allclose(np.diff(g.t), 0.01)
        assert all(np.isfinite(a).all() for a in (g.q, g.qd, g.q_target, g.tau))
        meta = g.meta
        assert meta["group"] == g.name
        assert 2.0 <= meta["kp"] <= 8.0
        assert 0.01 <= meta["lag_s"] <= 0.02
        assert meta["command"] in ("chirp", "steps", "sines")
        assert meta["inertia"] == pytest.approx(meta["mass"] * meta["length"] ** 2 + 2e-4)
        assert meta["qdd"].shape == (200,)


def test_same_seed_same_runs_other_seed_other_runs():
    a, b = simulate_reference_runs(3, 1.0, seed=5), simulate_reference_runs(3, 1.0, seed=5)
    c = simulate_reference_runs(3, 1.0, seed=6)
    for x, y, z in zip(a, b, c, strict=True):
        assert np.array_equal(x.tau, y.tau) and np.array_equal(x.q, y.q) and x.meta["kp"] == y.meta["kp"]
        assert not np.array_equal(x.q_target, z.q_target)


def test_qdd_is_the_noise_free_load_dynamics():
    (g,) = simulate_reference_runs(1, 1.0, seed=2, label_noise=0.0)
    mgl = g.meta["mass"] * GRAVITY * g.meta["length"]
    expected = (g.tau[:, 0] - mgl * np.sin(g.q[:, 0])) / g.meta["inertia"]
    assert np.allclose(g.meta["qdd"], expected)
    (noisy,) = simulate_reference_runs(1, 1.0, seed=2, label_noise=0.01)
    assert 0.005 < np.std(noisy.tau[:, 0] - g.tau[:, 0]) < 0.02


def _best_shift(log) -> int:
    """Samples by which the applied torque (friction removed) trails the instantaneous PD torque."""
    pd = np.clip(log.meta["kp"] * (log.q_target[:, 0] - log.q[:, 0]) - 0.2 * log.qd[:, 0], -3.0, 3.0)
    qd = log.qd[:, 0]
    motor = log.tau[:, 0] + 0.02 * np.tanh(qd / 0.05) + 0.01 * qd
    errs = [np.mean((motor[50 + s : -50] - pd[50 : len(pd) - 50 - s]) ** 2) for s in range(25)]
    return int(np.argmin(errs))


def test_torque_lags_its_command_by_the_time_constant():
    kw = dict(n_runs=20, duration=4.0, dt=0.002, seed=1, label_noise=0.0, stiction=0.0)
    lagged = np.median([_best_shift(g) for g in simulate_reference_runs(lag_s=(0.02, 0.02), **kw)])
    prompt = np.median([_best_shift(g) for g in simulate_reference_runs(lag_s=(0.0, 0.0), **kw)])
    assert prompt == 0
    assert 4 <= lagged <= 12  # 20 ms at 2 ms per sample, less where the curve clips


def test_profile_npz_reads_back_as_the_runs(tmp_path):
    from learned_actuators.data.synthetic import write_profile_npz
    from learned_actuators.data.torque_profile import read_torque_profile_npz

    runs = simulate_reference_runs(3, duration=1.0, dt=0.005, seed=2)
    log = read_torque_profile_npz(write_profile_npz(runs, tmp_path / "p.npz", ["a", "b", "c"]))
    assert log.joint_names == ["a", "b", "c"] and abs(log.dt - 0.005) < 1e-9
    for j, run in enumerate(runs):
        for field in ("q", "qd", "q_target", "tau"):
            np.testing.assert_allclose(getattr(log, field)[:, j], getattr(run, field)[:, 0], rtol=1e-6, atol=1e-6)
