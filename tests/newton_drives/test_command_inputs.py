"""DriveGRUPD takes Newton's whole command: ``target_vel`` and ``feedforward``, read at ``target_vel_indices``.

Both backends (the Warp kernels, run on Warp's CPU device, and the CPU torch backend) against the Python-path
:class:`~learned_actuators.actuators.CombinedGRUAndPDActuator` with the same velocity and effort targets, on
simulator-like arrays (a floating base before the joints: 7 coordinates, 6 velocities, so position-shaped and
velocity-shaped indices differ, as in Newton).
"""

import numpy as np
import pytest
import torch
import warp as wp

from learned_actuators import physics
from learned_actuators.newton_drives import DriveGRUPD, kernels
from tests.actuators.test_command_inputs import command_step
from tests.newton_drives.helpers import LIMITS, PHYSICS_DT, GRUNet, gru_file, torch_actuator, trajectory

pytestmark = pytest.mark.unit

ENVS, JOINTS, STEPS = 4, 3, 240
N = ENVS * JOINTS
BASE_Q, BASE_QD = 7, 6  # floating-base entries before the joints in joint_q / joint_qd (and the target arrays)
TOLERANCE = 1e-4  # N·m
FEATURES = ["q", "qd", "q_target", "qd_target", "tau_ff", "tau_pd", "tau_phys"]
NAN, INF = float("nan"), float("inf")


def command_net_file(tmp_path, mode="residual"):
    """GRU-PD file with the command features, net dt 2 physics steps (held every other call)."""
    torch.manual_seed(4)
    return gru_file(tmp_path, net=GRUNet(len(FEATURES), 5, 2), features=FEATURES, dt=2 * PHYSICS_DT, mode=mode)


class CommandRunner:
    """A :class:`DriveGRUPD` on simulator-shaped arrays: joint ``k`` at ``BASE_Q + k`` (positions, position targets)
    and ``BASE_QD + k`` (velocities, velocity targets, feed-forward)."""

    def __init__(self, path, feedforward=True, **kwargs):
        kwargs.setdefault("saturation_effort", wp.full(N, LIMITS["saturation_effort"], dtype=wp.float32))
        kwargs.setdefault("velocity_limit", wp.full(N, LIMITS["actuator_velocity_limit"], dtype=wp.float32))
        kwargs.setdefault("max_motor_effort", wp.full(N, LIMITS["actuator_effort_limit"], dtype=wp.float32))
        self.drive = DriveGRUPD(path, **kwargs)
        self.drive.finalize(wp.get_device("cpu"), N)
        self.state = self.drive.state(N, wp.get_device("cpu"))
        self.pos_indices = wp.array(BASE_Q + np.arange(N, dtype=np.uint32))
        self.vel_indices = wp.array(BASE_QD + np.arange(N, dtype=np.uint32))
        self.forces = wp.zeros(N, dtype=wp.float32)
        self.feedforward = feedforward

    @staticmethod
    def _array(x, base) -> wp.array:
        flat = np.full(base + N, 123.0, dtype=np.float32)  # base entries: not ours, must not be read
        flat[base:] = np.asarray(x, dtype=np.float32).reshape(-1)
        return wp.array(flat)

    def step(self, q, qd, q_target, qd_target, tau_ff) -> np.ndarray:
        """Effort (ENVS, JOINTS); ``tau_ff`` is passed as None when the runner has no feed-forward."""
        positions, target_pos = self._array(q, BASE_Q), self._array(q_target, BASE_Q)
        velocities, target_vel = self._array(qd, BASE_QD), self._array(qd_target, BASE_QD)
        feedforward = self._array(tau_ff, BASE_QD) if self.feedforward else None
        p, v = self.pos_indices, self.vel_indices
        args = (positions, velocities, target_pos, target_vel, feedforward, p, v, p, v, self.forces, self.state)
        self.drive.compute(*args, PHYSICS_DT)
        return self.forces.numpy().reshape(ENVS, JOINTS).copy()

    def reset(self, env_ids) -> None:
        mask = np.zeros((ENVS, JOINTS), dtype=bool)
        mask[env_ids] = True
        self.state.reset(wp.array(mask.reshape(-1), dtype=wp.bool))

    def hidden_per_env(self) -> np.ndarray:
        return self.state.hidden_per_env(ENVS)


def command_trajectory(steps, seed=0):
    """Joint trajectories plus velocity targets and feed-forward torques, (steps, ENVS, JOINTS) each."""
    q, qd, q_target = trajectory(steps, ENVS, JOINTS, seed=seed)
    rng = np.random.default_rng(seed + 1)
    qd_target = (qd + rng.normal(0.0, 2.0, qd.shape)).astype(np.float32)
    tau_ff = rng.normal(0.0, 1.5, qd.shape).astype(np.float32)
    return q, qd, q_target, qd_target, tau_ff


def reference_step(actuator, *inputs) -> np.ndarray:
    return command_step(actuator, *(torch.as_tensor(x) for x in inputs)).numpy()


@pytest.mark.parametrize("mode", ["residual", "direct"])
def test_drive_matches_the_python_path_with_velocity_targets_and_feed_forward(tmp_path, mode, drive_backend):
    path = command_net_file(tmp_path, mode)
    reference, ours = torch_actuator(path, ENVS, JOINTS), CommandRunner(path)
    assert ours.drive.backend == drive_backend
    plain = torch_actuator(path, ENVS, JOINTS)  # the same state without the command terms
    trajectories = command_trajectory(STEPS)
    resets = {s: [s % ENVS] for s in range(11, STEPS, 41)}
    error, command_effect, physics_effect = 0.0, 0.0, 0.0
    for s in range(STEPS):
        if s in resets:
            reference.reset(resets[s])
            ours.reset(resets[s])
            plain.reset(resets[s])
        inputs = [x[s] for x in trajectories]
        expected = reference_step(reference, *inputs)
        got = ours.step(*inputs)
        error = max(error, float(np.abs(got - expected).max()))
        without = reference_step(plain, *inputs[:3])
        command_effect = max(command_effect, float(np.abs(expected - without).max()))
        physics_effect = max(physics_effect, float((reference.physical_effort - plain.physical_effort).abs().max()))
        tau_phys = ours.drive.tau_phys.numpy().reshape(ENVS, JOINTS)
        np.testing.assert_allclose(tau_phys, reference.physical_effort.numpy(), atol=TOLERANCE)
    assert physics_effect > 1.0 and command_effect > 0.05  # the velocity target and the feed-forward act
    assert error <= TOLERANCE, error
    hidden_error = float(np.abs(ours.hidden_per_env() - reference.hidden_state_per_env.numpy()).max())
    assert hidden_error <= TOLERANCE, hidden_error
    assert ours.drive.num_nonfinite_inputs == 0


@pytest.mark.usefixtures("drive_backend")
def test_no_feed_forward_array_is_a_zero_feed_forward(tmp_path):
    path = command_net_file(tmp_path)
    with_zeros, without = CommandRunner(path), CommandRunner(path, feedforward=False)
    q, qd, q_target, qd_target, _ = command_trajectory(20)
    zero = np.zeros((ENVS, JOINTS), dtype=np.float32)
    for s in range(20):
        np.testing.assert_array_equal(
            with_zeros.step(q[s], qd[s], q_target[s], qd_target[s], zero),
            without.step(q[s], qd[s], q_target[s], qd_target[s], zero),
        )
    np.testing.assert_array_equal(with_zeros.hidden_per_env(), without.hidden_per_env())


@pytest.mark.usefixtures("drive_backend")
@pytest.mark.parametrize("index", [3, 4], ids=["target_vel", "feedforward"])
@pytest.mark.parametrize("value", [NAN, INF])
def test_nonfinite_command_gives_zero_effort_keeps_the_state_and_is_counted(tmp_path, index, value):
    path = command_net_file(tmp_path)
    ours, clean = CommandRunner(path), CommandRunner(path)
    trajectories = command_trajectory(6)
    bad_env, bad_joint = 2, 1
    for s in range(6):
        inputs = [x[s].copy() for x in trajectories]
        expected = clean.step(*inputs)
        before = ours.hidden_per_env()
        if s == 4:  # a net step (net dt = 2 physics steps)
            inputs[index][bad_env, bad_joint] = value
        got = ours.step(*inputs)
        assert np.isfinite(got).all()
        if s == 4:
            assert got[bad_env, bad_joint] == 0.0 and expected[bad_env, bad_joint] != 0.0
            hidden = ours.hidden_per_env()
            np.testing.assert_array_equal(hidden[:, bad_env, bad_joint], before[:, bad_env, bad_joint])
            assert ours.drive.tau_phys.numpy().reshape(ENVS, JOINTS)[bad_env, bad_joint] == 0.0
            got[bad_env, bad_joint] = expected[bad_env, bad_joint]
        np.testing.assert_allclose(got, expected, atol=TOLERANCE)
    counts = ours.drive.nonfinite_input_count.numpy().reshape(ENVS, JOINTS)
    assert counts[bad_env, bad_joint] == 1 and ours.drive.num_nonfinite_inputs == 1
    assert ours.drive.num_nonfinite_outputs == 0


@pytest.mark.usefixtures("drive_backend")
def test_randomised_extra_friction_does_not_revive_a_joint_with_a_bad_command(tmp_path):
    from learned_actuators.actuators.randomization import ActuatorRandomization, ActuatorRandomizationCfg

    path = command_net_file(tmp_path)
    ours = CommandRunner(path)
    cfg = ActuatorRandomizationCfg(friction_range=(0.2, 0.4))
    slot_map = torch.arange(N).view(ENVS, JOINTS)
    drive = ours.drive
    drive.randomization = ActuatorRandomization(
        cfg, slot_map, {"kp": wp.to_torch(drive.kp), "kd": wp.to_torch(drive.kd)}, "drive"
    )
    torch.manual_seed(0)
    drive.randomization.draw(None)
    inputs = [x[0].copy() for x in command_trajectory(1)]
    inputs[3][0, 0] = NAN
    inputs[4][3, 2] = -INF
    got = ours.step(*inputs)
    assert got[0, 0] == 0.0 and got[3, 2] == 0.0
    assert np.count_nonzero(got) == N - 2 and drive.num_nonfinite_inputs == 2


@wp.kernel(enable_backward=False)
def _pd_and_physics(x: wp.array2d[float], use_curve: int, tau_pd: wp.array[float], tau: wp.array[float]):
    i = wp.tid()
    q = x[0, i]
    qd = x[1, i]
    qt = x[2, i]
    kp = x[3, i]
    kd = x[4, i]
    tau_pd[i] = kernels.pd_torque(q, qd, qt, kp, kd, x[5, i], x[6, i])
    tau[i] = kernels.physical_torque(q, qd, qt, kp, kd, -1.5, 0.1, 9.0, 12.0, use_curve, 0.2, 0.3, x[5, i], x[6, i])


@pytest.mark.parametrize("use_curve", [0, 1])
def test_warp_pd_and_physics_funcs_take_the_command_as_the_torch_formulas(use_curve):
    g = torch.Generator().manual_seed(use_curve)
    size = 1024
    cols = [torch.randn(size, generator=g), 10.0 * torch.randn(size, generator=g), torch.randn(size, generator=g)]
    cols += [40.0 * torch.rand(size, generator=g), 2.0 * torch.rand(size, generator=g)]
    cols += [10.0 * torch.randn(size, generator=g), 5.0 * torch.randn(size, generator=g)]  # qd_target, tau_ff
    q, qd, qt, kp, kd, qd_target, tau_ff = cols
    x = wp.array(torch.stack(cols).numpy(), dtype=wp.float32, device="cpu")
    tau_pd, tau = (wp.zeros(size, dtype=wp.float32, device="cpu") for _ in range(2))
    wp.launch(_pd_and_physics, dim=size, inputs=[x, use_curve, tau_pd, tau], device="cpu")
    expected_pd = physics.pd_torque(q, qd, qt, kp, kd, qd_target=qd_target, tau_ff=tau_ff)
    curve = (9.0, 12.0) if use_curve else (None, None)
    command = {"qd_target": qd_target, "tau_ff": tau_ff}
    expected = physics.physical_torque(q, qd, qt, kp, kd, -1.5, 0.1, *curve, 0.2, 0.3, **command)
    np.testing.assert_allclose(tau_pd.numpy(), expected_pd.numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(tau.numpy(), expected.numpy(), rtol=1e-5, atol=1e-4)
    without = physics.pd_torque(q, qd, qt, kp, kd)
    assert float((expected_pd - without).abs().median()) > 1.0  # the command terms are exercised


@pytest.mark.usefixtures("drive_backend")
def test_the_drive_delays_the_whole_command(tmp_path):
    """A delay of d physics steps: the drive equals an undelayed actuator fed q*, qd* and tau_ff d steps late."""
    from learned_actuators.actuators.randomization import ActuatorRandomization, ActuatorRandomizationCfg

    delay, steps = 2, 12
    path = command_net_file(tmp_path)
    reference, ours = torch_actuator(path, ENVS, JOINTS), CommandRunner(path)
    slot_map = torch.arange(ENVS * JOINTS).view(ENVS, JOINTS)
    gains = {"kp": wp.to_torch(ours.drive.kp), "kd": wp.to_torch(ours.drive.kd)}
    randomization = ActuatorRandomization(ActuatorRandomizationCfg(delay_range=(delay, delay)), slot_map, gains, "d")
    randomization.draw(None)
    ours.drive.randomization = randomization
    q, qd, q_target, qd_target, tau_ff = command_trajectory(steps)
    for s in range(steps):
        late = max(s - delay, 0)
        expected = reference_step(reference, q[s], qd[s], q_target[late], qd_target[late], tau_ff[late])
        got = ours.step(q[s], qd[s], q_target[s], qd_target[s], tau_ff[s])
        np.testing.assert_allclose(got, expected, atol=TOLERANCE)
