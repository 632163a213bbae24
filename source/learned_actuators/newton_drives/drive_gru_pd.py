r"""GRU-PD actuator model as a Newton drive (Warp kernels, CUDA-graph safe).

The same model as :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator`, per actuator slot:

.. math::

    \tau_{phys} &= \mathrm{sat}_{tsc}\big(k_p (q^* - q) - k_d \dot q,\ \dot q\big) + k_{spring} (q - \theta_0)
        - \tau_c \tanh(\dot q / v_c) \\
    \tau &= \mathrm{clip}_{\dot q}(\tau_{phys} + r) \ \text{(residual)} \quad\text{or}\quad
        \mathrm{clip}_{\dot q}(r) \ \text{(direct)}

with :math:`r` the denormalised GRU output, computed on net steps only (every ``k = network_dt / dt`` calls,
counted from the state's creation) and held in between; :math:`\tau_{phys}` and the final clip are evaluated on
every call. Parameters come from the network file's metadata and weights (:mod:`learned_actuators.network_file`);
per-slot arrays passed to the constructor (from USD attributes through Newton's parser, or by hand) override them.

Guards: a non-finite joint position, velocity or position target gives zero effort for that slot and leaves its
state untouched (counted in :attr:`DriveGRUPD.nonfinite_input_count`); a non-finite net output falls back to
:math:`\tau_{phys}` and zeroes that slot's hidden state, as the torch actuator does (counted in
:attr:`DriveGRUPD.nonfinite_output_count`). Both counters are device arrays, one entry per slot.

State and CUDA graphs
---------------------
:class:`DriveGRUPD.State` holds ``hidden`` ``[layers, N, H]``, the held output, the fallback flag, a per-slot rate
phase and a per-slot "hidden changed" flag. :meth:`DriveGRUPD.compute` updates the state it is given **in place**
(one thread per slot, no host-side values that change between calls), and :meth:`DriveGRUPD.update_state` then
mirrors that state into ``next_state`` (the hidden rows only where they changed: on net steps and after resets).
After every step both buffers of Newton's double buffer therefore hold the same, advanced state, so the host-side
swap is harmless: a CUDA graph of any number of steps, odd or even, replays correctly with or without
``State.assign()`` at its end (the double-buffer trap of newton issue #4098 cannot occur).
:meth:`DriveGRUPD.State.reset` zeroes the hidden state and held output of the masked slots; the rate phase is a
physics clock and is never reset (as in the torch actuator, resets between env steps keep the net on the first
physics step of each env step when ``k`` divides the decimation).

Backends
--------
On CUDA devices :meth:`DriveGRUPD.compute` launches the Warp kernels of :mod:`.kernels` (graphable). On CPU
devices it runs the same math with torch kernels on zero-copy views of the same Warp arrays
(:mod:`.torch_backend`): Warp's CPU backend runs a kernel's threads serially on one core, which makes the GRU about
seven times slower there than the fused torch GEMMs of the Python-path actuator. ``compute_backend`` (or the
environment variable ``LEARNED_ACTUATORS_DRIVE_BACKEND``) forces ``"warp"`` or ``"torch"`` (CPU only); the torch
backend lays the hidden state out feature-major (see :mod:`.torch_backend` for the mapping; ``state.hidden`` keeps
its ``[layers, N, H]`` indexing on both).

The drive ignores the velocity target and the feed-forward effort (the model's PD has a zero velocity target) and
includes the final clip at the motor limits: no Newton clamping is needed after it. Explicit effort mode only
(no ``evaluate_force``: Newton's implicit mode is not supported).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import warp as wp
from newton.actuators import DriveBase

from ..network_file import NetworkFileError
from ..physics import PhysicsParams
from . import kernels
from .network import ACTIVATIONS, FEATURE_CODES, GRUPDParams, load_gru_pd_params, read_metadata

__all__ = ["BACKEND_ENV", "COMPUTE_BACKENDS", "PER_SLOT_PARAMS", "DriveGRUPD"]

COMPUTE_BACKENDS = ("auto", "warp", "torch")
"""Values of ``compute_backend``: ``"auto"`` (torch on CPU devices, Warp on CUDA), ``"warp"``, ``"torch"`` (CPU)."""

BACKEND_ENV = "LEARNED_ACTUATORS_DRIVE_BACKEND"
"""Environment variable read when ``compute_backend`` is None (e.g. ``warp`` to time the Warp kernels on CPU)."""

logger = logging.getLogger(__name__)

PER_SLOT_PARAMS = kernels.PARAM_COLUMNS
"""Per-slot parameters (float arrays of shape (N,)); each defaults to the network file's value."""

_DT_TOLERANCE = 1e-6
_TORQUE_SPEED_CURVES = {"asymmetric": kernels.CLIP_ASYMMETRIC, "dc_motor": kernels.CLIP_DC_MOTOR}


def _file_defaults(network_file: str) -> dict[str, float]:
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
        "pd_stall_torque": saturation,
        "pd_no_load_speed": velocity,
        "saturation_effort": saturation,
        "velocity_limit": velocity,
        "max_motor_effort": math.inf,
    }


class DriveGRUPD(DriveBase):
    """GRU-PD actuator drive: PD + spring + torque-speed curve + Coulomb friction + a GRU residual (or direct).

    Args:
        network_file: ``gru_pd`` TorchScript network file with metadata (:mod:`learned_actuators.network_file`).
        kp: PD stiffness [N·m/rad], shape (N,). None: the file's ``physics.kp``.
        kd: PD damping [N·m·s/rad]. None: the file's ``physics.kd``.
        spring_stiffness: ``k_spring`` [N·m/rad] of ``k_spring * (q - theta0)``. None: the file's.
        spring_rest_angle: ``theta0`` [rad]. None: the file's.
        friction: Coulomb friction ``tau_c`` [N·m] of ``-tau_c * tanh(qd / v_c)``. None: the file's (0 if absent).
        pd_stall_torque: Stall torque [N·m] of the curve saturating the PD torque. None: the file's
            ``physics.stall_torque``, else :paramref:`saturation_effort`.
        pd_no_load_speed: No-load speed [rad/s] of that curve. None: the file's, else :paramref:`velocity_limit`.
        saturation_effort: Motor stall torque [N·m] of the final clip. None: the file's stall torque, else inf.
        velocity_limit: Motor no-load speed [rad/s] of the final clip. None: the file's no-load speed, else inf.
        max_motor_effort: Continuous torque limit [N·m] of the final clip. None: inf.
        pd_torque_speed_curve: Saturate the PD torque with the curve. None: as in training (the file's
            ``physics`` has both curve values).
        torque_speed_curve: Final clip: ``"asymmetric"`` (default, as ``CombinedGRUAndPDActuatorCfg``) or
            ``"dc_motor"`` (Isaac Lab's DCMotor curve).
        network_dt: Net time step [s]; must agree with the file's ``dt`` when given. None: the file's.
        physics_dt: Physics time step [s] to check the rate at construction. None: checked on the first
            :meth:`compute` (its ``dt``).
        compute_backend: ``"auto"`` (torch kernels on CPU devices, Warp kernels on CUDA), ``"warp"`` or ``"torch"``
            (CPU devices only). None: the environment variable :data:`BACKEND_ENV`, else ``"auto"``.
    """

    SHARED_PARAMS: ClassVar[set[str]] = {
        "network_file",
        "pd_torque_speed_curve",
        "torque_speed_curve",
        "network_dt",
        "physics_dt",
        "compute_backend",
    }

    randomization = None
    """Per-env randomisation and input delay (:mod:`learned_actuators.actuators.randomization`), attached by its
    event (CPU devices); None: off. Delays the targets before the kernels and scales the clipped effort after."""

    @dataclass
    class State(DriveBase.State):
        """Per-slot GRU-PD state. All arrays live on the drive's device; every kernel updates them in place."""

        hidden: wp.array3d[float] | None = None
        """GRU hidden state, shape ``[num_layers, N, hidden_size]``."""
        held: wp.array[float] | None = None
        """Net output [N·m] held between net steps (residual or torque), shape ``(N,)``."""
        fallback: wp.array[wp.int32] | None = None
        """1 where the last net output was non-finite (the effort falls back to the physics torque)."""
        phase: wp.array[wp.int32] | None = None
        """Calls since the last net step, modulo ``k``; the net runs where it is 0. Never reset."""
        dirty: wp.array[wp.int32] | None = None
        """1 where ``hidden`` changed since it was last mirrored (net step or reset)."""
        storage: wp.array2d[float] | None = None
        """Torch backend only (else None): the feature-major block ``hidden`` is a strided view of (see
        :mod:`.torch_backend`)."""

        def reset(self, mask: wp.array[wp.bool] | None = None) -> None:
            """Zero the hidden state and held output of the slots where ``mask`` is True (all when None)."""
            if self.storage is not None:
                views = self.torch_views()
                layers, _, size = self.hidden.shape
                rows = self.storage.shape[0] - layers * (size + 1)
                hidden = views["storage"][rows:].view(layers, size + 1, -1)[:, :size]
                if mask is None:
                    hidden.zero_()
                    views["held"].zero_()
                    views["fallback"].zero_()
                    views["dirty"].fill_(1)
                    return
                selected = wp.to_torch(mask)
                hidden.masked_fill_(selected.view(1, 1, -1), 0.0)
                views["held"].masked_fill_(selected, 0.0)
                views["fallback"].masked_fill_(selected, 0)
                views["dirty"].masked_fill_(selected, 1)
                return
            wp.launch(
                kernels.reset_state,
                dim=self.held.shape[0],
                inputs=[mask, int(mask is not None), self.hidden, self.held, self.fallback, self.dirty],
                device=self.held.device,
            )

        def assign(self, other: DriveGRUPD.State) -> None:
            """Copy ``other`` into this state in place (Newton's ``Actuator.State.assign``; no new storage)."""
            names = ("storage" if self.storage is not None else "hidden", "held", "fallback", "phase", "dirty")
            for name in names:
                wp.copy(getattr(self, name), getattr(other, name))

        def torch_views(self) -> dict:
            """Zero-copy torch views of the arrays (torch backend), cached on the state."""
            views = self.__dict__.get("_torch_views")
            if views is None:
                names = ("storage", "held", "fallback", "phase", "dirty")
                views = self.__dict__["_torch_views"] = {name: wp.to_torch(getattr(self, name)) for name in names}
            return views

        def hidden_per_env(self, num_envs: int) -> np.ndarray:
            """Host copy of :attr:`hidden` as ``(num_layers, num_envs, joints_per_env, hidden_size)``."""
            layers, slots, size = self.hidden.shape
            return self.hidden.numpy().reshape(layers, num_envs, slots // num_envs, size)

    @classmethod
    def resolve_arguments(cls, args: dict[str, Any]) -> dict[str, Any]:
        """Fill every parameter: authored values, else the network file's metadata (read once per file)."""
        network_file = args.get("network_file")
        if not network_file:
            raise ValueError("DriveGRUPD requires a non-empty 'network_file' (USD: newton:networkFile)")
        network_file = str(network_file)
        resolved: dict[str, Any] = {"network_file": network_file}
        try:
            defaults = _file_defaults(network_file)
        except NetworkFileError as err:
            raise ValueError(str(err)) from None
        for name in PER_SLOT_PARAMS:
            value = args.get(name)
            resolved[name] = defaults[name] if value is None else float(value)
        for name in ("pd_stall_torque", "pd_no_load_speed"):  # as the torch actuator: the file's, else the motor's
            if args.get(name) is None and defaults[name] == math.inf:
                resolved[name] = resolved["saturation_effort" if name == "pd_stall_torque" else "velocity_limit"]
        curve = args.get("torque_speed_curve") or "asymmetric"
        if str(curve) not in _TORQUE_SPEED_CURVES:
            raise ValueError(
                f"DriveGRUPD: torque_speed_curve must be one of {sorted(_TORQUE_SPEED_CURVES)}, got {curve!r}"
            )
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
        return resolved

    def __init__(
        self,
        network_file: str,
        kp: wp.array[float] | None = None,
        kd: wp.array[float] | None = None,
        spring_stiffness: wp.array[float] | None = None,
        spring_rest_angle: wp.array[float] | None = None,
        friction: wp.array[float] | None = None,
        pd_stall_torque: wp.array[float] | None = None,
        pd_no_load_speed: wp.array[float] | None = None,
        saturation_effort: wp.array[float] | None = None,
        velocity_limit: wp.array[float] | None = None,
        max_motor_effort: wp.array[float] | None = None,
        pd_torque_speed_curve: bool | None = None,
        torque_speed_curve: str = "asymmetric",
        network_dt: float | None = None,
        physics_dt: float | None = None,
        compute_backend: str | None = None,
    ):
        if compute_backend is None:
            compute_backend = os.environ.get(BACKEND_ENV) or "auto"
        if compute_backend not in COMPUTE_BACKENDS:
            raise ValueError(f"compute_backend must be one of {COMPUTE_BACKENDS}, got {compute_backend!r}")
        self.compute_backend = compute_backend
        self.network_file = str(network_file)
        self.params: GRUPDParams = load_gru_pd_params(self.network_file)
        meta = self.params.metadata
        if torque_speed_curve not in _TORQUE_SPEED_CURVES:
            raise ValueError(
                f"torque_speed_curve must be one of {sorted(_TORQUE_SPEED_CURVES)}, got {torque_speed_curve!r}"
            )
        self.torque_speed_curve = torque_speed_curve
        physics = PhysicsParams.from_dict(meta.physics) if meta.physics else PhysicsParams()
        self.pd_torque_speed_curve = (
            physics.uses_torque_speed_curve if pd_torque_speed_curve is None else bool(pd_torque_speed_curve)
        )
        self.friction_velocity = float(physics.friction_velocity)
        if network_dt is not None and not math.isclose(float(network_dt), meta.dt, rel_tol=1e-6):
            raise NetworkFileError(
                f"{self.network_file}: network metadata does not match the drive: 'dt': file has {meta.dt!r}, "
                f"the drive expects {network_dt!r}."
            )
        self.network_dt = float(meta.dt)
        self.mode = self.params.mode
        self.num_layers = self.params.num_layers
        self.hidden_size = self.params.hidden_size
        self.features = list(self.params.features)
        self._given = {
            "kp": kp,
            "kd": kd,
            "spring_stiffness": spring_stiffness,
            "spring_rest_angle": spring_rest_angle,
            "friction": friction,
            "pd_stall_torque": pd_stall_torque,
            "pd_no_load_speed": pd_no_load_speed,
            "saturation_effort": saturation_effort,
            "velocity_limit": velocity_limit,
            "max_motor_effort": max_motor_effort,
        }
        shapes = {a.shape for a in self._given.values() if a is not None}
        if len(shapes) > 1:
            raise ValueError(f"DriveGRUPD: per-slot parameter arrays have different shapes {sorted(shapes)}")
        self.steps_per_network_step: int | None = None
        self._rate_dt: float | None = None
        if physics_dt is not None:
            self._resolve_rate(float(physics_dt))
        self._device: wp.Device | None = None
        self._num_actuators = 0
        self._torch = None

    """
    Newton drive interface.
    """

    def finalize(self, device: wp.Device, num_actuators: int) -> None:
        """Place the weights and per-slot parameters on ``device`` and allocate the scratch buffers."""
        self._device = wp.get_device(device)
        self._num_actuators = n = int(num_actuators)
        defaults = _file_defaults(self.network_file)
        columns = {}
        for name in PER_SLOT_PARAMS:
            given = self._given[name]
            if given is not None:
                if given.shape != (n,):
                    raise ValueError(f"DriveGRUPD: '{name}' has shape {given.shape}; the actuator has {n} slots")
                columns[name] = given.numpy().astype(np.float32)
        for name in PER_SLOT_PARAMS:
            if name in columns:
                continue
            value = defaults[name]
            motor = {"pd_stall_torque": "saturation_effort", "pd_no_load_speed": "velocity_limit"}.get(name)
            if motor is not None and value == math.inf:  # no curve in the file: the motor's, as the torch actuator
                columns[name] = columns[motor] if motor in columns else np.full(n, defaults[motor], np.float32)
            else:
                columns[name] = np.full(n, value, np.float32)
        use_torch = self.compute_backend == "torch" or (self.compute_backend == "auto" and self._device.is_cpu)
        if use_torch and not self._device.is_cpu:
            raise ValueError(f"DriveGRUPD: compute_backend='torch' runs on CPU devices only, not {self._device}")
        stacked = np.stack([columns[name] for name in kernels.PARAM_COLUMNS], axis=0)  # (10, N)
        if use_torch:  # column-major: every parameter column is contiguous for the torch ops
            rows = wp.array(stacked, dtype=wp.float32, device=self._device)
            self.params_pack = wp.from_torch(wp.to_torch(rows).t())
            self.params_pack._rows_owner = rows
        else:
            self.params_pack = wp.array(np.ascontiguousarray(stacked.T), dtype=wp.float32, device=self._device)
        """Per-slot parameters ``(N, 10)`` in :data:`~.kernels.PARAM_COLUMNS` order (column-major on the torch
        backend); ``kp``, ``kd``, ... are views of its columns (writes to them reach the kernels)."""
        for column, name in enumerate(kernels.PARAM_COLUMNS):
            setattr(self, name, self.params_pack[:, column])
        self._upload_network()
        self._net_kernel = kernels.gru_pd_net(len(self.features), self.hidden_size, self.num_layers)
        f, hs = len(self.features), self.hidden_size
        width = max([hs] + [w.shape[0] for w, _, _ in self.params.head])
        self._x_buf = wp.zeros((f, n), dtype=wp.float32, device=self._device)
        self._h_buf = wp.zeros((hs, n), dtype=wp.float32, device=self._device)
        self._head_buf = wp.zeros((2, width, n), dtype=wp.float32, device=self._device)
        self.tau_phys = wp.zeros(n, dtype=wp.float32, device=self._device)
        """Physics torque ``tau_phys`` [N·m] of the last call, shape (N,) (0 where the inputs were non-finite)."""
        self.nonfinite_input_count = wp.zeros(n, dtype=wp.int32, device=self._device)
        """Calls with a non-finite position, velocity or target (zero effort, state untouched), per slot."""
        self.nonfinite_output_count = wp.zeros(n, dtype=wp.int32, device=self._device)
        """Non-finite net outputs (physics-torque fallback, hidden state zeroed), per slot."""
        self._torch = None
        if use_torch:
            from .torch_backend import TorchGRUPD

            self._torch = TorchGRUPD(self, n)

    @property
    def backend(self) -> str:
        """Kernels :meth:`compute` runs: ``"torch"`` (CPU devices) or ``"warp"``; known after :meth:`finalize`."""
        return "torch" if self._torch is not None else "warp"

    def is_stateful(self) -> bool:
        """The drive keeps a GRU state, a held output and a rate phase per slot."""
        return True

    def is_graphable(self) -> bool:
        """True: on CUDA devices the calls are fixed-shape Warp launches without host syncs.

        ``compute``, ``update_state`` and ``State.reset`` launch Warp kernels only. The torch backend runs on CPU
        devices only, where no CUDA graph is captured (the flag then only lets Isaac Lab fold the decimation loop
        into one physics call, as for its own drives).
        """
        return True

    def state(self, num_actuators: int, device: wp.Device) -> DriveGRUPD.State:
        """A zero state (hidden, held output, flags, rate phase) for ``num_actuators`` slots."""
        n = int(num_actuators)
        if self._torch is not None:  # feature-major storage, hidden a strided [layers, N, H] view of it
            from .torch_backend import hidden_view, storage_rows

            f = len(self.features)
            storage = wp.zeros((storage_rows(f, self.num_layers, self.hidden_size), n), dtype=wp.float32, device=device)
            return DriveGRUPD.State(
                hidden=hidden_view(storage, f, self.num_layers, self.hidden_size),
                held=wp.zeros(n, dtype=wp.float32, device=device),
                fallback=wp.zeros(n, dtype=wp.int32, device=device),
                phase=wp.zeros(n, dtype=wp.int32, device=device),
                dirty=wp.zeros(n, dtype=wp.int32, device=device),
                storage=storage,
            )
        return DriveGRUPD.State(
            hidden=wp.zeros((self.num_layers, n, self.hidden_size), dtype=wp.float32, device=device),
            held=wp.zeros(n, dtype=wp.float32, device=device),
            fallback=wp.zeros(n, dtype=wp.int32, device=device),
            phase=wp.zeros(n, dtype=wp.int32, device=device),
            dirty=wp.zeros(n, dtype=wp.int32, device=device),
        )

    def compute(
        self,
        positions: wp.array[float],
        velocities: wp.array[float],
        target_pos: wp.array[float],
        target_vel: wp.array[float],
        feedforward: wp.array[float] | None,
        pos_indices: wp.array[wp.uint32],
        vel_indices: wp.array[wp.uint32],
        target_pos_indices: wp.array[wp.uint32],
        target_vel_indices: wp.array[wp.uint32],
        forces: wp.array[float],
        state: DriveGRUPD.State | None,
        dt: float,
        device: wp.Device | None = None,
    ) -> None:
        """Clipped effort [N·m] into ``forces``; advances ``state`` in place (see the module docstring)."""
        if state is None:
            raise ValueError("DriveGRUPD is stateful: pass the state created by state() (Actuator.state()).")
        if dt is not None and dt != self._rate_dt:
            self._resolve_rate(float(dt))
        if self.steps_per_network_step is None:
            raise ValueError("DriveGRUPD: the physics dt is unknown; pass dt to compute() or physics_dt to the drive.")
        randomization = self.randomization
        if randomization is not None:
            target_pos, target_pos_indices = randomization.native_targets(target_pos, target_pos_indices)
        joint_indices = (pos_indices, vel_indices, target_pos_indices)
        self._compute(positions, velocities, target_pos, joint_indices, forces, state, device or self._device)
        if randomization is not None:
            joints = (positions, velocities, pos_indices, vel_indices, target_pos, target_pos_indices)
            randomization.native_output(forces, *joints)

    def _compute(self, positions, velocities, target_pos, indices, forces, state, device) -> None:
        """The model's clipped effort into ``forces`` (the Warp kernels, or their torch form on CPU devices)."""
        if self._torch is not None:
            self._torch.compute(self, positions, velocities, target_pos, indices, forces, state)
            return
        pos_indices, vel_indices, target_pos_indices = indices
        p = self.params
        joints = [positions, velocities, target_pos, pos_indices, vel_indices, target_pos_indices, self.params_pack]
        settings = [self.friction_velocity, int(self.pd_torque_speed_curve)]
        wp.launch(
            self._net_kernel,
            dim=self._num_actuators,
            inputs=[
                *joints,
                *settings,
                self._feature_codes,
                self._input_affine,
                self._w_in0,
                self._w_in,
                self._w_rec,
                self._bias,
                self._head_w,
                self._head_b,
                self._head_dims,
                len(p.head),
                p.output_scale,
                p.output_offset,
                state.hidden,
                state.held,
                state.fallback,
                state.phase,
                state.dirty,
                self._x_buf,
                self._h_buf,
                self._head_buf,
            ],
            outputs=[self.nonfinite_output_count],
            device=device,
        )
        wp.launch(
            kernels.gru_pd_output,
            dim=self._num_actuators,
            inputs=[
                *joints,
                *settings,
                _TORQUE_SPEED_CURVES[self.torque_speed_curve],
                int(self.mode == "residual"),
                self.steps_per_network_step,
                state.held,
                state.fallback,
                state.phase,
            ],
            outputs=[forces, self.tau_phys, self.nonfinite_input_count],
            device=device,
        )

    def update_state(self, current_state: DriveGRUPD.State, next_state: DriveGRUPD.State) -> None:
        """Mirror the (already advanced) ``current_state`` into ``next_state``; see the module docstring."""
        if next_state is None or next_state is current_state:
            return
        if self._torch is not None:
            self._torch.mirror(current_state, next_state)
            return
        wp.launch(
            kernels.mirror_state,
            dim=current_state.held.shape[0],
            inputs=[
                current_state.hidden,
                current_state.held,
                current_state.fallback,
                current_state.phase,
                current_state.dirty,
            ],
            outputs=[next_state.hidden, next_state.held, next_state.fallback, next_state.phase, next_state.dirty],
            device=current_state.held.device,
        )

    """
    Diagnostics.
    """

    @property
    def num_nonfinite_inputs(self) -> int:
        """Total calls with non-finite inputs over all slots (host read: synchronises)."""
        return int(self.nonfinite_input_count.numpy().sum())

    @property
    def num_nonfinite_outputs(self) -> int:
        """Total non-finite net outputs over all slots (host read: synchronises)."""
        return int(self.nonfinite_output_count.numpy().sum())

    """
    Internals.
    """

    def _resolve_rate(self, physics_dt: float) -> None:
        ratio = self.network_dt / physics_dt
        steps = round(ratio)
        if steps < 1 or not math.isclose(ratio, steps, rel_tol=_DT_TOLERANCE):
            raise NetworkFileError(
                f"{self.network_file}: the net was trained at dt={self.network_dt} s, which is not a whole multiple of "
                f"the physics dt {physics_dt} s; a recurrent net cannot run at another rate."
            )
        if self.steps_per_network_step is not None and steps != self.steps_per_network_step:
            raise ValueError(
                f"DriveGRUPD: the physics dt changed to {physics_dt} s ({steps} steps per net step, was "
                f"{self.steps_per_network_step}); build a new drive for another dt."
            )
        self.steps_per_network_step = int(steps)
        self._rate_dt = physics_dt

    def _upload_network(self) -> None:
        p, device, hs = self.params, self._device, self.hidden_size

        def arr(values, dtype=wp.float32):
            return wp.array(np.ascontiguousarray(values), dtype=dtype, device=device)

        self._feature_codes = arr(np.array([FEATURE_CODES[f] for f in self.features], np.int32), wp.int32)
        self._input_affine = arr(np.stack([p.input_scale, p.input_offset]).astype(np.float32))
        blocks = (hs + 3) // 4

        def gate_blocks(weight):
            """(3H, in) gate rows [r; z; n] -> (3, blocks, in, 4): unit j of gate g at [g, j // 4, :, j % 4]."""
            rows = np.zeros((3, blocks * 4, weight.shape[1]), np.float32)
            rows[:, :hs] = weight.astype(np.float32).reshape(3, hs, -1)
            return rows.reshape(3, blocks, 4, -1).transpose(0, 1, 3, 2)

        def bias_blocks(b_ih, b_hh):
            """Biases [b_ir + b_hr, b_iz + b_hz, b_in, b_hn] as (4, blocks, 4)."""
            b_ih, b_hh = b_ih.astype(np.float32).reshape(3, hs), b_hh.astype(np.float32).reshape(3, hs)
            out = np.zeros((4, blocks * 4), np.float32)
            out[0, :hs], out[1, :hs] = b_ih[0] + b_hh[0], b_ih[1] + b_hh[1]
            out[2, :hs], out[3, :hs] = b_ih[2], b_hh[2]
            return out.reshape(4, blocks, 4)

        vec4 = wp.vec4
        self._w_in0 = wp.array(np.ascontiguousarray(gate_blocks(p.w_ih[0])), dtype=vec4, device=device)
        upper = [gate_blocks(w) for w in p.w_ih[1:]] or [np.zeros((3, blocks, hs, 4), np.float32)]
        self._w_in = wp.array(np.ascontiguousarray(np.stack(upper)), dtype=vec4, device=device)
        self._w_rec = wp.array(
            np.ascontiguousarray(np.stack([gate_blocks(w) for w in p.w_hh])), dtype=vec4, device=device
        )
        biases4 = np.stack([bias_blocks(bi, bh) for bi, bh in zip(p.b_ih, p.b_hh, strict=True)])
        self._bias = wp.array(np.ascontiguousarray(biases4), dtype=vec4, device=device)
        weights, biases, dims = [], [], []
        w_off = b_off = 0
        for weight, bias, act in p.head:
            n_out, n_in = weight.shape
            dims.append((n_in, n_out, w_off, b_off, ACTIVATIONS[act]))
            weights.append(weight.astype(np.float32).reshape(-1))
            biases.append(bias.astype(np.float32).reshape(-1))
            w_off += weight.size
            b_off += bias.size
        self._head_w = arr(np.concatenate(weights))
        self._head_b = arr(np.concatenate(biases))
        self._head_dims = arr(np.array(dims, np.int32), wp.int32)
