"""rsl-rl runner cfgs of the Go2 torque-aware AMP tasks: Isaac Lab's flat Go2 PPO recipe with the AMP algorithm.

Runs are logged under ``logs/rsl_rl/go2_flat_amp_<actuator>/<timestamp>/``. The AMP fields
(:class:`~learned_actuators.amp.cfg.TorqueAmpPpoAlgorithmCfg`) are overridable as ``agent.algorithm.<field>=...``;
``scripts/train_torque_amp.py`` sets ``motion_files`` and ``torque_weight`` from its options.
"""

from isaaclab.utils import configclass
from isaaclab_tasks.core.velocity.config.go2.agents.rsl_rl_ppo_cfg import UnitreeGo2FlatPPORunnerCfg

from learned_actuators.amp.cfg import TorqueAmpPpoAlgorithmCfg


def _with_amp(runner_cfg, experiment_name: str) -> None:
    """Swap the runner cfg's PPO algorithm cfg for the AMP one with the same PPO settings, in place."""
    ppo = runner_cfg.algorithm.to_dict()
    ppo.pop("class_name")
    runner_cfg.algorithm = TorqueAmpPpoAlgorithmCfg(**ppo)
    runner_cfg.experiment_name = experiment_name


@configclass
class Go2FlatAmpPPORunnerCfg(UnitreeGo2FlatPPORunnerCfg):
    """Flat terrain, stock DC motors: ``logs/rsl_rl/go2_flat_amp_dc``."""

    def __post_init__(self):
        super().__post_init__()
        _with_amp(self, "go2_flat_amp_dc")


@configclass
class Go2FlatGRUPDAmpPPORunnerCfg(UnitreeGo2FlatPPORunnerCfg):
    """Flat terrain, GRU-PD actuator: ``logs/rsl_rl/go2_flat_amp_gru_pd``."""

    def __post_init__(self):
        super().__post_init__()
        _with_amp(self, "go2_flat_amp_gru_pd")


@configclass
class Go2FlatLSTMAmpPPORunnerCfg(UnitreeGo2FlatPPORunnerCfg):
    """Flat terrain, LSTM actuator: ``logs/rsl_rl/go2_flat_amp_lstm``."""

    def __post_init__(self):
        super().__post_init__()
        _with_amp(self, "go2_flat_amp_lstm")


@configclass
class Go2FlatMLPAmpPPORunnerCfg(UnitreeGo2FlatPPORunnerCfg):
    """Flat terrain, MLP actuator: ``logs/rsl_rl/go2_flat_amp_mlp``."""

    def __post_init__(self):
        super().__post_init__()
        _with_amp(self, "go2_flat_amp_mlp")
