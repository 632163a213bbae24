"""Shipped configuration: training presets (``presets/*.json``) and column maps (``column_maps/*.json``).

They are package data, read through :mod:`importlib.resources`, so a wheel install or the docker image finds
them without the repository.
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable

__all__ = ["shipped_file", "shipped_names"]

KINDS = ("presets", "column_maps")


def _folder(kind: str) -> Traversable:
    if kind not in KINDS:
        raise ValueError(f"shipped config kind {kind!r}; expected one of {KINDS}.")
    return resources.files(__name__) / kind


def shipped_names(kind: str) -> list[str]:
    """Names (file stems) of the shipped ``kind`` files (``"presets"`` or ``"column_maps"``), sorted."""
    return sorted(p.name.removesuffix(".json") for p in _folder(kind).iterdir() if p.name.endswith(".json"))


def shipped_file(kind: str, name: str) -> Traversable | None:
    """The shipped ``kind`` file called ``name`` (without ``.json``), or None when there is none."""
    path = _folder(kind) / f"{name}.json"
    return path if path.is_file() else None
