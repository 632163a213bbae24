"""Configuration of :class:`~learned_actuators.actuators.LSTMActuatorNet`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from isaaclab.utils import configclass

from .recurrent_actuator_cfg import RecurrentActuatorBaseCfg

if TYPE_CHECKING:
    from .lstm_actuator import LSTMActuatorNet


@configclass
class LSTMActuatorNetCfg(RecurrentActuatorBaseCfg):
    """LSTM actuator net with Isaac Lab's ``ActuatorNetLSTM`` contract, run at its trained rate.

    Contract: ``.lstm`` submodule, input ``[q* - q, qd]``, ``forward(x, (h, c)) -> (tau, (h, c))``.
    """

    class_type: type[LSTMActuatorNet] | str = "{DIR}.lstm_actuator:LSTMActuatorNet"
    stiffness = None
    damping = None
