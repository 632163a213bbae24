"""The single-step torque of a replayed actuator sees the whole logged command (no simulator)."""

import numpy as np
import pytest

from isaaclab.actuators import IdealPDActuatorCfg

from learned_actuators.data.joint_log import JointLog
from learned_actuators.validation.replay import held_joint_torque, single_step_torque
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


def test_a_gru_pd_files_friction_holds_the_joint_as_in_its_trainer(tmp_path):
    """The compare tool scores a GRU-PD with friction on the torque its trainer scores (the joint held by friction)."""
    import dataclasses

    from learned_actuators.learning import PhysicsCfg
    from learned_actuators.learning.export import export_model
    from learned_actuators.learning.trainer import train
    from learned_actuators.validation.compare import compare_models
    from learned_actuators.validation.third_party import parse_model_spec
    from tests.learning.conftest import REF_NLS, REF_STALL, make_runs, quick_cfg

    cfg = quick_cfg("gru_pd", max_epochs=1)
    cfg.physics = PhysicsCfg(
        kd=0.0, stall_torque=REF_STALL, no_load_speed=REF_NLS, friction=0.02, friction_load=0.3, friction_velocity=0.01
    )
    model = train(cfg, make_runs(kps=(2.0, 4.0))).model
    path = export_model(model, tmp_path, "held", source={"kp_scale": model.physics.kp_scale}, onnx=False)["torchscript"]
    log = make_runs(kps=(3.0,), seed=5)[0]
    log.qd[50:150, 0] = np.where(np.arange(100) % 2 == 0, 0.005, -0.005)  # a stall logged with quantised speed
    log.q[50:150, 0] = log.q[50, 0]
    spec = parse_model_spec(f"ours:{path}")
    got = compare_models([log], [spec], ValidationCfg(show_progress=False), rollout=False).tau["held"][0, :, 0]
    want, actuator = model.joint_torque(log), model.predict(log)
    scale = float(np.abs(log.tau).max())
    assert float(np.abs(got - want).max()) <= 1e-5 * scale
    assert float(np.abs(actuator - want)[50:150].max()) > 0.01  # the smoothed friction alone differs at the stall
    # a replay group's torque runs on past this run's steps (folds of other lengths): the padding stays as it is
    batch = TrajectoryBatch.from_logs([log])
    padded = np.concatenate([actuator, np.full(5, 9.0)])[None, :, None]
    gains = (np.array([model.run_params(log).kp]), np.array([model.physics.kd]))
    held = held_joint_torque(batch, spec.cfg, ValidationCfg(show_progress=False), gains, padded)[0, :, 0]
    np.testing.assert_allclose(held[: len(log)], want, atol=1e-9)
    assert held.shape == (len(log) + 5,) and np.all(held[len(log) :] == 9.0)
    no_friction = dataclasses.replace(
        model, physics=dataclasses.replace(model.physics, friction=0.0, friction_load=0.0)
    )
    assert np.array_equal(no_friction.joint_torque(log), no_friction.predict(log))
