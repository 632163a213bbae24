"""The single-step torque of a replayed actuator sees the whole logged command (no simulator)."""

import numpy as np
import pytest

from isaaclab.actuators import IdealPDActuatorCfg

from learned_actuators.data.joint_log import JointLog
from learned_actuators.validation.replay import single_step_torque
from learned_actuators.validation.trajectories import TrajectoryBatch
from learned_actuators.validation.validation_cfg import ValidationCfg

pytestmark = pytest.mark.unit


def test_single_step_torque_applies_velocity_targets_and_feed_forward():
    rng = np.random.default_rng(0)
    n = 40
    q, qd, qt, vt, ff = (rng.normal(size=(n, 1)) for _ in range(5))
    log = JointLog("r", "r.csv", np.arange(n) * 0.01, q, qt, qd, channels={"qd_target": vt, "tau_ff": ff})
    batch = TrajectoryBatch.from_logs([log])
    pd = IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=2.0, damping=0.3, effort_limit_sim=1e6)
    got = single_step_torque(batch, pd, ValidationCfg(show_progress=False, decimation=1))
    np.testing.assert_allclose(got[0], 2.0 * (qt - q) + 0.3 * (vt - qd) + ff, rtol=1e-5, atol=1e-5)
