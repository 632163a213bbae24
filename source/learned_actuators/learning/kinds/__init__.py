"""The registry of model kinds: one :class:`ModelKind` per ``model_type``, one module per kind.

Adding a kind: a module here with its :class:`ModelKind` subclass, one line in :data:`KINDS` (or :func:`register`
at run time, e.g. in a test), and its tests. The trainer, exporters and loaders find it with :func:`kind_of`.
"""

from __future__ import annotations

from ...errors import UserInputError
from .base import ModelKind
from .gru_pd import GRUPDKind
from .lstm import LSTMKind
from .mlp import MLPKind

__all__ = ["KINDS", "MODEL_TYPES", "GRUPDKind", "LSTMKind", "MLPKind", "ModelKind", "kind_of", "register"]

KINDS: dict[str, ModelKind] = {kind.name: kind for kind in (GRUPDKind(), LSTMKind(), MLPKind())}
"""Every known kind by its ``model_type``."""

MODEL_TYPES: tuple[str, ...] = tuple(KINDS)
"""The package's model types (``"gru_pd"``, ``"lstm"``, ``"mlp"``); kinds registered later are in :data:`KINDS`."""


def register(kind: ModelKind) -> ModelKind:
    """Add ``kind`` to :data:`KINDS`; returns it.

    Raises:
        ValueError: when a kind of that name is already registered.
    """
    if kind.name in KINDS:
        raise ValueError(f"model type {kind.name!r} is already registered ({KINDS[kind.name]!r}).")
    KINDS[kind.name] = kind
    return kind


def kind_of(name: str, field: str = "model type") -> ModelKind:
    """The kind registered as ``name``.

    Raises:
        UserInputError: for an unknown name, naming ``field`` and the registered choices.
    """
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise UserInputError(f"{field} {name!r}; expected one of {tuple(KINDS)}.")
    return kind
