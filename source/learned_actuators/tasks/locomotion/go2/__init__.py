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


TASKS = (
    # Isaac Lab's Go2 task (DC motors) with local assets
    (
        "Flat-UnitreeGo2-Offline",
        "flat_env_cfg:UnitreeGo2FlatOfflineEnvCfg",
        "rsl_rl_ppo_cfg:Go2FlatOfflinePPORunnerCfg",
    ),
    (
        "Rough-UnitreeGo2-Offline",
        "rough_env_cfg:UnitreeGo2RoughOfflineEnvCfg",
        "rsl_rl_ppo_cfg:Go2RoughOfflinePPORunnerCfg",
    ),
    # A learned actuator, local assets
    (
        "Flat-UnitreeGo2-GRUPD-Offline",
        "learned_env_cfg:UnitreeGo2FlatGRUPDOfflineEnvCfg",
        "rsl_rl_learned_ppo_cfg:Go2FlatGRUPDPPORunnerCfg",
    ),
    (
        "Flat-UnitreeGo2-LSTM-Offline",
        "learned_env_cfg:UnitreeGo2FlatLSTMOfflineEnvCfg",
        "rsl_rl_learned_ppo_cfg:Go2FlatLSTMPPORunnerCfg",
    ),
    (
        "Flat-UnitreeGo2-MLP-Offline",
        "learned_env_cfg:UnitreeGo2FlatMLPOfflineEnvCfg",
        "rsl_rl_learned_ppo_cfg:Go2FlatMLPPPORunnerCfg",
    ),
    (
        "Rough-UnitreeGo2-GRUPD-Offline",
        "learned_env_cfg:UnitreeGo2RoughGRUPDOfflineEnvCfg",
        "rsl_rl_learned_ppo_cfg:Go2RoughGRUPDPPORunnerCfg",
    ),
    (
        "Rough-UnitreeGo2-LSTM-Offline",
        "learned_env_cfg:UnitreeGo2RoughLSTMOfflineEnvCfg",
        "rsl_rl_learned_ppo_cfg:Go2RoughLSTMPPORunnerCfg",
    ),
    (
        "Rough-UnitreeGo2-MLP-Offline",
        "learned_env_cfg:UnitreeGo2RoughMLPOfflineEnvCfg",
        "rsl_rl_learned_ppo_cfg:Go2RoughMLPPPORunnerCfg",
    ),
    # A learned actuator, Isaac Lab's official (Nucleus) assets
    (
        "Flat-UnitreeGo2-GRUPD",
        "learned_env_cfg:UnitreeGo2FlatGRUPDEnvCfg",
        "rsl_rl_learned_ppo_cfg:Go2FlatGRUPDPPORunnerCfg",
    ),
    (
        "Flat-UnitreeGo2-LSTM",
        "learned_env_cfg:UnitreeGo2FlatLSTMEnvCfg",
        "rsl_rl_learned_ppo_cfg:Go2FlatLSTMPPORunnerCfg",
    ),
    ("Flat-UnitreeGo2-MLP", "learned_env_cfg:UnitreeGo2FlatMLPEnvCfg", "rsl_rl_learned_ppo_cfg:Go2FlatMLPPPORunnerCfg"),
    (
        "Rough-UnitreeGo2-GRUPD",
        "learned_env_cfg:UnitreeGo2RoughGRUPDEnvCfg",
        "rsl_rl_learned_ppo_cfg:Go2RoughGRUPDPPORunnerCfg",
    ),
    (
        "Rough-UnitreeGo2-LSTM",
        "learned_env_cfg:UnitreeGo2RoughLSTMEnvCfg",
        "rsl_rl_learned_ppo_cfg:Go2RoughLSTMPPORunnerCfg",
    ),
    (
        "Rough-UnitreeGo2-MLP",
        "learned_env_cfg:UnitreeGo2RoughMLPEnvCfg",
        "rsl_rl_learned_ppo_cfg:Go2RoughMLPPPORunnerCfg",
    ),
    # Per-env actuator randomisation and target delay (flat, local assets)
    (
        "Flat-UnitreeGo2-GRUPD-Randomized-Offline",
        "randomized_env_cfg:UnitreeGo2FlatGRUPDRandomizedOfflineEnvCfg",
        "rsl_rl_learned_ppo_cfg:Go2FlatGRUPDPPORunnerCfg",
    ),
    (
        "Flat-UnitreeGo2-LSTM-Randomized-Offline",
        "randomized_env_cfg:UnitreeGo2FlatLSTMRandomizedOfflineEnvCfg",
        "rsl_rl_learned_ppo_cfg:Go2FlatLSTMPPORunnerCfg",
    ),
    (
        "Flat-UnitreeGo2-MLP-Randomized-Offline",
        "randomized_env_cfg:UnitreeGo2FlatMLPRandomizedOfflineEnvCfg",
        "rsl_rl_learned_ppo_cfg:Go2FlatMLPPPORunnerCfg",
    ),
    # Torque-aware AMP (flat, local assets): stock DC motors, then each learned actuator
    (
        "Flat-UnitreeGo2-AMP-Offline",
        "amp_env_cfg:UnitreeGo2FlatAmpOfflineEnvCfg",
        "rsl_rl_amp_ppo_cfg:Go2FlatAmpPPORunnerCfg",
    ),
    (
        "Flat-UnitreeGo2-GRUPD-AMP-Offline",
        "amp_env_cfg:UnitreeGo2FlatGRUPDAmpOfflineEnvCfg",
        "rsl_rl_amp_ppo_cfg:Go2FlatGRUPDAmpPPORunnerCfg",
    ),
    (
        "Flat-UnitreeGo2-LSTM-AMP-Offline",
        "amp_env_cfg:UnitreeGo2FlatLSTMAmpOfflineEnvCfg",
        "rsl_rl_amp_ppo_cfg:Go2FlatLSTMAmpPPORunnerCfg",
    ),
    (
        "Flat-UnitreeGo2-MLP-AMP-Offline",
        "amp_env_cfg:UnitreeGo2FlatMLPAmpOfflineEnvCfg",
        "rsl_rl_amp_ppo_cfg:Go2FlatMLPAmpPPORunnerCfg",
    ),
)
"""Every task of this package: (id after ``TASK_PREFIX``, env cfg and rsl-rl runner cfg as ``module:Class``)."""

for _task_id, _env_cfg, _agent_cfg in TASKS:
    _register(_task_id, _env_cfg, _agent_cfg)
