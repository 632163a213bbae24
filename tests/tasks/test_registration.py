"""Task registration and the offline cfg deltas (cfg objects only, no simulator)."""

import gymnasium as gym
import pytest

import learned_actuators.tasks  # noqa: F401
from learned_actuators.assets.paths import go2_usd_path, ground_plane_usd_path
from learned_actuators.envs import load_task_cfgs

pytestmark = pytest.mark.unit

FLAT = "LearnedActuators-Velocity-Flat-UnitreeGo2-Offline"


def test_offline_flat_task_registered_with_rsl_rl_agent():
    spec = gym.spec(FLAT)
    assert spec.entry_point == "isaaclab.envs:ManagerBasedRLEnv"
    assert spec.kwargs["env_cfg_entry_point"].endswith("flat_env_cfg:UnitreeGo2FlatOfflineEnvCfg")
    assert spec.kwargs["rsl_rl_cfg_entry_point"].endswith(":Go2FlatOfflinePPORunnerCfg")


def test_offline_flat_cfg_uses_only_local_files():
    env_cfg, agent_cfg = load_task_cfgs(FLAT)
    assert env_cfg.scene.robot.spawn.usd_path == str(go2_usd_path())
    assert env_cfg.scene.terrain.terrain_type == "usd"
    assert env_cfg.scene.terrain.usd_path == str(ground_plane_usd_path())
    assert env_cfg.scene.terrain.visual_material is None
    assert env_cfg.scene.sky_light is None
    assert env_cfg.scene.contact_forces.prim_path == "{ENV_REGEX_NS}/Robot/.*"
    assert agent_cfg.experiment_name == "go2_flat_offline"


def test_offline_flat_cfg_keeps_stock_go2_actuators_and_init_state():
    from isaaclab_assets.robots.unitree import UNITREE_GO2_CFG

    env_cfg, _ = load_task_cfgs(FLAT)
    robot = env_cfg.scene.robot
    assert robot.init_state.joint_pos == UNITREE_GO2_CFG.init_state.joint_pos
    assert robot.actuators["base_legs"].actuator_effort_limit == {
        ".*_hip_joint": 23.7,
        ".*_thigh_joint": 23.7,
        ".*_calf_joint": 45.43,
    }


def test_official_asset_switch_keeps_nucleus_paths(monkeypatch):
    monkeypatch.setenv("LEARNED_ACTUATORS_GO2_ASSET", "official")
    env_cfg, _ = load_task_cfgs(FLAT)
    assert env_cfg.scene.robot.spawn.usd_path.endswith("Robots/Unitree/Go2/go2.usd")
    assert env_cfg.scene.terrain.terrain_type == "plane"


def test_bad_asset_switch_value_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("LEARNED_ACTUATORS_GO2_ASSET", "nucleus")
    with pytest.raises(ValueError, match="LEARNED_ACTUATORS_GO2_ASSET"):
        load_task_cfgs(FLAT)


def test_offline_rough_cfg_uses_local_robot_and_procedural_terrain():
    env_cfg, agent_cfg = load_task_cfgs("LearnedActuators-Velocity-Rough-UnitreeGo2-Offline")
    assert env_cfg.scene.robot.spawn.usd_path == str(go2_usd_path())
    assert env_cfg.scene.terrain.terrain_type == "generator"
    assert env_cfg.scene.terrain.visual_material is None
    assert env_cfg.scene.height_scanner.prim_path == "{ENV_REGEX_NS}/Robot/Geometry/base"
    assert agent_cfg.experiment_name == "go2_rough_offline"
