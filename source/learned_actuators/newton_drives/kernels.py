"""Warp kernels of the GRU-PD drive: physics prior, final clip, features, rate hold, input guard, state copy.

The physics formulas are written once here as ``@wp.func`` (:func:`pd_torque`, :func:`torque_speed_limits`,
:func:`physical_torque`, :func:`motor_limits`): the Warp forms of :mod:`learned_actuators.physics`, which Warp code
cannot call (a unit test checks that they agree). The net-step kernel is in :mod:`.net_kernel`.

One thread per actuator slot (joint of one env). A call launches :func:`.net_kernel.gru_pd_net` (on net steps,
i.e. where the slot's rate phase is 0: features, GRU, head, output guard; other slots return at once) and then
:func:`gru_pd_output` (every call: physics prior, held output, final clip, input guard, phase advance). Every kernel
touches only its own slot's entries of the state, so all state updates are in place and race-free, and nothing
depends on host-side values that change between steps: the launches can be captured in a CUDA graph and replayed
any number of times.

The PD term takes the whole command, as Newton's ``DrivePD``: position target (``target_pos[target_pos_indices]``),
velocity target (``target_vel[target_vel_indices]``) and feed-forward torque (``feedforward[target_vel_indices]``;
the array may be None, a launch argument checked in the kernel: zero feed-forward, no host sync, fixed shapes).
"""

from __future__ import annotations

import warp as wp

from ..network_file import FEATURES

__all__ = [
    "CLIP_ASYMMETRIC",
    "CLIP_DC_MOTOR",
    "PARAM_COLUMNS",
    "gru_pd_output",
    "mirror_state",
    "motor_limits",
    "pd_torque",
    "physical_torque",
    "reset_state",
    "torque_speed_limits",
]

CLIP_ASYMMETRIC = 0
"""Final clip by :func:`learned_actuators.physics.torque_speed_limits` bounded by the max motor effort."""
CLIP_DC_MOTOR = 1
"""Final clip by Isaac Lab's ``DCMotor`` four-quadrant curve."""

PARAM_COLUMNS = (
    "kp",
    "kd",
    "spring_stiffness",
    "spring_rest_angle",
    "friction",
    "friction_load",
    "pd_stall_torque",
    "pd_no_load_speed",
    "saturation_effort",
    "velocity_limit",
    "max_motor_effort",
)
"""Columns of the per-slot parameter pack ``params[i, :]``."""
_KP, _KD, _K_SPRING, _THETA0, _FRICTION, _FRICTION_LOAD, _PD_STALL, _PD_V0, _SAT, _V_LIM, _MAX_EFFORT = range(
    len(PARAM_COLUMNS)
)

# feature codes: index in learned_actuators.network_file.FEATURES (compile-time constants of the kernels)
_F_Q = FEATURES.index("q")
_F_Q_TARGET = FEATURES.index("q_target")
_F_QD = FEATURES.index("qd")
_F_POS_ERROR = FEATURES.index("pos_error")
_F_TAU_PD = FEATURES.index("tau_pd")
_F_TAU_PHYS = FEATURES.index("tau_phys")
_F_KP = FEATURES.index("kp")
_F_KD = FEATURES.index("kd")
_F_QD_TARGET = FEATURES.index("qd_target")
_F_TAU_FF = FEATURES.index("tau_ff")


@wp.func
def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + wp.exp(-x))


@wp.func
def _activate(x: float, act: int) -> float:
    """Head activation by code (see ``network.ACTIVATIONS``)."""
    y = x
    if act == 1:
        y = x / (1.0 + wp.abs(x))
    elif act == 2:
        y = wp.max(x, 0.0)
    elif act == 3:
        y = wp.tanh(x)
    elif act == 4:
        if x <= 0.0:
            y = wp.exp(x) - 1.0
    elif act == 5:
        y = _sigmoid(x)
    return y


@wp.func
def pd_torque(
    q: float, qd: float, q_target: float, kp: float, kd: float, qd_target: float = 0.0, tau_ff: float = 0.0
) -> float:
    """PD torque of the whole command ``kp * (q_target - q) + kd * (qd_target - qd) + tau_ff`` [N·m].

    :func:`learned_actuators.physics.pd_torque`; the target velocity ``qd_target`` [rad/s] and the feed-forward
    torque ``tau_ff`` [N·m] default to zero.
    """
    return kp * (q_target - q) + kd * (qd_target - qd) + tau_ff


@wp.func
def torque_speed_limits(qd: float, stall: float, no_load_speed: float):
    """``(lower, upper)`` [N·m] of the asymmetric torque-speed curve at ``qd``.

    :func:`learned_actuators.physics.torque_speed_limits` in the same branch-free form: the motoring side falls
    linearly to zero at the no-load speed, the braking side is ``stall``.
    """
    upper = stall * wp.max(1.0 - wp.max(qd, 0.0) / no_load_speed, 0.0)
    lower = -(stall * wp.max(1.0 + wp.min(qd, 0.0) / no_load_speed, 0.0))
    return lower, upper


@wp.func
def physical_torque(
    q: float,
    qd: float,
    q_target: float,
    kp: float,
    kd: float,
    k_spring: float,
    theta0: float,
    stall: float,
    no_load_speed: float,
    use_curve: int,
    friction: float,
    friction_velocity: float,
    qd_target: float = 0.0,
    tau_ff: float = 0.0,
    friction_load: float = 0.0,
) -> float:
    """``tau_phys`` [N·m] (:func:`learned_actuators.physics.physical_torque`).

    PD of the whole command (:func:`pd_torque`) saturated by the torque-speed curve (when ``use_curve``) + spring +
    Coulomb friction ``-bound * tanh(qd / friction_velocity)`` (when ``friction`` or ``friction_load`` is not zero)
    with the load-dependent bound ``friction + friction_load * |saturated PD torque|`` (the spring not included).
    """
    tau = pd_torque(q, qd, q_target, kp, kd, qd_target, tau_ff)
    if use_curve != 0:
        lower, upper = torque_speed_limits(qd, stall, no_load_speed)
        tau = wp.min(wp.max(tau, lower), upper)
    bound = float(friction)  # a Warp variable, mutable in the branch
    if friction_load != 0.0:  # as the torch form: no term (not 0 * |tau|) without a load-dependent part
        bound = friction + friction_load * wp.abs(tau)
    tau = tau + k_spring * (q - theta0)
    if friction != 0.0 or friction_load != 0.0:
        tau = tau - bound * wp.tanh(qd / friction_velocity)
    return tau


@wp.func
def motor_limits(qd: float, clip_kind: int, sat: float, v0: float, limit: float):
    """``(lower, upper)`` [N·m] of the final clip at ``qd`` (:func:`learned_actuators.physics.motor_limits`).

    The asymmetric curve bounded by ``limit`` (:data:`CLIP_ASYMMETRIC`) or Isaac Lab's ``DCMotor`` curve
    (:data:`CLIP_DC_MOTOR`, its corner velocity guarded as :func:`learned_actuators.physics.dc_motor_corner_velocity`).
    """
    upper = float(0.0)  # noqa: UP018 (a Warp variable, mutable in branches)
    lower = float(0.0)  # noqa: UP018 (a Warp variable, mutable in branches)
    if clip_kind == CLIP_ASYMMETRIC:
        lower, upper = torque_speed_limits(qd, sat, v0)
        upper = wp.min(upper, limit)
        lower = wp.max(lower, -limit)
    else:  # velocity clipped at the corner velocity, linear four-quadrant curve
        corner = v0
        if sat > 0.0:
            ratio = limit / sat
            if ratio == ratio:
                corner = v0 * (1.0 + ratio)
        v = wp.clamp(qd, -corner, corner) / v0
        upper = wp.min(sat - sat * v, limit)
        lower = -wp.min(sat + sat * v, limit)
    return lower, upper


@wp.func
def _feature(
    code: int,
    q: float,
    q_target: float,
    qd: float,
    kp: float,
    kd: float,
    tau_phys: float,
    qd_target: float,
    tau_ff: float,
) -> float:
    """Feature ``code`` (index in :data:`~learned_actuators.network_file.FEATURES`) of one slot's step."""
    value = float(0.0)  # noqa: UP018 (a Warp variable, mutable in branches)
    if code == _F_Q:
        value = q
    elif code == _F_Q_TARGET:
        value = q_target
    elif code == _F_QD:
        value = qd
    elif code == _F_POS_ERROR:
        value = q_target - q
    elif code == _F_TAU_PD:
        value = pd_torque(q, qd, q_target, kp, kd, qd_target, tau_ff)
    elif code == _F_TAU_PHYS:
        value = tau_phys
    elif code == _F_KP:
        value = kp
    elif code == _F_KD:
        value = kd
    elif code == _F_QD_TARGET:
        value = qd_target
    elif code == _F_TAU_FF:
        value = tau_ff
    return value


@wp.func
def _command(
    target_vel: wp.array[float], feedforward: wp.array[float], target_vel_indices: wp.array[wp.uint32], i: int
):
    """Slot ``i``'s target velocity [rad/s] and feed-forward torque [N·m] (zero when ``feedforward`` is None).

    Both are indexed by ``target_vel_indices``, as Newton's own drives (``DrivePD``) index them.
    """
    j = target_vel_indices[i]
    tau_ff = float(0.0)  # noqa: UP018 (a Warp variable, mutable in branches)
    if feedforward:
        tau_ff = feedforward[j]
    return target_vel[j], tau_ff


@wp.func
def _slot_physical_torque(
    q: float,
    qd: float,
    q_target: float,
    params: wp.array2d[float],
    i: int,
    friction_velocity: float,
    use_curve: int,
    qd_target: float,
    tau_ff: float,
) -> float:
    """:func:`physical_torque` with slot ``i``'s parameters from the pack and its command."""
    return physical_torque(
        q,
        qd,
        q_target,
        params[i, _KP],
        params[i, _KD],
        params[i, _K_SPRING],
        params[i, _THETA0],
        params[i, _PD_STALL],
        params[i, _PD_V0],
        use_curve,
        params[i, _FRICTION],
        friction_velocity,
        qd_target,
        tau_ff,
        params[i, _FRICTION_LOAD],
    )


@wp.func
def _clip(effort: float, qd: float, params: wp.array2d[float], i: int, clip_kind: int) -> float:
    """Final clip at slot ``i``'s motor limits at the current velocity."""
    lower, upper = motor_limits(qd, clip_kind, params[i, _SAT], params[i, _V_LIM], params[i, _MAX_EFFORT])
    return wp.min(wp.max(effort, lower), upper)


@wp.kernel(enable_backward=False)
def gru_pd_output(
    positions: wp.array[float],
    velocities: wp.array[float],
    target_pos: wp.array[float],
    target_vel: wp.array[float],
    feedforward: wp.array[float],
    pos_indices: wp.array[wp.uint32],
    vel_indices: wp.array[wp.uint32],
    target_pos_indices: wp.array[wp.uint32],
    target_vel_indices: wp.array[wp.uint32],
    params: wp.array2d[float],
    friction_velocity: float,
    use_pd_curve: int,
    clip_kind: int,
    residual: int,
    steps_per_net_step: int,
    held: wp.array[float],
    fallback: wp.array[wp.int32],
    phase: wp.array[wp.int32],
    forces: wp.array[float],
    tau_phys_out: wp.array[float],
    nonfinite_inputs: wp.array[wp.int32],
):
    """Effort of slot ``i`` from ``tau_phys`` and the held net output; advances the rate phase (every call).

    ``feedforward`` may be None (zero feed-forward torque).
    """
    i = wp.tid()
    q = positions[pos_indices[i]]
    qd = velocities[vel_indices[i]]
    q_target = target_pos[target_pos_indices[i]]
    qd_target, tau_ff = _command(target_vel, feedforward, target_vel_indices, i)
    phase[i] = (phase[i] + 1) % steps_per_net_step
    if not (
        wp.isfinite(q) and wp.isfinite(qd) and wp.isfinite(q_target) and wp.isfinite(qd_target) and wp.isfinite(tau_ff)
    ):
        forces[i] = 0.0  # the net kernel left the state untouched
        tau_phys_out[i] = 0.0
        nonfinite_inputs[i] = nonfinite_inputs[i] + 1
        return
    tau = _slot_physical_torque(q, qd, q_target, params, i, friction_velocity, use_pd_curve, qd_target, tau_ff)
    tau_phys_out[i] = tau
    effort = held[i]
    if residual != 0:
        effort = tau + effort  # held is 0 where the output was non-finite
    elif fallback[i] != 0:
        effort = tau
    forces[i] = _clip(effort, qd, params, i, clip_kind)


@wp.kernel(enable_backward=False)
def mirror_state(
    src_hidden: wp.array3d[float],
    src_held: wp.array[float],
    src_fallback: wp.array[wp.int32],
    src_phase: wp.array[wp.int32],
    src_dirty: wp.array[wp.int32],
    dst_hidden: wp.array3d[float],
    dst_held: wp.array[float],
    dst_fallback: wp.array[wp.int32],
    dst_phase: wp.array[wp.int32],
    dst_dirty: wp.array[wp.int32],
):
    """Copy slot ``i`` of a state into another; the hidden rows only when they changed since the last copy."""
    i = wp.tid()
    dst_held[i] = src_held[i]
    dst_fallback[i] = src_fallback[i]
    dst_phase[i] = src_phase[i]
    if src_dirty[i] != 0:
        for layer in range(src_hidden.shape[0]):
            for j in range(src_hidden.shape[2]):
                dst_hidden[layer, i, j] = src_hidden[layer, i, j]
        src_dirty[i] = 0
    dst_dirty[i] = 0


@wp.kernel(enable_backward=False)
def reset_state(
    mask: wp.array[wp.bool],
    use_mask: int,
    hidden: wp.array3d[float],
    held: wp.array[float],
    fallback: wp.array[wp.int32],
    dirty: wp.array[wp.int32],
):
    """Zero the hidden state and held output of slot ``i`` where ``mask`` (all slots unless ``use_mask``)."""
    i = wp.tid()
    if use_mask != 0:  # noqa: SIM102 (Warp's `and` evaluates both sides: mask may be None)
        if not mask[i]:
            return
    for layer in range(hidden.shape[0]):
        for j in range(hidden.shape[2]):
            hidden[layer, i, j] = 0.0
    held[i] = 0.0
    fallback[i] = 0
    dirty[i] = 1
