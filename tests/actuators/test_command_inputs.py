"""GRU-PD takes the whole low-level command of Isaac Lab's articulation actions: velocity target and feed-forward.

``kp (q* - q) + kd (qd* - qd) + tau_ff`` as Isaac Lab's ``IdealPDActuator``, in the physics prior and the net's
features; Isaac Lab's default zero targets give the torques of the model without them, bit for bit; a NaN/inf
velocity target or feed-forward torque is a bad input (zero effort, counted, or raised). Unit tests on
``compute()`` and one on the real simulator (Newton MJWarp, Isaac Lab's Python actuator path).
"""

import pytest
import torch

from isaaclab.utils.types import ArticulationActions

from learned_actuators import physics
from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg, NonFiniteActuatorError
from tests.actuators.helpers import GRUNet, bench_scene, make_actuator, save
from tests.actuators.test_nonfinite_inputs import state_of

ENVS, JOINTS = 3, 4
BAD_ENV, BAD_JOINT = 1, 2
DT = 0.005
LIMITS = {"saturation_effort": 9.0, "actuator_velocity_limit": 12.0, "actuator_effort_limit": 8.0}
PHYSICS = {"kp": 20.0, "kd": 0.5, "k_spring": -1.0, "theta0": 0.1, "stall_torque": 9.0, "no_load_speed": 12.0}
FEATURES = ["q", "qd", "q_target", "qd_target", "tau_ff", "tau_pd", "tau_phys"]
NAN, INF = float("nan"), float("inf")


def command_file(tmp_path, features=FEATURES, physics_params=None, name="gru_cmd.pt") -> str:
    """A random 2 x 5 GRU-PD net (residual, net dt = physics dt) whose inputs include the command features."""
    torch.manual_seed(0)
    return save(
        tmp_path,
        name,
        GRUNet(len(features), 5, 2),
        model_type="gru_pd",
        dt=DT,
        features=list(features),
        input_mean=[0.05 * i for i in range(len(features))],
        input_std=[0.5 + 0.25 * i for i in range(len(features))],
        output_std=1.5,
        output_mean=-0.2,
        physics=dict(PHYSICS if physics_params is None else physics_params),
    )


def build(path, count=1, **cfg):
    cfg = CombinedGRUAndPDActuatorCfg(joint_names_expr=[".*"], network_file=path, physics_dt=DT, **{**LIMITS, **cfg})
    actuators = [make_actuator(cfg, num_envs=ENVS, num_joints=JOINTS) for _ in range(count)]
    return actuators if count > 1 else actuators[0]


def random_command(rng):
    """(q, qd, q_target, qd_target, tau_ff) of one step, (ENVS, JOINTS) each."""
    shape = (ENVS, JOINTS)
    return (
        0.1 * torch.randn(shape, generator=rng),
        1.0 * torch.randn(shape, generator=rng),
        0.1 * torch.randn(shape, generator=rng),
        2.0 * torch.randn(shape, generator=rng),
        1.0 * torch.randn(shape, generator=rng),
    )


def command_step(actuator, q, qd, q_target, qd_target=None, tau_ff=None) -> torch.Tensor:
    """One compute() with the whole command (None: the actions leave that term None); returns the effort."""

    def fresh(x):
        return None if x is None else x.clone()

    action = ArticulationActions(
        joint_positions=q_target.clone(), joint_velocities=fresh(qd_target), joint_efforts=fresh(tau_ff)
    )
    return actuator.compute(action, q, qd).joint_efforts.clone()


def expected_physics(actuator, q, qd, q_target, qd_target, tau_ff) -> torch.Tensor:
    """``tau_phys`` of :func:`learned_actuators.physics.physical_torque` with the actuator's resolved parameters."""
    return physics.physical_torque(
        q,
        qd,
        q_target,
        actuator.stiffness,
        actuator.damping,
        actuator.spring_stiffness,
        actuator.spring_rest_angle,
        actuator.pd_stall_torque,
        actuator.pd_no_load_speed,
        0.0,
        actuator.friction_velocity,
        qd_target=qd_target,
        tau_ff=tau_ff,
    )


@pytest.mark.unit
def test_physics_and_features_take_the_velocity_target_and_the_feed_forward(tmp_path, rng):
    actuator = build(command_file(tmp_path))
    assert actuator.pd_torque_speed_curve
    for _ in range(3):
        inputs = random_command(rng)
        command_step(actuator, *inputs)
        q, qd, q_target, qd_target, tau_ff = inputs
        expected = expected_physics(actuator, *inputs)
        torch.testing.assert_close(actuator.physical_effort, expected, rtol=0, atol=1e-6)
        # the terms matter: without them the physics torque is different everywhere (no joint saturated here)
        plain = expected_physics(actuator, q, qd, q_target, None, None)
        assert (plain - expected).abs().min() > 1e-4
        # the net's raw inputs of this step, one row per feature (num_envs * num_joints columns)
        rows = dict(zip(actuator.features, actuator._input.view(len(FEATURES), ENVS, JOINTS), strict=True))
        torch.testing.assert_close(rows["qd_target"], qd_target, rtol=0, atol=0)
        torch.testing.assert_close(rows["tau_ff"], tau_ff, rtol=0, atol=0)
        pd = physics.pd_torque(
            q, qd, q_target, actuator.stiffness, actuator.damping, qd_target=qd_target, tau_ff=tau_ff
        )
        torch.testing.assert_close(rows["tau_pd"], pd, rtol=0, atol=1e-6)
        torch.testing.assert_close(rows["tau_phys"], expected, rtol=0, atol=1e-6)


@pytest.mark.unit
def test_the_net_output_depends_on_the_command_features(tmp_path, rng):
    a, b = build(command_file(tmp_path), count=2)
    q, qd, q_target, qd_target, tau_ff = random_command(rng)
    command_step(a, q, qd, q_target, qd_target, tau_ff)
    command_step(b, q, qd, q_target, qd_target + 1.0, tau_ff - 1.0)
    assert (a.network_output - b.network_output).abs().min() > 1e-5


@pytest.mark.unit
@pytest.mark.parametrize("features", [["q", "q_target", "qd"], FEATURES], ids=["plain_features", "command_features"])
def test_isaac_lab_default_zero_targets_give_the_torques_without_them_bit_for_bit(tmp_path, rng, features):
    """Zero velocity / effort targets (Isaac Lab's defaults) == None (the model before the command existed)."""
    physics_params = {**PHYSICS, "friction": 0.2, "friction_velocity": 0.3}
    zeros_path, none_path = build(command_file(tmp_path, features, physics_params), count=2)
    zero = torch.zeros(ENVS, JOINTS)
    for _ in range(12):
        q, qd, q_target, _, _ = random_command(rng)
        with_zeros = command_step(zeros_path, q, qd, q_target, zero, zero)
        without = command_step(none_path, q, qd, q_target)
        assert torch.equal(with_zeros.view(torch.int32), without.view(torch.int32))
        assert torch.equal(zeros_path.physical_effort.view(torch.int32), none_path.physical_effort.view(torch.int32))
    assert torch.equal(zeros_path.hidden_state, none_path.hidden_state)


@pytest.mark.unit
@pytest.mark.parametrize("index", [3, 4], ids=["velocity_target", "feed_forward"])
@pytest.mark.parametrize("value", [NAN, INF, -INF])
def test_nonfinite_command_gives_zero_effort_for_that_joint_counts_it_and_keeps_its_state(tmp_path, rng, index, value):
    guarded, clean = build(command_file(tmp_path), count=2)
    for _ in range(2):
        inputs = random_command(rng)
        command_step(guarded, *inputs)
        command_step(clean, *inputs)
    before = state_of(guarded)
    inputs = random_command(rng)
    bad = [x.clone() for x in inputs]
    bad[index][BAD_ENV, BAD_JOINT] = value

    tau = command_step(guarded, *bad)
    tau_clean = command_step(clean, *inputs)

    assert torch.isfinite(tau).all() and torch.isfinite(guarded.computed_effort).all()
    assert tau[BAD_ENV, BAD_JOINT] == 0.0 and tau_clean[BAD_ENV, BAD_JOINT] != 0.0
    assert torch.isfinite(guarded.physical_effort).all()
    others = torch.ones(ENVS, JOINTS, dtype=torch.bool)
    others[BAD_ENV, BAD_JOINT] = False
    torch.testing.assert_close(tau[others], tau_clean[others])
    assert guarded.num_nonfinite_inputs == 1 and guarded.nonfinite_input_count.tolist() == [0, 0, 1, 0]
    assert guarded.num_nonfinite_outputs == 0
    for after, previous in zip(state_of(guarded), before, strict=True):
        assert torch.isfinite(after).all()
        torch.testing.assert_close(after[:, BAD_ENV, BAD_JOINT], previous[:, BAD_ENV, BAD_JOINT], rtol=0, atol=0)


@pytest.mark.unit
def test_masked_path_without_host_checks_guards_the_command_too(tmp_path, rng):
    host, masked = build(command_file(tmp_path), count=2)
    masked._host_checks = False  # the GPU path: always masked, no host reads
    for t in range(4):
        inputs = [x.clone() for x in random_command(rng)]
        if t == 1:
            inputs[3][0, 1] = NAN
        if t == 2:
            inputs[4][2, 3] = -INF
        tau = command_step(masked, *inputs)
        torch.testing.assert_close(tau, command_step(host, *inputs))
        assert (tau[0, 1] == 0.0) == (t == 1) and (tau[2, 3] == 0.0) == (t == 2)
    assert masked.num_nonfinite_inputs == host.num_nonfinite_inputs == 2


@pytest.mark.unit
@pytest.mark.parametrize(
    "index, quantity", [(3, "velocity target"), (4, "feed-forward effort")], ids=["velocity_target", "feed_forward"]
)
def test_raise_mode_names_the_bad_command_term(tmp_path, rng, index, quantity):
    actuator = build(command_file(tmp_path), nonfinite="raise")
    command_step(actuator, *random_command(rng))
    steps = actuator._step_count
    inputs = [x.clone() for x in random_command(rng)]
    inputs[index][BAD_ENV, BAD_JOINT] = NAN
    with pytest.raises(NonFiniteActuatorError) as error:
        command_step(actuator, *inputs)
    assert f"non-finite {quantity} at env ids [{BAD_ENV}] of joints ['joint_{BAD_JOINT}']" in str(error.value)
    assert actuator._step_count == steps


@pytest.mark.unit
def test_only_one_command_term_given(tmp_path, rng):
    """The actions may carry a velocity target without an effort target, or the reverse (None: zero)."""
    actuator = build(command_file(tmp_path))
    q, qd, q_target, qd_target, tau_ff = random_command(rng)
    command_step(actuator, q, qd, q_target, qd_target, None)
    torch.testing.assert_close(actuator.physical_effort, expected_physics(actuator, q, qd, q_target, qd_target, None))
    command_step(actuator, q, qd, q_target, None, tau_ff)
    torch.testing.assert_close(actuator.physical_effort, expected_physics(actuator, q, qd, q_target, None, tau_ff))
    row = actuator._input[FEATURES.index("qd_target")]
    assert torch.equal(row, torch.zeros_like(row))


"""
Real simulator: Isaac Lab's articulation passes its velocity and effort targets to the actuator.
"""

Q, QD, Q_TARGET = 0.1, 0.2, 0.3  # joint state and position target of the simulator check [rad, rad/s, rad]


def _bench_physics_and_efforts(tmp_path, commands):
    """On the one-joint bench (2 envs, Python path): after each ``(velocity target, effort target)`` pair of (2,)
    tensors, the actuator's physics torque, applied effort, input count and its net input rows."""
    actuator_cfg = CombinedGRUAndPDActuatorCfg(joint_names_expr=[".*"], network_file=command_file(tmp_path), **LIMITS)
    results = []
    with bench_scene(tmp_path, actuator_cfg, num_envs=2, dt=DT) as (scene, sim):
        robot = scene["robot"]
        actuator = robot.actuators["legs"]
        for velocity_target, effort_target in commands:
            robot.write_joint_position_to_sim_index(position=torch.full((2, 1), Q))
            robot.write_joint_velocity_to_sim_index(velocity=torch.full((2, 1), QD))
            scene.update(0.0)
            command = robot.actuators.target_command
            command.set_position_index(value=torch.full((2, 1), Q_TARGET))
            command.set_velocity_index(value=velocity_target.view(2, 1))
            command.set_effort_index(value=effort_target.view(2, 1))
            scene.write_data_to_sim()  # computes the actuator torque at the state written above
            rows = actuator._input.view(len(FEATURES), 2, 1)
            results.append(
                {
                    "tau_phys": actuator.physical_effort[:, 0].clone(),
                    "applied": actuator.applied_effort[:, 0].clone(),
                    "bad_inputs": actuator.num_nonfinite_inputs,
                    "rows": {name: rows[i, :, 0].clone() for i, name in enumerate(FEATURES)},
                    "actuator": actuator,
                }
            )
            sim.step()
    return results


@pytest.mark.integration
def test_articulation_velocity_and_effort_targets_reach_the_gru_pd_torque_on_the_real_simulator(tmp_path):
    velocity_target, effort_target = torch.tensor([0.5, -0.4]), torch.tensor([0.7, -0.2])
    zero = torch.zeros(2)
    commands = [
        (zero, zero),  # Isaac Lab's defaults
        (velocity_target, effort_target),
        (torch.tensor([NAN, -0.4]), effort_target),  # env 0: NaN velocity target
        (velocity_target, torch.tensor([0.7, INF])),  # env 1: infinite effort target
    ]
    default, given, nan_velocity, inf_effort = _bench_physics_and_efforts(tmp_path, commands)
    actuator = given["actuator"]
    state = [torch.full((2, 1), x) for x in (Q, QD, Q_TARGET)]

    def expected(qd_target, tau_ff):
        command = [None if x is None else x.view(2, 1) for x in (qd_target, tau_ff)]
        return expected_physics(actuator, *state, *command).view(2)

    torch.testing.assert_close(default["tau_phys"], expected(None, None), rtol=0, atol=1e-6)
    torch.testing.assert_close(given["tau_phys"], expected(velocity_target, effort_target), rtol=0, atol=1e-6)
    assert (given["tau_phys"] - default["tau_phys"]).abs().min() > 0.1  # kd dqd* + tau_ff acted
    torch.testing.assert_close(given["rows"]["qd_target"], velocity_target, rtol=0, atol=0)
    torch.testing.assert_close(given["rows"]["tau_ff"], effort_target, rtol=0, atol=0)
    assert default["bad_inputs"] == given["bad_inputs"] == 0
    # a non-finite velocity or effort target: zero effort for that env's joint, counted; the other env as given
    assert nan_velocity["applied"][0] == 0.0 and torch.isfinite(nan_velocity["applied"]).all()
    assert nan_velocity["applied"][1] != 0.0 and nan_velocity["bad_inputs"] == 1
    assert inf_effort["applied"][1] == 0.0 and torch.isfinite(inf_effort["applied"]).all()
    assert inf_effort["applied"][0] != 0.0 and inf_effort["bad_inputs"] == 2
