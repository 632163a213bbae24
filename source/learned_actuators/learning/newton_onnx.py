"""Building blocks of the ``.newton.onnx`` files (:mod:`.export_newton`), used by the model kinds that have one.

Warp-NN 0.3.1's ``OnnxRuntime`` (what Newton 1.6.1's ONNX drives run on) executes only ``Gemm`` (``transB=1``, with
bias), ``Elu``, ``Squeeze`` (to 2-D) and a single-layer, single-step ``LSTM``: the normalisation is folded into the
first and last layers (:func:`folded`), the graph comes from the current torch exporter (:func:`dynamo_export`) and a
one-layer LSTM graph is rewired to ``LSTM -> Squeeze -> Gemm`` (:func:`lstm_graph`).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn

from ..errors import UserInputError

__all__ = ["WARP_NN_OPS", "NewtonExportError", "NewtonLSTM", "dynamo_export", "folded", "lstm_graph"]

WARP_NN_OPS = frozenset({"Gemm", "Elu", "Squeeze", "LSTM"})
"""ONNX operators Warp-NN 0.3.1's ``OnnxRuntime`` executes (what newton 1.6.1's ONNX drives run on)."""


class NewtonExportError(UserInputError):
    """A net that Newton's own drives cannot run as trained (the message says which field and why)."""


def folded(linear: nn.Linear, mean=None, std=None, out_mean: float = 0.0, out_std: float = 1.0) -> nn.Linear:
    """``linear`` with ``(x - mean) / std`` folded into its weights and ``y * out_std + out_mean`` into its outputs."""
    w, b = linear.weight.detach().double(), linear.bias.detach().double()
    if mean is not None:
        inv = 1.0 / std.double()
        b = b - w @ (mean.double() * inv)
        w = w * inv
    out = nn.Linear(linear.in_features, linear.out_features)
    with torch.no_grad():
        out.weight.copy_(w * out_std)
        out.bias.copy_(b * out_std + out_mean)
    return out


class NewtonLSTM(nn.Module):
    """One-layer LSTM in Newton's layout: ``(x (1, N, 2), h (1, N, H), c) -> (tau (N, 1), h, c)``."""

    def __init__(self, lstm: nn.LSTM, head: nn.Linear):
        super().__init__()
        self.lstm, self.head = lstm, head

    def forward(self, x, h, c):
        """One step: ``(tau, h, c)``."""
        y, (h_out, c_out) = self.lstm(x, (h, c))
        return self.head(y[0]), h_out, c_out


def dynamo_export(module: nn.Module, inputs: tuple, in_names: list[str], out_names: list[str], batch_dims):
    """The ONNX proto of ``module`` from the current torch exporter (``dynamo=True``)."""
    import onnx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module,
            inputs,
            None,
            input_names=in_names,
            output_names=out_names,
            dynamo=True,
            dynamic_shapes=batch_dims,
            verbose=False,
        )
    return onnx.ModelProto.FromString(program.model_proto.SerializeToString())


def lstm_graph(proto, hidden: int):
    """Rewire the exporter's one-layer LSTM graph to ``LSTM -> Squeeze -> Gemm`` (what Warp-NN executes)."""
    from onnx import TensorProto, helper, numpy_helper

    graph = proto.graph
    (lstm,) = [n for n in graph.node if n.op_type == "LSTM"]
    (head,) = [n for n in graph.node if n.op_type == "Gemm"]
    keep = set(lstm.input[1:4]) | set(head.input[1:])
    inits = [i for i in graph.initializer if i.name in keep]
    inits.append(numpy_helper.from_array(np.array([0, 1], dtype=np.int64), "squeeze_axes"))
    attrs = {a.name: helper.get_attribute_value(a) for a in lstm.attribute if a.name in ("hidden_size", "direction")}
    nodes = [
        helper.make_node("LSTM", ["x", *lstm.input[1:4], "", "h_in", "c_in"], ["y", "h_out", "c_out"], **attrs),
        helper.make_node("Squeeze", ["y", "squeeze_axes"], ["y2"]),
        helper.make_node("Gemm", ["y2", *head.input[1:]], ["tau"], transB=1),
    ]
    f = TensorProto.FLOAT
    ins = [
        helper.make_tensor_value_info(n, f, [1, "batch", w]) for n, w in (("x", 2), ("h_in", hidden), ("c_in", hidden))
    ]
    outs = [helper.make_tensor_value_info("tau", f, ["batch", 1])]
    outs += [helper.make_tensor_value_info(n, f, [1, "batch", hidden]) for n in ("h_out", "c_out")]
    new = helper.make_graph(nodes, "learned_actuators_lstm", ins, outs, inits)
    return helper.make_model(new, opset_imports=list(proto.opset_import), producer_name="learned_actuators")


def example_generator() -> torch.Generator:
    """The seeded generator of the Newton files' check inputs."""
    return torch.Generator().manual_seed(0)
