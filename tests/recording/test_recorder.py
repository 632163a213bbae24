"""Recorder core (simulator-free) and the articulation adapter on a stand-in articulation."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from learned_actuators.recording import (
    PROFILE_KEYS,
    ArticulationTorqueRecorder,
    TorqueProfileFormatError,
    TorqueProfileRecorder,
    load_npz,
    read_articulation_frame,
)

pytestmark = pytest.mark.unit

E, D, B = 3, 2, 2


def frame(step: int, num_envs: int = E) -> dict[str, torch.Tensor]:
    """Recognisable values: 100 * step + 10 * env + element index."""
    env = torch.arange(num_envs, dtype=torch.float32)

    def block(*shape):
        size = math.prod(shape)
        return 100.0 * step + 10.0 * env.reshape(-1, *[1] * len(shape)) + torch.arange(size).reshape(shape)

    quat = torch.zeros(num_envs, B, 4)
    quat[..., 0] = 1.0
    return {
        "joint_torques": block(D),
        "dof_positions": block(D) + 0.5,
        "dof_velocities": block(D) + 0.25,
        "body_positions": block(B, 3),
        "body_rotations": quat,
        "body_linear_velocities": block(B, 3) - 1.0,
        "body_angular_velocities": block(B, 3) - 2.0,
    }


def make_recorder(**kwargs) -> TorqueProfileRecorder:
    return TorqueProfileRecorder(["hip", "knee"], ["base", "foot"], fps=50.0, num_envs=E, **kwargs)


def test_recorder_writes_one_file_per_selected_env_with_documented_shapes(tmp_path):
    recorder = make_recorder(env_ids=[0, 2])
    for step in range(5):
        recorder.append(**frame(step))
    paths = recorder.save(tmp_path)
    assert [p.name for p in paths] == ["env_0000.npz", "env_0002.npz"]
    with np.load(paths[1]) as npz:
        assert sorted(npz.files) == sorted([*PROFILE_KEYS, "episode_starts"])
    profile = load_npz(paths[1])
    np.testing.assert_array_equal(profile.episode_starts, [0])  # no reset: one episode from frame 0
    assert profile.fps == 50.0 and profile.dof_names == ("hip", "knee") and profile.body_names == ("base", "foot")
    assert profile.joint_torques.shape == (5, D)
    assert profile.body_positions.shape == (5, B, 3)
    assert profile.body_rotations.shape == (5, B, 4)
    # frame 3 of env 2: 100 * 3 + 10 * 2 + element
    np.testing.assert_array_equal(profile.joint_torques[3], [320.0, 321.0])
    np.testing.assert_array_equal(profile.body_angular_velocities[4, 1], [421.0, 422.0, 423.0])
    assert profile.joint_torques.dtype == np.float32


def test_recorder_rejects_a_wrongly_shaped_field():
    recorder = make_recorder()
    values = frame(0)
    values["body_rotations"] = values["body_rotations"][..., 1:]  # (E, B, 3): xyz only
    with pytest.raises(ValueError, match=r"'body_rotations' has shape \(3, 2, 3\), expected \(3, 2, 4\)"):
        recorder.append(**values)


def test_saving_an_empty_recording_fails_clearly(tmp_path):
    with pytest.raises(RuntimeError, match="No frames recorded"):
        make_recorder().save(tmp_path)


def test_nan_from_the_simulator_is_reported_with_env_and_field(tmp_path):
    recorder = make_recorder()
    values = frame(0)
    values["dof_velocities"][1, 0] = float("nan")
    recorder.append(**values)
    with pytest.raises(TorqueProfileFormatError, match=r"recorded env 1: field 'dof_velocities'"):
        recorder.save(tmp_path)


def test_recorder_rejects_bad_env_ids_and_duplicate_names():
    with pytest.raises(ValueError, match="env_ids"):
        make_recorder(env_ids=[0, 3])
    with pytest.raises(TorqueProfileFormatError, match="duplicate"):
        TorqueProfileRecorder(["hip", "hip"], ["base"], fps=50.0, num_envs=1)


class FakeProxyArray:
    """Stands in for Isaac Lab 3.0's ProxyArray: the recorder only uses ``.torch``."""

    def __init__(self, tensor: torch.Tensor):
        self.torch = tensor


def fake_articulation(num_envs: int = 2) -> SimpleNamespace:
    half = math.pi / 4  # 90 deg about z for body 1, identity for body 0; stored (x, y, z, w)
    quat_xyzw = torch.tensor([[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, math.sin(half), math.cos(half)]]).expand(num_envs, 2, 4)
    pos = torch.arange(num_envs * 2 * 3, dtype=torch.float32).reshape(num_envs, 2, 3)
    data = SimpleNamespace(
        joint_pos=FakeProxyArray(torch.full((num_envs, 2), 0.3)),
        joint_vel=FakeProxyArray(torch.full((num_envs, 2), -1.0)),
        body_link_pos_w=FakeProxyArray(pos),
        body_link_quat_w=FakeProxyArray(quat_xyzw.clone()),
        body_link_lin_vel_w=FakeProxyArray(torch.ones(num_envs, 2, 3)),
        body_link_ang_vel_w=FakeProxyArray(torch.zeros(num_envs, 2, 3)),
        applied_torque=FakeProxyArray(torch.full((num_envs, 2), -99.0)),  # deprecated field, must not be used
    )
    actuators = SimpleNamespace(applied_effort=FakeProxyArray(torch.tensor([[1.0, 2.0], [3.0, 4.0]])))
    return SimpleNamespace(
        data=data, actuators=actuators, joint_names=["hip", "knee"], body_names=["base", "foot"], num_instances=2
    )


def test_articulation_frame_uses_applied_effort_env_origins_and_wxyz():
    robot = fake_articulation()
    origins = torch.tensor([[10.0, 0.0, 0.0], [0.0, 20.0, 0.0]])
    values = read_articulation_frame(robot, env_origins=origins)
    torch.testing.assert_close(values["joint_torques"], torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    torch.testing.assert_close(values["body_positions"][1, 0], torch.tensor([6.0, 7.0 - 20.0, 8.0]))
    torch.testing.assert_close(values["body_positions"][0, 1], torch.tensor([3.0 - 10.0, 4.0, 5.0]))
    s = math.sin(math.pi / 4)
    torch.testing.assert_close(values["body_rotations"][0, 1], torch.tensor([s, 0.0, 0.0, s]))
    torch.testing.assert_close(values["body_rotations"][1, 0], torch.tensor([1.0, 0.0, 0.0, 0.0]))


def test_articulation_recorder_records_and_saves(tmp_path):
    robot = fake_articulation()
    recorder = ArticulationTorqueRecorder(robot, fps=50.0, env_ids=[1])
    recorder.record()
    robot.data.joint_pos.torch += 0.1  # the sim writes in place between steps
    recorder.record()
    (path,) = recorder.save(tmp_path)
    profile = load_npz(path)
    np.testing.assert_allclose(profile.dof_positions[:, 0], [0.3, 0.4], rtol=1e-6)
    np.testing.assert_array_equal(profile.joint_torques, [[3.0, 4.0], [3.0, 4.0]])


def test_warp_arrays_are_converted_and_quaternions_reordered():
    import warp as wp  # comes with Isaac Lab; a missing warp must fail this test, not skip it

    wp.config.quiet = True
    robot = fake_articulation()
    quat = wp.array(
        [[wp.quat_identity(), wp.quat_from_axis_angle(wp.vec3(0.0, 0.0, 1.0), math.pi / 2)]] * 2,
        dtype=wp.quatf,
        device="cpu",
    )
    robot.data.body_link_quat_w = quat  # a raw warp array, as some Isaac Lab fields may be
    values = read_articulation_frame(robot)
    s = math.sin(math.pi / 4)
    torch.testing.assert_close(values["body_rotations"][0, 1], torch.tensor([s, 0.0, 0.0, s]))


def test_recorder_marks_the_frame_after_each_reset_as_an_episode_start_per_env(tmp_path):
    recorder = make_recorder()
    resets = {2: [1], 3: [0, 1], 5: [1]}  # step -> envs reset during that step
    for step in range(7):
        mask = torch.zeros(E, dtype=torch.bool)
        mask[resets.get(step, [])] = True
        recorder.append(**frame(step), new_episode=mask)
    profiles = recorder.profiles()
    np.testing.assert_array_equal(profiles[0].episode_starts, [0, 3])
    np.testing.assert_array_equal(profiles[1].episode_starts, [0, 2, 3, 5])
    np.testing.assert_array_equal(profiles[2].episode_starts, [0])
    assert profiles[1].episodes == [(0, 2), (2, 3), (3, 5), (5, 7)]
    # the marks survive the NPZ round trip
    paths = recorder.save(tmp_path)
    np.testing.assert_array_equal(load_npz(paths[1]).episode_starts, [0, 2, 3, 5])


def test_recorder_rejects_a_wrongly_shaped_reset_mask():
    recorder = make_recorder()
    with pytest.raises(ValueError, match="'new_episode' has shape"):
        recorder.append(**frame(0), new_episode=torch.zeros(E + 1, dtype=torch.bool))
