"""Go2 rough-terrain velocity tracking, offline (local assets). Stock Isaac Lab cfg plus :func:`make_offline`."""

from isaaclab.utils import configclass
from isaaclab_tasks.core.velocity.config.go2.rough_env_cfg import UnitreeGo2RoughEnvCfg

from .offline import make_offline


@configclass
class UnitreeGo2RoughOfflineEnvCfg(UnitreeGo2RoughEnvCfg):
    """Isaac Lab's ``Isaac-Velocity-Rough-UnitreeGo2`` (DC motors) with a local robot USD.

    The rough terrain itself is generated procedurally, so only its remote visual material is dropped.
    """

    def __post_init__(self):
        super().__post_init__()
        make_offline(self)
