"""Warp kernels of the GRU-PD drive: physics prior, features, GRU cell, head, rate hold, guard, clip, state copy.

One thread per actuator slot (joint of one env). A call launches :func:`gru_pd_net` (on net steps, i.e. where the
slot's rate phase is 0: features, GRU, head, output guard; other slots return at once) and then
:func:`gru_pd_output` (every call: physics prior, held output, final clip, input guard, phase advance). Every kernel
touches only its own slot's entries of the state, so all state updates are in place and race-free, and nothing
depends on host-side values that change between steps: the launches can be captured in a CUDA graph and replayed
any number of times.
"""

from __future__ import annotations

import warp as wp

__all__ = [
    "CLIP_ASYMMETRIC",
    "CLIP_DC_MOTOR",
    "PARAM_COLUMNS",
    "gru_pd_net",
    "gru_pd_output",
    "mirror_state",
    "reset_state",
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
    "pd_stall_torque",
    "pd_no_load_speed",
    "saturation_effort",
    "velocity_limit",
    "max_motor_effort",
)
"""Columns of the per-slot parameter pack ``params[i, :]``."""
_KP, _KD, _K_SPRING, _THETA0, _FRICTION, _PD_STALL, _PD_V0, _SAT, _V_LIM, _MAX_EFFORT = range(10)

# feature codes: index in learned_actuators.network_file.FEATURES
_F_Q, _F_Q_TARGET, _F_QD, _F_POS_ERROR, _F_TAU_PD, _F_TAU_PHYS, _F_KP, _F_KD = range(8)


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
def _motoring_limit(qd: float, stall: float, no_load_speed: float) -> float:
    """Torque [N·m] available in the direction of motion: ``stall * max(1 - |qd| / v0, 0)``."""
    return stall * wp.max(1.0 - wp.abs(qd) / no_load_speed, 0.0)


@wp.func
def _feature(code: int, q: float, q_target: float, qd: float, kp: float, kd: float, tau_phys: float) -> float:
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
        value = kp * (q_target - q) - kd * qd
    elif code == _F_TAU_PHYS:
        value = tau_phys
    elif code == _F_KP:
        value = kp
    elif code == _F_KD:
        value = kd
    return value


@wp.func
def _physics_torque(
    q: float, qd: float, q_target: float, params: wp.array2d[float], i: int, friction_velocity: float, use_curve: int
) -> float:
    """``tau_phys`` [N·m]: PD (saturated by the asymmetric torque-speed curve) + spring + Coulomb friction."""
    tau = params[i, _KP] * (q_target - q) - params[i, _KD] * qd
    if use_curve != 0:
        stall = params[i, _PD_STALL]
        motoring = _motoring_limit(qd, stall, params[i, _PD_V0])
        upper = stall
        lower = -stall
        if qd > 0.0:
            upper = motoring
        if qd < 0.0:
            lower = -motoring
        tau = wp.min(wp.max(tau, lower), upper)
    tau = tau + params[i, _K_SPRING] * (q - params[i, _THETA0])
    c = params[i, _FRICTION]
    if c != 0.0:
        tau = tau - c * wp.tanh(qd / friction_velocity)
    return tau


@wp.func
def _clip(effort: float, qd: float, params: wp.array2d[float], i: int, clip_kind: int) -> float:
    """Final clip at the motor limits at the current velocity."""
    sat = params[i, _SAT]
    v0 = params[i, _V_LIM]
    limit = params[i, _MAX_EFFORT]
    upper = float(0.0)  # noqa: UP018 (a Warp variable, mutable in branches)
    lower = float(0.0)  # noqa: UP018 (a Warp variable, mutable in branches)
    if clip_kind == CLIP_ASYMMETRIC:
        motoring = _motoring_limit(qd, sat, v0)
        upper = sat
        lower = -sat
        if qd > 0.0:
            upper = motoring
        if qd < 0.0:
            lower = -motoring
        upper = wp.min(upper, limit)
        lower = wp.max(lower, -limit)
    else:  # Isaac Lab DCMotor: velocity clipped at the corner velocity, linear four-quadrant curve
        corner = v0
        if sat > 0.0:
            ratio = limit / sat
            if ratio == ratio:
                corner = v0 * (1.0 + ratio)
        v = wp.clamp(qd, -corner, corner) / v0
        upper = wp.min(sat - sat * v, limit)
        lower = -wp.min(sat + sat * v, limit)
    return wp.min(wp.max(effort, lower), upper)


@wp.kernel(enable_backward=False)
def gru_pd_output(
    positions: wp.array[float],
    velocities: wp.array[float],
    target_pos: wp.array[float],
    pos_indices: wp.array[wp.uint32],
    vel_indices: wp.array[wp.uint32],
    target_pos_indices: wp.array[wp.uint32],
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
    """Effort of slot ``i`` from ``tau_phys`` and the held net output; advances the rate phase (every call)."""
    i = wp.tid()
    q = positions[pos_indices[i]]
    qd = velocities[vel_indices[i]]
    q_target = target_pos[target_pos_indices[i]]
    phase[i] = (phase[i] + 1) % steps_per_net_step
    if not (wp.isfinite(q) and wp.isfinite(qd) and wp.isfinite(q_target)):
        forces[i] = 0.0  # the net kernel left the state untouched
        tau_phys_out[i] = 0.0
        nonfinite_inputs[i] = nonfinite_inputs[i] + 1
        return
    tau = _physics_torque(q, qd, q_target, params, i, friction_velocity, use_pd_curve)
    tau_phys_out[i] = tau
    effort = held[i]
    if residual != 0:
        effort = tau + effort  # held is 0 where the output was non-finite
    elif fallback[i] != 0:
        effort = tau
    forces[i] = _clip(effort, qd, params, i, clip_kind)


_NET_KERNELS: dict = {}


def gru_pd_net(num_features: int, hidden_size: int, num_layers: int):
    """The net-step kernel for one net shape (sizes are compile-time constants: fixed-trip loops)."""
    key = (int(num_features), int(hidden_size), int(num_layers))
    kernel = _NET_KERNELS.get(key)
    if kernel is None:
        kernel = _NET_KERNELS[key] = _make_gru_pd_net(*key)
    return kernel


def _make_gru_pd_net(NUM_FEATURES: int, HIDDEN: int, NUM_LAYERS: int):  # noqa: C901, N803 (compile-time constants)
    BLOCKS = (HIDDEN + 3) // 4  # noqa: N806

    @wp.kernel(enable_backward=False, module="unique")
    def gru_pd_net(  # noqa: C901 (one kernel: features, GRU, head, guard)
        positions: wp.array[float],
        velocities: wp.array[float],
        target_pos: wp.array[float],
        pos_indices: wp.array[wp.uint32],
        vel_indices: wp.array[wp.uint32],
        target_pos_indices: wp.array[wp.uint32],
        params: wp.array2d[float],
        friction_velocity: float,
        use_pd_curve: int,
        feature_codes: wp.array[wp.int32],
        input_affine: wp.array2d[float],
        w_in0: wp.array3d[wp.vec4],
        w_in: wp.array4d[wp.vec4],
        w_rec: wp.array4d[wp.vec4],
        bias: wp.array3d[wp.vec4],
        head_w: wp.array[float],
        head_b: wp.array[float],
        head_dims: wp.array2d[wp.int32],
        num_head_layers: int,
        output_scale: float,
        output_offset: float,
        hidden: wp.array3d[float],
        held: wp.array[float],
        fallback: wp.array[wp.int32],
        phase: wp.array[wp.int32],
        dirty: wp.array[wp.int32],
        x_buf: wp.array2d[float],
        h_buf: wp.array2d[float],
        head_buf: wp.array3d[float],
        nonfinite_outputs: wp.array[wp.int32],
    ):
        """On net steps (rate phase 0) and finite inputs: one GRU step of slot ``i``, its output held."""
        i = wp.tid()
        if phase[i] != 0:
            return
        q = positions[pos_indices[i]]
        qd = velocities[vel_indices[i]]
        q_target = target_pos[target_pos_indices[i]]
        if not (wp.isfinite(q) and wp.isfinite(qd) and wp.isfinite(q_target)):
            return  # state untouched (the output kernel gives zero effort and counts it)
        tau = _physics_torque(q, qd, q_target, params, i, friction_velocity, use_pd_curve)
        for f in range(NUM_FEATURES):
            raw = _feature(feature_codes[f], q, q_target, qd, params[i, _KP], params[i, _KD], tau)
            x_buf[f, i] = raw * input_affine[0, f] + input_affine[1, f]
        # GRU, four hidden units per block (vec4 accumulators: independent FMA chains, 16-byte weight loads)
        for layer in range(NUM_LAYERS):
            for jb in range(BLOCKS):
                a_r = bias[layer, 0, jb]  # b_ir + b_hr
                a_z = bias[layer, 1, jb]  # b_iz + b_hz
                a_nx = bias[layer, 2, jb]  # b_in
                a_nh = bias[layer, 3, jb]  # b_hn
                if layer == 0:
                    for m in range(NUM_FEATURES):
                        xm = x_buf[m, i]
                        a_r += w_in0[0, jb, m] * xm
                        a_z += w_in0[1, jb, m] * xm
                        a_nx += w_in0[2, jb, m] * xm
                else:
                    for m in range(HIDDEN):
                        xm = hidden[layer - 1, i, m]  # already the new state of the layer below
                        a_r += w_in[layer - 1, 0, jb, m] * xm
                        a_z += w_in[layer - 1, 1, jb, m] * xm
                        a_nx += w_in[layer - 1, 2, jb, m] * xm
                for m in range(HIDDEN):
                    hm = hidden[layer, i, m]
                    a_r += w_rec[layer, 0, jb, m] * hm
                    a_z += w_rec[layer, 1, jb, m] * hm
                    a_nh += w_rec[layer, 2, jb, m] * hm
                for lane in range(4):
                    j = 4 * jb + lane
                    if j < HIDDEN:
                        r = _sigmoid(a_r[lane])
                        z = _sigmoid(a_z[lane])
                        n = 2.0 * _sigmoid(2.0 * (a_nx[lane] + r * a_nh[lane])) - 1.0  # tanh, one exp
                        h_buf[j, i] = (1.0 - z) * n + z * hidden[layer, i, j]
            for j in range(HIDDEN):
                hidden[layer, i, j] = h_buf[j, i]
        # head: a Linear/activation chain on the last layer's state, ping-ponging between two scratch rows
        for j in range(HIDDEN):
            head_buf[0, j, i] = hidden[NUM_LAYERS - 1, i, j]
        for t in range(num_head_layers):
            n_in = head_dims[t, 0]
            n_out = head_dims[t, 1]
            w_off = head_dims[t, 2]
            b_off = head_dims[t, 3]
            act = head_dims[t, 4]
            src = t % 2
            for o in range(n_out):
                acc = head_b[b_off + o]
                for m in range(n_in):
                    acc += head_w[w_off + o * n_in + m] * head_buf[src, m, i]
                head_buf[1 - src, o, i] = _activate(acc, act)
        y = head_buf[num_head_layers % 2, 0, i] * output_scale + output_offset
        if wp.isfinite(y):
            held[i] = y
            fallback[i] = 0
        else:  # non-finite net output: fall back to the physics torque, clear this joint's state
            held[i] = 0.0
            fallback[i] = 1
            for layer in range(NUM_LAYERS):
                for j in range(HIDDEN):
                    hidden[layer, i, j] = 0.0
            nonfinite_outputs[i] = nonfinite_outputs[i] + 1
        dirty[i] = 1

    return gru_pd_net


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
