"""Excitation plans: targets within safe amplitudes and joint limits, refusals with clear errors, segments."""

from __future__ import annotations

import numpy as np
import pytest

from learned_actuators.errors import UserInputError
from learned_actuators.excitation import ExcitationCfg, build_plan
from learned_actuators.excitation.go2 import (
    GO2_JOINT_NAMES,
    GO2_NOMINAL_POSE,
    GO2_POSITION_LIMITS,
    GO2_SAFE_AMPLITUDE,
    joint_part,
)

pytestmark = pytest.mark.unit


def _short(**kw) -> ExcitationCfg:
    base = dict(chirp_duration_s=4.0, steps_duration_s=2.0, random_duration_s=3.0, settle_s=0.5, ramp_s=0.3)
    return ExcitationCfg(**(base | kw))


def test_default_plan_stays_within_amplitudes_and_limits_and_runs_groups_in_turn():
    cfg = ExcitationCfg()
    plan = build_plan(cfg)
    assert plan.joint_names == GO2_JOINT_NAMES and plan.dt == pytest.approx(0.02)
    assert [s.name for s in plan.segments] == [f"{g}/{k}" for g in cfg.groups for k in cfg.signals]
    assert plan.duration == pytest.approx(2 * 1.0 + 3 * (10.0 + 6.0 + 10.0))
    for j, name in enumerate(plan.joint_names):
        offset = plan.q_target[:, j] - GO2_NOMINAL_POSE[name]
        amp = cfg.amplitude[joint_part(name)]
        assert np.abs(offset).max() <= amp + 1e-12 and np.abs(offset).max() > 0.95 * amp
        lo, hi = GO2_POSITION_LIMITS[name]
        assert plan.q_target[:, j].min() >= lo + cfg.limit_margin and plan.q_target[:, j].max() <= hi - 0.1
        moving = np.flatnonzero(offset != 0)  # a joint moves only during its own group's segments
        own = [s for s in plan.segments if name in s.joints]
        assert moving.min() >= own[0].start and moving.max() < own[-1].stop
    assert (plan.segment[:50] == -1).all() and (plan.segment[-50:] == -1).all()
    assert plan.q_target[0] == pytest.approx([GO2_NOMINAL_POSE[n] for n in plan.joint_names])
    # the four joints of a group move together (same offset): the legs swing in parallel
    calves = [plan.joint_names.index(n) for n in plan.joint_names if n.endswith("calf_joint")]
    offsets = plan.q_target[:, calves] - plan.q_target[0, calves]
    assert np.allclose(offsets, offsets[:, :1])


def test_chirps_and_random_targets_respect_the_command_speed_cap():
    cfg = _short(groups=["thighs"], signals=["chirp", "random"], max_command_speed=2.0)
    plan = build_plan(cfg)
    speed = np.abs(np.diff(plan.q_target, axis=0)).max() / plan.dt
    assert speed <= 2.0 * 1.05


def test_an_amplitude_above_the_safe_one_is_refused_naming_the_field():
    with pytest.raises(UserInputError, match=r"ExcitationCfg.amplitude.hip=0.5 rad .* safe amplitude .* 0.4 rad"):
        build_plan(_short(amplitude={"hip": 0.5, "thigh": 0.4, "calf": 0.4}))
    with pytest.raises(UserInputError, match="amplitude_scale 2"):
        build_plan(_short(amplitude_scale=2.0))


def test_an_amplitude_that_does_not_fit_the_joint_limits_is_refused_with_what_fits():
    # calf: nominal -1.5, limits [-2.7227, -0.83776], margin 0.1 -> at most 0.5622 rad upwards
    with pytest.raises(UserInputError) as err:
        build_plan(_short(groups=["calves"], amplitude={"hip": 0.2, "thigh": 0.4, "calf": 0.58}))
    text = str(err.value)
    assert "ExcitationCfg.amplitude.calf" in text and "FL_calf_joint" in text and "at most 0.5622 rad" in text
    assert build_plan(_short(groups=["calves"], amplitude={"hip": 0.2, "thigh": 0.4, "calf": 0.56}))
    with pytest.raises(UserInputError, match=r"limit_margin 0\.3 rad"):
        build_plan(_short(groups=["calves"], limit_margin=0.3))
    with pytest.raises(UserInputError, match=r"ExcitationCfg\.nominal: FL_hip_joint at 1\.2 rad is outside"):
        build_plan(_short(groups=["hips"], nominal={"FL_hip_joint": 1.2}))


def test_the_safe_amplitudes_fit_the_nominal_pose_except_where_the_limits_say_otherwise():
    for name, nominal in GO2_NOMINAL_POSE.items():
        lo, hi = GO2_POSITION_LIMITS[name]
        room = min(nominal - lo, hi - nominal) - 0.1
        assert room > 0.5 * GO2_SAFE_AMPLITUDE[joint_part(name)]


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"groups": ["feet"]}, "ExcitationCfg.groups has 'feet'"),
        ({"groups": ["calves", "FL_calf_joint"]}, "more than one group"),
        ({"signals": ["sine"]}, "ExcitationCfg.signals"),
        ({"control_hz": 0}, "ExcitationCfg.control_hz=0: expected a number > 0"),
        ({"chirp_f1_hz": 30.0}, "below half the control rate"),
        ({"kp": {"hip": 20}}, "ExcitationCfg.kp="),
        ({"kd": -1.0}, "ExcitationCfg.kd=-1.0: expected a number >= 0"),
        ({"nominal": {"FL_foot": 0.0}}, "ExcitationCfg.nominal has ['FL_foot']"),
        ({"step_fraction": 1.5}, "ExcitationCfg.step_fraction"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(kw, words):
    with pytest.raises(UserInputError) as err:
        build_plan(_short(**kw))
    assert words in str(err.value)


def test_per_part_gains_and_single_joint_groups():
    plan = build_plan(_short(groups=["FR_thigh_joint", "hips"], kp={"hip": 20.0, "thigh": 30.0, "calf": 40.0}))
    assert plan.joint_names == ["FL_hip_joint", "FR_hip_joint", "FR_thigh_joint", "RL_hip_joint", "RR_hip_joint"]
    assert plan.kp["FR_thigh_joint"] == 30.0 and plan.kp["RL_hip_joint"] == 20.0 and plan.kp["FL_calf_joint"] == 40.0
    assert plan.segments[0].joints == ["FR_thigh_joint"] and plan.segments[0].name == "FR_thigh_joint/chirp"
    targets = plan.all_targets(0)
    assert len(targets) == 12 and targets["FL_calf_joint"] == GO2_NOMINAL_POSE["FL_calf_joint"]
    assert plan.index_at(-1.0) == 0 and plan.index_at(1e6) == plan.num_steps - 1
    assert plan.index_at(3 * plan.dt) == 3


def test_the_same_seed_gives_the_same_plan():
    a, b = build_plan(_short(seed=5)), build_plan(_short(seed=5))
    np.testing.assert_array_equal(a.q_target, b.q_target)
    assert not np.array_equal(a.q_target, build_plan(_short(seed=6)).q_target)
