"""DriveLSTM / DriveMLP vs LSTMActuatorNet / MLPActuatorNet: same efforts over 1000 steps with resets and rate holds.

The drives run on Newton's flat per-slot arrays (non-identity joint indices, as in a simulator with a floating base),
with per-slot motor limits of two motor types and per-slot resets; the references are the Python-path actuators on
``(envs, joints)`` tensors with per-env resets.
"""

import numpy as np
import pytest
import torch
import warp as wp

from learned_actuators.actuators import LSTMActuatorNetCfg, MLPActuatorNetCfg
from learned_actuators.newton_drives import DriveLSTM, DriveMLP
from tests.actuators.helpers import LSTMNet, make_actuator, save
from tests.newton_drives.helpers import PHYSICS_DT, torch_step, trajectory

pytestmark = pytest.mark.unit

ENVS, JOINTS, STEPS = 6, 3, 1000
TOLERANCE = 1e-4  # N·m
BASE = 7  # leading entries of the simulator arrays that are not our slots (a floating base)
SATURATION = {"joint_0": 10.0, "joint_1": 10.0, "joint_2": 20.0}
LIMITS = {"saturation_effort": SATURATION, "actuator_velocity_limit": 25.0, "actuator_effort_limit": 9.0}


def _resets(steps, envs, seed=1):
    rng = np.random.default_rng(seed)
    return {s: sorted(rng.choice(envs, rng.integers(1, envs), replace=False).tolist()) for s in range(7, steps, 37)}


def _lstm_file(tmp_path, dt=0.02):
    torch.manual_seed(0)
    meta = {"input_mean": [0.05, -0.2], "input_std": [0.4, 5.0], "output_std": 4.0, "output_mean": 0.3}
    return save(tmp_path, "lstm.pt", LSTMNet(5, 2), model_type="lstm", dt=dt, features=["pos_error", "qd"], **meta)


def _mlp_file(tmp_path, dt=0.015):
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Softsign(), torch.nn.Linear(8, 1))
    meta = {"input_idx": [0, 2, 4], "pos_scale": 4.0, "vel_scale": 0.1, "torque_scale": 12.0, "input_order": "vel_pos"}
    return save(tmp_path, "mlp.pt", net, model_type="mlp", dt=dt, features=["pos_error", "qd"], **meta)


class _Runner:
    """The drive on ``ENVS * JOINTS`` slots behind ``BASE`` other entries, with one state."""

    def __init__(self, drive_class, path, **kwargs):
        n = ENVS * JOINTS
        saturation = np.tile([SATURATION[f"joint_{j}"] for j in range(JOINTS)], ENVS).astype(np.float32)
        self.drive = drive_class(
            path, wp.array(saturation), wp.full(n, 25.0, dtype=wp.float32), wp.full(n, 9.0, dtype=wp.float32), **kwargs
        )
        self.drive.finalize(wp.get_device("cpu"), n)
        self.state = self.drive.state(n, wp.get_device("cpu"))
        self.indices = wp.array(np.arange(BASE, BASE + n, dtype=np.uint32))
        self.forces = wp.zeros(n, dtype=wp.float32)

    def step(self, q, qd, q_target) -> np.ndarray:
        arrays = [wp.array(np.concatenate([np.zeros(BASE, np.float32), x.reshape(-1)])) for x in (q, qd, q_target)]
        i = self.indices
        self.drive.compute(*arrays, None, None, i, i, i, i, self.forces, self.state, PHYSICS_DT)
        return self.forces.numpy().reshape(ENVS, JOINTS).copy()

    def reset(self, env_ids) -> None:
        mask = np.zeros((ENVS, JOINTS), dtype=bool)
        mask[env_ids] = True
        self.state.reset(wp.array(mask.reshape(-1), dtype=wp.bool))


def _compare(reference, ours, steps=STEPS, nan_at=None):
    q, qd, qt = trajectory(steps, ENVS, JOINTS)
    if nan_at is not None:  # a non-finite input on one joint of one env for one step
        q[nan_at, 1, 2] = np.nan
    resets = _resets(steps, ENVS)
    error, peak = 0.0, 0.0
    for s in range(steps):
        if s in resets:
            reference.reset(resets[s])
            ours.reset(resets[s])
        expected = torch_step(reference, q[s], qd[s], qt[s])
        got = ours.step(q[s], qd[s], qt[s])
        error = max(error, float(np.abs(got - expected).max()))
        peak = max(peak, float(np.abs(expected).max()))
    return error, peak


def test_lstm_drive_matches_the_python_actuator_over_1000_steps(tmp_path):
    path = _lstm_file(tmp_path)  # net dt 0.02 s = 4 physics steps: held 3 of 4
    cfg = LSTMActuatorNetCfg(joint_names_expr=[".*"], network_file=path, physics_dt=PHYSICS_DT, **LIMITS)
    reference = make_actuator(cfg, num_envs=ENVS, num_joints=JOINTS)
    ours = _Runner(DriveLSTM, path)
    error, peak = _compare(reference, ours, nan_at=300)
    assert ours.drive.actuator.steps_per_network_step == reference.steps_per_network_step == 4
    assert peak > 5.0  # the clip is reached (stall torques 10 and 20, continuous limit 9)
    assert error <= TOLERANCE, error
    assert ours.drive.num_nonfinite_inputs == reference.num_nonfinite_inputs == 1
    hidden = ours.drive.actuator.hidden_state_per_env.reshape(2, ENVS, JOINTS, -1)
    np.testing.assert_allclose(hidden.numpy(), reference.hidden_state_per_env.numpy(), atol=TOLERANCE)


@pytest.mark.parametrize("curve", ["dc_motor", "asymmetric"])
def test_mlp_drive_matches_the_python_actuator_over_1000_steps(tmp_path, curve):
    path = _mlp_file(tmp_path)  # net dt 0.015 s = 3 physics steps, history slots 0, 2, 4 net steps ago
    cfg = MLPActuatorNetCfg(
        joint_names_expr=[".*"], network_file=path, physics_dt=PHYSICS_DT, torque_speed_curve=curve, **LIMITS
    )
    reference = make_actuator(cfg, num_envs=ENVS, num_joints=JOINTS)
    ours = _Runner(DriveMLP, path, torque_speed_curve=curve)
    error, peak = _compare(reference, ours, nan_at=500)
    assert ours.drive.actuator.steps_per_network_step == 3 and ours.drive.actuator.history_length == 5
    assert peak > 5.0
    assert error <= TOLERANCE, error


def test_mlp_drive_takes_the_conventions_of_a_file_without_them(tmp_path):
    """A net without metadata: conventions and net dt as drive arguments (what the USD attributes carry)."""
    torch.manual_seed(2)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1))
    path = str(tmp_path / "bare.pt")
    torch.jit.save(torch.jit.script(net.eval()), path)
    conventions = {"pos_scale": -1.0, "vel_scale": 0.2, "torque_scale": 5.0, "input_order": "pos_vel"}
    cfg = MLPActuatorNetCfg(
        joint_names_expr=[".*"],
        network_file=path,
        physics_dt=PHYSICS_DT,
        network_dt=0.01,
        input_idx=[0, 1],
        **conventions,
        **LIMITS,
    )
    reference = make_actuator(cfg, num_envs=ENVS, num_joints=JOINTS)
    ours = _Runner(DriveMLP, path, network_dt=0.01, input_idx=(0, 1), **conventions)
    error, _ = _compare(reference, ours, steps=200)
    assert error <= TOLERANCE, error


def test_net_drive_rejects_a_physics_dt_that_is_not_a_divisor_of_the_net_dt(tmp_path):
    from learned_actuators.network_file import NetworkFileError

    ours = _Runner(DriveLSTM, _lstm_file(tmp_path, dt=0.012))
    with pytest.raises(NetworkFileError, match="not a whole multiple of the physics dt"):
        ours.step(*(np.zeros((ENVS, JOINTS), np.float32) for _ in range(3)))


def test_net_drive_requires_a_stall_torque():
    with pytest.raises(ValueError, match="saturation_effort"):
        DriveLSTM.resolve_arguments({"network_file": "net.pt"})
