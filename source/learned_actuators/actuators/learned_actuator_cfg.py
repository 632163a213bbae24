"""Configuration shared by the learned actuators."""

from __future__ import annotations

from dataclasses import MISSING
from typing import TYPE_CHECKING, Literal

from isaaclab.actuators import DCMotorCfg
from isaaclab.utils import configclass

if TYPE_CHECKING:
    from .learned_actuator import LearnedActuatorBase


@configclass
class LearnedActuatorBaseCfg(DCMotorCfg):
    """Fields shared by the GRU-PD, LSTM and MLP actuator cfgs.

    Motor limits reuse Isaac Lab's DC-motor fields, per joint (scalar or joint-name-pattern dict):
    ``saturation_effort`` is the stall torque [N·m], ``actuator_velocity_limit`` the no-load speed [rad/s] and
    ``actuator_effort_limit`` the continuous torque limit [N·m]. The final effort is clipped with them at the
    *current* joint velocity, by the curve chosen in :attr:`torque_speed_curve`.

    Execution path: our cfgs run with either value of ``sim.use_newton_actuators`` (True, Isaac Lab 3.0's default:
    natively in Newton as :class:`~learned_actuators.newton_drives.DriveGRUPD`, ``DriveLSTM`` or ``DriveMLP``;
    False: Isaac Lab's Python actuator path, same torques). See :class:`LearnedActuatorBase`.
    """

    class_type: type[LearnedActuatorBase] | str = MISSING

    network_file: str = MISSING
    """Path of the TorchScript actuator net [.pt], ideally with embedded ``metadata.json``
    (:mod:`learned_actuators.network_file`). Set it from the command line with ``...network_file=/path/net.pt``."""

    network_dt: float | None = None
    """Time step [s] the net was trained at. Default None: taken from the file's metadata. A value here must
    agree with the metadata. For files without metadata (third-party nets) None runs the net once per physics
    step, as Isaac Lab's stock classes do, and logs a warning; set it (e.g. 0.02 for walk-these-ways' Go1 net)
    to run the net at its rate."""

    physics_dt: float | None = None
    """Physics time step [s]. Default None: read from the active ``SimulationContext`` when the actuator is
    built (``sim.cfg.dt``; Isaac Lab passes no dt to actuators). Needed when no simulation context exists."""

    torque_speed_curve: Literal["dc_motor", "asymmetric"] = "dc_motor"
    """Curve for the final effort clip at the current velocity: ``"dc_motor"`` is Isaac Lab's
    :class:`~isaaclab.actuators.DCMotor` four-quadrant clip; ``"asymmetric"`` is
    :func:`learned_actuators.physics.torque_speed_limits` (motoring torque falls linearly to zero at the no-load
    speed, braking torque up to the stall torque), additionally bounded by ``actuator_effort_limit``."""

    nonfinite: Literal["guard", "raise"] = "guard"
    """What a NaN/inf joint position, velocity or position target, or net output, does. ``"guard"`` (default): the
    joint gets a finite fallback effort and the event is counted; for a bad input that is zero effort on that step,
    and the net step is skipped for that joint (its recurrent state or history is kept, never fed the bad value),
    counted in ``num_nonfinite_inputs``; for a bad net output it is ``tau_phys`` (GRU-PD) or zero, counted in
    ``num_nonfinite_outputs``. ``"raise"``: raise :class:`~learned_actuators.actuators.NonFiniteActuatorError`
    naming the quantity, env ids and joints (for debugging; on a GPU it costs a device sync per step). See
    :class:`~learned_actuators.actuators.LearnedActuatorBase`."""

    scale_check: Literal["warn", "raise", "ignore"] = "warn"
    """What a network file whose PD gain (``physics.kp`` times 1 rad) or stall torque (``physics.stall_torque``) is
    10x or more away from this cfg's ``saturation_effort`` does when the actuator loads it: ``"warn"`` (default)
    logs a warning naming the file, field and values, ``"raise"`` raises
    :class:`~learned_actuators.actuators.ActuatorCfgError`, ``"ignore"`` accepts it silently. Files without gains
    (LSTM, MLP, third-party nets) are not checked. See :mod:`learned_actuators.actuators.scale_check`."""

    fused: bool = True
    """Evaluate the net with preallocated fused kernels (:mod:`learned_actuators.actuators.fused_nets`). They
    are checked against the TorchScript module on random inputs at load; if the structure is unknown or the
    check fails the module itself is called (slower, same results)."""
