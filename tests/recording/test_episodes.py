"""Episode marks in torque profiles: validation, CSV <-> NPZ round trip, and samplers that stay inside episodes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from learned_actuators.recording import (
    TorqueProfile,
    TorqueProfileFormatError,
    convert,
    load_npz,
    read_csv,
    save_npz,
    validate_profile,
    write_csv,
)
from learned_actuators.recording.profile import BODY_FIELDS, episode_ids

pytestmark = pytest.mark.unit

FPS = 50.0


def _episodic_arrays(make_profile_arrays, starts, frames=20, **kwargs) -> dict:
    """Profile arrays whose dof positions encode (episode, frame in episode) as 1000 * episode + frame."""
    arrays = make_profile_arrays(frames=frames, fps=FPS, dtype=np.float64, **kwargs)
    arrays["episode_starts"] = np.asarray(starts, dtype=np.int64)
    ids = np.searchsorted(starts, np.arange(frames), side="right") - 1
    local = np.arange(frames) - np.asarray(starts)[ids]
    arrays["dof_positions"] = np.repeat((1000.0 * ids + local)[:, None], arrays["dof_positions"].shape[1], axis=1)
    return arrays


@pytest.mark.parametrize(
    ("starts", "problem"),
    [
        ([1, 5], "must start at 0"),
        ([0, 5, 5], "increase strictly"),
        ([0, 20], "below the 20 frames"),
        ([], "non-empty"),
    ],
)
def test_bad_episode_starts_name_the_source_and_field(make_profile_arrays, starts, problem):
    arrays = make_profile_arrays(frames=20)
    arrays["episode_starts"] = np.asarray(starts, dtype=np.int64)
    with pytest.raises(TorqueProfileFormatError, match=rf"clip\.npz: field 'episode_starts' .*{problem}"):
        validate_profile(arrays, "clip.npz")


def test_episode_ids_count_episodes_per_frame(make_profile_arrays):
    profile = validate_profile(_episodic_arrays(make_profile_arrays, [0, 3, 4, 10]))
    np.testing.assert_array_equal(episode_ids(profile), [0] * 3 + [1] + [2] * 6 + [3] * 10)
    assert profile.episodes == [(0, 3), (3, 4), (4, 10), (10, 20)]


def test_npz_to_csv_to_npz_keeps_episode_starts(tmp_path, make_profile_arrays):
    profile = validate_profile(_episodic_arrays(make_profile_arrays, [0, 7, 8, 15]))
    npz = save_npz(profile, tmp_path / "a.npz")
    csv = convert(npz, to="csv")[0]
    assert csv.read_text().splitlines()[3].startswith("time,episode,")
    back = convert(csv, dst=tmp_path / "b.npz", to="npz")[0]
    again = load_npz(back)
    np.testing.assert_array_equal(again.episode_starts, [0, 7, 8, 15])
    np.testing.assert_array_equal(again.dof_positions, profile.dof_positions)
    assert again.episode_starts.dtype == np.int64


def test_a_bad_episode_column_is_named(tmp_path, make_profile_arrays):
    path = write_csv(validate_profile(_episodic_arrays(make_profile_arrays, [0, 5])), tmp_path / "a.csv")
    lines = path.read_text().splitlines()
    cells = lines[5].split(",")
    cells[1] = "3"  # episode index jumps from 0 to 3
    lines[5] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TorqueProfileFormatError, match=r"a\.csv: field 'episode_starts' \(column 'episode'\)"):
        read_csv(path)


def test_interpolation_holds_the_last_frame_across_a_reset(make_profile_arrays):
    profile = TorqueProfile(validate_profile(_episodic_arrays(make_profile_arrays, [0, 5])))
    # halfway between frame 4 (last of episode 0) and frame 5 (first of episode 1)
    sample = profile.sample(torch.tensor([4.5 / FPS, 3.5 / FPS]))
    assert sample.dof_positions[0, 0].item() == 4.0  # held, not 502.0 (the mean with 1000.0)
    assert sample.dof_positions[1, 0].item() == pytest.approx(3.5)


def test_transition_sampler_never_crosses_an_episode_boundary(make_profile_arrays):
    # episodes of 3, 1, 6 and 10 frames: the 1-frame episode can never hold a pair
    profile = TorqueProfile(validate_profile(_episodic_arrays(make_profile_arrays, [0, 3, 4, 10])))
    generator = torch.Generator().manual_seed(0)
    now, nxt = profile.sample_transitions(5000, generator=generator)
    episode_now = torch.div(now.dof_positions[:, 0], 1000.0, rounding_mode="floor")
    episode_next = torch.div(nxt.dof_positions[:, 0], 1000.0, rounding_mode="floor")
    assert torch.equal(episode_now, episode_next)
    step = nxt.dof_positions[:, 0] - now.dof_positions[:, 0]
    torch.testing.assert_close(step, torch.ones_like(step))  # one frame apart, i.e. one policy step at fps
    torch.testing.assert_close(nxt.times - now.times, torch.full_like(now.times, 1.0 / FPS))
    assert set(episode_now.long().tolist()) == {0, 2, 3}  # every episode longer than dt is drawn


def test_transition_sampler_at_another_dt_and_without_a_long_enough_episode(make_profile_arrays):
    profile = TorqueProfile(validate_profile(_episodic_arrays(make_profile_arrays, [0, 3, 4, 10])))
    now, nxt = profile.sample_transitions(2000, dt=2.5 / FPS, generator=torch.Generator().manual_seed(1))
    episode = torch.div(now.dof_positions[:, 0], 1000.0, rounding_mode="floor")
    assert torch.equal(episode, torch.div(nxt.dof_positions[:, 0], 1000.0, rounding_mode="floor"))
    assert not bool((episode == 0).any())  # episode 0 spans 2 frame intervals < 2.5
    with pytest.raises(ValueError, match="no episode is longer than"):
        profile.sample_transitions(4, dt=20.0 / FPS)


def test_sample_with_torques_returns_stored_frames_in_the_documented_order(make_profile_arrays):
    data = validate_profile(_episodic_arrays(make_profile_arrays, [0, 5], bodies=2))
    out = TorqueProfile(data).sample_with_torques(64, generator=torch.Generator().manual_seed(0))
    dof_pos, dof_vel, body_pos, body_rot, body_lin, body_ang, torques = out
    assert dof_pos.shape == (64, 3) and body_rot.shape == (64, 2, 4) and torques.shape == (64, 3)
    frames = dof_pos[:, 0].numpy() % 1000 + np.where(dof_pos[:, 0].numpy() >= 1000, 5, 0)
    frames = frames.astype(int)
    np.testing.assert_array_equal(torques.numpy(), data.joint_torques[frames])
    np.testing.assert_array_equal(dof_vel.numpy(), data.dof_velocities[frames])
    np.testing.assert_array_equal(body_lin.numpy(), data.body_linear_velocities[frames])
    np.testing.assert_array_equal(body_ang.numpy(), data.body_angular_velocities[frames])
    np.testing.assert_array_equal(body_pos.numpy(), data.body_positions[frames])


def test_body_data_may_be_missing_only_when_not_required(tmp_path, make_profile_arrays):
    arrays = make_profile_arrays(frames=6)
    for key in BODY_FIELDS:
        del arrays[key]
    path = tmp_path / "joints_only.npz"
    np.savez(path, **arrays)
    with pytest.raises(TorqueProfileFormatError, match=r"joints_only\.npz: missing field\(s\) \['body_positions'"):
        load_npz(path)
    profile = load_npz(path, require_bodies=False)
    assert profile.body_positions is None and profile.body_linear_velocities is None  # never filled in
    out = TorqueProfile.from_file(path, require_bodies=False).sample_with_torques(3)
    assert out[2] is None and out[5] is None and out[6].shape == (3, 3)
    # a body-less CSV reads back without body data (its body names are not kept: they have no columns)
    csv = write_csv(profile, tmp_path / "joints_only.csv")
    assert read_csv(csv, require_bodies=False).body_rotations is None
