r"""Analytic joint torque model shared by the actuators and the trainers.

All functions are element-wise on broadcastable tensors, so they serve one joint of a test bench and
``(num_envs, num_joints)`` batches alike. Units: angles [rad], velocities [rad/s], torques [N·m],
gains [N·m/rad] and [N·m·s/rad].

The physical part of :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator` is

.. math::

    \tau_{pd} = k_p (q^* - q) + k_d (0 - \dot q), \qquad
    \tau_{phys} = \mathrm{sat}_{tsc}(\tau_{pd}, \dot q) + k_{spring} (q - \theta_0)
        - \tau_c \tanh(\dot q / v_c)

where :math:`\mathrm{sat}_{tsc}` is the asymmetric torque-speed curve of :func:`torque_speed_limits` and the last
term an optional (smoothed) Coulomb friction, zero by default.
Note the spring sign: the formula is applied as written, so a restoring spring has ``k_spring < 0``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

__all__ = [
    "PhysicsParams",
    "clip_to_torque_speed_curve",
    "friction_torque",
    "pd_torque",
    "physical_torque",
    "spring_torque",
    "torque_speed_limits",
]


@dataclass(frozen=True)
class PhysicsParams:
    """Parameters of the analytic PD + spring + torque-speed-curve model of one joint (or a batch)."""

    kp: float = 20.0
    """Proportional gain [N·m/rad]."""
    kd: float = 0.5
    """Derivative gain on the joint velocity [N·m·s/rad]."""
    k_spring: float = 0.0
    """Spring coefficient [N·m/rad] of the term ``k_spring * (q - theta0)``."""
    theta0: float = 0.0
    """Spring rest angle [rad]."""
    stall_torque: float | None = None
    """Torque at zero speed [N·m]. None disables the torque-speed curve."""
    no_load_speed: float | None = None
    """Speed at which the motor can no longer produce torque in the direction of motion [rad/s]."""
    friction: float = 0.0
    """Coulomb friction torque ``tau_c`` [N·m] of the term ``-tau_c * tanh(qd / friction_velocity)``. Default 0."""
    friction_velocity: float = 0.05
    """Velocity ``v_c`` [rad/s] over which the Coulomb friction changes sign (tanh smoothing). Default 0.05."""

    def to_dict(self) -> dict:
        """Return the parameters as a JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PhysicsParams:
        """Build from a dict, rejecting unknown keys."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            known = sorted(cls.__dataclass_fields__)
            raise ValueError(f"Unknown physics parameters {sorted(unknown)}; expected some of {known}.")
        return cls(**data)

    @property
    def uses_torque_speed_curve(self) -> bool:
        """Whether both curve parameters are set."""
        return self.stall_torque is not None and self.no_load_speed is not None


def pd_torque(q: torch.Tensor, qd: torch.Tensor, q_target: torch.Tensor, kp, kd) -> torch.Tensor:
    """PD torque ``kp * (q_target - q) + kd * (0 - qd)`` [N·m] (velocity target is zero)."""
    return kp * (q_target - q) - kd * qd


def spring_torque(q: torch.Tensor, k_spring, theta0) -> torch.Tensor:
    """Spring torque ``k_spring * (q - theta0)`` [N·m]."""
    return k_spring * (q - theta0)


def friction_torque(qd: torch.Tensor, friction, friction_velocity) -> torch.Tensor:
    """Smoothed Coulomb friction torque ``-friction * tanh(qd / friction_velocity)`` [N·m]."""
    return -friction * torch.tanh(qd / friction_velocity)


def torque_speed_limits(qd: torch.Tensor, stall_torque, no_load_speed) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower and upper torque limits [N·m] of the asymmetric torque-speed curve at velocity ``qd``.

    Torque in the direction of motion (motoring) is limited to
    ``stall_torque * (1 - |qd| / no_load_speed)``, floored at zero; torque against the motion (braking)
    is limited to ``stall_torque``; at rest both directions get ``stall_torque``.

    Returns:
        ``(lower, upper)`` with the shape of ``qd`` broadcast against the parameters.
    """
    motoring = stall_torque * torch.clamp(1.0 - qd.abs() / no_load_speed, min=0.0)
    full = torch.ones_like(qd) * stall_torque
    upper = torch.where(qd > 0, motoring, full)
    lower = -torch.where(qd < 0, motoring, full)
    return lower, upper


def clip_to_torque_speed_curve(torque: torch.Tensor, qd: torch.Tensor, stall_torque, no_load_speed) -> torch.Tensor:
    """Saturate ``torque`` [N·m] by the asymmetric torque-speed curve at velocity ``qd`` [rad/s]."""
    lower, upper = torque_speed_limits(qd, stall_torque, no_load_speed)
    return torch.maximum(torch.minimum(torque, upper), lower)


def physical_torque(
    q: torch.Tensor,
    qd: torch.Tensor,
    q_target: torch.Tensor,
    kp,
    kd,
    k_spring=0.0,
    theta0=0.0,
    stall_torque=None,
    no_load_speed=None,
    friction=0.0,
    friction_velocity=0.05,
) -> torch.Tensor:
    """Return ``tau_phys`` [N·m].

    That is the PD torque, saturated by the torque-speed curve when both its parameters are set, plus the
    spring torque, plus the Coulomb friction torque (when ``friction`` is not zero).
    """
    tau = pd_torque(q, qd, q_target, kp, kd)
    if stall_torque is not None and no_load_speed is not None:
        tau = clip_to_torque_speed_curve(tau, qd, stall_torque, no_load_speed)
    tau = tau + spring_torque(q, k_spring, theta0)
    if isinstance(friction, torch.Tensor) or friction != 0.0:
        tau = tau + friction_torque(qd, friction, friction_velocity)
    return tau
