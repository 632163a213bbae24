"""NPZ format: exact keys, validation errors that name the file and the field."""

from __future__ import annotations

import numpy as np
import pytest

from learned_actuators.recording import PROFILE_KEYS, TorqueProfileFormatError, load_npz, save_npz

pytestmark = pytest.mark.unit


def test_save_npz_writes_exactly_the_documented_keys_and_loads_back_equal(tmp_path, make_profile):
    profile = make_profile(frames=4, dofs=2, bodies=3)
    path = save_npz(profile, tmp_path / "env_0000.npz")
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(PROFILE_KEYS)
        assert npz["joint_torques"].shape == (4, 2)
        assert npz["body_positions"].shape == (4, 3, 3)
        assert npz["body_rotations"].shape == (4, 3, 4)
        assert npz["dof_names"].tolist() == ["leg_0_joint", "leg_1_joint"]
        assert float(npz["fps"]) == 50.0
    loaded = load_npz(path)
    assert loaded.dof_names == profile.dof_names and loaded.body_names == profile.body_names
    for key in PROFILE_KEYS[3:]:
        np.testing.assert_array_equal(getattr(loaded, key), getattr(profile, key))
        assert getattr(loaded, key).dtype == np.float32


def _write(tmp_path, arrays, name="bad.npz"):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def test_missing_key_names_file_and_field(tmp_path, make_profile_arrays):
    arrays = make_profile_arrays()
    del arrays["joint_torques"]
    path = _write(tmp_path, arrays)
    with pytest.raises(TorqueProfileFormatError, match=r"bad\.npz.*missing.*joint_torques"):
        load_npz(path)


def test_shape_mismatch_names_field_and_expected_shape(tmp_path, make_profile_arrays):
    arrays = make_profile_arrays(dofs=3)
    arrays["dof_velocities"] = arrays["dof_velocities"][:, :2]
    with pytest.raises(TorqueProfileFormatError, match=r"bad\.npz: field 'dof_velocities'.*\(6, 2\).*\(6, 3\)"):
        load_npz(_write(tmp_path, arrays))


def test_frame_count_mismatch_between_fields_is_rejected(tmp_path, make_profile_arrays):
    arrays = make_profile_arrays(frames=6)
    arrays["body_angular_velocities"] = arrays["body_angular_velocities"][:5]
    with pytest.raises(TorqueProfileFormatError, match="field 'body_angular_velocities'"):
        load_npz(_write(tmp_path, arrays))


def test_nan_names_field_and_frame(tmp_path, make_profile_arrays):
    arrays = make_profile_arrays()
    arrays["body_positions"][4, 1, 2] = np.nan
    with pytest.raises(TorqueProfileFormatError, match=r"bad\.npz: field 'body_positions'.*\(4, 1, 2\).*frame 4"):
        load_npz(_write(tmp_path, arrays))


def test_non_unit_quaternion_is_rejected(tmp_path, make_profile_arrays):
    arrays = make_profile_arrays()
    arrays["body_rotations"][2, 0] *= 1.1
    with pytest.raises(TorqueProfileFormatError, match=r"field 'body_rotations'.*frame 2, body 'base'"):
        load_npz(_write(tmp_path, arrays))


@pytest.mark.parametrize("fps", [0.0, -50.0, np.inf])
def test_bad_fps_is_rejected(tmp_path, fps, make_profile_arrays):
    arrays = make_profile_arrays()
    arrays["fps"] = np.float64(fps)
    with pytest.raises(TorqueProfileFormatError, match="field 'fps'"):
        load_npz(_write(tmp_path, arrays))


def test_duplicate_names_are_rejected(tmp_path, make_profile_arrays):
    arrays = make_profile_arrays(dofs=2)
    arrays["dof_names"] = np.array(["knee", "knee"])
    with pytest.raises(TorqueProfileFormatError, match=r"field 'dof_names'.*duplicate.*knee"):
        load_npz(_write(tmp_path, arrays))


def test_pickled_names_are_refused_not_unpickled(tmp_path, make_profile_arrays):
    arrays = make_profile_arrays(dofs=2)
    arrays["dof_names"] = np.array(["a", "b"], dtype=object)
    with pytest.raises(TorqueProfileFormatError, match=r"field 'dof_names'.*pickle"):
        load_npz(_write(tmp_path, arrays))


def test_not_an_npz_file_names_the_file(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"not a zip archive")
    with pytest.raises(TorqueProfileFormatError, match=r"broken\.npz"):
        load_npz(path)


def test_unknown_key_warns_instead_of_silently_dropping(tmp_path, make_profile_arrays):
    arrays = make_profile_arrays()
    arrays["contact_forces"] = np.zeros(3)
    with pytest.warns(UserWarning, match="contact_forces"):
        load_npz(_write(tmp_path, arrays))
