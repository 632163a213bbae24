"""The optional ``dof_position_targets`` field: NPZ, CSV, loader, recorder and the training reader."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from learned_actuators.data import read_torque_profile_npz
from learned_actuators.recording import (
    PROFILE_KEYS,
    TorqueProfile,
    TorqueProfileFormatError,
    TorqueProfileRecorder,
    convert,
    load_npz,
    read_articulation_frame,
    read_csv,
    save_npz,
    validate_profile,
    write_csv,
)

pytestmark = pytest.mark.unit


def with_targets(make_profile_arrays, frames: int = 5, dtype=np.float32) -> dict:
    arrays = make_profile_arrays(frames=frames, dofs=3, bodies=2, dtype=dtype)
    arrays["dof_position_targets"] = (arrays["dof_positions"] + 0.25).astype(dtype)
    return arrays


def test_npz_keeps_targets_without_warning_and_omits_them_when_absent(tmp_path, make_profile_arrays, make_profile):
    arrays = with_targets(make_profile_arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an optional key is not an unknown one
        profile = validate_profile(arrays, "with targets")
    path = save_npz(profile, tmp_path / "t.npz")
    with np.load(path) as npz:
        assert sorted(npz.files) == sorted((*PROFILE_KEYS, "dof_position_targets"))
    np.testing.assert_array_equal(load_npz(path).dof_position_targets, arrays["dof_position_targets"])

    plain = save_npz(make_profile(), tmp_path / "plain.npz")
    with np.load(plain) as npz:
        assert sorted(npz.files) == sorted(PROFILE_KEYS)
    assert load_npz(plain).dof_position_targets is None


def test_targets_with_wrong_shape_or_nan_are_rejected(make_profile_arrays):
    arrays = with_targets(make_profile_arrays)
    arrays["dof_position_targets"] = arrays["dof_position_targets"][:, :2]
    with pytest.raises(TorqueProfileFormatError, match=r"field 'dof_position_targets' has shape \(5, 2\)"):
        validate_profile(arrays, "bad")
    arrays = with_targets(make_profile_arrays)
    arrays["dof_position_targets"][3, 1] = np.nan
    with pytest.raises(TorqueProfileFormatError, match=r"'dof_position_targets' has a non-finite value .*frame 3"):
        validate_profile(arrays, "bad")


def test_csv_round_trip_keeps_targets(tmp_path, make_profile_arrays):
    profile = validate_profile(with_targets(make_profile_arrays, dtype=np.float64), "p")
    first = write_csv(profile, tmp_path / "a.csv")
    header = first.read_text().splitlines()[3].split(",")
    assert [c for c in header if c.startswith("dof_pos_target/")] == [f"dof_pos_target/{n}" for n in profile.dof_names]
    (npz_path,) = convert(first, tmp_path / "b.npz")
    np.testing.assert_array_equal(load_npz(npz_path).dof_position_targets, profile.dof_position_targets)
    (second,) = convert(npz_path, tmp_path / "c.csv")
    assert second.read_bytes() == first.read_bytes()


def test_csv_with_targets_for_some_dofs_only_is_rejected(tmp_path, make_profile_arrays):
    path = write_csv(validate_profile(with_targets(make_profile_arrays), "p"), tmp_path / "a.csv")
    lines = path.read_text().splitlines()
    header = lines[3].split(",")
    drop = header.index("dof_pos_target/leg_1_joint")
    cut = [",".join(v for j, v in enumerate(line.split(",")) if j != drop) for line in lines[3:]]
    path.write_text("\n".join([*lines[:3], *cut]) + "\n")
    with pytest.raises(TorqueProfileFormatError, match=r"field 'dof_position_targets' columns .*leg_1_joint"):
        read_csv(path)


def test_loader_interpolates_targets_and_gives_none_without_them(make_profile_arrays, make_profile):
    profile = TorqueProfile(validate_profile(with_targets(make_profile_arrays, dtype=np.float64), "p"))
    targets = profile.data.dof_position_targets
    sample = profile.sample(torch.tensor([1.0 / profile.fps, 2.5 / profile.fps], dtype=torch.float64))
    np.testing.assert_array_equal(sample.dof_position_targets[0].numpy(), targets[1])
    np.testing.assert_allclose(sample.dof_position_targets[1].numpy(), 0.5 * (targets[2] + targets[3]), rtol=1e-12)
    assert TorqueProfile(make_profile()).sample(0.0).dof_position_targets is None


def frame(num_envs: int = 2, dofs: int = 2, bodies: int = 1) -> dict[str, torch.Tensor]:
    quat = torch.zeros(num_envs, bodies, 4)
    quat[..., 0] = 1.0
    return {
        "joint_torques": torch.randn(num_envs, dofs),
        "dof_positions": torch.randn(num_envs, dofs),
        "dof_velocities": torch.randn(num_envs, dofs),
        "body_positions": torch.randn(num_envs, bodies, 3),
        "body_rotations": quat,
        "body_linear_velocities": torch.randn(num_envs, bodies, 3),
        "body_angular_velocities": torch.randn(num_envs, bodies, 3),
    }


def test_recorder_writes_targets_read_by_the_training_reader(tmp_path):
    recorder = TorqueProfileRecorder(["hip", "knee"], ["base"], fps=50.0, num_envs=2)
    targets = [torch.tensor([[0.1 * k, 0.2], [0.3, -0.1 * k]]) for k in range(12)]  # the reader wants >= 10
    for k in range(12):
        recorder.append(**frame(), dof_position_targets=targets[k])
    path = recorder.save(tmp_path)[1]
    np.testing.assert_allclose(load_npz(path).dof_position_targets, torch.stack(targets)[:, 1].numpy())
    log = read_torque_profile_npz(path)
    assert log.meta["has_target"] is True
    np.testing.assert_allclose(log.q_target, torch.stack(targets)[:, 1].numpy())


def test_recorder_refuses_targets_on_some_frames_only():
    recorder = TorqueProfileRecorder(["hip", "knee"], ["base"], fps=50.0, num_envs=2)
    recorder.append(**frame())
    with pytest.raises(ValueError, match="'dof_position_targets' is given on frame 1 but was missing before"):
        recorder.append(**frame(), dof_position_targets=torch.zeros(2, 2))
    recorder = TorqueProfileRecorder(["hip", "knee"], ["base"], fps=50.0, num_envs=2)
    recorder.append(**frame(), dof_position_targets=torch.zeros(2, 2))
    with pytest.raises(ValueError, match="'dof_position_targets' is missing on frame 1 but was given before"):
        recorder.append(**frame())
    with pytest.raises(ValueError, match=r"'dof_position_targets' has shape \(2, 3\), expected \(2, 2\)"):
        recorder.append(**frame(), dof_position_targets=torch.zeros(2, 3))


def test_articulation_frame_reads_the_actuator_target_command():
    positions = torch.tensor([[0.5, -0.5]])
    data = SimpleNamespace(
        joint_pos=torch.zeros(1, 2),
        joint_vel=torch.zeros(1, 2),
        body_link_pos_w=torch.zeros(1, 1, 3),
        body_link_quat_w=torch.tensor([[[0.0, 0.0, 0.0, 1.0]]]),
        body_link_lin_vel_w=torch.zeros(1, 1, 3),
        body_link_ang_vel_w=torch.zeros(1, 1, 3),
    )
    actuators = SimpleNamespace(applied_effort=torch.ones(1, 2), target_command=SimpleNamespace(position=positions))
    values = read_articulation_frame(SimpleNamespace(data=data, actuators=actuators))
    torch.testing.assert_close(values["dof_position_targets"], positions)
    del actuators.target_command
    assert "dof_position_targets" not in read_articulation_frame(SimpleNamespace(data=data, actuators=actuators))
