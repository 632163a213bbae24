"""Isaac Lab actuator classes for learned actuator models (needs Isaac Lab 3.0).

* :class:`CombinedGRUAndPDActuator` — PD + spring + asymmetric torque-speed curve with a GRU residual.
* :class:`LSTMActuatorNet` — LSTM net (Isaac Lab ``ActuatorNetLSTM`` contract) at its trained rate.
* :class:`MLPActuatorNet` — MLP net on a position-error/velocity history (``ActuatorNetMLP`` contract).

Execution path (``sim.use_newton_actuators``, Isaac Lab 3.0 default True): the GRU-PD cfg runs natively in Newton
with either value (True: our Newton drive :class:`~learned_actuators.newton_drives.DriveGRUPD`; False: the class
above on Isaac Lab's Python path; same torques). The LSTM and MLP classes need ``sim.use_newton_actuators = False``
(our task cfgs set it); forgetting it raises :class:`NewtonActuatorPathError` saying so. A NaN/inf joint state or
target never reaches the effort (see :class:`LearnedActuatorBase`); a cfg value they cannot run with raises
:class:`ActuatorCfgError` naming the network file and the field.

Importing this package registers our USD schema plugin and Newton actuator component
(:mod:`learned_actuators.newton_drives`; before any USD stage is opened, which USD requires) and installs the
native-path hooks (:mod:`.isaaclab_native`).
"""

from .. import newton_drives  # registers the USD schema plugin and the Newton component (before any stage)
from .gru_pd_actuator import CombinedGRUAndPDActuator
from .gru_pd_actuator_cfg import CombinedGRUAndPDActuatorCfg
from .isaaclab_native import install as _install_native_path
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

_install_native_path()
