"""Sample a torque profile at arbitrary times, on a chosen torch device.

Between two frames, joint and body quantities are interpolated linearly and body rotations by spherical
linear interpolation (slerp) along the shorter arc. At a frame time the stored frame is returned exactly.
Interpolation never crosses an episode boundary (``episode_starts``): between the last frame of an episode and
the first of the next, the last frame is held. :meth:`TorqueProfile.sample_with_torques` and
:meth:`TorqueProfile.sample_transitions` draw random frames and consecutive-frame pairs inside episodes, for
motion-prior learners.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike

import numpy as np
import torch

from .profile import TorqueProfileData
from .profile_files import read_profile

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
    body_positions: torch.Tensor | None = None
    """Body positions [m], shape (N, B, 3); None when the profile was read without body data."""
    body_rotations: torch.Tensor | None = None
    """Body orientations, unit quaternions (w, x, y, z), shape (N, B, 4) (None: as ``body_positions``)."""
    body_linear_velocities: torch.Tensor | None = None
    """Body linear velocities [m/s], shape (N, B, 3) (None: as ``body_positions``)."""
    body_angular_velocities: torch.Tensor | None = None
    """Body angular velocities [rad/s], shape (N, B, 3) (None: as ``body_positions``)."""
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
        bounds = torch.as_tensor(data.episodes, dtype=torch.long, device=self.device)
        self.episode_bounds = bounds
        """``(first frame, last frame + 1)`` of each episode, long, shape (E, 2)."""
        self._starts_episode = torch.zeros(self.num_frames, dtype=torch.bool, device=self.device)
        self._starts_episode[bounds[1:, 0]] = True

    @classmethod
    def from_file(
        cls,
        path: str | PathLike,
        device: str | torch.device = "cpu",
        dtype: torch.dtype | None = None,
        require_bodies: bool = True,
    ) -> TorqueProfile:
        """Load an ``.npz`` or ``.csv`` torque profile onto ``device`` (see :meth:`__init__`).

        With ``require_bodies=False`` a file without body arrays loads, its body fields None.
        """
        return cls(read_profile(path, require_bodies=require_bodies), device=device, dtype=dtype)

    @property
    def dt(self) -> float:
        """Time between frames [s]."""
        return 1.0 / self.fps

    def frame_blend(self, times: torch.Tensor | np.ndarray | float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Indices of the frames around each time and the blend weight between them.

        Times are clamped to [0, duration]. At a frame time (within ``1e-6`` frames) the weight is exactly 0.
        Between the last frame of an episode and the first of the next, both indices are the last frame.

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
        w = u - i0.to(torch.float64)
        crosses = self._starts_episode[i1] & (i1 != i0)
        return i0, torch.where(crosses, i0, i1), torch.where(crosses, torch.zeros_like(w), w)

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

    def sample_with_torques(
        self, num_samples: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor | None, ...]:
        """Draw stored frames uniformly at random (each frame lies in one episode).

        Args:
            num_samples: Number of frames N.
            generator: Optional torch generator (on :attr:`device`) for reproducible draws.

        Returns:
            ``(dof positions (N, D), dof velocities (N, D), body positions (N, B, 3), body rotations (N, B, 4),
            body linear velocities (N, B, 3), body angular velocities (N, B, 3), joint torques (N, D))``; a body
            entry is None when the profile was read without it.
        """
        frames = torch.randint(0, self.num_frames, (num_samples,), device=self.device, generator=generator)
        sample = self.sample(frames.to(torch.float64) / self.fps)
        return (
            sample.dof_positions,
            sample.dof_velocities,
            sample.body_positions,
            sample.body_rotations,
            sample.body_linear_velocities,
            sample.body_angular_velocities,
            sample.joint_torques,
        )

    def transition_weights(self, dt: float) -> torch.Tensor:
        """Per-episode length [s] in which a pair ``(t, t + dt)`` fits, shape (E,) (0 for too short episodes)."""
        durations = (self.episode_bounds[:, 1] - 1 - self.episode_bounds[:, 0]).to(torch.float64) / self.fps
        return (durations - dt).clamp(min=0.0)

    def sample_transitions(
        self, num_samples: int, dt: float | None = None, generator: torch.Generator | None = None
    ) -> tuple[TorqueProfileSample, TorqueProfileSample]:
        """Draw pairs of states ``dt`` apart, both inside the same episode (times uniform over the episodes).

        Args:
            num_samples: Number of pairs N.
            dt: Time between the two states [s] (the policy step); default ``1 / fps`` (consecutive frames).
            generator: Optional torch generator (on :attr:`device`) for reproducible draws.

        Returns:
            ``(states at t, states at t + dt)``, interpolated as :meth:`sample` does.

        Raises:
            ValueError: ``dt`` is not positive, or no episode of the profile is longer than ``dt``.
        """
        dt = self.dt if dt is None else float(dt)
        weights = self.transition_weights(dt)
        if dt <= 0.0 or not bool((weights > 0).any()):
            raise ValueError(f"{self.source}: no episode is longer than dt = {dt} s; cannot sample transitions.")
        episode = torch.multinomial(weights, num_samples, replacement=True, generator=generator)
        u = torch.rand(num_samples, dtype=torch.float64, device=self.device, generator=generator)
        t0 = self.episode_bounds[episode, 0].to(torch.float64) / self.fps + u * weights[episode]
        return self.sample(t0), self.sample(t0 + dt)
