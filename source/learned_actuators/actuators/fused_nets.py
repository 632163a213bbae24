"""Fused forward passes of small actuator nets on preallocated buffers (pure PyTorch, no Isaac Lab).

Actuator nets are tiny (tens of weights per row) and run on huge batches (``num_envs * num_joints`` rows), so
their cost is memory traffic and operator dispatch, not arithmetic. The classes here extract the weights of a
TorchScript MLP, LSTM or GRU once and evaluate the same function with:

* a feature-major layout: activations are ``(features, batch)`` so that every gate block of an LSTM/GRU is a
  contiguous row block and each activation is one in-place pass;
* column chunks: the batch is evaluated a few thousand columns at a time with scratch buffers of one chunk,
  so a chunk's gates and hidden activations stay in the L2 cache through all its layers (views of every chunk
  are built once, so the per-chunk Python cost is the kernel launches alone);
* one ``torch.mm(..., out=...)`` per layer and chunk: biases ride on rows of ones kept in the buffers, and a
  recurrent layer multiplies ``[x; 1; h]`` (stored contiguously) by ``[W_ih | b | W_hh]`` in one product;
* input affine maps (scales, signs, normalisation, history ordering) folded into the first layer and output
  affine maps (torque scale, denormalisation) folded into the last layer;
* ``tanh(x)`` evaluated as ``2 * sigmoid(2 x) - 1`` (PyTorch's CPU ``tanh`` is several times slower than its
  ``sigmoid``; the two agree to about 1e-7 absolute), with the factor 2 folded into the weights where it can
  be, and the GRU's ``1 - z`` computed as ``sigmoid(-a_z)`` with negated weights.

:class:`FusedMLP` can also run each chunk through one ``torch.compile``-d function (:meth:`FusedMLP.compile`), which
fuses every layer's bias and activation into a single pass.

Results match the TorchScript module to float32 rounding (about 1e-5 relative); the actuators check this when they
load a net, on random inputs and on the representative training inputs a file of ours stores with the trainer's
outputs (:func:`fused_example_error`: folding a scaling buffer into the first layer can amplify rounding where random
inputs do not show it), and fall back to calling the TorchScript module when it does not hold.

This module holds the shared machinery and :class:`FusedMLP`; the LSTM/GRU net is
:class:`~learned_actuators.actuators.fused_recurrent.FusedRecurrentNet`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..network_file import NetworkFileError, module_scaling

__all__ = ["FusedMLP", "chunk_columns", "extract_activation", "extract_mlp_layers", "fused_example_error"]

CHUNK_BYTES = 1 << 22
"""Target size [bytes] of one layer's per-chunk scratch buffers, per intra-op thread. Measured on a 2-core EPYC
(2 MiB L2 per core, 32 MiB L3) with 4096 x 12 rows: 4 MiB chunks run as fast as L2-sized ones (about 25 % faster
than unchunked) with 8x fewer kernel launches, which matters when the cores are shared (every launch is an
OpenMP fork/join that waits for a preempted thread)."""

_ACTIVATION_BY_MODULE = {"Softsign": "softsign", "ReLU": "relu", "Tanh": "tanh", "ELU": "elu", "Sigmoid": "sigmoid"}
_ACTIVATION_NAMES = frozenset(("softsign", "relu", "tanh", "elu", "sigmoid"))


def extract_activation(module: torch.nn.Module) -> str | None:
    """Name of the element-wise activation a (scripted) module computes, or None if it is not a known one.

    Knows the ``torch.nn`` modules Softsign, ReLU, Tanh, ELU (alpha 1) and Sigmoid, and walk-these-ways'
    scripted ``Act`` module (attribute ``act``).
    """
    name = getattr(module, "original_name", type(module).__name__)
    if name == "Act":
        act = getattr(module, "act", None)
        return act if act in _ACTIVATION_NAMES else None
    if name == "ELU" and float(getattr(module, "alpha", 1.0)) != 1.0:
        return None
    return _ACTIVATION_BY_MODULE.get(name)


def extract_mlp_layers(module: torch.nn.Module) -> list[tuple[torch.Tensor, torch.Tensor, str | None]] | None:
    """Read a ``Sequential`` of Linear layers and activations as ``[(weight, bias, activation_after), ...]``.

    A single Linear layer also counts. Returns None for anything else (the caller then falls back to the
    module itself).
    """
    name = getattr(module, "original_name", type(module).__name__)
    children = list(module.children()) if name == "Sequential" else [module]
    layers: list[tuple[torch.Tensor, torch.Tensor, str | None]] = []
    for child in children:
        child_name = getattr(child, "original_name", type(child).__name__)
        if child_name == "Linear":
            weight = child.weight.detach()
            bias = child.bias.detach() if child.bias is not None else torch.zeros(weight.shape[0], device=weight.device)
            layers.append((weight, bias, None))
        else:
            act = extract_activation(child)
            if act is None or not layers or layers[-1][2] is not None:
                return None
            layers[-1] = (layers[-1][0], layers[-1][1], act)
    return layers or None


def _activate_(x: torch.Tensor, act: str | None, tmp: torch.Tensor) -> None:
    """Apply ``act`` in place to ``x``; ``tmp`` is a scratch buffer of the same shape."""
    if act is None:
        return
    if act == "softsign":
        torch.abs(x, out=tmp)
        tmp.add_(1.0)
        x.div_(tmp)
    elif act == "relu":
        x.clamp_(min=0.0)
    elif act == "tanh":
        _tanh_(x)
    elif act == "sigmoid":
        x.sigmoid_()
    elif act == "elu":
        torch.nn.functional.elu_(x)
    else:  # pragma: no cover - guarded by extract_activation
        raise ValueError(f"Unknown activation {act!r}.")


def _activation(x: torch.Tensor, act: str | None) -> torch.Tensor:
    """Out-of-place ``act`` (for traced code, where in-place scratch buffers gain nothing)."""
    if act is None:
        return x
    if act == "softsign":
        return x / (1.0 + x.abs())
    if act == "relu":
        return torch.relu(x)
    if act == "tanh":
        return torch.tanh(x)
    if act == "sigmoid":
        return torch.sigmoid(x)
    if act == "elu":
        return torch.nn.functional.elu(x)
    raise ValueError(f"Unknown activation {act!r}.")  # pragma: no cover - guarded by extract_activation


def _tanh_(x: torch.Tensor) -> torch.Tensor:
    """In-place ``tanh`` as ``2 * sigmoid(2 x) - 1``."""
    return x.mul_(2.0).sigmoid_().mul_(2.0).sub_(1.0)


_MAX_CACHED_VIEWS = 16
"""Most (input, output) storages whose chunk views :class:`FusedMLP` keeps."""


def chunk_columns(rows: int, batch: int, chunk_bytes: int | None = None) -> int:
    """Columns per chunk for ``rows`` float32 scratch rows, balanced so that all chunks have about the same width.

    Aims at ``chunk_bytes`` of scratch (default :data:`CHUNK_BYTES` with one intra-op thread; with several threads,
    read at call time, no chunking: each op then splits the whole batch across the threads, and small chunks would
    pay a thread synchronisation per launch, measured 2-3x slower on 2 threads), a multiple of 64 columns (but at
    most ``batch``).
    """
    if chunk_bytes is None:
        chunk_bytes = CHUNK_BYTES if torch.get_num_threads() <= 1 else 4 * max(rows, 1) * batch
    columns = max(64, chunk_bytes // (4 * max(rows, 1)))
    chunks = -(-batch // columns)
    columns = -(-batch // chunks)
    return max(1, min(-(-columns // 64) * 64, batch))


def _chunk_bounds(batch: int, chunk: int) -> list[tuple[int, int]]:
    return [(start, min(start + chunk, batch)) for start in range(0, batch, chunk)]


class _FusedChain:
    """Linear layers with activations on feature-major column chunks; writes a ``(1, columns)`` output row.

    Every hidden buffer ends in a row of ones, so each layer after the first is one ``mm`` with its bias appended
    to the weight as a last column. The first layer is an ``mm`` too when the caller's input ends in a ones row
    (``input_has_ones``), else an ``addmm``.
    """

    def __init__(
        self,
        layers: list[tuple[torch.Tensor, torch.Tensor, str | None]],
        chunk: int,
        device,
        input_has_ones: bool = False,
    ):
        f32 = {"device": device, "dtype": torch.float32}
        if layers[-1][0].shape[0] != 1:
            raise ValueError(f"Actuator net must have one output per joint; last layer has {layers[-1][0].shape[0]}")
        self.input_has_ones = input_has_ones
        self.first_bias = None if input_has_ones else layers[0][1].reshape(-1, 1).to(**f32).contiguous()
        self.weights = []
        for index, (weight, bias, _) in enumerate(layers):
            if index > 0 or input_has_ones:
                weight = torch.cat([weight.float(), bias.float().reshape(-1, 1)], dim=1)
            self.weights.append(weight.to(**f32).contiguous())
        self.activations = [a for _, _, a in layers]
        self._buffers = [torch.ones(w.shape[0] + 1, chunk, **f32) for w in self.weights[:-1]]  # last row stays 1
        width = max((w.shape[0] for w in self.weights[:-1]), default=1)
        self._tmp = torch.empty(width, chunk, **f32)
        self._views: dict[int, list] = {}

    def _views_for(self, columns: int) -> list:
        views = self._views.get(columns)
        if views is None:
            views = [
                (buf[:-1, :columns], buf[:, :columns], self._tmp[: buf.shape[0] - 1, :columns]) for buf in self._buffers
            ]
            views = self._views[columns] = [*views, (None, None, self._tmp[:1, :columns])]
        return views

    def __call__(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Evaluate on ``x`` (F, c) (ending in a ones row if ``input_has_ones``) into ``out`` (1, c)."""
        views = self._views_for(x.shape[1])
        layers = zip(self.weights, self.activations, views, strict=True)
        for index, (weight, act, (pre, full, tmp)) in enumerate(layers):
            target = out if pre is None else pre
            if index == 0 and self.first_bias is not None:
                torch.addmm(self.first_bias, weight, x, out=target)
            else:
                torch.mm(weight, x, out=target)
            _activate_(target, act, tmp)
            x = full
        return out


def _fold_input(weight, bias, input_map, input_offset):
    """First layer acting on ``z`` where the net input is ``x = input_map @ z + input_offset``."""
    new_bias = bias if input_offset is None else bias + weight @ input_offset
    new_weight = weight if input_map is None else weight @ input_map
    return new_weight, new_bias


def _fold_output(weight, bias, scale, offset):
    """Last layer producing ``scale * y + offset``."""
    return weight * scale, bias * scale + offset


def _compose_affine(net: torch.nn.Module, n_in: int, affine: dict) -> dict | None:
    """Fold the net's own scaling buffers into the caller's affine maps; None if they have unexpected shapes.

    The buffers are read by :func:`~learned_actuators.network_file.module_scaling`.
    """
    try:
        scale_in, shift_in, scale_out, shift_out = module_scaling(net, n_in)
    except NetworkFileError:
        return None
    input_map, input_offset = affine.get("input_map"), affine.get("input_offset")
    # x_net = diag(scale_in) (input_map z + input_offset) + shift_in
    new_map = torch.diag(scale_in) if input_map is None else scale_in[:, None] * input_map
    base_offset = torch.zeros(n_in) if input_offset is None else input_offset
    new_offset = scale_in * base_offset + shift_in
    # tau = s_c (scale_out y + shift_out) + m_c
    s_c, m_c = affine.get("output_scale", 1.0), affine.get("output_offset", 0.0)
    return {
        "input_map": new_map,
        "input_offset": new_offset,
        "output_scale": s_c * scale_out,
        "output_offset": s_c * shift_out + m_c,
    }


class FusedMLP:
    """A TorchScript MLP evaluated on feature-major column chunks with input/output affine maps folded in.

    Computes ``output_scale * net(input_map @ z + input_offset) + output_offset`` for ``z`` of shape
    ``(F_z, batch)`` (one column per joint), writing a ``(1, batch)`` row. ``chunk`` columns per chunk (default
    from :data:`CHUNK_BYTES`).
    """

    def __init__(
        self,
        layers,
        batch: int,
        device,
        input_map=None,
        input_offset=None,
        output_scale=1.0,
        output_offset=0.0,
        chunk: int | None = None,
    ):
        layers = list(layers)
        w0, b0 = _fold_input(layers[0][0].float(), layers[0][1].float(), input_map, input_offset)
        layers[0] = (w0, b0, layers[0][2])
        if layers[-1][2] is not None:
            raise ValueError("FusedMLP: an activation after the output layer cannot take the output scale.")
        wl, bl = _fold_output(layers[-1][0], layers[-1][1], output_scale, output_offset)
        layers[-1] = (wl, bl, None)
        widest = max(w.shape[0] for w, _, _ in layers)
        self._layers = layers
        self._compiled = None
        self.batch = batch
        self.chunk = chunk if chunk is not None else chunk_columns(2 * widest + 1, batch)
        self._chain = _FusedChain(layers, self.chunk, device)
        self._bounds = _chunk_bounds(batch, self.chunk)
        self._slices: dict[tuple, list[tuple[torch.Tensor, torch.Tensor]]] = {}

    @classmethod
    def from_module(
        cls, net: torch.nn.Module, batch: int, device, chunk: int | None = None, **affine
    ) -> FusedMLP | None:
        """Build from a scripted ``Sequential`` or a module holding one plus scaling buffers.

        Returns None when the structure is not a plain Linear/activation chain.
        """
        layers = extract_mlp_layers(net)
        if layers is None:
            children = list(net.children())
            if len(children) != 1:
                return None
            layers = extract_mlp_layers(children[0])
            if layers is None:
                return None
            affine = _compose_affine(net, layers[0][0].shape[1], affine)
            if affine is None:
                return None
        if layers[-1][2] is not None:
            return None
        return cls(layers, batch, device, chunk=chunk, **affine)

    def __call__(self, z: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Evaluate on ``z`` (F_z, batch) into ``out`` (1, batch)."""
        key = (z.data_ptr(), z.stride(), out.data_ptr(), out.stride())
        slices = self._slices.get(key)
        if slices is None:  # chunk views are cached per (input, output) storage: a few ring-buffer windows
            if len(self._slices) >= _MAX_CACHED_VIEWS:
                self._slices.clear()
            slices = self._slices[key] = [(z[:, s:e], out[:, s:e]) for s, e in self._bounds]
        if self._compiled is not None:
            for z_chunk, out_chunk in slices:
                out_chunk.copy_(self._compiled(z_chunk))
            return out
        for z_chunk, out_chunk in slices:
            self._chain(z_chunk, out_chunk)
        return out

    @property
    def compiled(self) -> bool:
        """Whether the chunks run through the ``torch.compile``-d chain (see :meth:`compile`)."""
        return self._compiled is not None

    def compile(self) -> None:
        """Run each chunk through one ``torch.compile``-d function (Inductor) instead of the eager kernels.

        The function is the same chain in row-major form (``(columns, F)`` activations), which Inductor turns into
        one GEMM per layer with the bias and activation fused into a single pass: about 20 % less time per forward
        on a 2-core EPYC, since the eager softsign costs three passes. Compiles lazily on the first call (tens of
        seconds on CPU, needs a C++ compiler there; cached by PyTorch across processes) and once more for a
        last chunk of another width.
        """
        params = [(w.t().contiguous(), b.contiguous(), act) for w, b, act in self._layers]

        def chain(z: torch.Tensor) -> torch.Tensor:
            h = z.t()
            for weight_t, bias, act in params:
                h = _activation(torch.addmm(bias, h, weight_t), act)
            return h.view(1, -1)

        self._compiled = torch.compile(chain, dynamic=False, fullgraph=True)

    def uncompile(self) -> None:
        """Back to the eager kernels."""
        self._compiled = None


def max_abs_error(fn_a: Callable[[], torch.Tensor], fn_b: Callable[[], torch.Tensor]) -> float:
    """Largest absolute difference between two evaluations (used to verify a fused net against its module)."""
    a = fn_a().reshape(-1)
    b = fn_b().reshape(-1)
    return float((a - b).abs().max())


@torch.no_grad()
def fused_example_error(
    net: torch.nn.Module, inputs: torch.Tensor, outputs: torch.Tensor, device, chunk: int = 32
) -> float | None:
    """Largest difference [N·m] between the fused kernels built from ``net`` and a file's stored outputs.

    ``inputs`` (N, T, F) and ``outputs`` (N, T) are the file's ``examples``
    (:func:`~learned_actuators.network_examples.stored_examples`): the module's own inputs, so the kernels fold the
    net's scaling buffers only (no caller maps); recurrent rows step from a zero state. ``chunk`` columns per chunk.
    None when the net's structure is not recognised.
    """
    from ..network_examples import recurrent_submodule
    from .fused_recurrent import FusedRecurrentNet

    n, t, f = inputs.shape
    x = inputs.to(device=device, dtype=torch.float32)
    kind = recurrent_submodule(net)
    if kind is None:
        fused = FusedMLP.from_module(net, n * t, device, chunk=chunk)
        if fused is None:
            return None
        got = fused(x.reshape(n * t, f).t().contiguous(), torch.empty(1, n * t, device=device)).reshape(n, t)
    else:
        fused = FusedRecurrentNet.from_module(net, kind, n, device, chunk=chunk)
        if fused is None:
            return None
        got = torch.empty(n, t, device=device)
        out = torch.empty(1, n, device=device)
        for k in range(t):
            got[:, k] = fused(x[:, k, :].t().contiguous(), out)[0]
    return float((got.double().cpu() - outputs.double().cpu()).abs().max())
