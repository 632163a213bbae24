"""The generic replica of a multi-joint log from any robot: one independent joint per logged joint, named as logged,
each with its own load from the side file's per-joint constants (rollouts in the real simulator)."""

import pytest

from learned_actuators.data.column_map import read_mapped_folder
from learned_actuators.validation.compare import compare_models, held_out
from learned_actuators.validation.third_party import parse_model_spec
from learned_actuators.validation.validation_cfg import ValidationCfg
from tests.data.ankle_log import JOINTS, KD, KP, write_ankle_log

pytestmark = pytest.mark.integration


def test_multi_joint_log_rolls_out_on_independent_joints_with_their_own_loads(tmp_path):
    side = {"rate_hz": 100, "joint_names": JOINTS, "joint_constants": {"kp": KP, "kd": KD, "inertia": 0.02}}
    csv, map_path = write_ankle_log(tmp_path, duration=6.0, header=False, side=side)  # the data's own load: 0.02
    test, _, _ = held_out(read_mapped_folder(csv.parent, map_path), blocks=3, test_block=2)
    specs = [parse_model_spec("isaaclab:IdealPD")]
    right = compare_models(test, specs, ValidationCfg(show_progress=False))
    assert right.validation.replica == "joints" and right.validation.batch.joint_names == JOINTS
    assert right.rows[0]["pos_rmse"] < 0.01
    heavy = compare_models(test, specs, ValidationCfg(show_progress=False, inertia=0.2))  # a default load for all
    assert heavy.rows[0]["pos_rmse"] > 3 * right.rows[0]["pos_rmse"]
    assert heavy.rows[0]["torque_rmse"] == pytest.approx(right.rows[0]["torque_rmse"])  # single step: no plant
