"""GRU-PD's Coulomb friction stays in its torque and never reaches the solver's joint friction (real simulator).

Isaac Lab 3.0's actuator collection resolves every group cfg's ``friction`` (its joint friction, default the USD
value) and writes it into the simulator (Newton ``Model.joint_friction``, MJWarp ``dof_frictionloss``). When
GRU-PD's Coulomb term was also the cfg field ``friction``, a cfg value counted twice: in the torque and in the solver.
"""

import math

import pytest
import torch

from isaaclab_newton.physics import NewtonManager

from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg
from tests.actuators.helpers import bench_scene, constant_gru, save

pytestmark = pytest.mark.integration

DT = 0.005
KD = 0.05
FILE_COULOMB = 0.3  # the file's physics.friction [N·m]
FRICTION_VELOCITY = 0.1  # [rad/s]
QD = 0.2  # joint velocity of the torque check [rad/s]


def _sim_joint_friction_and_physics_torque(tmp_path, **cfg_kwargs) -> tuple[float, float, float]:
    """Build the one-joint bench with a GRU-PD group; return the joint friction in Isaac Lab's data and in Newton's
    model, and the actuator's physics torque at q = q* = 0, qd = QD."""
    path = save(
        tmp_path,
        "coulomb.pt",
        constant_gru(0.0),  # zero residual: the torque is the physics prior
        model_type="gru_pd",
        dt=DT,
        features=["q", "q_target", "qd"],
        hidden_size=4,
        num_layers=1,
        input_mean=[0.0] * 3,
        input_std=[1.0] * 3,
        physics={"kp": 2.0, "kd": KD, "friction": FILE_COULOMB, "friction_velocity": FRICTION_VELOCITY},
    )
    actuator_cfg = CombinedGRUAndPDActuatorCfg(
        joint_names_expr=[".*"],
        network_file=path,
        saturation_effort=5.0,
        actuator_effort_limit=5.0,
        actuator_velocity_limit=20.0,
        **cfg_kwargs,
    )
    with bench_scene(tmp_path, actuator_cfg, dt=DT) as (scene, _):
        robot = scene["robot"]
        robot.write_joint_position_to_sim_index(position=torch.zeros(1, 1))
        robot.write_joint_velocity_to_sim_index(velocity=torch.full((1, 1), QD))
        robot.reset()
        scene.update(0.0)
        robot.actuators.target_command.set_position_index(value=torch.zeros(1, 1))
        robot.actuators.target_command.set_velocity_index(value=torch.zeros(1, 1))
        scene.write_data_to_sim()  # computes the actuator torque at the state written above
        return (
            float(robot.data.joint_friction_coeff.torch[0, 0]),
            float(NewtonManager.get_model().joint_friction.numpy()[0]),
            float(robot.actuators["legs"].physical_effort[0, 0]),
        )


@pytest.mark.parametrize(
    "cfg_kwargs, solver_friction, coulomb",
    [
        ({}, 0.0, FILE_COULOMB),  # defaults: USD joint friction (0 on the bench), the file's Coulomb term
        ({"friction": 0.05}, 0.05, FILE_COULOMB),  # Isaac Lab's field reaches the solver, the torque keeps the file's
        ({"friction": 0.0, "coulomb_friction": 0.1}, 0.0, 0.1),  # ours overrides the torque's term only
    ],
    ids=["defaults", "isaac_lab_friction", "coulomb_override"],
)
def test_gru_pd_coulomb_friction_is_in_the_torque_and_never_in_the_solver(
    tmp_path, cfg_kwargs, solver_friction, coulomb
):
    data_friction, model_friction, tau_phys = _sim_joint_friction_and_physics_torque(tmp_path, **cfg_kwargs)
    assert data_friction == pytest.approx(solver_friction, abs=1e-7)
    assert model_friction == pytest.approx(solver_friction, abs=1e-7)
    # kp (0 - 0) - kd qd - tau_c tanh(qd / v_c); the solver's friction loss is not part of the actuator torque
    expected = -KD * QD - coulomb * math.tanh(QD / FRICTION_VELOCITY)
    assert tau_phys == pytest.approx(expected, abs=1e-6)
