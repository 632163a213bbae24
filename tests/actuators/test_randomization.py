"""Actuator randomisation and input delay on the Python path: off is today's torques, draws, delay, gains, output."""

import numpy as np
import pytest
import torch

from learned_actuators.actuators import LSTMActuatorNetCfg
from learned_actuators.actuators.randomization import ActuatorRandomization, ActuatorRandomizationCfg
from learned_actuators.errors import UserInputError
from tests.actuators.helpers import LSTMNet, make_actuator, save
from tests.newton_drives.helpers import gru_file, torch_actuator, torch_step, trajectory

pytestmark = pytest.mark.unit

ENVS, JOINTS, STEPS = 5, 3, 160
FULL = ActuatorRandomizationCfg(
    kp_scale_range=(0.5, 1.5),
    kd_scale_range=(0.5, 1.5),
    torque_scale_range=(0.7, 1.3),
    friction_range=(0.0, 0.4),
    delay_range=(0, 3),
)


def _attach(actuator, cfg):
    slot_map = torch.arange(ENVS * JOINTS).view(ENVS, JOINTS)
    gains = {"kp": actuator.stiffness.view(-1), "kd": actuator.damping.view(-1)}
    actuator.randomization = ActuatorRandomization(cfg, slot_map, gains, "test actuator")
    return actuator.randomization


def _run(actuator, steps=STEPS, resets=None, feed=None):
    """Efforts (steps, envs, joints); ``feed(s, q_target)`` may replace the targets of step ``s``."""
    q, qd, qt = trajectory(steps, ENVS, JOINTS)
    out = []
    for s in range(steps):
        if resets and s in resets:
            actuator.reset(resets[s])
        target = qt[s] if feed is None else feed(s, qt)
        out.append(torch_step(actuator, q[s], qd[s], target))
    return np.stack(out)


@pytest.mark.parametrize(
    "cfg",
    [
        ActuatorRandomizationCfg(),
        ActuatorRandomizationCfg(
            kp_scale_range=(1.0, 1.0),
            kd_scale_range=(1.0, 1.0),
            torque_scale_range=(1.0, 1.0),
            friction_range=(0.0, 0.0),
            delay_range=(0, 0),
        ),
    ],
    ids=["all-off", "identity-ranges"],
)
def test_off_or_identity_randomisation_gives_todays_torques_bitwise(tmp_path, cfg):
    path = gru_file(tmp_path, physics={"kp": 20.0, "kd": 0.5, "friction": 0.2, "friction_velocity": 0.5})
    today = _run(torch_actuator(path, ENVS, JOINTS), resets={50: [1, 3]})
    actuator = torch_actuator(path, ENVS, JOINTS)
    _attach(actuator, cfg).draw(None)
    assert np.array_equal(_run(actuator, resets={50: [1, 3]}), today)
    assert np.abs(today).max() > 1.0


def test_parameters_differ_across_envs_stay_fixed_and_are_redrawn_only_for_the_envs_reset(tmp_path):
    actuator = torch_actuator(gru_file(tmp_path), ENVS, JOINTS)
    randomization = _attach(actuator, FULL)
    base_kp = actuator.stiffness.clone()
    torch.manual_seed(0)
    randomization.draw(None)
    first = {k: v.clone() for k, v in randomization.parameters().items()}
    for name, value in first.items():
        distinct = len({tuple(row.tolist()) for row in value})
        assert distinct == ENVS if name != "delay" else distinct > 1, name  # each env its own draw (delay: 0..3)
    torch.testing.assert_close(actuator.stiffness, base_kp * first["kp_scale"])
    _run(actuator, steps=20)  # an episode: nothing changes while stepping
    for name, value in randomization.parameters().items():
        assert torch.equal(value, first[name]), name
    randomization.draw(torch.tensor([1, 3]))
    after = randomization.parameters()
    kept = [0, 2, 4]
    for name, value in after.items():
        assert torch.equal(value[kept], first[name][kept]), name
        if name != "delay":  # integers in 0..3 may repeat; the continuous draws cannot
            assert not torch.equal(value[[1, 3]], first[name][[1, 3]]), name
    torch.testing.assert_close(actuator.stiffness, base_kp * after["kp_scale"])  # from the base, not compounded


@pytest.mark.parametrize("delay", [1, 3])
def test_a_delay_of_d_steps_equals_feeding_the_targets_d_steps_late(tmp_path, delay):
    """Exact: the delayed actuator vs an undelayed one fed q*(t - d), holding the episode's first target."""
    path = gru_file(tmp_path)
    resets = {70: list(range(ENVS))}
    delayed = torch_actuator(path, ENVS, JOINTS)
    _attach(delayed, ActuatorRandomizationCfg(delay_range=(delay, delay))).draw(None)

    def late(s, qt):
        start = max(r for r in [0, *resets] if r <= s)  # the episode's first step
        return qt[max(s - delay, start)]

    expected = _run(torch_actuator(path, ENVS, JOINTS), resets=resets, feed=late)
    got = _run(delayed, resets=resets)
    assert np.array_equal(got, expected)
    assert not np.array_equal(got, _run(torch_actuator(path, ENVS, JOINTS), resets=resets))


def test_gain_scales_equal_an_actuator_built_with_those_gains(tmp_path):
    path = gru_file(tmp_path, physics={"kp": 20.0, "kd": 0.5})
    scaled = torch_actuator(path, ENVS, JOINTS)
    _attach(scaled, ActuatorRandomizationCfg(kp_scale_range=(2.0, 2.0), kd_scale_range=(0.5, 0.5))).draw(None)
    reference = torch_actuator(path, ENVS, JOINTS, stiffness=40.0, damping=0.25)
    assert np.array_equal(_run(scaled), _run(reference))


def test_motor_strength_and_friction_act_on_the_clipped_torque(tmp_path):
    path = gru_file(tmp_path)
    plain, randomised = torch_actuator(path, ENVS, JOINTS), torch_actuator(path, ENVS, JOINTS)
    cfg = ActuatorRandomizationCfg(torque_scale_range=(0.5, 1.5), friction_range=(0.1, 0.5), friction_velocity=0.2)
    randomization = _attach(randomised, cfg)
    randomization.draw(None)
    params = randomization.parameters()
    q, qd, qt = trajectory(40, ENVS, JOINTS)
    for s in range(40):
        base = torch.as_tensor(torch_step(plain, q[s], qd[s], qt[s]))
        got = torch.as_tensor(torch_step(randomised, q[s], qd[s], qt[s]))
        expected = params["torque_scale"] * base - params["friction"] * torch.tanh(torch.as_tensor(qd[s]) / 0.2)
        torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-5)


def test_a_non_finite_input_keeps_zero_effort_with_randomisation(tmp_path):
    actuator = torch_actuator(gru_file(tmp_path), ENVS, JOINTS)
    _attach(actuator, FULL).draw(None)
    q, qd, qt = trajectory(5, ENVS, JOINTS)
    qd[4, 2, 1] = np.nan
    for s in range(5):
        effort = torch_step(actuator, q[s], qd[s], qt[s])
    assert effort[2, 1] == 0.0 and np.isfinite(effort).all()


def test_nets_without_a_prior_refuse_gain_ranges_and_take_the_rest(tmp_path):
    torch.manual_seed(0)
    path = save(tmp_path, "lstm.pt", LSTMNet(8, 2), model_type="lstm", dt=0.005, features=["pos_error", "qd"])
    cfg = LSTMActuatorNetCfg(
        joint_names_expr=[".*"],
        network_file=path,
        physics_dt=0.005,
        saturation_effort=20.0,
        actuator_velocity_limit=30.0,
    )
    actuator = make_actuator(cfg, num_envs=ENVS, num_joints=JOINTS)
    slot_map = torch.arange(ENVS * JOINTS).view(ENVS, JOINTS)
    with pytest.raises(UserInputError, match=r"kp_scale_range.*no physics prior"):
        ActuatorRandomization(FULL, slot_map, None, "lstm group")
    actuator.randomization = ActuatorRandomization(
        ActuatorRandomizationCfg(torque_scale_range=(2.0, 2.0)),
        torch.arange(ENVS * JOINTS).view(ENVS, JOINTS),
        None,
        "x",
    )
    plain = make_actuator(cfg, num_envs=ENVS, num_joints=JOINTS)
    actuator.randomization.draw(None)
    np.testing.assert_array_equal(_run(actuator, steps=10), 2.0 * _run(plain, steps=10))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("torque_scale_range", (0.0, 1.0), "0 < low <= high"),
        ("kp_scale_range", (1.2, 1.1), "0 < low <= high"),
        ("friction_range", (-0.1, 0.2), "0 <= low <= high"),
        ("delay_range", (0, 2.5), "integers"),
        ("delay_range", (3, 1), "integers"),
        ("friction_velocity", 0.0, "positive"),
        ("ensemble_member", "yes", "True or False"),
    ],
)
def test_bad_ranges_raise_a_user_error_naming_the_field(field, value, message):
    with pytest.raises(UserInputError, match=f"'{field}'.*{message}"):
        ActuatorRandomizationCfg(**{field: value}).check()


@pytest.mark.parametrize(("kind", "gains"), [("GRUPD", True), ("LSTM", False), ("MLP", False)])
def test_randomized_go2_tasks_add_the_reset_event_and_take_overrides(kind, gains):
    import learned_actuators.tasks  # noqa: F401
    from learned_actuators.actuators.randomization import randomize_actuators
    from learned_actuators.envs import load_task_cfgs

    task = f"LearnedActuators-Velocity-Flat-UnitreeGo2-{kind}-Randomized-Offline"
    key = "env.events.actuator_randomization.params.randomization.delay_range"
    env_cfg, _ = load_task_cfgs(task, overrides=[f"{key}=[0,4]"])
    term = env_cfg.events.actuator_randomization
    assert term.mode == "reset" and term.func is randomize_actuators
    randomization = term.params["randomization"]
    assert list(randomization.delay_range) == [0, 4] and randomization.torque_scale_range == (0.9, 1.1)
    assert (randomization.kp_scale_range is not None) == gains
    plain, _ = load_task_cfgs(task.replace("-Randomized", ""))
    assert getattr(plain.events, "actuator_randomization", None) is None


def test_the_delay_delays_the_whole_command(tmp_path):
    """Exact: velocity targets and feed-forward efforts are delayed with the position targets, as Newton's Delay."""
    from tests.actuators import test_command_inputs as cmd

    delay = 2
    delayed, reference = cmd.build(cmd.command_file(tmp_path), count=2)
    slot_map = torch.arange(cmd.ENVS * cmd.JOINTS).view(cmd.ENVS, cmd.JOINTS)
    gains = {"kp": delayed.stiffness.view(-1), "kd": delayed.damping.view(-1)}
    delayed.randomization = ActuatorRandomization(
        ActuatorRandomizationCfg(delay_range=(delay, delay)), slot_map, gains, "d"
    )
    delayed.randomization.draw(None)
    rng = torch.Generator().manual_seed(0)
    steps = [cmd.random_command(rng) for _ in range(8)]
    for s, (q, qd, q_target, qd_target, tau_ff) in enumerate(steps):
        late = steps[max(s - delay, 0)]
        got = cmd.command_step(delayed, q, qd, q_target, qd_target, tau_ff)
        assert torch.equal(got, cmd.command_step(reference, q, qd, *late[2:]))
