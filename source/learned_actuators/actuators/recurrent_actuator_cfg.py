"""Configuration shared by the recurrent (LSTM, GRU) actuators."""

from __future__ import annotations

from isaaclab.utils import configclass

from .learned_actuator_cfg import LearnedActuatorBaseCfg


@configclass
class RecurrentActuatorBaseCfg(LearnedActuatorBaseCfg):
    """Expected recurrent network shape; checked against the net and its metadata (None: don't check)."""

    hidden_size: int | None = None
    """Expected hidden size of the recurrent layers. Default None (taken from the net)."""
    num_layers: int | None = None
    """Expected number of recurrent layers. Default None (taken from the net)."""
