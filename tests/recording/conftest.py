"""Small synthetic torque profiles for the recording tests (made in memory, written to tmp_path)."""

from __future__ import annotations

import numpy as np
import pytest

from learned_actuators.recording import TorqueProfileData, validate_profile


def _random_unit_quaternions(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    q = rng.normal(size=(*shape, 4))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _make_profile_arrays(
    frames: int = 6, dofs: int = 3, bodies: int = 2, dtype=np.float32, fps: float = 50.0, seed: int = 0
) -> dict:
    rng = np.random.default_rng(seed)
    arrays = {
        "fps": np.float64(fps),
        "dof_names": np.array([f"leg_{i}_joint" for i in range(dofs)]),
        "body_names": np.array(["base", *[f"link/{i}" for i in range(bodies - 1)]])[:bodies],
        "joint_torques": rng.normal(scale=20.0, size=(frames, dofs)),
        "dof_positions": rng.normal(size=(frames, dofs)),
        "dof_velocities": rng.normal(scale=5.0, size=(frames, dofs)),
        "body_positions": rng.normal(size=(frames, bodies, 3)),
        "body_rotations": _random_unit_quaternions(rng, (frames, bodies)),
        "body_linear_velocities": rng.normal(size=(frames, bodies, 3)),
        "body_angular_velocities": rng.normal(size=(frames, bodies, 3)),
    }
    for key, value in arrays.items():
        if key not in ("fps", "dof_names", "body_names"):
            arrays[key] = value.astype(dtype)
    return arrays


def _make_profile(**kwargs) -> TorqueProfileData:
    return validate_profile(_make_profile_arrays(**kwargs), "test profile")


@pytest.fixture
def make_profile_arrays():
    """Factory for a valid dict of torque-profile arrays (kwargs: frames, dofs, bodies, dtype, fps, seed)."""
    return _make_profile_arrays


@pytest.fixture
def make_profile():
    """Factory for a validated :class:`TorqueProfileData` (same kwargs as ``make_profile_arrays``)."""
    return _make_profile
