"""Fused one-step evaluation of a TorchScript LSTM/GRU actuator net on a feature-major state (pure PyTorch).

The recurrent counterpart of :class:`~learned_actuators.actuators.fused_nets.FusedMLP`, built on the same column
chunks, affine folding and fused head (:mod:`.fused_nets`, whose module docstring describes the techniques).
"""

from __future__ import annotations

import torch

from .fused_nets import (
    _chunk_bounds,
    _compose_affine,
    _fold_input,
    _fold_output,
    _FusedChain,
    chunk_columns,
    extract_mlp_layers,
)

__all__ = ["FusedRecurrentNet"]


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

    Ensemble files (:mod:`learned_actuators.learning.ensemble`): a GRU whose recurrent weights are ``blocks``
    independent members' (block-diagonal ``W_hh``) runs the recurrent product member by member (one ``bmm`` over the
    blocks, gate rows member-major ``[r; -z; 2 n_h; 2 n_x]``) instead of the dense product with its off-block
    zeros: about ``K`` instead of ``K²`` times one member's cost. The input product stays dense.

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
        blocks: int = 1,
    ):
        if kind not in ("lstm", "gru"):
            raise ValueError(f"Unknown recurrent kind {kind!r}.")
        if blocks > 1 and (kind != "gru" or hidden_size % blocks):
            raise ValueError(f"blocks={blocks}: only a GRU whose hidden size is a multiple of it runs by blocks.")
        self.kind = kind
        self.num_layers = num_layers
        self.hidden_size = hs = hidden_size
        f32 = {"device": device, "dtype": torch.float32}
        self.weights = [
            _layer_weight(kind, hs, rnn_state, k, (input_map, input_offset) if k == 0 else None).to(**f32).contiguous()
            for k in range(num_layers)
        ]
        self.input_size = width = self.weights[0].shape[1] - 1 - hs
        self.blocks = blocks
        self._blocked = [_blocked_weights(w, hs, blocks) for w in self.weights] if blocks > 1 else None
        self._bind_storage(storage, batch, f32)
        head_layers = list(head_layers)
        wl, bl = _fold_output(head_layers[-1][0].float(), head_layers[-1][1].float(), output_scale, output_offset)
        head_layers[-1] = (wl, bl, head_layers[-1][2])
        self.batch = batch
        scratch_rows = 4 * hs + (hs if kind == "lstm" else 0)  # gates (+ tanh(c) for the LSTM)
        self.chunk = chunk if chunk is not None else chunk_columns(scratch_rows, batch)
        self._head = _FusedChain(head_layers, self.chunk, device, input_has_ones=True)
        self._gates = torch.empty(4 * hs, self.chunk, **f32)
        self._tmp = torch.empty(hs, self.chunk, **f32)
        self._chunks = [self._chunk_views(s, e, width) for s, e in _chunk_bounds(batch, self.chunk)]
        self._out_key = None
        self._out_slices: list[torch.Tensor] = []

    def _bind_storage(self, storage: torch.Tensor | None, batch: int, f32: dict) -> None:
        """Take (or allocate) the storage ``[x; 1; h_0; 1; ...]``, set its ones rows, view :attr:`input` and state."""
        width, hs, num_layers = self.input_size, self.hidden_size, self.num_layers
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
        self.cell = torch.zeros(num_layers, hs, batch, **f32) if self.kind == "lstm" else None

    def _chunk_views(self, s: int, e: int, width: int) -> tuple:
        """Views of columns ``s:e``: gates and gate blocks, scratch, per-layer (weight, input, state), head input."""
        hs, first = self.hidden_size, width + 1
        layer_rows = [(0, first + hs)] + [
            (first + (k - 1) * (hs + 1), first + k * (hs + 1) + hs) for k in range(1, self.num_layers)
        ]
        hidden_rows = [(first + k * (hs + 1), first + k * (hs + 1) + hs) for k in range(self.num_layers)]
        head_rows = (hidden_rows[-1][0], hidden_rows[-1][1] + 1)
        gates = self._gates[:, : e - s]
        layers = []
        for k in range(self.num_layers):
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
        head_in = self._storage[slice(*head_rows), s:e]
        return ((s, e), gates, blocks, gates[: 2 * hs], self._tmp[:, : e - s], layers, head_in)

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
            if self._blocked is not None:
                for (w_in, w_rec), (_, layer_in, h, _) in zip(self._blocked, layers, strict=True):
                    self._blocked_gru_layer(w_in, w_rec, layer_in, h, gates)
                self._head(head_in, out_chunk)
                continue
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

    def _blocked_gru_layer(self, w_in, w_rec, layer_in, h, gates) -> None:
        """One GRU layer of ``blocks`` members: dense input product, member-by-member recurrent product."""
        k, n = self.blocks, h.shape[1]
        m = self.hidden_size // k
        torch.mm(w_in, layer_in[: w_in.shape[1]], out=gates)
        g = gates.view(k, 4 * m, n)  # per member [r; -z; 2 n_h; 2 n_x]
        hk = h.view(k, m, n)
        g[:, : 3 * m].baddbmm_(w_rec, hk)
        g[:, : 2 * m].sigmoid_()  # r and u = 1 - z
        n_x = g[:, 3 * m :]
        n_x.addcmul_(g[:, :m], g[:, 2 * m : 3 * m]).sigmoid_()  # sigmoid(2 n), n = n_x + r n_h
        n_x.mul_(2.0).sub_(1.0)  # tanh(n)
        hk.lerp_(n_x, g[:, m : 2 * m])  # z h + (1 - z) n

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
        members = getattr(net, "member_head_bias", None) if kind == "gru" else None  # an ensemble file's members
        blocks = recurrent_blocks(state, num_layers, hidden_size, 1 if members is None else members.numel())
        return cls(
            kind, state, num_layers, hidden_size, head_layers, batch, device, chunk=chunk, blocks=blocks, **affine
        )


def recurrent_blocks(rnn_state: dict, num_layers: int, hidden_size: int, members: int) -> int:
    """The number of blocks a GRU's recurrent product can run by: ``members`` or 1.

    ``members`` (an ensemble file's) when every layer's recurrent weight ``W_hh`` is block-diagonal in that many equal
    blocks, else 1.
    """
    if members < 2 or hidden_size % members:
        return 1
    m = hidden_size // members
    own = torch.block_diag(*[torch.ones(m, m)] * members).repeat(3, 1).bool()  # (3H, H): gates r, z, n
    for k in range(num_layers):
        w_hh = rnn_state[f"weight_hh_l{k}"]
        if w_hh.shape != own.shape or bool(w_hh.detach().cpu()[~own].any()):
            return 1
    return members


def _blocked_weights(weight: torch.Tensor, hs: int, blocks: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A fused GRU layer weight ``[W_ih | b | W_hh]`` (gate rows ``[r; -z; 2 n_x; 2 n_h]``) split by members.

    Returns the input part ``[W_ih | b]`` with member-major rows ``[r; -z; 2 n_h; 2 n_x]`` per member (K·4m, F+1)
    and the members' recurrent blocks of ``r``, ``-z``, ``2 n_h`` (K, 3m, m).
    """
    m, width = hs // blocks, weight.shape[1] - hs
    gates = weight.view(4, blocks, m, weight.shape[1])  # [gate, member, unit, column]
    order = gates[[0, 1, 3, 2]].transpose(0, 1)  # [member, gate r, -z, 2 n_h, 2 n_x, unit, column]
    w_in = order[..., :width].reshape(blocks * 4 * m, width).contiguous()
    rec = order[:, :3, :, width:].reshape(blocks, 3 * m, blocks, m)
    w_rec = torch.stack([rec[i, :, i] for i in range(blocks)]).contiguous()
    return w_in, w_rec


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


def _layer_weight(kind: str, hs: int, rnn_state: dict, k: int, input_affine: tuple | None) -> torch.Tensor:
    """Layer ``k``'s ``[W_ih | b | W_hh]`` from the module's state dict, the input affine map folded into layer 0."""
    w_ih = rnn_state[f"weight_ih_l{k}"].float()
    b_ih = rnn_state.get(f"bias_ih_l{k}", torch.zeros(w_ih.shape[0])).float()
    if input_affine is not None:
        w_ih, b_ih = _fold_input(w_ih, b_ih, *input_affine)
    w_hh = rnn_state[f"weight_hh_l{k}"].float()
    b_hh = rnn_state.get(f"bias_hh_l{k}", torch.zeros(w_ih.shape[0])).float()
    return _recurrent_layer_weight(kind, hs, w_ih, b_ih, w_hh, b_hh)
