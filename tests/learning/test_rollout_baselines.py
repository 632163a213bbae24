import dataclasses

import numpy as np
import pytest

from learned_actuators.learning import PhysicsCfg, error_vs_horizon, fit_pd_friction, fit_physics, rollout
from learned_actuators.learning.baselines import PDFrictionBaseline
from tests.learning.conftest import COULOMB, REF_KD, REF_NLS, REF_STALL, make_runs

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def linear_runs():
    """Reference actuator without torque-speed curve or friction: exactly a PD law."""
    from learned_actuators.data.synthetic import simulate_reference_actuator
    from learned_actuators.physics import PhysicsParams

    runs = []
    for kp in (2.0, 4.0):
        log = simulate_reference_actuator(PhysicsParams(kp=kp, kd=0.04), 0.01, 0.3, 0.1, duration=2.0, name=f"k{kp}")
        log.meta.pop("qdd")
        runs.append(log)
    return runs


def test_pd_fit_recovers_a_pd_law(linear_runs):
    base = fit_pd_friction(linear_runs)
    g, b, c, d, e = base.coef["all"]
    assert g == pytest.approx(1.0, rel=1e-3) and b == pytest.approx(0.04, rel=1e-2)
    assert abs(c) < 1e-3 and abs(d) < 1e-3
    assert abs(e) < 1e-9  # no feed-forward torque logged: its term stays out of the fit
    per = fit_pd_friction(linear_runs, per_gain=True)
    assert set(per.coef) == {"2.0", "4.0"}


def test_rollout_of_the_true_law_tracks_and_a_wrong_law_does_not(linear_runs):
    good = PDFrictionBaseline({"all": np.array([1.0, 0.04, 0.0, 0.0])}, per_gain=False)
    bad = PDFrictionBaseline({"all": np.array([0.5, 0.04, 0.0, 0.0])}, per_gain=False)
    r_good, r_bad = rollout(good, linear_runs), rollout(bad, linear_runs)
    assert r_good.rmse.max() < 0.01
    assert r_bad.rmse.min() > 5 * r_good.rmse.max()
    assert not r_good.diverged.any()
    assert len(r_good.q_sim[0]) == len(linear_runs[0])


def test_error_grows_with_horizon_for_a_wrong_model(linear_runs):
    bad = PDFrictionBaseline({"all": np.array([0.7, 0.01, 0.0, 0.0])}, per_gain=False)
    err = error_vs_horizon(bad, linear_runs, horizons=(1, 10, 50), stride=20)
    assert err[1] < err[10] < err[50]
    assert err[1] < 1e-3  # one step from the logged state barely moves


def test_diverging_rollout_is_flagged(linear_runs):
    unstable = PDFrictionBaseline({"all": np.array([1.0, -1.0, 0.0, 0.0])}, per_gain=False)  # negative damping
    assert rollout(unstable, linear_runs).diverged.all()


def test_physics_fit_recovers_reference_parameters():
    runs = make_runs(kps=(2.0, 4.0, 6.0), duration=3.0)
    for log in runs:
        log.meta["kp"] = log.meta["kp"] / 0.01  # logs store a raw gain 100x the N·m/rad value
    start = PhysicsCfg(kp_scale=0.005, kd=0.0, stall_torque=0.5, no_load_speed=30.0, fit=True)
    fitted = fit_physics(runs, start)
    assert fitted.kp_scale == pytest.approx(0.01, rel=0.03)
    assert fitted.kd == pytest.approx(REF_KD, abs=0.02)
    assert fitted.stall_torque == pytest.approx(REF_STALL, rel=0.1)
    assert fitted.no_load_speed == pytest.approx(REF_NLS, rel=0.2)
    assert COULOMB > 0  # without a friction term the fit cannot express it; it stays for the residual net
    assert fitted.friction is None
    with_friction = fit_physics(runs, dataclasses.replace(start, friction=0.0))
    assert with_friction.friction == pytest.approx(COULOMB, rel=0.15)
    no_curve = fit_physics(runs, dataclasses.replace(start, stall_torque=None, no_load_speed=None))
    assert no_curve.stall_torque is None


def test_the_ideal_pd_is_a_clipped_pd_on_the_fitted_gain_scale(linear_runs):
    from learned_actuators.learning.baselines import IdealPDBaseline, fit_ideal_pd

    raw = []
    for log in linear_runs:  # raw gains 100x the N·m/rad value, as servo logs store them
        log = dataclasses.replace(log, meta={**log.meta, "kp": log.meta["kp"] * 100})
        raw.append(log)
    start = PhysicsCfg(kp_scale=0.004, kd=0.0, stall_torque=None, no_load_speed=None, friction=0.02, fit=False)
    ideal = fit_ideal_pd(raw, start)  # fitted although the cfg says fit=False: a baseline is always fitted
    assert ideal.physics.kp_scale == pytest.approx(0.01, rel=1e-3) and ideal.physics.kd == pytest.approx(0.04, rel=1e-2)
    assert rollout(ideal, raw).rmse.max() < 0.01  # the true law tracks
    log = raw[1]
    e, qd = log.q_target[:, 0] - log.q[:, 0], log.qd[:, 0]
    clipped = IdealPDBaseline(dataclasses.replace(ideal.physics, stall_torque=0.05, friction=0.3))
    expected = np.clip(4.0 * e - 0.04 * qd, -0.05, 0.05)  # no friction, no curve: the limit alone
    np.testing.assert_allclose(clipped.predict(log), expected, atol=1e-3 * 0.05)
    assert np.abs(clipped.predict(log)).max() == pytest.approx(0.05)
    stepper = clipped.stepper_for([log])
    stepper.reset(1)
    import torch

    one = stepper.step(*(torch.as_tensor(a[None, 5]) for a in (log.q[:, 0], qd, log.q_target[:, 0])))
    assert float(one[0]) == pytest.approx(expected[5], abs=1e-6)
