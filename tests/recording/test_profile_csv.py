"""CSV <-> NPZ: lossless round trips, hand-written CSVs, folder conversion, errors naming file and field."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

from learned_actuators.errors import run_cli
from learned_actuators.recording import (
    PROFILE_KEYS,
    TorqueProfileFormatError,
    convert,
    load_npz,
    read_csv,
    save_npz,
    write_csv,
)

pytestmark = pytest.mark.unit

ARRAY_KEYS = PROFILE_KEYS[3:]
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "convert_torque_profile.py"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_csv_to_npz_to_csv_is_byte_exact_and_keeps_every_value(tmp_path, make_profile, dtype):
    profile = make_profile(frames=7, dofs=3, bodies=3, dtype=dtype, fps=60.0)
    first_csv = write_csv(profile, tmp_path / "a.csv")
    (npz_path,) = convert(first_csv, tmp_path / "b.npz")
    (second_csv,) = convert(npz_path, tmp_path / "c.csv")
    assert second_csv.read_bytes() == first_csv.read_bytes()
    # the text must hold the values themselves, not a rounded copy that is merely stable
    restored = load_npz(npz_path)
    assert restored.fps == 60.0
    assert restored.dof_names == profile.dof_names and restored.body_names == profile.body_names
    for key in ARRAY_KEYS:
        assert getattr(restored, key).dtype == dtype
        np.testing.assert_array_equal(getattr(restored, key), getattr(profile, key))


def test_npz_to_csv_to_npz_keeps_arrays_and_names(tmp_path, make_profile):
    profile = make_profile(frames=5, dofs=2, bodies=2, dtype=np.float32)
    npz_path = save_npz(profile, tmp_path / "env_0003.npz")
    (csv_path,) = convert(npz_path)
    assert csv_path == tmp_path / "env_0003.csv"
    npz_path.unlink()
    (back,) = convert(csv_path)
    restored = load_npz(back)
    assert restored.body_names == ("base", "link/0")  # a "/" in a body name survives the column naming
    for key in ARRAY_KEYS:
        np.testing.assert_array_equal(getattr(restored, key), getattr(profile, key))


HAND_WRITTEN = """time,joint_torque/knee,dof_pos/knee,dof_vel/knee,body_pos/foot/x,body_pos/foot/y,body_pos/foot/z,\
body_rot/foot/w,body_rot/foot/x,body_rot/foot/y,body_rot/foot/z,body_lin_vel/foot/x,body_lin_vel/foot/y,\
body_lin_vel/foot/z,body_ang_vel/foot/x,body_ang_vel/foot/y,body_ang_vel/foot/z
0.0,1.5,0.1,-2,0,0,0.3,1,0,0,0,0,0,0,0,0,0
0.02,2.5,0.2,-3,0,0,0.25,0,0,0,1,0,0,0.5,0,0,7
"""


def test_hand_written_csv_without_metadata_takes_fps_from_time(tmp_path):
    path = tmp_path / "hand.csv"
    path.write_text(HAND_WRITTEN)
    profile = read_csv(path)
    assert profile.fps == pytest.approx(50.0)
    assert profile.dof_names == ("knee",) and profile.body_names == ("foot",)
    assert profile.dtype == np.float64
    np.testing.assert_array_equal(profile.joint_torques, [[1.5], [2.5]])
    np.testing.assert_array_equal(profile.dof_velocities, [[-2.0], [-3.0]])
    np.testing.assert_array_equal(profile.body_positions, [[[0, 0, 0.3]], [[0, 0, 0.25]]])
    np.testing.assert_array_equal(profile.body_rotations, [[[1, 0, 0, 0]], [[0, 0, 0, 1]]])
    np.testing.assert_array_equal(profile.body_angular_velocities[1], [[0, 0, 7]])


def test_column_order_may_differ_from_canonical(tmp_path, make_profile):
    profile = make_profile(frames=3, dofs=3, bodies=1, dtype=np.float64)
    path = write_csv(profile, tmp_path / "p.csv")
    lines = path.read_text().splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("time"))
    table = [line.split(",") for line in lines[header_at:]]
    # move the first joint-torque column to the end
    table = [row[:1] + row[2:] + row[1:2] for row in table]
    path.write_text("\n".join(lines[:header_at] + [",".join(row) for row in table]) + "\n")
    np.testing.assert_array_equal(read_csv(path).joint_torques, profile.joint_torques)


def test_convert_folder_writes_one_file_per_input(tmp_path, make_profile):
    src = tmp_path / "profiles"
    for env_id in (0, 1):
        save_npz(make_profile(seed=env_id), src / f"env_{env_id:04d}.npz")
    written = convert(src, tmp_path / "csv")
    assert [p.name for p in written] == ["env_0000.csv", "env_0001.csv"]
    back = convert(tmp_path / "csv", tmp_path / "npz")
    for env_id, path in enumerate(back):
        np.testing.assert_array_equal(load_npz(path).joint_torques, make_profile(seed=env_id).joint_torques)


def test_convert_refuses_to_overwrite_unless_asked(tmp_path, make_profile):
    npz_path = save_npz(make_profile(), tmp_path / "p.npz")
    convert(npz_path)
    with pytest.raises(FileExistsError, match=r"p\.csv"):
        convert(npz_path)
    assert convert(npz_path, overwrite=True) == [tmp_path / "p.csv"]


def test_convert_folder_with_both_formats_needs_a_direction(tmp_path, make_profile):
    save_npz(make_profile(), tmp_path / "a.npz")
    write_csv(make_profile(seed=1), tmp_path / "b.csv")
    with pytest.raises(ValueError, match="say which way"):
        convert(tmp_path)
    assert [p.name for p in convert(tmp_path, to="csv")] == ["a.csv"]


def _edit_cell(path: Path, column: str, frame: int, text: str) -> None:
    lines = path.read_text().splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("time"))
    j = lines[header_at].split(",").index(column)
    row = lines[header_at + 1 + frame].split(",")
    row[j] = text
    lines[header_at + 1 + frame] = ",".join(row)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(("text", "problem"), [("abc", "'abc' is not a number"), ("nan", "non-finite value 'nan'")])
def test_bad_cell_names_file_column_and_line(tmp_path, make_profile, text, problem):
    path = write_csv(make_profile(), tmp_path / "bad.csv")
    _edit_cell(path, "dof_vel/leg_1_joint", 1, text)  # frame 1 is line 6: 3 metadata lines, header, frame 0
    with pytest.raises(TorqueProfileFormatError, match=rf"bad\.csv: field 'dof_vel/leg_1_joint', line 6: {problem}"):
        read_csv(path)


def test_missing_column_is_named(tmp_path, make_profile):
    path = write_csv(make_profile(dofs=2), tmp_path / "cut.csv")
    lines = path.read_text().splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith("time"))
    j = lines[header_at].split(",").index("joint_torque/leg_1_joint")
    path.write_text("\n".join(",".join(c for k, c in enumerate(line.split(",")) if k != j) for line in lines) + "\n")
    with pytest.raises(TorqueProfileFormatError, match=r"cut\.csv: field 'joint_torques'.*joint_torque/leg_1_joint"):
        read_csv(path)


def test_unknown_column_is_rejected_not_dropped(tmp_path):
    path = tmp_path / "extra.csv"
    lines = HAND_WRITTEN.splitlines()
    path.write_text("\n".join([lines[0] + ",foot_contact/foot"] + [line + ",1" for line in lines[1:]]) + "\n")
    with pytest.raises(TorqueProfileFormatError, match="column 'foot_contact/foot'"):
        read_csv(path)


def test_time_column_inconsistent_with_fps_is_rejected(tmp_path, make_profile):
    path = write_csv(make_profile(fps=50.0), tmp_path / "t.csv")
    _edit_cell(path, "time", 3, "0.07")
    with pytest.raises(TorqueProfileFormatError, match=r"field 'time'.*frame 3"):
        read_csv(path)


def test_ragged_row_is_rejected(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(HAND_WRITTEN.rstrip("\n") + ",9\n")
    with pytest.raises(TorqueProfileFormatError, match=r"ragged\.csv: line 3 has 18 values"):
        read_csv(path)


def test_script_converts_a_folder_and_reports_errors(tmp_path, make_profile, capsys):
    main = runpy.run_path(str(SCRIPT), run_name="convert_torque_profile")["main"]
    save_npz(make_profile(), tmp_path / "env_0000.npz")
    assert run_cli(main, [str(tmp_path), "--to", "csv"]) == 0
    assert (tmp_path / "env_0000.csv").is_file()
    assert run_cli(main, [str(tmp_path / "env_0000.npz")]) == 2  # exists, no --overwrite
    assert "exist" in capsys.readouterr().err


def test_convert_finds_the_play_policy_layout_and_keeps_it(tmp_path, make_profile):
    root = tmp_path / "logs" / "torque_profiles"
    for run in ("run_a_model_10", "run_b_model_20"):
        for env_id in (0, 1):
            save_npz(make_profile(seed=env_id), root / "go2_flat" / run / f"env_{env_id:04d}.npz")
    written = convert(root, tmp_path / "csv", to="csv")
    assert [p.relative_to(tmp_path / "csv").as_posix() for p in written] == [
        f"go2_flat/{run}/env_{i:04d}.csv" for run in ("run_a_model_10", "run_b_model_20") for i in (0, 1)
    ]
    assert len(convert(root / "go2_flat" / "run_a_model_10", to="csv")) == 2  # a run folder works too


def test_convert_reads_every_input_before_writing(tmp_path, make_profile):
    save_npz(make_profile(), tmp_path / "a.npz")
    (tmp_path / "b.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(TorqueProfileFormatError, match=r"b\.npz"):
        convert(tmp_path, to="csv")
    assert not (tmp_path / "a.csv").exists()


def test_convert_of_a_folder_without_profiles_is_an_error(tmp_path, make_profile):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"no torque-profile file found: nothing matches \*\*/\*\.npz"):
        convert(tmp_path, to="csv")
    save_npz(make_profile(), tmp_path / "run" / "env_0000.npz")
    with pytest.raises(ValueError, match=r"no torque-profile file to convert to \.npz.*\*\*/\*\.csv"):
        convert(tmp_path, to="npz")
