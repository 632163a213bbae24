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

from .. import __version__
from ..atomic_io import atomic_path
from ..network_file import NetworkMetadata, check_examples, load_network, save_network
from .actuator_model import ActuatorModel

__all__ = ["example_inputs", "export_model", "export_onnx", "export_torchscript", "network_metadata"]


def _identified(model: ActuatorModel) -> dict:
    """``{"identified": ...}``: the physics identified by trajectory simulation (``physics.fit="trajectory"``)."""
    found = getattr(model.physics, "identified", None) if model.model_type == "gru_pd" else None
    return {"identified": found} if found else {}


def _gain_scale(model: ActuatorModel) -> dict:
    """``{"kp_scale": ...}`` of a GRU-PD model whose gains are ``kp_scale`` times the logged gain, else ``{}``.

    The gain the trainer used for every run (features ``kp``/``tau_pd``/``tau_phys`` and the residual's base torque):
    validation and comparison on a log give the actuator ``kp_scale`` times each joint's logged gain from it
    (:func:`learned_actuators.validation.model_physics.network_physics`). Without it they fell back to a scale of 1,
    and a fitted scale (e.g. 0.9993) became a feature and base-torque error larger than the net's held-out error.
    """
    if model.model_type != "gru_pd" or model.physics.kp is not None:
        return {}
    return {"kp_scale": float(model.physics.kp_scale)}


def network_metadata(model: ActuatorModel, source: dict | None = None) -> NetworkMetadata:
    """The :class:`NetworkMetadata` of a trained model (normalisation in the network)."""
    mc = model.model_cfg
    source = {**_gain_scale(model), **_identified(model), **(source or {})}
    common = {
        "dt": float(model.dt),
        "input_mean": [float(v) for v in model.input_norm.mean],
        "input_std": [float(v) for v in model.input_norm.std],
        "output_mean": float(model.output_norm.mean[0]),
        "output_std": float(model.output_norm.std[0]),
        "normalization_in_network": True,
        "source": {"package": "learned_actuators", "version": __version__, **source},
        "near_constant_inputs": [int(i) for i in np.flatnonzero(model.input_norm.near_constant)],
        "notes": [str(n) for n in model.info.get("notes", [])],
        "examples": model.examples(),
    }
    if model.model_type == "gru_pd":
        train_kp = model.info.get("train_kp")
        kp = model.physics.kp if model.physics.kp is not None else (float(np.median(train_kp)) if train_kp else 0.0)
        return NetworkMetadata(
            model_type="gru_pd",
            features=list(mc.features),
            mode=mc.mode,
            hidden_size=mc.hidden_size,
            num_layers=mc.num_layers,
            physics=model.physics_params(kp).to_dict(),
            **common,
        )
    if model.model_type == "lstm":
        return NetworkMetadata(
            model_type="lstm",
            features=["pos_error", "qd"],
            hidden_size=mc.hidden_size,
            num_layers=mc.num_layers,
            **common,
        )
    return NetworkMetadata(
        model_type="mlp",
        features=["pos_error", "qd"],
        input_idx=list(mc.input_idx),
        input_order="pos_vel",
        pos_error_sign=1,
        pos_scale=1.0,
        vel_scale=1.0,
        torque_scale=1.0,
        **common,
    )


def example_inputs(model: ActuatorModel, batch: int = 4, seed: int = 0) -> tuple:
    """Random per-step inputs in the deploy signature of the model type (float32)."""
    g = torch.Generator().manual_seed(seed)
    mc = model.model_cfg
    if model.model_type == "gru_pd":
        x = torch.randn(batch, 1, len(mc.features), generator=g) * torch.as_tensor(
            model.input_norm.std, dtype=torch.float32
        )
        return x, torch.randn(mc.num_layers, batch, mc.hidden_size, generator=g) * 0.1
    if model.model_type == "lstm":
        x = torch.randn(batch, 1, 2, generator=g)
        h = torch.randn(mc.num_layers, batch, mc.hidden_size, generator=g) * 0.1
        return x, (h, torch.randn_like(h) * 0.1)
    return (torch.randn(batch, 2 * len(mc.input_idx), generator=g),)


def _flat(out) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    return [t for o in out for t in _flat(o)]


def export_torchscript(model: ActuatorModel, path: str | Path, source: dict | None = None, atol: float = 1e-6) -> Path:
    """Write the TorchScript file with metadata; reload it and check it reproduces the module and the trainer.

    The reloaded module must match the in-memory one on random inputs (≤ ``atol``) and the trainer's outputs on the
    representative training inputs stored in the file (:func:`~learned_actuators.network_file.check_examples`: ≤ 1e-4
    of the torque scale).
    """
    path = Path(path)
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


def _onnx_names(model_type: str) -> tuple[list[str], list[str]]:
    if model_type == "gru_pd":
        return ["x", "h_in"], ["y", "h_out"]
    if model_type == "lstm":
        return ["x", "h_in", "c_in"], ["tau", "h_out", "c_out"]
    return ["x"], ["tau"]


class _OnnxLSTM(torch.nn.Module):
    """Flat-argument view of the LSTM deploy module for ONNX (no nested tuples)."""

    def __init__(self, module: torch.nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x, h, c):
        tau, (h_out, c_out) = self.module(x, (h, c))
        return tau, h_out, c_out


def export_onnx(model: ActuatorModel, path: str | Path, source: dict | None = None, atol: float = 1e-5) -> Path:
    """Write the ONNX file (opset 17, dynamic batch) with the metadata as a JSON ``metadata`` property.

    The file is re-run with ONNX's reference evaluator and compared with the module (≤ ``atol``).
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        _export_onnx_to(model, tmp, path, source, atol)
    return path


def _export_onnx_to(model: ActuatorModel, tmp: Path, path: Path, source: dict | None, atol: float) -> None:
    """Write the ONNX file to ``tmp`` and check it (errors name ``path``)."""
    import onnx
    from onnx.reference import ReferenceEvaluator

    module = model.deploy_module()
    inputs = example_inputs(model)
    in_names, out_names = _onnx_names(model.model_type)
    if model.model_type == "lstm":
        module, inputs = _OnnxLSTM(module).eval(), (inputs[0], *inputs[1])
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
    meta = dataclasses.asdict(network_metadata(model, source))
    if model.model_type == "lstm":
        meta.update(
            input_name="x",
            hidden_in_name="h_in",
            cell_in_name="c_in",
            output_name="tau",
            hidden_out_name="h_out",
            cell_out_name="c_out",
        )
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

    With ``onnx``, LSTM and MLP nets that Newton's own drives can run are also written as ``<name>.newton.onnx``
    (:mod:`.export_newton`; key ``"newton"``); for the others a warning says why not.
    """
    out_dir = Path(out_dir)
    name = name or model.model_type
    paths = {"torchscript": export_torchscript(model, out_dir / f"{name}.pt", source)}
    if onnx:
        paths["onnx"] = export_onnx(model, out_dir / f"{name}.onnx", source)
        if model.model_type in ("lstm", "mlp"):
            from .export_newton import NEWTON_SUFFIX, NewtonExportError, export_newton

            try:
                paths["newton"] = export_newton(model, out_dir / f"{name}{NEWTON_SUFFIX}", source)
            except NewtonExportError as exc:
                warnings.warn(f"no {NEWTON_SUFFIX} file: {exc}", UserWarning, stacklevel=2)
    return paths
