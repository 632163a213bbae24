"""Parameters and weights of the GRU-PD Newton drive: file defaults, authored arguments, per-slot pack, Warp weights.

Everything :class:`~learned_actuators.newton_drives.DriveGRUPD` resolves from its network file and the authored
(USD or hand-given) values before it computes: the per-slot parameter columns (:data:`.kernels.PARAM_COLUMNS`;
an authored value wins, else the file's ``physics``, else the motor's curve, as the torch actuator does) and the
GRU/head weights laid out for the Warp kernels (vec4 gate blocks).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import warp as wp

from ..network_file import NetworkFileError
from ..physics import MOTOR_CURVES, PhysicsParams
from . import kernels
from .network import ACTIVATIONS, FEATURE_CODES, GRUPDParams, read_metadata

__all__ = [
    "COMPUTE_BACKENDS",
    "check_friction",
    "file_defaults",
    "pack_columns",
    "resolve_gru_pd_arguments",
    "slot_columns",
    "upload_network",
]

COMPUTE_BACKENDS = ("auto", "warp", "torch")
"""Values of ``compute_backend``: ``"auto"`` (torch on CPU devices, Warp on CUDA), ``"warp"``, ``"torch"`` (CPU)."""

_CURVE_OF_MOTOR = {"pd_stall_torque": "saturation_effort", "pd_no_load_speed": "velocity_limit"}
"""The PD saturation curve's parameters and the motor parameter each defaults to when the file has no curve."""


def file_defaults(network_file: str) -> dict[str, float]:
    """Per-slot parameter defaults from the file's ``physics`` metadata (motor limits: the curve, else inf)."""
    meta = read_metadata(network_file)
    physics = PhysicsParams.from_dict(meta.physics) if meta.physics else PhysicsParams()
    saturation = math.inf if physics.stall_torque is None else float(physics.stall_torque)
    velocity = math.inf if physics.no_load_speed is None else float(physics.no_load_speed)
    return {
        "kp": float(physics.kp),
        "kd": float(physics.kd),
        "spring_stiffness": float(physics.k_spring),
        "spring_rest_angle": float(physics.theta0),
        "friction": float(physics.friction),
        "friction_load": float(physics.friction_load),
        "pd_stall_torque": saturation,
        "pd_no_load_speed": velocity,
        "saturation_effort": saturation,
        "velocity_limit": velocity,
        "max_motor_effort": math.inf,
    }


def resolve_gru_pd_arguments(args: dict[str, Any]) -> dict[str, Any]:
    """Every drive argument: authored values, else the network file's metadata (``DriveGRUPD.resolve_arguments``)."""
    network_file = args.get("network_file")
    if not network_file:
        raise ValueError("DriveGRUPD requires a non-empty 'network_file' (USD: newton:networkFile)")
    network_file = str(network_file)
    resolved: dict[str, Any] = {"network_file": network_file}
    try:
        defaults = file_defaults(network_file)
    except NetworkFileError as err:
        raise ValueError(str(err)) from None
    for name in kernels.PARAM_COLUMNS:
        value = args.get(name)
        resolved[name] = defaults[name] if value is None else float(value)
    for name, motor in _CURVE_OF_MOTOR.items():  # as the torch actuator: the file's, else the motor's
        if args.get(name) is None and defaults[name] == math.inf:
            resolved[name] = resolved[motor]
    curve = args.get("torque_speed_curve") or "asymmetric"
    if str(curve) not in MOTOR_CURVES:
        raise ValueError(f"DriveGRUPD: torque_speed_curve must be one of {sorted(MOTOR_CURVES)}, got {curve!r}")
    resolved["torque_speed_curve"] = str(curve)
    use_curve = args.get("pd_torque_speed_curve")
    resolved["pd_torque_speed_curve"] = None if use_curve is None else bool(use_curve)
    for name in ("network_dt", "physics_dt"):
        value = args.get(name)
        resolved[name] = None if value is None else float(value)
    backend = args.get("compute_backend")
    if backend is not None and str(backend) not in COMPUTE_BACKENDS:
        raise ValueError(f"DriveGRUPD: compute_backend must be one of {COMPUTE_BACKENDS}, got {backend!r}")
    resolved["compute_backend"] = None if backend is None else str(backend)
    for name in ("kp", "kd", "friction"):
        if resolved[name] < 0:
            raise ValueError(f"DriveGRUPD: {name} must be non-negative, got {resolved[name]}")
    load = resolved["friction_load"]
    if not (math.isfinite(load) and load >= 0):
        what = "newton:frictionLoad" if args.get("friction_load") is not None else "metadata 'physics.friction_load'"
        raise NetworkFileError(f"{network_file}: {what} must be non-negative and finite; got {load!r}.")
    return resolved


def check_friction(
    columns: dict[str, np.ndarray], given: dict[str, Any], friction_velocity: float, network_file: str
) -> None:
    """Check the resolved friction columns of the drive (at ``finalize``).

    ``friction_load`` must be non-negative and finite in every slot, and where any slot has a Coulomb term
    (``friction`` or ``friction_load`` not zero) the file's ``physics.friction_velocity`` must be positive and finite
    (as the Python-path actuator checks). ``given`` names the per-slot arguments passed to the drive (None: the
    file's value), for the message.

    Raises:
        NetworkFileError: naming the file and the field.
    """
    load = columns["friction_load"]
    bad = ~(np.isfinite(load) & (load >= 0))
    if bad.any():
        given_here = given.get("friction_load") is not None
        what = "argument 'friction_load'" if given_here else "metadata 'physics.friction_load'"
        raise NetworkFileError(
            f"{network_file}: {what} must be non-negative and finite; got {float(load[bad][0])!r} (slot "
            f"{int(np.flatnonzero(bad)[0])})."
        )
    has_friction = bool((columns["friction"] != 0).any() or (load != 0).any())
    if has_friction and not (math.isfinite(friction_velocity) and friction_velocity > 0):
        raise NetworkFileError(
            f"{network_file}: metadata 'physics.friction_velocity' must be positive and finite (a slot has Coulomb "
            f"friction: 'friction' or 'friction_load' not zero); got {friction_velocity!r}."
        )


def slot_columns(given: dict[str, wp.array | None], defaults: dict[str, float], n: int) -> dict[str, np.ndarray]:
    """Per-slot float32 columns ``(n,)``: the given arrays, else the file's value (the curve: else the motor's)."""
    columns = {}
    for name in kernels.PARAM_COLUMNS:
        array = given[name]
        if array is not None:
            if array.shape != (n,):
                raise ValueError(f"DriveGRUPD: '{name}' has shape {array.shape}; the actuator has {n} slots")
            columns[name] = array.numpy().astype(np.float32)
    for name in kernels.PARAM_COLUMNS:
        if name in columns:
            continue
        value, motor = defaults[name], _CURVE_OF_MOTOR.get(name)
        if motor is not None and value == math.inf:  # no curve in the file: the motor's, as the torch actuator
            columns[name] = columns[motor] if motor in columns else np.full(n, defaults[motor], np.float32)
        else:
            columns[name] = np.full(n, value, np.float32)
    return columns


def pack_columns(columns: dict[str, np.ndarray], device, column_major: bool) -> wp.array:
    """The per-slot parameter pack ``(N, 11)`` in :data:`.kernels.PARAM_COLUMNS` order.

    Column-major (``column_major``, the torch backend: every column contiguous for the torch ops) or row-major.
    """
    stacked = np.stack([columns[name] for name in kernels.PARAM_COLUMNS], axis=0)  # (11, N)
    if not column_major:
        return wp.array(np.ascontiguousarray(stacked.T), dtype=wp.float32, device=device)
    rows = wp.array(stacked, dtype=wp.float32, device=device)
    pack = wp.from_torch(wp.to_torch(rows).t())
    pack._rows_owner = rows
    return pack


def _gate_blocks(weight: np.ndarray, hs: int) -> np.ndarray:
    """(3H, in) gate rows [r; z; n] -> (3, blocks, in, 4): unit j of gate g at [g, j // 4, :, j % 4]."""
    blocks = (hs + 3) // 4
    rows = np.zeros((3, blocks * 4, weight.shape[1]), np.float32)
    rows[:, :hs] = weight.astype(np.float32).reshape(3, hs, -1)
    return rows.reshape(3, blocks, 4, -1).transpose(0, 1, 3, 2)


def _bias_blocks(b_ih: np.ndarray, b_hh: np.ndarray, hs: int) -> np.ndarray:
    """Biases [b_ir + b_hr, b_iz + b_hz, b_in, b_hn] as (4, blocks, 4)."""
    b_ih, b_hh = b_ih.astype(np.float32).reshape(3, hs), b_hh.astype(np.float32).reshape(3, hs)
    out = np.zeros((4, ((hs + 3) // 4) * 4), np.float32)
    out[0, :hs], out[1, :hs] = b_ih[0] + b_hh[0], b_ih[1] + b_hh[1]
    out[2, :hs], out[3, :hs] = b_ih[2], b_hh[2]
    return out.reshape(4, -1, 4)


def _head_arrays(head) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The head's weights and biases flattened, and per layer ``(n_in, n_out, w_off, b_off, activation code)``."""
    weights, biases, dims = [], [], []
    w_off = b_off = 0
    for weight, bias, act in head:
        n_out, n_in = weight.shape
        dims.append((n_in, n_out, w_off, b_off, ACTIVATIONS[act]))
        weights.append(weight.astype(np.float32).reshape(-1))
        biases.append(bias.astype(np.float32).reshape(-1))
        w_off += weight.size
        b_off += bias.size
    return np.concatenate(weights), np.concatenate(biases), np.array(dims, np.int32)


def upload_network(p: GRUPDParams, features: list[str], device) -> list[wp.array]:
    """The net's Warp arrays in the net kernel's argument order (``feature_codes`` to ``head_dims``)."""

    def arr(values, dtype=wp.float32):
        return wp.array(np.ascontiguousarray(values), dtype=dtype, device=device)

    hs = p.hidden_size
    upper = [_gate_blocks(w, hs) for w in p.w_ih[1:]] or [np.zeros((3, (hs + 3) // 4, hs, 4), np.float32)]
    biases = np.stack([_bias_blocks(bi, bh, hs) for bi, bh in zip(p.b_ih, p.b_hh, strict=True)])
    head_w, head_b, head_dims = _head_arrays(p.head)
    return [
        arr(np.array([FEATURE_CODES[f] for f in features], np.int32), wp.int32),
        arr(np.stack([p.input_scale, p.input_offset]).astype(np.float32)),
        arr(_gate_blocks(p.w_ih[0], hs), wp.vec4),
        arr(np.stack(upper), wp.vec4),
        arr(np.stack([_gate_blocks(w, hs) for w in p.w_hh]), wp.vec4),
        arr(biases, wp.vec4),
        arr(head_w),
        arr(head_b),
        arr(head_dims, wp.int32),
    ]
