"""Shipped configuration: Hydra configs, the training presets (Hydra config group ``preset``) and column maps.

Primary Hydra configs ``train_actuator.yaml`` and ``validate_actuator.yaml``, presets ``preset/*.yaml``, column maps
``column_maps/*.json``. They are package data, read through :mod:`importlib.resources` (Hydra's
``pkg://learned_actuators.config`` search path does the same), so a wheel install or the docker image finds them
without the repository.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

__all__ = ["shipped_file", "shipped_names"]

KINDS = {"presets": ("preset", ".yaml"), "column_maps": ("column_maps", ".json")}
"""Kind -> (folder, file suffix)."""


def _folder(kind: str) -> tuple[Traversable, str]:
    if kind not in KINDS:
        raise ValueError(f"shipped config kind {kind!r}; expected one of {tuple(KINDS)}.")
    folder, suffix = KINDS[kind]
    return resources.files(__name__) / folder, suffix


def shipped_names(kind: str) -> list[str]:
    """Names (file stems) of the shipped ``kind`` files (``"presets"`` or ``"column_maps"``), sorted."""
    folder, suffix = _folder(kind)
    return sorted(p.name.removesuffix(suffix) for p in folder.iterdir() if p.name.endswith(suffix))


def shipped_file(kind: str, name: str) -> Traversable | None:
    """The shipped ``kind`` file called ``name`` (without suffix), or None when there is none."""
    folder, suffix = _folder(kind)
    path = folder / f"{name}{suffix}"
    return path if path.is_file() else None
