"""The representative examples a network file stores, replayed through its module (deploy equals train).

A file's metadata may hold ``examples``: per-step inputs (N, T, F) and the outputs (N, T) the trained module gave on
them. Loading a file replays them (:func:`check_examples`), so an edited, corrupted or wrongly exported module is
refused; the fused kernels and the Newton drives replay the same examples.
"""

from __future__ import annotations

import logging

import torch

from .network_file import NetworkFileError, NetworkMetadata

logger = logging.getLogger(__name__)

__all__ = ["EXAMPLE_TOLERANCE", "check_examples", "recurrent_submodule", "replay_module", "stored_examples"]


EXAMPLE_TOLERANCE = 1e-4
"""Largest difference, relative to the stored ``torque_scale``, between a file's module and its stored outputs."""


def stored_examples(metadata: NetworkMetadata, source: str) -> tuple[torch.Tensor, torch.Tensor, float] | None:
    """The metadata's ``examples`` as ``(inputs (N, T, F), outputs (N, T), torque_scale)`` float64, or None if absent.

    Raises:
        NetworkFileError: ``examples`` is present but malformed (shapes, non-finite numbers, missing keys).
    """
    ex = metadata.examples
    if not ex:
        return None
    try:
        inputs = torch.as_tensor(ex["inputs"], dtype=torch.float64)
        outputs = torch.as_tensor(ex["outputs"], dtype=torch.float64)
        scale = float(ex["torque_scale"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise NetworkFileError(
            f"{source}: metadata 'examples' must hold 'inputs' (N, T, F), 'outputs' (N, T) and 'torque_scale'; {err}"
        ) from err
    ok = inputs.dim() == 3 and outputs.shape == inputs.shape[:2] and inputs.numel() > 0
    if not ok or not (bool(torch.isfinite(inputs).all()) and bool(torch.isfinite(outputs).all())) or not scale > 0:
        raise NetworkFileError(
            f"{source}: metadata 'examples' has inputs {tuple(inputs.shape)}, outputs {tuple(outputs.shape)}, "
            f"torque_scale {scale}; expected finite (N, T, F), (N, T) and a positive scale."
        )
    return inputs, outputs, scale


def recurrent_submodule(net: torch.nn.Module) -> str | None:
    """The contract's recurrent submodule of a network-file module (``gru`` or ``lstm``); None: feed-forward."""
    return next((name for name in ("gru", "lstm") if hasattr(net, name)), None)


@torch.no_grad()
def replay_module(net: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Outputs (N, T) of a network file's module on per-step inputs (N, T, F) (float32), recurrent state from zero.

    Recurrent nets (a ``.gru`` or ``.lstm`` submodule) take the T steps of each row in order; feed-forward nets take
    each frame alone.
    """
    device = next((b.device for b in net.buffers()), torch.device("cpu"))
    x = inputs.to(device=device, dtype=torch.float32)
    n, t, _ = x.shape
    kind = recurrent_submodule(net)
    if kind is None:
        return net(x.reshape(n * t, -1)).reshape(n, t).double().cpu()
    weights = getattr(net, kind).state_dict()
    layers = sum(1 for key in weights if key.startswith("weight_ih_l"))
    h = torch.zeros(layers, n, int(weights["weight_hh_l0"].shape[1]), device=device)
    state = h if kind == "gru" else (h, h.clone())
    out = torch.empty(n, t, dtype=torch.float64)
    for k in range(t):
        y, state = net(x[:, k : k + 1, :].contiguous(), state)
        out[:, k] = y.reshape(-1).double().cpu()
    return out


def check_examples(net: torch.nn.Module, metadata: NetworkMetadata | None, source: str) -> float | None:
    """Replay the file's stored examples through its module; raise when the outputs differ from the stored ones.

    Returns the largest difference [N·m] (None when the file stores no examples). A file without examples whose
    normalisation divides an input by less than :attr:`Normalizer.REL_SPREAD` of its mean (written before
    near-constant inputs were handled) logs a warning: float32 rounding of that input is amplified.

    Raises:
        NetworkFileError: the module disagrees with its own stored outputs by more than :data:`EXAMPLE_TOLERANCE`
            times the stored torque scale, or the examples are malformed.
    """
    if metadata is None:
        return None
    examples = stored_examples(metadata, source)
    if examples is None:
        _warn_amplified_inputs(metadata, source)
        return None
    inputs, outputs, scale = examples
    if inputs.shape[2] != _input_width(net, metadata):
        raise NetworkFileError(
            f"{source}: metadata 'examples' inputs have {inputs.shape[2]} features; the net takes "
            f"{_input_width(net, metadata)}."
        )
    got = replay_module(net, inputs)
    error = (got - outputs).abs()
    worst = float(error.max())
    if worst > EXAMPLE_TOLERANCE * scale:
        row, step = divmod(int(error.argmax()), error.shape[1])
        raise NetworkFileError(
            f"{source}: the net does not reproduce the outputs stored in its own metadata ('examples'): "
            f"{worst:.3g} N·m off at example {row}, step {step} (tolerance {EXAMPLE_TOLERANCE:g} x torque scale "
            f"{scale:.3g} N·m). The file's module is not what was trained (edited, corrupted, or exported with a "
            "different normalisation); export it again from the training run."
        )
    return worst


def _input_width(net: torch.nn.Module, metadata: NetworkMetadata) -> int:
    """Inputs per step: the recurrent layer's input size, else the first weight matrix's (feed-forward)."""
    kind = recurrent_submodule(net)
    if kind is not None:
        return int(getattr(net, kind).state_dict()["weight_ih_l0"].shape[1])
    weight = next((p for p in net.parameters() if p.dim() == 2), None)
    return 2 * len(metadata.input_idx) if weight is None else int(weight.shape[1])


def _warn_amplified_inputs(metadata: NetworkMetadata, source: str) -> None:
    from .data.normalization import Normalizer  # (data imports nothing from here)

    tiny = [
        i
        for i, (mean, std) in enumerate(zip(metadata.input_mean, metadata.input_std, strict=False))
        if std <= Normalizer.REL_SPREAD * abs(mean) and i not in metadata.near_constant_inputs
    ]
    if tiny:
        names = metadata.features if len(metadata.features) == len(metadata.input_std) else []
        listed = [names[i] if names else i for i in tiny]
        logger.warning(
            "%s: inputs %s are normalised by a spread below %g of their mean (std %s, mean %s): float32 rounding of "
            "these inputs is amplified (an input error of order 1 when the scaling is folded into the first layer). "
            "Retrain with this version, which scales near-constant inputs by their magnitude, or run with "
            "fused=False.",
            source,
            listed,
            Normalizer.REL_SPREAD,
            [metadata.input_std[i] for i in tiny],
            [metadata.input_mean[i] for i in tiny],
        )
