"""rsl-rl PPO runner cfgs for the Go2 tasks with learned actuators: Isaac Lab's Go2 recipes, own experiment names.

Runs are logged under ``logs/rsl_rl/go2_<terrain>_<actuator>/<timestamp>/`` (offline and official-asset
variants share the experiment).
"""

from isaaclab.utils import configclass
from isaaclab_tasks.core.velocity.config.go2.agents.rsl_rl_ppo_cfg import (
    UnitreeGo2FlatPPORunnerCfg,
    UnitreeGo2RoughPPORunnerCfg,
)

# The stock flat cfg sets its experiment name in __post_init__, so the flat ones here must too.


@configclass
class Go2FlatGRUPDPPORunnerCfg(UnitreeGo2FlatPPORunnerCfg):
    """Flat terrain, GRU-PD actuator: ``logs/rsl_rl/go2_flat_gru_pd``."""

    def __post_init__(self):
        super().__post_init__()
        self.experiment_name = "go2_flat_gru_pd"


@configclass
class Go2FlatLSTMPPORunnerCfg(UnitreeGo2FlatPPORunnerCfg):
    """Flat terrain, LSTM actuator: ``logs/rsl_rl/go2_flat_lstm``."""

    def __post_init__(self):
        super().__post_init__()
        self.experiment_name = "go2_flat_lstm"


@configclass
class Go2FlatMLPPPORunnerCfg(UnitreeGo2FlatPPORunnerCfg):
    """Flat terrain, MLP actuator: ``logs/rsl_rl/go2_flat_mlp``."""

    def __post_init__(self):
        super().__post_init__()
        self.experiment_name = "go2_flat_mlp"


@configclass
class Go2RoughGRUPDPPORunnerCfg(UnitreeGo2RoughPPORunnerCfg):
    """Rough terrain, GRU-PD actuator: ``logs/rsl_rl/go2_rough_gru_pd``."""

    experiment_name = "go2_rough_gru_pd"


@configclass
class Go2RoughLSTMPPORunnerCfg(UnitreeGo2RoughPPORunnerCfg):
    """Rough terrain, LSTM actuator: ``logs/rsl_rl/go2_rough_lstm``."""

    experiment_name = "go2_rough_lstm"


@configclass
class Go2RoughMLPPPORunnerCfg(UnitreeGo2RoughPPORunnerCfg):
    """Rough terrain, MLP actuator: ``logs/rsl_rl/go2_rough_mlp``."""

    experiment_name = "go2_rough_mlp"
