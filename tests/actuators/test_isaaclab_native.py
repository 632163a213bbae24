"""The Isaac Lab internals behind the Newton-native GRU-PD path (learned_actuators.actuators.isaaclab_native).

The first tests fail the day Isaac Lab or Newton change underneath the hooks (versions, the source of every internal
they rely on, Isaac Lab still rejecting extension cfgs on its own); the others check what the hooks do on a USD
stage: Isaac Lab's authoring turns into our drive with the values the Python-path actuator resolves, and Newton's
importer builds a DriveGRUPD from it that gives that actuator's torques.
"""

import logging
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import warp as wp

import learned_actuators.newton_drives as nd
from learned_actuators.actuators import (
    CombinedGRUAndPDActuatorCfg,
    LSTMActuatorNetCfg,
    NewtonActuatorPathError,
    isaaclab_native,
)
from learned_actuators.network_file import NetworkFileError
from tests.actuators.helpers import GRUNet, make_actuator, save, step

pytestmark = pytest.mark.unit

LIMITS = {"saturation_effort": 12.0, "actuator_effort_limit": 11.0, "actuator_velocity_limit": 25.0}
PHYSICS = {"kp": 20.0, "kd": 0.5, "k_spring": -2.0, "theta0": 0.1, "stall_torque": 10.0, "no_load_speed": 20.0}
PHYSICS.update(friction=0.2, friction_velocity=0.5)
DT = 0.005


def gru_file(tmp_path, **meta):
    torch.manual_seed(0)
    fields = {
        "model_type": "gru_pd",
        "dt": 0.01,
        "features": ["q", "q_target", "qd"],
        "input_mean": [0.0, 0.1, 0.0],
        "input_std": [1.0, 1.0, 5.0],
        "output_std": 1.5,
        "physics": PHYSICS,
    }
    return save(tmp_path, "gru.pt", GRUNet(3, 5, 2), **{**fields, **meta})


def gru_cfg(path, **kwargs):
    fields = {"joint_names_expr": ["Joint[12]"], "network_file": path, "physics_dt": DT, **LIMITS}
    return CombinedGRUAndPDActuatorCfg(**{**fields, "torque_speed_curve": "asymmetric", **kwargs})


@pytest.fixture
def newton_sim(monkeypatch):
    """An active simulation context with ``use_newton_actuators=True`` (what Isaac Lab's authoring checks)."""
    from isaaclab.sim import SimulationContext

    context = SimpleNamespace(cfg=SimpleNamespace(use_newton_actuators=True), get_physics_dt=lambda: DT)
    monkeypatch.setattr(SimulationContext, "instance", classmethod(lambda cls: context))
    return context


def robot_stage():
    """/World/Robot: a kinematic base and a chain of three revolute joints (Joint1..3) in an in-memory stage."""
    from pxr import Sdf, Usd

    stage = Usd.Stage.CreateInMemory()
    world = stage.DefinePrim("/World", "Xform")
    stage.SetDefaultPrim(world)
    stage.DefinePrim("/World/PhysicsScene", "PhysicsScene")
    robot = stage.DefinePrim("/World/Robot", "Xform")
    robot.ApplyAPI("PhysicsArticulationRootAPI")
    bodies = ("Base", "Link1", "Link2", "Link3")
    for index, name in enumerate(bodies):
        body = stage.DefinePrim(f"/World/Robot/{name}", "Xform")
        body.ApplyAPI("PhysicsRigidBodyAPI")
        body.ApplyAPI("PhysicsMassAPI")
        body.CreateAttribute("physics:mass", Sdf.ValueTypeNames.Float).Set(1.0 / (index + 1))
        if index == 0:
            body.CreateAttribute("physics:kinematicEnabled", Sdf.ValueTypeNames.Bool).Set(True)
    for index in range(1, 4):
        joint = stage.DefinePrim(f"/World/Robot/Joint{index}", "PhysicsRevoluteJoint")
        joint.CreateRelationship("physics:body0").SetTargets([Sdf.Path(f"/World/Robot/{bodies[index - 1]}")])
        joint.CreateRelationship("physics:body1").SetTargets([Sdf.Path(f"/World/Robot/{bodies[index]}")])
        joint.CreateAttribute("physics:axis", Sdf.ValueTypeNames.Token).Set("Z")
    return stage


def actuator_prims(stage) -> dict:
    """Joint name -> active NewtonActuator prim targeting it."""
    from pxr import Usd

    found = {}
    for prim in Usd.PrimRange(stage.GetPrimAtPath("/World/Robot")):
        if prim.GetTypeName() == "NewtonActuator":
            found[str(prim.GetRelationship("newton:targets").GetTargets()[0]).rsplit("/", 1)[-1]] = prim
    return found


"""
Canaries: they fail the day the internals change.
"""


def test_the_supported_isaac_lab_and_newton_are_installed_and_the_hooks_are_on():
    assert isaaclab_native.installed_versions() == isaaclab_native.SUPPORTED_VERSIONS
    assert isaaclab_native.native_path_available()


def test_the_isaac_lab_internals_the_hooks_rely_on_are_unchanged():
    changed = isaaclab_native.changed_internals()
    assert not changed, (
        f"Isaac Lab/Newton internals changed: {changed}. Re-check learned_actuators/actuators/isaaclab_native.py "
        "against them (and whether Isaac Lab now offers a public way), then update INTERNALS."
    )


def test_isaac_lab_alone_still_rejects_extension_cfgs(tmp_path):
    """If Isaac Lab starts accepting extension actuator cfgs, the hooks may no longer be needed."""
    from isaaclab.actuators import DCMotorCfg
    from isaaclab.sim.schemas import schemas_actuators

    original = schemas_actuators._is_newton_native_actuator_cfg.__wrapped__
    assert not original(gru_cfg(gru_file(tmp_path)))
    assert original(DCMotorCfg(joint_names_expr=[".*"], saturation_effort=1.0, stiffness=1.0, damping=0.1))
    assert schemas_actuators._is_newton_native_actuator_cfg(gru_cfg(gru_file(tmp_path)))


def test_other_versions_leave_isaac_lab_untouched(tmp_path, monkeypatch, caplog):
    from isaaclab.sim.schemas import schemas_actuators

    cfg = gru_cfg(gru_file(tmp_path))
    isaaclab_native.uninstall()
    try:
        monkeypatch.setattr(isaaclab_native, "installed_versions", lambda: {"isaaclab": "3.1.0", "newton": "1.6.1"})
        with caplog.at_level(logging.WARNING):
            assert isaaclab_native.install() is False
        assert "not the versions" in caplog.text
        assert not isaaclab_native.native_path_available() and not isaaclab_native.runs_natively(cfg)
        assert not schemas_actuators._is_newton_native_actuator_cfg(cfg)
        assert not hasattr(schemas_actuators.author_actuator_prims, "__wrapped__")
    finally:
        monkeypatch.undo()
        assert isaaclab_native.install()
    assert isaaclab_native.runs_natively(cfg)


"""
What the hooks do.
"""


def test_our_lstm_and_mlp_are_native_and_subclasses_are_not(tmp_path, newton_sim):
    from learned_actuators.actuators import CombinedGRUAndPDActuator, LSTMActuatorNet, MLPActuatorNet, MLPActuatorNetCfg

    class Custom(CombinedGRUAndPDActuator):
        pass

    class CustomLSTM(LSTMActuatorNet):
        pass

    lstm = LSTMActuatorNetCfg(joint_names_expr=[".*"], network_file="x.pt", **LIMITS)
    mlp = MLPActuatorNetCfg(joint_names_expr=[".*"], network_file="x.pt", **LIMITS)
    assert isaaclab_native.runs_natively(lstm) and isaaclab_native.runs_natively(mlp)
    custom = gru_cfg(gru_file(tmp_path), class_type=Custom)
    custom_lstm = LSTMActuatorNetCfg(joint_names_expr=[".*"], network_file="x.pt", class_type=CustomLSTM, **LIMITS)
    assert not isaaclab_native.runs_natively(custom) and not isaaclab_native.runs_natively(custom_lstm)
    for cls in (CombinedGRUAndPDActuator, LSTMActuatorNet, MLPActuatorNet):
        assert cls.is_implicit_model is False  # no error: it runs natively
    for cls in (Custom, CustomLSTM):
        with pytest.raises(NewtonActuatorPathError, match="not subclasses"):
            _ = cls.is_implicit_model


@pytest.mark.parametrize("model", ["lstm", "mlp"])
def test_newton_builds_our_net_drive_from_the_authored_stage_with_the_python_path_torques(tmp_path, newton_sim, model):
    import newton

    from isaaclab.sim.schemas import define_actuator_properties

    from learned_actuators.actuators import MLPActuatorNetCfg
    from tests.actuators.helpers import LSTMNet

    torch.manual_seed(0)
    if model == "lstm":
        path = save(tmp_path, "lstm.pt", LSTMNet(4, 2), model_type="lstm", dt=0.01, output_std=3.0)
        cfg_class, drive_class = LSTMActuatorNetCfg, nd.DriveLSTM
    else:
        net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Softsign(), torch.nn.Linear(6, 1))
        meta = {"input_idx": [0, 1], "pos_scale": 3.0, "vel_scale": 0.2, "torque_scale": 8.0}
        path = save(tmp_path, "mlp.pt", net, model_type="mlp", dt=0.01, **meta)
        cfg_class, drive_class = MLPActuatorNetCfg, nd.DriveMLP
    limits = {**LIMITS, "saturation_effort": {"Joint[12]": 12.0, "Joint3": 6.0}}
    cfg = cfg_class(joint_names_expr=[".*"], network_file=path, physics_dt=DT, **limits)
    stage = robot_stage()
    define_actuator_properties("/World/Robot", {"legs": cfg}, stage=stage)
    schemas = {name: set(prim.GetAppliedSchemas()) for name, prim in actuator_prims(stage).items()}
    assert all(nd.NET_SCHEMA_NAMES[model] in s and "NewtonPDControlAPI" not in s for s in schemas.values())
    builder = newton.ModelBuilder()
    builder.add_usd(stage)
    model_ = builder.finalize(device="cpu")
    (actuator,) = model_.actuators
    assert isinstance(actuator.drive, drive_class) and actuator.drive.is_graphable()

    joints = ["Joint1", "Joint2", "Joint3"]
    reference = cfg.class_type(cfg, joint_names=joints, joint_ids=slice(None), num_envs=1, device="cpu")
    sim_state, control = model_.state(), model_.control()
    states = actuator.state(), actuator.state()
    dofs, coords, targets = (a.numpy() for a in (actuator.indices, actuator.pos_indices, actuator.target_pos_indices))
    rng = np.random.default_rng(0)
    peak = 0.0
    for _ in range(12):
        q, qd, qt = (rng.standard_normal(3).astype(np.float32) for _ in range(3))
        for array, index, values in ((sim_state.joint_q, coords, q), (sim_state.joint_qd, dofs, qd)):
            host = array.numpy()
            host[index] = values
            array.assign(host)
        host = control.joint_target_q.numpy()
        host[targets] = qt
        control.joint_target_q.assign(host)
        control.joint_f.zero_()
        actuator.step(sim_state, control, states[0], states[1], dt=DT)
        states = states[1], states[0]
        expected = step(reference, *(torch.from_numpy(x)[None] for x in (q, qd, qt)))[0].numpy()
        np.testing.assert_allclose(control.joint_f.numpy()[dofs], expected, atol=1e-5)
        peak = max(peak, float(np.abs(expected).max()))
    assert peak > 0.5 and actuator.drive.actuator.steps_per_network_step == 2


def test_authoring_gives_our_joints_the_gru_pd_drive_with_the_python_path_values(tmp_path, newton_sim):
    from isaaclab.actuators import DCMotorCfg
    from isaaclab.sim.schemas import define_actuator_properties

    path = gru_file(tmp_path)
    stage = robot_stage()
    other = DCMotorCfg(joint_names_expr=["Joint3"], saturation_effort=5.0, stiffness=3.0, damping=0.2)
    cfg = gru_cfg(path, stiffness={"Joint1": 30.0, "Joint2": 25.0}, coulomb_friction=0.3)
    define_actuator_properties("/World/Robot", {"legs": cfg, "other": other}, stage=stage)

    prims = actuator_prims(stage)
    assert sorted(prims) == ["Joint1", "Joint2", "Joint3"]
    stock = set(prims["Joint3"].GetAppliedSchemas())
    assert {"NewtonPDControlAPI", "NewtonDCMotorClampingAPI"} <= stock and nd.SCHEMA_NAME not in stock
    names = ["Joint1", "Joint2"]  # the Python-path actuator on the same joints
    reference = cfg.class_type(cfg, joint_names=names, joint_ids=slice(None), num_envs=1, device="cpu")
    for j, name in enumerate(("Joint1", "Joint2")):
        prim = prims[name]
        schemas = set(prim.GetAppliedSchemas())
        assert nd.SCHEMA_NAME in schemas and not schemas & {"NewtonPDControlAPI", "NewtonDCMotorClampingAPI"}
        values = {a.GetName(): a.Get() for a in prim.GetAuthoredAttributes()}
        assert values["newton:networkFile"].path == path
        expected = {
            "newton:kp": [30.0, 25.0][j],  # the cfg's (the file's kp 20 when the cfg sets none)
            "newton:kd": 0.5,
            "newton:springStiffness": -2.0,
            "newton:springRestAngle": 0.1,
            "newton:friction": 0.3,  # the Coulomb term (cfg coulomb_friction), not Isaac Lab's joint friction
            "newton:pdStallTorque": 10.0,
            "newton:pdNoLoadSpeed": 20.0,
            "newton:saturationEffort": 12.0,
            "newton:velocityLimit": 25.0,
            "newton:maxMotorEffort": 11.0,
            "newton:networkDt": 0.01,
        }
        for key, value in expected.items():
            assert values[key] == pytest.approx(value), key
        assert values["newton:pdTorqueSpeedCurve"] is True and values["newton:torqueSpeedCurve"] == "asymmetric"
        assert float(reference.stiffness[0, j]) == pytest.approx(expected["newton:kp"])


def test_newton_builds_the_drive_from_the_authored_stage_and_it_gives_the_python_path_torques(tmp_path, newton_sim):
    import newton

    from isaaclab.sim.schemas import define_actuator_properties

    path = gru_file(tmp_path)
    stage = robot_stage()
    cfg = gru_cfg(path, joint_names_expr=[".*"], damping=0.7)
    define_actuator_properties("/World/Robot", {"legs": cfg}, stage=stage)
    builder = newton.ModelBuilder()
    builder.add_usd(stage)
    model = builder.finalize(device="cpu")
    (actuator,) = model.actuators
    drive = actuator.drive
    assert isinstance(drive, nd.DriveGRUPD) and drive.backend == "torch"
    assert drive.kd.numpy().tolist() == pytest.approx([0.7] * 3)

    reference = make_actuator(cfg, num_envs=1, num_joints=3)
    sim_state, control = model.state(), model.control()
    states = actuator.state(), actuator.state()
    dofs, coords, targets = (a.numpy() for a in (actuator.indices, actuator.pos_indices, actuator.target_pos_indices))
    rng = np.random.default_rng(0)
    for _ in range(12):
        q, qd, qt = (rng.standard_normal(3).astype(np.float32) for _ in range(3))
        for array, index, values in ((sim_state.joint_q, coords, q), (sim_state.joint_qd, dofs, qd)):
            host = array.numpy()
            host[index] = values
            array.assign(host)
        host = control.joint_target_q.numpy()
        host[targets] = qt
        control.joint_target_q.assign(host)
        control.joint_f.zero_()
        actuator.step(sim_state, control, states[0], states[1], dt=DT)
        states = states[1], states[0]
        expected = step(reference, *(torch.from_numpy(x)[None] for x in (q, qd, qt)))[0].numpy()
        np.testing.assert_allclose(control.joint_f.numpy()[dofs], expected, atol=1e-5)
    assert drive.steps_per_network_step == reference.steps_per_network_step == 2
    wp.synchronize()


def test_a_cfg_error_is_the_python_path_error(tmp_path, newton_sim):
    from isaaclab.sim.schemas import define_actuator_properties

    cfg = gru_cfg(gru_file(tmp_path), features=["q", "qd", "q_target"])
    with pytest.raises(NetworkFileError, match="features"):
        define_actuator_properties("/World/Robot", {"legs": cfg}, stage=robot_stage())


def test_nonfinite_raise_asks_for_the_python_path(tmp_path, newton_sim):
    from isaaclab.sim.schemas import define_actuator_properties

    cfg = gru_cfg(gru_file(tmp_path), nonfinite="raise")
    with pytest.raises(NewtonActuatorPathError, match=r"nonfinite='raise'.*use_newton_actuators=False"):
        define_actuator_properties("/World/Robot", {"legs": cfg}, stage=robot_stage())
