"""Test helpers: tiny actuator nets written by the tests (TorchScript + metadata), actuator construction."""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

import torch

from learned_actuators.network_file import NetworkMetadata, save_network
from tests.conftest import shared_data_dir


class GRUNet(torch.nn.Module):
    def __init__(self, features: int = 3, hidden: int = 4, layers: int = 1):
        super().__init__()
        self.gru = torch.nn.GRU(features, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y, h = self.gru(x, h)
        return self.head(y).reshape(-1), h


class PoleGRUNet(GRUNet):
    """Output divided by (x0 - 1): infinite where the first (normalised) feature is exactly 1."""

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y, h = self.gru(x, h)
        return self.head(y).reshape(-1) / (x[:, 0, 0] - 1.0), h


class LSTMNet(torch.nn.Module):
    def __init__(self, hidden: int = 4, layers: int = 2):
        super().__init__()
        self.lstm = torch.nn.LSTM(2, hidden, layers, batch_first=True)
        self.linear = torch.nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, hc: tuple[torch.Tensor, torch.Tensor]):
        y, hc = self.lstm(x, hc)
        return self.linear(y).reshape(-1), hc


def constant_gru(value: float, features: int = 3, hidden: int = 4) -> GRUNet:
    """GRU net whose (normalised) output is ``value`` whatever the input: zero head weights."""
    net = GRUNet(features, hidden)
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.fill_(value)
    return net


def linear_mlp(weights: list[float], bias: float = 0.0) -> torch.nn.Sequential:
    """MLP whose output is ``weights @ x + bias`` (two layers, identity-like hidden)."""
    width = len(weights)
    net = torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.Linear(width, 1))
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(width))
        net[0].bias.zero_()
        net[1].weight.copy_(torch.tensor([weights]))
        net[1].bias.fill_(bias)
    return net


def save(tmp_path, name: str, net: torch.nn.Module, **meta) -> str:
    path = str(tmp_path / name)
    save_network(net.eval(), path, NetworkMetadata(**meta))
    return path


def shared_nets() -> Path:
    """Third-party nets in the shared data (fail, not skip, when missing)."""
    nets = shared_data_dir() / "nets"
    assert (nets / "unitree_go1.pt").is_file(), f"third-party nets not found under {nets}; set LEARNED_ACTUATORS_SHARED"
    return nets


def make_actuator(cfg, num_envs: int = 2, num_joints: int = 3, **kwargs):
    names = [f"joint_{i}" for i in range(num_joints)]
    return cfg.class_type(cfg, joint_names=names, joint_ids=slice(None), num_envs=num_envs, device="cpu", **kwargs)


def step(actuator, q, qd, q_target):
    """One compute() with fresh position targets (compute() clears them, as in Isaac Lab); returns the effort."""
    from isaaclab.utils.types import ArticulationActions

    zeros = torch.zeros_like(q)
    action = ArticulationActions(joint_positions=q_target.clone(), joint_velocities=zeros, joint_efforts=zeros.clone())
    return actuator.compute(action, q, qd).joint_efforts


@contextlib.contextmanager
def bench_scene(tmp_path, actuator_cfg, num_envs: int = 1, dt: float = 0.005):
    """The one-joint bench (inertia 0.01 kg·m², no gravity) with ``actuator_cfg`` as group ``legs`` on the real
    simulator (Newton MJWarp, CPU, Isaac Lab's Python actuator path); yields the reset scene, closes the simulation."""
    import isaaclab.sim as sim_utils
    from isaaclab.assets import ArticulationCfg
    from isaaclab.scene import InteractiveScene, InteractiveSceneCfg
    from isaaclab.utils import configclass
    from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg

    from learned_actuators.validation.bench import BenchParams, write_bench_usd

    @configclass
    class _SceneCfg(InteractiveSceneCfg):
        robot: ArticulationCfg = None

    robot_cfg = ArticulationCfg(
        prim_path="{ENV_REGEX_NS}/Robot",
        spawn=sim_utils.UsdFileCfg(usd_path=str(write_bench_usd(BenchParams(inertia=0.01), tmp_path))),
        init_state=ArticulationCfg.InitialStateCfg(pos=(0.0, 0.0, 1.0), joint_pos={".*": 0.0}),
        actuators={"legs": actuator_cfg},
    )
    sim_cfg = sim_utils.SimulationCfg(
        dt=dt,
        device="cpu",
        gravity=(0.0, 0.0, 0.0),
        physics=NewtonCfg(
            solver_cfg=MJWarpSolverCfg(integrator="implicitfast", njmax=50, nconmax=0, disable_contacts=True),
            num_substeps=1,
            use_cuda_graph=False,
        ),
        use_newton_actuators=False,
    )
    sim_utils.create_new_stage()
    sim = sim_utils.SimulationContext(sim_cfg)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            scene = InteractiveScene(_SceneCfg(num_envs=num_envs, env_spacing=2.0, robot=robot_cfg))
            sim.reset()
            yield scene, sim
    finally:
        sim.stop()
        sim.clear_instance()
