"""The net-step Warp kernel of the GRU-PD drive: features, GRU cell, head and output guard, per actuator slot.

One thread per slot; on net steps (where the slot's rate phase is 0) and finite inputs (joint state and the whole
command: position and velocity targets, feed-forward torque) it evaluates the physics prior
(:func:`.kernels.physical_torque`, for the ``tau_phys`` feature), writes the normalised features, advances the GRU
by one step, runs the head and holds the denormalised output (see :mod:`.kernels` for the call sequence).
The net's sizes are compile-time constants of the kernel (one kernel per net shape, cached): the Warp functions
below are made per shape by small factories, so their loops have fixed trip counts.

An ensemble file's GRU is its members' GRUs side by side (block-diagonal recurrent weights,
:mod:`learned_actuators.learning.ensemble`). With ``member_units`` (each member's hidden units, a multiple of 4 so
that no vec4 block of units straddles two members) the recurrent product of a unit runs over its own member's units
only: ``K`` members cost about ``K`` times one member instead of ``K²`` times.
"""

from __future__ import annotations

import warp as wp

from .kernels import _KD, _KP, _activate, _command, _feature, _sigmoid, _slot_physical_torque

__all__ = ["gru_pd_net"]

_NET_KERNELS: dict = {}


def gru_pd_net(num_features: int, hidden_size: int, num_layers: int, member_units: int | None = None):
    """The net-step kernel for one net shape (sizes are compile-time constants: fixed-trip loops).

    ``member_units``: the units of each block of a block-diagonal recurrent weight (an ensemble's member; a multiple
    of 4 dividing ``hidden_size``); None: ``hidden_size`` (one dense block).
    """
    member = hidden_size if member_units is None else int(member_units)
    if hidden_size % member or (member != hidden_size and member % 4):
        raise ValueError(f"member_units {member} must divide hidden_size {hidden_size} and be a multiple of 4.")
    key = (int(num_features), int(hidden_size), int(num_layers), member)
    kernel = _NET_KERNELS.get(key)
    if kernel is None:
        kernel = _NET_KERNELS[key] = _make_gru_pd_net(*key)
    return kernel


def _input_writer(NUM_FEATURES: int):  # noqa: N803 (compile-time constant)
    @wp.func(module="unique")
    def write_inputs(
        i: int,
        q: float,
        q_target: float,
        qd: float,
        qd_target: float,
        tau_ff: float,
        params: wp.array2d[float],
        tau: float,
        feature_codes: wp.array[wp.int32],
        input_affine: wp.array2d[float],
        x_buf: wp.array2d[float],
    ):
        """Slot ``i``'s normalised features into column ``i`` of ``x_buf``."""
        for f in range(NUM_FEATURES):
            kp = params[i, _KP]
            kd = params[i, _KD]
            raw = _feature(feature_codes[f], q, q_target, qd, kp, kd, tau, qd_target, tau_ff)
            x_buf[f, i] = raw * input_affine[0, f] + input_affine[1, f]

    return write_inputs


def _gru_block(NUM_FEATURES: int, HIDDEN: int, MEMBER: int):  # noqa: N803 (compile-time constants)
    @wp.func(module="unique")
    def gru_block(
        i: int,
        layer: int,
        jb: int,
        x_buf: wp.array2d[float],
        w_in0: wp.array3d[wp.vec4],
        w_in: wp.array4d[wp.vec4],
        w_rec: wp.array4d[wp.vec4],
        bias: wp.array3d[wp.vec4],
        hidden: wp.array3d[float],
        h_buf: wp.array2d[float],
    ):
        """New state of the four hidden units of block ``jb`` of one layer into ``h_buf``.

        vec4 accumulators: independent FMA chains, 16-byte weight loads. The recurrent product runs over the
        ``MEMBER`` units of the block's own member (all ``HIDDEN`` units for one dense block).
        """
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
        first = (4 * jb) // MEMBER * MEMBER
        for k in range(MEMBER):
            m = first + k
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

    return gru_block


def _gru_step(NUM_FEATURES: int, HIDDEN: int, NUM_LAYERS: int, MEMBER: int):  # noqa: N803 (compile-time constants)
    BLOCKS = (HIDDEN + 3) // 4  # noqa: N806
    gru_block = _gru_block(NUM_FEATURES, HIDDEN, MEMBER)

    @wp.func(module="unique")
    def gru_step(
        i: int,
        x_buf: wp.array2d[float],
        w_in0: wp.array3d[wp.vec4],
        w_in: wp.array4d[wp.vec4],
        w_rec: wp.array4d[wp.vec4],
        bias: wp.array3d[wp.vec4],
        hidden: wp.array3d[float],
        h_buf: wp.array2d[float],
    ):
        """One GRU step of slot ``i``, layer by layer, its state updated in place."""
        for layer in range(NUM_LAYERS):
            for jb in range(BLOCKS):
                gru_block(i, layer, jb, x_buf, w_in0, w_in, w_rec, bias, hidden, h_buf)
            for j in range(HIDDEN):
                hidden[layer, i, j] = h_buf[j, i]

    return gru_step


@wp.func
def _head(
    i: int,
    hidden: wp.array3d[float],
    head_w: wp.array[float],
    head_b: wp.array[float],
    head_dims: wp.array2d[wp.int32],
    num_head_layers: int,
    head_buf: wp.array3d[float],
) -> float:
    """The head (a Linear/activation chain) on the last layer's state, ping-ponging between two scratch rows."""
    last = hidden.shape[0] - 1
    for j in range(hidden.shape[2]):
        head_buf[0, j, i] = hidden[last, i, j]
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
    return head_buf[num_head_layers % 2, 0, i]


@wp.func
def _hold_output(
    i: int,
    y: float,
    held: wp.array[float],
    fallback: wp.array[wp.int32],
    hidden: wp.array3d[float],
    nonfinite_outputs: wp.array[wp.int32],
):
    """Hold a finite net output; a non-finite one falls back to the physics torque and clears the slot's state."""
    if wp.isfinite(y):
        held[i] = y
        fallback[i] = 0
    else:
        held[i] = 0.0
        fallback[i] = 1
        for layer in range(hidden.shape[0]):
            for j in range(hidden.shape[2]):
                hidden[layer, i, j] = 0.0
        nonfinite_outputs[i] = nonfinite_outputs[i] + 1


def _make_gru_pd_net(NUM_FEATURES: int, HIDDEN: int, NUM_LAYERS: int, MEMBER: int):  # noqa: N803 (compile-time)
    write_inputs = _input_writer(NUM_FEATURES)
    gru_step = _gru_step(NUM_FEATURES, HIDDEN, NUM_LAYERS, MEMBER)

    @wp.kernel(enable_backward=False, module="unique")
    def gru_pd_net(
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
        """On net steps (rate phase 0) and finite inputs: one GRU step of slot ``i``, its output held.

        ``feedforward`` may be None (zero feed-forward torque).
        """
        i = wp.tid()
        if phase[i] != 0:
            return
        q = positions[pos_indices[i]]
        qd = velocities[vel_indices[i]]
        q_target = target_pos[target_pos_indices[i]]
        qd_target, tau_ff = _command(target_vel, feedforward, target_vel_indices, i)
        finite_command = wp.isfinite(qd_target) and wp.isfinite(tau_ff)
        if not (wp.isfinite(q) and wp.isfinite(qd) and wp.isfinite(q_target) and finite_command):
            return  # state untouched (the output kernel gives zero effort and counts it)
        tau = _slot_physical_torque(q, qd, q_target, params, i, friction_velocity, use_pd_curve, qd_target, tau_ff)
        write_inputs(i, q, q_target, qd, qd_target, tau_ff, params, tau, feature_codes, input_affine, x_buf)
        gru_step(i, x_buf, w_in0, w_in, w_rec, bias, hidden, h_buf)
        y = _head(i, hidden, head_w, head_b, head_dims, num_head_layers, head_buf) * output_scale + output_offset
        _hold_output(i, y, held, fallback, hidden, nonfinite_outputs)
        dirty[i] = 1

    return gru_pd_net
