"""scripts/excite_go2.py without a backend run: the plan, overrides and argument mistakes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from learned_actuators.errors import run_cli
from learned_actuators.excitation import ExcitationCfg, build_plan
from learned_actuators.excitation.go2 import GO2_NOMINAL_POSE
from learned_actuators.excitation.overrides import compose_session_cfg
from learned_actuators.excitation.robot_backend import RobotBackendCfg, SoftLimits
from learned_actuators.excitation.sim_backend import SimBackendCfg

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
        (["chirp_f1_hz=fast"], "chirp_f1_hz=fast: expected a number."),
        (["seed=1.5"], "seed=1.5: expected an integer."),
        (["kp.calf=stiff"], "kp.calf=stiff: expected a number."),
        (["kp=stiff"], "kp=stiff: expected a number (for every part) or a mapping of hip, thigh, calf"),
        (["signals=[sine]"], "signals=[sine]: expected a list of one of chirp, steps, random."),
        (["bogus=1"], "ExcitationCfg: unknown key 'bogus'"),
        (["amplitude.foot=0.1"], "amplitude has no 'foot'; expected one of hip, thigh, calf."),
        (["+nominal.FL_foot=0.1"], "nominal has no 'FL_foot'; expected one of FL_hip_joint"),
        (["groups=hips,calves"], "is a Hydra sweep"),
        (["chirp_f1_hz=[1"], "is not valid Hydra override syntax"),
        (["robot.rate_hz=100"], "robot.* settings are for --backend robot"),
        (["sim.height=low"], "sim.height=low: expected a number."),
        (["sim.nope=1"], "sim: unknown key 'nope'"),
        (["--backend", "robot", "sim.height=2"], "sim.* settings are for --backend sim"),
        (["--backend", "robot", "robot.rate_hz=-5"], "RobotBackendCfg.rate_hz=-5.0: expected a number > 0"),
        (["--backend", "robot", "--task", "X"], "--task is for --backend sim"),
        (["--interface", "eth0"], "--interface is for --backend robot"),
        (["chirp_duration_s.x=1"], "'chirp_duration_s' is a single value (a number) and has no field 'x'"),
        (["--backend", "robot", "robot.limits.nope=1"], "robot.limits: unknown key 'nope'"),
    ],
)
def test_mistakes_exit_2_with_one_line_naming_the_field(argv, words, capsys):
    assert _script_main()(["--dry-run", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err
    assert len(err.strip().splitlines()) == 1, err


def test_overrides_reach_nested_and_mapping_fields():
    cfg, robot = compose_session_cfg(
        "robot",
        [
            "kd.calf=0.8",
            'groups=["hips","FL_calf_joint"]',
            "robot.limits.max_velocity.calf=10",
            "robot.limits.position_margin=0.08",
            "robot.rate_hz=250",
            "nominal.FL_calf_joint=-1.4",
            "seed=3",
        ],
        {"groups": ["calves"], "robot": {"network_interface": "enp3s0"}},
    )
    assert isinstance(cfg, ExcitationCfg) and isinstance(robot, RobotBackendCfg)
    assert cfg.kd == {"hip": 0.5, "thigh": 0.5, "calf": 0.8}
    assert cfg.groups == ["hips", "FL_calf_joint"] and cfg.seed == 3
    assert cfg.nominal == {**GO2_NOMINAL_POSE, "FL_calf_joint": -1.4}
    assert isinstance(robot.limits, SoftLimits) and robot.limits.max_velocity == {
        "hip": 15.0,
        "thigh": 15.0,
        "calf": 10.0,
    }
    assert robot.limits.position_margin == 0.08 and robot.rate_hz == 250.0 and robot.network_interface == "enp3s0"


def test_values_are_converted_to_the_field_types():
    cfg, sim = compose_session_cfg(
        "sim", ["control_hz=100", "chirp_sweep=linear", "sim.show_progress=false", "sim.network_file=123"]
    )
    assert cfg.control_hz == 100.0 and isinstance(cfg.control_hz, float) and cfg.chirp_sweep == "linear"
    assert isinstance(sim, SimBackendCfg) and sim.show_progress is False and sim.network_file == "123"
    assert compose_session_cfg("sim", ["sim.network_file=null"])[1].network_file is None


def test_a_number_sets_every_part_and_an_entry_sets_one():
    """``kp=30`` is 30 for every part; a later ``kp.calf=35`` changes the calf only; the defaults give the same plan."""
    cfg, _ = compose_session_cfg("sim", ["kp=30", "kp.calf=35", "kd={hip:1,thigh:1,calf:2}"])
    assert cfg.kp == {"hip": 30.0, "thigh": 30.0, "calf": 35.0} and cfg.kd == {"hip": 1.0, "thigh": 1.0, "calf": 2.0}
    default, _ = compose_session_cfg("sim")
    assert build_plan(default).kp == build_plan(ExcitationCfg()).kp
    assert build_plan(default).summary() == build_plan(ExcitationCfg()).summary()
