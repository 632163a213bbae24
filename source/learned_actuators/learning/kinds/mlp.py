"""The MLP kind: Isaac Lab's ``ActuatorNetMLP`` contract on position-error and velocity histories."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from ..features import mlp_history
from ..models import MLPDeploy, MLPNet
from ..models_cfg import MLPModelCfg
from ..newton_onnx import NewtonExportError, dynamo_export, example_generator, folded
from .base import ModelKind

__all__ = ["MLPKind"]


class MLPKind(ModelKind):
    """``mlp``: frames of ``[e(t-i) for i in input_idx] + [v(t-i) for i in input_idx]``.

    Runs in Isaac Lab's ``ActuatorNetMLP`` / our :class:`~learned_actuators.actuators.MLPActuatorNet`, and (ELU,
    trained at the physics dt) in Newton's ``DriveNeuralMLP``.
    """

    name: ClassVar[str] = "mlp"
    cfg_class: ClassVar[type] = MLPModelCfg
    cfg_field: ClassVar[str] = "mlp"
    deploy_class: ClassVar[type] = MLPDeploy
    recurrent: ClassVar[bool] = False
    actuator: ClassVar[str] = "learned_actuators.actuators:MLPActuatorNet"
    actuator_cfg: ClassVar[str] = "learned_actuators.actuators:MLPActuatorNetCfg"
    native_conventions: ClassVar[tuple[str, ...]] = (
        "pos_scale",
        "vel_scale",
        "torque_scale",
        "input_order",
        "input_idx",
    )
    newton_drive: ClassVar[str] = "DriveNeuralMLP"

    def build_net(self, cfg: MLPModelCfg) -> MLPNet:
        """Feed-forward net on the ``2 * len(input_idx)`` history."""
        return MLPNet(2 * len(cfg.input_idx), cfg.hidden, cfg.activation)

    def input_names(self, cfg: MLPModelCfg) -> list[str]:
        """``pos_error[t-i]``, then ``qd[t-i]``."""
        return [f"{name}[t-{i}]" for name in ("pos_error", "qd") for i in cfg.input_idx]

    def contract(self, cfg: MLPModelCfg) -> dict:
        """``input_idx`` and Isaac Lab's conventions (``pos_vel``, ``q* - q``, unit scales)."""
        return {
            "features": ["pos_error", "qd"],
            "input_idx": list(cfg.input_idx),
            "input_order": "pos_vel",
            "pos_error_sign": 1,
            "pos_scale": 1.0,
            "vel_scale": 1.0,
            "torque_scale": 1.0,
        }

    def raw_inputs(self, model, log):
        """The histories per frame (:func:`~learned_actuators.learning.features.mlp_history`)."""
        return mlp_history(log.q_target[:, 0] - log.q[:, 0], log.qd[:, 0], model.model_cfg.input_idx)

    def zero_state(self, cfg: MLPModelCfg, n: int) -> torch.Tensor:
        """The input history (N, 2, slots): position error and velocity, slot 0 = now."""
        return torch.zeros(n, 2, max(cfg.input_idx) + 1, dtype=torch.float64)

    def step(self, model, module, state, kp, q, qd, q_target, **command):
        """Shift the history, put the frame in slot 0, run the net on the ``input_idx`` slots."""
        history = torch.roll(state, 1, dims=2)
        history[:, 0, 0] = q_target - q
        history[:, 1, 0] = qd
        idx = list(model.model_cfg.input_idx)
        x = torch.cat([history[:, 0, idx], history[:, 1, idx]], dim=1)
        return module(x)[:, 0], history

    def example_inputs(self, model, batch, generator):
        """Histories ``(batch, 2 * len(input_idx))``."""
        return (torch.randn(batch, 2 * len(model.model_cfg.input_idx), generator=generator),)

    def newton_module(self, deploy, meta, where):
        """The layers with the normalisation folded into the first and last ``Gemm``; ELU activations only."""
        layers = list(deploy.net)
        bad = [type(x).__name__ for x in layers if not isinstance(x, nn.Linear | nn.ELU)]
        if bad:
            raise NewtonExportError(
                f"{where}: MLP activation {bad[0]} cannot run on Newton's DriveNeuralMLP (Warp-NN executes Gemm and "
                "Elu only); train with train.mlp.activation=elu, or run the .pt file with our DriveMLP."
            )
        layers[0] = folded(layers[0], deploy.input_mean, deploy.input_std)
        layers[-1] = folded(layers[-1], out_mean=float(deploy.output_mean), out_std=float(deploy.output_std))
        return nn.Sequential(*layers).float().eval()

    def newton_fields(self, meta) -> dict:
        """``input_order`` and ``input_idx``."""
        return {"input_order": meta.input_order, "input_idx": [int(i) for i in meta.input_idx]}

    def newton_onnx(self, module, meta, batch: int = 5):
        """``x (N, 2 * len(input_idx))`` -> ``tau (N, 1)``, dynamic batch."""
        g = example_generator()
        std = torch.as_tensor(meta.input_std, dtype=torch.float32)
        mean = torch.as_tensor(meta.input_mean, dtype=torch.float32)
        inputs = (torch.randn(batch, len(std), generator=g) * std + mean,)
        return dynamo_export(module, inputs, ["x"], ["tau"], ({0: torch.export.Dim("batch")},)), inputs

    def newton_reference(self, deploy, inputs):
        """``tau (N, 1)`` of the deploy module."""
        with torch.no_grad():
            return [deploy(inputs[0]).numpy()]
