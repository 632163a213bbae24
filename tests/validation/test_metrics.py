import numpy as np
import pytest

from learned_actuators.validation.metrics import (
    error_growth,
    fit_pd_gains,
    masked_mae,
    masked_rmse,
    rollout_errors,
    torque_errors,
)

pytestmark = pytest.mark.unit


def test_masked_rmse_and_mae_ignore_masked_frames():
    err = np.array([[[3.0], [4.0], [100.0]]])  # (E=1, T=3, J=1), last frame padded
    mask = np.array([[True, True, False]])
    assert masked_rmse(err, mask) == pytest.approx(np.sqrt((9 + 16) / 2))
    assert masked_mae(err, mask) == pytest.approx(3.5)


def test_rollout_errors_per_trajectory_and_aggregate():
    t = np.linspace(0, 1, 101)
    q_log = np.stack([np.sin(t), np.cos(t)])[:, :, None]
    offsets = np.array([0.1, -0.3])
    q_sim = q_log + offsets[:, None, None]
    mask = np.ones((2, 101), dtype=bool)
    out = rollout_errors(q_log, q_log * 0, q_sim, q_log * 0 + 0.5, mask)
    np.testing.assert_allclose(out["pos_rmse_per_traj"], np.abs(offsets))
    np.testing.assert_allclose(out["pos_mae_per_traj"], np.abs(offsets))
    assert out["pos_rmse"] == pytest.approx(np.sqrt(np.mean(offsets**2)))
    assert out["vel_rmse"] == pytest.approx(0.5)


def test_rollout_errors_mark_divergence_as_inf():
    q = np.zeros((2, 5, 1))
    sim = q.copy()
    sim[1, 3] = np.nan
    out = rollout_errors(q, q, sim, q, np.ones((2, 5), dtype=bool))
    assert out["pos_rmse_per_traj"][0] == 0.0
    assert out["pos_rmse_per_traj"][1] == np.inf
    assert out["pos_rmse"] == np.inf


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_error_growth_recovers_power_law_exponent(power):
    dt = 0.01
    h = np.arange(400) * dt
    ref = np.zeros((3, 400, 2))
    sim = ref + (0.7 * h**power)[None, :, None]
    growth = error_growth(ref, sim, np.ones((3, 400), dtype=bool), dt)
    assert growth.exponent == pytest.approx(power, abs=0.05)
    assert np.all(np.diff(growth.horizon) > 0)


def test_error_growth_uses_only_counted_frames():
    dt = 0.01
    ref = np.zeros((2, 200, 1))
    sim = ref.copy()
    sim[0] = (np.arange(200) * dt)[:, None]
    sim[1] = 1e6  # run 1 is masked out entirely
    mask = np.zeros((2, 200), dtype=bool)
    mask[0] = True
    growth = error_growth(ref, sim, mask, dt)
    assert growth.exponent == pytest.approx(1.0, abs=0.05)
    assert growth.rmse.max() < 2.0


def test_torque_errors_perfect_and_offset():
    rng = np.random.default_rng(0)
    label = rng.normal(size=(2, 50, 1))
    mask = np.ones((2, 50), dtype=bool)
    perfect = torque_errors(label, label, mask)
    assert perfect["torque_rmse"] == 0.0 and perfect["torque_r2"] == pytest.approx(1.0)
    off = torque_errors(label + 0.2, label, mask)
    assert off["torque_rmse"] == pytest.approx(0.2)
    assert off["torque_r2"] < 1.0


def test_fit_pd_gains_recovers_known_gains():
    rng = np.random.default_rng(1)
    q, qd, target = (rng.normal(size=(3, 80, 2)) for _ in range(3))
    kp, kd = np.array([4.0, 9.0]), np.array([0.3, 0.05])
    tau = kp * (target - q) - kd * qd
    mask = np.ones((3, 80), dtype=bool)
    mask[:, -10:] = False
    tau[:, -10:] = 1e3  # masked garbage must not enter the fit
    fit_kp, fit_kd = fit_pd_gains(q, qd, target, tau, mask)
    np.testing.assert_allclose(fit_kp, kp, rtol=1e-9)
    np.testing.assert_allclose(fit_kd, kd, rtol=1e-9)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="expected"):
        masked_rmse(np.zeros((2, 3, 1)), np.ones((2, 4), dtype=bool))


def test_fit_pd_gains_never_returns_negative_damping():
    rng = np.random.default_rng(2)
    q, qd, target = (rng.normal(size=(2, 60, 1)) for _ in range(3))
    tau = 3.0 * (target - q) + 0.4 * qd  # a label implying negative damping
    kp, kd = fit_pd_gains(q, qd, target, tau, np.ones((2, 60), dtype=bool))
    assert kd[0] == 0.0
    assert kp[0] > 0.0
