"""Synthetic Go2-shaped reference torque profiles with episodes (written to a test's tmp_path)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from learned_actuators.recording import save_npz, validate_profile

GO2_JOINTS = tuple(f"{leg}_{part}_joint" for part in ("hip", "thigh", "calf") for leg in ("FL", "FR", "RL", "RR"))
"""The Go2's 12 joint names (stored here in another order than the robot's, which the loader must handle)."""


def go2_profile_arrays(frames: int = 120, fps: float = 50.0, starts=(0, 50), seed: int = 0, bodies=("base", "FL_foot")):
    """Arrays of a smooth gait-like profile with the given episode starts, float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / fps
    phase = rng.uniform(0, 2 * np.pi, len(GO2_JOINTS))
    pos = 0.3 * np.sin(2 * np.pi * 2.0 * t[:, None] + phase)
    vel = 0.3 * 2 * np.pi * 2.0 * np.cos(2 * np.pi * 2.0 * t[:, None] + phase)
    quat = np.zeros((frames, len(bodies), 4))
    quat[..., 0] = 1.0
    arrays = {
        "fps": fps,
        "dof_names": np.array(GO2_JOINTS),
        "body_names": np.array(bodies),
        "joint_torques": 5.0 * np.sin(2 * np.pi * 2.0 * t[:, None] + phase + 0.5),
        "dof_positions": pos,
        "dof_velocities": vel,
        "body_positions": rng.normal(size=(frames, len(bodies), 3)),
        "body_rotations": quat,
        "body_linear_velocities": rng.normal(scale=0.3, size=(frames, len(bodies), 3)),
        "body_angular_velocities": rng.normal(scale=0.3, size=(frames, len(bodies), 3)),
        "episode_starts": np.asarray(starts, dtype=np.int64),
    }
    return {
        k: (v.astype(np.float32) if isinstance(v, np.ndarray) and v.dtype == np.float64 else v)
        for k, v in arrays.items()
    }


def write_go2_profile(path: Path, **kwargs) -> Path:
    """Write :func:`go2_profile_arrays` as a validated NPZ profile."""
    return save_npz(validate_profile(go2_profile_arrays(**kwargs), path), path)
