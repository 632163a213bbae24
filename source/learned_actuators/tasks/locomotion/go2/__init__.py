"""Unitree Go2 velocity-tracking tasks with offline assets (and, per actuator, learned actuator models)."""

import gymnasium as gym

from . import agents

TASK_PREFIX = "LearnedActuators-Velocity"

gym.register(
    id=f"{TASK_PREFIX}-Flat-UnitreeGo2-Offline",
    entry_point="isaaclab.envs:ManagerBasedRLEnv",
    disable_env_checker=True,
    kwargs={
        "env_cfg_entry_point": f"{__name__}.flat_env_cfg:UnitreeGo2FlatOfflineEnvCfg",
        "rsl_rl_cfg_entry_point": f"{agents.__name__}.rsl_rl_ppo_cfg:Go2FlatOfflinePPORunnerCfg",
        "default_agent": "rsl_rl",
    },
)

gym.register(
    id=f"{TASK_PREFIX}-Rough-UnitreeGo2-Offline",
    entry_point="isaaclab.envs:ManagerBasedRLEnv",
    disable_env_checker=True,
    kwargs={
        "env_cfg_entry_point": f"{__name__}.rough_env_cfg:UnitreeGo2RoughOfflineEnvCfg",
        "rsl_rl_cfg_entry_point": f"{agents.__name__}.rsl_rl_ppo_cfg:Go2RoughOfflinePPORunnerCfg",
        "default_agent": "rsl_rl",
    },
)
