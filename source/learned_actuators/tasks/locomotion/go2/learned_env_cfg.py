r"""Go2 velocity tracking (flat, rough) with learned actuator models (GRU-PD, LSTM, MLP).

Each cfg is Isaac Lab's Go2 velocity cfg (``-Offline``: ours with local assets, see :mod:`.offline`) with the
deltas applied by :func:`use_learned_actuator`: the ``"base_legs"`` DC-motor group becomes a learned actuator
on the same joints and motor limits (:mod:`learned_actuators.assets.unitree_go2_actuators`). Every task keeps
Isaac Lab's default ``sim.use_newton_actuators=True`` (our Newton drives run the actuators inside Newton's step; the
command-line override ``env.sim.use_newton_actuators=false`` selects Isaac Lab's Python path, same torques).

The GRU-PD tasks default to the shipped Go2 starter model (:data:`~learned_actuators.assets.unitree_go2_actuators.
GO2_STARTER_GRU_PD_ACTUATOR_CFG`, trained to reproduce the walk-these-ways Go1 actuator net; see
``learned_actuators/models/go2_starter/PROVENANCE.md``). The network file is a cfg field, set per run on the command
line (never in code); for the LSTM and MLP tasks it is required::

    isaaclab train --rl_library rsl_rl --task LearnedActuators-Velocity-Flat-UnitreeGo2-GRUPD-Offline \\
        env.scene.robot.actuators.base_legs.network_file=/path/to/go2_gru_pd.pt

When an LSTM/MLP task's file is not set, building the env raises a :class:`MissingNetworkFileError` naming that
override.
"""

from __future__ import annotations

import os

from isaaclab.utils import configclass, replace
from isaaclab_tasks.core.velocity.config.go2.flat_env_cfg import UnitreeGo2FlatEnvCfg
from isaaclab_tasks.core.velocity.config.go2.rough_env_cfg import UnitreeGo2RoughEnvCfg

from learned_actuators.actuators import LearnedActuatorBaseCfg
from learned_actuators.actuators.isaaclab_native import runs_natively
from learned_actuators.assets.unitree_go2_actuators import (
    GO2_LSTM_ACTUATOR_CFG,
    GO2_MLP_ACTUATOR_CFG,
    GO2_STARTER_GRU_PD_ACTUATOR_CFG,
)
from learned_actuators.errors import UserInputError

from .flat_env_cfg import UnitreeGo2FlatOfflineEnvCfg
from .rough_env_cfg import UnitreeGo2RoughOfflineEnvCfg

ACTUATOR_GROUP = "base_legs"
"""Name of the Go2 leg actuator group (as in Isaac Lab's ``UNITREE_GO2_CFG``)."""


class MissingNetworkFileError(UserInputError):
    """A learned actuator of an env cfg has no network file, or the file does not exist."""


def use_learned_actuator(env_cfg, actuator_cfg: LearnedActuatorBaseCfg) -> None:
    """Drive every Go2 leg joint of ``env_cfg`` with ``actuator_cfg``, in place.

    Replaces the robot's actuator groups by one ``"base_legs"`` group (a copy of ``actuator_cfg``; its network
    file is the preset's default when it has one, else still to be set: empty string). An actuator that cannot
    run natively in Newton (any of ours when
    :func:`~learned_actuators.actuators.isaaclab_native.native_path_available` is False, i.e. other Isaac Lab
    versions) also switches the env to Isaac Lab's Python actuator path (``sim.use_newton_actuators = False``).
    The robot's spawn (asset), init state and limits are kept.
    """
    default_file = actuator_cfg.network_file if isinstance(actuator_cfg.network_file, str) else ""
    actuator = replace(actuator_cfg, network_file=default_file)
    env_cfg.scene.robot = replace(env_cfg.scene.robot, actuators={ACTUATOR_GROUP: actuator})
    if not runs_natively(actuator):
        env_cfg.sim.use_newton_actuators = False


def require_network_files(env_cfg) -> None:
    """Check that every learned actuator of the robot has an existing network file.

    Raises:
        MissingNetworkFileError: A file is not set or does not exist; the message names the override to pass.
    """
    for name, actuator in env_cfg.scene.robot.actuators.items():
        if not isinstance(actuator, LearnedActuatorBaseCfg):
            continue
        key = f"env.scene.robot.actuators.{name}.network_file"
        path = actuator.network_file
        if not isinstance(path, str) or not path:
            raise MissingNetworkFileError(
                f"The actuator group '{name}' ({type(actuator).__name__}) has no network file. Pass one on the "
                f"command line: {key}=/path/to/net.pt (a TorchScript file written by learned_actuators' trainers "
                "or network_file.save_network)."
            )
        if not os.path.isfile(path):
            raise MissingNetworkFileError(
                f"{key}={path}: no such file (resolved to {os.path.abspath(path)}). Pass an existing actuator "
                f"network file as {key}=/path/to/net.pt."
            )


class LearnedActuatorEnvCfgMixin:
    """Adds the network-file check to a Go2 env cfg with a learned actuator (put it first among the bases).

    Its ``validate_config`` (run by Isaac Lab when the env is built, after command-line overrides) is
    :func:`require_network_files`. Each task class sets its actuator in its own ``__post_init__`` with
    :func:`use_learned_actuator`.
    """

    def validate_config(self):
        """Check that the learned actuators have their network files (see :func:`require_network_files`)."""
        require_network_files(self)


# Offline assets (local Go2 USD and ground plane).
@configclass
class UnitreeGo2FlatGRUPDOfflineEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2FlatOfflineEnvCfg):
    """Offline flat Go2 with the GRU-PD learned actuator (default file: the Go2 starter model)."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_STARTER_GRU_PD_ACTUATOR_CFG)


@configclass
class UnitreeGo2FlatLSTMOfflineEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2FlatOfflineEnvCfg):
    """Offline flat Go2 with the LSTM actuator net."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_LSTM_ACTUATOR_CFG)


@configclass
class UnitreeGo2FlatMLPOfflineEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2FlatOfflineEnvCfg):
    """Offline flat Go2 with the MLP actuator net."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_MLP_ACTUATOR_CFG)


@configclass
class UnitreeGo2RoughGRUPDOfflineEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2RoughOfflineEnvCfg):
    """Offline rough Go2 with the GRU-PD learned actuator (default file: the Go2 starter model)."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_STARTER_GRU_PD_ACTUATOR_CFG)


@configclass
class UnitreeGo2RoughLSTMOfflineEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2RoughOfflineEnvCfg):
    """Offline rough Go2 with the LSTM actuator net."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_LSTM_ACTUATOR_CFG)


@configclass
class UnitreeGo2RoughMLPOfflineEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2RoughOfflineEnvCfg):
    """Offline rough Go2 with the MLP actuator net."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_MLP_ACTUATOR_CFG)


# Isaac Lab's official (Nucleus) assets.
@configclass
class UnitreeGo2FlatGRUPDEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2FlatEnvCfg):
    """Isaac Lab's flat Go2 with the GRU-PD learned actuator (default file: the Go2 starter model)."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_STARTER_GRU_PD_ACTUATOR_CFG)


@configclass
class UnitreeGo2FlatLSTMEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2FlatEnvCfg):
    """Isaac Lab's flat Go2 with the LSTM actuator net."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_LSTM_ACTUATOR_CFG)


@configclass
class UnitreeGo2FlatMLPEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2FlatEnvCfg):
    """Isaac Lab's flat Go2 with the MLP actuator net."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_MLP_ACTUATOR_CFG)


@configclass
class UnitreeGo2RoughGRUPDEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2RoughEnvCfg):
    """Isaac Lab's rough Go2 with the GRU-PD learned actuator (default file: the Go2 starter model)."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_STARTER_GRU_PD_ACTUATOR_CFG)


@configclass
class UnitreeGo2RoughLSTMEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2RoughEnvCfg):
    """Isaac Lab's rough Go2 with the LSTM actuator net."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_LSTM_ACTUATOR_CFG)


@configclass
class UnitreeGo2RoughMLPEnvCfg(LearnedActuatorEnvCfgMixin, UnitreeGo2RoughEnvCfg):
    """Isaac Lab's rough Go2 with the MLP actuator net."""

    def __post_init__(self):
        super().__post_init__()
        use_learned_actuator(self, GO2_MLP_ACTUATOR_CFG)
