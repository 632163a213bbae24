r"""Analytic joint torque model shared by training, validation, the actuators and the Newton drive's torch backend.

All functions are element-wise on broadcastable tensors, so they serve one joint of a test bench and
``(num_envs, num_joints)`` batches alike. Units: angles [rad], velocities [rad/s], torques [N·m],
gains [N·m/rad] and [N·m·s/rad].

The physical part of :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator` is

.. math::

    \tau_{pd} = k_p (q^* - q) + k_d (\dot q^* - \dot q) + \tau_{ff}, \qquad
    \tau_{phys} = \mathrm{sat}_{tsc}(\tau_{pd}, \dot q) + k_{spring} (q - \theta_0)
        - (\tau_c + \mu_c |\mathrm{sat}_{tsc}(\tau_{pd}, \dot q)|) \tanh(\dot q / v_c)

with the whole low-level command (target angle :math:`q^*`, target velocity :math:`\dot q^*` and feed-forward
torque :math:`\tau_{ff}`, both zero unless given, and the gains), as a Unitree low-level command or Isaac Lab's
articulation actions carry it; :math:`\mathrm{sat}_{tsc}` is the asymmetric torque-speed curve of
:func:`torque_speed_limits` and the last term an optional (smoothed) Coulomb friction, zero by default, whose bound
grows with the motor torque (:math:`\mu_c`: the load-dependent friction of a geared servo, as in BAM's models).
Note the spring sign: the formula is applied as written, so a restoring spring has ``k_spring < 0``.

Each formula is written once, here. Called without buffers a function allocates its result and supports autograd
(training, validation); the actuators' hot path passes ``out=`` (and ``scratch=`` / ``limits=``) buffers of the
broadcast shape and gets the same values written in place, without allocating when the coefficients are tensors
(a plain-number coefficient costs one temporary). Buffers must not alias the inputs unless a docstring says so.
The drive's Warp kernels cannot call torch: :mod:`learned_actuators.newton_drives.kernels` writes the same formulas
once as ``@wp.func`` and a test checks them against these.

The final clip at the motor limits (:func:`motor_limits`) is here too: the asymmetric curve bounded by a
continuous effort limit, or Isaac Lab's ``DCMotor`` four-quadrant curve.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

__all__ = [
    "MOTOR_CURVES",
    "PhysicsParams",
    "clip_to_torque_speed_curve",
    "dc_motor_corner_velocity",
    "friction_torque",
    "motor_limits",
    "pd_torque",
    "physical_torque",
    "spring_torque",
    "static_friction",
    "torque_speed_limits",
]

MOTOR_CURVES = ("dc_motor", "asymmetric")
"""Final-clip curves of :func:`motor_limits` (the actuators' ``torque_speed_curve``)."""


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
    friction_load: float = 0.0
    """Load-dependent Coulomb friction ``mu_c`` [-]: the friction bound is ``tau_c + mu_c * |motor torque|`` (the
    saturated PD torque), as in a geared servo whose gearbox friction grows with the load. Default 0."""

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


def _term(coef, x: torch.Tensor, sign: float, add_to: torch.Tensor | None, out: torch.Tensor | None) -> torch.Tensor:
    """``add_to + sign * coef * x``, or ``sign * coef * x`` without ``add_to``; ``sign`` is ``1.0`` or ``-1.0``.

    In place (``out`` given, ``coef`` a tensor) the sum is one fused ``addcmul`` (``out`` may be ``add_to`` or ``x``);
    otherwise the product and the sum are separate ops, which round exactly as ``add_to + (sign * coef) * x``.
    """
    if add_to is not None and out is not None and isinstance(coef, torch.Tensor):
        return torch.addcmul(add_to, coef, x, value=sign, out=out)
    term = torch.mul(x, coef, out=out if add_to is None else None)
    if sign < 0:
        term = term.neg_()
    return term if add_to is None else torch.add(add_to, term, out=out)


def pd_torque(
    q: torch.Tensor,
    qd: torch.Tensor,
    q_target: torch.Tensor,
    kp,
    kd,
    out=None,
    *,
    qd_target: torch.Tensor | None = None,
    tau_ff: torch.Tensor | None = None,
    scratch=None,
) -> torch.Tensor:
    """PD torque of the whole command ``kp * (q_target - q) + kd * (qd_target - qd) + tau_ff`` [N·m].

    ``qd_target`` (target velocity [rad/s]) and ``tau_ff`` (feed-forward torque [N·m]) are zero when None (the
    damping then acts on ``-qd``, as before they existed). In place, ``scratch`` holds ``qd_target - qd``.
    """
    error = torch.sub(q_target, q, out=out)
    tau = torch.mul(error, kp, out=out)
    if qd_target is None:
        tau = _term(kd, qd, -1.0, tau, out)
    else:
        tau = _term(kd, torch.sub(qd_target, qd, out=scratch), 1.0, tau, out)
    return tau if tau_ff is None else torch.add(tau, tau_ff, out=out)


def spring_torque(q: torch.Tensor, k_spring, theta0, add_to=None, *, out=None, scratch=None) -> torch.Tensor:
    """Spring torque ``k_spring * (q - theta0)`` [N·m], added to ``add_to`` when given.

    With ``add_to``, ``scratch`` holds ``q - theta0`` (``out`` may be ``add_to``).
    """
    offset = torch.sub(q, theta0, out=out if add_to is None else scratch)
    return _term(k_spring, offset, 1.0, add_to, out)


def friction_torque(qd: torch.Tensor, friction, friction_velocity, add_to=None, *, out=None, scratch=None):
    """Smoothed Coulomb friction torque ``-friction * tanh(qd / friction_velocity)`` [N·m], added to ``add_to``.

    With ``add_to``, ``scratch`` holds the tanh (``out`` may be ``add_to``).
    """
    buffer = out if add_to is None else scratch
    shape = torch.tanh(torch.div(qd, friction_velocity, out=buffer), out=buffer)
    return _term(friction, shape, -1.0, add_to, out)


def static_friction(net, qd, inertia, dt, bound):
    """Static (stick-slip) friction torque [N·m] on a joint of inertia ``inertia`` [kg·m²] over one step ``dt`` [s].

    The torque that stops the joint within the step, ``-(inertia·qd/dt + net)``, clipped to ``±bound`` [N·m]:
    the joint sticks while ``net`` (every other torque on it) and its momentum stay within the bound, else it slides
    with the friction at the bound against them. The limit ``v_c -> 0`` of :func:`friction_torque` under a
    simulator's integration; the trajectory fit's integrator and the trainer's joint torque use it.
    """
    stop = -(inertia * qd / dt + net)
    return torch.clamp(stop, min=-bound, max=bound)


_ONES: dict[torch.device, torch.Tensor] = {}


def _one_plus_ratio(x: torch.Tensor, sign: float, denominator, out) -> torch.Tensor:
    """``1 + sign * x / denominator`` (one fused op for a tensor ``denominator``; ``out`` may be ``x``)."""
    if isinstance(denominator, torch.Tensor):
        one = _ONES.get(x.device)
        if one is None:
            one = _ONES[x.device] = torch.ones((), device=x.device)
        return torch.addcdiv(one, x, denominator, value=sign, out=out)
    return torch.add(torch.div(x, sign * denominator, out=out), 1.0, out=out)


def torque_speed_limits(qd: torch.Tensor, stall_torque, no_load_speed, out=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower and upper torque limits [N·m] of the asymmetric torque-speed curve at velocity ``qd``.

    Torque in the direction of motion (motoring) is limited to
    ``stall_torque * (1 - |qd| / no_load_speed)``, floored at zero; torque against the motion (braking)
    is limited to ``stall_torque``; at rest both directions get ``stall_torque``. Evaluated without a branch:
    ``upper = stall_torque * max(1 - max(qd, 0) / no_load_speed, 0)`` is the motoring limit for ``qd > 0`` and
    exactly ``stall_torque`` otherwise (``1 - 0 / v0 == 1``), ``lower`` likewise; ``no_load_speed`` must be
    positive (inf: a flat curve).

    Returns ``(lower, upper)`` with the shape of ``qd`` broadcast against the parameters, written into the
    buffers ``out = (lower, upper)`` when given.
    """
    lower, upper = (None, None) if out is None else out
    motoring = torch.clamp(qd, min=0.0, out=upper)
    motoring = torch.clamp(_one_plus_ratio(motoring, -1.0, no_load_speed, upper), min=0.0, out=upper)
    upper = torch.mul(motoring, stall_torque, out=upper)
    motoring = torch.clamp(qd, max=0.0, out=lower)
    motoring = torch.clamp(_one_plus_ratio(motoring, 1.0, no_load_speed, lower), min=0.0, out=lower)
    lower = torch.mul(motoring, stall_torque, out=lower).neg_()
    return lower, upper


def clip_to_torque_speed_curve(
    torque: torch.Tensor, qd: torch.Tensor, stall_torque, no_load_speed, out=None, limits=None
) -> torch.Tensor:
    """Saturate ``torque`` [N·m] by the asymmetric torque-speed curve at velocity ``qd`` [rad/s].

    ``limits``: ``(lower, upper)`` buffers for :func:`torque_speed_limits` (they hold the curve at ``qd``
    afterwards); ``out`` may be ``torque``.
    """
    lower, upper = torque_speed_limits(qd, stall_torque, no_load_speed, out=limits)
    return torch.clamp(torque, min=lower, max=upper, out=out)


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
    *,
    out=None,
    scratch=None,
    limits=None,
    qd_target=None,
    tau_ff=None,
    friction_load=0.0,
) -> torch.Tensor:
    """Return ``tau_phys`` [N·m].

    That is the PD torque of the whole command (:func:`pd_torque`: ``qd_target`` and ``tau_ff`` zero when None),
    saturated by the torque-speed curve when both its parameters are set, plus the
    spring torque, plus the Coulomb friction torque (when ``friction`` or ``friction_load`` is not zero) whose bound
    is ``friction + friction_load * |saturated PD torque|`` (a non-zero ``friction_load`` costs one temporary).

    In place: ``out`` receives the result, ``scratch`` (same shape) an intermediate, and ``limits`` (a pair
    of buffers) the torque-speed limits at ``qd`` when the curve is on (see :func:`torque_speed_limits`).
    """
    tau = pd_torque(q, qd, q_target, kp, kd, out=out, qd_target=qd_target, tau_ff=tau_ff, scratch=scratch)
    if stall_torque is not None and no_load_speed is not None:
        tau = clip_to_torque_speed_curve(tau, qd, stall_torque, no_load_speed, out=out, limits=limits)
    if isinstance(friction_load, torch.Tensor) or friction_load != 0.0:
        friction = friction + friction_load * tau.abs()
    tau = spring_torque(q, k_spring, theta0, add_to=tau, out=out, scratch=scratch)
    if isinstance(friction, torch.Tensor) or friction != 0.0:
        tau = friction_torque(qd, friction, friction_velocity, add_to=tau, out=out, scratch=scratch)
    return tau


def dc_motor_corner_velocity(saturation_effort, velocity_limit, effort_limit) -> torch.Tensor:
    """Velocity [rad/s] past which Isaac Lab's ``DCMotor`` curve no longer changes: ``v0 (1 + limit / sat)``.

    ``velocity_limit`` where that is undefined (``saturation_effort <= 0`` or ``limit / sat`` NaN, e.g. inf / inf).
    Allocates (it is not on the default path).
    """
    ratio = torch.as_tensor(effort_limit) / saturation_effort
    defined = (torch.as_tensor(saturation_effort) > 0.0) & (ratio == ratio)
    return torch.where(defined, velocity_limit * (1.0 + ratio), torch.as_tensor(velocity_limit, dtype=ratio.dtype))


def motor_limits(
    qd: torch.Tensor,
    curve: str,
    saturation_effort,
    velocity_limit,
    effort_limit,
    *,
    corner_velocity=None,
    torque_speed=None,
    out=None,
    scratch=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Lower and upper effort limits [N·m] of the final clip at the motor limits at velocity ``qd``.

    ``curve`` (one of :data:`MOTOR_CURVES`):

    * ``"asymmetric"``: :func:`torque_speed_limits` (stall torque ``saturation_effort``, no-load speed
      ``velocity_limit``) bounded by ``±effort_limit``; ``torque_speed`` passes those curve limits when they are
      already computed at this ``qd`` (read, not written).
    * ``"dc_motor"``: Isaac Lab's ``DCMotor``: ``v = clamp(qd, -corner, corner) / velocity_limit``,
      ``upper = min(sat (1 - v), effort_limit)``, ``lower = -min(sat (1 + v), effort_limit)``, with
      ``corner_velocity`` the pair ``(-corner, corner)`` (default: :func:`dc_motor_corner_velocity`).

    ``out``: ``(lower, upper)`` buffers; ``scratch``: one more buffer of that shape.
    """
    lower, upper = (None, None) if out is None else out
    if curve == "asymmetric":
        if torque_speed is None:
            torque_speed = torque_speed_limits(qd, saturation_effort, velocity_limit, out=out)
        upper = torch.minimum(torque_speed[1], effort_limit, out=upper)
        lower = torch.maximum(torque_speed[0], torch.neg(effort_limit, out=scratch), out=lower)
        return lower, upper
    if corner_velocity is None:
        corner = dc_motor_corner_velocity(saturation_effort, velocity_limit, effort_limit)
        corner_velocity = (-corner, corner)
    ratio = torch.clamp(qd, min=corner_velocity[0], max=corner_velocity[1], out=scratch)
    ratio = torch.div(ratio, velocity_limit, out=scratch)
    upper = torch.minimum(
        torch.addcmul(saturation_effort, saturation_effort, ratio, value=-1.0, out=upper), effort_limit, out=upper
    )
    lower = torch.minimum(
        torch.addcmul(saturation_effort, saturation_effort, ratio, out=lower), effort_limit, out=lower
    ).neg_()
    return lower, upper
