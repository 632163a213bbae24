"""A Newton model built from a USD with our API schema creates DriveGRUPD through Newton's importer."""

import os

import numpy as np
import pytest
import warp as wp

import learned_actuators.newton_drives as nd
from tests.newton_drives.helpers import DriveRunner, gru_file

pytestmark = pytest.mark.integration


def _robot_stage(path: str, network_file: str):
    """Two revolute joints (base -> link1 -> link2) with our drive on both; joint 2 overrides kp and the curve."""
    from pxr import Sdf, Usd

    stage = Usd.Stage.CreateNew(path)
    world = stage.DefinePrim("/World", "Xform")
    stage.SetDefaultPrim(world)
    stage.DefinePrim("/World/PhysicsScene", "PhysicsScene")
    robot = stage.DefinePrim("/World/Robot", "Xform")
    robot.ApplyAPI("PhysicsArticulationRootAPI")
    for name, mass, kinematic in (("Base", 1.0, True), ("Link1", 0.5, False), ("Link2", 0.3, False)):
        body = stage.DefinePrim(f"/World/Robot/{name}", "Xform")
        body.ApplyAPI("PhysicsRigidBodyAPI")
        body.ApplyAPI("PhysicsMassAPI")
        body.CreateAttribute("physics:mass", Sdf.ValueTypeNames.Float).Set(mass)
        if kinematic:
            body.CreateAttribute("physics:kinematicEnabled", Sdf.ValueTypeNames.Bool).Set(True)
    for index, (body0, body1) in enumerate((("Base", "Link1"), ("Link1", "Link2")), start=1):
        joint = stage.DefinePrim(f"/World/Robot/Joint{index}", "PhysicsRevoluteJoint")
        joint.CreateRelationship("physics:body0").SetTargets([Sdf.Path(f"/World/Robot/{body0}")])
        joint.CreateRelationship("physics:body1").SetTargets([Sdf.Path(f"/World/Robot/{body1}")])
        joint.CreateAttribute("physics:axis", Sdf.ValueTypeNames.Token).Set("Z")
    relative = "./" + os.path.basename(network_file)  # resolved against the layer by Newton's parser
    nd.apply_gru_pd_drive(stage, "/World/Robot/Joint1Actuator", "/World/Robot/Joint1", relative, max_motor_effort=9.0)
    nd.apply_gru_pd_drive(
        stage, "/World/Robot/Joint2Actuator", "/World/Robot/Joint2", relative, kp=30.0, max_motor_effort=9.0
    )
    stage.Save()
    return stage


def test_newton_builds_our_drive_from_usd_and_steps_it(tmp_path):
    import newton

    assert nd.schema_is_known(), "import learned_actuators.newton_drives before the first stage is opened"
    network_file = gru_file(tmp_path, dt=0.01)
    stage = _robot_stage(str(tmp_path / "robot.usda"), network_file)
    builder = newton.ModelBuilder()
    builder.add_usd(stage)
    model = builder.finalize(device="cpu")

    drives = [a for a in model.actuators if isinstance(a.drive, nd.DriveGRUPD)]
    assert len(drives) == 1 and len(model.actuators) == 1
    actuator = drives[0]
    assert actuator.num_actuators == 2 and actuator.is_graphable() and actuator.is_stateful()
    drive = actuator.drive
    assert os.path.samefile(drive.network_file, network_file)
    assert drive.kp.numpy().tolist() == [20.0, 30.0]  # the file's, then the authored value
    assert drive.max_motor_effort.numpy().tolist() == [9.0, 9.0]
    assert drive.steps_per_network_step is None  # known at the first step (its dt)

    state, control = model.state(), model.control()
    states = actuator.state(), actuator.state()
    dofs, coords, targets = (a.numpy() for a in (actuator.indices, actuator.pos_indices, actuator.target_pos_indices))
    reference = DriveRunner(
        network_file,
        1,
        2,
        limits=None,
        kp=wp.array([20.0, 30.0], dtype=wp.float32),
        max_motor_effort=wp.full(2, 9.0, dtype=wp.float32),
    )
    rng = np.random.default_rng(0)
    for _ in range(5):
        q, qd, qt = (rng.standard_normal(2).astype(np.float32) for _ in range(3))
        for array, index, values in (
            (state.joint_q, coords, q),
            (state.joint_qd, dofs, qd),
            (control.joint_target_q, targets, qt),
        ):
            host = array.numpy()
            host[index] = values
            array.assign(host)
        control.joint_f.zero_()
        actuator.step(state, control, states[0], states[1], dt=0.005)
        states = states[1], states[0]
        expected = reference.step(q[None], qd[None], qt[None])[0]
        np.testing.assert_allclose(control.joint_f.numpy()[dofs], expected, atol=1e-5)
    assert drive.steps_per_network_step == 2
    np.testing.assert_allclose(states[0].drive_state.hidden.numpy(), reference.state.hidden.numpy(), atol=1e-6)
    np.testing.assert_allclose(states[1].drive_state.hidden.numpy(), reference.state.hidden.numpy(), atol=1e-6)
