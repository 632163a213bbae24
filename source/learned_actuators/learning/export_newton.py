"""Exports Newton's own neural drives run on Warp: ``<name>.newton.onnx`` for ``DriveNeuralLSTM`` / ``DriveNeuralMLP``.

Newton 1.6.1 runs ``.onnx`` nets through Warp-NN's ``OnnxRuntime`` (``warp-nn``, the ``newton[onnx]`` extra), which
executes only ``Gemm`` (``transB=1``, with bias), ``Elu``, ``Squeeze`` (to 2-D) and a single-layer, single-step
``LSTM``. What follows from that, and from the drives' input layouts:

- **MLP**: ``x (N, 2 * len(input_idx))`` -> ``tau (N, 1)``, hidden activations ELU only (softsign, tanh and ReLU are
  not executable there). The normalisation is folded into the first and last ``Gemm``; metadata ``input_order``,
  ``input_idx``, ``pos_scale``, ``vel_scale``, ``effort_scale`` as the drive reads them.
- **LSTM**: one layer only; ``x (1, N, 2) = [q* - q, qd]`` (sequence first, as the drive writes it), ``h_in``/``c_in``
  ``(1, N, H)`` -> ``tau (N, 1)``, ``h_out``, ``c_out``; input normalisation folded into the LSTM's input weights,
  output normalisation into the head.
- **Rate**: Newton's drives run the net on every physics step and keep no output between net steps. The net's
  trained dt is written as ``sample_dt_s``; :func:`newton_drive` refuses a physics dt that differs from it (use our
  :class:`~learned_actuators.newton_drives.DriveLSTM` / ``DriveMLP``, which hold the output, instead).
- **GRU-PD**: Newton's ``DriveNeuralGRU`` (newton PR #4043, not in 1.6.1) has no physics prior, so only direct-mode
  nets on position/velocity features can be written for it (:func:`newton_gru_metadata`); a residual net would lose
  PD, spring, torque-speed curve and friction, and is refused.

The graph comes from the current torch exporter (``torch.onnx.export(..., dynamo=True)``); for the LSTM its ``LSTM``
node and head are rewired to ``LSTM -> Squeeze -> Gemm`` (the exporter's per-layer ``Slice`` of the state and its
``Transpose``/``Reshape`` of the output are not executable by Warp-NN and are identities for one layer). Every
file is re-run with ONNX's reference evaluator against the trained module before it replaces the target.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..atomic_io import atomic_path
from ..errors import UserInputError
from ..network_file import NetworkMetadata
from .actuator_model import ActuatorModel

__all__ = [
    "NEWTON_SUFFIX",
    "WARP_NN_OPS",
    "NewtonExportError",
    "export_newton",
    "newton_drive",
    "newton_gru_metadata",
    "newton_metadata",
    "newton_module",
]

NEWTON_SUFFIX = ".newton.onnx"
WARP_NN_OPS = frozenset({"Gemm", "Elu", "Squeeze", "LSTM"})
"""ONNX operators Warp-NN 0.3.1's ``OnnxRuntime`` executes (what newton 1.6.1's ONNX drives run on)."""
GRU_COLUMNS = {"q": "position", "q_target": "target_position", "pos_error": "position_error", "qd": "velocity"}
"""Our GRU features -> ``input_columns`` of Newton's ``DriveNeuralGRU`` (the others have no Newton column)."""


class NewtonExportError(UserInputError):
    """A net that Newton's own drives cannot run as trained (the message says which field and why)."""


def _folded(linear: nn.Linear, mean=None, std=None, out_mean: float = 0.0, out_std: float = 1.0) -> nn.Linear:
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


class _NewtonLSTM(nn.Module):
    """One-layer LSTM in Newton's layout: ``(x (1, N, 2), h (1, N, H), c) -> (tau (N, 1), h, c)``."""

    def __init__(self, lstm: nn.LSTM, head: nn.Linear):
        super().__init__()
        self.lstm, self.head = lstm, head

    def forward(self, x, h, c):
        y, (h_out, c_out) = self.lstm(x, (h, c))
        return self.head(y[0]), h_out, c_out


def newton_module(deploy: nn.Module, meta: NetworkMetadata, where: str) -> nn.Module:
    """The deploy module as a plain net in Newton's layout, normalisation folded (float32, eval mode)."""
    m, s = deploy.input_mean, deploy.input_std
    om, os_ = float(deploy.output_mean), float(deploy.output_std)
    if meta.model_type == "mlp":
        layers = list(deploy.net)
        bad = [type(x).__name__ for x in layers if not isinstance(x, nn.Linear | nn.ELU)]
        if bad:
            raise NewtonExportError(
                f"{where}: MLP activation {bad[0]} cannot run on Newton's DriveNeuralMLP (Warp-NN executes Gemm and "
                "Elu only); train with models.mlp.activation=elu, or run the .pt file with our DriveMLP."
            )
        layers[0] = _folded(layers[0], m, s)
        layers[-1] = _folded(layers[-1], out_mean=om, out_std=os_)
        return nn.Sequential(*layers).float().eval()
    if meta.model_type == "lstm":
        if deploy.lstm.num_layers != 1:
            raise NewtonExportError(
                f"{where}: LSTM num_layers is {deploy.lstm.num_layers}; Newton's DriveNeuralLSTM runs one-layer "
                "LSTMs only on Warp (Warp-NN's LSTM op); train with models.lstm.num_layers=1, or run the .pt file "
                "with our DriveLSTM."
            )
        lstm = nn.LSTM(2, deploy.lstm.hidden_size, 1)
        lstm.load_state_dict(deploy.lstm.state_dict())
        ih = nn.Linear(2, 4 * lstm.hidden_size)
        with torch.no_grad():
            ih.weight.copy_(lstm.weight_ih_l0)
            ih.bias.copy_(lstm.bias_ih_l0)
            ih = _folded(ih, m, s)
            lstm.weight_ih_l0.copy_(ih.weight)
            lstm.bias_ih_l0.copy_(ih.bias)
        return _NewtonLSTM(lstm, _folded(deploy.linear, out_mean=om, out_std=os_)).float().eval()
    raise NewtonExportError(
        f"{where}: model_type {meta.model_type!r}: Newton 1.6.1 has no drive for it; run it with our DriveGRUPD "
        "(newton_drives), which keeps the physics prior."
    )


def newton_metadata(meta: NetworkMetadata) -> dict:
    """What Newton's ``DriveNeuralMLP`` / ``DriveNeuralLSTM`` read, plus ``sample_dt_s`` and our own metadata."""
    ours = {k: v for k, v in dataclasses.asdict(meta).items() if k != "examples"}
    out = {
        "pos_scale": float(meta.pos_error_sign * meta.pos_scale),
        "vel_scale": float(meta.vel_scale),
        "effort_scale": float(meta.torque_scale),
        "sample_dt_s": float(meta.dt),
        "learned_actuators": ours,
    }
    if meta.model_type == "mlp":
        return {**out, "input_order": meta.input_order, "input_idx": [int(i) for i in meta.input_idx]}
    names = dict(input_name="x", hidden_in_name="h_in", cell_in_name="c_in", output_name="tau")
    names.update(hidden_out_name="h_out", cell_out_name="c_out")
    return {**out, **names, "num_layers": 1, "hidden_size": int(meta.hidden_size)}


def newton_gru_metadata(meta: NetworkMetadata, where: str = "<metadata>") -> dict:
    """A direct-mode GRU net's metadata in the layout of Newton's ``DriveNeuralGRU`` (newton PR #4043).

    That drive normalises inputs and targets itself (so its net takes normalised features and returns a normalised
    torque), runs at ``sample_dt_s`` only and has no physics prior: residual nets and features other than
    position/target/error/velocity are refused with :class:`NewtonExportError`.
    """
    if meta.model_type != "gru_pd":
        raise NewtonExportError(f"{where}: 'model_type' is {meta.model_type!r}; expected 'gru_pd'.")
    if meta.mode != "direct":
        raise NewtonExportError(
            f"{where}: 'mode' is {meta.mode!r}: Newton's DriveNeuralGRU cannot express the physics prior of a "
            "residual net (PD, spring, torque-speed curve, friction); only direct-mode nets are written for it."
        )
    bad = [f for f in meta.features if f not in GRU_COLUMNS]
    if bad:
        raise NewtonExportError(
            f"{where}: GRU feature {bad[0]!r} has no DriveNeuralGRU input column; expected features among "
            f"{sorted(GRU_COLUMNS)}."
        )
    columns = [GRU_COLUMNS[f] for f in meta.features]
    inputs = {
        c: {"mean": float(mu), "std": float(sd)}
        for c, mu, sd in zip(columns, meta.input_mean, meta.input_std, strict=True)
    }
    return {
        "input_columns": columns,
        "normalization": {
            "inputs": inputs,
            "targets": {"torque": {"mean": float(meta.output_mean), "std": float(meta.output_std)}},
        },
        "sample_dt_s": float(meta.dt),
        "num_layers": int(meta.num_layers),
        "hidden_size": int(meta.hidden_size),
    }


def _dynamo_export(module: nn.Module, inputs: tuple, in_names: list[str], out_names: list[str], batch_dims):
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


def _lstm_graph(proto, hidden: int):
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


def _example(meta: NetworkMetadata, batch: int = 5):
    g = torch.Generator().manual_seed(0)
    std = torch.as_tensor(meta.input_std, dtype=torch.float32)
    mean = torch.as_tensor(meta.input_mean, dtype=torch.float32)
    if meta.model_type == "mlp":
        return (torch.randn(batch, len(std), generator=g) * std + mean,)
    x = torch.randn(1, batch, 2, generator=g) * std + mean
    h = torch.randn(1, batch, meta.hidden_size, generator=g) * 0.1
    return x, h, torch.randn(1, batch, meta.hidden_size, generator=g) * 0.1


def _reference(deploy: nn.Module, meta: NetworkMetadata, inputs) -> list[np.ndarray]:
    """The trained deploy module's outputs for Newton-layout ``inputs``, in Newton's output layout."""
    with torch.no_grad():
        if meta.model_type == "mlp":
            return [deploy(inputs[0]).numpy()]
        tau, (h, c) = deploy(inputs[0].transpose(0, 1), (inputs[1], inputs[2]))
        return [tau.reshape(-1, 1).numpy(), h.numpy(), c.numpy()]


def export_newton(model: ActuatorModel, path: str | Path, source: dict | None = None, atol: float = 1e-5) -> Path:
    """Write ``path`` (``<name>.newton.onnx``) for Newton's ``DriveNeuralMLP`` / ``DriveNeuralLSTM``; check it.

    Raises :class:`NewtonExportError` when Newton's drives cannot run the net (see the module docstring).
    """
    import onnx
    from onnx.reference import ReferenceEvaluator

    from .export import network_metadata

    path = Path(path)
    meta = network_metadata(model, source)
    deploy = model.deploy_module().eval()
    module = newton_module(deploy, meta, str(path))
    inputs = _example(meta)
    batch = torch.export.Dim("batch")
    if meta.model_type == "mlp":
        proto = _dynamo_export(module, inputs, ["x"], ["tau"], ({0: batch},))
    else:
        names = (["x", "h_in", "c_in"], ["tau", "h_out", "c_out"])
        proto = _lstm_graph(_dynamo_export(module, inputs, *names, None), meta.hidden_size)
    ops = sorted({n.op_type for n in proto.graph.node} - WARP_NN_OPS)
    if ops:
        raise RuntimeError(f"{path}: the exporter wrote ONNX ops {ops} that Warp-NN cannot execute.")
    entry = proto.metadata_props.add()
    entry.key, entry.value = "metadata", json.dumps(newton_metadata(meta), sort_keys=True)
    with atomic_path(path) as tmp:
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))
        feeds = {i.name: t.numpy() for i, t in zip(proto.graph.input, inputs, strict=True)}
        with np.errstate(over="ignore"):
            got = ReferenceEvaluator(str(tmp)).run(None, feeds)
        ref = _reference(deploy, meta, inputs)
        diff = max(float(np.abs(np.asarray(a) - b).max()) for a, b in zip(got, ref, strict=True))
        if diff > atol:
            raise RuntimeError(f"{path}: Newton ONNX output differs from the trained module by {diff:.3g} (> {atol}).")
    return path


def newton_drive(path: str | Path, physics_dt: float, rtol: float = 1e-6):
    """Newton's own drive (``DriveNeuralMLP`` / ``DriveNeuralLSTM``) for our ``.newton.onnx`` at ``physics_dt``.

    Newton's drives step the net every physics step: a net trained at another dt would run at the wrong rate, so
    that raises :class:`NewtonExportError` (run the ``.pt`` file with our ``DriveLSTM`` / ``DriveMLP``, which hold
    the output between net steps, or train at the physics dt).
    """
    import onnx
    from newton.actuators import DriveNeuralLSTM, DriveNeuralMLP

    classes = {"mlp": DriveNeuralMLP, "lstm": DriveNeuralLSTM}
    path = Path(path)
    props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    meta = json.loads(props.get("metadata", "{}"))
    kind = meta.get("learned_actuators", {}).get("model_type")
    if kind not in classes or "sample_dt_s" not in meta:
        raise NewtonExportError(
            f"{path}: metadata has no 'sample_dt_s' or 'learned_actuators.model_type' in {sorted(classes)}; "
            f"expected a file written by export_newton ({NEWTON_SUFFIX})."
        )
    dt = float(meta["sample_dt_s"])
    if abs(dt - physics_dt) > rtol * max(dt, physics_dt):
        raise NewtonExportError(
            f"{path}: 'sample_dt_s' is {dt:g} s but the physics dt is {physics_dt:g} s: Newton's DriveNeural"
            f"{kind.upper()} runs the net every physics step and cannot hold its output between net steps. Use "
            f"learned_actuators.newton_drives.Drive{kind.upper()} with the .pt file, or a physics dt of {dt:g} s."
        )
    return classes[kind](str(path))
