"""Argument handling of the recording play entry (no simulator)."""

from pathlib import Path

import pytest

from learned_actuators.policy.play import default_record_dir, parse_play_args

pytestmark = pytest.mark.unit


def test_recording_options_are_split_from_the_isaaclab_play_arguments():
    argv = ["--task", "T", "--num_steps", "7", "--device", "cpu", "--record_envs", "3", "--record_dir", "out", "a.b=1"]
    ours, backend = parse_play_args(argv)
    assert (ours.num_steps, ours.record_envs, ours.record_dir) == (7, 3, Path("out"))
    assert not ours.no_record and not ours.no_export
    # --rl_library is the dispatcher's, not the rsl-rl backend's; the device is mirrored to the agent
    assert backend == ["--task", "T", "--device", "cpu", "a.b=1", "agent.device=cpu"]


def test_explicit_rsl_rl_is_accepted_and_other_libraries_are_refused(capsys):
    _, backend = parse_play_args(["--rl_library", "rsl_rl", "--task", "T"])
    assert backend == ["--task", "T"]
    with pytest.raises(SystemExit):
        parse_play_args(["--rl_library=skrl", "--task", "T"])
    assert "rsl-rl policies only" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--num_steps", "--record_envs"])
def test_non_positive_counts_are_refused(option, capsys):
    with pytest.raises(SystemExit):
        parse_play_args(["--task", "T", option, "0"])
    assert f"{option} must be at least 1" in capsys.readouterr().err


def test_default_record_dir_names_experiment_run_and_checkpoint():
    path = default_record_dir("go2_flat_gru_pd", "logs/rsl_rl/go2_flat_gru_pd/2026-01-01_00-00-00/model_99.pt")
    assert path == Path("logs/torque_profiles/go2_flat_gru_pd/2026-01-01_00-00-00_model_99")
