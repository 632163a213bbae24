"""Where converted assets live: a per-user cache, overridable by ``LEARNED_ACTUATORS_CACHE``."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV_VAR = "LEARNED_ACTUATORS_CACHE"
"""Environment variable that overrides the asset cache folder."""


def cache_dir() -> Path:
    """Return the asset cache folder.

    ``$LEARNED_ACTUATORS_CACHE``, else ``$XDG_CACHE_HOME/learned_actuators``, else ``~/.cache/learned_actuators``.
    """
    if os.environ.get(CACHE_ENV_VAR):
        return Path(os.environ[CACHE_ENV_VAR]).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser().resolve() / "learned_actuators"


def go2_usd_path() -> Path:
    """Path of the converted offline Go2 USD (exists after :func:`learned_actuators.assets.go2_usd.prepare`)."""
    return cache_dir() / "go2" / "usd" / "go2.usdc"


def ground_plane_usd_path() -> Path:
    """Path of the local ground-plane USD."""
    return cache_dir() / "ground_plane" / "ground_plane.usda"
