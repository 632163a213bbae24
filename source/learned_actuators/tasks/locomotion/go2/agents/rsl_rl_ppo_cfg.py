"""rsl-rl PPO runner cfgs for the Go2 tasks: Isaac Lab's Go2 recipes with our experiment names."""

from isaaclab.utils import configclass
from isaaclab_tasks.core.velocity.config.go2.agents.rsl_rl_ppo_cfg import (
    UnitreeGo2FlatPPORunnerCfg,
    UnitreeGo2RoughPPORunnerCfg,
)


@configclass
class Go2FlatOfflinePPORunnerCfg(UnitreeGo2FlatPPORunnerCfg):
    """Flat-terrain PPO, logged under ``logs/rsl_rl/go2_flat_offline``."""

    def __post_init__(self):
        super().__post_init__()
        # the stock flat cfg sets its experiment name in __post_init__, so ours must too
        self.experiment_name = "go2_flat_offline"


@configclass
class Go2RoughOfflinePPORunnerCfg(UnitreeGo2RoughPPORunnerCfg):
    """Rough-terrain PPO, logged under ``logs/rsl_rl/go2_rough_offline``."""

    experiment_name = "go2_rough_offline"
