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


def _randomized(base: type, randomization: ActuatorRandomizationCfg, name: str) -> type:
    def post_init(self):
        base.__post_init__(self)
        self.events.actuator_randomization = actuator_randomization_event(
            randomization.copy(), actuator_names=[ACTUATOR_GROUP]
        )

    doc = f"{base.__doc__} Per-env actuator randomisation and target delay drawn at each reset."
    namespace = {"__post_init__": post_init, "__doc__": doc, "__module__": __name__, "__qualname__": name}
    return configclass(type(name, (base,), namespace))


UnitreeGo2FlatGRUPDRandomizedOfflineEnvCfg = _randomized(
    UnitreeGo2FlatGRUPDOfflineEnvCfg, GO2_GRU_PD_RANDOMIZATION, "UnitreeGo2FlatGRUPDRandomizedOfflineEnvCfg"
)
UnitreeGo2FlatLSTMRandomizedOfflineEnvCfg = _randomized(
    UnitreeGo2FlatLSTMOfflineEnvCfg, GO2_NET_RANDOMIZATION, "UnitreeGo2FlatLSTMRandomizedOfflineEnvCfg"
)
UnitreeGo2FlatMLPRandomizedOfflineEnvCfg = _randomized(
    UnitreeGo2FlatMLPOfflineEnvCfg, GO2_NET_RANDOMIZATION, "UnitreeGo2FlatMLPRandomizedOfflineEnvCfg"
)
