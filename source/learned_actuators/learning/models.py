"""Actuator-net modules (no I/O). Inputs are normalised features; outputs normalised torque (see the trainer).

The deploy modules (``*Deploy``) wrap trained nets with the normalisation baked in and the per-step signatures of
:mod:`learned_actuators.network_file` (``gru_pd``, ``lstm``, ``mlp`` contracts); they are what gets exported.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import UserInputError

__all__ = ["GRUDeploy", "GRUNet", "LSTMDeploy", "LSTMNet", "MLPDeploy", "MLPNet"]

ACTIVATIONS = {"softsign": nn.Softsign, "tanh": nn.Tanh, "elu": nn.ELU, "relu": nn.ReLU}


class GRUNet(nn.Module):
    """GRU + linear head: ``forward(x (N, T, F), h (L, N, H) | None) -> (y (N, T), h (L, N, H))``."""

    def __init__(self, num_inputs: int, hidden_size: int = 32, num_layers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.gru = nn.GRU(
            num_inputs, hidden_size, num_layers, batch_first=True, dropout=dropout if num_layers > 1 else 0.0
        )
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs (N, T) and the final state (L, N, H) for inputs (N, T, F) from state ``h`` (None: zero)."""
        y, h = self.gru(x, h)
        return self.head(y).squeeze(-1), h


class LSTMNet(nn.Module):
    """LSTM + linear head on ``[q* - q, qd]``: ``forward(x (N, T, 2), hc) -> (y (N, T), (h, c))``."""

    def __init__(self, hidden_size: int = 64, num_layers: int = 2, dropout: float = 0.1):
        super().__init__()
        self.lstm = nn.LSTM(2, hidden_size, num_layers, batch_first=True, dropout=dropout if num_layers > 1 else 0.0)
        self.linear = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor, hc: tuple[torch.Tensor, torch.Tensor] | None = None):
        """Outputs (N, T) and the final ``(h, c)`` for inputs (N, T, 2) from ``hc`` (None: zero)."""
        y, hc = self.lstm(x, hc)
        return self.linear(y).squeeze(-1), hc


class MLPNet(nn.Module):
    """Feed-forward net on a history vector: ``forward(x (..., F)) -> y (...)``."""

    def __init__(
        self, num_inputs: int = 6, hidden: list[int] | tuple[int, ...] = (100, 100, 100), activation: str = "softsign"
    ):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise UserInputError(f"MLP activation {activation!r}; expected one of {sorted(ACTIVATIONS)}.")
        layers: list[nn.Module] = []
        width = num_inputs
        for h in hidden:
            layers += [nn.Linear(width, h), ACTIVATIONS[activation]()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Output (...) for inputs (..., F)."""
        return self.net(x).squeeze(-1)


def _normalization_buffers(module: nn.Module, input_mean, input_std, output_mean: float, output_std: float) -> None:
    """Register the (float32) normalisation statistics as buffers, so they travel inside the exported file."""
    for name, values in (
        ("input_mean", input_mean),
        ("input_std", input_std),
        ("output_mean", [output_mean]),
        ("output_std", [output_std]),
    ):
        module.register_buffer(name, torch.as_tensor(values, dtype=torch.float32).reshape(-1))


class GRUDeploy(nn.Module):
    """``gru_pd`` contract with normalisation baked in: ``forward(x (N, 1, F) raw, h (L, N, H)) -> (y (N,) [N·m], h)``.

    ``y`` is the residual ``tau - tau_phys`` (residual mode) or the torque (direct mode) in N·m. An ensemble's
    combined net (:meth:`~learned_actuators.learning.ensemble.Ensemble.combined`) brings its members' heads as the
    buffers ``member_head_weight`` (K, H), ``member_head_bias`` (K,) and ``member_noise_std`` (1,) [N·m], which travel
    in the file.
    """

    def __init__(self, net: GRUNet, input_mean, input_std, output_mean: float, output_std: float):
        super().__init__()
        self.gru = net.gru
        self.head = net.head
        _normalization_buffers(self, input_mean, input_std, output_mean, output_std)
        for name in ("member_head_weight", "member_head_bias", "member_noise_std"):
            if hasattr(net, name):
                self.register_buffer(name, getattr(net, name).detach().clone())

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step: raw features (N, 1, F) and state (L, N, H) -> (output (N,) [N·m], new state)."""
        z = (x - self.input_mean) / self.input_std
        y, h_out = self.gru(z, h)
        out = self.head(y[:, -1, :]).reshape(-1) * self.output_std + self.output_mean
        return out, h_out


class LSTMDeploy(nn.Module):
    """Isaac Lab ``ActuatorNetLSTM`` contract.

    ``forward(x (N, 1, 2) = [q* - q, qd], (h, c)) -> (tau (N,) [N·m], (h, c))``.
    """

    def __init__(self, net: LSTMNet, input_mean, input_std, output_mean: float, output_std: float):
        super().__init__()
        self.lstm = net.lstm
        self.linear = net.linear
        _normalization_buffers(self, input_mean, input_std, output_mean, output_std)

    def forward(
        self, x: torch.Tensor, hc: tuple[torch.Tensor, torch.Tensor]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One step: ``[q* - q, qd]`` (N, 1, 2) and ``(h, c)`` -> (torque (N,) [N·m], new ``(h, c)``)."""
        z = (x - self.input_mean) / self.input_std
        y, hc_out = self.lstm(z, hc)
        tau = self.linear(y[:, -1, :]).reshape(-1) * self.output_std + self.output_mean
        return tau, hc_out


class MLPDeploy(nn.Module):
    """Isaac Lab ``ActuatorNetMLP`` contract: ``forward(x (N, F) raw histories) -> tau (N, 1) [N·m]``."""

    def __init__(self, net: MLPNet, input_mean, input_std, output_mean: float, output_std: float):
        super().__init__()
        self.net = net.net
        _normalization_buffers(self, input_mean, input_std, output_mean, output_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Histories (N, F) raw -> torque (N, 1) [N·m]."""
        z = (x - self.input_mean) / self.input_std
        return self.net(z) * self.output_std + self.output_mean
