r"""GRU-PD network files read into plain arrays for the Warp drive (TorchScript + ``metadata.json``).

:func:`load_gru_pd_params` reads a ``gru_pd`` network file (written by
:func:`learned_actuators.network_file.save_network`) and returns its GRU weights, head layers and the affine maps
around them as float32 numpy arrays:

.. math::

    x_{net} = a \odot x + c, \qquad h' = \mathrm{GRU}(x_{net}, h), \qquad \tau = s\, \mathrm{head}(h'_{L-1}) + o

where ``x`` holds the raw features of the file's ``features`` list, ``(a, c)`` combine the file's ``input_mean`` /
``input_std`` (unless ``normalization_in_network``) with the module's own scaling buffers (``in_scale``,
``input_mean``/``input_std``), and ``(s, o)`` its ``output_std``/``output_mean`` and ``out_scale`` buffers, exactly as
:class:`~learned_actuators.actuators.CombinedGRUAndPDActuator` interprets them. The extracted form is checked against
the TorchScript module on random inputs (:func:`check_against_module`); a net whose forward is not of this form is
rejected rather than run wrongly.

:func:`read_metadata` reads only the embedded metadata (no TorchScript load), cached per file: Newton's USD parser
asks for it once per actuator prim.
"""

from __future__ import annotations

import functools
import os
import zipfile
from dataclasses import dataclass

import numpy as np
import torch

from ..network_file import FEATURES, METADATA_FILE_NAME, NetworkFileError, NetworkMetadata, module_scaling

__all__ = [
    "ACTIVATIONS",
    "GRUPDParams",
    "check_against_module",
    "load_gru_pd_params",
    "metadata_affine",
    "read_metadata",
    "reference_step",
]

ACTIVATIONS = {None: 0, "softsign": 1, "relu": 2, "tanh": 3, "elu": 4, "sigmoid": 5}
"""Head activation codes used by the Warp kernel."""

MODEL_TYPE = "gru_pd"
"""The model kind whose files the GRU-PD drive runs (``learned_actuators.learning.kinds.GRUPDKind``)."""

FEATURE_CODES = {name: code for code, name in enumerate(FEATURES)}
"""Feature codes used by the Warp kernel (index in :data:`learned_actuators.network_file.FEATURES`)."""

_CHECK_TOLERANCE = 1e-4
"""Relative (to the output magnitude) tolerance of the load-time check against the TorchScript module."""


@dataclass
class GRUPDParams:
    """Everything the Warp GRU-PD drive needs from a network file (float32 numpy arrays)."""

    metadata: NetworkMetadata
    features: list[str]
    mode: str
    num_layers: int
    hidden_size: int
    w_ih: list[np.ndarray]
    """Per layer ``(3H, in)`` input weights, gate rows ``[r; z; n]`` (PyTorch order)."""
    w_hh: list[np.ndarray]
    """Per layer ``(3H, H)`` recurrent weights."""
    b_ih: list[np.ndarray]
    b_hh: list[np.ndarray]
    head: list[tuple[np.ndarray, np.ndarray, str | None]]
    """Head layers ``(weight (out, in), bias (out,), activation after)``; the last has one output."""
    input_scale: np.ndarray
    """``a`` of ``x_net = a * x + c``, shape (F,)."""
    input_offset: np.ndarray
    """``c`` of ``x_net = a * x + c``, shape (F,)."""
    output_scale: float
    output_offset: float


def _zip_metadata(path: str) -> str | None:
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            parts = name.split("/")
            if parts[-1] == METADATA_FILE_NAME and len(parts) >= 2 and parts[-2] == "extra":
                return archive.read(name).decode()
    return None


@functools.lru_cache(maxsize=64)
def _cached_metadata(path: str, _mtime_ns: int, _size: int) -> NetworkMetadata | None:
    text = _zip_metadata(path)
    return NetworkMetadata.from_json(text, source=path) if text else None


def read_metadata(path: str | os.PathLike) -> NetworkMetadata:
    """Metadata of a network file without loading its TorchScript (cached per file version).

    Raises:
        NetworkFileError: if the file is missing, not a TorchScript archive, or has no metadata.
    """
    path = os.path.abspath(os.fspath(path))
    if not os.path.isfile(path):
        raise NetworkFileError(f"Actuator network file not found: {path!r}.")
    if not zipfile.is_zipfile(path):
        raise NetworkFileError(f"{path}: not a TorchScript archive (expected a file written by torch.jit.save).")
    stat = os.stat(path)
    metadata = _cached_metadata(path, stat.st_mtime_ns, stat.st_size)
    if metadata is None:
        raise NetworkFileError(
            f"{path}: has no {METADATA_FILE_NAME}; the GRU-PD drive needs the features, normalisation, mode and dt. "
            "Export it with learned_actuators.network_file.save_network."
        )
    return metadata


def metadata_affine(meta: NetworkMetadata, width: int, source: str):
    """``(a, c, s, o)`` of the file's normalisation (as ``LearnedActuatorBase._normalization``)."""
    ones, zeros = np.ones(width, np.float64), np.zeros(width, np.float64)
    if meta.normalization_in_network or not (meta.input_mean or meta.input_std):
        if not meta.normalization_in_network:
            return ones, zeros, float(meta.output_std), float(meta.output_mean)
        return ones, zeros, 1.0, 0.0
    if len(meta.input_mean) != width or len(meta.input_std) != width:
        raise NetworkFileError(
            f"{source}: metadata 'input_mean'/'input_std' have {len(meta.input_mean)}/{len(meta.input_std)} entries; "
            f"the net takes {width} inputs."
        )
    std = np.asarray(meta.input_std, np.float64)
    if not (std > 0).all():
        raise NetworkFileError(f"{source}: metadata 'input_std' must be positive, got {meta.input_std}.")
    mean = np.asarray(meta.input_mean, np.float64)
    return 1.0 / std, -mean / std, float(meta.output_std), float(meta.output_mean)


def _module_affine(net, width: int, source: str):
    """``(a, c, s, o)`` of the module's own scaling buffers (:func:`~learned_actuators.network_file.module_scaling`)."""
    try:
        scale, shift, out_scale, out_shift = module_scaling(net, width, torch.float64)
    except NetworkFileError as err:
        raise NetworkFileError(f"{source}: {err}") from None
    return scale.numpy(), shift.numpy(), out_scale, out_shift


_ACTIVATION_BY_MODULE = {"Softsign": "softsign", "ReLU": "relu", "Tanh": "tanh", "ELU": "elu", "Sigmoid": "sigmoid"}


def _activation_name(module) -> str | None:
    """Element-wise activation a (scripted) module computes, or None (same set as the torch fused kernels)."""
    name = getattr(module, "original_name", type(module).__name__)
    if name == "Act":  # walk-these-ways' scripted activation module
        act = getattr(module, "act", None)
        return act if act in ACTIVATIONS and act is not None else None
    if name == "ELU" and float(getattr(module, "alpha", 1.0)) != 1.0:
        return None
    return _ACTIVATION_BY_MODULE.get(name)


def _head_layers(module, source: str) -> list[tuple[np.ndarray, np.ndarray, str | None]]:
    """The head as ``[(weight, bias, activation_after), ...]``: one Linear or a Sequential of Linear/activations."""
    name = getattr(module, "original_name", type(module).__name__)
    children = list(module.children()) if name == "Sequential" else [module]
    layers: list[tuple[np.ndarray, np.ndarray, str | None]] = []
    supported = True
    for child in children:
        if getattr(child, "original_name", type(child).__name__) == "Linear":
            weight = child.weight.detach().float().cpu().numpy()
            bias = child.bias
            bias = np.zeros(weight.shape[0], np.float32) if bias is None else bias.detach().float().cpu().numpy()
            layers.append((weight, bias, None))
            continue
        act = _activation_name(child)
        if act is None or not layers or layers[-1][2] is not None:
            supported = False
            break
        layers[-1] = (layers[-1][0], layers[-1][1], act)
    if not supported or not layers:
        raise NetworkFileError(
            f"{source}: the GRU head is not a Linear/activation chain (softsign, relu, tanh, elu, sigmoid); the Warp "
            "drive cannot run it."
        )
    if layers[-1][0].shape[0] != 1:
        raise NetworkFileError(f"{source}: the head must have one output per joint; it has {layers[-1][0].shape[0]}.")
    if layers[-1][2] is not None:
        raise NetworkFileError(f"{source}: an activation after the last head layer is not supported.")
    return layers


def _checked_gru(net, meta, source: str):
    """The net's ``.gru`` submodule and its one head, after checking the metadata's mode and features."""
    if meta.mode not in ("residual", "direct"):
        raise NetworkFileError(f"{source}: metadata 'mode' is {meta.mode!r}; expected 'residual' or 'direct'.")
    if not meta.features:
        raise NetworkFileError(f"{source}: metadata 'features' is empty; expected a list from {FEATURES}.")
    gru = getattr(net, "gru", None)
    if gru is None:
        children = [name for name, _ in net.named_children()]
        raise NetworkFileError(f"{source}: the net needs a '.gru' submodule; found children {children}.")
    if bool(getattr(gru, "bidirectional", False)) or not bool(getattr(gru, "batch_first", True)):
        raise NetworkFileError(f"{source}: the GRU must be unidirectional and batch_first.")
    heads = [child for name, child in net.named_children() if name != "gru"]
    if len(heads) != 1:
        raise NetworkFileError(f"{source}: expected one head module beside '.gru', found {len(heads)}.")
    return gru, heads


def load_gru_pd_params(path: str | os.PathLike, check: bool = True) -> GRUPDParams:
    """Read a ``gru_pd`` network file into :class:`GRUPDParams` (and check it against its module).

    Raises:
        NetworkFileError: if the file is not a ``gru_pd`` net of the supported form, or its metadata is inconsistent.
    """
    from ..network_file import load_network

    source = os.fspath(path)
    net, meta = load_network(source, device="cpu")
    if meta is None:
        raise NetworkFileError(f"{source}: the GRU-PD drive needs a network file with metadata.")
    if meta.model_type != MODEL_TYPE:
        raise NetworkFileError(
            f"{source}: metadata 'model_type' is {meta.model_type!r}; the GRU-PD drive runs {MODEL_TYPE!r}."
        )
    gru, heads = _checked_gru(net, meta, source)
    state = {k: v.detach().float().cpu().numpy() for k, v in gru.state_dict().items()}
    num_layers = sum(1 for key in state if key.startswith("weight_ih_l"))
    hidden = int(state["weight_hh_l0"].shape[1])
    width = len(meta.features)
    if state["weight_ih_l0"].shape[1] != width:
        raise NetworkFileError(
            f"{source}: the GRU takes {state['weight_ih_l0'].shape[1]} inputs per step, but metadata 'features' "
            f"names {width}."
        )
    for name, have in (("hidden_size", hidden), ("num_layers", num_layers)):
        if getattr(meta, name) not in (0, have):
            raise NetworkFileError(f"{source}: metadata '{name}' is {getattr(meta, name)}, but the GRU has {have}.")
    a_m, c_m, s_m, o_m = metadata_affine(meta, width, source)
    a_b, c_b, s_b, o_b = _module_affine(net, width, source)
    zeros = np.zeros(3 * hidden, np.float32)
    params = GRUPDParams(
        metadata=meta,
        features=list(meta.features),
        mode=meta.mode,
        num_layers=num_layers,
        hidden_size=hidden,
        w_ih=[state[f"weight_ih_l{k}"] for k in range(num_layers)],
        w_hh=[state[f"weight_hh_l{k}"] for k in range(num_layers)],
        b_ih=[state.get(f"bias_ih_l{k}", zeros) for k in range(num_layers)],
        b_hh=[state.get(f"bias_hh_l{k}", zeros) for k in range(num_layers)],
        head=_head_layers(heads[0], source),
        input_scale=(a_b * a_m).astype(np.float32),  # x_net = a_b (a_m x + c_m) + c_b
        input_offset=(a_b * c_m + c_b).astype(np.float32),
        output_scale=float(s_m * s_b),  # tau = s_m (s_b y + o_b) + o_m
        output_offset=float(s_m * o_b + o_m),
    )
    if check:
        check_against_module(params, net, source)
    return params


def _activate(x: np.ndarray, act: str | None) -> np.ndarray:
    if act is None:
        return x
    if act == "softsign":
        return x / (1.0 + np.abs(x))
    if act == "relu":
        return np.maximum(x, 0.0)
    if act == "tanh":
        return np.tanh(x)
    if act == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))
    if act == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    raise ValueError(f"Unknown activation {act!r}.")


def reference_step(params: GRUPDParams, x: np.ndarray, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One step of the extracted net in float64: raw features ``x`` (N, F), state (L, N, H) -> (tau (N,), state)."""
    hs = params.hidden_size
    z = x * params.input_scale.astype(np.float64) + params.input_offset.astype(np.float64)
    new = np.empty_like(hidden, dtype=np.float64)
    for k in range(params.num_layers):
        h = hidden[k].astype(np.float64)
        gi = z @ params.w_ih[k].T.astype(np.float64) + params.b_ih[k]
        gh = h @ params.w_hh[k].T.astype(np.float64) + params.b_hh[k]
        r = 1.0 / (1.0 + np.exp(-(gi[:, :hs] + gh[:, :hs])))
        u = 1.0 / (1.0 + np.exp(-(gi[:, hs : 2 * hs] + gh[:, hs : 2 * hs])))
        n = np.tanh(gi[:, 2 * hs :] + r * gh[:, 2 * hs :])
        new[k] = (1.0 - u) * n + u * h
        z = new[k]
    y = z
    for weight, bias, act in params.head:
        y = _activate(y @ weight.T.astype(np.float64) + bias, act)
    return y[:, 0] * params.output_scale + params.output_offset, new


def check_against_module(params: GRUPDParams, net, source: str, rows: int = 64, steps: int = 3) -> float:
    """Max error [N·m] of :func:`reference_step` against the TorchScript module over a few random steps.

    The module is called as :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator` calls it (normalised
    input, denormalised output); raises :class:`NetworkFileError` when the error exceeds ``1e-4`` relative to the
    output magnitude (at least 1 N·m), i.e. when the module's forward is not ``head(gru(x))`` with the recognised
    scaling buffers.
    """
    rng = np.random.default_rng(0)
    width = len(params.features)
    a_m, c_m, s_m, o_m = metadata_affine(params.metadata, width, source)
    hidden = 0.5 * rng.standard_normal((params.num_layers, rows, params.hidden_size))
    h_mod = torch.tensor(hidden, dtype=torch.float32)
    error, scale = 0.0, 1.0
    for _ in range(steps):
        x = rng.standard_normal((rows, width))
        tau, hidden = reference_step(params, x, hidden)
        z = torch.tensor(x * a_m + c_m, dtype=torch.float32).unsqueeze(1)
        with torch.inference_mode():
            y, h_mod = net(z, h_mod)
        tau_mod = y.reshape(-1).double().numpy() * s_m + o_m
        finite = np.isfinite(tau_mod)  # non-finite outputs are the runtime guard's business, not a structure error
        if finite.any():
            error = max(error, float(np.abs(tau_mod - tau)[finite].max()))
            scale = max(scale, float(np.abs(tau[finite]).max()))
        error = max(error, float(np.abs(h_mod.double().numpy() - hidden).max()))
    if not error <= _CHECK_TOLERANCE * scale:
        raise NetworkFileError(
            f"{source}: the net's forward is not head(gru(x)) with the recognised scaling buffers (the extracted "
            f"weights differ from the module by {error:.3g} N·m on random inputs); the Warp GRU-PD drive cannot run it."
        )
    return error
