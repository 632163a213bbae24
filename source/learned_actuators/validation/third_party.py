"""Model specs of ``scripts/compare_actuators.py``: our files, third-party nets with their conventions, stock cfgs.

A spec is ``KIND:TARGET[,key=value,...]``; a value may hold commas (``input_idx=0,1,2``: items without ``=`` continue
the previous value). Every spec may set ``name=`` (the table's row name; default: the file stem or the class).

- ``ours:FILE``: a network file of ours (GRU-PD, LSTM or MLP); conventions, rate and gain scale come from the file.
- ``mlp:FILE``: a TorchScript MLP without metadata; ``pos_scale`` (factor on ``q* - q``), ``input_idx`` and ``dt``
  (history spacing [s]) are required; ``vel_scale``, ``torque_scale`` (default 1), ``input_order`` (``pos_vel``),
  ``effort_limit`` [N·m] and ``velocity_limit`` [rad/s] (default: open) are optional.
- ``onnx:FILE``: an ONNX dense MLP, same keys (converted to TorchScript and checked against the ONNX file).
- ``lstm:FILE``: a TorchScript LSTM with Isaac Lab's contract; ``dt`` [s] required, limits optional.
- ``isaaclab:IdealPD`` / ``isaaclab:DCMotor``: ``kp`` [N·m/rad], ``kd`` [N·m·s/rad] (default: each joint's logged
  gain), ``effort_limit``, ``velocity_limit`` (required for ``DCMotor``).

Walk-these-ways' Go1 net: ``mlp:unitree_go1.pt,pos_scale=-1,input_idx=0,1,2,dt=0.02``. An unknown convention is found by
:func:`~learned_actuators.validation.conventions.probe_convention` (``--probe-convention``).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from learned_actuators.errors import UserInputError

from .model_physics import OPEN_LIMITS, learned_model_cfg

__all__ = ["KINDS", "ModelSpec", "onnx_to_torchscript", "parse_model_spec"]

KINDS = ("ours", "mlp", "onnx", "lstm", "isaaclab")
"""Model kinds of a spec."""
STOCK = ("IdealPD", "DCMotor")
"""Isaac Lab classes a spec may name."""
_NET_KEYS = ("name", "pos_scale", "vel_scale", "torque_scale", "input_order", "input_idx", "dt", "effort_limit",
             "velocity_limit")  # fmt: skip
KEYS = {
    "ours": ("name",),
    "mlp": _NET_KEYS,
    "onnx": _NET_KEYS,
    "lstm": ("name", "dt", "effort_limit", "velocity_limit"),
    "isaaclab": ("name", "kp", "kd", "effort_limit", "velocity_limit"),
}
"""Keys each kind accepts."""


@dataclass
class ModelSpec:
    """A parsed ``--model`` argument."""

    name: str
    """Row name in the comparison."""
    kind: str
    """One of :data:`KINDS`."""
    cfg: object
    """The actuator cfg (joint names are set where it is built)."""
    gains: tuple[float, float] | None
    """Fixed ``(kp, kd)`` of a stock PD cfg; None: the log's per-joint gains (PD cfgs) or none (nets)."""
    text: str
    """The spec as given."""


def _split(text: str, where: str) -> tuple[str, str, dict[str, str]]:
    kind, sep, rest = text.partition(":")
    if not sep or kind not in KINDS:
        raise UserInputError(
            f"{where} {text!r}: expected KIND:TARGET[,key=value,...] with KIND one of {list(KINDS)} "
            "(e.g. mlp:unitree_go1.pt,pos_scale=-1,input_idx=0,1,2,dt=0.02 or isaaclab:IdealPD)."
        )
    parts = [p.strip() for p in rest.split(",")]
    target, values, key = parts[0], {}, None
    if not target:
        raise UserInputError(f"{where} {text!r}: no target after '{kind}:' (a file, or {list(STOCK)} for isaaclab).")
    for part in parts[1:]:
        if "=" in part:
            key, value = (s.strip() for s in part.split("=", 1))
            if key not in KEYS[kind]:
                raise UserInputError(
                    f"{where} {text!r}: unknown key {key!r} for '{kind}'; expected {list(KEYS[kind])}."
                )
            values[key] = value
        elif key is not None and part:
            values[key] += "," + part  # input_idx=0,1,2
        elif part:
            raise UserInputError(f"{where} {text!r}: {part!r} is not key=value.")
    return kind, target, values


def _number(values: dict, key: str, where: str, positive: bool = False, nonzero: bool = False) -> float | None:
    if key not in values:
        return None
    try:
        value = float(values[key])
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or (positive and value <= 0) or (nonzero and value == 0):
        want = "a positive number" if positive else ("a finite non-zero number" if nonzero else "a finite number")
        raise UserInputError(f"{where}: {key}={values[key]!r}; expected {want}.")
    return value


def _limits(values: dict, where: str) -> dict:
    effort = _number(values, "effort_limit", where, positive=True)
    speed = _number(values, "velocity_limit", where, positive=True)
    out = dict(OPEN_LIMITS)
    if effort is not None:
        out.update(saturation_effort=effort, actuator_effort_limit=effort)
    if speed is not None:
        out["actuator_velocity_limit"] = speed
    return out


def _file(target: str, where: str, suffixes: tuple[str, ...]) -> str:
    if not Path(target).is_file():
        raise UserInputError(f"{where}: file {target} not found.")
    if not target.endswith(suffixes):
        raise UserInputError(f"{where}: file {target} should end with {' or '.join(suffixes)}.")
    return target


def _require(values: dict, keys: tuple[str, ...], where: str, hint: str) -> None:
    missing = [k for k in keys if k not in values]
    if missing:
        raise UserInputError(f"{where}: missing {', '.join(f'{k}=' for k in missing)}; {hint}")


def _mlp_cfg(path: str, values: dict, where: str):
    from learned_actuators.actuators import MLPActuatorNetCfg

    hint = (
        "a third-party net records no convention: give pos_scale (factor on q* - q: 1, or -1 for e = q - q*), "
        "input_idx (history slots, e.g. 0,1,2) and dt (history spacing [s], e.g. 0.02); "
        "scripts/compare_actuators.py --probe-convention finds them from a log."
    )
    _require(values, ("pos_scale", "input_idx", "dt"), where, hint)
    order = values.get("input_order", "pos_vel")
    if order not in ("pos_vel", "vel_pos"):
        raise UserInputError(f"{where}: input_order={order!r}; expected 'pos_vel' or 'vel_pos'.")
    try:
        idx = [int(i) for i in values["input_idx"].split(",")]
    except ValueError:
        idx = [-1]
    if not idx or min(idx) < 0:
        raise UserInputError(f"{where}: input_idx={values['input_idx']!r}; expected history slots >= 0, e.g. 0,1,2.")
    return MLPActuatorNetCfg(
        joint_names_expr=[".*"],
        network_file=path,
        network_dt=_number(values, "dt", where, positive=True),
        pos_scale=_number(values, "pos_scale", where, nonzero=True),
        vel_scale=_number(values, "vel_scale", where, nonzero=True) or 1.0,
        torque_scale=_number(values, "torque_scale", where, nonzero=True) or 1.0,
        input_order=order,
        input_idx=idx,
        **_limits(values, where),
    )


def _stock_cfg(target: str, values: dict, where: str):
    from isaaclab.actuators import DCMotorCfg, IdealPDActuatorCfg

    if target not in STOCK:
        raise UserInputError(f"{where}: Isaac Lab class {target!r}; expected one of {list(STOCK)}.")
    kp, kd = _number(values, "kp", where), _number(values, "kd", where)
    if (kp is None) != (kd is None) and kp is None:
        raise UserInputError(f"{where}: kd without kp; give both (or neither: the log's per-joint gains).")
    gains = None if kp is None else (kp, kd or 0.0)
    if target == "IdealPD":
        return IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=0.0, damping=0.0), gains
    _require(values, ("effort_limit", "velocity_limit"), where, "DCMotor needs its stall torque and no-load speed.")
    effort = _number(values, "effort_limit", where, positive=True)
    cfg = DCMotorCfg(
        joint_names_expr=[".*"],
        stiffness=0.0,
        damping=0.0,
        saturation_effort=effort,
        actuator_effort_limit=effort,
        actuator_velocity_limit=_number(values, "velocity_limit", where, positive=True),
    )
    return cfg, gains


def parse_model_spec(text: str, where: str = "--model", convert_dir: str | Path | None = None) -> ModelSpec:
    """A ``--model`` argument as a :class:`ModelSpec` (see the module docstring for the format).

    Args:
        text: The spec.
        where: The argument's name, used in errors.
        convert_dir: Folder for TorchScript copies of ONNX nets (default: a temporary folder).

    Raises:
        UserInputError: naming the argument, the key and what is expected.
    """
    kind, target, values = _split(text, where)
    where = f"{where} {text!r}"
    gains = None
    if kind == "ours":
        from learned_actuators.network_file import NetworkFileError

        try:
            cfg = learned_model_cfg(_file(target, where, (".pt",)))
        except NetworkFileError as err:
            raise UserInputError(f"{where}: {err}") from None
    elif kind == "mlp":
        cfg = _mlp_cfg(_file(target, where, (".pt",)), values, where)
    elif kind == "onnx":
        cfg = _mlp_cfg(str(onnx_to_torchscript(_file(target, where, (".onnx",)), convert_dir)), values, where)
    elif kind == "lstm":
        from learned_actuators.actuators import LSTMActuatorNetCfg

        _require(values, ("dt",), where, "give the rate the LSTM runs at (dt=<s>, e.g. dt=0.005).")
        path = _file(target, where, (".pt",))
        dt = _number(values, "dt", where, positive=True)
        cfg = LSTMActuatorNetCfg(joint_names_expr=[".*"], network_file=path, network_dt=dt, **_limits(values, where))
    else:
        cfg, gains = _stock_cfg(target, values, where)
    name = values.get("name") or (target if kind == "isaaclab" else Path(target).stem)
    return ModelSpec(name=name, kind=kind, cfg=cfg, gains=gains, text=text)


_ACTIVATIONS = {
    "Relu": lambda node: torch.nn.ReLU(),
    "Tanh": lambda node: torch.nn.Tanh(),
    "Sigmoid": lambda node: torch.nn.Sigmoid(),
    "Softsign": lambda node: torch.nn.Softsign(),
    "Softplus": lambda node: torch.nn.Softplus(),
    "Elu": lambda node: torch.nn.ELU(_attr(node, "alpha", 1.0)),
    "LeakyRelu": lambda node: torch.nn.LeakyReLU(_attr(node, "alpha", 0.01)),
    "Identity": lambda node: torch.nn.Identity(),
}
"""ONNX activations a dense MLP may use, as torch modules."""


def _attr(node, name: str, default):
    import onnx

    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _onnx_layers(model, source: str) -> list[torch.nn.Module]:
    """The dense layers and activations of a chain-shaped ONNX MLP (Gemm, or MatMul + Add, and activations)."""
    from onnx import numpy_helper

    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    layers: list[torch.nn.Module] = []
    pending = None  # a MatMul weight waiting for its Add bias
    for node in model.graph.node:
        op = node.op_type
        if op in ("Gemm", "MatMul"):
            w = weights.get(node.input[1])
            if w is None or w.ndim != 2 or (op == "Gemm" and _attr(node, "transA", 0)):
                raise UserInputError(f"{source}: node {node.name or op} is not a dense layer with a constant weight.")
            trans = op == "Gemm" and _attr(node, "transB", 0)
            w = (w if trans else w.T) * (_attr(node, "alpha", 1.0) if op == "Gemm" else 1.0)
            bias = None
            if op == "Gemm" and len(node.input) > 2:
                bias = weights[node.input[2]].reshape(-1) * _attr(node, "beta", 1.0)
            pending = (w, bias)
        elif op == "Add" and pending is not None and pending[1] is None and node.input[1] in weights:
            pending = (pending[0], weights[node.input[1]].reshape(-1))
        elif op in _ACTIVATIONS:
            layers += _flush(pending)
            pending = None
            layers.append(_ACTIVATIONS[op](node))
        else:
            raise UserInputError(
                f"{source}: ONNX op {op!r} is not part of a dense MLP (supported: Gemm, MatMul + Add, "
                f"{', '.join(_ACTIVATIONS)}); export the net to TorchScript and use mlp: instead."
            )
    return layers + _flush(pending)


def _flush(pending) -> list[torch.nn.Module]:
    if pending is None:
        return []
    w, bias = pending
    layer = torch.nn.Linear(w.shape[1], w.shape[0], bias=bias is not None)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(np.ascontiguousarray(w), dtype=torch.float32))
        if bias is not None:
            layer.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
    return [layer]


def onnx_to_torchscript(path: str | Path, out_dir: str | Path | None = None, atol: float = 1e-5) -> Path:
    """A TorchScript copy of an ONNX dense MLP, checked against the ONNX file on random inputs.

    The ONNX file runs with ``onnxruntime`` when it is installed, else with ``onnx``'s reference evaluator (no new
    dependency). The copy (``<out_dir>/<stem>.pt``, written atomically) runs in our MLP actuator like any
    TorchScript net.

    Raises:
        UserInputError: for a file that is not a chain of dense layers and activations, or a copy that differs.
    """
    import onnx

    from learned_actuators.atomic_io import atomic_path

    path = Path(path)
    try:
        model = onnx.load(str(path))
    except Exception as err:  # onnx raises DecodeError and others for a file that is not ONNX
        raise UserInputError(f"{path}: not an ONNX file ({type(err).__name__}: {err}).") from None
    net = torch.nn.Sequential(*_onnx_layers(model, str(path))).eval()
    first = next((m for m in net if isinstance(m, torch.nn.Linear)), None)
    if first is None:
        raise UserInputError(f"{path}: no dense layer found; not an MLP.")
    x = torch.randn(64, first.in_features, generator=torch.Generator().manual_seed(0))
    expected = _run_onnx(path, model, x.numpy())
    with torch.no_grad():
        got = net(x).numpy().reshape(expected.shape)
    error = float(np.max(np.abs(got - expected)))
    if error > atol * max(1.0, float(np.abs(expected).max())):
        raise UserInputError(f"{path}: the TorchScript copy differs from the ONNX net by {error:.3g}; not a plain MLP.")
    out_dir = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="onnx_nets_"))
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{path.stem}.pt"
    with atomic_path(out) as tmp:
        torch.jit.save(torch.jit.script(net), str(tmp))
    return out


def _run_onnx(path: Path, model, x: np.ndarray) -> np.ndarray:
    feed_name = model.graph.input[0].name
    try:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return np.asarray(session.run(None, {feed_name: x})[0])
    except ImportError:
        from onnx.reference import ReferenceEvaluator

        return np.asarray(ReferenceEvaluator(model).run(None, {feed_name: x})[0])
