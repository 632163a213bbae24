"""rsl-rl PPO runner cfgs for the Go2 tasks: Isaac Lab's Go2 recipes with our experiment names."""

from isaaclab.utils import configclass

from isaaclab_tasks.core.velocity.config.go2.agents.rsl_rl_ppo_cfg import (
    UnitreeGo2FlatPPORunnerCfg,
    UnitreeGo2RoughPPORunnerCfg,
)


@configclass
class Go2FlatOfflinePPORunnerCfg(UnitreeGo2FlatPPORunnerCfg):
    """Flat-terrain PPO, logged under ``logs/rsl_rl/go2_flat_offline``."""

    experiment_name = "go2_flat_offline"


@configclass
class Go2RoughOfflinePPORunnerCfg(UnitreeGo2RoughPPORunnerCfg):
    """Rough-terrain PPO, logged under ``logs/rsl_rl/go2_rough_offline``."""

    experiment_name = "go2_rough_offline"
