"""The GRU-PD kind: a stateful GRU residual over the PD + spring + torque-speed physics (or direct torque)."""

from __future__ import annotations

from typing import ClassVar

import torch

from ..features import gru_step_features, tau_phys
from ..models import GRUDeploy, GRUNet
from ..models_cfg import GRUModelCfg
from .base import ModelKind

__all__ = ["GRUPDKind"]


class GRUPDKind(ModelKind):
    """``gru_pd``: features of :data:`~learned_actuators.network_file.FEATURES`, the physics prior, per-run gains.

    Runs in Isaac Lab as :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator` and natively in Newton as
    :class:`~learned_actuators.newton_drives.DriveGRUPD` (Newton's own drives have no physics prior).
    """

    name: ClassVar[str] = "gru_pd"
    cfg_class: ClassVar[type] = GRUModelCfg
    cfg_field: ClassVar[str] = "gru"
    deploy_class: ClassVar[type] = GRUDeploy
    uses_physics: ClassVar[bool] = True
    ensembles: ClassVar[bool] = True
    onnx_inputs: ClassVar[tuple[str, ...]] = ("x", "h_in")
    onnx_outputs: ClassVar[tuple[str, ...]] = ("y", "h_out")
    actuator: ClassVar[str] = "learned_actuators.actuators:CombinedGRUAndPDActuator"
    actuator_cfg: ClassVar[str] = "learned_actuators.actuators:CombinedGRUAndPDActuatorCfg"

    def build_net(self, cfg: GRUModelCfg) -> GRUNet:
        """GRU over the ``features`` + linear head."""
        return GRUNet(len(cfg.features), cfg.hidden_size, cfg.num_layers, cfg.dropout)

    def input_names(self, cfg: GRUModelCfg) -> list[str]:
        """The feature names."""
        return list(cfg.features)

    def contract(self, cfg: GRUModelCfg) -> dict:
        """``features``, ``mode``, ``hidden_size``, ``num_layers``."""
        return {
            "features": list(cfg.features),
            "mode": cfg.mode,
            "hidden_size": cfg.hidden_size,
            "num_layers": cfg.num_layers,
        }

    def residual(self, cfg: GRUModelCfg) -> bool:
        """``mode == "residual"``."""
        return cfg.mode == "residual"

    def raw_inputs(self, model, log):
        """The run's features under its whole command (:func:`~..features.gru_step_features`)."""
        p, kp, extras = model.run_command(log)
        q, qd, qt = (torch.as_tensor(a[:, 0]) for a in (log.q, log.qd, log.q_target))
        command = {k: torch.as_tensor(v) for k, v in extras.items()}
        kp = torch.as_tensor(kp, dtype=torch.float64)
        return gru_step_features(model.model_cfg.features, q, qd, qt, kp, p, **command).numpy()

    def zero_state(self, cfg: GRUModelCfg, n: int) -> torch.Tensor:
        """Hidden state (layers, N, hidden)."""
        return torch.zeros(cfg.num_layers, n, cfg.hidden_size, dtype=torch.float64)

    def step(self, model, module, state, kp, q, qd, q_target, **command):
        """Features at gain ``kp`` per row under the ``command`` terms, one GRU step, plus ``tau_phys`` (residual)."""
        p = model.physics_params()
        phys = tau_phys(q, qd, q_target, kp, p, **command)
        x = gru_step_features(model.model_cfg.features, q, qd, q_target, kp, p, physics=phys, **command)
        y, state = module(x[:, None, :], state)
        if model.residual:
            y = y + phys
        return y, state

    def rollout_torque(self, model, state, kp, params, q, qd, q_target, norm, **command):
        """The trainer's net (normalisation ``norm = (mean, std, out_mean, out_std)`` applied here), with gradients."""
        mean, std, out_mean, out_std = norm
        phys = tau_phys(q, qd, q_target, kp, params, **command)  # once: a feature and the residual's base
        feats = gru_step_features(model.model_cfg.features, q, qd, q_target, kp, params, physics=phys, **command)
        z = (feats - mean) / std
        gru = model.net.gru
        if gru.num_layers == 1:  # one cell step: the values of nn.GRU on one frame, with less call overhead
            h = torch.gru_cell(z, state[0], gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0)
            y, state = model.net.head(h)[:, 0], h[None]
        else:
            out, state = model.net(z[:, None, :], state)
            y = out[:, 0]
        tau = y * out_std + out_mean
        return (tau + phys if model.residual else tau), state

    def example_inputs(self, model, batch, generator):
        """Features ``(batch, 1, F)`` at the inputs' scale and a hidden state ``(layers, batch, hidden)``."""
        mc = model.model_cfg
        std = torch.as_tensor(model.input_norm.std, dtype=torch.float32)
        x = torch.randn(batch, 1, len(mc.features), generator=generator) * std
        return x, torch.randn(mc.num_layers, batch, mc.hidden_size, generator=generator) * 0.1
