"""NaN/inf joint positions, velocities and targets never reach the effort, the net or its state (cfg ``nonfinite``)."""

import pytest
import torch

from learned_actuators.actuators import (
    CombinedGRUAndPDActuatorCfg,
    LSTMActuatorNetCfg,
    MLPActuatorNetCfg,
    NonFiniteActuatorError,
)
from tests.actuators.helpers import GRUNet, LSTMNet, linear_mlp, make_actuator, save, step

pytestmark = pytest.mark.unit

ENVS, JOINTS = 3, 4
BAD_ENV, BAD_JOINT = 1, 2
# limits that clip some of the random efforts below, so the final clip at the current velocity matters
LIMITS = {"saturation_effort": 6.0, "actuator_velocity_limit": 8.0, "actuator_effort_limit": 5.0}
NAN, INF = float("nan"), float("inf")
# (quantity as named by the error, index in (q, qd, q_target), value)
BAD_INPUTS = {
    "nan_q": ("position", 0, NAN),
    "nan_qd": ("velocity", 1, NAN),
    "nan_target": ("target", 2, NAN),
    "inf_q": ("position", 0, INF),
    "neg_inf_qd": ("velocity", 1, -INF),
}


def gru_cfg(tmp_path, **kwargs):
    path = save(
        tmp_path,
        "gru.pt",
        GRUNet(3, 5, 2),
        model_type="gru_pd",
        dt=0.005,
        features=["q", "q_target", "qd"],
        hidden_size=5,
        num_layers=2,
        input_mean=[0.0, 0.0, 0.0],
        input_std=[0.5, 0.5, 3.0],
        output_std=1.5,
        physics={"kp": 20.0, "kd": 0.5, "k_spring": -1.0, "theta0": 0.1, "stall_torque": 6.0, "no_load_speed": 8.0},
    )
    return CombinedGRUAndPDActuatorCfg(
        joint_names_expr=[".*"], network_file=path, physics_dt=0.005, **{**LIMITS, **kwargs}
    )


def lstm_cfg(tmp_path, **kwargs):
    path = save(tmp_path, "lstm.pt", LSTMNet(5, 2), model_type="lstm", dt=0.005, features=["pos_error", "qd"])
    return LSTMActuatorNetCfg(joint_names_expr=[".*"], network_file=path, physics_dt=0.005, **{**LIMITS, **kwargs})


def mlp_cfg(tmp_path, **kwargs):
    path = save(
        tmp_path,
        "mlp.pt",
        linear_mlp([8.0, 4.0, 0.3, -0.2]),  # depends on the newest and the previous history slot
        model_type="mlp",
        dt=kwargs.get("network_dt", 0.005),
        features=["pos_error", "qd"],
        input_idx=[0, 1],
    )
    return MLPActuatorNetCfg(joint_names_expr=[".*"], network_file=path, physics_dt=0.005, **{**LIMITS, **kwargs})


CFGS = {"gru_pd": gru_cfg, "lstm": lstm_cfg, "mlp": mlp_cfg}


def build(kind, tmp_path, count: int | None = None, **kwargs):
    """``count`` actuators (or one) built from one cfg, so from one saved net."""
    cfg = CFGS[kind](tmp_path, **kwargs)
    actuators = [make_actuator(cfg, num_envs=ENVS, num_joints=JOINTS) for _ in range(count or 1)]
    return actuators if count else actuators[0]


def random_state(rng):
    return (
        0.4 * torch.randn(ENVS, JOINTS, generator=rng),
        2.0 * torch.randn(ENVS, JOINTS, generator=rng),
        0.4 * torch.randn(ENVS, JOINTS, generator=rng),
    )


def with_bad(inputs, index, value):
    bad = [x.clone() for x in inputs]
    bad[index][BAD_ENV, BAD_JOINT] = value
    return bad


def state_of(actuator) -> list[torch.Tensor]:
    """The net state per (env, joint), as tensors whose dims 1 and 2 are (env, joint)."""
    if hasattr(actuator, "hidden_state_per_env"):
        states = [actuator.hidden_state_per_env.clone()]
        if actuator.cell_state_per_env is not None:
            states.append(actuator.cell_state_per_env.clone())
        return states
    window = torch.stack([actuator.joint_pos_error_history, actuator.joint_vel_history])  # (2, envs, slots, joints)
    return [window.permute(0, 1, 3, 2).clone()]  # (2, envs, joints, slots)


@pytest.mark.parametrize("bad", list(BAD_INPUTS))
@pytest.mark.parametrize("kind", list(CFGS))
def test_nonfinite_input_gives_zero_effort_for_that_joint_only_and_leaves_its_state(tmp_path, rng, kind, bad):
    _, index, value = BAD_INPUTS[bad]
    guarded, clean, never = build(kind, tmp_path, count=3)
    for _ in range(3):
        inputs = random_state(rng)
        for actuator in (guarded, clean, never):
            step(actuator, *inputs)
    before = state_of(guarded)
    inputs = random_state(rng)

    tau = step(guarded, *with_bad(inputs, index, value))
    tau_clean = step(clean, *inputs)

    assert torch.isfinite(tau).all()
    assert torch.isfinite(guarded.computed_effort).all() and torch.isfinite(guarded.applied_effort).all()
    assert tau[BAD_ENV, BAD_JOINT] == 0.0 and guarded.computed_effort[BAD_ENV, BAD_JOINT] == 0.0
    others = torch.ones(ENVS, JOINTS, dtype=torch.bool)
    others[BAD_ENV, BAD_JOINT] = False
    assert tau_clean[BAD_ENV, BAD_JOINT] != 0.0 and (tau_clean[others] != 0).all()
    torch.testing.assert_close(tau[others], tau_clean[others])
    assert guarded.num_nonfinite_inputs == 1
    assert guarded.nonfinite_input_count.tolist() == [0, 0, 1, 0]
    assert guarded.num_nonfinite_outputs == 0
    # the bad joint's state is exactly as before the step, the others advanced as in the clean run
    for after, previous, reference in zip(state_of(guarded), before, state_of(clean), strict=True):
        assert torch.isfinite(after).all()
        torch.testing.assert_close(after[:, BAD_ENV, BAD_JOINT], previous[:, BAD_ENV, BAD_JOINT], rtol=0, atol=0)
        torch.testing.assert_close(after[:, others], reference[:, others])

    # next finite step: the bad joint gives the torque of an actuator that never saw the bad step
    inputs = random_state(rng)
    tau = step(guarded, *inputs)
    torch.testing.assert_close(tau[BAD_ENV, BAD_JOINT], step(never, *inputs)[BAD_ENV, BAD_JOINT])
    torch.testing.assert_close(tau[others], step(clean, *inputs)[others])
    assert guarded.num_nonfinite_inputs == 1


@pytest.mark.parametrize("kind", ["gru_pd", "lstm"])
def test_module_path_keeps_the_state_of_a_joint_with_a_bad_input_too(tmp_path, rng, kind):
    guarded = build(kind, tmp_path, fused=False)
    assert not guarded.uses_fused_kernels
    step(guarded, *random_state(rng))
    before = state_of(guarded)
    step(guarded, *with_bad(random_state(rng), 1, NAN))
    for after, previous in zip(state_of(guarded), before, strict=True):
        assert torch.isfinite(after).all()
        torch.testing.assert_close(after[:, BAD_ENV, BAD_JOINT], previous[:, BAD_ENV, BAD_JOINT], rtol=0, atol=0)
        assert not torch.equal(after[:, 0, 0], previous[:, 0, 0])


@pytest.mark.parametrize("kind", list(CFGS))
def test_masked_path_without_host_checks_gives_the_same_efforts(tmp_path, rng, kind):
    # the GPU path (no host reads) always runs the masked code; on the CPU it must agree with the fast path
    host, masked = build(kind, tmp_path, count=2)
    masked._host_checks = False
    for t in range(4):
        inputs = random_state(rng)
        if t == 2:
            inputs = with_bad(inputs, 0, INF)
        torch.testing.assert_close(step(masked, *inputs), step(host, *inputs))
    assert masked.num_nonfinite_inputs == host.num_nonfinite_inputs == 1
    for a, b in zip(state_of(masked), state_of(host), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("kind", list(CFGS))
def test_all_inputs_bad_and_non_contiguous_inputs(tmp_path, rng, kind):
    actuator = build(kind, tmp_path)
    wide = torch.randn(ENVS, JOINTS + 2, generator=rng)
    q = wide[:, 1 : JOINTS + 1]  # a non-contiguous view, as Isaac Lab passes for a slice of joints
    q[0, 0] = NAN
    tau = step(actuator, q, torch.zeros(ENVS, JOINTS), torch.zeros(ENVS, JOINTS))
    assert tau[0, 0] == 0.0 and torch.isfinite(tau).all() and actuator.num_nonfinite_inputs == 1
    everything = torch.full((ENVS, JOINTS), NAN)
    tau = step(actuator, everything, everything, everything)
    assert (tau == 0).all() and (actuator.computed_effort == 0).all()
    assert actuator.num_nonfinite_inputs == 1 + ENVS * JOINTS
    assert actuator.nonfinite_input_count.tolist() == [1 + ENVS, ENVS, ENVS, ENVS]
    for state in state_of(actuator):
        assert torch.isfinite(state).all()


@pytest.mark.parametrize("bad", list(BAD_INPUTS))
@pytest.mark.parametrize("kind", list(CFGS))
def test_raise_mode_names_the_quantity_joint_and_env_and_changes_nothing(tmp_path, rng, kind, bad):
    quantity, index, value = BAD_INPUTS[bad]
    actuator = build(kind, tmp_path, nonfinite="raise")
    step(actuator, *random_state(rng))
    before, steps = state_of(actuator), actuator._step_count
    with pytest.raises(NonFiniteActuatorError) as error:
        step(actuator, *with_bad(random_state(rng), index, value))
    message = str(error.value)
    assert f"non-finite {quantity} at env ids [{BAD_ENV}] of joints ['joint_{BAD_JOINT}']" in message
    assert type(actuator).__name__ in message and actuator.cfg.network_file in message
    assert actuator._step_count == steps
    for after, previous in zip(state_of(actuator), before, strict=True):
        torch.testing.assert_close(after, previous, rtol=0, atol=0)
    assert actuator.num_nonfinite_inputs == 0


def test_raise_mode_lists_every_bad_quantity_and_caps_the_env_list(tmp_path, rng):
    actuator = make_actuator(lstm_cfg(tmp_path, nonfinite="raise"), num_envs=12, num_joints=2)
    q, qd, q_target = (torch.zeros(12, 2) for _ in range(3))
    qd[:, 1] = NAN
    q_target[3, 0] = INF
    with pytest.raises(NonFiniteActuatorError) as error:
        step(actuator, q, qd, q_target)
    message = str(error.value)
    assert "non-finite velocity at env ids [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ...] (12 envs) of joints ['joint_1']" in (
        message
    )
    assert "non-finite target at env ids [3] of joints ['joint_0']" in message
    assert "position" not in message


def test_raise_mode_on_a_nonfinite_net_output(tmp_path):
    path = save(
        tmp_path,
        "mlp.pt",
        linear_mlp([1.0, 0.0]),
        model_type="mlp",
        dt=0.005,
        features=["pos_error", "qd"],
        input_idx=[0],
    )
    cfg = MLPActuatorNetCfg(joint_names_expr=[".*"], network_file=path, physics_dt=0.005, nonfinite="raise", **LIMITS)
    actuator = make_actuator(cfg, num_envs=2, num_joints=2)
    q, q_target = torch.zeros(2, 2), torch.zeros(2, 2)
    q[1, 0], q_target[1, 0] = -3e38, 3e38  # finite, but q* - q overflows: the net output is inf
    with pytest.raises(NonFiniteActuatorError, match=r"non-finite net output at env ids \[1\] of joints \['joint_0'\]"):
        step(actuator, q, torch.zeros(2, 2), q_target)


def test_gru_pd_effort_that_overflows_from_finite_inputs_is_zeroed_and_counted(tmp_path, rng):
    actuator = build("gru_pd", tmp_path, pd_torque_speed_curve=False)
    q, qd, q_target = random_state(rng)
    q[0, 1], q_target[0, 1] = 3e38, -3e38  # kp (q* - q) overflows to -inf, the spring term to -inf too
    tau = step(actuator, q, qd, q_target)
    assert torch.isfinite(tau).all() and torch.isfinite(actuator.computed_effort).all()
    assert tau[0, 1] == 0.0
    assert actuator.num_nonfinite_inputs == 0
    assert actuator.nonfinite_output_count.tolist() == [0, 1, 0, 0]
    with pytest.raises(NonFiniteActuatorError, match=r"non-finite effort at env ids \[0\] of joints \['joint_1'\]"):
        step(build("gru_pd", tmp_path, pd_torque_speed_curve=False, nonfinite="raise"), q, qd, q_target)


@pytest.mark.parametrize("mode", ["residual", "direct"])
def test_slow_net_drops_the_held_output_of_a_bad_joint_until_its_next_step(tmp_path, rng, mode):
    # net dt 4 physics steps: a bad input on a physics step between net steps gives zero effort on that step; the
    # held output of that joint is dropped until the next net step (GRU-PD: tau_phys, the pure nets: zero)
    gru = save(
        tmp_path,
        "gru_slow.pt",
        GRUNet(3, 4, 1),
        model_type="gru_pd",
        dt=0.02,
        mode=mode,
        features=["q", "q_target", "qd"],
        physics={"kp": 20.0, "kd": 0.5},
    )
    wide = {"saturation_effort": 1e4, "actuator_velocity_limit": 1e4, "actuator_effort_limit": 1e4}
    gru_pd = make_actuator(
        CombinedGRUAndPDActuatorCfg(joint_names_expr=[".*"], network_file=gru, physics_dt=0.005, **wide),
        num_envs=ENVS,
        num_joints=JOINTS,
    )
    mlp = build("mlp", tmp_path, network_dt=0.02)
    assert gru_pd.steps_per_network_step == mlp.steps_per_network_step == 4
    q, qd, q_target = random_state(rng)
    step(gru_pd, q, qd, q_target)  # net step
    step(mlp, q, qd, q_target)
    assert mlp.computed_effort[BAD_ENV, BAD_JOINT] != 0
    bad = with_bad((q, qd, q_target), 0, NAN)
    assert step(gru_pd, *bad)[BAD_ENV, BAD_JOINT] == 0.0
    assert step(mlp, *bad)[BAD_ENV, BAD_JOINT] == 0.0
    step(gru_pd, q, qd, q_target)
    tau_phys = 20.0 * (q_target - q) - 0.5 * qd
    torch.testing.assert_close(gru_pd.computed_effort[BAD_ENV, BAD_JOINT], tau_phys[BAD_ENV, BAD_JOINT])
    assert step(mlp, q, qd, q_target)[BAD_ENV, BAD_JOINT] == 0.0
    step(gru_pd, q, qd, q_target)
    step(gru_pd, q, qd, q_target)  # the next net step: the net's output again
    assert gru_pd.network_output[BAD_ENV, BAD_JOINT] != 0.0
    assert not gru_pd._nonfinite.any()
