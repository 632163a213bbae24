"""Accumulate per-env frames during policy playback and write one torque-profile NPZ per env.

:class:`TorqueProfileRecorder` is the simulator-free core: it takes batched tensors once per policy step.
:class:`ArticulationTorqueRecorder` reads those tensors from an Isaac Lab ``Articulation`` (3.0: warp-backed
``ProxyArray`` fields, quaternions in (x, y, z, w)) and hands them to the core.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .profile import (
    BODY_FIELDS,
    DOF_FIELDS,
    OPTIONAL_DOF_FIELDS,
    TorqueProfileData,
    check_names,
    save_npz,
    validate_profile,
)

__all__ = ["ArticulationTorqueRecorder", "TorqueProfileRecorder", "read_articulation_frame"]

logger = logging.getLogger(__name__)

_FIELDS = (*DOF_FIELDS, *BODY_FIELDS, *OPTIONAL_DOF_FIELDS)


class TorqueProfileRecorder:
    """Collect frames of a batch of envs and write one torque profile per env.

    Each :meth:`append` copies one frame of the recorded envs to ``storage_device`` (CPU by default, so long
    recordings do not hold GPU memory). Episode boundaries are marked, not cut: pass ``new_episode`` (the env's
    ``dones`` of the step that produced the frame) and each written profile holds ``episode_starts``, the first
    frame of every episode, so that no reader treats the jump across a reset as motion. Frame 0 always starts an
    episode.
    """

    def __init__(
        self,
        dof_names: Sequence[str],
        body_names: Sequence[str],
        fps: float,
        num_envs: int,
        env_ids: Sequence[int] | None = None,
        storage_device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
    ):
        """Set up an empty recording.

        Args:
            dof_names: The D joint names, in the order of the joint tensors.
            body_names: The B body names, in the order of the body tensors.
            fps: Frame rate [Hz]: how often :meth:`append` is called per simulated second (the policy rate).
            num_envs: Number of envs E in the tensors given to :meth:`append`.
            env_ids: Envs to record (default: all).
            storage_device: Device where frames are accumulated.
            dtype: Floating type of the stored frames and written arrays (float32 or float64).
        """
        self.dof_names = check_names(dof_names, "recorder", "dof_names")
        self.body_names = check_names(body_names, "recorder", "body_names")
        if not np.isfinite(fps) or fps <= 0.0:
            raise ValueError(f"fps must be a finite positive frame rate [Hz], got {fps}.")
        self.fps = float(fps)
        self.num_envs = int(num_envs)
        ids = list(range(self.num_envs)) if env_ids is None else [int(i) for i in env_ids]
        if not ids or min(ids) < 0 or max(ids) >= self.num_envs or len(set(ids)) != len(ids):
            raise ValueError(f"env_ids must be distinct indices in [0, {self.num_envs}), got {ids}.")
        self.env_ids = ids
        """Recorded envs, in the order of the written files."""
        self.storage_device = torch.device(storage_device)
        self.dtype = dtype
        self._frames: dict[str, list[torch.Tensor]] = {key: [] for key in _FIELDS}
        self._new_episode: list[torch.Tensor] = []
        num_dofs, num_bodies = len(self.dof_names), len(self.body_names)
        self._shapes = {key: (num_dofs,) for key in (*DOF_FIELDS, *OPTIONAL_DOF_FIELDS)} | {
            key: (num_bodies, size) for key, size in BODY_FIELDS.items()
        }

    @property
    def num_frames(self) -> int:
        """Frames recorded so far."""
        return len(self._frames["dof_positions"])

    def append(
        self,
        *,
        joint_torques: torch.Tensor,
        dof_positions: torch.Tensor,
        dof_velocities: torch.Tensor,
        body_positions: torch.Tensor,
        body_rotations: torch.Tensor,
        body_linear_velocities: torch.Tensor,
        body_angular_velocities: torch.Tensor,
        dof_position_targets: torch.Tensor | None = None,
        new_episode: torch.Tensor | None = None,
    ) -> None:
        """Add one frame for every recorded env.

        Args:
            joint_torques: Applied joint efforts [N·m], shape (E, D).
            dof_positions: Joint positions [rad], shape (E, D).
            dof_velocities: Joint velocities [rad/s], shape (E, D).
            body_positions: Body positions [m], shape (E, B, 3).
            body_rotations: Body orientations, quaternions (w, x, y, z), shape (E, B, 4).
            body_linear_velocities: Body linear velocities [m/s], shape (E, B, 3).
            body_angular_velocities: Body angular velocities [rad/s], shape (E, B, 3).
            dof_position_targets: Optional joint position targets the actuators received [rad], shape (E, D).
                Give it on every frame or on none.
            new_episode: Optional bool mask, shape (E,): True where this frame is the first of a new episode (the
                env was reset during the step, i.e. the step's ``dones``). None: no env was reset.

        Raises:
            ValueError: A tensor does not have the shape above, or ``dof_position_targets`` is given on some
                frames only.
        """
        values = {
            "joint_torques": joint_torques,
            "dof_positions": dof_positions,
            "dof_velocities": dof_velocities,
            "body_positions": body_positions,
            "body_rotations": body_rotations,
            "body_linear_velocities": body_linear_velocities,
            "body_angular_velocities": body_angular_velocities,
        }
        if dof_position_targets is not None:
            values["dof_position_targets"] = dof_position_targets
        self._check_frame(values, new_episode)
        index = torch.as_tensor(self.env_ids, device=dof_positions.device)
        for key, value in values.items():
            frame = value.detach().index_select(0, index.to(value.device))
            self._frames[key].append(frame.to(device=self.storage_device, dtype=self.dtype))
        starts = torch.zeros(len(self.env_ids), dtype=torch.bool)
        if new_episode is not None:
            starts = new_episode.detach().bool().index_select(0, index.to(new_episode.device)).cpu()
        self._new_episode.append(starts)

    def _check_frame(self, values: dict[str, torch.Tensor], new_episode: torch.Tensor | None) -> None:
        """Raise ValueError on a wrongly shaped tensor, or targets given on some frames only (:meth:`append`)."""
        had_targets = bool(self._frames["dof_position_targets"])
        if self.num_frames > 0 and ("dof_position_targets" in values) != had_targets:
            raise ValueError(
                f"Recorder field 'dof_position_targets' is {'missing' if had_targets else 'given'} on frame "
                f"{self.num_frames} but was {'given' if had_targets else 'missing'} before; give it on every frame "
                "or on none."
            )
        for key, value in values.items():
            expected = (self.num_envs, *self._shapes[key])
            if tuple(value.shape) != expected:
                raise ValueError(f"Recorder field '{key}' has shape {tuple(value.shape)}, expected {expected}.")
        if new_episode is not None and tuple(new_episode.shape) != (self.num_envs,):
            raise ValueError(
                f"Recorder field 'new_episode' has shape {tuple(new_episode.shape)}, expected ({self.num_envs},)."
            )

    def clear(self) -> None:
        """Drop all recorded frames."""
        for frames in self._frames.values():
            frames.clear()
        self._new_episode.clear()

    def profiles(self) -> list[TorqueProfileData]:
        """The recorded frames as one validated profile per recorded env (order of :attr:`env_ids`).

        Raises:
            RuntimeError: Nothing was recorded.
            TorqueProfileFormatError: The recorded data breaks the format (e.g. a NaN from the simulator).
        """
        if self.num_frames == 0:
            raise RuntimeError("No frames recorded: call append() at least once before saving.")
        # (F, E, ...) -> per env (F, ...)
        stacked = {key: torch.stack(frames, dim=1).cpu().numpy() for key, frames in self._frames.items() if frames}
        new_episode = torch.stack(self._new_episode, dim=1).numpy()  # (E, F)
        new_episode[:, 0] = True
        out = []
        for slot, env_id in enumerate(self.env_ids):
            arrays: dict[str, Any] = {key: np.ascontiguousarray(value[slot]) for key, value in stacked.items()}
            arrays.update(
                episode_starts=np.flatnonzero(new_episode[slot]).astype(np.int64),
                fps=self.fps,
                dof_names=np.array(self.dof_names, dtype=np.str_),
                body_names=np.array(self.body_names, dtype=np.str_),
            )
            out.append(validate_profile(arrays, f"recorded env {env_id}"))
        return out

    def save(self, out_dir: str | PathLike, prefix: str = "env", compress: bool = False) -> list[Path]:
        """Write one NPZ per recorded env as ``<out_dir>/<prefix>_<env id, 4 digits>.npz``.

        Args:
            out_dir: Output folder (created).
            prefix: File name prefix.
            compress: Write compressed archives.

        Returns:
            The files written, in the order of :attr:`env_ids`.
        """
        out_dir = Path(out_dir)
        paths = [
            save_npz(profile, out_dir / f"{prefix}_{env_id:04d}.npz", compress=compress)
            for profile, env_id in zip(self.profiles(), self.env_ids, strict=True)
        ]
        logger.info("Wrote %d torque profiles of %d frames to %s", len(paths), self.num_frames, out_dir)
        return paths


def _as_torch(value: Any) -> torch.Tensor:
    """A torch view of an Isaac Lab 3.0 ``ProxyArray``, a warp array, or a tensor."""
    if isinstance(value, torch.Tensor):
        return value
    if hasattr(value, "torch"):  # isaaclab.utils.warp.ProxyArray: cached zero-copy torch view
        return value.torch
    import warp as wp  # only reached with a raw warp array, i.e. when Isaac Lab is installed

    return wp.to_torch(value)


def read_articulation_frame(articulation: Any, env_origins: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Read one recorder frame from an Isaac Lab articulation (all envs).

    Uses the applied efforts of the actuator collection (``articulation.actuators.applied_effort``, i.e. the
    torques the simulator applies after the actuator model's clipping), joint states, and body link-frame
    poses and velocities in the world frame. Isaac Lab 3.0 stores quaternions as (x, y, z, w); they are
    returned as (w, x, y, z). When the actuator collection exposes the commands its models received
    (``articulation.actuators.target_command.position``, Isaac Lab 3.0), they are returned as the optional
    ``dof_position_targets``.

    Args:
        articulation: An Isaac Lab ``Articulation`` (anything with the same ``data`` fields works).
        env_origins: Env origins [m], shape (E, 3), subtracted from the body positions (e.g.
            ``env.unwrapped.scene.env_origins``); None keeps world positions.

    Returns:
        Keyword arguments for :meth:`TorqueProfileRecorder.append`.
    """
    data = articulation.data
    actuators = getattr(articulation, "actuators", None)
    torques = actuators.applied_effort if actuators is not None else data.applied_torque
    body_pos = _as_torch(data.body_link_pos_w)
    if env_origins is not None:
        body_pos = body_pos - env_origins.to(body_pos.device)[:, None, :]
    quat_xyzw = _as_torch(data.body_link_quat_w)
    frame = {
        "joint_torques": _as_torch(torques),
        "dof_positions": _as_torch(data.joint_pos),
        "dof_velocities": _as_torch(data.joint_vel),
        "body_positions": body_pos,
        "body_rotations": torch.cat((quat_xyzw[..., 3:], quat_xyzw[..., :3]), dim=-1),
        "body_linear_velocities": _as_torch(data.body_link_lin_vel_w),
        "body_angular_velocities": _as_torch(data.body_link_ang_vel_w),
    }
    target_command = getattr(actuators, "target_command", None)
    if target_command is not None:
        frame["dof_position_targets"] = _as_torch(target_command.position)
    return frame


class ArticulationTorqueRecorder(TorqueProfileRecorder):
    """A :class:`TorqueProfileRecorder` that reads its frames from an Isaac Lab articulation.

    Example (inside a play loop, after each ``env.step``):

    .. code-block:: python

        robot = env.unwrapped.scene["robot"]
        recorder = ArticulationTorqueRecorder(
            robot, fps=1.0 / env.unwrapped.step_dt, env_ids=range(4), env_origins=env.unwrapped.scene.env_origins
        )
        for _ in range(num_steps):
            obs, _, dones, _ = env.step(policy(obs))
            recorder.record(new_episode=dones)
        recorder.save("logs/torque_profiles")
    """

    def __init__(
        self,
        articulation: Any,
        fps: float,
        env_ids: Sequence[int] | None = None,
        env_origins: torch.Tensor | None = None,
        storage_device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
    ):
        """Set up a recording of ``articulation``'s joints and bodies.

        Args:
            articulation: The Isaac Lab ``Articulation`` to record.
            fps: Frame rate [Hz], the rate :meth:`record` is called at (the env step rate ``1 / step_dt``).
            env_ids: Envs to record (default: all).
            env_origins: Env origins [m], shape (E, 3), subtracted from body positions; None keeps world positions.
            storage_device: Device where frames are accumulated.
            dtype: Floating type of the stored frames and written arrays.
        """
        super().__init__(
            dof_names=articulation.joint_names,
            body_names=articulation.body_names,
            fps=fps,
            num_envs=articulation.num_instances,
            env_ids=env_ids,
            storage_device=storage_device,
            dtype=dtype,
        )
        self.articulation = articulation
        self.env_origins = env_origins

    def record(self, new_episode: torch.Tensor | None = None) -> None:
        """Append the articulation's current state as one frame.

        Args:
            new_episode: Bool mask (E,), True for the envs reset during the step just taken (the step's
                ``dones``): their frame starts a new episode. None: no env was reset.
        """
        self.append(**read_articulation_frame(self.articulation, self.env_origins), new_episode=new_episode)
