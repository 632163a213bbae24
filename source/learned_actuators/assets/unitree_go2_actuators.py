"""Unitree Go2 with learned actuator models: actuator cfgs and articulation presets.

Each preset is :data:`~learned_actuators.assets.unitree_go2.UNITREE_GO2_OFFLINE_CFG` (Isaac Lab's stock Go2
spawned from the local USD) with its ``"base_legs"`` DC-motor group replaced by a learned actuator on the same
joints and per-joint motor limits (from Isaac Lab's stock Go2 cfg, matching ``go2.usd``): hip and thigh
23.7 N·m stall / 30.1 rad/s no-load; the calf sits behind an extra 1.92:1 knee reduction, so 45.43 N·m /
15.70 rad/s at the joint.

The network file is a cfg field, set per run without editing code, e.g. on the ``isaaclab train`` command line:
``env.scene.robot.actuators.base_legs.network_file=/path/to/go2_gru_pd.pt``. Gains, spring, rate and
normalisation come from the file's metadata. :data:`GO2_STARTER_GRU_PD_ACTUATOR_CFG` has it set to the shipped Go2
starter model (:func:`learned_actuators.models.go2_starter_path`; trained to reproduce the walk-these-ways Go1
actuator net, see its ``PROVENANCE.md``), and :data:`GO2_WTW_GO1_MLP_ACTUATOR_CFG` holds the conventions of the
walk-these-ways Go1 net itself (the file is yours to point at). The GRU-PD preset runs with either value of
``sim.use_newton_actuators`` (True, Isaac Lab's default: natively in Newton); env cfgs using the LSTM or MLP
presets must set ``sim.use_newton_actuators = False`` (see :mod:`learned_actuators.actuators`).
"""

from __future__ import annotations

from isaaclab.utils import replace

from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg, LSTMActuatorNetCfg, MLPActuatorNetCfg

from ..models import GO2_JOINT_LIMITS, go2_starter_path, go2_starter_pd_curve
from .unitree_go2 import UNITREE_GO2_OFFLINE_CFG

__all__ = [
    "GO2_GRU_PD_ACTUATOR_CFG",
    "GO2_LEG_JOINTS",
    "GO2_LSTM_ACTUATOR_CFG",
    "GO2_MLP_ACTUATOR_CFG",
    "GO2_MOTOR_LIMITS",
    "GO2_STARTER_GRU_PD_ACTUATOR_CFG",
    "GO2_WTW_GO1_MLP_ACTUATOR_CFG",
    "UNITREE_GO2_GRU_PD_CFG",
    "UNITREE_GO2_LSTM_CFG",
    "UNITREE_GO2_MLP_CFG",
    "UNITREE_GO2_STARTER_CFG",
]

GO2_LEG_JOINTS = [".*_hip_joint", ".*_thigh_joint", ".*_calf_joint"]
"""Joint-name patterns of the Go2 leg actuator group (as in Isaac Lab's ``UNITREE_GO2_CFG``)."""

GO2_MOTOR_LIMITS = {
    "saturation_effort": {joint: stall for joint, (stall, _) in GO2_JOINT_LIMITS.items()},
    "actuator_effort_limit": {joint: stall for joint, (stall, _) in GO2_JOINT_LIMITS.items()},
    "actuator_velocity_limit": {joint: speed for joint, (_, speed) in GO2_JOINT_LIMITS.items()},
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

GO2_STARTER_GRU_PD_ACTUATOR_CFG = replace(
    GO2_GRU_PD_ACTUATOR_CFG, network_file=go2_starter_path(), **go2_starter_pd_curve()
)
""":data:`GO2_GRU_PD_ACTUATOR_CFG` with the shipped Go2 starter model (the GRU-PD tasks' default).

The file models the hip/thigh motor (its PD saturates at 23.7 N·m / 30.1 rad/s); ``pd_stall_torque`` and
``pd_no_load_speed`` per joint give the calf, the same motor behind the 1.92:1 knee reduction, its joint-side curve
(45.43 N·m / 15.70 rad/s), as the final clip does. Another ``network_file`` may be set on it; for a file of your own,
trained on your robot, start from :data:`GO2_GRU_PD_ACTUATOR_CFG` (the file's own curve)."""

GO2_WTW_GO1_MLP_ACTUATOR_CFG = replace(
    GO2_MLP_ACTUATOR_CFG,
    network_dt=0.02,
    pos_scale=-1.0,
    vel_scale=1.0,
    torque_scale=1.0,
    input_order="pos_vel",
    input_idx=[0, 1, 2],
)
"""The walk-these-ways Go1 actuator net (``unitree_go1.pt``, MIT; not shipped: set ``network_file`` to your copy)
on the Go2 legs with its conventions: input ``[e_t, e_t-1, e_t-2, v_t, v_t-1, v_t-2]`` with ``e = q - q*``
(``pos_scale=-1``: the actuator feeds ``q* - q``), history slots at the net's training rate 50 Hz
(``network_dt=0.02``; Isaac Lab's stock ``GO1_ACTUATOR_CFG`` steps it every physics step instead, walk-these-ways
#12), output in N·m; clipped by the Go2's per-joint DC-motor limits. Runs on the execution path of
:data:`GO2_MLP_ACTUATOR_CFG`."""

UNITREE_GO2_GRU_PD_CFG = replace(UNITREE_GO2_OFFLINE_CFG, actuators={"base_legs": GO2_GRU_PD_ACTUATOR_CFG})
"""Offline Go2 with :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator` legs."""

UNITREE_GO2_LSTM_CFG = replace(UNITREE_GO2_OFFLINE_CFG, actuators={"base_legs": GO2_LSTM_ACTUATOR_CFG})
"""Offline Go2 with :class:`~learned_actuators.actuators.LSTMActuatorNet` legs."""

UNITREE_GO2_MLP_CFG = replace(UNITREE_GO2_OFFLINE_CFG, actuators={"base_legs": GO2_MLP_ACTUATOR_CFG})
"""Offline Go2 with :class:`~learned_actuators.actuators.MLPActuatorNet` legs."""

UNITREE_GO2_STARTER_CFG = replace(UNITREE_GO2_OFFLINE_CFG, actuators={"base_legs": GO2_STARTER_GRU_PD_ACTUATOR_CFG})
"""Offline Go2 with the shipped GRU-PD starter model on its legs (no file to set)."""
