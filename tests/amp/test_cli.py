"""The AMP training script's options become Hydra overrides of the AMP algorithm cfg."""

from __future__ import annotations

import pytest

from learned_actuators.amp.cli import amp_overrides, main, parse_amp_args
from tests.amp.synthetic import write_go2_profile

pytestmark = pytest.mark.unit


def test_motion_files_and_folders_become_an_override_list(tmp_path):
    a = write_go2_profile(tmp_path / "a.npz")
    write_go2_profile(tmp_path / "more" / "b.npz")
    ours, rest = parse_amp_args(
        [
            "--task",
            "T",
            "--torque_motion_files",
            str(a),
            str(tmp_path / "more"),
            "--torque_weight",
            "0",
            "--num_envs",
            "4",
        ]
    )
    assert rest == ["--task", "T", "--num_envs", "4"]
    overrides = amp_overrides(ours)
    assert overrides[0] == f"agent.algorithm.motion_files=['{a}','{tmp_path / 'more' / 'b.npz'}']"
    assert overrides[1] == "agent.algorithm.torque_weight=0.0"


def test_a_missing_motion_file_is_a_one_line_user_error(tmp_path, capsys):
    assert main(["--task", "T", "--torque_motion_files", str(tmp_path / "nope.npz")]) == 2
    assert "nope.npz: no such file or folder" in capsys.readouterr().err


def test_negative_torque_weight_is_rejected(tmp_path):
    with pytest.raises(SystemExit):
        parse_amp_args(["--torque_motion_files", "x.npz", "--torque_weight", "-1"])
