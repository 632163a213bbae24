"""The robot backend's loop against a fake robot: commands, logging, soft limits and the damping stop."""

from __future__ import annotations

import numpy as np
import pytest

from learned_actuators.errors import UserInputError
from learned_actuators.excitation import ExcitationCfg, build_plan
from learned_actuators.excitation.go2 import GO2_POSITION_LIMITS, GO2_UNITREE_MOTOR_ORDER
from learned_actuators.excitation.robot_backend import (
    MotorState,
    RobotBackendCfg,
    RobotSafetyError,
    SoftLimits,
    check_state,
    needs_resampling,
    run_robot_excitation,
)
from tests.excitation.fake_go2 import HANGING_POSE, FakeGo2

pytestmark = pytest.mark.unit

FR_CALF = GO2_UNITREE_MOTOR_ORDER.index("FR_calf_joint")


def _plan():
    cfg = ExcitationCfg(
        groups=["calves"],
        signals=["chirp", "steps"],
        chirp_duration_s=0.6,
        steps_duration_s=0.4,
        step_hold_s=0.1,
        settle_s=0.1,
        ramp_s=0.1,
        chirp_f0_hz=1.0,
        chirp_f1_hz=3.0,
    )
    return build_plan(cfg)


def _cfg(**kw) -> RobotBackendCfg:
    return RobotBackendCfg(rate_hz=500.0, approach_s=0.2, damping_s=0.05, **kw)


def _run(robot: FakeGo2, cfg: RobotBackendCfg | None = None, plan=None):
    plan = plan or _plan()
    return plan, run_robot_excitation(plan, cfg or _cfg(), robot, clock=robot.clock, sleep=robot.sleep)


def _is_damping(cmd, kd: float) -> bool:
    _, dq, kp, kd_, tau = cmd
    return bool((kp == 0).all() and np.allclose(kd_, kd) and (tau == 0).all() and (dq == 0).all())


def test_a_complete_session_sends_the_plan_at_its_gains_logs_every_cycle_and_ends_in_damping():
    robot = FakeGo2()
    plan, rec = _run(robot)
    cfg = _cfg()
    assert rec.info["stop_reason"] == "completed" and rec.info["backend"] == "robot"
    cycles = round((cfg.approach_s + plan.duration) * cfg.rate_hz)
    assert len(rec) == cycles - 1  # the last row has no torque response and is dropped
    np.testing.assert_allclose(np.diff(rec.t), 1 / cfg.rate_hz, atol=1e-9)
    excitation = [cmd for _, cmd in robot.sent if (cmd[2] > 0).any()]
    assert len(excitation) == cycles and all((cmd[2] > 0).any() for _, cmd in robot.sent[:cycles])
    np.testing.assert_allclose(excitation[0][0], HANGING_POSE, atol=1e-12)  # the approach starts where the legs are
    for q, dq, kp, kd, tau in excitation:
        assert (kp == 25.0).all() and (kd == 0.5).all() and (dq == 0).all() and (tau == 0).all()
        for i, joint in enumerate(GO2_UNITREE_MOTOR_ORDER):
            lo, hi = GO2_POSITION_LIMITS[joint]
            assert lo + 0.1 - 1e-9 <= q[i] <= hi - 0.1 + 1e-9 or joint not in plan.joint_names
    # the plan's targets reach the calves; row k logs the command of cycle k
    idx = [GO2_UNITREE_MOTOR_ORDER.index(j) for j in rec.joint_names]
    np.testing.assert_allclose(rec.q_target, np.array([c[0][idx] for c in excitation[: len(rec)]]))
    assert rec.q_target.min() < -1.5 - 0.2 and rec.q_target.max() > -1.5 + 0.2
    # row k's torque is the estimate read at cycle k + 1 (reads[0] is the start-up read)
    np.testing.assert_allclose(rec.tau, np.array([s.tau_est[idx] for s in robot.reads[2 : len(rec) + 2]]))
    np.testing.assert_allclose(rec.q, np.array([s.q[idx] for s in robot.reads[1 : len(rec) + 1]]))
    tail = [cmd for _, cmd in robot.sent[cycles:]]
    assert len(tail) >= cfg.damping_s * cfg.rate_hz and all(_is_damping(c, cfg.damping_kd) for c in tail)
    assert set(np.unique(rec.segment)) == {-1, 0, 1}


def _fault_at(t: float, motor: int, field: str, value: float):
    def fault(state: MotorState) -> MotorState:
        arrays = state._asdict()
        arrays[field] = arrays[field].copy()
        arrays[field][motor] = value
        return MotorState(**arrays)

    return (t, fault)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("q", GO2_POSITION_LIMITS["FR_calf_joint"][1] - 0.01, "FR_calf_joint position"),
        ("dq", 13.0, "FR_calf_joint speed 13"),
        ("tau_est", -26.0, "FR_calf_joint torque estimate -26"),
        ("q", float("nan"), "non-finite q"),
    ],
)
def test_a_soft_limit_violation_stops_at_once_into_damping_and_keeps_the_log(field, value, words):
    robot = FakeGo2()
    robot.reading_fault = _fault_at(0.5, FR_CALF, field, value)
    _, rec = _run(robot)
    assert words in rec.info["stop_reason"]
    after = robot.sent_after(0.5)
    assert after and all(_is_damping(c, 1.0) for c in after)  # not one more excitation command
    assert 0.5 - 0.02 < rec.t[-1] < 0.5  # rows up to the violation, each with its torque response
    assert np.isfinite(rec.tau).all() and np.isfinite(rec.q).all()


def test_ctrl_c_stops_into_damping_and_returns_what_was_logged():
    robot = FakeGo2()
    robot.interrupt_at = 0.4
    _, rec = _run(robot)
    assert rec.info["stop_reason"] == "interrupted (Ctrl-C)"
    assert all(_is_damping(c, 1.0) for c in robot.sent_after(0.4))
    assert 0.38 < rec.t[-1] < 0.4 and len(rec) > 150


def test_a_frozen_state_stream_stops_the_excitation():
    robot = FakeGo2()
    robot.freeze_at = 0.3
    _, rec = _run(robot)
    assert "no new motor state for" in rec.info["stop_reason"]
    assert all(_is_damping(c, 1.0) for c in robot.sent_after(0.3 + 0.05 + 0.002))


def test_a_stalled_control_loop_stops_the_excitation():
    robot = FakeGo2()
    robot.oversleep = (0.3, 0.2)
    _, rec = _run(robot)
    assert "control loop late by" in rec.info["stop_reason"]


def test_a_failing_channel_stops_with_the_error_and_keeps_the_log():
    robot = FakeGo2()
    robot.send_fails_at = 0.3
    _, rec = _run(robot)
    assert rec.info["stop_reason"].startswith("error: OSError: network unreachable")
    assert rec.info["damping_error"] == "OSError: network unreachable"
    assert len(rec) > 100


def test_it_refuses_to_start_outside_the_soft_limits_or_without_a_state():
    q0 = HANGING_POSE.copy()
    q0[FR_CALF] = GO2_POSITION_LIMITS["FR_calf_joint"][0] + 0.01
    robot = FakeGo2(q0=q0)
    with pytest.raises(RobotSafetyError, match="not starting: FR_calf_joint position"):
        _run(robot)
    assert robot.sent == []
    silent = FakeGo2()
    silent.started = False
    with pytest.raises(RobotSafetyError, match=r"no motor state within RobotBackendCfg\.startup_timeout_s=2 s"):
        _run(silent)
    assert silent.sent == []


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"rate_hz": 0.0}, "RobotBackendCfg.rate_hz=0.0: expected a number > 0"),
        ({"damping_kd": -1.0}, "RobotBackendCfg.damping_kd=-1.0"),
        ({"limits": SoftLimits(max_torque={"hip": 10.0})}, "RobotBackendCfg.limits.max_torque: expected one value"),
        ({"limits": SoftLimits(position_margin=0.7)}, "RobotBackendCfg.limits.position_margin=0.7"),
    ],
)
def test_bad_robot_settings_are_refused_before_anything_is_sent(kw, words):
    robot = FakeGo2()
    with pytest.raises(UserInputError) as err:
        run_robot_excitation(_plan(), RobotBackendCfg(**kw), robot, robot.clock, robot.sleep)
    assert words in str(err.value) and robot.sent == []


def test_check_state_and_the_default_soft_limits():
    limits = SoftLimits()
    q = HANGING_POSE.copy()
    zeros = np.zeros(12)
    assert check_state(q, zeros, zeros, limits) is None
    dq = zeros.copy()
    dq[0] = 15.5  # FR hip: limit 15 rad/s
    assert check_state(q, dq, zeros, limits).startswith("FR_hip_joint speed 15.5")
    dq[0] = 14.9
    assert check_state(q, dq, zeros, limits) is None


def test_needs_resampling_only_for_irregular_time_stamps():
    t = np.arange(1000) * 0.002
    assert not needs_resampling(t)
    rng = np.random.default_rng(0)
    assert not needs_resampling(t + rng.normal(0, 5e-5, t.size))
    assert needs_resampling(np.cumsum(rng.choice([0.002, 0.0035], size=1000, p=[0.9, 0.1])))
