"""rsl-rl PPO with a torque-aware AMP discriminator (an rsl-rl 5 algorithm class, named in the agent cfg).

Reward per policy step: ``task reward + style_reward_weight * step_dt * style reward`` where the style reward in
[0, 1] is the discriminator's (:mod:`.discriminator`) and ``step_dt`` the policy step [s]: Isaac Lab's task reward
terms are already multiplied by ``step_dt``, so a weight of 1 makes a perfect style worth as much per second as a
task term of weight 1. A transition that ends in a reset (``dones``) gets no style reward and is not stored: its
next state belongs to the next episode.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from rsl_rl.algorithms import PPO
from tensordict import TensorDict

from ..errors import UserInputError
from .discriminator import Discriminator, TransitionReplayBuffer
from .features import AMP_OBS_GROUP, FeatureLayout, FeatureNormalizer
from .motion import TorqueMotionDataset

__all__ = ["TorqueAmpPPO"]

NORMALIZER_SAMPLES = 20_000
"""Reference transitions the feature statistics are fitted on."""


class TorqueAmpPPO(PPO):
    """PPO (rsl-rl) plus a discriminator over transitions of joint positions, velocities and torques.

    Base velocities join the features when ``use_base_velocities``; see the module docstring for the reward.
    Built by the rsl-rl runner through :meth:`construct_algorithm`.
    """

    def __init__(
        self,
        actor,
        critic,
        storage,
        *,
        motion_files: Sequence[str] = (),
        torque_weight: float = 1.0,
        style_reward_weight: float = 1.0,
        use_base_velocities: bool = True,
        base_body_name: str = "base",
        discriminator_hidden_dims: Sequence[int] = (256, 128),
        discriminator_learning_rate: float = 5e-4,
        grad_penalty: float = 5.0,
        replay_buffer_size: int = 100_000,
        discriminator_batch_size: int = 4096,
        discriminator_updates: int = 4,
        **ppo_kwargs,
    ):
        super().__init__(actor, critic, storage, **ppo_kwargs)
        self.motion_files = [str(f) for f in motion_files]
        self.torque_weight = float(torque_weight)
        self.style_reward_weight = float(style_reward_weight)
        self.use_base_velocities = bool(use_base_velocities)
        self.base_body_name = base_body_name
        self.discriminator_hidden_dims = list(discriminator_hidden_dims)
        self.discriminator_learning_rate = float(discriminator_learning_rate)
        self.grad_penalty = float(grad_penalty)
        self.replay_buffer_size = int(replay_buffer_size)
        self.discriminator_batch_size = int(discriminator_batch_size)
        self.discriminator_updates = int(discriminator_updates)
        self.discriminator: Discriminator | None = None
        self._style_sum = torch.zeros((), device=self.device)
        self._style_count = torch.zeros((), device=self.device)

    @staticmethod
    def construct_algorithm(obs: TensorDict, env, cfg: dict, device: str) -> TorqueAmpPPO:
        """rsl-rl's PPO construction, then the AMP parts (reference data, discriminator) from the env."""
        alg = PPO.construct_algorithm(obs, env, cfg, device)
        if not isinstance(alg, TorqueAmpPPO):
            raise TypeError(f"agent.algorithm.class_name must name TorqueAmpPPO, got {type(alg).__name__}.")
        unwrapped = env.unwrapped
        alg.setup_amp(obs, unwrapped.scene["robot"].joint_names, unwrapped.step_dt)
        return alg

    def setup_amp(self, obs: TensorDict, joint_names: Sequence[str], step_dt: float) -> None:
        """Load the reference profiles, fit the feature normaliser on them, build discriminator and buffer."""
        if AMP_OBS_GROUP not in obs.keys():  # noqa: SIM118  (TensorDict)
            raise UserInputError(
                f"The task has no '{AMP_OBS_GROUP}' observation group (the AMP features); use a Go2 AMP task, e.g. "
                "LearnedActuators-Velocity-Flat-UnitreeGo2-AMP-Offline."
            )
        layout = FeatureLayout(len(joint_names), self.use_base_velocities)
        full = FeatureLayout(len(joint_names), True).size  # the env group may carry base velocities unused here
        if obs[AMP_OBS_GROUP].shape[-1] not in (layout.size, full):
            raise UserInputError(
                f"Observation group '{AMP_OBS_GROUP}' has {obs[AMP_OBS_GROUP].shape[-1]} features, expected "
                f"{layout.size} ({len(joint_names)} joints x 3, + 6 base velocities when used); the task's AMP "
                "observations and agent.algorithm.use_base_velocities disagree."
            )
        self._features = slice(0, layout.size)  # base velocities come last (features.py)
        self.step_dt = float(step_dt)
        self.motion = TorqueMotionDataset(
            self.motion_files, joint_names, layout, self.step_dt, self.base_body_name, device=self.device
        )
        normalizer = FeatureNormalizer(layout, self.torque_weight)
        normalizer.fit(self.motion.sample_transitions(NORMALIZER_SAMPLES)[0])
        self.discriminator = Discriminator(normalizer, self.discriminator_hidden_dims).to(self.device)
        self.discriminator_optimizer = torch.optim.Adam(
            self.discriminator.net.parameters(), lr=self.discriminator_learning_rate
        )
        self.replay = TransitionReplayBuffer(layout.size, self.replay_buffer_size, device=self.device)

    def process_env_step(
        self, obs: TensorDict, rewards: torch.Tensor, dones: torch.Tensor, extras: dict[str, torch.Tensor]
    ) -> None:
        """Add the style reward of each env's transition to its task reward, store the transitions, then PPO's."""
        now = self.transition.observations[AMP_OBS_GROUP][:, self._features]
        nxt = obs[AMP_OBS_GROUP][:, self._features]
        valid = ~dones.bool()
        style = self.discriminator.style_reward(now, nxt) * valid
        self._style_sum += style.sum()
        self._style_count += valid.sum()
        self.replay.insert(now[valid], nxt[valid])
        super().process_env_step(obs, rewards + self.style_reward_weight * self.step_dt * style, dones, extras)

    def update(self) -> dict[str, float]:
        """PPO's update, then ``discriminator_updates`` discriminator steps (reference vs replayed policy data)."""
        loss_dict = super().update()
        sums: dict[str, float] = {}
        for _ in range(self.discriminator_updates):
            reference = self.motion.sample_transitions(self.discriminator_batch_size)
            policy = self.replay.sample(self.discriminator_batch_size)
            losses = self.discriminator.loss(reference, policy, self.grad_penalty)
            self.discriminator_optimizer.zero_grad()
            losses["total"].backward()
            self.discriminator_optimizer.step()
            for key in ("adversarial", "grad_penalty", "reference_score", "policy_score"):
                sums[key] = sums.get(key, 0.0) + float(losses[key])
        loss_dict.update({f"amp_{key}": value / self.discriminator_updates for key, value in sums.items()})
        loss_dict["amp_style_reward"] = float(self._style_sum / self._style_count.clamp(min=1))
        self._style_sum.zero_()
        self._style_count.zero_()
        return loss_dict

    def save(self) -> dict:
        """PPO's checkpoint plus the discriminator (with its feature statistics) and its optimizer."""
        saved = super().save()
        saved["amp_discriminator_state_dict"] = self.discriminator.state_dict()
        saved["amp_optimizer_state_dict"] = self.discriminator_optimizer.state_dict()
        return saved

    def load(self, loaded_dict: dict, load_cfg: dict | None, strict: bool) -> bool:
        """PPO's load; the discriminator too when the checkpoint has one (an AMP checkpoint)."""
        result = super().load(loaded_dict, load_cfg, strict)
        if "amp_discriminator_state_dict" in loaded_dict and (load_cfg is None or load_cfg.get("amp", True)):
            self.discriminator.load_state_dict(loaded_dict["amp_discriminator_state_dict"], strict=strict)
            self.discriminator_optimizer.load_state_dict(loaded_dict["amp_optimizer_state_dict"])
        return result
