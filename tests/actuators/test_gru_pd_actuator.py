import pytest
import torch

from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg
from tests.actuators.helpers import GRUNet, PoleGRUNet, constant_gru, make_actuator, save, step

pytestmark = pytest.mark.unit

FEATURES = ["q", "q_target", "qd"]
PHYSICS = {"kp": 20.0, "kd": 0.5, "k_spring": -2.0, "theta0": 0.1, "stall_torque": 10.0, "no_load_speed": 20.0}


def gru_cfg(path, **kwargs):
    defaults = {
        "joint_names_expr": [".*"],
        "network_file": path,
        "physics_dt": 0.005,
        "saturation_effort": 10.0,
        "actuator_velocity_limit": 20.0,
        "actuator_effort_limit": 100.0,
    }
    return CombinedGRUAndPDActuatorCfg(**{**defaults, **kwargs})


def constant_file(tmp_path, mode="residual", value=0.25):
    # normalised output 0.25 -> 0.25 * 2.0 + 0.1 = 0.6 N·m
    return save(
        tmp_path,
        "const.pt",
        constant_gru(value),
        model_type="gru_pd",
        dt=0.005,
        features=FEATURES,
        mode=mode,
        hidden_size=4,
        num_layers=1,
        input_mean=[0.0] * 3,
        input_std=[1.0] * 3,
        output_std=2.0,
        output_mean=0.1,
        physics=PHYSICS,
    )


# four joints, one per torque-speed quadrant; q = 0 so the spring gives -2 * (0 - 0.1) = +0.2 N·m
Q = torch.zeros(1, 4)
Q_TARGET = torch.tensor([[1.0, -1.0, -1.0, 1.0]])
QD = torch.tensor([[10.0, 10.0, -10.0, -10.0]])
# tau_pd = 20 * q_target - 0.5 * qd = [15, -25, -15, 25]
# curve at |qd| = 10: motoring limit 10 * (1 - 10/20) = 5, braking limit 10
# saturated PD = [5 (motoring +), -10 (braking), -5 (motoring -), 10 (braking)]


def test_gru_pd_residual_torque_equals_hand_computation_in_each_quadrant(tmp_path):
    actuator = make_actuator(gru_cfg(constant_file(tmp_path)), num_envs=1, num_joints=4)
    tau = step(actuator, Q, QD, Q_TARGET)
    # tau_phys + residual = saturated + 0.2 + 0.6, then final asymmetric clip at qd (upper/lower as above)
    expected = torch.tensor([[5.0, -10.0 + 0.8, -5.0 + 0.8, 10.0]])
    torch.testing.assert_close(actuator.physical_effort, torch.tensor([[5.2, -9.8, -4.8, 10.2]]))
    torch.testing.assert_close(tau, expected)


def test_gru_pd_coulomb_friction_from_the_file_and_its_cfg_override(tmp_path):
    path = save(
        tmp_path,
        "friction.pt",
        constant_gru(0.0),
        model_type="gru_pd",
        dt=0.005,
        features=FEATURES,
        hidden_size=4,
        num_layers=1,
        input_mean=[0.0] * 3,
        input_std=[1.0] * 3,
        physics={**PHYSICS, "friction": 0.3, "friction_velocity": 5.0},
    )
    actuator = make_actuator(gru_cfg(path), num_envs=1, num_joints=4)
    step(actuator, Q, QD, Q_TARGET)
    # saturated PD + spring as in the quadrant test, minus 0.3 tanh(qd / 5) = 0.3 tanh(+-2) = +-0.28921
    friction = 0.3 * torch.tanh(torch.tensor(2.0))
    expected = torch.tensor([[5.2, -9.8, -4.8, 10.2]]) - friction * torch.tensor([[1.0, 1.0, -1.0, -1.0]])
    torch.testing.assert_close(actuator.physical_effort, expected)
    without = make_actuator(gru_cfg(path, coulomb_friction=0.0), num_envs=1, num_joints=4)
    step(without, Q, QD, Q_TARGET)
    torch.testing.assert_close(without.physical_effort, torch.tensor([[5.2, -9.8, -4.8, 10.2]]))


def test_gru_pd_isaac_lab_friction_field_is_solver_friction_not_the_coulomb_term(tmp_path, caplog):
    # cfg.friction is Isaac Lab's joint friction (written into the solver by its actuator collection): it must
    # neither replace nor add to the torque's Coulomb term, which comes from coulomb_friction / physics.friction
    path = save(
        tmp_path,
        "friction.pt",
        constant_gru(0.0),
        model_type="gru_pd",
        dt=0.005,
        features=FEATURES,
        hidden_size=4,
        num_layers=1,
        input_mean=[0.0] * 3,
        input_std=[1.0] * 3,
        physics={**PHYSICS, "friction": 0.3, "friction_velocity": 5.0},
    )
    reference = make_actuator(gru_cfg(path), num_envs=1, num_joints=4)
    step(reference, Q, QD, Q_TARGET)
    assert not hasattr(reference, "friction")  # Isaac Lab's name is not reused for the torque's term
    torch.testing.assert_close(reference.coulomb_friction, torch.full((1, 4), 0.3))
    for solver_friction, warns in ((0.0, False), (0.05, True)):
        caplog.clear()
        actuator = make_actuator(gru_cfg(path, friction=solver_friction), num_envs=1, num_joints=4)
        step(actuator, Q, QD, Q_TARGET)
        torch.testing.assert_close(actuator.physical_effort, reference.physical_effort)
        torch.testing.assert_close(actuator.coulomb_friction, torch.full((1, 4), 0.3))
        assert ("Isaac Lab's joint friction" in caplog.text) is warns


def test_gru_pd_without_curve_is_plain_pd_plus_spring_plus_residual(tmp_path):
    cfg = gru_cfg(
        constant_file(tmp_path),
        pd_torque_speed_curve=False,
        torque_speed_curve="dc_motor",
        saturation_effort=1000.0,
        actuator_velocity_limit=1000.0,
        actuator_effort_limit=1000.0,
    )
    actuator = make_actuator(cfg, num_envs=1, num_joints=4)
    tau = step(actuator, Q, QD, Q_TARGET)
    torch.testing.assert_close(tau, torch.tensor([[15.8, -24.2, -14.2, 25.8]]))


def test_gru_pd_direct_mode_outputs_the_denormalised_net_torque(tmp_path):
    actuator = make_actuator(gru_cfg(constant_file(tmp_path, mode="direct", value=1.0)), num_envs=1, num_joints=4)
    tau = step(actuator, Q, QD, Q_TARGET)
    # 1.0 * 2.0 + 0.1 = 2.1 N·m everywhere, inside every limit
    torch.testing.assert_close(tau, torch.full((1, 4), 2.1))


def test_gru_pd_residual_follows_a_reference_gru_over_steps(tmp_path, rng):
    net = GRUNet(3, 5, 2)
    mean, std = [0.1, -0.2, 0.5], [0.5, 0.4, 3.0]
    path = save(
        tmp_path,
        "gru.pt",
        net,
        model_type="gru_pd",
        dt=0.005,
        features=FEATURES,
        hidden_size=5,
        num_layers=2,
        input_mean=mean,
        input_std=std,
        output_std=1.5,
        output_mean=-0.3,
        physics={"kp": 20.0, "kd": 0.5},
    )
    big = {"saturation_effort": 1e4, "actuator_velocity_limit": 1e4, "actuator_effort_limit": 1e4}
    fused = make_actuator(gru_cfg(path, **big))
    module = make_actuator(gru_cfg(path, fused=False, **big))
    assert fused.uses_fused_kernels and not module.uses_fused_kernels
    h = torch.zeros(2, 6, 5)
    for _ in range(4):
        q, qd, qt = (torch.randn(2, 3, generator=rng) for _ in range(3))
        x = (torch.stack([q, qt, qd], -1).reshape(6, 1, 3) - torch.tensor(mean)) / torch.tensor(std)
        with torch.no_grad():
            y, h = net(x, h)
        residual = (y * 1.5 - 0.3).reshape(2, 3)
        tau_phys = 20.0 * (qt - q) - 0.5 * qd
        torch.testing.assert_close(step(fused, q, qd, qt), tau_phys + residual, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(step(module, q, qd, qt), tau_phys + residual, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(fused.hidden_state, h, atol=1e-5, rtol=1e-5)


def test_gru_pd_reset_zeroes_only_the_given_envs(tmp_path, rng):
    path = save(
        tmp_path,
        "gru.pt",
        GRUNet(3, 4, 2),
        model_type="gru_pd",
        dt=0.005,
        features=FEATURES,
        physics={"kp": 20.0, "kd": 0.5},
    )
    actuator = make_actuator(gru_cfg(path), num_envs=3)
    for _ in range(3):
        step(actuator, *(torch.randn(3, 3, generator=rng) for _ in range(3)))
    before = actuator.hidden_state_per_env.clone()
    assert (before.abs().sum(dim=(0, 2, 3)) > 0).all()
    actuator.reset([0])
    assert actuator.hidden_state_per_env[:, 0].abs().sum() == 0
    torch.testing.assert_close(actuator.hidden_state_per_env[:, 1:], before[:, 1:])
    actuator.reset(slice(1, 2))
    assert actuator.hidden_state_per_env[:, 1].abs().sum() == 0
    torch.testing.assert_close(actuator.hidden_state_per_env[:, 2], before[:, 2])
    actuator.reset(None)
    assert actuator.hidden_state.abs().sum() == 0


@pytest.mark.parametrize("mode", ["residual", "direct"])
def test_gru_pd_nonfinite_output_falls_back_to_physics_and_is_counted(tmp_path, mode):
    path = save(
        tmp_path,
        "pole.pt",
        PoleGRUNet(3, 4),
        model_type="gru_pd",
        dt=0.005,
        features=FEATURES,
        mode=mode,
        physics={"kp": 20.0, "kd": 0.5},
    )
    big = {"saturation_effort": 1e4, "actuator_velocity_limit": 1e4, "actuator_effort_limit": 1e4}
    actuator = make_actuator(gru_cfg(path, **big), num_envs=2, num_joints=2)
    q = torch.tensor([[0.0, 1.0], [0.2, 0.3]])  # env 0 joint 1 hits the pole (q = 1)
    qt = torch.tensor([[0.5, 0.5], [0.0, 0.0]])
    qd = torch.zeros(2, 2)
    tau = step(actuator, q, qd, qt)
    assert torch.isfinite(tau).all()
    assert tau[0, 1] == pytest.approx(20.0 * (0.5 - 1.0))
    assert tau[0, 0] != pytest.approx(20.0 * 0.5)  # healthy joints keep the net's contribution
    assert actuator.num_nonfinite_outputs == 1
    assert actuator.nonfinite_output_count.tolist() == [0, 1]
    assert actuator.hidden_state_per_env[:, 0, 1].abs().sum() == 0


def test_gru_pd_runs_our_exported_deploy_net_on_fused_kernels(tmp_path, rng):
    from learned_actuators.learning.models import GRUDeploy
    from learned_actuators.learning.models import GRUNet as TrainedGRU

    mean, std = [0.1, -0.2, 0.5], [0.5, 0.4, 3.0]
    deploy = GRUDeploy(TrainedGRU(3, 6, 2), mean, std, output_mean=-0.3, output_std=1.5).eval()
    path = save(
        tmp_path,
        "deploy.pt",
        deploy,
        model_type="gru_pd",
        dt=0.005,
        features=FEATURES,
        hidden_size=6,
        num_layers=2,
        normalization_in_network=True,
        physics={"kp": 20.0, "kd": 0.5},
    )
    big = {"saturation_effort": 1e4, "actuator_velocity_limit": 1e4, "actuator_effort_limit": 1e4}
    actuator = make_actuator(gru_cfg(path, **big))
    assert actuator.uses_fused_kernels
    h = torch.zeros(2, 6, 6)
    for _ in range(3):
        q, qd, qt = (torch.randn(2, 3, generator=rng) for _ in range(3))
        with torch.no_grad():
            y, h = deploy(torch.stack([q, qt, qd], -1).reshape(6, 1, 3), h)
        expected = 20.0 * (qt - q) - 0.5 * qd + y.reshape(2, 3)
        torch.testing.assert_close(step(actuator, q, qd, qt), expected, atol=1e-5, rtol=1e-5)


def test_gru_pd_saturates_pd_with_trained_curve_but_clips_total_at_motor_limits(tmp_path):
    # file curve: stall 10, no-load 20 (PHYSICS); motor: stall 40, no-load 40 -> the final clip is looser
    cfg = gru_cfg(constant_file(tmp_path), saturation_effort=40.0, actuator_velocity_limit=40.0)
    actuator = make_actuator(cfg, num_envs=1, num_joints=4)
    tau = step(actuator, Q, QD, Q_TARGET)
    # PD saturated by the trained curve as in the hand computation above; + spring 0.2 + residual 0.6
    torch.testing.assert_close(actuator.physical_effort, torch.tensor([[5.2, -9.8, -4.8, 10.2]]))
    # motor curve at |qd| = 10: motoring 40 * (1 - 10/40) = 30, braking 40 -> nothing is clipped
    torch.testing.assert_close(tau, torch.tensor([[5.8, -9.2, -4.2, 10.8]]))


def test_gru_pd_cfg_overrides_the_pd_curve_of_the_file(tmp_path):
    cfg = gru_cfg(constant_file(tmp_path), pd_stall_torque=4.0, pd_no_load_speed=20.0, saturation_effort=40.0)
    actuator = make_actuator(cfg, num_envs=1, num_joints=4)
    step(actuator, Q, QD, Q_TARGET)
    # curve stall 4 at |qd| = 10: motoring 2, braking 4 -> [2, -4, -2, 4] + spring 0.2
    torch.testing.assert_close(actuator.physical_effort, torch.tensor([[2.2, -3.8, -1.8, 4.2]]))


@pytest.mark.parametrize("field", ["coulomb_friction", "friction"])
def test_gru_pd_negative_coulomb_or_solver_friction_is_refused_naming_the_field(tmp_path, field):
    from learned_actuators.actuators import ActuatorCfgError

    with pytest.raises(ActuatorCfgError, match=f"cfg field '{field}'"):
        make_actuator(gru_cfg(constant_file(tmp_path), **{field: -0.1}), num_envs=1, num_joints=4)
