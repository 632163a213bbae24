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
from pathlib import Path

import numpy as np
from torch import nn

from ..atomic_io import atomic_path
from ..network_file import NetworkMetadata
from .actuator_model import ActuatorModel
from .deploy import network_metadata
from .kinds import KINDS, GRUPDKind, kind_of
from .newton_onnx import WARP_NN_OPS, NewtonExportError

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
GRU_COLUMNS = {"q": "position", "q_target": "target_position", "pos_error": "position_error", "qd": "velocity"}
"""Our GRU features -> ``input_columns`` of Newton's ``DriveNeuralGRU`` (the others have no Newton column)."""


def newton_module(deploy: nn.Module, meta: NetworkMetadata, where: str) -> nn.Module:
    """The deploy module as a plain net in Newton's layout, normalisation folded (float32, eval mode).

    Asks the file's kind (:meth:`~learned_actuators.learning.kinds.ModelKind.newton_module`); kinds without a Newton
    drive raise :class:`NewtonExportError`.
    """
    return kind_of(meta.model_type).newton_module(deploy, meta, where)


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
    return {**out, **kind_of(meta.model_type).newton_fields(meta)}


def newton_gru_metadata(meta: NetworkMetadata, where: str = "<metadata>") -> dict:
    """A direct-mode GRU net's metadata in the layout of Newton's ``DriveNeuralGRU`` (newton PR #4043).

    That drive normalises inputs and targets itself (so its net takes normalised features and returns a normalised
    torque), runs at ``sample_dt_s`` only and has no physics prior: residual nets and features other than
    position/target/error/velocity are refused with :class:`NewtonExportError`.
    """
    if meta.model_type != GRUPDKind.name:
        raise NewtonExportError(f"{where}: 'model_type' is {meta.model_type!r}; expected {GRUPDKind.name!r}.")
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


def export_newton(model: ActuatorModel, path: str | Path, source: dict | None = None, atol: float = 1e-5) -> Path:
    """Write ``path`` (``<name>.newton.onnx``) for Newton's ``DriveNeuralMLP`` / ``DriveNeuralLSTM``; check it.

    Raises :class:`NewtonExportError` when Newton's drives cannot run the net (see the module docstring).
    """
    import onnx
    from onnx.reference import ReferenceEvaluator

    path = Path(path)
    meta = network_metadata(model, source)
    deploy = model.deploy_module().eval()
    module = newton_module(deploy, meta, str(path))
    proto, inputs = model.kind.newton_onnx(module, meta)
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
        ref = model.kind.newton_reference(deploy, inputs)
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
    import newton.actuators
    import onnx

    path = Path(path)
    props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    meta = json.loads(props.get("metadata", "{}"))
    kind = KINDS.get(meta.get("learned_actuators", {}).get("model_type"))
    if kind is None or kind.newton_drive is None or "sample_dt_s" not in meta:
        with_drive = sorted(name for name, k in KINDS.items() if k.newton_drive)
        raise NewtonExportError(
            f"{path}: metadata has no 'sample_dt_s' or 'learned_actuators.model_type' in {with_drive}; "
            f"expected a file written by export_newton ({NEWTON_SUFFIX})."
        )
    dt = float(meta["sample_dt_s"])
    if abs(dt - physics_dt) > rtol * max(dt, physics_dt):
        raise NewtonExportError(
            f"{path}: 'sample_dt_s' is {dt:g} s but the physics dt is {physics_dt:g} s: Newton's DriveNeural"
            f"{kind.name.upper()} runs the net every physics step and cannot hold its output between net steps. Use "
            f"learned_actuators.newton_drives.Drive{kind.name.upper()} with the .pt file, or a physics dt of {dt:g} s."
        )
    return getattr(newton.actuators, kind.newton_drive)(str(path))
