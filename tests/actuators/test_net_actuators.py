import pytest
import torch

from isaaclab.actuators import ActuatorNetLSTMCfg, ActuatorNetMLPCfg

from learned_actuators.actuators import ActuatorCfgError, LSTMActuatorNetCfg, MLPActuatorNetCfg
from tests.actuators.helpers import LSTMNet, linear_mlp, make_actuator, save, shared_nets, step

pytestmark = pytest.mark.unit

GO1_LIMITS = {"saturation_effort": 23.7, "actuator_effort_limit": 23.7, "actuator_velocity_limit": 30.0}
GO1_CONVENTIONS = {
    "pos_scale": -1.0,
    "vel_scale": 1.0,
    "torque_scale": 1.0,
    "input_order": "pos_vel",
    "input_idx": [0, 1, 2],
}
WIDE = {"saturation_effort": 1e4, "actuator_effort_limit": 1e4, "actuator_velocity_limit": 1e4}


def random_inputs(rng, shape):
    return (
        0.3 * torch.randn(shape, generator=rng),
        4.0 * torch.randn(shape, generator=rng),
        0.3 * torch.randn(shape, generator=rng),
    )


@pytest.mark.parametrize("compile", [False, True])
def test_mlp_matches_stock_actuator_net_mlp_on_walk_these_ways_go1_net(rng, compile):
    common = {
        "joint_names_expr": [".*"],
        "network_file": str(shared_nets() / "unitree_go1.pt"),
        **GO1_CONVENTIONS,
        **GO1_LIMITS,
    }
    cfg = MLPActuatorNetCfg(**common, physics_dt=0.005, network_dt=0.005, compile=compile)
    ours = make_actuator(cfg, num_envs=4, num_joints=12)
    stock = make_actuator(ActuatorNetMLPCfg(**common), num_envs=4, num_joints=12)
    assert ours.uses_fused_kernels and ours.uses_compiled_kernels == compile
    for t in range(6):
        q, qd, qt = random_inputs(rng, (4, 12))
        torch.testing.assert_close(step(ours, q, qd, qt), step(stock, q, qd, qt), atol=2e-5, rtol=1e-5)
        if t == 3:
            ours.reset([1])
            stock.reset([1])


def go1_mlp_cfg(**kwargs):
    return MLPActuatorNetCfg(
        joint_names_expr=[".*"],
        network_file=str(shared_nets() / "unitree_go1.pt"),
        physics_dt=0.005,
        network_dt=0.005,
        **GO1_CONVENTIONS,
        **GO1_LIMITS,
        **kwargs,
    )


def test_mlp_compile_without_fused_kernels_is_an_error():
    with pytest.raises(ActuatorCfgError, match="'compile' = True needs the fused kernels"):
        make_actuator(go1_mlp_cfg(fused=False, compile=True), num_envs=2, num_joints=12)


def test_mlp_compiles_by_default_from_the_auto_batch_size(monkeypatch):
    from learned_actuators.actuators import mlp_actuator

    monkeypatch.setattr(mlp_actuator, "AUTO_COMPILE_ROWS", 48)
    assert make_actuator(go1_mlp_cfg(), num_envs=4, num_joints=12).uses_compiled_kernels
    assert not make_actuator(go1_mlp_cfg(), num_envs=3, num_joints=12).uses_compiled_kernels
    assert not make_actuator(go1_mlp_cfg(compile=False), num_envs=4, num_joints=12).uses_compiled_kernels


def test_mlp_compile_failure_falls_back_in_auto_mode_and_raises_when_asked(monkeypatch, caplog):
    from learned_actuators.actuators import fused_nets, mlp_actuator

    def broken(self):
        def fail(z):
            raise OSError("no C++ compiler")

        self._compiled = fail

    monkeypatch.setattr(fused_nets.FusedMLP, "compile", broken)
    monkeypatch.setattr(mlp_actuator, "AUTO_COMPILE_ROWS", 48)
    actuator = make_actuator(go1_mlp_cfg(), num_envs=4, num_joints=12)
    assert actuator.uses_fused_kernels and not actuator.uses_compiled_kernels
    assert "no C++ compiler" in caplog.text and "eager fused kernels" in caplog.text
    with pytest.raises(
        RuntimeError, match=r"unitree_go1\.pt: compile=True but torch.compile failed .*no C\+\+ compiler"
    ):
        make_actuator(go1_mlp_cfg(compile=True), num_envs=4, num_joints=12)


def test_lstm_matches_stock_actuator_net_lstm_on_legged_gym_anydrive_net(rng):
    common = {
        "joint_names_expr": [".*"],
        "network_file": str(shared_nets() / "anydrive_v3_lstm.pt"),
        "saturation_effort": 120.0,
        "actuator_effort_limit": 80.0,
        "actuator_velocity_limit": 7.5,
    }
    ours = make_actuator(LSTMActuatorNetCfg(**common, physics_dt=0.005, network_dt=0.005), num_envs=4, num_joints=12)
    stock = make_actuator(ActuatorNetLSTMCfg(**common), num_envs=4, num_joints=12)
    assert ours.uses_fused_kernels
    for t in range(6):
        q, qd, qt = random_inputs(rng, (4, 12))
        torch.testing.assert_close(step(ours, q, qd, qt), step(stock, q, qd, qt), atol=5e-5, rtol=1e-5)
        torch.testing.assert_close(ours.hidden_state, stock.sea_hidden_state, atol=1e-5, rtol=1e-5)
        if t == 3:
            ours.reset([2])
            stock.reset([2])


def test_lstm_reproduces_the_published_anydrive_reference_sequence():
    # data README: constant inputs [q* - q, qd] = [[0.05, 0], [-0.05, 0], [0, 1]] with carried state
    expected = [
        [2.95391, -1.3582, -2.12516],
        [3.91897, -3.59439, -5.14198],
        [4.3245, -4.51339, -6.50038],
        [4.48478, -4.59736, -6.6637],
        [4.55792, -4.35957, -6.25592],
    ]
    cfg = LSTMActuatorNetCfg(
        joint_names_expr=[".*"],
        network_file=str(shared_nets() / "anydrive_v3_lstm.pt"),
        physics_dt=0.005,
        network_dt=0.005,
        **WIDE,
    )
    actuator = make_actuator(cfg, num_envs=1, num_joints=3)
    q = torch.zeros(1, 3)
    for row in expected:
        tau = step(actuator, q, torch.tensor([[0.0, 0.0, 1.0]]), torch.tensor([[0.05, -0.05, 0.0]]))
        torch.testing.assert_close(tau, torch.tensor([row]), atol=1e-4, rtol=1e-5)


def test_mlp_reproduces_the_published_go1_reference_outputs():
    # data README: rows [e_t, e_t-1, e_t-2, v_t, v_t-1, v_t-2] with e = q - q*; fed as three steps of history
    rows = [[-0.1] * 3 + [0.0] * 3, [0.1] * 3 + [0.0] * 3, [0.0] * 3 + [1.0] * 3, [0.0] * 3 + [-5.0] * 3]
    expected = torch.tensor([[1.89136, -1.87229, -0.75320, 4.16898]])
    cfg = MLPActuatorNetCfg(
        joint_names_expr=[".*"],
        network_file=str(shared_nets() / "unitree_go1.pt"),
        physics_dt=0.005,
        network_dt=0.005,
        **GO1_CONVENTIONS,
        **WIDE,
    )
    actuator = make_actuator(cfg, num_envs=1, num_joints=4)
    inputs = torch.tensor(rows)
    for lag in (2, 1, 0):
        e, v = inputs[:, lag][None], inputs[:, 3 + lag][None]
        tau = step(actuator, torch.zeros(1, 4), v, -e)  # q* - q = -e
    torch.testing.assert_close(tau, expected, atol=1e-4, rtol=1e-5)


def mlp_file(tmp_path, dt=0.02, weights=(1.0, 0.0, 0.0, 0.0), **meta):
    return save(
        tmp_path,
        "mlp.pt",
        linear_mlp(list(weights)),
        model_type="mlp",
        dt=dt,
        features=["pos_error", "qd"],
        input_idx=[0, 1],
        **meta,
    )


def test_mlp_runs_at_its_rate_and_holds_output_between_net_steps(tmp_path):
    # net = current position error; net dt 0.02 s at physics dt 0.005 s -> one net step every 4 physics steps
    cfg = MLPActuatorNetCfg(joint_names_expr=[".*"], network_file=mlp_file(tmp_path), physics_dt=0.005, **WIDE)
    actuator = make_actuator(cfg, num_envs=1, num_joints=1)
    assert actuator.steps_per_network_step == 4
    zero = torch.zeros(1, 1)
    outputs = [float(step(actuator, zero, zero, torch.full((1, 1), 0.1 * t))) for t in range(9)]
    assert outputs == pytest.approx([0.0] * 4 + [0.4] * 4 + [0.8])
    # the history advanced once per net step: newest 0.8 (step 8), then 0.4 (step 4)
    assert actuator.joint_pos_error_history[0, :, 0].tolist() == pytest.approx([0.8, 0.4])


def test_net_dt_not_a_multiple_of_physics_dt_raises(tmp_path):
    from learned_actuators.network_file import NetworkFileError

    cfg = MLPActuatorNetCfg(
        joint_names_expr=[".*"], network_file=mlp_file(tmp_path, dt=0.012), physics_dt=0.005, **WIDE
    )
    with pytest.raises(NetworkFileError, match="not a whole multiple"):
        make_actuator(cfg)


def test_mlp_history_reset_zeroes_only_the_given_envs(tmp_path, rng):
    cfg = MLPActuatorNetCfg(
        joint_names_expr=[".*"], network_file=mlp_file(tmp_path, dt=0.005), physics_dt=0.005, **WIDE
    )
    actuator = make_actuator(cfg, num_envs=3)
    for _ in range(3):
        step(actuator, *random_inputs(rng, (3, 3)))
    before_pos, before_vel = actuator.joint_pos_error_history.clone(), actuator.joint_vel_history.clone()
    actuator.reset(torch.tensor([0, 2]))
    assert actuator.joint_pos_error_history[[0, 2]].abs().sum() == 0
    assert actuator.joint_vel_history[[0, 2]].abs().sum() == 0
    torch.testing.assert_close(actuator.joint_pos_error_history[1], before_pos[1])
    torch.testing.assert_close(actuator.joint_vel_history[1], before_vel[1])
    # after the reset, env 0's first net step sees only zeros in its older slot
    step(actuator, *random_inputs(rng, (3, 3)))
    assert actuator.joint_pos_error_history[0, 1].abs().sum() == 0
    assert actuator.joint_pos_error_history[1, 1].abs().sum() > 0


def test_lstm_reset_zeroes_only_the_given_envs(tmp_path, rng):
    path = save(tmp_path, "lstm.pt", LSTMNet(), model_type="lstm", dt=0.005, features=["pos_error", "qd"])
    actuator = make_actuator(LSTMActuatorNetCfg(joint_names_expr=[".*"], network_file=path, physics_dt=0.005, **WIDE))
    for _ in range(3):
        step(actuator, *random_inputs(rng, (2, 3)))
    hidden, cell = actuator.hidden_state_per_env.clone(), actuator.cell_state_per_env.clone()
    actuator.reset([0])
    assert actuator.hidden_state_per_env[:, 0].abs().sum() == 0
    assert actuator.cell_state_per_env[:, 0].abs().sum() == 0
    torch.testing.assert_close(actuator.hidden_state_per_env[:, 1], hidden[:, 1])
    torch.testing.assert_close(actuator.cell_state_per_env[:, 1], cell[:, 1])


@pytest.mark.parametrize("qd, expected", [(5.0, 10.0), (-5.0, 20.0), (0.0, 20.0)])
def test_net_effort_is_clipped_at_the_current_velocity(tmp_path, qd, expected):
    # constant 100 N·m net; DC motor: stall 20, no-load 10 rad/s, continuous 20 -> upper = min(20 (1 - qd/10), 20)
    path = save(
        tmp_path,
        "mlp.pt",
        linear_mlp([0.0, 0.0], bias=100.0),
        model_type="mlp",
        dt=0.005,
        features=["pos_error", "qd"],
        input_idx=[0],
    )
    cfg = MLPActuatorNetCfg(
        joint_names_expr=[".*"],
        network_file=path,
        physics_dt=0.005,
        saturation_effort=20.0,
        actuator_effort_limit=20.0,
        actuator_velocity_limit=10.0,
    )
    actuator = make_actuator(cfg, num_envs=1, num_joints=1)
    tau = step(actuator, torch.zeros(1, 1), torch.full((1, 1), qd), torch.zeros(1, 1))
    assert float(tau) == pytest.approx(expected)


def test_mlp_nonfinite_output_gives_zero_torque_and_is_counted(tmp_path):
    path = mlp_file(tmp_path, dt=0.005)
    cfg = MLPActuatorNetCfg(joint_names_expr=[".*"], network_file=path, physics_dt=0.005, **WIDE)
    actuator = make_actuator(cfg, num_envs=1, num_joints=2)
    # finite inputs whose position error q* - q overflows float32: the net output is inf
    tau = step(actuator, torch.tensor([[-3e38, 0.0]]), torch.zeros(1, 2), torch.tensor([[3e38, 0.3]]))
    assert tau[0].tolist() == pytest.approx([0.0, 0.3])
    assert actuator.nonfinite_output_count.tolist() == [1, 0]
    assert actuator.num_nonfinite_inputs == 0
    assert actuator.joint_pos_error_history[0, :, 0].abs().sum() == 0  # that joint's history was cleared
