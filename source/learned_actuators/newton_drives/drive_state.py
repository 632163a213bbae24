"""Per-slot state of the GRU-PD Newton drive (:class:`~learned_actuators.newton_drives.DriveGRUPD.State`).

One class for both compute backends: on the Warp backend the arrays are plain ``[layers, N, H]`` / ``(N,)`` Warp
arrays; on the torch backend ``hidden`` is a strided view of the feature-major ``storage`` (see
:mod:`.torch_backend`). See :mod:`.drive_gru_pd` for how the state is advanced and mirrored (CUDA graphs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import warp as wp
from newton.actuators import DriveBase

from . import kernels

__all__ = ["GRUPDState", "make_state"]


@dataclass
class GRUPDState(DriveBase.State):
    """Per-slot GRU-PD state. All arrays live on the drive's device; every kernel updates them in place."""

    hidden: wp.array3d[float] | None = None
    """GRU hidden state, shape ``[num_layers, N, hidden_size]``."""
    held: wp.array[float] | None = None
    """Net output [N·m] held between net steps (residual or torque), shape ``(N,)``."""
    fallback: wp.array[wp.int32] | None = None
    """1 where the last net output was non-finite (the effort falls back to the physics torque)."""
    phase: wp.array[wp.int32] | None = None
    """Calls since the last net step, modulo ``k``; the net runs where it is 0. Never reset."""
    dirty: wp.array[wp.int32] | None = None
    """1 where ``hidden`` changed since it was last mirrored (net step or reset)."""
    storage: wp.array2d[float] | None = None
    """Torch backend only (else None): the feature-major block ``hidden`` is a strided view of (see
    :mod:`.torch_backend`)."""

    def reset(self, mask: wp.array[wp.bool] | None = None) -> None:
        """Zero the hidden state and held output of the slots where ``mask`` is True (all when None)."""
        if self.storage is not None:
            views = self.torch_views()
            layers, _, size = self.hidden.shape
            rows = self.storage.shape[0] - layers * (size + 1)
            hidden = views["storage"][rows:].view(layers, size + 1, -1)[:, :size]
            if mask is None:
                hidden.zero_()
                views["held"].zero_()
                views["fallback"].zero_()
                views["dirty"].fill_(1)
                return
            selected = wp.to_torch(mask)
            hidden.masked_fill_(selected.view(1, 1, -1), 0.0)
            views["held"].masked_fill_(selected, 0.0)
            views["fallback"].masked_fill_(selected, 0)
            views["dirty"].masked_fill_(selected, 1)
            return
        wp.launch(
            kernels.reset_state,
            dim=self.held.shape[0],
            inputs=[mask, int(mask is not None), self.hidden, self.held, self.fallback, self.dirty],
            device=self.held.device,
        )

    def assign(self, other: GRUPDState) -> None:
        """Copy ``other`` into this state in place (Newton's ``Actuator.State.assign``; no new storage)."""
        names = ("storage" if self.storage is not None else "hidden", "held", "fallback", "phase", "dirty")
        for name in names:
            wp.copy(getattr(self, name), getattr(other, name))

    def torch_views(self) -> dict:
        """Zero-copy torch views of the arrays (torch backend), cached on the state."""
        views = self.__dict__.get("_torch_views")
        if views is None:
            names = ("storage", "held", "fallback", "phase", "dirty")
            views = self.__dict__["_torch_views"] = {name: wp.to_torch(getattr(self, name)) for name in names}
        return views

    def hidden_per_env(self, num_envs: int) -> np.ndarray:
        """Host copy of :attr:`hidden` as ``(num_layers, num_envs, joints_per_env, hidden_size)``."""
        layers, slots, size = self.hidden.shape
        return self.hidden.numpy().reshape(layers, num_envs, slots // num_envs, size)


def make_state(n: int, device, num_layers: int, hidden_size: int, torch_backend: bool, num_features: int) -> GRUPDState:
    """A zero state for ``n`` slots: feature-major storage with a strided ``hidden`` view on the torch backend."""
    flags = {name: wp.zeros(n, dtype=wp.int32, device=device) for name in ("fallback", "phase", "dirty")}
    held = wp.zeros(n, dtype=wp.float32, device=device)
    if torch_backend:
        from .torch_backend import hidden_view, storage_rows

        rows = storage_rows(num_features, num_layers, hidden_size)
        storage = wp.zeros((rows, n), dtype=wp.float32, device=device)
        hidden = hidden_view(storage, num_features, num_layers, hidden_size)
        return GRUPDState(hidden=hidden, held=held, storage=storage, **flags)
    hidden = wp.zeros((num_layers, n, hidden_size), dtype=wp.float32, device=device)
    return GRUPDState(hidden=hidden, held=held, **flags)
