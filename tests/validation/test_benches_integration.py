"""Several bench geometries in one simulation match one simulation per geometry; a slow log needs no decimation."""

import numpy as np
import pytest

from isaaclab.actuators import DCMotorCfg

from learned_actuators.data.joint_log import JointLog
from learned_actuators.validation.validate import run_validation
from learned_actuators.validation.validation_cfg import ValidationCfg

pytestmark = pytest.mark.integration

DC = DCMotorCfg(
    joint_names_expr=[".*"],
    stiffness=2.0,
    damping=0.05,
    saturation_effort=0.5,
    actuator_effort_limit=0.5,
    actuator_velocity_limit=8.0,
)
LOGGED = {"mass": 0.49, "length": 0.1, "inertia": 0.0069}


def _logs(dt=0.005, num_steps=120, num_runs=2, meta=LOGGED):
    logs = []
    for e in range(num_runs):
        t = np.arange(num_steps) * dt
        cmd = 0.8 * np.sin(2 * np.pi * (1.0 + 0.5 * e) * t)[:, None]
        q = np.zeros_like(cmd)
        q[0] = 0.1 * e
        logs.append(
            JointLog(
                name=f"run{e}",
                source=f"gen_{e}.json",
                t=t,
                q=q,
                q_target=cmd,
                qd=np.zeros_like(cmd),
                joint_names=["joint"],
                meta=dict(meta),
            )
        )
    return logs


def test_geometries_side_by_side_match_separate_simulations():
    heavy = {"mass": 1.0, "length": 0.15}
    cfg = ValidationCfg(baselines=(), show_progress=False, benches=({"mass": 0.49, "length": 0.1}, heavy))
    both = run_validation(_logs(), {"dc": DC}, cfg)
    assert both.batch.num_envs == 4 and len(set(both.benches)) == 2
    assert [row["bench"] for row in both.table()] == list(dict.fromkeys(both.benches))
    armature = LOGGED["inertia"] - LOGGED["mass"] * LOGGED["length"] ** 2
    heavy_meta = {**heavy, "inertia": heavy["mass"] * heavy["length"] ** 2 + armature}
    plain = ValidationCfg(baselines=(), show_progress=False)
    for sel, meta in ((slice(0, None, 2), LOGGED), (slice(1, None, 2), heavy_meta)):
        alone = run_validation(_logs(meta=meta), {"dc": DC}, plain)
        np.testing.assert_allclose(both.model("dc").q_sim[sel], alone.model("dc").q_sim, atol=1e-5)
    q = both.model("dc").q_sim
    print("light vs heavy arm, largest difference [rad]:", np.abs(q[0] - q[1]).max())
    assert np.abs(q[0] - q[1]).max() > 0.05  # gravity on the heavier, longer arm


def test_runs_with_different_logged_benches_run_together():
    logs = _logs(num_runs=1) + _logs(num_runs=1, meta={"mass": 0.0, "length": 0.0, "inertia": 0.004})
    logs[1].name, logs[1].source = "inertial", "gen_inertial.json"
    result = run_validation(logs, {"dc": DC}, ValidationCfg(baselines=(), show_progress=False))
    assert len(result.benches) == 2 and len(result.table()) == 2
    alone = run_validation(logs[1:], {"dc": DC}, ValidationCfg(baselines=(), show_progress=False))
    np.testing.assert_allclose(result.model("dc").q_sim[1], alone.model("dc").q_sim[0], atol=1e-5)


def test_a_50_hz_log_validates_with_default_settings():
    result = run_validation(_logs(dt=0.02, num_steps=30), {"dc": DC}, ValidationCfg(baselines=(), show_progress=False))
    assert result.decimation == 2 and result.physics_dt == pytest.approx(0.01)
    assert np.isfinite(result.model("dc").rollout["pos_rmse"])
