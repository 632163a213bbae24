"""Export trained models: TorchScript with embedded metadata (what the actuator cfgs load) and ONNX.

The TorchScript files follow the network contracts of :mod:`learned_actuators.network_file` with the normalisation
baked in (``normalization_in_network=True``): the GRU-PD file has a ``.gru`` submodule and ``forward(x, h)``; the
LSTM and MLP files run unchanged in Isaac Lab's ``ActuatorNetLSTM`` / ``ActuatorNetMLP`` (and Newton's neural drives,
which read ``input_idx``/``input_order``/scales from the same ``metadata.json``) with ``pos_scale = vel_scale =
torque_scale = 1``. The ONNX files carry the same metadata as a JSON ``metadata`` property (plus tensor names).

Each file is written to a temporary file beside it, checked, and only then renamed over the target: an interrupted
or failed export leaves the previous file as it was.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import torch

from ..atomic_io import atomic_path
from ..errors import UserInputError
from ..network_examples import check_examples
from ..network_file import load_network, save_network
from .actuator_model import ActuatorModel
from .deploy import network_metadata

__all__ = ["example_inputs", "export_model", "export_onnx", "export_torchscript", "network_metadata"]


def example_inputs(model: ActuatorModel, batch: int = 4, seed: int = 0) -> tuple:
    """Random per-step inputs in the deploy signature of the model's kind (float32)."""
    return model.kind.example_inputs(model, batch, torch.Generator().manual_seed(seed))


def _flat(out) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    return [t for o in out for t in _flat(o)]


def _require_plain_inputs(model: ActuatorModel, path: Path) -> None:
    """A net trained on gain-scaled inputs is exported at a gain (its inputs must be the contract's plain ones)."""
    if model.kind.scales_by_gain(model.model_cfg):
        raise UserInputError(
            f"{path}: this {model.model_type} net takes the gain-scaled position error (gain_scaled_error); export it "
            "at a gain, model.kind.at_gain(model, kp), as the training pipeline does (one file per gain)."
        )


def export_torchscript(model: ActuatorModel, path: str | Path, source: dict | None = None, atol: float = 1e-6) -> Path:
    """Write the TorchScript file with metadata; reload it and check it reproduces the module and the trainer.

    The reloaded module must match the in-memory one on random inputs (≤ ``atol``) and the trainer's outputs on the
    representative training inputs stored in the file
    (:func:`~learned_actuators.network_examples.check_examples`: ≤ 1e-4 of the torque scale).
    """
    path = Path(path)
    _require_plain_inputs(model, path)
    module = model.deploy_module()
    with atomic_path(path) as tmp:
        save_network(module, tmp, network_metadata(model, source))
        loaded, meta = load_network(tmp)
        inputs = example_inputs(model)
        with torch.no_grad():
            ref, got = _flat(module(*inputs)), _flat(loaded(*inputs))
        diff = max(float((a - b).abs().max()) for a, b in zip(ref, got, strict=True))
        if meta is None or diff > atol:
            raise RuntimeError(
                f"{path}: exported TorchScript differs from the trained module by {diff:.3g} (> {atol})."
            )
        check_examples(loaded, meta, str(path))
    return path


def export_onnx(model: ActuatorModel, path: str | Path, source: dict | None = None, atol: float = 1e-5) -> Path:
    """Write the ONNX file (opset 17, dynamic batch) with the metadata as a JSON ``metadata`` property.

    The file is re-run with ONNX's reference evaluator and compared with the module (≤ ``atol``).
    """
    path = Path(path)
    _require_plain_inputs(model, path)
    with atomic_path(path) as tmp:
        _export_onnx_to(model, tmp, path, source, atol)
    return path


def _export_onnx_to(model: ActuatorModel, tmp: Path, path: Path, source: dict | None, atol: float) -> None:
    """Write the ONNX file to ``tmp`` and check it (errors name ``path``)."""
    import onnx
    from onnx.reference import ReferenceEvaluator

    kind = model.kind
    module, inputs = kind.onnx_module(model.deploy_module(), example_inputs(model))
    in_names, out_names = list(kind.onnx_inputs), list(kind.onnx_outputs)
    batch_axes = {n: {0: "batch"} if n in ("x", "y", "tau") else {1: "batch"} for n in in_names + out_names}
    with warnings.catch_warnings():  # the exporter's RNN batch-size and tracer notes do not apply (dynamic batch)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            module,
            inputs,
            str(tmp),
            input_names=in_names,
            output_names=out_names,
            opset_version=17,
            dynamic_axes=batch_axes,
            dynamo=False,
        )
    proto = onnx.load(str(tmp))
    meta = {**dataclasses.asdict(network_metadata(model, source)), **kind.onnx_names()}
    entry = proto.metadata_props.add()
    entry.key, entry.value = "metadata", json.dumps(meta, sort_keys=True)
    onnx.save(proto, str(tmp))
    evaluator = ReferenceEvaluator(str(tmp))
    feeds = {n: t.numpy() for n, t in zip(in_names, inputs, strict=True)}
    with np.errstate(over="ignore"):  # the reference sigmoid overflows harmlessly for large pre-activations
        got = evaluator.run(None, feeds)
    with torch.no_grad():
        ref = _flat(module(*inputs))
    diff = max(float(np.abs(np.asarray(g) - r.numpy()).max()) for g, r in zip(got, ref, strict=True))
    if diff > atol:
        raise RuntimeError(f"{path}: ONNX output differs from the trained module by {diff:.3g} (> {atol}).")


def export_model(
    model: ActuatorModel, out_dir: str | Path, name: str | None = None, source: dict | None = None, onnx: bool = True
) -> dict[str, Path]:
    """Write ``<name>.pt`` (TorchScript + metadata) and, with ``onnx``, ``<name>.onnx`` into ``out_dir``.

    With ``onnx``, nets of a kind with a Newton drive (LSTM, MLP) that Newton's own drives can run are also written as
    ``<name>.newton.onnx`` (:mod:`.export_newton`; key ``"newton"``); for the others a warning says why not.
    """
    out_dir = Path(out_dir)
    name = name or model.model_type
    paths = {"torchscript": export_torchscript(model, out_dir / f"{name}.pt", source)}
    if onnx:
        paths["onnx"] = export_onnx(model, out_dir / f"{name}.onnx", source)
        if model.kind.newton_drive is not None:
            from .export_newton import NEWTON_SUFFIX, NewtonExportError, export_newton

            try:
                paths["newton"] = export_newton(model, out_dir / f"{name}{NEWTON_SUFFIX}", source)
            except NewtonExportError as exc:
                warnings.warn(f"no {NEWTON_SUFFIX} file: {exc}", UserWarning, stacklevel=2)
    return paths
