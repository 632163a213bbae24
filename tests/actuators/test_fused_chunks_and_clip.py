"""Column-chunked fused kernels, the in-place motor clip and the NaN guard's fast path."""

import pytest
import torch

from isaaclab.actuators import ActuatorNetMLPCfg

from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg, LSTMActuatorNetCfg, MLPActuatorNetCfg, fused_nets
from learned_actuators.physics import torque_speed_limits
from tests.actuators.helpers import GRUNet, PoleGRUNet, linear_mlp, make_actuator, save, shared_nets, step

pytestmark = pytest.mark.unit

ENVS, JOINTS = 37, 3  # 111 rows: one full 64-column chunk and a partial one of 47
WIDE = {"saturation_effort": 1e4, "actuator_effort_limit": 1e4, "actuator_velocity_limit": 1e4}


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(fused_nets, "CHUNK_BYTES", 1)  # chunk_columns() then gives its minimum, 64 columns
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # chunking applies to single-threaded torch only
    yield
    torch.set_num_threads(threads)


def test_no_chunking_with_several_threads():
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert fused_nets.chunk_columns(rows=400, batch=49152) == 49152
        torch.set_num_threads(1)
        assert fused_nets.chunk_columns(rows=400, batch=49152) < 49152
    finally:
        torch.set_num_threads(threads)


def random_inputs(rng, shape):
    return (
        0.3 * torch.randn(shape, generator=rng),
        4.0 * torch.randn(shape, generator=rng),
        0.3 * torch.randn(shape, generator=rng),
    )


def assert_chunked_fused_matches_module(fused, module, rng, atol):
    assert fused.uses_fused_kernels and not module.uses_fused_kernels
    assert fused._fused.chunk < ENVS * JOINTS
    for t in range(5):
        q, qd, qt = random_inputs(rng, (ENVS, JOINTS))
        torch.testing.assert_close(step(fused, q, qd, qt), step(module, q, qd, qt), atol=atol, rtol=1e-5)
        if t == 2:
            fused.reset([0, 36])
            module.reset([0, 36])


@pytest.mark.parametrize("compile", [False, True])
def test_chunked_fused_mlp_matches_the_torchscript_module(small_chunks, rng, compile):
    common = {
        "joint_names_expr": [".*"],
        "network_file": str(shared_nets() / "unitree_go1.pt"),
        "pos_scale": -1.0,
        "vel_scale": 1.0,
        "torque_scale": 1.0,
        "input_order": "pos_vel",
        "input_idx": [0, 1, 2],
        "physics_dt": 0.005,
        "network_dt": 0.005,
        **WIDE,
    }
    fused = make_actuator(MLPActuatorNetCfg(**common, compile=compile), num_envs=ENVS, num_joints=JOINTS)
    module = make_actuator(MLPActuatorNetCfg(**common, fused=False), num_envs=ENVS, num_joints=JOINTS)
    assert fused.uses_compiled_kernels == compile  # compiled: once per chunk width (64 and the partial 47)
    assert_chunked_fused_matches_module(fused, module, rng, atol=2e-5)


def test_chunked_fused_lstm_matches_the_torchscript_module(small_chunks, rng):
    common = {
        "joint_names_expr": [".*"],
        "network_file": str(shared_nets() / "anydrive_v3_lstm.pt"),
        "physics_dt": 0.005,
        "network_dt": 0.005,
        **WIDE,
    }
    fused = make_actuator(LSTMActuatorNetCfg(**common), num_envs=ENVS, num_joints=JOINTS)
    module = make_actuator(LSTMActuatorNetCfg(**common, fused=False), num_envs=ENVS, num_joints=JOINTS)
    assert_chunked_fused_matches_module(fused, module, rng, atol=5e-5)
    torch.testing.assert_close(fused.hidden_state, module.hidden_state, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(fused.cell_state, module.cell_state, atol=1e-5, rtol=1e-5)


def test_chunked_fused_two_layer_gru_pd_matches_the_torchscript_module(tmp_path, small_chunks, rng):
    torch.manual_seed(3)
    path = save(
        tmp_path,
        "gru.pt",
        GRUNet(3, 5, 2),
        model_type="gru_pd",
        dt=0.005,
        features=["q", "q_target", "qd"],
        hidden_size=5,
        num_layers=2,
        input_mean=[0.1, 0.0, -0.5],
        input_std=[0.5, 0.5, 4.0],
        output_std=2.0,
        output_mean=0.3,
        physics={"kp": 20.0, "kd": 0.5, "k_spring": -1.0, "theta0": 0.2, "stall_torque": 10.0, "no_load_speed": 20.0},
    )
    common = {
        "joint_names_expr": [".*"],
        "network_file": path,
        "physics_dt": 0.005,
        "saturation_effort": 10.0,
        "actuator_velocity_limit": 20.0,
        "actuator_effort_limit": 8.0,
    }
    fused = make_actuator(CombinedGRUAndPDActuatorCfg(**common), num_envs=ENVS, num_joints=JOINTS)
    module = make_actuator(CombinedGRUAndPDActuatorCfg(**common, fused=False), num_envs=ENVS, num_joints=JOINTS)
    assert_chunked_fused_matches_module(fused, module, rng, atol=2e-5)
    torch.testing.assert_close(fused.hidden_state, module.hidden_state, atol=1e-5, rtol=1e-5)


def effort_grid():
    """q* - q of -40..40 N·m (the linear net outputs it) against velocities -30..30 rad/s, as (9, 13) grids."""
    effort = torch.linspace(-40.0, 40.0, 9).reshape(9, 1).expand(9, 13).contiguous()
    velocity = torch.linspace(-30.0, 30.0, 13).reshape(1, 13).expand(9, 13).contiguous()
    return effort, velocity


def identity_mlp_file(tmp_path):
    return save(
        tmp_path,
        "identity.pt",
        linear_mlp([1.0, 0.0]),
        model_type="mlp",
        dt=0.005,
        features=["pos_error", "qd"],
        input_idx=[0],
    )


def test_dc_motor_clip_matches_stock_actuator_net_mlp_past_the_corner_velocity(tmp_path):
    # continuous limit 15 < stall 20: corner velocity 10 * (1 + 15 / 20) = 17.5 rad/s lies inside the grid
    limits = {"saturation_effort": 20.0, "actuator_effort_limit": 15.0, "actuator_velocity_limit": 10.0}
    common = {"joint_names_expr": [".*"], "network_file": identity_mlp_file(tmp_path), **limits}
    conventions = {"pos_scale": 1.0, "vel_scale": 1.0, "torque_scale": 1.0, "input_order": "pos_vel", "input_idx": [0]}
    ours = make_actuator(MLPActuatorNetCfg(**common, physics_dt=0.005), num_envs=9, num_joints=13)
    stock = make_actuator(ActuatorNetMLPCfg(**common, **conventions), num_envs=9, num_joints=13)
    effort, velocity = effort_grid()
    zeros = torch.zeros_like(effort)
    tau = step(ours, zeros, velocity, effort)
    torch.testing.assert_close(tau, step(stock, zeros, velocity, effort), atol=2e-5, rtol=1e-5)
    assert (tau.abs() < effort.abs()).any() and (tau == effort).any()  # the grid clips some efforts, not all


def test_asymmetric_clip_matches_the_physics_torque_speed_curve_and_effort_limit(tmp_path):
    limits = {"saturation_effort": 20.0, "actuator_effort_limit": 15.0, "actuator_velocity_limit": 10.0}
    cfg = MLPActuatorNetCfg(
        joint_names_expr=[".*"],
        network_file=identity_mlp_file(tmp_path),
        physics_dt=0.005,
        torque_speed_curve="asymmetric",
        **limits,
    )
    actuator = make_actuator(cfg, num_envs=9, num_joints=13)
    effort, velocity = effort_grid()
    lower, upper = torque_speed_limits(velocity, 20.0, 10.0)
    expected = torch.maximum(torch.minimum(effort, upper.clamp(max=15.0)), lower.clamp(min=-15.0))
    torch.testing.assert_close(step(actuator, torch.zeros_like(effort), velocity, effort), expected)


def test_a_finite_step_after_a_nonfinite_one_uses_the_net_again(tmp_path):
    # direct mode: the flagged joint falls back to tau_phys for one step only
    path = save(
        tmp_path,
        "pole.pt",
        PoleGRUNet(3, 4),
        model_type="gru_pd",
        dt=0.005,
        features=["q", "q_target", "qd"],
        mode="direct",
        physics={"kp": 20.0, "kd": 0.5},
    )
    cfg = CombinedGRUAndPDActuatorCfg(joint_names_expr=[".*"], network_file=path, physics_dt=0.005, **WIDE)
    actuator = make_actuator(cfg, num_envs=1, num_joints=2)
    qt, qd = torch.tensor([[0.5, 0.5]]), torch.zeros(1, 2)
    tau = step(actuator, torch.tensor([[0.0, 1.0]]), qd, qt)  # joint 1 hits the pole
    assert tau[0, 1] == pytest.approx(20.0 * (0.5 - 1.0))
    tau = step(actuator, torch.tensor([[0.0, 0.9]]), qd, qt)
    torch.testing.assert_close(tau, actuator.network_output)
    assert tau[0, 1] != pytest.approx(20.0 * (0.5 - 0.9))
    assert actuator.nonfinite_output_count.tolist() == [0, 1]
    assert not actuator._nonfinite.any()
