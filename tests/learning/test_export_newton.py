"""Our LSTM/MLP exports run in Newton's own DriveNeuralLSTM / DriveNeuralMLP (Warp-NN on CPU Warp) as our actuators do.

The reference is our Python-path actuator on the ``.pt`` file of the same trained net, at a physics dt equal to the
net's dt (no hold), with limits far above the torques (Newton's drives have no clip; in Newton the clip is a separate
clamping component), over 300 steps with per-env resets. With limits that engage, Newton's ``DriveNeuralMLP`` +
``ClampingDCMotor`` (what Isaac Lab authors for its ``ActuatorNetMLPCfg``, a ``DCMotorCfg``) matches our MLP
actuator's final clip (``torque_speed_curve="dc_motor"``: velocity clipped at the corner velocity, then the linear
four-quadrant curve capped at the effort limit) to float rounding.
"""

import json

import numpy as np
import onnx
import pytest
import torch
import warp as wp
from newton.actuators import ClampingDCMotor

from learned_actuators.actuators import LSTMActuatorNetCfg, MLPActuatorNetCfg
from learned_actuators.learning import export_model, train
from learned_actuators.learning.export import network_metadata
from learned_actuators.learning.export_newton import (
    NEWTON_SUFFIX,
    WARP_NN_OPS,
    NewtonExportError,
    export_newton,
    newton_drive,
    newton_gru_metadata,
)
from tests.actuators.helpers import make_actuator
from tests.learning.conftest import quick_cfg
from tests.newton_drives.helpers import torch_step, trajectory

pytestmark = pytest.mark.unit

ENVS, JOINTS, STEPS = 4, 3, 300
TOLERANCE = 1e-4  # N·m
LIMITS = {"saturation_effort": 1e4, "actuator_velocity_limit": 1e4, "actuator_effort_limit": 1e4}
CFGS = {"lstm": LSTMActuatorNetCfg, "mlp": MLPActuatorNetCfg}
CLIP = {"saturation_effort": 0.25, "actuator_velocity_limit": 3.0, "actuator_effort_limit": 0.15}
"""Motor limits inside the trained net's torque range (~1 N·m actuator) and the trajectory's velocities."""


def _cfg(model_type):
    cfg = quick_cfg(model_type, max_epochs=2)
    cfg.lstm.num_layers = 1
    cfg.mlp.activation = "elu"
    cfg.mlp.input_idx = [0, 1, 3]
    return cfg


@pytest.fixture(scope="module")
def exported(runs, tmp_path_factory):
    out = tmp_path_factory.mktemp("newton_export")
    return {mt: (m, export_model(m, out, mt)) for mt in CFGS for m in [train(_cfg(mt), runs).model]}


class _NewtonRunner:
    """Newton's drive (and clamp) on ``ENVS * JOINTS`` identity slots with one state, as Newton's step runs them."""

    def __init__(self, drive, clamp=None):
        n = ENVS * JOINTS
        self.drive, self.clamp = drive, clamp
        self.drive.finalize(wp.get_device("cpu"), n)
        if clamp is not None:
            clamp.finalize(wp.get_device("cpu"), n)
        self.state, self.next = (self.drive.state(n, wp.get_device("cpu")) for _ in range(2))
        self.indices = wp.array(np.arange(n, dtype=np.uint32))
        self.forces, self.zeros = wp.zeros(n, dtype=wp.float32), wp.zeros(n, dtype=wp.float32)
        self.raw = wp.zeros(n, dtype=wp.float32) if clamp is not None else self.forces
        """The drive's output before the clamp (the forces themselves without one)."""

    def step(self, q, qd, qt, dt) -> np.ndarray:
        a = [wp.array(np.asarray(x, np.float32).reshape(-1)) for x in (q, qd, qt)]
        i = self.indices
        self.drive.compute(a[0], a[1], a[2], self.zeros, None, i, i, i, i, self.raw, self.state, dt)
        if self.clamp is not None:  # as Newton's explicit effort mode: raw output -> clamp -> applied forces
            self.clamp.modify_forces(self.raw, self.forces, a[0], a[1], i, i)
        self.drive.update_state(self.state, self.next)
        self.state, self.next = self.next, self.state
        return self.forces.numpy().reshape(ENVS, JOINTS).copy()

    def reset(self, env_ids) -> None:
        mask = np.zeros((ENVS, JOINTS), dtype=bool)
        mask[env_ids] = True
        self.state.reset(wp.array(mask.reshape(-1), dtype=wp.bool))


@pytest.mark.parametrize("model_type", ["lstm", "mlp"])
def test_newton_drive_runs_our_export_as_our_actuator(exported, model_type):
    model, paths = exported[model_type]
    path = paths["newton"]
    assert path.name == model_type + NEWTON_SUFFIX
    assert {n.op_type for n in onnx.load(str(path)).graph.node} <= WARP_NN_OPS
    dt = float(model.dt)
    cfg = CFGS[model_type](joint_names_expr=[".*"], network_file=str(paths["torchscript"]), physics_dt=dt, **LIMITS)
    reference = make_actuator(cfg, num_envs=ENVS, num_joints=JOINTS)
    ours = _NewtonRunner(newton_drive(path, dt))
    assert ours.drive.is_graphable()
    q, qd, qt = trajectory(STEPS, ENVS, JOINTS)
    qd = qd * 0.25  # the training data's velocity range
    error, peak = 0.0, 0.0
    for s in range(STEPS):
        if s in (40, 170):
            reference.reset([1, 3])
            ours.reset([1, 3])
        expected = torch_step(reference, q[s], qd[s], qt[s])
        got = ours.step(q[s], qd[s], qt[s], dt)
        error, peak = max(error, float(np.abs(got - expected).max())), max(peak, float(np.abs(expected).max()))
    assert peak > 0.05  # the nets give real torques (trained on a ~1 N·m actuator)
    assert error <= TOLERANCE, error


def test_newtons_dc_motor_clamp_matches_our_mlp_clip_where_it_engages(exported):
    model, paths = exported["mlp"]
    dt = float(model.dt)
    cfg = MLPActuatorNetCfg(joint_names_expr=[".*"], network_file=str(paths["torchscript"]), physics_dt=dt, **CLIP)
    assert cfg.torque_speed_curve == "dc_motor"
    reference = make_actuator(cfg, num_envs=ENVS, num_joints=JOINTS)
    n = ENVS * JOINTS
    limits = [wp.full(n, CLIP[k], dtype=wp.float32) for k in CLIP]  # Newton's order: stall, speed, effort limit
    ours = _NewtonRunner(newton_drive(paths["newton"], dt), ClampingDCMotor(*limits))
    q, qd, qt = trajectory(STEPS, ENVS, JOINTS)
    qd = qd * 0.25
    corner = CLIP["actuator_velocity_limit"] * (1 + CLIP["actuator_effort_limit"] / CLIP["saturation_effort"])
    error, clipped, beyond_corner = 0.0, 0, 0
    for s in range(STEPS):
        if s in (40, 170):
            reference.reset([1, 3])
            ours.reset([1, 3])
        expected = torch_step(reference, q[s], qd[s], qt[s])
        got = ours.step(q[s], qd[s], qt[s], dt)
        raw = ours.raw.numpy().reshape(ENVS, JOINTS)
        engaged = np.abs(raw - expected) > 1e-3
        clipped += int(engaged.sum())
        beyond_corner += int((engaged & (np.abs(qd[s]) > corner)).sum())
        error = max(error, float(np.abs(got - expected).max()))
    samples = STEPS * n
    assert clipped > 0.2 * samples and clipped < 0.9 * samples, clipped / samples  # the clip engages, not always
    assert beyond_corner > 0.01 * samples, beyond_corner / samples  # also where the velocity is clipped at the corner
    assert error <= TOLERANCE, error


def test_newton_drive_refuses_a_physics_dt_other_than_the_trained_one(exported):
    model, paths = exported["lstm"]
    with pytest.raises(NewtonExportError, match=r"sample_dt_s.*cannot hold its output"):
        newton_drive(paths["newton"], float(model.dt) / 4)


def test_nets_newton_cannot_run_are_refused_with_the_field(runs, tmp_path):
    mlp = train(quick_cfg("mlp", max_epochs=1), runs).model  # softsign
    with pytest.raises(NewtonExportError, match="activation Softsign"):
        export_newton(mlp, tmp_path / "mlp.newton.onnx")
    lstm = train(quick_cfg("lstm", max_epochs=1), runs).model  # two layers
    with pytest.raises(NewtonExportError, match="num_layers is 2"):
        export_newton(lstm, tmp_path / "lstm.newton.onnx")
    with pytest.warns(UserWarning, match="num_layers is 2"):
        paths = export_model(lstm, tmp_path, "lstm")
    assert "newton" not in paths and not (tmp_path / "lstm.newton.onnx").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lstm.onnx", "lstm.pt"]


def test_gru_metadata_in_the_layout_of_newtons_gru_drive(runs):
    cfg = quick_cfg("gru_pd", max_epochs=1)
    cfg.gru.mode, cfg.gru.features = "direct", ["q_target", "q", "qd"]
    meta = network_metadata(train(cfg, runs).model)
    layout = newton_gru_metadata(meta)
    assert layout["input_columns"] == ["target_position", "position", "velocity"]
    stats = layout["normalization"]["inputs"]
    assert [stats[c]["mean"] for c in layout["input_columns"]] == pytest.approx(meta.input_mean)
    assert [stats[c]["std"] for c in layout["input_columns"]] == pytest.approx(meta.input_std)
    assert layout["normalization"]["targets"]["torque"] == pytest.approx(
        {"mean": meta.output_mean, "std": meta.output_std}
    )
    assert layout["sample_dt_s"] == pytest.approx(meta.dt) and json.loads(json.dumps(layout)) == layout
    with pytest.raises(NewtonExportError, match="cannot express the physics prior"):
        newton_gru_metadata(meta.__class__(**{**meta.__dict__, "mode": "residual"}))
    with pytest.raises(NewtonExportError, match="'tau_pd' has no DriveNeuralGRU input column"):
        newton_gru_metadata(meta.__class__(**{**meta.__dict__, "features": ["q", "tau_pd", "qd"]}))
    assert torch.isfinite(torch.tensor(meta.input_std)).all()
