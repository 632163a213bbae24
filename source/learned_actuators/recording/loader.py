"""Sample a torque profile at arbitrary times, on a chosen torch device.

Between two frames, joint and body quantities are interpolated linearly and body rotations by spherical
linear interpolation (slerp) along the shorter arc. At a frame time the stored frame is returned exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike

import numpy as np
import torch

from .profile import TorqueProfileData
from .profile_csv import read_profile

__all__ = ["TorqueProfile", "TorqueProfileSample", "slerp"]

_SNAP_TOLERANCE = 1e-6
"""Times within this many frames of a frame time are treated as that frame time (absorbs ``k / fps * fps``
rounding so that frame times hit their frame exactly)."""

_SMALL_ANGLE = 1e-4
"""Below this half angle [rad] between two quaternions, slerp falls back to normalised linear interpolation."""


def slerp(q0: torch.Tensor, q1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical linear interpolation of unit quaternions along the shorter arc.

    Args:
        q0: Start quaternions (w, x, y, z), shape (..., 4).
        q1: End quaternions (w, x, y, z), shape (..., 4); ``q1`` and ``-q1`` give the same result.
        t: Interpolation weights in [0, 1], broadcastable to shape (...); 0 gives ``q0`` exactly.

    Returns:
        Unit quaternions (w, x, y, z), shape (..., 4).
    """
    t = t.unsqueeze(-1)
    dot = (q0 * q1).sum(dim=-1, keepdim=True)
    # q and -q are the same rotation: flipping the end quaternion to the start's hemisphere takes the short way
    q1 = torch.where(dot < 0.0, -q1, q1)
    cos_half = dot.abs().clamp(max=1.0)
    half = torch.acos(cos_half)
    sin_half = torch.sin(half)
    small = half < _SMALL_ANGLE
    safe_sin = torch.where(small, torch.ones_like(sin_half), sin_half)
    w0 = torch.where(small, 1.0 - t, torch.sin((1.0 - t) * half) / safe_sin)
    w1 = torch.where(small, t, torch.sin(t * half) / safe_sin)
    out = w0 * q0 + w1 * q1
    out = out / out.norm(dim=-1, keepdim=True)
    return torch.where(t == 0.0, q0, out)


@dataclass(frozen=True)
class TorqueProfileSample:
    """A torque profile sampled at N times (tensors on the profile's device; units as in the file)."""

    times: torch.Tensor
    """Sample times [s] after clamping to [0, duration], shape (N,)."""
    joint_torques: torch.Tensor
    """Joint torques [N·m], shape (N, D)."""
    dof_positions: torch.Tensor
    """Joint positions [rad], shape (N, D)."""
    dof_velocities: torch.Tensor
    """Joint velocities [rad/s], shape (N, D)."""
    body_positions: torch.Tensor
    """Body positions [m], shape (N, B, 3)."""
    body_rotations: torch.Tensor
    """Body orientations, unit quaternions (w, x, y, z), shape (N, B, 4)."""
    body_linear_velocities: torch.Tensor
    """Body linear velocities [m/s], shape (N, B, 3)."""
    body_angular_velocities: torch.Tensor
    """Body angular velocities [rad/s], shape (N, B, 3)."""
    dof_position_targets: torch.Tensor | None = None
    """Joint position targets [rad], shape (N, D); None when the profile has none (optional field)."""


class TorqueProfile:
    """A torque profile held as tensors on one device, sampled at arbitrary times with interpolation.

    Example:
        .. code-block:: python

            profile = TorqueProfile.from_file("logs/profiles/env_0000.npz", device="cuda:0")
            frame = profile.sample(torch.tensor([0.0, 0.013, profile.duration]))
            frame.joint_torques  # (3, 12) [N·m]
    """

    def __init__(self, data: TorqueProfileData, device: str | torch.device = "cpu", dtype: torch.dtype | None = None):
        """Move a validated profile to ``device``.

        Args:
            data: The profile (from :func:`~learned_actuators.recording.read_profile` or the recorder).
            device: Torch device of all tensors and samples.
            dtype: Floating type of the tensors; defaults to the file's (float32 or float64).
        """
        self.data = data
        self.device = torch.device(device)
        self.fps = data.fps
        """Frame rate [Hz]."""
        self.dof_names = list(data.dof_names)
        self.body_names = list(data.body_names)
        self.num_frames = data.num_frames
        self.duration = data.duration
        """Time of the last frame [s]."""
        self.source = data.source
        to_torch = {} if dtype is None else {"dtype": dtype}
        self.tensors: dict[str, torch.Tensor] = {
            key: torch.as_tensor(np.ascontiguousarray(getattr(data, key)), device=self.device).to(**to_torch)
            for key in data.array_fields
        }
        """Every array field of the profile (optional ones only when present) as a tensor of shape (F, ...)."""

    @classmethod
    def from_file(
        cls, path: str | PathLike, device: str | torch.device = "cpu", dtype: torch.dtype | None = None
    ) -> TorqueProfile:
        """Load an ``.npz`` or ``.csv`` torque profile onto ``device`` (see :meth:`__init__`)."""
        return cls(read_profile(path), device=device, dtype=dtype)

    @property
    def dt(self) -> float:
        """Time between frames [s]."""
        return 1.0 / self.fps

    def frame_blend(self, times: torch.Tensor | np.ndarray | float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Indices of the frames around each time and the blend weight between them.

        Times are clamped to [0, duration]. At a frame time (within ``1e-6`` frames) the weight is exactly 0.

        Args:
            times: Sample times [s], shape (N,) or a scalar.

        Returns:
            ``(i0, i1, w)``: frame indices (long, shape (N,)) and weights in [0, 1) (float64, shape (N,)); the
            sample is ``(1 - w) * frame[i0] + w * frame[i1]``.
        """
        t = torch.as_tensor(times, dtype=torch.float64, device=self.device).reshape(-1)
        u = (t * self.fps).clamp(0.0, self.num_frames - 1)
        nearest = torch.round(u)
        u = torch.where((u - nearest).abs() <= _SNAP_TOLERANCE, nearest, u)
        i0 = torch.floor(u).long().clamp(0, self.num_frames - 1)
        i1 = (i0 + 1).clamp(max=self.num_frames - 1)
        return i0, i1, u - i0.to(torch.float64)

    def sample(self, times: torch.Tensor | np.ndarray | float) -> TorqueProfileSample:
        """Interpolate every field at the given times.

        Args:
            times: Sample times [s], shape (N,) or a scalar; clamped to [0, duration].

        Returns:
            The sampled fields, each of shape (N, ...), on :attr:`device`.
        """
        i0, i1, w64 = self.frame_blend(times)
        out: dict[str, torch.Tensor] = {}
        for key, values in self.tensors.items():
            w = w64.to(values.dtype)
            if key == "body_rotations":
                out[key] = slerp(values[i0], values[i1], w[:, None].expand(-1, values.shape[1]))
            else:
                w = w.reshape(-1, *([1] * (values.dim() - 1)))
                # (1 - w) a + w b is exact at w = 0, unlike a + w (b - a)
                out[key] = (1.0 - w) * values[i0] + w * values[i1]
        return TorqueProfileSample(times=(i0.to(torch.float64) + w64) / self.fps, **out)
