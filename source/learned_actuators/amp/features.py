"""The AMP feature vector of one state, its normaliser and the torque weighting (each formula here only).

One state's features, in this order (D joints)::

    [joint positions (D) [rad], joint velocities (D) [rad/s], joint torques (D) [N·m],
     base linear velocity in the base frame (3) [m/s], base angular velocity in the base frame (3) [rad/s]]

the base velocities only when the layout uses them. The env's ``"amp"`` observation group
(:mod:`learned_actuators.tasks.locomotion.go2.amp_env_cfg`) produces this vector; the reference side builds it
from torque profiles with :meth:`FeatureLayout.from_states`. A discriminator input is a transition: the features
of a state and of the state one policy step later, concatenated.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["AMP_OBS_GROUP", "FeatureLayout", "FeatureNormalizer", "base_frame_velocities"]

AMP_OBS_GROUP = "amp"
"""Name of the env observation group that holds the AMP features of the current state."""

STD_FLOOR = 1e-2
"""Smallest spread used to scale a feature (in its unit), so that a constant reference feature is not amplified."""


def base_frame_velocities(
    rotations_wxyz: torch.Tensor, lin_vel_w: torch.Tensor, ang_vel_w: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotate world-frame velocities into the body frame given by unit quaternions (w, x, y, z).

    Args:
        rotations_wxyz: Body orientations, shape (N, 4).
        lin_vel_w: Linear velocities in world axes, shape (N, 3).
        ang_vel_w: Angular velocities in world axes, shape (N, 3).

    Returns:
        ``(linear, angular)`` velocities in the body's axes, shape (N, 3) each.
    """
    w, u = rotations_wxyz[:, :1], rotations_wxyz[:, 1:]

    def rotate_inverse(v: torch.Tensor) -> torch.Tensor:
        t = 2.0 * torch.linalg.cross(u, v)
        return v - w * t + torch.linalg.cross(u, t)

    return rotate_inverse(lin_vel_w), rotate_inverse(ang_vel_w)


@dataclass(frozen=True)
class FeatureLayout:
    """Where each quantity sits in a state's feature vector (see module docstring)."""

    num_joints: int
    """Number of joints D."""
    use_base_velocities: bool
    """Whether the base's linear and angular velocities (base frame) follow the joint features."""

    @property
    def size(self) -> int:
        """Features per state."""
        return 3 * self.num_joints + (6 if self.use_base_velocities else 0)

    @property
    def torque_slice(self) -> slice:
        """The joint-torque features."""
        return slice(2 * self.num_joints, 3 * self.num_joints)

    def from_states(
        self,
        dof_positions: torch.Tensor,
        dof_velocities: torch.Tensor,
        joint_torques: torch.Tensor,
        base_lin_vel_b: torch.Tensor | None = None,
        base_ang_vel_b: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Stack the per-state quantities (each (N, ...)) into features, shape (N, :attr:`size`)."""
        parts = [dof_positions, dof_velocities, joint_torques]
        if self.use_base_velocities:
            if base_lin_vel_b is None or base_ang_vel_b is None:
                raise ValueError("This feature layout uses base velocities; give base_lin_vel_b and base_ang_vel_b.")
            parts += [base_lin_vel_b, base_ang_vel_b]
        return torch.cat([p.to(torch.float32) for p in parts], dim=-1)


class FeatureNormalizer(torch.nn.Module):
    """Standardise features with the reference data's mean and spread, then scale the torque features.

    The statistics are fitted once on the reference transitions (never on policy data) and saved with the
    checkpoint. The torque weight multiplies the *standardised* torque features, so ``torque_weight = 0`` removes
    them from the discriminator's input (ordinary AMP) and 2 doubles their pull.
    """

    def __init__(self, layout: FeatureLayout, torque_weight: float):
        super().__init__()
        if torque_weight < 0.0:
            raise ValueError(f"torque_weight must be >= 0, got {torque_weight}.")
        self.layout = layout
        weights = torch.ones(layout.size)
        weights[layout.torque_slice] = float(torque_weight)
        self.register_buffer("mean", torch.zeros(layout.size))
        self.register_buffer("std", torch.ones(layout.size))
        self.register_buffer("weights", weights)

    @torch.no_grad()
    def fit(self, reference_features: torch.Tensor) -> None:
        """Set mean and spread from reference features, shape (N, size)."""
        self.mean.copy_(reference_features.mean(dim=0))
        self.std.copy_(reference_features.std(dim=0).clamp(min=STD_FLOOR))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Normalised, torque-weighted features, shape as ``features`` (..., size)."""
        return (features - self.mean) / self.std * self.weights
