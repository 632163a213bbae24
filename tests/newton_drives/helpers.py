"""Helpers of the Newton drive tests: GRU-PD net files, the drive on identity indices, the torch reference."""

from __future__ import annotations

import numpy as np
import torch
import warp as wp

from learned_actuators.newton_drives import DriveGRUPD
from tests.actuators.helpers import GRUNet, make_actuator, save, step

FEATURES = ["q", "q_target", "qd"]
PHYSICS = {"kp": 20.0, "kd": 0.5, "k_spring": -2.0, "theta0": 0.1, "stall_torque": 10.0, "no_load_speed": 20.0}
LIMITS = {"saturation_effort": 12.0, "actuator_velocity_limit": 25.0, "actuator_effort_limit": 11.0}
PHYSICS_DT = 0.005


def gru_file(tmp_path, name="gru.pt", net=None, mode="residual", dt=0.02, features=FEATURES, physics=None, **meta):
    """A random GRU-PD net file with normalisation (default 2 layers x 5, residual, net dt 4 physics steps)."""
    features = list(features)
    if net is None:
        torch.manual_seed(0)
        net = GRUNet(len(features), 5, 2)
    defaults = {
        "model_type": "gru_pd",
        "dt": dt,
        "features": features,
        "mode": mode,
        "input_mean": [0.1 * (i % 3) - 0.1 for i in range(len(features))],
        "input_std": [0.5 + 0.5 * i for i in range(len(features))],
        "output_std": 1.5,
        "output_mean": -0.3,
        "physics": dict(PHYSICS if physics is None else physics),
    }
    return save(tmp_path, name, net, **{**defaults, **meta})


def pole_gru(hidden: int = 4) -> GRUNet:
    """A GRU net (of the supported form) whose output is +-inf where ``|q| > ~0.1`` and 0.25 where ``q == 0``.

    Only the candidate gate reads ``q`` (first feature, weight 10), the update gate is off (bias -20, so
    ``h = tanh(10 q)``) and the head weights are 1e38: the float32 output overflows for ``|q|`` near 1.
    """
    net = GRUNet(3, hidden, 1)
    with torch.no_grad():
        for tensor in net.gru.parameters():
            tensor.zero_()
        net.gru.weight_ih_l0[2 * hidden :, 0] = 10.0
        net.gru.bias_ih_l0[hidden : 2 * hidden] = -20.0
        net.head.weight.fill_(1e38)
        net.head.bias.fill_(0.25)
    return net


def torch_actuator(path, num_envs, num_joints, **cfg):
    from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg

    defaults = {"joint_names_expr": [".*"], "network_file": path, "physics_dt": PHYSICS_DT, **LIMITS}
    return make_actuator(CombinedGRUAndPDActuatorCfg(**{**defaults, **cfg}), num_envs=num_envs, num_joints=num_joints)


class DriveRunner:
    """A :class:`DriveGRUPD` on ``num_envs * num_joints`` slots with identity indices and one state."""

    def __init__(self, path, num_envs, num_joints, limits=LIMITS, **kwargs):
        n = num_envs * num_joints
        self.num_envs, self.num_joints, self.n = num_envs, num_joints, n
        if limits is not None:
            kwargs.setdefault("saturation_effort", wp.full(n, limits["saturation_effort"], dtype=wp.float32))
            kwargs.setdefault("velocity_limit", wp.full(n, limits["actuator_velocity_limit"], dtype=wp.float32))
            kwargs.setdefault("max_motor_effort", wp.full(n, limits["actuator_effort_limit"], dtype=wp.float32))
        self.drive = DriveGRUPD(path, **kwargs)
        self.drive.finalize(wp.get_device("cpu"), n)
        self.state = self.drive.state(n, wp.get_device("cpu"))
        self.indices = wp.array(np.arange(n, dtype=np.uint32))
        self.forces = wp.zeros(n, dtype=wp.float32)
        self._zeros = wp.zeros(n, dtype=wp.float32)

    def step(self, q, qd, q_target, dt=PHYSICS_DT) -> np.ndarray:
        """Effort (num_envs, num_joints) for torch/numpy inputs of that shape."""
        arrays = [wp.array(np.asarray(x, dtype=np.float32).reshape(-1)) for x in (q, qd, q_target)]
        i = self.indices
        self.drive.compute(*arrays[:2], arrays[2], self._zeros, None, i, i, i, i, self.forces, self.state, dt)
        return self.forces.numpy().reshape(self.num_envs, self.num_joints).copy()

    def reset(self, env_ids) -> None:
        mask = np.zeros((self.num_envs, self.num_joints), dtype=bool)
        mask[env_ids] = True
        self.state.reset(wp.array(mask.reshape(-1), dtype=wp.bool))

    def hidden_per_env(self) -> np.ndarray:
        return self.state.hidden_per_env(self.num_envs)


def torch_step(actuator, q, qd, q_target) -> np.ndarray:
    return step(actuator, *(torch.as_tensor(x, dtype=torch.float32) for x in (q, qd, q_target))).numpy().copy()


def trajectory(steps, num_envs, num_joints, seed=0):
    """Smooth random joint trajectories that sweep every torque-speed quadrant: (steps, envs, joints) each."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[:, None, None] * PHYSICS_DT
    freq = rng.uniform(0.5, 3.0, (1, num_envs, num_joints))
    phase = rng.uniform(0, 2 * np.pi, (1, num_envs, num_joints))
    q = 0.6 * np.sin(2 * np.pi * freq * t + phase) + 0.05 * rng.standard_normal((steps, num_envs, num_joints))
    qd = 0.6 * 2 * np.pi * freq * np.cos(2 * np.pi * freq * t + phase) * 4.0
    qd = qd + rng.standard_normal((steps, num_envs, num_joints))
    q_target = q + 0.4 * rng.standard_normal((steps, num_envs, num_joints))
    return q.astype(np.float32), qd.astype(np.float32), q_target.astype(np.float32)
