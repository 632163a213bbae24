"""Agent cfg of torque-aware AMP: Isaac Lab's rsl-rl PPO algorithm cfg plus the AMP fields (Hydra-overridable)."""

from __future__ import annotations

from isaaclab.utils import configclass
from isaaclab_rl.rsl_rl import RslRlPpoAlgorithmCfg

__all__ = ["TorqueAmpPpoAlgorithmCfg"]


@configclass
class TorqueAmpPpoAlgorithmCfg(RslRlPpoAlgorithmCfg):
    """PPO with the torque-aware AMP discriminator (:class:`learned_actuators.amp.algorithm.TorqueAmpPPO`)."""

    class_name: str = "learned_actuators.amp.algorithm:TorqueAmpPPO"
    """The rsl-rl algorithm class."""
    motion_files: list[str] = []  # noqa: RUF012  (configclass copies defaults)
    """Reference torque-profile files (``--torque_motion_files``)."""
    torque_weight: float = 1.0
    """Scale of the standardised joint-torque features in the discriminator input; 0 gives ordinary AMP."""
    style_reward_weight: float = 1.0
    """Reward per step = task reward + ``style_reward_weight * step_dt * style reward`` (style reward in [0, 1])."""
    use_base_velocities: bool = True
    """Also give the discriminator the base's linear and angular velocities (base frame)."""
    base_body_name: str = "base"
    """The reference profiles' body whose velocities are the base velocities."""
    discriminator_hidden_dims: list[int] = [256, 128]  # noqa: RUF012
    """Hidden layer sizes of the discriminator MLP."""
    discriminator_learning_rate: float = 5e-4
    """Adam learning rate of the discriminator."""
    grad_penalty: float = 5.0
    """Weight of the gradient penalty on reference inputs."""
    replay_buffer_size: int = 100_000
    """Policy transitions kept for discriminator training."""
    discriminator_batch_size: int = 4096
    """Reference and policy transitions per discriminator step."""
    discriminator_updates: int = 4
    """Discriminator steps per PPO iteration."""
