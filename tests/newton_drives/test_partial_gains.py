"""A stiffness/damping dict that covers only some of a group's joints: the native path resolves them as Isaac Lab's
Python path does (Isaac Lab 3.0's contract: joints no pattern matches get 0, not the USD joint's gain)."""

import pytest
import torch

from isaaclab.actuators.actuator_base import resolve_joint_parameter

from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg
from learned_actuators.actuators.isaaclab_native import _resolved_parameters
from tests.newton_drives.helpers import LIMITS, PHYSICS_DT, gru_file

pytestmark = pytest.mark.unit

NAMES = ["joint_0", "joint_1", "joint_2"]
USD_GAINS = torch.tensor([[7.0, 8.0, 9.0]])  # what the robot's USD authors on the joints (the collection's default)


@pytest.mark.parametrize(("stiffness", "damping"), [({"joint_0": 30.0}, {"joint_[12]": 0.7}), (25.0, None)])
def test_partial_gain_dicts_resolve_as_on_the_python_path(tmp_path, stiffness, damping):
    cfg = CombinedGRUAndPDActuatorCfg(
        joint_names_expr=[".*"],
        network_file=gru_file(tmp_path),
        physics_dt=PHYSICS_DT,
        stiffness=stiffness,
        damping=damping,
        **LIMITS,
    )
    # Isaac Lab's actuator collection: the group's gains resolved against the USD values, passed to the class
    kp, kd = (resolve_joint_parameter(v, USD_GAINS, NAMES, 1, "cpu") for v in (stiffness, damping))
    python_path = cfg.class_type(
        cfg, joint_names=NAMES, joint_ids=slice(None), num_envs=1, device="cpu", stiffness=kp, damping=kd
    )
    native = _resolved_parameters("legs", cfg, NAMES, [LIMITS["actuator_effort_limit"]] * 3)
    assert native["kp"] == pytest.approx(python_path.stiffness.reshape(-1).tolist())
    assert native["kd"] == pytest.approx(python_path.damping.reshape(-1).tolist())
    if isinstance(stiffness, dict):
        assert native["kp"] == pytest.approx([30.0, 0.0, 0.0])  # unmatched joints: 0 on both paths
        assert native["kd"] == pytest.approx([0.0, 0.7, 0.7])
    else:
        assert native["kd"] == pytest.approx([0.5] * 3)  # None: the file's training kd on both paths
