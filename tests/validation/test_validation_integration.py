"""Real Isaac Lab (Newton, CPU) replays: known-answer, bad input, Go2 replica. Kept small: few envs, short logs."""

import json

import numpy as np
import pytest

from isaaclab.actuators import DCMotorCfg
from isaaclab.utils import replace

from learned_actuators.data.joint_log import JointLog, LogFormatError
from learned_actuators.validation.replay import GO2_JOINT_NAMES, replay, single_step_torque
from learned_actuators.validation.report import write_report
from learned_actuators.validation.trajectories import TrajectoryBatch
from learned_actuators.validation.validate import run_validation
from learned_actuators.validation.validation_cfg import ValidationCfg

pytestmark = pytest.mark.integration

DT = 0.005
PENDULUM = {"mass": 0.49, "length": 0.1, "inertia": 0.0069}
# saturation (0.5 N·m) binds: kp * 0.6 rad = 1.2 N·m, so the DC motor curve matters
DC = DCMotorCfg(
    joint_names_expr=[".*"],
    stiffness=2.0,
    damping=0.05,
    saturation_effort=0.5,
    actuator_effort_limit=0.5,
    actuator_velocity_limit=8.0,
)


def _command_logs(num_runs=3, num_steps=160, joints=("joint",), dt=DT):
    logs = []
    for e in range(num_runs):
        t = np.arange(num_steps - 10 * e) * dt  # different lengths: padding + masking
        cmd = 0.6 * np.sin(2 * np.pi * (1.0 + 0.5 * e) * t)[:, None].repeat(len(joints), 1)
        q = np.zeros_like(cmd)
        q[0] = 0.1 * e  # initial state differs per run
        logs.append(
            JointLog(
                name=f"run{e}",
                source=f"gen_{e}.json",
                t=t,
                q=q,
                q_target=cmd,
                qd=np.zeros_like(cmd),
                joint_names=list(joints),
                meta=dict(PENDULUM),
            )
        )
    return logs


def test_known_answer_same_actuator_zero_error_other_gains_clearly_larger(tmp_path):
    cfg = ValidationCfg(
        baselines=("ideal_pd", "fitted_pd", "fitted_pd_oracle"),
        kp=2.0,
        kd=0.05,
        gains_from_log=False,
        show_progress=False,
    )
    commands = _command_logs()
    generated = replay(TrajectoryBatch.from_logs(commands), DC, cfg, "generator")
    logs = []
    for e, log in enumerate(commands):
        n = len(log)
        logs.append(
            JointLog(
                name=log.name,
                source=log.source,
                t=log.t,
                q=generated.q[e, :n],
                q_target=log.q_target,
                qd=generated.qd[e, :n],
                tau=generated.tau[e, :n],
                joint_names=log.joint_names,
                meta=log.meta,
            )
        )
    assert np.ptp(generated.q[0]) > 0.2  # the joint really moved

    other = replace(DC, stiffness=1.0, damping=0.02)
    result = run_validation(logs, {"same": DC, "other_gains": other}, cfg)
    same = result.model("same")
    assert same.rollout["pos_rmse"] < 1e-4
    assert same.rollout["vel_rmse"] < 1e-3
    wrong_tau = result.model("other_gains").single_step["torque_rmse"]
    print("known-answer:", same.rollout, same.single_step["torque_rmse"], wrong_tau)
    assert same.single_step["torque_rmse"] < 1e-3
    assert wrong_tau > 0.05
    wrong = result.model("other_gains").rollout["pos_rmse"]
    assert wrong > 0.02 and wrong > 100 * same.rollout["pos_rmse"]
    # IdealPD at the right gains lacks the saturation: worse than the DC motor that made the data
    assert result.model("ideal_pd").rollout["pos_rmse"] > 0.01

    # without training runs the honest fitted PD does not run; the in-sample fit is labelled as an oracle
    assert "training runs" in result.skipped["fitted_pd"]
    assert result.model("fitted_pd_oracle").kind == "oracle"

    paths = write_report(result, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert set(data["models"]) == {"same", "other_gains", "ideal_pd", "fitted_pd_oracle"}
    assert data["verdict"]["excluded"] == ["fitted_pd_oracle"] and data["verdict"]["best_model"] == "same"
    assert "<table" in paths["html"].read_text()


def test_folds_share_one_replay_and_match_separate_runs(monkeypatch):
    """Every model is one replay over both folds: the same cfg (baselines) on the joined runs, each fold's own cfg
    (the two DC motors) as the members of one env-groups actuator; every run as when its fold runs alone."""
    from learned_actuators.validation import validate
    from learned_actuators.validation.env_groups import EnvGroupsActuatorCfg
    from learned_actuators.validation.validate import FoldSpec, run_validation_folds

    replays = []

    def spy(batch, actuator_cfg, *args, **kwargs):
        replays.append((actuator_cfg, batch.num_envs))
        return replay(batch, actuator_cfg, *args, **kwargs)

    monkeypatch.setattr(validate, "replay", spy)

    logs = _command_logs(num_runs=4)
    for log in logs:
        log.tau = np.zeros_like(log.q)  # a label, so the fitted baselines can run
        log.meta["kp"] = 2.0
    cfg = ValidationCfg(baselines=("ideal_pd", "fitted_pd"), show_progress=False)
    other = replace(DC, saturation_effort=0.4)
    folds = [
        FoldSpec("a", logs[:2], {"dc": DC}, cfg, fit_logs=logs[2:]),
        FoldSpec("b", logs[2:], {"dc": other}, cfg, fit_logs=logs[:2]),
    ]
    merged = run_validation_folds(folds)
    assert len(replays) == 3 and all(n == 4 for _, n in replays)  # dc, ideal_pd, fitted_pd: one replay each
    assert isinstance(replays[0][0], EnvGroupsActuatorCfg) and replays[0][0].members == [DC, other]
    replays.clear()
    assert merged.folds == ["a", "a", "b", "b"] and merged.batch.names == [log.name for log in logs]
    assert set(merged.model("fitted_pd").params["folds"]) == {"a", "b"}
    for fold, sel in (("a", slice(0, 2)), ("b", slice(2, 4))):
        spec = next(f for f in folds if f.name == fold)
        alone = run_validation(spec.logs, spec.models, cfg, fit_logs=spec.fit_logs)
        for name in ("dc", "ideal_pd", "fitted_pd"):
            n = alone.batch.num_steps
            np.testing.assert_allclose(merged.model(name).q_sim[sel, :n], alone.model(name).q_sim, atol=1e-6)


def _pendulum_reference(batch, kp: float, kd: float) -> np.ndarray:
    """Angles (E, T) of J·q̈ = kp (q* - q) + kd (q̇* - q̇) + τ_ff - m·g·l·sin q (semi-implicit Euler, as the solver
    steps), with the batch's logged command (q̇*, τ_ff zero when not logged)."""
    m, arm, inertia = PENDULUM["mass"], PENDULUM["length"], PENDULUM["inertia"]
    zeros = np.zeros_like(batch.q)
    qd_target = batch.qd_target if batch.qd_target is not None else zeros
    tau_ff = batch.tau_ff if batch.tau_ff is not None else zeros
    q, qd = batch.q[:, 0, 0].copy(), batch.qd[:, 0, 0].copy()
    kp = np.broadcast_to(kp, batch.q.shape[:2])  # a constant, or per run and step (E, T)
    ref = [q.copy()]
    for k in range(batch.num_steps - 1):
        command = kp[:, k] * (batch.q_target[:, k, 0] - q) + kd * (qd_target[:, k, 0] - qd) + tau_ff[:, k, 0]
        qd = qd + DT * (command - m * 9.81 * arm * np.sin(q)) / inertia
        q = q + DT * qd
        ref.append(q.copy())
    return np.stack(ref, axis=1)


def test_bench_pendulum_matches_analytic_dynamics():
    """The procedural bench is the pendulum J·q̈ = tau - m·g·l·sin q (semi-implicit Euler, as the solver steps)."""
    from isaaclab.actuators import IdealPDActuatorCfg

    logs = _command_logs(num_runs=2, num_steps=100)
    batch = TrajectoryBatch.from_logs(logs)
    kp, kd = 1.5, 0.02
    pd = IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=kp, damping=kd)
    sim = replay(batch, pd, ValidationCfg(show_progress=False))
    ref = _pendulum_reference(batch, kp, kd)
    assert np.ptp(ref) > 0.1
    np.testing.assert_allclose(sim.q[:, :, 0], ref, atol=1e-4)


def test_bench_pendulum_follows_the_whole_logged_command():
    """Logged target velocities and feed-forward torques reach the actuator as Isaac Lab's velocity/effort targets."""
    from isaaclab.actuators import IdealPDActuatorCfg

    logs = _command_logs(num_runs=2, num_steps=100)
    for e, log in enumerate(logs):
        t = log.t[:, None]
        log.channels = {"qd_target": 0.5 * np.cos(4 * t), "tau_ff": 0.3 * np.sin(3 * t) + 0.1 * e}
    batch = TrajectoryBatch.from_logs(logs)
    assert batch.tau_ff.shape == batch.q.shape and batch.tau_ff[1, -1, 0] == logs[1].channels["tau_ff"][-1, 0]
    kp, kd = 1.5, 0.02
    pd = IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=kp, damping=kd)
    sim = replay(batch, pd, ValidationCfg(show_progress=False))
    n = len(logs[1])
    np.testing.assert_allclose(sim.q[:, :n, 0], _pendulum_reference(batch, kp, kd)[:, :n], atol=1e-4)
    plain = replay(
        TrajectoryBatch.from_logs(_command_logs(num_runs=2, num_steps=100)), pd, ValidationCfg(show_progress=False)
    )
    assert np.abs(plain.q[:, :n, 0] - sim.q[:, :n, 0]).max() > 0.02  # the command terms moved the joint


def test_bench_pendulum_follows_logged_gains_that_change_per_step():
    """A logged ``kp`` channel reaches the actuator's per-env stiffness at every sample, in the replay and the
    single-step torque."""
    from isaaclab.actuators import IdealPDActuatorCfg

    from learned_actuators.validation.baselines import log_gains

    logs = _command_logs(num_runs=2, num_steps=100)
    for e, log in enumerate(logs):
        log.meta["kp"] = 1.5  # the constant gain the channel overrides
        log.channels = {"kp": np.where(np.arange(len(log)) < 40, 0.8, 3.0 + e)[:, None]}
    batch = TrajectoryBatch.from_logs(logs)
    cfg = ValidationCfg(kd=0.02, show_progress=False)
    gains = log_gains(batch, cfg)
    pd = IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=0.0, damping=0.0)
    sim = replay(batch, pd, cfg, gains=gains)
    n = len(logs[1])
    ref = _pendulum_reference(batch, gains[0][:, :, 0], 0.02)
    np.testing.assert_allclose(sim.q[:, :n, 0], ref[:, :n], atol=1e-4)
    constant = replay(batch, pd, cfg, gains=(np.full(2, 1.5), np.full(2, 0.02)))
    assert np.abs(constant.q[:, :n, 0] - sim.q[:, :n, 0]).max() > 0.02  # the logged gains moved the joint
    tau = single_step_torque(batch, pd, cfg, gains=gains)
    expected = gains[0] * (batch.q_target - batch.q) + 0.02 * (0.0 - batch.qd)
    np.testing.assert_allclose(tau[:, :n], expected[:, :n], atol=1e-5)


def test_bad_rates_are_clear_errors():
    fast = _command_logs(num_runs=1, num_steps=20, dt=1e-6)
    with pytest.raises(ValueError, match="cannot replay at that rate"):
        run_validation(fast, {"dc": DC}, ValidationCfg(baselines=(), show_progress=False))
    slow = _command_logs(num_runs=1, num_steps=20, dt=0.05)
    with pytest.raises(ValueError, match="use decimation >= 5"):
        run_validation(slow, {"dc": DC}, ValidationCfg(decimation=1, baselines=(), show_progress=False))


def test_joint_names_not_on_the_robot_are_a_clear_error():
    logs = _command_logs(num_runs=1, num_steps=20, joints=("FL_hip_joint", "elbow_joint"))
    with pytest.raises(LogFormatError, match=r"gen_0\.json.*'joint_names'.*\['elbow_joint'\]"):
        run_validation(logs, {"dc": DC}, ValidationCfg(replica="go2", baselines=(), show_progress=False))
    # not all Go2 joints: the generic replica of independent joints, named as logged, each with the logged load
    result = run_validation(logs, {"dc": DC}, ValidationCfg(baselines=(), show_progress=False))
    assert result.replica == "joints" and result.batch.joint_names == ["FL_hip_joint", "elbow_joint"]
    assert np.isfinite(result.model("dc").rollout["pos_rmse"])


def test_missing_commanded_positions_is_a_clear_error():
    logs = _command_logs(num_runs=2, num_steps=20)
    logs[1].q_target = None
    with pytest.raises(LogFormatError, match=r"gen_1\.json.*'q_target'"):
        run_validation(logs, {"dc": DC}, ValidationCfg(baselines=(), show_progress=False))


def test_go2_fixed_base_replay_tracks_logged_joints():
    from learned_actuators.assets.unitree_go2 import require_offline_assets

    require_offline_assets()  # CI builds the offline Go2 USD in its set-up step
    joints = ["FL_thigh_joint", "RR_calf_joint"]
    logs = _command_logs(num_runs=2, num_steps=40, joints=joints)
    for log in logs:
        log.q_target = log.q_target * 0.5 + np.array([0.8, -1.5])
        log.q[0] = [0.8, -1.5]
    stiff = replace(
        DC,
        stiffness=25.0,
        damping=0.5,
        saturation_effort=23.7,
        actuator_effort_limit=45.0,
        actuator_velocity_limit=30.0,
    )
    result = run_validation(logs, {"go2_dc": stiff}, ValidationCfg(baselines=(), show_progress=False))
    assert result.replica == "go2"
    sim_q = result.model("go2_dc").q_sim
    assert np.isfinite(sim_q).all()
    # the stiff PD follows the command: rollout error stays well below the command's amplitude (0.3 rad)
    err = np.abs(sim_q[:, -1] - logs[0].q_target[-1])
    assert err.max() < 0.3
    assert set(GO2_JOINT_NAMES) >= set(joints)


def test_trained_gru_pd_beats_ideal_pd_on_builtin_data(tmp_path):
    """The README main job: GRU-PD trained on the BAM demo logs rolls out closer to the held-out runs than IdealPD."""
    from learned_actuators.demo.validation import validate_network as run

    result, paths = run(tmp_path)
    gru = result.model("gru_pd").rollout["pos_rmse"]
    ideal = result.model("ideal_pd").rollout["pos_rmse"]
    print(f"held-out rollout position RMSE: gru_pd {gru:.4f} rad, ideal_pd {ideal:.4f} rad")
    assert np.isfinite(gru) and gru < ideal
    data = json.loads(paths["json"].read_text())
    assert {"gru_pd", "ideal_pd", "dc_motor", "fitted_pd", "fitted_pd_oracle"} <= set(data["models"])
    assert data["models"]["fitted_pd_oracle"]["kind"] == "oracle" and data["verdict"]["n_runs"] == 4
    # the baselines are fitted on the 12 runs of the other trajectory families only
    fit = data["models"]["fitted_pd"]["params"]["folds"]["up_and_down"]
    assert len(fit["fit_runs"]) == 12 and not set(fit["fit_runs"]) & {r["name"] for r in data["runs"]}
    assert data["provenance"]["packages"]["learned_actuators"] and len(data["provenance"]["data_files"]) >= 17
