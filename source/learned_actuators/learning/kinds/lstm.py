"""The LSTM kind: Isaac Lab's ``ActuatorNetLSTM`` contract on ``[q* - q, qd]``."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from ...errors import UserInputError
from ..models import LSTMDeploy, LSTMNet
from ..models_cfg import LSTMModelCfg
from ..newton_onnx import NewtonExportError, NewtonLSTM, dynamo_export, example_generator, folded, lstm_graph
from .base import ModelKind

__all__ = ["LSTMKind"]

INPUTS = ["pos_error", "qd"]


class _OnnxLSTM(nn.Module):
    """Flat-argument view of the LSTM deploy module for ONNX (no nested tuples)."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x, h, c):
        tau, (h_out, c_out) = self.module(x, (h, c))
        return tau, h_out, c_out


class LSTMKind(ModelKind):
    """``lstm``: Isaac Lab's LSTM actuator net.

    Runs in Isaac Lab's ``ActuatorNetLSTM`` / our :class:`~learned_actuators.actuators.LSTMActuatorNet`, and (one
    layer, trained at the physics dt) in Newton's ``DriveNeuralLSTM``.
    """

    name: ClassVar[str] = "lstm"
    cfg_class: ClassVar[type] = LSTMModelCfg
    cfg_field: ClassVar[str] = "lstm"
    deploy_class: ClassVar[type] = LSTMDeploy
    onnx_inputs: ClassVar[tuple[str, ...]] = ("x", "h_in", "c_in")
    onnx_outputs: ClassVar[tuple[str, ...]] = ("tau", "h_out", "c_out")
    actuator: ClassVar[str] = "learned_actuators.actuators:LSTMActuatorNet"
    actuator_cfg: ClassVar[str] = "learned_actuators.actuators:LSTMActuatorNetCfg"
    newton_drive: ClassVar[str] = "DriveNeuralLSTM"

    def build_net(self, cfg: LSTMModelCfg) -> LSTMNet:
        """LSTM on ``[q* - q, qd]`` + linear head."""
        return LSTMNet(cfg.hidden_size, cfg.num_layers, cfg.dropout)

    def input_names(self, cfg: LSTMModelCfg) -> list[str]:
        """``pos_error``, ``qd``."""
        return list(INPUTS)

    def contract(self, cfg: LSTMModelCfg) -> dict:
        """``features``, ``hidden_size``, ``num_layers``."""
        return {"features": list(INPUTS), "hidden_size": cfg.hidden_size, "num_layers": cfg.num_layers}

    def raw_inputs(self, model, log):
        """``[q* - q, qd]`` per frame; ``[kp · (q* - q), qd]`` with ``gain_scaled_error`` (``kp``: the run's gain)."""
        scale = float(model.run_params(log).kp) if model.model_cfg.gain_scaled_error else 1.0
        return np.stack([scale * (log.q_target[:, 0] - log.q[:, 0]), log.qd[:, 0]], axis=-1)

    def scales_by_gain(self, cfg: LSTMModelCfg) -> bool:
        """``gain_scaled_error``."""
        return bool(cfg.gain_scaled_error)

    def at_gain(self, model, kp):
        """The same net with ``kp`` folded into the position error's normalisation; inputs ``[q* - q, qd]`` again.

        ``(kp·e - m) / s = (e - m/kp) / (s/kp)``.
        """
        if not kp > 0:
            raise UserInputError(f"an LSTM with gain_scaled_error needs a positive gain; got kp = {kp!r}.")
        norm = model.input_norm
        mean, std = np.array(norm.mean, dtype=np.float64), np.array(norm.std, dtype=np.float64)
        mean[0], std[0] = mean[0] / kp, std[0] / kp
        cfg = dataclasses.replace(model.model_cfg, gain_scaled_error=False)
        info = dict(model.info)
        if info.get("representative_inputs") is not None:  # the export's examples, in the plain inputs
            raw = np.array(info["representative_inputs"], dtype=np.float64)
            raw[..., 0] /= kp
            info["representative_inputs"] = raw
        return dataclasses.replace(
            model, model_cfg=cfg, input_norm=dataclasses.replace(norm, mean=mean, std=std), info=info
        )

    def zero_state(self, cfg: LSTMModelCfg, n: int):
        """``(h, c)``, each (layers, N, hidden)."""
        z = torch.zeros(cfg.num_layers, n, cfg.hidden_size, dtype=torch.float64)
        return z, z.clone()

    def step(self, model, module, state, kp, q, qd, q_target, **command):
        """One LSTM step on ``[q* - q, qd]`` (``[kp · (q* - q), qd]`` with ``gain_scaled_error``)."""
        error = q_target - q
        if model.model_cfg.gain_scaled_error:
            error = torch.as_tensor(kp, dtype=error.dtype) * error
        return module(torch.stack([error, qd], dim=-1)[:, None, :], state)

    def example_inputs(self, model, batch, generator):
        """``x (batch, 1, 2)`` and ``(h, c)`` (the cell state from the global generator, as ever)."""
        mc = model.model_cfg
        x = torch.randn(batch, 1, 2, generator=generator)
        h = torch.randn(mc.num_layers, batch, mc.hidden_size, generator=generator) * 0.1
        return x, (h, torch.randn_like(h) * 0.1)

    def onnx_module(self, module, inputs):
        """Flat ``(x, h, c)`` arguments (ONNX has no nested tuples)."""
        return _OnnxLSTM(module).eval(), (inputs[0], *inputs[1])

    def onnx_names(self) -> dict[str, str]:
        """The tensor names Isaac Lab's and Newton's LSTM readers look for."""
        names = {"input_name": "x", "hidden_in_name": "h_in", "cell_in_name": "c_in", "output_name": "tau"}
        return {**names, "hidden_out_name": "h_out", "cell_out_name": "c_out"}

    def newton_module(self, deploy, meta, where):
        """One-layer LSTM, input normalisation folded into its input weights, output normalisation into the head."""
        if deploy.lstm.num_layers != 1:
            raise NewtonExportError(
                f"{where}: LSTM num_layers is {deploy.lstm.num_layers}; Newton's DriveNeuralLSTM runs one-layer "
                "LSTMs only on Warp (Warp-NN's LSTM op); train with train.lstm.num_layers=1, or run the .pt file "
                "with our DriveLSTM."
            )
        lstm = nn.LSTM(2, deploy.lstm.hidden_size, 1)
        lstm.load_state_dict(deploy.lstm.state_dict())
        ih = nn.Linear(2, 4 * lstm.hidden_size)
        with torch.no_grad():
            ih.weight.copy_(lstm.weight_ih_l0)
            ih.bias.copy_(lstm.bias_ih_l0)
            ih = folded(ih, deploy.input_mean, deploy.input_std)
            lstm.weight_ih_l0.copy_(ih.weight)
            lstm.bias_ih_l0.copy_(ih.bias)
        head = folded(deploy.linear, out_mean=float(deploy.output_mean), out_std=float(deploy.output_std))
        return NewtonLSTM(lstm, head).float().eval()

    def newton_fields(self, meta) -> dict:
        """Tensor names, one layer, the hidden size."""
        return {**self.onnx_names(), "num_layers": 1, "hidden_size": int(meta.hidden_size)}

    def newton_onnx(self, module, meta, batch: int = 5):
        """``x (1, N, 2)`` (sequence first, as the drive writes it), ``h_in``/``c_in`` ``(1, N, H)``."""
        g = example_generator()
        std = torch.as_tensor(meta.input_std, dtype=torch.float32)
        mean = torch.as_tensor(meta.input_mean, dtype=torch.float32)
        x = torch.randn(1, batch, 2, generator=g) * std + mean
        h = torch.randn(1, batch, meta.hidden_size, generator=g) * 0.1
        inputs = (x, h, torch.randn(1, batch, meta.hidden_size, generator=g) * 0.1)
        proto = dynamo_export(module, inputs, list(self.onnx_inputs), list(self.onnx_outputs), None)
        return lstm_graph(proto, meta.hidden_size), inputs

    def newton_reference(self, deploy, inputs):
        """``tau (N, 1)``, ``h``, ``c`` of the deploy module (batch first)."""
        with torch.no_grad():
            tau, (h, c) = deploy(inputs[0].transpose(0, 1), (inputs[1], inputs[2]))
        return [tau.reshape(-1, 1).numpy(), h.numpy(), c.numpy()]
