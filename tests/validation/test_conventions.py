"""Convention probe of third-party MLP nets (sign, history spacing, order), without the simulator."""

import numpy as np
import pytest
import torch

from learned_actuators.actuators import MLPActuatorNetCfg
from learned_actuators.data.joint_log import JointLog
from learned_actuators.errors import UserInputError
from learned_actuators.network_file import load_network
from learned_actuators.validation.conventions import Convention, convention_inputs, net_torque, probe_convention
from learned_actuators.validation.trajectories import TrajectoryBatch
from tests.actuators.helpers import make_actuator, shared_nets, step

pytestmark = pytest.mark.unit

WIDE = {"saturation_effort": 1e4, "actuator_effort_limit": 1e4, "actuator_velocity_limit": 1e4}


def _signals(n=1500, joints=2, dt=0.01, seed=0):
    """Smooth random state and commands with enough fast content that spacings and orders differ."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) * dt

    def smooth(scale):
        out = np.zeros((n, joints))
        for j in range(joints):
            freqs = rng.uniform(0.3, 8.0, 6)
            phases = rng.uniform(0, 2 * np.pi, 6)
            out[:, j] = scale * np.sin(2 * np.pi * freqs[None] * t[:, None] + phases).sum(1) / 3
        return out

    return t, smooth(0.4), smooth(0.4), smooth(3.0)


def _log_with_net(net, conv: Convention, dt=0.01, n=1500):
    """A log whose torque label is ``net`` run with convention ``conv`` (frames without a full history masked)."""
    t, q, qt, qd = _signals(n=n, dt=dt)
    log = JointLog(name="gen", source="gen.csv", t=t, q=q, q_target=qt, qd=qd, joint_names=["a", "b"])
    batch = TrajectoryBatch.from_logs([log])
    x, valid = convention_inputs(batch, conv)
    tau = np.zeros_like(q)
    tau[valid[0]] = net_torque(net, x).reshape(-1, 2)
    log.tau = tau
    log.valid = valid[0]
    return TrajectoryBatch.from_logs([log])


def test_probe_recovers_the_go1_nets_own_convention():
    net, _ = load_network(shared_nets() / "unitree_go1.pt")
    go1 = Convention(pos_scale=-1.0, spacing_s=0.02, input_order="pos_vel", history=3)
    probe = probe_convention(net, _log_with_net(net, go1))
    best = probe.rows[0]
    assert best["convention"].pos_scale == -1.0 and best["convention"].input_order == "pos_vel"
    assert best["convention"].spacing_s == pytest.approx(0.02)
    assert best["torque_rmse"] < 1e-4 and probe.rows[1]["torque_rmse"] > 100 * max(best["torque_rmse"], 1e-6)
    assert probe.best.spec("go1.pt") == "mlp:go1.pt,pos_scale=-1,input_order=pos_vel,input_idx=0,1,2,dt=0.02"
    # the trap: the Go1 convention is the wrong one for a net that takes q* - q
    flipped = {r["convention"].label: r["torque_rmse"] for r in probe.rows}
    assert flipped["e=q*-q, 0.02 s, pos_vel"] > 10 * best["torque_rmse"] + 0.1


def test_probe_recovers_a_synthetic_nets_convention():
    torch.manual_seed(3)
    net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).eval()
    truth = Convention(pos_scale=1.0, spacing_s=0.03, input_order="vel_pos", history=4)
    probe = probe_convention(net, _log_with_net(net, truth), max_spacing_s=0.06)
    assert probe.best == truth
    assert len(probe.rows) == 6 * 2 * 2  # spacings 0.01..0.06 s x sign x order, all on the same frames
    assert probe.rows[0]["scale"] == pytest.approx(1.0, abs=1e-4)


def test_probe_inputs_are_the_mlp_actuators_inputs():
    """The probe builds the history as MLPActuatorNet does (sign, spacing in net steps, order)."""
    path = str(shared_nets() / "unitree_go1.pt")
    net, _ = load_network(path)
    conv = Convention(pos_scale=-1.0, spacing_s=0.02, input_order="vel_pos", history=3)
    batch = _log_with_net(net, conv, n=60)
    cfg = MLPActuatorNetCfg(joint_names_expr=[".*"], network_file=path, physics_dt=0.01, **conv.cfg_fields(), **WIDE)
    actuator = make_actuator(cfg, num_envs=1, num_joints=2)
    x, valid = convention_inputs(batch, conv)
    expected = net_torque(net, x).reshape(-1, 2)
    frames = np.flatnonzero(valid[0])
    got = {}
    for k in range(batch.num_steps):
        tau = step(actuator, *(torch.tensor(a[:, k], dtype=torch.float32) for a in (batch.q, batch.qd, batch.q_target)))
        if k % 2 == 0:  # the net runs on every second 0.01 s step
            got[k] = tau[0].numpy().copy()  # the effort buffer is reused
    checked = [i for i, k in enumerate(frames) if k in got]
    assert len(checked) > 20
    np.testing.assert_allclose(np.stack([got[frames[i]] for i in checked]), expected[checked], atol=1e-4)


def test_probe_errors_name_the_problem(tmp_path):
    net = torch.nn.Sequential(torch.nn.Linear(5, 1))
    t, q, qt, qd = _signals(n=50)
    log = JointLog(name="g", source="g.csv", t=t, q=q, q_target=qt, qd=qd, tau=q, joint_names=["a", "b"])
    with pytest.raises(UserInputError, match="takes 5 inputs; an MLP actuator net takes an even number"):
        probe_convention(net, TrajectoryBatch.from_logs([log]))
    log.tau = None
    with pytest.raises(UserInputError, match=r"g\.csv: field 'tau'"):
        probe_convention(torch.nn.Sequential(torch.nn.Linear(6, 1)), TrajectoryBatch.from_logs([log]))
    log.tau = q
    with pytest.raises(UserInputError, match="too short for a 3-slot history"):
        probe_convention(torch.nn.Sequential(torch.nn.Linear(6, 1)), TrajectoryBatch.from_logs([log]), 0.5)
