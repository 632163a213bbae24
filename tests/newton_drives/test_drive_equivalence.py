"""DriveGRUPD (Warp) vs CombinedGRUAndPDActuator (torch): same efforts over 1000 steps with resets and rate holds."""

import numpy as np
import pytest
import torch
import warp as wp

from tests.newton_drives.helpers import DriveRunner, GRUNet, gru_file, torch_actuator, torch_step, trajectory

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("drive_backend")]

ENVS, JOINTS, STEPS = 6, 3, 1000
TOLERANCE = 1e-4  # N·m


def _resets(steps, envs, seed=1):
    """Per step: env ids reset before it (about every 40 steps, random subsets, also mid net step)."""
    rng = np.random.default_rng(seed)
    return {s: sorted(rng.choice(envs, rng.integers(1, envs), replace=False).tolist()) for s in range(7, steps, 37)}


def _compare(path, steps=STEPS, drive_kwargs=None, **cfg):
    reference = torch_actuator(path, ENVS, JOINTS, **cfg)
    ours = DriveRunner(path, ENVS, JOINTS, **(drive_kwargs or {}))
    q, qd, qt = trajectory(steps, ENVS, JOINTS)
    resets = _resets(steps, ENVS)
    error = 0.0
    for s in range(steps):
        if s in resets:
            reference.reset(resets[s])
            ours.reset(resets[s])
        expected = torch_step(reference, q[s], qd[s], qt[s])
        got = ours.step(q[s], qd[s], qt[s])
        error = max(error, float(np.abs(got - expected).max()))
    hidden_error = float(np.abs(ours.hidden_per_env() - reference.hidden_state_per_env.numpy()).max())
    return error, hidden_error, reference, ours


@pytest.mark.parametrize("mode", ["residual", "direct"])
@pytest.mark.parametrize("friction", [0.0, 0.3])
def test_drive_matches_torch_actuator_over_1000_steps(tmp_path, mode, friction):
    physics = {"kp": 20.0, "kd": 0.5, "k_spring": -2.0, "theta0": 0.1, "stall_torque": 10.0, "no_load_speed": 20.0}
    if friction:
        physics.update(friction=friction, friction_velocity=0.5)
    path = gru_file(tmp_path, mode=mode, physics=physics)  # net dt 0.02 s = 4 physics steps: held 3 of 4
    error, hidden_error, reference, ours = _compare(path)
    assert reference.steps_per_network_step == ours.drive.steps_per_network_step == 4
    assert error <= TOLERANCE, error
    assert hidden_error <= TOLERANCE, hidden_error
    np.testing.assert_allclose(
        ours.drive.tau_phys.numpy().reshape(ENVS, JOINTS), reference.physical_effort.numpy(), atol=TOLERANCE
    )


def test_drive_matches_with_pd_features_dc_motor_clip_and_an_mlp_head(tmp_path):
    """All features, a two-layer head with an activation, one GRU layer, no PD curve, DC-motor final clip."""
    features = ["pos_error", "qd", "kp", "tau_pd", "tau_phys", "kd", "q", "q_target"]
    torch.manual_seed(3)
    net = GRUNet(len(features), 6, 1)
    net.head = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.Softsign(), torch.nn.Linear(4, 1))
    path = gru_file(tmp_path, net=net, features=features, dt=0.015, physics={"kp": 20.0, "kd": 0.5})
    error, hidden_error, reference, _ = _compare(
        path, drive_kwargs={"torque_speed_curve": "dc_motor"}, torque_speed_curve="dc_motor"
    )
    assert reference.steps_per_network_step == 3
    assert error <= TOLERANCE and hidden_error <= TOLERANCE, (error, hidden_error)


def test_drive_matches_at_the_physics_rate_with_cfg_overrides(tmp_path):
    """Net dt = physics dt (no hold); gains, spring and curve overridden per slot as a cfg would."""
    path = gru_file(tmp_path, dt=0.005)
    n = ENVS * JOINTS
    import warp as wp

    overrides = {"stiffness": 30.0, "damping": 0.8, "spring_stiffness": -1.0, "spring_rest_angle": 0.0}
    kwargs = {
        "kp": wp.full(n, 30.0, dtype=wp.float32),
        "kd": wp.full(n, 0.8, dtype=wp.float32),
        "spring_stiffness": wp.full(n, -1.0, dtype=wp.float32),
        "spring_rest_angle": wp.full(n, 0.0, dtype=wp.float32),
    }
    error, hidden_error, _, _ = _compare(path, steps=300, drive_kwargs=kwargs, **overrides)
    assert error <= TOLERANCE and hidden_error <= TOLERANCE, (error, hidden_error)


def test_drive_matches_torch_actuator_with_randomisation_and_delay_on(tmp_path):
    """Gains, motor strength, extra friction and delay drawn per env (same draws): same efforts, resets redraw."""
    from learned_actuators.actuators.randomization import ActuatorRandomization, ActuatorRandomizationCfg

    physics = {"kp": 20.0, "kd": 0.5, "stall_torque": 10.0, "no_load_speed": 20.0, "friction": 0.2}
    path = gru_file(tmp_path, physics=physics)
    cfg = ActuatorRandomizationCfg(
        kp_scale_range=(0.5, 1.5),
        kd_scale_range=(0.5, 1.5),
        torque_scale_range=(0.7, 1.3),
        friction_range=(0.0, 0.4),
        delay_range=(0, 3),
    )
    reference, ours = torch_actuator(path, ENVS, JOINTS), DriveRunner(path, ENVS, JOINTS)
    slot_map = torch.arange(ENVS * JOINTS).view(ENVS, JOINTS)
    reference.randomization = ActuatorRandomization(
        cfg, slot_map, {"kp": reference.stiffness.view(-1), "kd": reference.damping.view(-1)}, "torch"
    )
    drive = ours.drive
    drive.randomization = ActuatorRandomization(
        cfg, slot_map, {"kp": wp.to_torch(drive.kp), "kd": wp.to_torch(drive.kd)}, "drive"
    )

    def draw(env_ids, seed):
        for randomization in (reference.randomization, drive.randomization):
            torch.manual_seed(seed)
            randomization.draw(env_ids)

    draw(None, 0)
    q, qd, qt = trajectory(STEPS, ENVS, JOINTS)
    resets = _resets(STEPS, ENVS)
    error, plain = 0.0, DriveRunner(path, ENVS, JOINTS)
    differs = False
    for s in range(STEPS):
        if s in resets:
            reference.reset(resets[s])
            ours.reset(resets[s])
            plain.reset(resets[s])
            draw(resets[s], s)
        expected = torch_step(reference, q[s], qd[s], qt[s])
        got = ours.step(q[s], qd[s], qt[s])
        differs |= not np.allclose(got, plain.step(q[s], qd[s], qt[s]), atol=1e-3)
        error = max(error, float(np.abs(got - expected).max()))
    assert differs  # the randomisation acts
    assert error <= TOLERANCE, error
    np.testing.assert_array_equal(wp.to_torch(drive.kp).numpy(), reference.stiffness.view(-1).numpy())
