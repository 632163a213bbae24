"""The whole low-level command (target velocity, feed-forward torque, per-step gains) in features, physics fits,
baselines, rollouts and training, on synthetic logs driven by a known command law."""

import dataclasses

import numpy as np
import pytest
import torch

from learned_actuators.data.joint_log import JointLog
from learned_actuators.data.synthetic import simulate_reference_runs
from learned_actuators.learning import PhysicsCfg, train
from learned_actuators.learning.baselines import fit_pd_friction, fit_physics
from learned_actuators.learning.evaluation import evaluate
from learned_actuators.learning.features import run_command, step_feature, tau_phys
from learned_actuators.learning.rollout import rollout
from learned_actuators.learning.rollout_loss import rollout_loss
from learned_actuators.learning.sysid import PARAMS, TrajectoryPhysics
from learned_actuators.learning.trainer import prepare_training
from learned_actuators.learning.windows import TrainingWindows
from learned_actuators.physics import pd_torque, physical_torque

from .conftest import quick_cfg, rmse

pytestmark = pytest.mark.unit

# the synthetic actuator's torque-speed curve and Coulomb friction (data/synthetic.py), without its lag and stiction
TRUE = PhysicsCfg(kd=0.2, stall_torque=3.0, no_load_speed=6.0, friction=0.02)


@pytest.fixture(scope="module")
def full_runs():
    return simulate_reference_runs(10, 3.0, 0.01, seed=2, lag_s=(0.0, 0.0), stiction=0.0, full_command=True)


def _strip(logs):
    """The same runs as a position-only log would give them: no command channels, the run's median gain."""
    return [
        dataclasses.replace(g, channels={}, meta={**g.meta, "kp": float(np.median(g.channels["kp"]))}) for g in logs
    ]


def test_pd_torque_of_the_whole_command_in_place_and_allocating():
    g = torch.Generator().manual_seed(0)
    q, qd, qt, vt, ff, kp, kd = (torch.randn(6, generator=g) for _ in range(7))
    want = kp * (qt - q) + kd * (vt - qd) + ff
    torch.testing.assert_close(pd_torque(q, qd, qt, kp, kd, qd_target=vt, tau_ff=ff), want)
    out, scratch = torch.empty(6), torch.empty(6)
    got = pd_torque(q, qd, qt, kp, kd, out=out, qd_target=vt, tau_ff=ff, scratch=scratch)
    assert got is out
    torch.testing.assert_close(out, want)
    assert torch.equal(pd_torque(q, qd, qt, kp, kd), kp * (qt - q) - kd * qd)  # no command terms: as before
    # the torque-speed saturation applies to the whole PD torque, feed-forward included
    big = torch.full((6,), 50.0)
    assert physical_torque(q * 0, qd * 0, q * 0, 1.0, 0.0, 0.0, 0.0, 2.0, 5.0, tau_ff=big).max() == 2.0


def test_features_of_the_command():
    q, qd, qt, vt, ff = (torch.tensor([x]) for x in (0.1, 0.5, 0.3, -0.4, 0.7))
    assert step_feature("qd_target", q, qd, qt, 2.0, 0.3, None, qd_target=vt) == vt
    assert step_feature("tau_ff", q, qd, qt, 2.0, 0.3, None, tau_ff=ff) == ff
    assert step_feature("tau_ff", q, qd, qt, 2.0, 0.3, None) == 0.0  # not commanded: zero
    tau_pd = step_feature("tau_pd", q, qd, qt, 2.0, 0.3, None, qd_target=vt, tau_ff=ff)
    torch.testing.assert_close(tau_pd, 2.0 * (qt - q) + 0.3 * (vt - qd) + ff)
    buf = torch.empty(1)
    step_feature("qd_target", q, qd, qt, 2.0, 0.3, None, out=buf, qd_target=vt)
    assert buf == vt


def test_run_command_reads_per_step_gains_and_the_logged_terms(full_runs):
    log = full_runs[0]
    params, kp, extras = run_command(log, PhysicsCfg(kp_scale=2.0))
    np.testing.assert_array_equal(kp, 2.0 * log.channels["kp"][:, 0])
    assert kp[-1] == pytest.approx(1.5 * kp[0])  # the gain steps up halfway through the run
    assert params.kp == pytest.approx(float(np.median(kp)))
    assert set(extras) == {"qd_target", "tau_ff", "kd"}
    np.testing.assert_array_equal(extras["tau_ff"], log.channels["tau_ff"][:, 0])
    _, fixed, _ = run_command(log, PhysicsCfg(kp=5.0))
    assert fixed == 5.0  # a fixed gain in the cfg wins over the logged one
    _, kp_plain, none = run_command(_strip([log])[0], PhysicsCfg())
    assert np.isscalar(kp_plain) and none == {}


def test_the_physics_prior_explains_the_torque_only_with_the_command(full_runs):
    with_cmd, without = [], []
    for log, plain in zip(full_runs, _strip(full_runs), strict=True):
        p, kp, extras = run_command(log, TRUE)
        with_cmd.append(rmse(tau_phys(log.q[:, 0], log.qd[:, 0], log.q_target[:, 0], kp, p, **extras), log.tau[:, 0]))
        p, kp, extras = run_command(plain, TRUE)
        without.append(rmse(tau_phys(plain.q[:, 0], plain.qd[:, 0], plain.q_target[:, 0], kp, p), plain.tau[:, 0]))
    assert np.mean(with_cmd) < 0.25 * np.mean(without)


def test_fit_physics_uses_the_command_and_keeps_the_logged_damping(full_runs):
    start = dataclasses.replace(TRUE, kp_scale=0.5, kd=1.0, fit=True)
    fitted = fit_physics(full_runs, start)
    assert fitted.kp_scale == pytest.approx(1.0, abs=0.1)
    assert fitted.kd == 1.0  # every run logs kd: not a free parameter
    plain = fit_physics(_strip(full_runs), start)
    assert abs(plain.kp_scale - 1.0) > abs(fitted.kp_scale - 1.0)


def test_fit_physics_matches_the_motor_part_to_the_logged_motor_torque():
    """``tau_motor`` (current × torque constant) pins the PD; the friction is what separates it from the joint label.

    The joint torque labels are noisy (inverse dynamics), the motor current clean: with the current the gain and
    damping come out within 1 % and the friction within 10 %, closer than from the labels alone, also with a torque
    constant 30 % off; a run that logs only the current (no joint torque) still fits.
    """
    rng = np.random.default_rng(0)
    truth = PhysicsCfg(kp_scale=0.9, kd=0.3, friction=0.2, friction_velocity=0.05)
    logs = []
    for r in range(4):
        n = 2000
        q, qt, qd = rng.normal(size=n), rng.normal(size=n), rng.normal(scale=0.5, size=n)
        kp = np.full(n, 2.0 * (r + 1))
        params = truth.at_gain(1.0)
        motor = tau_phys(q, qd, qt, 0.9 * kp, dataclasses.replace(params, friction=0.0))
        joint = tau_phys(q, qd, qt, 0.9 * kp, params) + rng.normal(scale=1.0, size=n)
        channels = {"kp": kp, "tau_motor": motor + rng.normal(scale=0.01, size=n)}
        logs.append(JointLog(f"r{r}", "<test>", np.arange(n) * 0.01, q, qt, qd, joint, channels=channels))
    start = dataclasses.replace(truth, kp_scale=0.5, kd=0.0, friction=0.0, fit=True)
    fitted = fit_physics(logs, start)
    assert fitted.kp_scale == pytest.approx(0.9, rel=0.01) and fitted.kd == pytest.approx(0.3, rel=0.01)
    assert fitted.friction == pytest.approx(0.2, rel=0.1)
    labels_only = fit_physics([dataclasses.replace(g, channels={"kp": g.channels["kp"]}) for g in logs], start)
    assert abs(labels_only.kd - 0.3) > 3 * abs(fitted.kd - 0.3)  # the current pins the damping the labels blur
    current_only = fit_physics([dataclasses.replace(logs[0], tau=None)], dataclasses.replace(start, friction=None))
    assert current_only.kp_scale == pytest.approx(0.9, rel=0.01) and current_only.kd == pytest.approx(0.3, rel=0.02)
    off = [dataclasses.replace(g, channels={**g.channels, "tau_motor": g.channels["tau_motor"] / 1.3}) for g in logs]
    refined = fit_physics(off, start)  # a torque constant 30 % low: its scale is refined on the joint labels
    assert refined.kp_scale == pytest.approx(0.9, rel=0.01) and refined.kd == pytest.approx(0.3, rel=0.01)


def test_pd_baseline_recovers_a_known_feed_forward_law():
    rng = np.random.default_rng(0)
    logs = []
    for r in range(3):
        n = 400
        q, qd, qt, vt, ff = (rng.normal(size=n) for _ in range(5))
        kp = np.where(np.arange(n) < n // 2, 2.0, 3.0) * (r + 1)
        tau = 0.9 * kp * (qt - q) + 0.3 * (vt - qd) + 1.0 * ff + 0.05
        channels = {"kp": kp, "qd_target": vt, "tau_ff": ff}
        logs.append(JointLog(f"r{r}", "<test>", np.arange(n) * 0.01, q, qt, qd, tau, channels=channels))
    g, b, c, d, e = fit_pd_friction(logs).coef["all"]
    np.testing.assert_allclose([g, b, c, d, e], [0.9, 0.3, 0.0, 0.05, 1.0], atol=1e-9)


def test_pd_baseline_rolls_out_with_the_logged_command(full_runs):
    train_runs, test_runs = full_runs[:7], full_runs[7:]
    base = fit_pd_friction(train_runs)
    assert base.coef["all"][4] > 0.1  # the feed-forward coefficient (below 1: the linear fit has no torque curve)
    plain = fit_pd_friction(_strip(train_runs))
    torque = evaluate(base, test_runs, with_rollout=False)["rmse"]
    assert torque < 0.9 * evaluate(plain, _strip(test_runs), with_rollout=False)["rmse"]
    # the rollout hands each step's logged command to the stepper: the same model without it tracks worse
    assert rollout(base, test_runs).mean_rmse < 0.8 * rollout(base, _strip(test_runs)).mean_rmse


def test_trajectory_physics_delays_the_whole_command(full_runs):
    log = full_runs[0]
    values = {k: 0.0 for k in PARAMS} | {"gain": 1.0, "kd": 0.2, "stall_torque": 3.0, "no_load_speed": 6.0}
    model = TrajectoryPhysics(values, base=PhysicsCfg(kd=0.2))
    p, kp, extras = run_command(log, PhysicsCfg(kd=0.2))
    q, qd, qt = log.q[:, 0], log.qd[:, 0], log.q_target[:, 0]
    want = tau_phys(q, qd, qt, kp, dataclasses.replace(p, stall_torque=3.0, no_load_speed=6.0), **extras)
    np.testing.assert_allclose(model.predict(log), want, atol=1e-9)
    delayed = TrajectoryPhysics(values | {"delay": 2 * log.dt}, base=PhysicsCfg(kd=0.2))
    shift = {k: np.r_[v[:1], v[:1], v[:-2]] for k, v in extras.items()}
    kp2 = np.r_[kp[:1], kp[:1], kp[:-2]]
    qt2 = np.r_[qt[:1], qt[:1], qt[:-2]]
    want2 = tau_phys(q, qd, qt2, kp2, dataclasses.replace(p, stall_torque=3.0, no_load_speed=6.0), **shift)
    np.testing.assert_allclose(delayed.predict(log), want2, atol=1e-6)


def _trained(logs, **kw):
    cfg = quick_cfg("gru_pd", physics=dataclasses.replace(TRUE, kp_scale=1.0), max_epochs=4, **kw)
    return train(cfg, logs).model


def test_gru_pd_learns_the_command_it_sees_and_its_stepper_applies_it(full_runs):
    train_runs, test_runs = full_runs[:7], full_runs[7:]
    features = ["pos_error", "qd", "kp", "tau_pd", "tau_phys", "qd_target", "tau_ff"]
    cfg_gru = dataclasses.replace(quick_cfg("gru_pd").gru, features=features)
    model = _trained(train_runs, gru=cfg_gru)
    blind = _trained(_strip(train_runs), gru=cfg_gru)
    err = evaluate(model, test_runs, with_rollout=False)["rmse"]
    assert err < 0.5 * evaluate(blind, _strip(test_runs), with_rollout=False)["rmse"]
    # stepping the exported module with each step's logged command gives the teacher-forced prediction
    log = test_runs[0]
    stepper = model.stepper_for([log])
    stepper.reset(1)
    steps = []
    for i in range(len(log)):
        command = {k: torch.as_tensor(log.channels[k][i]) for k in ("qd_target", "tau_ff", "kp", "kd")}
        state = (torch.as_tensor(a[i]) for a in (log.q, log.qd, log.q_target))
        steps.append(float(stepper.step(*state, command)[0]))
    np.testing.assert_allclose(steps, model.predict(log), atol=2e-4)


def test_rollout_loss_drives_the_load_with_the_logged_command(full_runs):
    cfg = quick_cfg("gru_pd", physics=TRUE, seq_len_s=1.0, burn_in_s=0.1)
    cfg.rollout_loss = dataclasses.replace(cfg.rollout_loss, enabled=True, horizon_s=0.5, starts_per_window=2)
    model = prepare_training(cfg, full_runs[:4], None, None).model
    with torch.no_grad():
        for param in model.net.head.parameters():
            param.zero_()  # residual zero: the physics prior alone drives the load
    data = TrainingWindows(model, full_runs[:4], cfg)
    batch = data.batch(torch.arange(len(data)))
    np.testing.assert_allclose(
        batch.raw[0, :, 4].numpy(), full_runs[0].channels["tau_ff"][: batch.raw.shape[1], 0], rtol=1e-6
    )
    model.output_norm.mean[:] = 0.0
    with torch.no_grad():
        seen = float(rollout_loss(model, cfg, batch, torch.Generator().manual_seed(0)))
        blind_raw = batch.raw.clone()
        blind_raw[..., 3:5] = 0.0  # no target velocity, no feed-forward torque
        blind = float(rollout_loss(model, cfg, batch._replace(raw=blind_raw), torch.Generator().manual_seed(0)))
    assert seen < 0.25 * blind
