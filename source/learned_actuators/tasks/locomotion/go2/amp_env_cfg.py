"""Go2 flat-terrain velocity tracking with the AMP feature observations, per actuator kind (offline assets).

Each cfg is a flat offline Go2 cfg (stock DC motors, or a learned actuator through
:func:`~.learned_env_cfg.use_learned_actuator`) plus the observation group ``"amp"``
(:data:`learned_actuators.amp.AMP_OBS_GROUP`): joint positions, joint velocities, the joint torques the actuator
model applied, and the base's linear and angular velocities in its own frame, uncorrupted, in the order of
:mod:`learned_actuators.amp.features`. So the torque the discriminator sees is our actuator model's, read where the
torque-profile recorder reads it (``articulation.actuators.applied_effort``). The policy and critic groups are
unchanged (rsl-rl's ``obs_groups`` use ``policy`` only).
"""

from __future__ import annotations

import torch

from isaaclab.envs import ManagerBasedEnv, mdp
from isaaclab.managers import ObservationGroupCfg, ObservationTermCfg, SceneEntityCfg
from isaaclab.utils import configclass

from learned_actuators.assets.unitree_go2_actuators import (
    GO2_LSTM_ACTUATOR_CFG,
    GO2_MLP_ACTUATOR_CFG,
    GO2_STARTER_GRU_PD_ACTUATOR_CFG,
)

from .flat_env_cfg import UnitreeGo2FlatOfflineEnvCfg
from .learned_env_cfg import LearnedActuatorEnvCfgMixin, use_learned_actuator

_ROBOT = SceneEntityCfg("robot")


def base_link_lin_vel_b(env: ManagerBasedEnv, asset_cfg: SceneEntityCfg = _ROBOT) -> torch.Tensor:
    """Root link linear velocity in the root frame [m/s], shape (E, 3) (the recorder records link velocities)."""
    return env.scene[asset_cfg.name].data.root_link_lin_vel_b.torch


def base_link_ang_vel_b(env: ManagerBasedEnv, asset_cfg: SceneEntityCfg = _ROBOT) -> torch.Tensor:
    """Root link angular velocity in the root frame [rad/s], shape (E, 3)."""
    return env.scene[asset_cfg.name].data.root_link_ang_vel_b.torch


@configclass
class AmpFeaturesCfg(ObservationGroupCfg):
    """The AMP features of the current state (layout: :mod:`learned_actuators.amp.features`)."""

    joint_pos = ObservationTermCfg(func=mdp.joint_pos)
    joint_vel = ObservationTermCfg(func=mdp.joint_vel)
    joint_torque = ObservationTermCfg(func=mdp.joint_effort)
    base_lin_vel = ObservationTermCfg(func=base_link_lin_vel_b)
    base_ang_vel = ObservationTermCfg(func=base_link_ang_vel_b)

    def __post_init__(self):
        self.enable_corruption = False
        self.concatenate_terms = True


def add_amp_observations(env_cfg) -> None:
    """Add the ``"amp"`` observation group to an env cfg, in place."""
    env_cfg.observations.amp = AmpFeaturesCfg()


@configclass
class UnitreeGo2FlatAmpOfflineEnvCfg(UnitreeGo2FlatOfflineEnvCfg):
    """Offline flat Go2 (stock DC motors) with the AMP feature observations."""

    def __post_init__(self):
        super().__post_init__()
        add_amp_observations(self)


@configclass
class UnitreeGo2FlatGRUPDAmpOfflineEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2FlatAmpOfflineEnvCfg):
    """Offline flat Go2 with the GRU-PD learned actuator (default: the Go2 starter model) and AMP observations."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_STARTER_GRU_PD_ACTUATOR_CFG)


@configclass
class UnitreeGo2FlatLSTMAmpOfflineEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2FlatAmpOfflineEnvCfg):
    """Offline flat Go2 with the LSTM actuator net and AMP observations."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_LSTM_ACTUATOR_CFG)


@configclass
class UnitreeGo2FlatMLPAmpOfflineEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2FlatAmpOfflineEnvCfg):
    """Offline flat Go2 with the MLP actuator net and AMP observations."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_MLP_ACTUATOR_CFG)
