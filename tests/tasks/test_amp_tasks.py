"""Registration of the Go2 torque-aware AMP tasks (cfg objects only, no simulator)."""

import importlib

import gymnasium as gym
import pytest

import learned_actuators.tasks  # noqa: F401
from learned_actuators.amp.algorithm import TorqueAmpPPO
from learned_actuators.envs import load_task_cfgs

pytestmark = pytest.mark.unit

PREFIX = "LearnedActuators-Velocity-Flat-UnitreeGo2"
TASKS = {
    f"{PREFIX}-AMP-Offline": ("DCMotorCfg", "go2_flat_amp_dc"),
    f"{PREFIX}-GRUPD-AMP-Offline": ("CombinedGRUAndPDActuatorCfg", "go2_flat_amp_gru_pd"),
    f"{PREFIX}-LSTM-AMP-Offline": (None, "go2_flat_amp_lstm"),
    f"{PREFIX}-MLP-AMP-Offline": (None, "go2_flat_amp_mlp"),
}


@pytest.mark.parametrize("task", sorted(TASKS))
def test_amp_task_has_the_amp_observations_and_algorithm(task):
    spec = gym.spec(task)
    assert spec.kwargs["env_cfg_entry_point"].split(":")[0].endswith("amp_env_cfg")
    env_cfg, agent_cfg = load_task_cfgs(task)
    actuator, experiment = TASKS[task]
    amp = env_cfg.observations.amp
    terms = [name for name in ("joint_pos", "joint_vel", "joint_torque", "base_lin_vel", "base_ang_vel")]
    assert [getattr(amp, n).func.__name__ for n in terms] == [
        "joint_pos",
        "joint_vel",
        "joint_effort",
        "base_link_lin_vel_b",
        "base_link_ang_vel_b",
    ]
    assert amp.concatenate_terms and not amp.enable_corruption
    assert env_cfg.observations.policy.enable_corruption  # the policy's observations are the stock ones
    assert env_cfg.scene.terrain.terrain_type == "usd"  # offline flat ground
    if actuator is not None:
        assert type(env_cfg.scene.robot.actuators["base_legs"]).__name__ == actuator
    assert agent_cfg.experiment_name == experiment
    module, name = agent_cfg.algorithm.class_name.split(":")
    assert getattr(importlib.import_module(module), name) is TorqueAmpPPO
    assert agent_cfg.algorithm.torque_weight == 1.0 and agent_cfg.algorithm.motion_files == []
    assert agent_cfg.algorithm.learning_rate == 1.0e-3  # the stock Go2 PPO settings are kept
