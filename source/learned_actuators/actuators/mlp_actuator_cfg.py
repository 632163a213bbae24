"""Configuration of :class:`~learned_actuators.actuators.MLPActuatorNet`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from isaaclab.utils import configclass

from .learned_actuator_cfg import LearnedActuatorBaseCfg

if TYPE_CHECKING:
    from .mlp_actuator import MLPActuatorNet


@configclass
class MLPActuatorNetCfg(LearnedActuatorBaseCfg):
    """MLP actuator net on a history of position errors and velocities (Isaac Lab's ``ActuatorNetMLP`` contract).

    Conventions default to the file's metadata; for files without metadata (third-party nets) the fields
    marked "required without metadata" must be set, with Isaac Lab's meanings, so that a cfg equivalent to an
    ``ActuatorNetMLPCfg`` gives the same torques. Values set here must agree with the metadata.
    """

    class_type: type[MLPActuatorNet] | str = "{DIR}.mlp_actuator:MLPActuatorNet"
    stiffness = None
    damping = None

    pos_scale: float | None = None
    """Factor on the position error ``q* - q`` [rad] fed to the net (walk-these-ways' Go1 net: -1.0).
    From metadata: ``pos_error_sign * pos_scale``. Required without metadata."""
    vel_scale: float | None = None
    """Factor on the joint velocity [rad/s] fed to the net. Required without metadata."""
    torque_scale: float | None = None
    """Factor from the net output to torque [N·m]. Required without metadata."""
    input_order: Literal["pos_vel", "vel_pos"] | None = None
    """``"pos_vel"``: position errors then velocities; ``"vel_pos"``: the reverse. Required without metadata."""
    input_idx: Iterable[int] | None = None
    """History slots fed to the net; 0 is now, ``k`` is ``k`` *network* steps ago (``network_dt`` apart, so a
    50 Hz net sees 50 Hz history at any physics rate). Required without metadata."""
    compile: bool | None = None
    """Run the fused net through ``torch.compile`` (Inductor), which fuses each layer's bias and activation into
    one pass: about 20 % less time per forward on CPU for large batches. It is compiled and checked against the
    eager kernels when the actuator is built (tens of seconds the first time on CPU, cached by PyTorch afterwards;
    needs a C++ compiler there). True: always, and a failure is an error. False: never. Default None (auto): on
    CPU when the batch has at least :data:`~learned_actuators.actuators.mlp_actuator.AUTO_COMPILE_ROWS` rows
    (``num_envs * num_joints``), falling back to the eager kernels with a warning if compiling fails. Needs
    :attr:`fused`."""
