"""Reference torque profiles for AMP: data checks against the robot, and a transition sampler in feature space."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from os import PathLike
from pathlib import Path

import torch

from ..errors import UserInputError
from ..recording import TorqueProfile
from ..recording.loader import TorqueProfileSample
from .features import FeatureLayout, base_frame_velocities

__all__ = ["MotionDataError", "TorqueMotionDataset"]

logger = logging.getLogger(__name__)

BASE_FIELDS = ("body_rotations", "body_linear_velocities", "body_angular_velocities")
"""Profile arrays the base-velocity features are computed from."""


class MotionDataError(UserInputError):
    """A reference torque profile does not fit the robot or the discriminator; names the file and the array."""


class TorqueMotionDataset:
    """Reference torque profiles, checked against the robot, sampled as AMP transitions (state, next state).

    Checks, each raising :class:`MotionDataError` (or the reader's
    :class:`~learned_actuators.recording.TorqueProfileFormatError`) naming the file and the array:

    * ``joint_torques`` is required (a profile without it is not read at all);
    * ``dof_names``: the same count and the same names as the robot's joints (a different order is reordered);
    * ``body_rotations`` / ``body_linear_velocities`` / ``body_angular_velocities`` and the base body in
      ``body_names`` are required only when the layout uses base velocities; body data are never filled in.
    """

    def __init__(
        self,
        files: Sequence[str | PathLike],
        joint_names: Sequence[str],
        layout: FeatureLayout,
        policy_dt: float,
        base_body_name: str = "base",
        device: str | torch.device = "cpu",
    ):
        """Load and check the reference files.

        Args:
            files: Torque-profile files (``.npz`` or ``.csv``), at least one.
            joint_names: The robot's joint names, in the order of the env's joint tensors.
            layout: The feature layout of the discriminator.
            policy_dt: Time between the two states of a transition [s] (the env's policy step).
            base_body_name: The body whose velocities are the base velocities.
            device: Torch device of the samples.
        """
        if not files:
            raise MotionDataError("No reference torque-profile file given (--torque_motion_files a.npz ...).")
        if layout.num_joints != len(joint_names):
            raise ValueError(f"The layout has {layout.num_joints} joints, the robot {len(joint_names)}.")
        self.layout = layout
        self.policy_dt = float(policy_dt)
        self.joint_names = list(joint_names)
        self.base_body_name = base_body_name
        self.device = torch.device(device)
        self.profiles: list[TorqueProfile] = []
        self._joint_order: list[torch.Tensor] = []
        self._base_index: list[int | None] = []
        for file in files:
            profile = TorqueProfile.from_file(file, device=self.device, require_bodies=False)
            self._joint_order.append(self._check_joints(profile, Path(file)))
            self._base_index.append(self._check_base(profile, Path(file)) if layout.use_base_velocities else None)
            self.profiles.append(profile)
        self._weights = torch.stack(
            [p.transition_weights(self.policy_dt).sum().to(torch.float64) for p in self.profiles]
        )
        if not bool((self._weights > 0).any()):
            raise MotionDataError(
                f"{[str(f) for f in files]}: no episode of any file is longer than one policy step "
                f"({self.policy_dt} s); nothing to learn transitions from."
            )
        logger.info(
            "AMP reference: %d file(s), %.1f s of transitions at dt = %.4f s",
            len(self.profiles),
            float(self._weights.sum()),
            self.policy_dt,
        )

    def _check_joints(self, profile: TorqueProfile, file: Path) -> torch.Tensor:
        names = profile.dof_names
        if len(names) != len(self.joint_names):
            raise MotionDataError(
                f"{file}: field 'dof_names' has {len(names)} joints, the robot has {len(self.joint_names)} "
                f"({self.joint_names})."
            )
        missing = [n for n in self.joint_names if n not in names]
        if missing:
            extra = [n for n in names if n not in self.joint_names]
            raise MotionDataError(
                f"{file}: field 'dof_names' does not name the robot's joints: missing {missing}, unexpected {extra}."
            )
        if names != self.joint_names:
            logger.info("%s: joints stored in another order than the robot's; reordering.", file)
        return torch.as_tensor([names.index(n) for n in self.joint_names], device=self.device)

    def _check_base(self, profile: TorqueProfile, file: Path) -> int:
        for field in BASE_FIELDS:
            if field not in profile.tensors:
                raise MotionDataError(
                    f"{file}: field '{field}' is missing, and the discriminator uses base velocities. Record the "
                    "profile with body data, or train without them (agent.algorithm.use_base_velocities=false)."
                )
        if self.base_body_name not in profile.body_names:
            raise MotionDataError(
                f"{file}: field 'body_names' has no base body '{self.base_body_name}' (has {profile.body_names})."
            )
        return profile.body_names.index(self.base_body_name)

    def _features(self, sample: TorqueProfileSample, index: int) -> torch.Tensor:
        order = self._joint_order[index]
        base = self._base_index[index]
        lin = ang = None
        if base is not None:
            lin, ang = base_frame_velocities(
                sample.body_rotations[:, base],
                sample.body_linear_velocities[:, base],
                sample.body_angular_velocities[:, base],
            )
        return self.layout.from_states(
            sample.dof_positions[:, order], sample.dof_velocities[:, order], sample.joint_torques[:, order], lin, ang
        )

    def sample_transitions(
        self, num_samples: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw transitions (features now, features one policy step later), shape (N, size) each.

        Files are drawn in proportion to their transition time; within a file, pairs never cross an episode
        boundary (:meth:`~learned_actuators.recording.TorqueProfile.sample_transitions`).
        """
        counts = torch.bincount(
            torch.multinomial(self._weights, num_samples, replacement=True, generator=generator),
            minlength=len(self.profiles),
        )
        now, nxt = [], []
        for index, (profile, count) in enumerate(zip(self.profiles, counts.tolist(), strict=True)):
            if count:
                a, b = profile.sample_transitions(count, dt=self.policy_dt, generator=generator)
                now.append(self._features(a, index))
                nxt.append(self._features(b, index))
        return torch.cat(now), torch.cat(nxt)
