"""TorqueProfile: exact at frame times, linear between them, slerp for rotations, chosen device."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from learned_actuators.recording import TorqueProfile, save_npz, slerp, validate_profile

pytestmark = pytest.mark.unit

LINEAR_KEYS = (
    "joint_torques",
    "dof_positions",
    "dof_velocities",
    "body_positions",
    "body_linear_velocities",
    "body_angular_velocities",
)


def z_rotation(angle: float) -> list[float]:
    """Quaternion (w, x, y, z) of a rotation by ``angle`` [rad] about z."""
    return [math.cos(angle / 2), 0.0, 0.0, math.sin(angle / 2)]


# k / fps * fps falls just below k for some frames at these rates (e.g. frame 29 at 50 Hz)
@pytest.mark.parametrize("fps", [50.0, 49.0, 29.97])
def test_sample_at_frame_times_returns_stored_frames_exactly(make_profile, fps):
    data = make_profile(frames=64, fps=fps)
    profile = TorqueProfile(data)
    times = torch.arange(data.num_frames, dtype=torch.float64) / fps
    sample = profile.sample(times)
    for key in (*LINEAR_KEYS, "body_rotations"):
        assert torch.equal(getattr(sample, key), torch.from_numpy(getattr(data, key))), key


def test_sample_between_frames_is_linear(make_profile):
    data = make_profile(frames=5, dtype=np.float64, fps=50.0)
    profile = TorqueProfile(data)
    frame, fraction = 2, 0.3
    sample = profile.sample(torch.tensor([(frame + fraction) / 50.0], dtype=torch.float64))
    for key in LINEAR_KEYS:
        values = getattr(data, key)
        expected = values[frame] + fraction * (values[frame + 1] - values[frame])
        np.testing.assert_allclose(getattr(sample, key)[0].numpy(), expected, rtol=1e-12, atol=1e-12)


def test_sample_clamps_to_the_recorded_interval(make_profile):
    data = make_profile(frames=4)
    sample = TorqueProfile(data).sample([-1.0, 10.0])
    assert torch.equal(sample.dof_positions[0], torch.from_numpy(data.dof_positions[0]))
    assert torch.equal(sample.dof_positions[1], torch.from_numpy(data.dof_positions[-1]))
    torch.testing.assert_close(sample.times, torch.tensor([0.0, data.duration], dtype=torch.float64))


def test_rotations_are_slerped_between_frames(make_profile):
    arrays = {key: value for key, value in make_profile(frames=2, bodies=1, dtype=np.float64).arrays().items()}
    arrays["body_rotations"] = np.array([[z_rotation(0.0)], [z_rotation(math.pi / 2)]])
    profile = TorqueProfile(validate_profile(arrays))
    mid = profile.sample(0.5 / profile.fps).body_rotations[0, 0]
    torch.testing.assert_close(mid, torch.tensor(z_rotation(math.pi / 4), dtype=torch.float64))
    quarter = profile.sample(0.25 / profile.fps).body_rotations[0, 0]
    torch.testing.assert_close(quarter, torch.tensor(z_rotation(math.pi / 8), dtype=torch.float64))


def test_from_file_puts_tensors_on_the_requested_device_and_dtype(tmp_path, make_profile):
    path = save_npz(make_profile(), tmp_path / "p.npz")
    profile = TorqueProfile.from_file(path, device="cpu", dtype=torch.float64)
    sample = profile.sample(torch.tensor([0.01, 0.02]))
    assert sample.joint_torques.device == torch.device("cpu")
    assert sample.joint_torques.dtype == torch.float64
    assert sample.body_rotations.shape == (2, 2, 4)
    assert profile.dof_names == ["leg_0_joint", "leg_1_joint", "leg_2_joint"]


@pytest.mark.gpu
def test_sample_on_cuda_matches_cpu(make_profile):
    data = make_profile(frames=6)
    times = torch.tensor([0.0, 0.013, 0.05, 0.1])
    cpu, gpu = TorqueProfile(data).sample(times), TorqueProfile(data, device="cuda").sample(times)
    assert gpu.body_rotations.is_cuda
    torch.testing.assert_close(gpu.body_rotations.cpu(), cpu.body_rotations)


# slerp on its own


def _random_quaternions(n: int, seed: int = 0) -> torch.Tensor:
    q = torch.randn(n, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return q / q.norm(dim=-1, keepdim=True)


def test_slerp_is_unit_norm_and_hits_the_endpoints():
    q0, q1 = _random_quaternions(64, 0), _random_quaternions(64, 1)
    for t in (0.0, 0.1, 0.5, 0.9):
        out = slerp(q0, q1, torch.full((64,), t, dtype=torch.float64))
        torch.testing.assert_close(out.norm(dim=-1), torch.ones(64, dtype=torch.float64))
    assert torch.equal(slerp(q0, q1, torch.zeros(64, dtype=torch.float64)), q0)
    end = slerp(q0, q1, torch.ones(64, dtype=torch.float64))
    # same rotation as q1 (the sign may flip to stay on the short arc)
    torch.testing.assert_close((end * q1).sum(-1).abs(), torch.ones(64, dtype=torch.float64))


def test_slerp_takes_the_short_arc_whatever_the_sign_of_q1():
    q0 = torch.tensor([z_rotation(0.0)], dtype=torch.float64)
    q1 = torch.tensor([z_rotation(math.radians(100))], dtype=torch.float64)
    half = torch.tensor([0.5], dtype=torch.float64)
    expected = torch.tensor([z_rotation(math.radians(50))], dtype=torch.float64)
    torch.testing.assert_close(slerp(q0, q1, half), expected)
    torch.testing.assert_close(slerp(q0, -q1, half), expected)


def test_slerp_rotates_at_constant_rate():
    q0, q1 = _random_quaternions(16, 2), _random_quaternions(16, 3)
    total = 2 * torch.acos((q0 * q1).sum(-1).abs().clamp(max=1.0))
    for t in (0.2, 0.7):
        out = slerp(q0, q1, torch.full((16,), t, dtype=torch.float64))
        travelled = 2 * torch.acos((q0 * out).sum(-1).abs().clamp(max=1.0))
        torch.testing.assert_close(travelled, t * total)


def test_slerp_of_nearly_equal_rotations_stays_finite_and_unit():
    q0 = torch.tensor([z_rotation(0.3)], dtype=torch.float32)
    q1 = torch.tensor([z_rotation(0.3 + 1e-6)], dtype=torch.float32)
    out = slerp(q0, q1, torch.tensor([0.5]))
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, q0)
