"""Isaac Lab actuator classes for learned actuator models (needs Isaac Lab 3.0).

* :class:`CombinedGRUAndPDActuator` — PD + spring + asymmetric torque-speed curve with a GRU residual.
* :class:`LSTMActuatorNet` — LSTM net (Isaac Lab ``ActuatorNetLSTM`` contract) at its trained rate.
* :class:`MLPActuatorNet` — MLP net on a position-error/velocity history (``ActuatorNetMLP`` contract).

All need ``sim.use_newton_actuators = False`` in the env cfg (Isaac Lab 3.0 defaults to Newton-native
actuators, which accept only Isaac Lab's own classes); forgetting it raises :class:`NewtonActuatorPathError`
saying so. A NaN/inf joint state or target never reaches the effort (see :class:`LearnedActuatorBase`); a
cfg value they cannot run with raises :class:`ActuatorCfgError` naming the network file and the field.
"""

from .gru_pd_actuator import CombinedGRUAndPDActuator
from .gru_pd_actuator_cfg import CombinedGRUAndPDActuatorCfg
from .learned_actuator import (
    NONFINITE_OPTIONS,
    ActuatorCfgError,
    LearnedActuatorBase,
    NewtonActuatorPathError,
    NonFiniteActuatorError,
    newton_actuators_active,
)
from .learned_actuator_cfg import LearnedActuatorBaseCfg
from .lstm_actuator import LSTMActuatorNet
from .lstm_actuator_cfg import LSTMActuatorNetCfg
from .mlp_actuator import MLPActuatorNet
from .mlp_actuator_cfg import MLPActuatorNetCfg
from .recurrent_actuator import RecurrentActuatorBase
from .recurrent_actuator_cfg import RecurrentActuatorBaseCfg
