"""Unitree Go2 articulation cfgs that run offline.

:data:`UNITREE_GO2_OFFLINE_CFG` is Isaac Lab's stock ``UNITREE_GO2_CFG`` (same joint names, limits, init
state and DC motor actuators) spawned from the locally converted USD instead of the Nucleus/S3 one.
Build that USD once with ``learned-actuators-assets`` (the set-up script does).

Users with Nucleus access can ask for Isaac Lab's official USD instead by setting the environment
variable ``LEARNED_ACTUATORS_GO2_ASSET=official`` (read when a task cfg is built) or by using the task
variants without ``-Offline`` in their name.
"""

from __future__ import annotations

import os

from isaaclab.utils import replace
from isaaclab_assets.robots.unitree import UNITREE_GO2_CFG

from .paths import go2_usd_path, ground_plane_usd_path

ASSET_SOURCE_ENV_VAR = "LEARNED_ACTUATORS_GO2_ASSET"
"""``offline`` (default) or ``official``: which Go2 USD the offline task variants spawn."""

UNITREE_GO2_OFFLINE_CFG = replace(UNITREE_GO2_CFG, spawn=replace(UNITREE_GO2_CFG.spawn, usd_path=str(go2_usd_path())))
"""Stock Go2 (DC motors) spawned from the local USD converted from Unitree's MJCF (BSD-3-Clause)."""


def use_official_assets() -> bool:
    """Whether the user asked for Isaac Lab's official (Nucleus) assets via :data:`ASSET_SOURCE_ENV_VAR`."""
    value = os.environ.get(ASSET_SOURCE_ENV_VAR, "offline").strip().lower()
    if value not in ("offline", "official"):
        raise ValueError(f"{ASSET_SOURCE_ENV_VAR}={value!r}; expected 'offline' or 'official'.")
    return value == "official"


def require_offline_assets() -> None:
    """Raise a clear error when the converted Go2 USD or the ground plane is not in the cache."""
    missing = [str(p) for p in (go2_usd_path(), ground_plane_usd_path()) if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"Offline assets not found: {missing}. Build them once with `learned-actuators-assets` "
            "(or `bash run.sh setup`), or set LEARNED_ACTUATORS_GO2_ASSET=official to use Isaac Lab's Nucleus assets."
        )
