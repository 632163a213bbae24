import importlib.util
import json

import numpy as np
import onnx
import pytest
import torch

from learned_actuators.learning import export_model, train
from learned_actuators.learning.export import example_inputs
from learned_actuators.network_file import load_network
from tests.learning.conftest import quick_cfg

pytestmark = pytest.mark.unit

HAS_ISAACLAB = importlib.util.find_spec("isaaclab") is not None


@pytest.fixture(scope="module")
def trained(runs):
    return {mt: train(quick_cfg(mt, max_epochs=2), runs).model for mt in ("gru_pd", "lstm", "mlp")}


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    return {mt: export_model(m, out, mt) for mt, m in trained.items()}


@pytest.mark.parametrize("model_type", ["gru_pd", "lstm", "mlp"])
def test_torchscript_round_trip_and_metadata(trained, exported, model_type):
    model = trained[model_type]
    net, meta = load_network(exported[model_type]["torchscript"])
    assert meta.model_type == model_type and meta.normalization_in_network
    assert meta.dt == pytest.approx(model.dt)
    inputs = example_inputs(model, batch=5, seed=3)
    with torch.no_grad():
        ref, got = model.deploy_module()(*inputs), net(*inputs)
    ref_t = ref[0] if isinstance(ref, tuple) else ref
    got_t = got[0] if isinstance(got, tuple) else got
    torch.testing.assert_close(got_t, ref_t, atol=1e-6, rtol=0)
    if model_type == "gru_pd":
        assert hasattr(net, "gru") and meta.features == list(model.model_cfg.features)
        assert got[0].shape == (5,) and got[1].shape == (1, 5, model.model_cfg.hidden_size)
        assert meta.physics["stall_torque"] == model.physics.stall_torque
    elif model_type == "lstm":
        assert hasattr(net, "lstm") and meta.hidden_size == 16 and meta.num_layers == 2
        assert got[0].shape == (5,)
    else:
        assert meta.input_idx == [0, 1, 2] and meta.input_order == "pos_vel" and meta.pos_scale == 1.0


@pytest.mark.parametrize("model_type", ["gru_pd", "lstm", "mlp"])
def test_onnx_matches_and_carries_metadata(trained, exported, model_type):
    from onnx.reference import ReferenceEvaluator

    path = exported[model_type]["onnx"]
    proto = onnx.load(str(path))
    meta = json.loads({p.key: p.value for p in proto.metadata_props}["metadata"])
    assert meta["model_type"] == model_type
    model = trained[model_type]
    inputs = example_inputs(model, batch=3, seed=7)
    flat = [inputs[0], *inputs[1]] if model_type == "lstm" else list(inputs)
    names = [i.name for i in proto.graph.input]
    with np.errstate(over="ignore"):
        got = ReferenceEvaluator(str(path)).run(None, {n: t.numpy() for n, t in zip(names, flat, strict=True)})
    with torch.no_grad():
        ref = model.deploy_module()(*inputs)
    ref0 = ref[0] if isinstance(ref, tuple) else ref
    np.testing.assert_allclose(got[0].reshape(-1), ref0.numpy().reshape(-1), atol=1e-5)


@pytest.mark.parametrize("model_type", ["gru_pd", "lstm", "mlp"])
def test_stepper_equals_sequence_prediction(trained, runs, model_type):
    """One-step-at-a-time (what a simulator runs) equals the teacher-forced sequence prediction."""
    model, log = trained[model_type], runs[1]
    stepper = model.stepper_for([log])
    stepper.reset(1)
    steps = [
        float(
            stepper.step(torch.tensor([log.q[i, 0]]), torch.tensor([log.qd[i, 0]]), torch.tensor([log.q_target[i, 0]]))[
                0
            ]
        )
        for i in range(len(log))
    ]
    np.testing.assert_allclose(steps, model.predict(log), atol=1e-5)


@pytest.mark.skipif(not HAS_ISAACLAB, reason="isaaclab is not importable; stock ActuatorNetLSTM/MLP check needs it")
@pytest.mark.parametrize("model_type", ["lstm", "mlp"])
def test_exports_run_in_stock_isaaclab_actuators(trained, exported, runs, model_type):
    from isaaclab.actuators import ActuatorNetLSTMCfg, ActuatorNetMLPCfg
    from isaaclab.utils import instantiate
    from isaaclab.utils.types import ArticulationActions

    path = str(exported[model_type]["torchscript"])
    limits = {"saturation_effort": 1e3, "actuator_effort_limit": 1e3, "actuator_velocity_limit": 1e3}
    if model_type == "lstm":
        cfg = ActuatorNetLSTMCfg(joint_names_expr=[".*"], network_file=path, **limits)
    else:
        cfg = ActuatorNetMLPCfg(
            joint_names_expr=[".*"],
            network_file=path,
            pos_scale=1.0,
            vel_scale=1.0,
            torque_scale=1.0,
            input_order="pos_vel",
            input_idx=[0, 1, 2],
            **limits,
        )
    actuator = instantiate(
        cfg, joint_names=["a", "b"], joint_ids=[0, 1], num_envs=1, device="cpu", stiffness=0.0, damping=0.0
    )
    model = trained[model_type]
    stepper = model.stepper_for(runs)
    stepper.reset(2)
    for i in range(20):
        q = torch.tensor([[runs[0].q[i, 0], runs[1].q[i, 0]]], dtype=torch.float32)
        qd = torch.tensor([[runs[0].qd[i, 0], runs[1].qd[i, 0]]], dtype=torch.float32)
        qt = torch.tensor([[runs[0].q_target[i, 0], runs[1].q_target[i, 0]]], dtype=torch.float32)
        act = ArticulationActions(
            joint_positions=qt.clone(), joint_velocities=torch.zeros(1, 2), joint_efforts=torch.zeros(1, 2)
        )
        got = actuator.compute(act, q, qd).joint_efforts[0]
        ref = stepper.step(q[0].double(), qd[0].double(), qt[0].double())
        torch.testing.assert_close(got.double(), ref, atol=1e-5, rtol=0)


@pytest.mark.skipif(not HAS_ISAACLAB, reason="isaaclab is not importable; the GRU-PD actuator check needs it")
@pytest.mark.parametrize(
    ("features", "curve"),
    [
        (None, None),  # the default features, no torque-speed curve
        (["pos_error", "qd", "kp", "tau_phys"], (0.05, 2.0)),  # the PD saturates on these runs: tau_phys != tau_pd
    ],
)
def test_gru_pd_export_runs_in_the_combined_gru_pd_actuator(runs, tmp_path, features, curve):
    from isaaclab.utils import instantiate
    from isaaclab.utils.types import ArticulationActions

    from learned_actuators.actuators.gru_pd_actuator_cfg import CombinedGRUAndPDActuatorCfg

    cfg = quick_cfg("gru_pd", max_epochs=2)
    if features is not None:
        cfg.gru.features = features
    cfg.physics.stall_torque, cfg.physics.no_load_speed = curve or (None, None)  # the final clip (1e3) stays inactive
    cfg.physics.fit = False
    cfg.physics.kd = 0.02
    model = train(cfg, runs).model
    path = export_model(model, tmp_path, onnx=False)["torchscript"]
    actuator_cfg = CombinedGRUAndPDActuatorCfg(
        joint_names_expr=[".*"],
        network_file=str(path),
        saturation_effort=1e3,
        actuator_effort_limit=1e3,
        actuator_velocity_limit=1e3,
        physics_dt=model.dt,
    )
    actuator = instantiate(actuator_cfg, joint_names=["a"], joint_ids=[0], num_envs=2, device="cpu")
    kp = float(actuator.stiffness[0, 0])
    assert kp == pytest.approx(np.median(model.info["train_kp"]))  # the file's default gain
    stepper = model.stepper(np.full(2, kp))
    stepper.reset(2)
    saturated = False
    for i in range(10):
        q, qd, qt = (
            torch.tensor([[getattr(r, f)[i, 0]] for r in runs[:2]], dtype=torch.float32)
            for f in ("q", "qd", "q_target")
        )
        act = ArticulationActions(
            joint_positions=qt.clone(), joint_velocities=torch.zeros(2, 1), joint_efforts=torch.zeros(2, 1)
        )
        got = actuator.compute(act, q, qd).joint_efforts[:, 0]
        pd = kp * (qt - q) - cfg.physics.kd * qd
        saturated = saturated or bool(((actuator.physical_effort - pd).abs() > 1e-3).any())
        torch.testing.assert_close(
            got.double(), stepper.step(q[:, 0].double(), qd[:, 0].double(), qt[:, 0].double()), atol=1e-5, rtol=0
        )
    assert saturated == (curve is not None)
