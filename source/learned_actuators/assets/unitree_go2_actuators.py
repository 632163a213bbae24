"""Unitree Go2 with learned actuator models: actuator cfgs and articulation presets.

Each preset is :data:`~learned_actuators.assets.unitree_go2.UNITREE_GO2_OFFLINE_CFG` (Isaac Lab's stock Go2
spawned from the local USD) with its ``"base_legs"`` DC-motor group replaced by a learned actuator on the same
joints and per-joint motor limits (from Isaac Lab's stock Go2 cfg, matching ``go2.usd``): hip and thigh
23.7 N·m stall / 30.1 rad/s no-load; the calf sits behind an extra 1.92:1 knee reduction, so 45.43 N·m /
15.70 rad/s at the joint.

The network file is a cfg field, set per run without editing code, e.g. on the ``isaaclab train`` command line:
``env.scene.robot.actuators.base_legs.network_file=/path/to/go2_gru_pd.pt``. Gains, spring, rate and
normalisation come from the file's metadata. The GRU-PD preset runs with either value of
``sim.use_newton_actuators`` (True, Isaac Lab's default: natively in Newton); env cfgs using the LSTM or MLP
presets must set ``sim.use_newton_actuators = False`` (see :mod:`learned_actuators.actuators`).
"""

from __future__ import annotations

from isaaclab.utils import replace

from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg, LSTMActuatorNetCfg, MLPActuatorNetCfg

from .unitree_go2 import UNITREE_GO2_OFFLINE_CFG

__all__ = [
    "GO2_GRU_PD_ACTUATOR_CFG",
    "GO2_LEG_JOINTS",
    "GO2_LSTM_ACTUATOR_CFG",
    "GO2_MLP_ACTUATOR_CFG",
    "GO2_MOTOR_LIMITS",
    "UNITREE_GO2_GRU_PD_CFG",
    "UNITREE_GO2_LSTM_CFG",
    "UNITREE_GO2_MLP_CFG",
]

GO2_LEG_JOINTS = [".*_hip_joint", ".*_thigh_joint", ".*_calf_joint"]
"""Joint-name patterns of the Go2 leg actuator group (as in Isaac Lab's ``UNITREE_GO2_CFG``)."""

GO2_MOTOR_LIMITS = {
    "saturation_effort": {".*_hip_joint": 23.7, ".*_thigh_joint": 23.7, ".*_calf_joint": 45.43},
    "actuator_effort_limit": {".*_hip_joint": 23.7, ".*_thigh_joint": 23.7, ".*_calf_joint": 45.43},
    "actuator_velocity_limit": {".*_hip_joint": 30.1, ".*_thigh_joint": 30.1, ".*_calf_joint": 15.70},
}
"""Joint-side stall torque [N·m], continuous torque [N·m] and no-load speed [rad/s] per Go2 joint
(Isaac Lab's stock Go2 cfg; calf behind a 1.92:1 reduction)."""

GO2_GRU_PD_ACTUATOR_CFG = CombinedGRUAndPDActuatorCfg(
    joint_names_expr=GO2_LEG_JOINTS, torque_speed_curve="asymmetric", friction=0.0, **GO2_MOTOR_LIMITS
)
"""GRU residual on PD + spring with the asymmetric torque-speed curve; set ``network_file``."""

GO2_LSTM_ACTUATOR_CFG = LSTMActuatorNetCfg(joint_names_expr=GO2_LEG_JOINTS, friction=0.0, **GO2_MOTOR_LIMITS)
"""LSTM actuator net with DC-motor clipping; set ``network_file``."""

GO2_MLP_ACTUATOR_CFG = MLPActuatorNetCfg(joint_names_expr=GO2_LEG_JOINTS, friction=0.0, **GO2_MOTOR_LIMITS)
"""MLP actuator net (history per the file's metadata) with DC-motor clipping; set ``network_file``."""

UNITREE_GO2_GRU_PD_CFG = replace(UNITREE_GO2_OFFLINE_CFG, actuators={"base_legs": GO2_GRU_PD_ACTUATOR_CFG})
"""Offline Go2 with :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator` legs."""

UNITREE_GO2_LSTM_CFG = replace(UNITREE_GO2_OFFLINE_CFG, actuators={"base_legs": GO2_LSTM_ACTUATOR_CFG})
"""Offline Go2 with :class:`~learned_actuators.actuators.LSTMActuatorNet` legs."""

UNITREE_GO2_MLP_CFG = replace(UNITREE_GO2_OFFLINE_CFG, actuators={"base_legs": GO2_MLP_ACTUATOR_CFG})
"""Offline Go2 with :class:`~learned_actuators.actuators.MLPActuatorNet` legs."""
