"""Offline flat Go2 tasks with per-env actuator randomisation and input delay (``-Randomized-Offline``).

Each is the learned-actuator task of :mod:`.learned_env_cfg` plus the reset event
:func:`~learned_actuators.actuators.randomization.randomize_actuators` (``events.actuator_randomization``) with the
ranges below; the ranges are cfg fields, changed on the command line, e.g.
``env.events.actuator_randomization.params.randomization.delay_range=[0,4]``. Any other Go2 task of ours gets the
same with ``env_cfg.events.actuator_randomization = actuator_randomization_event(ActuatorRandomizationCfg(...))``.
"""

from __future__ import annotations

from isaaclab.utils import configclass

from learned_actuators.actuators.randomization import ActuatorRandomizationCfg, actuator_randomization_event

from .learned_env_cfg import (
    ACTUATOR_GROUP,
    UnitreeGo2FlatGRUPDOfflineEnvCfg,
    UnitreeGo2FlatLSTMOfflineEnvCfg,
    UnitreeGo2FlatMLPOfflineEnvCfg,
)

GO2_NET_RANDOMIZATION = ActuatorRandomizationCfg(
    torque_scale_range=(0.9, 1.1), friction_range=(0.0, 0.1), delay_range=(0, 2)
)
"""Motor strength +-10 %, up to 0.1 N·m extra Coulomb friction, 0-2 physics steps (0-10 ms) of target delay."""

GO2_GRU_PD_RANDOMIZATION = ActuatorRandomizationCfg(
    kp_scale_range=(0.9, 1.1),
    kd_scale_range=(0.9, 1.1),
    torque_scale_range=(0.9, 1.1),
    friction_range=(0.0, 0.1),
    delay_range=(0, 2),
)
"""As :data:`GO2_NET_RANDOMIZATION`, plus +-10 % on the GRU-PD prior's kp and kd."""


def randomize_go2_actuators(env_cfg, randomization: ActuatorRandomizationCfg) -> None:
    """Add the reset event ``events.actuator_randomization`` (a copy of ``randomization``) to a Go2 env cfg."""
    env_cfg.events.actuator_randomization = actuator_randomization_event(
        randomization.copy(), actuator_names=[ACTUATOR_GROUP]
    )


@configclass
class UnitreeGo2FlatGRUPDRandomizedOfflineEnvCfg(UnitreeGo2FlatGRUPDOfflineEnvCfg):
    """Offline flat GRU-PD Go2 with per-env actuator randomisation and target delay drawn at each reset.

    The ranges are :data:`GO2_GRU_PD_RANDOMIZATION`; the network file defaults to the Go2 starter model.
    """

    def __post_init__(self):
        super().__post_init__()
        randomize_go2_actuators(self, GO2_GRU_PD_RANDOMIZATION)


@configclass
class UnitreeGo2FlatLSTMRandomizedOfflineEnvCfg(UnitreeGo2FlatLSTMOfflineEnvCfg):
    """Offline flat Go2 with the LSTM actuator net, per-env actuator randomisation and target delay drawn at each reset.

    The ranges are :data:`GO2_NET_RANDOMIZATION`.
    """

    def __post_init__(self):
        super().__post_init__()
        randomize_go2_actuators(self, GO2_NET_RANDOMIZATION)


@configclass
class UnitreeGo2FlatMLPRandomizedOfflineEnvCfg(UnitreeGo2FlatMLPOfflineEnvCfg):
    """Offline flat Go2 with the MLP actuator net, per-env actuator randomisation and target delay drawn at each reset.

    The ranges are :data:`GO2_NET_RANDOMIZATION`.
    """

    def __post_init__(self):
        super().__post_init__()
        randomize_go2_actuators(self, GO2_NET_RANDOMIZATION)
