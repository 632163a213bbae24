"""scripts/excite_go2.py without a backend run: the plan, overrides and argument mistakes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from learned_actuators.errors import run_cli
from learned_actuators.excitation import ExcitationCfg
from learned_actuators.excitation.cli import apply_override
from learned_actuators.excitation.robot_backend import RobotBackendCfg

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "excite_go2.py"


def _script_main():
    spec = importlib.util.spec_from_file_location("excite_go2", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return lambda argv: run_cli(lambda a: module.main(a, module.__doc__), argv)


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "sessions"
    argv = ["--dry-run", "--groups", "calves", "amplitude.calf=0.3", "kp.calf=30", "--out", str(out)]
    assert _script_main()(argv) == 0
    text = capsys.readouterr().out
    assert "plan: 28.0 s at 50 Hz, 3 segments" in text
    assert "FL_calf_joint   nominal -1.500  targets [-1.800, -1.200]" in text and "kp 30 kd 0.5" in text
    assert not out.exists()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["amplitude.calf=0.7"], "safe amplitude"),
        (["amplitude.calf=0.58", "--groups", "calves"], "at most 0.5622 rad"),
        (["chirp_f1_hz=fast"], "chirp_f1_hz=fast: expected a number"),
        (["bogus=1"], "ExcitationCfg has no field 'bogus'"),
        (["robot.rate_hz=100"], "robot.* settings are for --backend robot"),
        (["--backend", "robot", "--task", "X"], "--task is for --backend sim"),
        (["--interface", "eth0"], "--interface is for --backend robot"),
        (["chirp_duration_s.x=1"], "'chirp_duration_s' of ExcitationCfg is not a mapping"),
        (["--backend", "robot", "robot.limits.nope=1"], "SoftLimits has no field 'nope'"),
    ],
)
def test_mistakes_exit_2_with_one_line_naming_the_field(argv, words, capsys):
    assert _script_main()(["--dry-run", *argv]) == 2
    assert words in capsys.readouterr().err


def test_overrides_reach_nested_and_mapping_fields():
    cfg, robot = ExcitationCfg(), RobotBackendCfg()
    targets = {"": cfg, "robot": robot}
    for item in (
        "kd.calf=0.8",
        'groups=["hips","FL_calf_joint"]',
        "robot.limits.max_velocity.calf=10",
        "robot.limits.position_margin=0.08",
        "robot.rate_hz=250",
        "nominal.FL_calf_joint=-1.4",
    ):
        apply_override(targets, item)
    assert cfg.kd == {"hip": 0.5, "thigh": 0.5, "calf": 0.8}
    assert cfg.groups == ["hips", "FL_calf_joint"] and cfg.nominal == {"FL_calf_joint": -1.4}
    assert robot.limits.max_velocity == {"hip": 15.0, "thigh": 15.0, "calf": 10.0}
    assert robot.limits.position_margin == 0.08 and robot.rate_hz == 250.0
