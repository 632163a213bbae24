"""Go2 flat-terrain velocity tracking, offline (local assets). Stock Isaac Lab cfg plus :func:`make_offline`."""

from isaaclab.utils import configclass
from isaaclab_tasks.core.velocity.config.go2.flat_env_cfg import UnitreeGo2FlatEnvCfg

from .offline import make_offline


@configclass
class UnitreeGo2FlatOfflineEnvCfg(UnitreeGo2FlatEnvCfg):
    """Isaac Lab's ``Isaac-Velocity-Flat-UnitreeGo2`` (DC motors) with local robot and ground assets."""

    def __post_init__(self):
        super().__post_init__()
        make_offline(self)
