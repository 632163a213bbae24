"""The Go2 facts of the excitation tool agree with Isaac Lab's Go2 cfg and our Go2 task."""

from __future__ import annotations

import re

import pytest

from learned_actuators.excitation import ExcitationCfg
from learned_actuators.excitation.go2 import (
    GO2_GROUPS,
    GO2_JOINT_NAMES,
    GO2_MOTOR_LIMITS,
    GO2_NOMINAL_POSE,
    GO2_TASK_GAINS,
    GO2_UNITREE_MOTOR_ORDER,
    joint_part,
)
from learned_actuators.models import GO2_JOINT_LIMITS

pytestmark = pytest.mark.unit


def _resolve(patterns: dict, name: str):
    values = [v for p, v in patterns.items() if re.fullmatch(p, name)]
    assert len(values) == 1, (name, patterns)
    return values[0]


def test_nominal_pose_gains_and_motor_limits_are_isaac_labs_go2():
    from isaaclab_assets.robots.unitree import UNITREE_GO2_CFG

    legs = UNITREE_GO2_CFG.actuators["base_legs"]
    for name in GO2_JOINT_NAMES:
        assert GO2_NOMINAL_POSE[name] == _resolve(UNITREE_GO2_CFG.init_state.joint_pos, name)
        stall, speed = GO2_MOTOR_LIMITS[joint_part(name)]
        assert stall == _resolve(legs.saturation_effort, name) == _resolve(GO2_JOINT_LIMITS, name)[0]
        assert speed == _resolve(legs.actuator_velocity_limit, name) == _resolve(GO2_JOINT_LIMITS, name)[1]
    assert (legs.stiffness, legs.damping) == GO2_TASK_GAINS


def test_the_default_control_rate_and_gains_are_the_go2_tasks():
    from learned_actuators.envs import load_task_cfgs
    from learned_actuators.excitation.sim_backend import DEFAULT_TASK

    env_cfg, _ = load_task_cfgs(DEFAULT_TASK)
    cfg = ExcitationCfg()
    assert 1.0 / cfg.control_hz == pytest.approx(env_cfg.sim.dt * env_cfg.decimation)
    legs = env_cfg.scene.robot.actuators["base_legs"]
    assert (cfg.kp, cfg.kd) == (legs.stiffness, legs.damping)


def test_joint_orders_and_groups():
    from learned_actuators.validation.replay import GO2_JOINT_NAMES as REPLAY_NAMES

    assert GO2_JOINT_NAMES == REPLAY_NAMES
    assert GO2_UNITREE_MOTOR_ORDER[:3] == ["FR_hip_joint", "FR_thigh_joint", "FR_calf_joint"]
    assert GO2_UNITREE_MOTOR_ORDER[9:] == ["RL_hip_joint", "RL_thigh_joint", "RL_calf_joint"]
    assert sorted(GO2_UNITREE_MOTOR_ORDER) == sorted(GO2_JOINT_NAMES)
    assert GO2_GROUPS["calves"] == ["FL_calf_joint", "FR_calf_joint", "RL_calf_joint", "RR_calf_joint"]
    assert set(GO2_GROUPS) == {"hips", "thighs", "calves"}
