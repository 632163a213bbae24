"""The demo's simulator baselines (IdealPD, DCMotor) take the 1-DOF ``ideal_pd`` row's fit, not the GRU-PD's prior."""

import pytest

from learned_actuators.data.demo import load_demo_logs
from learned_actuators.demo.training import demo_preset
from learned_actuators.demo.validation import _baseline_physics
from learned_actuators.learning.baselines import fit_ideal_pd
from learned_actuators.learning.presets import build_cfg

pytestmark = pytest.mark.unit


def test_the_simulator_baselines_take_the_least_squares_fit_of_the_1dof_ideal_pd_row():
    train = [log for log in load_demo_logs() if log.meta["trajectory"] != "up_and_down"]
    physics = build_cfg(demo_preset())[1].physics
    assert physics.fit == "trajectory"  # the GRU-PD's prior is identified by trajectory simulation, with friction
    ideal = fit_ideal_pd(train, physics).physics  # the 1-DOF ideal_pd row: least squares on torque
    got = _baseline_physics(train)
    assert got["kp_scale"] == pytest.approx(ideal.kp_scale, rel=1e-9) and got["kd"] == pytest.approx(ideal.kd, rel=1e-9)
    assert (got["stall_torque"], got["no_load_speed"]) == pytest.approx((ideal.stall_torque, ideal.no_load_speed))
    assert got["kp_scale"] != pytest.approx(physics.kp_scale, rel=1e-3)  # fitted, not the preset's starting value
