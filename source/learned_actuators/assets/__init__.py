"""Offline robot assets.

:mod:`.go2_usd` builds them (no Isaac Lab needed); :mod:`.unitree_go2` holds the articulation cfgs (needs Isaac Lab).
"""

from .paths import CACHE_ENV_VAR, cache_dir, go2_usd_path, ground_plane_usd_path
