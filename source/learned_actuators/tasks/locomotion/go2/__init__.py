"""Unitree Go2 velocity-tracking tasks with offline assets (and, per actuator, learned actuator models).

Task ids (``TASK_PREFIX`` = ``LearnedActuators-Velocity``):

* ``<prefix>-{Flat,Rough}-UnitreeGo2-Offline``: Isaac Lab's Go2 task (DC motors) with local assets.
* ``<prefix>-{Flat,Rough}-UnitreeGo2-{GRUPD,LSTM,MLP}-Offline``: the same with a learned actuator
  (:mod:`.learned_env_cfg`); the network file is set with
  ``env.scene.robot.actuators.base_legs.network_file=/path/net.pt``.
* ``<prefix>-{Flat,Rough}-UnitreeGo2-{GRUPD,LSTM,MLP}``: learned actuator on Isaac Lab's official (Nucleus) assets.
* ``<prefix>-Flat-UnitreeGo2-{GRUPD,LSTM,MLP}-Randomized-Offline``: the same with per-env actuator randomisation and
  target delay drawn at each reset (:mod:`.randomized_env_cfg`).
* ``<prefix>-Flat-UnitreeGo2[-{GRUPD,LSTM,MLP}]-AMP-Offline``: torque-aware AMP (:mod:`.amp_env_cfg`,
  ``scripts/train_torque_amp.py``), stock DC motors or a learned actuator, local assets.
"""

import gymnasium as gym

from . import agents

TASK_PREFIX = "LearnedActuators-Velocity"

LEARNED_ACTUATORS = ("GRUPD", "LSTM", "MLP")
"""Task-id part naming each learned actuator (also the infix of its cfg class names)."""


def _register(task_id: str, env_cfg: str, agent_cfg: str) -> None:
    """Register a manager-based task with lazy (string) cfg entry points and rsl-rl as its agent."""
    gym.register(
        id=f"{TASK_PREFIX}-{task_id}",
        entry_point="isaaclab.envs:ManagerBasedRLEnv",
        disable_env_checker=True,
        kwargs={
            "env_cfg_entry_point": f"{__name__}.{env_cfg}",
            "rsl_rl_cfg_entry_point": f"{agents.__name__}.{agent_cfg}",
            "default_agent": "rsl_rl",
        },
    )


for _terrain in ("Flat", "Rough"):
    # Isaac Lab's Go2 task (DC motors) with local assets
    _register(
        f"{_terrain}-UnitreeGo2-Offline",
        f"{_terrain.lower()}_env_cfg:UnitreeGo2{_terrain}OfflineEnvCfg",
        f"rsl_rl_ppo_cfg:Go2{_terrain}OfflinePPORunnerCfg",
    )
    for _actuator in LEARNED_ACTUATORS:
        for _suffix in ("-Offline", ""):
            _register(
                f"{_terrain}-UnitreeGo2-{_actuator}{_suffix}",
                f"learned_env_cfg:UnitreeGo2{_terrain}{_actuator}{_suffix.lstrip('-')}EnvCfg",
                f"rsl_rl_learned_ppo_cfg:Go2{_terrain}{_actuator}PPORunnerCfg",
            )

# Per-env actuator randomisation and target delay (flat, offline assets), each learned actuator
for _actuator in LEARNED_ACTUATORS:
    _register(
        f"Flat-UnitreeGo2-{_actuator}-Randomized-Offline",
        f"randomized_env_cfg:UnitreeGo2Flat{_actuator}RandomizedOfflineEnvCfg",
        f"rsl_rl_learned_ppo_cfg:Go2Flat{_actuator}PPORunnerCfg",
    )

# Torque-aware AMP (flat, offline assets): stock DC motors, then each learned actuator
_register(
    "Flat-UnitreeGo2-AMP-Offline",
    "amp_env_cfg:UnitreeGo2FlatAmpOfflineEnvCfg",
    "rsl_rl_amp_ppo_cfg:Go2FlatAmpPPORunnerCfg",
)
for _actuator in LEARNED_ACTUATORS:
    _register(
        f"Flat-UnitreeGo2-{_actuator}-AMP-Offline",
        f"amp_env_cfg:UnitreeGo2Flat{_actuator}AmpOfflineEnvCfg",
        f"rsl_rl_amp_ppo_cfg:Go2Flat{_actuator}AmpPPORunnerCfg",
    )
