"""Data checks of the AMP reference loader: each error names the file and the array; samples stay in episodes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from learned_actuators.amp import FeatureLayout, FeatureNormalizer, MotionDataError, TorqueMotionDataset
from learned_actuators.amp.features import base_frame_velocities
from learned_actuators.recording import TorqueProfileFormatError
from learned_actuators.recording.profile import BODY_FIELDS
from tests.amp.synthetic import GO2_JOINTS, go2_profile_arrays, write_go2_profile

pytestmark = pytest.mark.unit

ROBOT_JOINTS = sorted(GO2_JOINTS)  # another order than the files'
DT = 0.02


def _dataset(files, use_base=True, joints=ROBOT_JOINTS):
    return TorqueMotionDataset(files, joints, FeatureLayout(len(joints), use_base), DT)


def _save(path, arrays):
    np.savez(path, **arrays)
    return path


def test_missing_torques_are_an_error_naming_file_and_array(tmp_path):
    arrays = go2_profile_arrays()
    del arrays["joint_torques"]
    path = _save(tmp_path / "no_torque.npz", arrays)
    with pytest.raises(TorqueProfileFormatError, match=r"no_torque\.npz: missing field\(s\) \['joint_torques'\]"):
        _dataset([path])


def test_a_different_joint_count_is_an_error_naming_dof_names(tmp_path):
    path = write_go2_profile(tmp_path / "a.npz")
    with pytest.raises(MotionDataError, match=r"a\.npz: field 'dof_names' has 12 joints, the robot has 11"):
        _dataset([path], joints=ROBOT_JOINTS[:11])


def test_different_joint_names_are_an_error_naming_dof_names(tmp_path):
    arrays = go2_profile_arrays()
    arrays["dof_names"] = np.array([n.replace("FL_", "LF_") for n in GO2_JOINTS])
    path = _save(tmp_path / "renamed.npz", arrays)
    with pytest.raises(MotionDataError, match=r"renamed\.npz: field 'dof_names' .*missing \['FL_calf_joint'"):
        _dataset([path])


def test_missing_body_data_is_an_error_only_when_base_velocities_are_used(tmp_path):
    arrays = go2_profile_arrays()
    for key in BODY_FIELDS:
        del arrays[key]
    path = _save(tmp_path / "joints_only.npz", arrays)
    with pytest.raises(MotionDataError, match=r"joints_only\.npz: field 'body_rotations' is missing"):
        _dataset([path], use_base=True)
    data = _dataset([path], use_base=False)
    now, nxt = data.sample_transitions(16)
    assert now.shape == (16, 36) and nxt.shape == (16, 36)  # no base features, nothing filled in


def test_a_missing_base_body_is_an_error_naming_body_names(tmp_path):
    path = write_go2_profile(tmp_path / "nobase.npz", bodies=("trunk", "FL_foot"))
    with pytest.raises(MotionDataError, match=r"nobase\.npz: field 'body_names' has no base body 'base'"):
        _dataset([path])


def test_features_follow_the_robot_joint_order_and_never_cross_episodes(tmp_path):
    arrays = go2_profile_arrays(frames=60, starts=(0, 20, 21, 40))
    # dof positions encode the episode: every joint of episode e holds 10 * e + joint index in file order
    ids = np.searchsorted([0, 20, 21, 40], np.arange(60), side="right") - 1
    arrays["dof_positions"] = (10.0 * ids[:, None] + np.arange(12)[None, :]).astype(np.float32)
    path = _save(tmp_path / "episodes.npz", arrays)
    data = _dataset([path])
    now, nxt = data.sample_transitions(4000, generator=torch.Generator().manual_seed(0))
    file_index = [GO2_JOINTS.index(n) for n in ROBOT_JOINTS]
    episode = now[:, 0] - file_index[0]
    torch.testing.assert_close(
        now[:, :12] - episode[:, None], torch.tensor(file_index, dtype=torch.float32).expand(4000, 12)
    )
    torch.testing.assert_close(nxt[:, :12], now[:, :12])  # same episode on both sides of every transition
    # episode 1 is a single frame: never drawn; episodes 0, 2 and 3 are
    assert set((episode / 10).round().long().tolist()) == {0, 2, 3}


def test_base_velocities_are_rotated_into_the_base_frame():
    # a base yawed by +90 degrees moving along world +y moves along its own +x
    q = torch.tensor([[np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)]], dtype=torch.float64)
    lin, _ = base_frame_velocities(
        q, torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64), torch.zeros(1, 3, dtype=torch.float64)
    )
    torch.testing.assert_close(lin, torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64))


def test_torque_weight_scales_only_the_standardised_torque_features():
    layout = FeatureLayout(2, use_base_velocities=True)
    reference = torch.randn(500, layout.size) * 3.0 + 1.0
    zero, one = FeatureNormalizer(layout, 0.0), FeatureNormalizer(layout, 1.0)
    zero.fit(reference)
    one.fit(reference)
    x = torch.randn(7, layout.size)
    assert torch.equal(zero(x)[:, layout.torque_slice], torch.zeros(7, 2))
    keep = [i for i in range(layout.size) if i not in range(4, 6)]
    torch.testing.assert_close(zero(x)[:, keep], one(x)[:, keep])
    torch.testing.assert_close(one(reference).mean(0), torch.zeros(layout.size), atol=1e-5, rtol=0)
