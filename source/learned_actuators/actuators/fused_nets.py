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
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..network_file import NetworkFileError, module_scaling

__all__ = [
    "FusedMLP",
    "FusedRecurrentNet",
    "chunk_columns",
    "extract_activation",
    "extract_mlp_layers",
    "fused_example_error",
]

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


class FusedRecurrentNet:
    """One step of a TorchScript LSTM/GRU actuator net with its own feature-major state.

    The net is read as ``head(rnn(x))`` with the module's scaling buffers (see :func:`_compose_affine`) around
    it, where ``rnn`` is the ``.lstm``/``.gru`` submodule (``batch_first``, unidirectional, one step per call)
    and ``head`` the remaining child (Linear or a Linear/activation chain). legged_gym's ANYdrive net
    (``in_scale``/``out_scale``) and our exported nets (``input_mean``/... buffers) have this form. Input and
    output affine maps are folded in as in :class:`FusedMLP`.

    Storage: one buffer of rows ``[x; 1; h_0; 1; h_1; 1; ...]`` (``x`` the step input, written by the caller into
    :attr:`input`), so layer ``k`` multiplies the contiguous rows ``[h_{k-1}; 1; h_k]`` by ``[W_ih | b | W_hh]``
    in one ``mm`` and the head reads ``[h_last; 1]``. Gate rows per layer: LSTM ``[i; f; 2 g; o]``; GRU
    ``[r; -z; 2 n_x; 2 n_h]`` with ``n_x = W_in x + b_in`` and ``n_h = W_hn h + b_hn``.

    State: ``hidden`` (and ``cell`` for the LSTM) of shape ``(num_layers, hidden_size, batch)`` (``hidden`` is a
    non-contiguous view of the storage); the caller builds ``(num_layers, batch, hidden_size)`` views with
    :meth:`state_views`. ``storage`` passes the storage in (a contiguous float32 tensor of
    :meth:`storage_rows` rows and ``batch`` columns, e.g. a zero-copy view of a Warp array that holds a Newton
    drive's state); its ones rows are set here, the other rows are left as they are.
    """

    @staticmethod
    def storage_rows(input_size: int, num_layers: int, hidden_size: int) -> int:
        """Rows of the storage ``[x; 1; h_0; 1; h_1; 1; ...]`` (``h_k`` at rows ``input_size + 1 + k (H + 1)``)."""
        return input_size + 1 + num_layers * (hidden_size + 1)

    def __init__(
        self,
        kind: str,
        rnn_state: dict[str, torch.Tensor],
        num_layers: int,
        hidden_size: int,
        head_layers,
        batch: int,
        device,
        input_map=None,
        input_offset=None,
        output_scale=1.0,
        output_offset=0.0,
        chunk: int | None = None,
        storage: torch.Tensor | None = None,
    ):
        if kind not in ("lstm", "gru"):
            raise ValueError(f"Unknown recurrent kind {kind!r}.")
        self.kind = kind
        self.num_layers = num_layers
        self.hidden_size = hs = hidden_size
        f32 = {"device": device, "dtype": torch.float32}
        self.weights = []
        for k in range(num_layers):
            w_ih = rnn_state[f"weight_ih_l{k}"].float()
            b_ih = rnn_state.get(f"bias_ih_l{k}", torch.zeros(w_ih.shape[0])).float()
            if k == 0:
                w_ih, b_ih = _fold_input(w_ih, b_ih, input_map, input_offset)
            w_hh = rnn_state[f"weight_hh_l{k}"].float()
            b_hh = rnn_state.get(f"bias_hh_l{k}", torch.zeros(w_ih.shape[0])).float()
            self.weights.append(_recurrent_layer_weight(kind, hs, w_ih, b_ih, w_hh, b_hh).to(**f32).contiguous())
        self.input_size = width = self.weights[0].shape[1] - 1 - hs
        rows = self.storage_rows(width, num_layers, hs)
        if storage is None:
            storage = torch.zeros(rows, batch, **f32)
        elif storage.shape != (rows, batch) or storage.dtype != torch.float32 or not storage.is_contiguous():
            raise ValueError(
                f"FusedRecurrentNet: storage must be a contiguous float32 ({rows}, {batch}) tensor; got "
                f"{storage.dtype} {tuple(storage.shape)}."
            )
        self._storage = storage
        self._storage[width] = 1.0
        blocks = self._storage[width + 1 :].view(num_layers, hs + 1, batch)
        blocks[:, hs] = 1.0
        self.input = self._storage[:width]
        """Step input ``x`` (F, batch) [raw features]; callers may write it in place."""
        self.hidden = blocks[:, :hs]
        self.cell = torch.zeros(num_layers, hs, batch, **f32) if kind == "lstm" else None
        first = width + 1
        layer_rows = [(0, first + hs)] + [
            (first + (k - 1) * (hs + 1), first + k * (hs + 1) + hs) for k in range(1, num_layers)
        ]
        hidden_rows = [(first + k * (hs + 1), first + k * (hs + 1) + hs) for k in range(num_layers)]
        head_rows = (hidden_rows[-1][0], hidden_rows[-1][1] + 1)
        head_layers = list(head_layers)
        wl, bl = _fold_output(head_layers[-1][0].float(), head_layers[-1][1].float(), output_scale, output_offset)
        head_layers[-1] = (wl, bl, head_layers[-1][2])
        self.batch = batch
        scratch_rows = 4 * hs + (hs if kind == "lstm" else 0)  # gates (+ tanh(c) for the LSTM)
        self.chunk = chunk if chunk is not None else chunk_columns(scratch_rows, batch)
        self._head = _FusedChain(head_layers, self.chunk, device, input_has_ones=True)
        self._gates = torch.empty(4 * hs, self.chunk, **f32)
        self._tmp = torch.empty(hs, self.chunk, **f32)
        self._chunks = []
        for s, e in _chunk_bounds(batch, self.chunk):
            gates = self._gates[:, : e - s]
            layers = []
            for k in range(num_layers):
                cell = None if self.cell is None else self.cell[k, :, s:e]
                layers.append(
                    (
                        self.weights[k],
                        self._storage[slice(*layer_rows[k]), s:e],
                        self._storage[slice(*hidden_rows[k]), s:e],
                        cell,
                    )
                )
            blocks = tuple(gates[i * hs : (i + 1) * hs] for i in range(4))
            self._chunks.append(
                (
                    (s, e),
                    gates,
                    blocks,
                    gates[: 2 * hs],
                    self._tmp[:, : e - s],
                    layers,
                    self._storage[slice(*head_rows), s:e],
                )
            )
        self._out_key = None
        self._out_slices: list[torch.Tensor] = []

    def state_views(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(hidden, cell)`` as ``(num_layers, batch, hidden_size)`` views of the state (cell None for a GRU)."""
        hidden = self.hidden.permute(0, 2, 1)
        return hidden, None if self.cell is None else self.cell.permute(0, 2, 1)

    def __call__(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Advance the state by one step on input ``x`` (F_x, batch); write the output row ``out`` (1, batch).

        ``x`` may be :attr:`input` itself (no copy).
        """
        if x.data_ptr() != self.input.data_ptr() or x.stride() != self.input.stride():
            self.input.copy_(x)
        key = (out.data_ptr(), out.stride())
        if key != self._out_key:  # chunk views of the output are cached per storage
            self._out_key, self._out_slices = key, [out[:, s:e] for (s, e), *_ in self._chunks]
        lstm = self.kind == "lstm"
        chunks = zip(self._chunks, self._out_slices, strict=True)
        for (_, gates, (g0, g1, g2, g3), rz, tmp, layers, head_in), out_chunk in chunks:
            for weight, layer_in, h, c in layers:
                torch.mm(weight, layer_in, out=gates)
                if lstm:  # gates [i; f; 2 g; o]
                    gates.sigmoid_()
                    c.mul_(g1).addcmul_(g0, g2, value=2.0).sub_(g0)  # f c + i (2 sigmoid(2 g) - 1)
                    torch.mul(c, 2.0, out=tmp).sigmoid_()
                    torch.mul(g3, tmp, out=h).mul_(2.0).sub_(g3)  # o tanh(c)
                else:  # gates [r; -z; 2 n_x; 2 n_h]: rz holds r and u = 1 - z after the sigmoid
                    rz.sigmoid_()
                    g2.addcmul_(g0, g3).sigmoid_()  # sigmoid(2 n), n = n_x + r n_h
                    g2.mul_(2.0).sub_(1.0)  # tanh(n)
                    h.lerp_(g2, g1)  # z h + (1 - z) n
            self._head(head_in, out_chunk)
        return out

    @classmethod
    def from_module(
        cls, net: torch.nn.Module, kind: str, batch: int, device, chunk: int | None = None, **affine
    ) -> FusedRecurrentNet | None:
        """Build from a scripted net with a ``.lstm``/``.gru`` child; None when its structure is not recognised."""
        rnn = getattr(net, kind, None)
        if rnn is None:
            return None
        if bool(getattr(rnn, "bidirectional", False)) or not bool(getattr(rnn, "batch_first", True)):
            return None
        if int(getattr(rnn, "proj_size", 0)) != 0:  # (dropout is inactive: nets are loaded in eval mode)
            return None
        heads = [(name, child) for name, child in net.named_children() if name != kind]
        if len(heads) != 1:
            return None
        head_layers = extract_mlp_layers(heads[0][1])
        if head_layers is None or head_layers[-1][0].shape[0] != 1:
            return None
        state = {k: v.detach() for k, v in rnn.state_dict().items()}
        num_layers = sum(1 for key in state if key.startswith("weight_ih_l"))
        hidden_size = state["weight_hh_l0"].shape[1]
        affine = _compose_affine(net, state["weight_ih_l0"].shape[1], affine)
        if affine is None:
            return None
        return cls(kind, state, num_layers, hidden_size, head_layers, batch, device, chunk=chunk, **affine)


def _recurrent_layer_weight(kind: str, hs: int, w_ih, b_ih, w_hh, b_hh) -> torch.Tensor:
    """Gate weight ``[W_ih | b | W_hh]`` acting on ``[x; 1; h]`` (gate rows as in :class:`FusedRecurrentNet`)."""
    if kind == "lstm":  # all four gates add both biases; the candidate g is evaluated as 2 sigmoid(2 g) - 1
        weight = torch.cat([w_ih, (b_ih + b_hh).reshape(-1, 1), w_hh], dim=1)
        weight[2 * hs : 3 * hs] *= 2.0
        return weight
    n_in = w_ih.shape[1]
    rz = torch.cat([w_ih[: 2 * hs], (b_ih[: 2 * hs] + b_hh[: 2 * hs]).reshape(-1, 1), w_hh[: 2 * hs]], dim=1)
    rz[hs:] *= -1.0  # sigmoid(-a_z) = 1 - z
    n_x = torch.cat([w_ih[2 * hs :], b_ih[2 * hs :].reshape(-1, 1), torch.zeros(hs, hs)], dim=1)
    n_h = torch.cat([torch.zeros(hs, n_in), b_hh[2 * hs :].reshape(-1, 1), w_hh[2 * hs :]], dim=1)
    return torch.cat([rz, 2.0 * n_x, 2.0 * n_h], dim=0)


def max_abs_error(fn_a: Callable[[], torch.Tensor], fn_b: Callable[[], torch.Tensor]) -> float:
    """Largest absolute difference between two evaluations (used to verify a fused net against its module)."""
    a = fn_a().reshape(-1)
    b = fn_b().reshape(-1)
    return float((a - b).abs().max())


@torch.no_grad()
def fused_example_error(
    net: torch.nn.Module, model_type: str, inputs: torch.Tensor, outputs: torch.Tensor, device, chunk: int = 32
) -> float | None:
    """Largest difference [N·m] between the fused kernels built from ``net`` and a file's stored outputs.

    ``inputs`` (N, T, F) and ``outputs`` (N, T) are the file's ``examples``
    (:func:`~learned_actuators.network_file.stored_examples`): the module's own inputs, so the kernels fold the
    net's scaling buffers only (no caller maps); recurrent rows step from a zero state. ``chunk`` columns per chunk.
    None when the net's structure is not recognised.
    """
    n, t, f = inputs.shape
    x = inputs.to(device=device, dtype=torch.float32)
    if model_type == "mlp":
        fused = FusedMLP.from_module(net, n * t, device, chunk=chunk)
        if fused is None:
            return None
        got = fused(x.reshape(n * t, f).t().contiguous(), torch.empty(1, n * t, device=device)).reshape(n, t)
    else:
        fused = FusedRecurrentNet.from_module(net, "gru" if model_type == "gru_pd" else "lstm", n, device, chunk=chunk)
        if fused is None:
            return None
        got = torch.empty(n, t, device=device)
        out = torch.empty(1, n, device=device)
        for k in range(t):
            got[:, k] = fused(x[:, k, :].t().contiguous(), out)[0]
    return float((got.double().cpu() - outputs.double().cpu()).abs().max())
