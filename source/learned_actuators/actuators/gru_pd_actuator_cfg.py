"""Configuration of :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from isaaclab.utils import configclass

from .recurrent_actuator_cfg import RecurrentActuatorBaseCfg

if TYPE_CHECKING:
    from .gru_pd_actuator import CombinedGRUAndPDActuator


@configclass
class CombinedGRUAndPDActuatorCfg(RecurrentActuatorBaseCfg):
    """PD + spring (+ asymmetric torque-speed curve) physics with a GRU residual (or direct) torque model.

    Gains and spring default to the values the net was trained with (file metadata ``physics``); the motor
    curve is per joint: ``saturation_effort`` = stall torque [N·m], ``actuator_velocity_limit`` = no-load speed
    [rad/s] (the Go2 calf, behind a 1.92:1 reduction, has its own values).
    """

    class_type: type[CombinedGRUAndPDActuator] | str = "{DIR}.gru_pd_actuator:CombinedGRUAndPDActuator"

    stiffness: dict[str, float] | float | None = None
    """PD stiffness ``kp`` [N·m/rad]. Default None: the file's ``physics.kp`` (a differing value logs a warning:
    the residual was learned at the training gains)."""
    damping: dict[str, float] | float | None = None
    """PD damping ``kd`` [N·m·s/rad]. Default None: the file's ``physics.kd``."""
    spring_stiffness: dict[str, float] | float | None = None
    """Spring coefficient ``k_spring`` [N·m/rad] of ``k_spring * (q - theta0)`` (restoring: negative).
    Default None: the file's ``physics.k_spring``."""
    spring_rest_angle: dict[str, float] | float | None = None
    """Spring rest angle ``theta0`` [rad]. Default None: the file's ``physics.theta0``."""
    pd_torque_speed_curve: bool | None = None
    """Saturate the PD torque with the asymmetric torque-speed curve (stall :attr:`pd_stall_torque`, no-load
    speed :attr:`pd_no_load_speed`). Default None: as in training (file ``physics`` has both curve values)."""
    pd_stall_torque: dict[str, float] | float | None = None
    """Stall torque [N·m] of the curve that saturates the PD torque (part of the model, like the gains).
    Default None: the file's ``physics.stall_torque``, else ``saturation_effort``. The final clip of the total
    torque always uses the motor limits (``saturation_effort``, ``actuator_velocity_limit``,
    ``actuator_effort_limit``), which may be higher: the residual supplies torque beyond the PD curve."""
    pd_no_load_speed: dict[str, float] | float | None = None
    """No-load speed [rad/s] of the PD saturation curve. Default None: the file's ``physics.no_load_speed``,
    else ``actuator_velocity_limit``."""
    coulomb_friction: dict[str, float] | float | None = None
    """Coulomb friction ``tau_c`` [N·m] of the physics term ``-tau_c * tanh(qd / v_c)`` (``v_c`` from the file's
    ``physics.friction_velocity``), part of this actuator's torque. Default None: the file's ``physics.friction``
    (0 when absent).

    Not the inherited :attr:`friction`: that keeps Isaac Lab's meaning, the joint friction Isaac Lab writes into
    the solver (Newton ``Model.joint_friction``, MJWarp ``dof_frictionloss``) on top of this torque (None: the USD
    value). ``friction`` used to set this term too and so counted it twice (in the torque and in the solver);
    setting both ``friction`` and a Coulomb term above zero logs a warning."""
    friction_load: dict[str, float] | float | None = None
    """Load-dependent Coulomb friction ``mu_c`` [-]: the physics term's bound is ``tau_c + mu_c * |PD torque|``
    (the saturated PD torque; a geared servo's gearbox friction). Default None: the file's
    ``physics.friction_load`` (0 when absent)."""
    features: list[str] | None = None
    """Expected GRU input features in order (checked against the file). Default None: the file's."""
    mode: Literal["residual", "direct"] | None = None
    """Expected output mode (checked against the file). Default None: the file's."""
    torque_speed_curve: Literal["dc_motor", "asymmetric"] = "asymmetric"
