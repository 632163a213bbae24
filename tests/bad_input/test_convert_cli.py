"""Bad inputs to ``scripts/convert_torque_profile.py``: each exits non-zero, names the file (and field) and leaves
every input and earlier output unchanged. Kinds (see ``harness.py``) were assigned by running each case against the
converter before the fixes of issue 10, item 6.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from learned_actuators.recording import save_npz, validate_profile, write_csv
from tests.bad_input.harness import assert_refused, assert_unchanged, case, load_script, run_main, snapshot

pytestmark = pytest.mark.unit

MAIN = load_script("convert_torque_profile").main


def profile(seed: int = 0, frames: int = 8):
    rng = np.random.default_rng(seed)
    quat = np.zeros((frames, 1, 4))
    quat[..., 0] = 1.0
    return validate_profile(
        {
            "fps": np.array(50.0),
            "dof_names": np.array(["hip", "knee"]),
            "body_names": np.array(["base"]),
            "joint_torques": rng.normal(size=(frames, 2)),
            "dof_positions": rng.normal(size=(frames, 2)),
            "dof_velocities": rng.normal(size=(frames, 2)),
            "body_positions": rng.normal(size=(frames, 1, 3)),
            "body_rotations": quat,
            "body_linear_velocities": rng.normal(size=(frames, 1, 3)),
            "body_angular_velocities": rng.normal(size=(frames, 1, 3)),
        },
        "test",
    )


def truncate(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


Builder = Callable[[Path], tuple[list[str], list[str]]]


def empty_folder_with_to(tmp: Path):
    (tmp / "profiles").mkdir()
    return [tmp / "profiles", "--to", "csv"], [str(tmp / "profiles"), "**/*.npz"]


def other_files_with_to(tmp: Path):
    (tmp / "profiles").mkdir()
    (tmp / "profiles" / "notes.txt").write_text("nothing here")
    return [tmp / "profiles", "--to", "npz"], [str(tmp / "profiles"), "**/*.csv"]


def empty_folder_without_to(tmp: Path):
    (tmp / "profiles").mkdir()
    return [tmp / "profiles"], [str(tmp / "profiles"), ".npz"]


def existing_output(tmp: Path):
    save_npz(profile(), tmp / "p.npz")
    (tmp / "p.csv").write_text("earlier output\n")
    return [tmp / "p.npz"], [str(tmp / "p.csv"), "overwrite"]


def overwrite_then_bad_input(tmp: Path):
    save_npz(profile(0), tmp / "a.npz")
    truncate(save_npz(profile(1), tmp / "b.npz"))
    (tmp / "a.csv").write_text("earlier output the user keeps\n")
    return [tmp, "--to", "csv", "--overwrite"], [str(tmp / "b.npz")]


def bad_input_after_a_good_one(tmp: Path):
    save_npz(profile(0), tmp / "a.npz")
    truncate(save_npz(profile(1), tmp / "b.npz"))
    return [tmp, "--to", "csv"], [str(tmp / "b.npz")]


def out_is_a_file(tmp: Path):
    save_npz(profile(), tmp / "profiles" / "env_0000.npz")
    (tmp / "out.txt").write_text("a file, not a folder\n")
    return [tmp / "profiles", "--to", "csv", "--out", tmp / "out.txt"], [str(tmp / "out.txt"), "folder"]


def out_parent_is_a_file(tmp: Path):
    save_npz(profile(), tmp / "p.npz")
    (tmp / "blocker").write_text("a file\n")
    out = tmp / "blocker" / "sub" / "p.csv"
    return [tmp / "p.npz", "--out", out], [str(tmp / "blocker"), "not a folder"]


def missing_src(tmp: Path):
    return [tmp / "nope.npz"], [str(tmp / "nope.npz")]


def unknown_suffix(tmp: Path):
    (tmp / "p.txt").write_text("1,2,3\n")
    return [tmp / "p.txt"], [str(tmp / "p.txt"), ".txt"]


def already_target_format(tmp: Path):
    save_npz(profile(), tmp / "p.npz")
    return [tmp / "p.npz", "--to", "npz"], [str(tmp / "p.npz"), ".npz"]


def truncated_npz(tmp: Path):
    truncate(save_npz(profile(), tmp / "p.npz"))
    return [tmp / "p.npz"], [str(tmp / "p.npz")]


def csv_edit(edit: Callable[[list[str]], list[str]], *names: str) -> Builder:
    def build(tmp: Path):
        path = write_csv(profile(), tmp / "p.csv")
        path.write_text("\n".join(edit(path.read_text().splitlines())) + "\n")
        return [path], [str(path), *names]

    return build


def bad_cell(lines: list[str]) -> list[str]:
    j = lines[3].split(",").index("dof_vel/knee")
    row = lines[6].split(",")
    row[j] = "fast"
    return [*lines[:6], ",".join(row), *lines[7:]]


def drop_column(lines: list[str]) -> list[str]:
    j = lines[3].split(",").index("joint_torque/hip")
    return [*lines[:3], *(",".join(c for k, c in enumerate(line.split(",")) if k != j) for line in lines[3:])]


def both_formats_without_to(tmp: Path):
    save_npz(profile(0), tmp / "a.npz")
    write_csv(profile(1), tmp / "b.csv")
    return [tmp], [str(tmp), "say which way"]


def bad_to(tmp: Path):
    save_npz(profile(), tmp / "p.npz")
    return [tmp / "p.npz", "--to", "xlsx"], ["--to", "xlsx"]


def nested_existing_output(tmp: Path):
    root = tmp / "logs" / "torque_profiles"
    save_npz(profile(0), root / "go2" / "run_a_model_10" / "env_0000.npz")
    save_npz(profile(1), root / "go2" / "run_a_model_10" / "env_0001.npz")
    (tmp / "csv" / "go2" / "run_a_model_10").mkdir(parents=True)
    (tmp / "csv" / "go2" / "run_a_model_10" / "env_0001.csv").write_text("earlier output\n")
    return [root, "--to", "csv", "--out", tmp / "csv"], [str(tmp / "csv" / "go2" / "run_a_model_10" / "env_0001.csv")]


CASES = [
    case("silent", "empty-folder-with-to", empty_folder_with_to),
    case("silent", "folder-without-profiles-with-to", other_files_with_to),
    case("clear", "empty-folder-without-to", empty_folder_without_to),
    case("silent", "play-policy-tree-with-an-existing-output", nested_existing_output),
    case("clear", "existing-output-without-overwrite", existing_output),
    case("dataloss", "overwrite-then-a-bad-input", overwrite_then_bad_input),
    case("dataloss", "bad-input-after-a-good-one-half-writes", bad_input_after_a_good_one),
    case("crash", "out-is-a-file-for-a-folder", out_is_a_file),
    case("crash", "out-parent-is-a-file", out_parent_is_a_file),
    case("clear", "missing-src", missing_src),
    case("clear", "unknown-suffix", unknown_suffix),
    case("clear", "already-the-target-format", already_target_format),
    case("clear", "truncated-npz", truncated_npz),
    case("clear", "csv-bad-cell", csv_edit(bad_cell, "'dof_vel/knee'", "line 7")),
    case("clear", "csv-header-only", csv_edit(lambda lines: lines[:4], "no frames")),
    case("clear", "csv-missing-column", csv_edit(drop_column, "'joint_torques'", "joint_torque/hip")),
    case("clear", "folder-with-both-formats-without-to", both_formats_without_to),
    case("clear", "bad-to", bad_to),
]


@pytest.mark.parametrize("build", CASES)
def test_bad_conversion_is_refused(build, tmp_path, capsys):
    argv, names = build(tmp_path)
    before = snapshot(tmp_path)
    outcome = run_main(MAIN, argv, capsys)
    assert_refused(outcome, *names)
    assert_unchanged(before, tmp_path)
