"""Fused forward passes of small actuator nets on preallocated buffers (pure PyTorch, no Isaac Lab).

Actuator nets are tiny (tens of weights per row) and run on huge batches (``num_envs * num_joints`` rows), so
their cost is memory traffic and operator dispatch, not arithmetic. The classes here extract the weights of a
TorchScript MLP, LSTM or GRU once and evaluate the same function with:

* a feature-major layout: activations are ``(features, batch)`` so that every gate block of an LSTM/GRU is a
  contiguous row block and each activation is one in-place pass;
* ``torch.addmm(..., out=...)`` into buffers allocated once (no per-step allocation);
* input affine maps (scales, signs, normalisation, history ordering) folded into the first layer and output
  affine maps (torque scale, denormalisation) folded into the last layer;
* ``tanh(x)`` evaluated as ``2 * sigmoid(2 x) - 1`` (PyTorch's CPU ``tanh`` is several times slower than its
  ``sigmoid``; the two agree to about 1e-7 absolute).

Results match the TorchScript module to float32 rounding (about 1e-5 relative); the actuators check this on
random inputs when they load a net and fall back to calling the TorchScript module when it does not hold.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["FusedMLP", "FusedRecurrentNet", "extract_activation", "extract_mlp_layers"]

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


def _tanh_(x: torch.Tensor) -> torch.Tensor:
    """In-place ``tanh`` as ``2 * sigmoid(2 x) - 1``."""
    return x.mul_(2.0).sigmoid_().mul_(2.0).sub_(1.0)


class _FusedChain:
    """Linear layers with activations on ``(features, batch)`` buffers; writes a ``(1, batch)`` output."""

    def __init__(self, layers: list[tuple[torch.Tensor, torch.Tensor, str | None]], batch: int, device):
        self.weights = [w.to(device=device, dtype=torch.float32).contiguous() for w, _, _ in layers]
        self.biases = [b.to(device=device, dtype=torch.float32).reshape(-1, 1).contiguous() for _, b, _ in layers]
        self.activations = [a for _, _, a in layers]
        if self.weights[-1].shape[0] != 1:
            raise ValueError(f"Actuator net must have one output per joint; last layer has {self.weights[-1].shape[0]}")
        self._hidden = [torch.empty(w.shape[0], batch, device=device) for w in self.weights[:-1]]
        width = max((w.shape[0] for w in self.weights[:-1]), default=1)
        self._tmp = torch.empty(width, batch, device=device)

    def __call__(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        layers = zip(self.weights[:-1], self.biases[:-1], self.activations[:-1], self._hidden, strict=True)
        for weight, bias, act, buf in layers:
            torch.addmm(bias, weight, x, out=buf)
            _activate_(buf, act, self._tmp[: buf.shape[0]])
            x = buf
        torch.addmm(self.biases[-1], self.weights[-1], x, out=out)
        _activate_(out, self.activations[-1], self._tmp[:1])
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

    Known buffers (``recurse=False``): ``in_scale``/``out_scale`` (legged_gym: ``x * in_scale``, ``out_scale * y``)
    and ``input_mean``/``input_std``/``output_mean``/``output_std`` (our exported nets:
    ``(x - input_mean) / input_std`` and ``y * output_std + output_mean``).
    """
    buffers = {name: b.detach().float().reshape(-1).cpu() for name, b in net.named_buffers(recurse=False)}
    scale_in = torch.ones(n_in)
    shift_in = torch.zeros(n_in)
    scale_out, shift_out = 1.0, 0.0
    for name in ("in_scale", "input_std", "input_mean"):
        if name in buffers and buffers[name].numel() not in (1, n_in):
            return None
    for name in ("out_scale", "output_std", "output_mean"):
        if name in buffers and buffers[name].numel() != 1:
            return None
    if "in_scale" in buffers:
        scale_in = scale_in * buffers["in_scale"]
    if "input_std" in buffers or "input_mean" in buffers:
        std = buffers.get("input_std", torch.ones(1))
        mean = buffers.get("input_mean", torch.zeros(1))
        scale_in, shift_in = scale_in / std, (shift_in - mean) / std
    if "output_std" in buffers or "output_mean" in buffers:
        scale_out = float(buffers.get("output_std", torch.ones(1))[0])
        shift_out = float(buffers.get("output_mean", torch.zeros(1))[0])
    if "out_scale" in buffers:
        factor = float(buffers["out_scale"][0])
        scale_out, shift_out = scale_out * factor, shift_out * factor
    input_map, input_offset = affine.get("input_map"), affine.get("input_offset")
    # x_net = diag(scale_in) (input_map z + input_offset) + shift_in
    new_map = torch.diag(scale_in) if input_map is None else scale_in[:, None] * input_map
    base_offset = torch.zeros(n_in) if input_offset is None else input_offset
    new_offset = scale_in * base_offset + shift_in
    # tau = s_c (scale_out y + shift_out) + m_c
    s_c, m_c = affine.get("output_scale", 1.0), affine.get("output_offset", 0.0)
    return {"input_map": new_map, "input_offset": new_offset, "output_scale": s_c * scale_out,
            "output_offset": s_c * shift_out + m_c}


class FusedMLP:
    """A TorchScript MLP evaluated on feature-major buffers with input/output affine maps folded in.

    Computes ``output_scale * net(input_map @ z + input_offset) + output_offset`` for ``z`` of shape
    ``(F_z, batch)`` (one column per joint), writing a ``(1, batch)`` row.
    """

    def __init__(self, layers, batch: int, device, input_map=None, input_offset=None, output_scale=1.0,
                 output_offset=0.0):
        layers = list(layers)
        w0, b0 = _fold_input(layers[0][0].float(), layers[0][1].float(), input_map, input_offset)
        layers[0] = (w0, b0, layers[0][2])
        if layers[-1][2] is not None:
            raise ValueError("FusedMLP: an activation after the output layer cannot take the output scale.")
        wl, bl = _fold_output(layers[-1][0], layers[-1][1], output_scale, output_offset)
        layers[-1] = (wl, bl, None)
        self._chain = _FusedChain(layers, batch, device)

    @classmethod
    def from_module(cls, net: torch.nn.Module, batch: int, device, **affine) -> FusedMLP | None:
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
        return cls(layers, batch, device, **affine)

    def __call__(self, z: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Evaluate on ``z`` (F_z, batch) into ``out`` (1, batch)."""
        return self._chain(z, out)


class FusedRecurrentNet:
    """One step of a TorchScript LSTM/GRU actuator net with its own feature-major state.

    The net is read as ``head(rnn(x))`` with the module's scaling buffers (see :func:`_compose_affine`) around
    it, where ``rnn`` is the ``.lstm``/``.gru`` submodule (``batch_first``, unidirectional, one step per call)
    and ``head`` the remaining child (Linear or a Linear/activation chain). legged_gym's ANYdrive net
    (``in_scale``/``out_scale``) and our exported nets (``input_mean``/... buffers) have this form. Input and
    output affine maps are folded in as in :class:`FusedMLP`.

    State: ``hidden`` (and ``cell`` for the LSTM) of shape ``(num_layers, hidden_size, batch)``; the caller
    builds ``(num_layers, batch, hidden_size)`` views with :meth:`state_views`.
    """

    def __init__(self, kind: str, rnn_state: dict[str, torch.Tensor], num_layers: int, hidden_size: int,
                 head_layers, batch: int, device, input_map=None, input_offset=None, output_scale=1.0,
                 output_offset=0.0):
        if kind not in ("lstm", "gru"):
            raise ValueError(f"Unknown recurrent kind {kind!r}.")
        self.kind = kind
        self.num_layers = num_layers
        self.hidden_size = hidden_size
        hs = hidden_size
        f32 = {"device": device, "dtype": torch.float32}
        self.w_ih, self.w_hh, self.b_ih, self.b_hh = [], [], [], []
        for k in range(num_layers):
            w_ih = rnn_state[f"weight_ih_l{k}"].float()
            b_ih = rnn_state.get(f"bias_ih_l{k}", torch.zeros(w_ih.shape[0])).float()
            if k == 0:
                w_ih, b_ih = _fold_input(w_ih, b_ih, input_map, input_offset)
            b_hh = rnn_state.get(f"bias_hh_l{k}", torch.zeros(w_ih.shape[0])).float()
            if kind == "lstm":  # all four gates add both biases
                b_ih, b_hh = b_ih + b_hh, None
            self.w_ih.append(w_ih.to(**f32).contiguous())
            self.w_hh.append(rnn_state[f"weight_hh_l{k}"].to(**f32).contiguous())
            self.b_ih.append(b_ih.to(**f32).reshape(-1, 1).contiguous())
            self.b_hh.append(None if b_hh is None else b_hh.to(**f32).reshape(-1, 1).contiguous())
        head_layers = list(head_layers)
        wl, bl = _fold_output(head_layers[-1][0].float(), head_layers[-1][1].float(), output_scale, output_offset)
        head_layers[-1] = (wl, bl, head_layers[-1][2])
        self._head = _FusedChain(head_layers, batch, device)
        gates = 4 if kind == "lstm" else 3
        self.hidden = torch.zeros(num_layers, hs, batch, **f32)
        self.cell = torch.zeros(num_layers, hs, batch, **f32) if kind == "lstm" else None
        self._gates = torch.empty(gates * hs, batch, **f32)
        self._gates_h = torch.empty(gates * hs, batch, **f32) if kind == "gru" else None
        self._tmp = torch.empty(hs, batch, **f32)

    def state_views(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(hidden, cell)`` as ``(num_layers, batch, hidden_size)`` views of the state (cell None for a GRU)."""
        hidden = self.hidden.permute(0, 2, 1)
        return hidden, None if self.cell is None else self.cell.permute(0, 2, 1)

    def __call__(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Advance the state by one step on input ``x`` (F_x, batch); write the output row ``out`` (1, batch)."""
        hs = self.hidden_size
        for k in range(self.num_layers):
            h = self.hidden[k]
            if self.kind == "lstm":
                g = self._gates
                torch.addmm(self.b_ih[k], self.w_hh[k], h, out=g)
                g.addmm_(self.w_ih[k], x)
                cand = g[2 * hs : 3 * hs]
                cand.mul_(2.0)  # tanh(c) = 2 sigmoid(2c) - 1 for the candidate block
                g.sigmoid_()
                cand.mul_(2.0).sub_(1.0)
                c = self.cell[k]
                c.mul_(g[hs : 2 * hs]).addcmul_(g[:hs], cand)
                torch.mul(c, 2.0, out=self._tmp)
                self._tmp.sigmoid_().mul_(2.0).sub_(1.0)
                torch.mul(g[3 * hs :], self._tmp, out=h)
            else:
                gi, gh = self._gates, self._gates_h
                torch.addmm(self.b_hh[k], self.w_hh[k], h, out=gh)
                torch.addmm(self.b_ih[k], self.w_ih[k], x, out=gi)
                rz = gi[: 2 * hs]
                rz.add_(gh[: 2 * hs]).sigmoid_()
                n = gi[2 * hs :]
                n.addcmul_(rz[:hs], gh[2 * hs :])
                _tanh_(n)
                h.sub_(n).mul_(rz[hs:]).add_(n)  # (1 - z) n + z h
            x = h
        return self._head(x, out)

    @classmethod
    def from_module(cls, net: torch.nn.Module, kind: str, batch: int, device, **affine) -> FusedRecurrentNet | None:
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
        return cls(kind, state, num_layers, hidden_size, head_layers, batch, device, **affine)


def max_abs_error(fn_a: Callable[[], torch.Tensor], fn_b: Callable[[], torch.Tensor]) -> float:
    """Largest absolute difference between two evaluations (used to verify a fused net against its module)."""
    a = fn_a().reshape(-1)
    b = fn_b().reshape(-1)
    return float((a - b).abs().max())
