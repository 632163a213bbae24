"""A tiny GRU-PD actuator net file for the policy tests (``gru_pd`` contract of ``network_file``)."""

from __future__ import annotations

from pathlib import Path

import torch

from learned_actuators.network_file import NetworkMetadata, save_network

FEATURES = ["q", "q_target", "qd"]


class TinyGRUResidual(torch.nn.Module):
    """``forward(x, h) -> (y, h)`` with ``x`` (N, 1, F), ``h`` (layers, N, hidden) and ``y`` (N,)."""

    def __init__(self, hidden: int = 8):
        super().__init__()
        self.gru = torch.nn.GRU(len(FEATURES), hidden, 1, batch_first=True)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y, h = self.gru(x, h)
        return self.head(y).reshape(-1), h


def write_gru_pd_net(path: str | Path, dt: float = 0.02, seed: int = 0) -> Path:
    """Write a random tiny GRU-PD net (residual of at most ~1 N·m on PD gains 25 / 0.5, the stock Go2 gains)."""
    torch.manual_seed(seed)
    net = TinyGRUResidual().eval()
    meta = NetworkMetadata(
        model_type="gru_pd",
        dt=dt,
        features=list(FEATURES),
        mode="residual",
        hidden_size=8,
        num_layers=1,
        input_mean=[0.0, 0.0, 0.0],
        input_std=[1.0, 1.0, 10.0],
        output_mean=0.0,
        output_std=0.5,
        physics={"kp": 25.0, "kd": 0.5},
        source={"purpose": "learned_actuators policy tests"},
    )
    save_network(net, path, meta)
    return Path(path)
