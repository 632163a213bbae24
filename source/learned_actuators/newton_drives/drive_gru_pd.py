r"""GRU-PD actuator model as a Newton drive (Warp kernels, CUDA-graph safe).

The same model as :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator`, per actuator slot:

.. math::

    \tau_{sat} &= \mathrm{sat}_{tsc}\big(k_p (q^* - q) + k_d (\dot q^* - \dot q) + \tau_{ff},\ \dot q\big) \\
    \tau_{phys} &= \tau_{sat} + k_{spring} (q - \theta_0) - (\tau_c + \mu_c |\tau_{sat}|) \tanh(\dot q / v_c) \\
    \tau &= \mathrm{clip}_{\dot q}(\tau_{phys} + r) \ \text{(residual)} \quad\text{or}\quad
        \mathrm{clip}_{\dot q}(r) \ \text{(direct)}

with the whole command Newton passes the drive: position target :math:`q^*`, velocity target :math:`\dot q^*`
(``target_vel``) and feed-forward torque :math:`\tau_{ff}` (``feedforward``: Newton's ``control.joint_act``, which Isaac
Lab fills with the joint effort target; zero when None), both read at ``target_vel_indices`` as Newton's ``DrivePD``
reads them; :math:`\tau_{sat}` the PD torque saturated by the torque-speed curve (when on); the Coulomb friction
bound :math:`\tau_c + \mu_c |\tau_{sat}|` (``friction`` + ``friction_load`` times the saturated PD torque's magnitude:
a geared servo's load-dependent friction; the term is skipped where both are zero); :math:`r` the denormalised GRU
output, computed on net steps only (every ``k = network_dt / dt`` calls, counted from the state's creation) and held
in between; :math:`\tau_{phys}` and the final clip are evaluated on every call. Parameters come from the network
file's metadata and weights (:mod:`learned_actuators.network_file`); per-slot arrays passed to the constructor (from
USD attributes through Newton's parser, or by hand) override them.

Guards: a non-finite joint position, velocity, position or velocity target or feed-forward torque gives zero effort
for that slot and leaves its state untouched (counted in :attr:`DriveGRUPD.nonfinite_input_count`); a non-finite
net output falls back to :math:`\tau_{phys}` and zeroes that slot's hidden state, as the torch actuator does
(counted in :attr:`DriveGRUPD.nonfinite_output_count`). Both counters are device arrays, one entry per slot.

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

Ensemble files
--------------
An ensemble file (:mod:`learned_actuators.learning.ensemble`: the members' block-diagonal GRU with their mean head)
runs as any file, as the members' mean; on the torch backend :attr:`DriveGRUPD.ensemble_std` holds the members' spread
per slot after each net step. Its member heads (:attr:`DriveGRUPD.member_head`,
:attr:`DriveGRUPD.ensemble_members`) let the torch backend apply one drawn member per slot instead, when the attached
randomisation samples members (``ActuatorRandomizationCfg.ensemble_member``): on net steps a slot's net output
:math:`r` is its member's head on the last layer's hidden state, denormalised with the file's output scale and
offset, as on the Python path. The Warp kernels run the mean only (the randomisation refuses member sampling there),
each unit's recurrent product over its own member's units (:attr:`DriveGRUPD.recurrent_blocks`): about ``K`` times one
member's cost, as the torch backend, instead of ``K²``.

The drive includes the final clip at the motor limits: no Newton clamping is needed after it. Explicit effort mode only
(no ``evaluate_force``: Newton's implicit mode is not supported).
"""

from __future__ import annotations

import logging
import math
import os
from typing import Any, ClassVar

import numpy as np
import torch
import warp as wp
from newton.actuators import DriveBase

from ..network_file import NetworkFileError
from ..physics import PhysicsParams
from . import kernels
from .drive_state import GRUPDState, make_state
from .gru_pd_setup import (
    COMPUTE_BACKENDS,
    check_friction,
    file_defaults,
    pack_columns,
    resolve_gru_pd_arguments,
    slot_columns,
    upload_network,
)
from .net_kernel import gru_pd_net
from .network import GRUPDParams, load_gru_pd_params

__all__ = ["BACKEND_ENV", "COMPUTE_BACKENDS", "PER_SLOT_PARAMS", "DriveGRUPD"]

BACKEND_ENV = "LEARNED_ACTUATORS_DRIVE_BACKEND"
"""Environment variable read when ``compute_backend`` is None (e.g. ``warp`` to time the Warp kernels on CPU)."""

logger = logging.getLogger(__name__)

PER_SLOT_PARAMS = kernels.PARAM_COLUMNS
"""Per-slot parameters (float arrays of shape (N,)); each defaults to the network file's value."""

_DT_TOLERANCE = 1e-6
_TORQUE_SPEED_CURVES = {"asymmetric": kernels.CLIP_ASYMMETRIC, "dc_motor": kernels.CLIP_DC_MOTOR}


class DriveGRUPD(DriveBase):
    """GRU-PD actuator drive: PD + spring + torque-speed curve + Coulomb friction + a GRU residual (or direct).

    Args:
        network_file: ``gru_pd`` TorchScript network file with metadata (:mod:`learned_actuators.network_file`).
        kp: PD stiffness [N·m/rad], shape (N,). None: the file's ``physics.kp``.
        kd: PD damping [N·m·s/rad]. None: the file's ``physics.kd``.
        spring_stiffness: ``k_spring`` [N·m/rad] of ``k_spring * (q - theta0)``. None: the file's.
        spring_rest_angle: ``theta0`` [rad]. None: the file's.
        friction: Coulomb friction ``tau_c`` [N·m] of ``-(tau_c + mu_c * |tau_sat|) * tanh(qd / v_c)``. None: the
            file's (0 if absent).
        friction_load: Load-dependent Coulomb friction ``mu_c`` [-] of that term (``tau_sat``: the saturated PD
            torque), non-negative and finite. None: the file's ``physics.friction_load`` (0 if absent).
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
    event (CPU devices); None: off. Delays the targets before the kernels and scales the clipped effort after; with
    ensemble member sampling the torch backend applies each slot's drawn member (see the module docstring)."""
    State = GRUPDState

    @classmethod
    def resolve_arguments(cls, args: dict[str, Any]) -> dict[str, Any]:
        """Fill every parameter: authored values, else the network file's metadata (read once per file)."""
        return resolve_gru_pd_arguments(args)

    def __init__(
        self,
        network_file: str,
        kp: wp.array[float] | None = None,
        kd: wp.array[float] | None = None,
        spring_stiffness: wp.array[float] | None = None,
        spring_rest_angle: wp.array[float] | None = None,
        friction: wp.array[float] | None = None,
        friction_load: wp.array[float] | None = None,
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
        if torque_speed_curve not in _TORQUE_SPEED_CURVES:
            raise ValueError(
                f"torque_speed_curve must be one of {sorted(_TORQUE_SPEED_CURVES)}, got {torque_speed_curve!r}"
            )
        self.torque_speed_curve = torque_speed_curve
        self._read_network(pd_torque_speed_curve, network_dt)
        given = (kp, kd, spring_stiffness, spring_rest_angle, friction, friction_load, pd_stall_torque)
        given += (pd_no_load_speed, saturation_effort, velocity_limit, max_motor_effort)
        self._given = dict(zip(PER_SLOT_PARAMS, given, strict=True))
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
        self._command_io = None

    def _read_network(self, pd_torque_speed_curve: bool | None, network_dt: float | None) -> None:
        """Load the net's parameters; resolve the PD curve switch and the friction velocity; check ``network_dt``."""
        self.params: GRUPDParams = load_gru_pd_params(self.network_file)
        meta = self.params.metadata
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
        self._read_member_heads()
        self.recurrent_blocks = self._warp_recurrent_blocks()
        """Blocks the Warp kernels run the GRU's recurrent product by: an ensemble file's members (their
        block-diagonal recurrent weights, each member's units a multiple of 4), else 1 (one dense product)."""

    def _read_member_heads(self) -> None:
        """The member heads of an ensemble file (buffers ``member_head_weight``/``member_head_bias``), if any.

        As :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator` reads them: ``(K, H)`` and ``(K,)`` on the
        last layer's hidden state, ``K >= 2`` (:mod:`learned_actuators.learning.ensemble`).
        """
        from ..network_file import load_network

        self.ensemble_members = 0
        """Members of an ensemble file (0: a single model); the torch backend applies a slot's drawn member when the
        attached randomisation samples them (``ActuatorRandomizationCfg.ensemble_member``)."""
        self.member_head: tuple[np.ndarray, np.ndarray] | None = None
        """Ensemble files only: the members' heads, weight ``(K, H)`` and bias ``(K,)`` [normalised output units,
        denormalised with the file's output scale and offset as the mean head's output]; None for a single model."""
        net, _ = load_network(self.network_file, device="cpu")
        weight = getattr(net, "member_head_weight", None)
        if weight is None:
            return
        bias = getattr(net, "member_head_bias", None)
        weight = weight.detach().float().cpu().numpy()
        bias = np.zeros(0, np.float32) if bias is None else bias.detach().float().cpu().numpy().reshape(-1)
        if weight.shape != (bias.size, self.hidden_size) or bias.size < 2:
            raise NetworkFileError(
                f"{self.network_file}: buffers 'member_head_weight' {tuple(weight.shape)} / 'member_head_bias' "
                f"({bias.size},) do not fit the GRU's hidden size {self.hidden_size}; expected (K, {self.hidden_size}) "
                "and (K,), K >= 2."
            )
        self.member_head = (weight, bias)
        self.ensemble_members = int(bias.size)
        noise = getattr(net, "member_noise_std", None)
        self.member_noise = 0.0 if noise is None else float(noise.reshape(-1)[0])
        """The file's label-noise term [N·m], added in quadrature to the members' spread in :attr:`ensemble_std`."""

    def _warp_recurrent_blocks(self) -> int:
        """The Warp kernels' recurrent blocks: an ensemble file's members, or 1.

        The members when the recurrent weights are block-diagonal by member with a multiple of 4 units each (the
        kernels' vec4 blocks of units must not straddle members).
        """
        from ..actuators.fused_recurrent import recurrent_blocks

        state = {f"weight_hh_l{k}": torch.as_tensor(np.asarray(w)) for k, w in enumerate(self.params.w_hh)}
        blocks = recurrent_blocks(state, self.num_layers, self.hidden_size, self.ensemble_members)
        return blocks if (self.hidden_size // blocks) % 4 == 0 else 1

    """
    Newton drive interface.
    """

    def finalize(self, device: wp.Device, num_actuators: int) -> None:
        """Place the weights and per-slot parameters on ``device`` and allocate the scratch buffers."""
        self._device = wp.get_device(device)
        self._num_actuators = n = int(num_actuators)
        columns = slot_columns(self._given, file_defaults(self.network_file), n)
        check_friction(columns, self._given, self.friction_velocity, self.network_file)
        use_torch = self.compute_backend == "torch" or (self.compute_backend == "auto" and self._device.is_cpu)
        if use_torch and not self._device.is_cpu:
            raise ValueError(f"DriveGRUPD: compute_backend='torch' runs on CPU devices only, not {self._device}")
        self.params_pack = pack_columns(columns, self._device, column_major=use_torch)
        """Per-slot parameters ``(N, 11)`` in :data:`~.kernels.PARAM_COLUMNS` order (column-major on the torch
        backend); ``kp``, ``kd``, ... are views of its columns (writes to them reach the kernels)."""
        for column, name in enumerate(kernels.PARAM_COLUMNS):
            setattr(self, name, self.params_pack[:, column])
        self._net_arrays = upload_network(self.params, self.features, self._device)
        member_units = self.hidden_size // self.recurrent_blocks
        self._net_kernel = gru_pd_net(len(self.features), self.hidden_size, self.num_layers, member_units)
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
        self.ensemble_std = None
        """Ensemble files on the torch backend: the spread [N·m] of the net output of the last net step per slot,
        shape (N,): the members' standard deviation with the file's label-noise term in quadrature, as
        :attr:`~learned_actuators.actuators.CombinedGRUAndPDActuator.ensemble_std` on the Python path. None for a
        single model and on the Warp kernels (they run the members' mean only)."""
        if use_torch and self.member_head is not None:
            self.ensemble_std = wp.zeros(n, dtype=wp.float32, device=self._device)
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

    def state(self, num_actuators: int, device: wp.Device) -> GRUPDState:
        """A zero state (hidden, held output, flags, rate phase) for ``num_actuators`` slots."""
        torch_backend = self._torch is not None  # feature-major storage, hidden a strided [layers, N, H] view of it
        args = (self.num_layers, self.hidden_size, torch_backend, len(self.features))
        return make_state(int(num_actuators), device, *args)

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
        """Clipped effort [N·m] into ``forces``; advances ``state`` in place (see the module docstring).

        ``target_vel`` [rad/s] and ``feedforward`` [N·m] (None: zero) are read at ``target_vel_indices``.
        """
        if state is None:
            raise ValueError("DriveGRUPD is stateful: pass the state created by state() (Actuator.state()).")
        if dt is not None and dt != self._rate_dt:
            self._resolve_rate(float(dt))
        if self.steps_per_network_step is None:
            raise ValueError("DriveGRUPD: the physics dt is unknown; pass dt to compute() or physics_dt to the drive.")
        randomization = self.randomization
        if randomization is not None and randomization.member is not None and self._torch is None:
            raise ValueError(
                f"DriveGRUPD ({self.network_file}): ensemble member sampling runs on the torch backend (CPU devices) "
                "only; the Warp kernels run the members' mean."
            )
        if randomization is not None:  # the whole command delayed, as on the Python path
            command = (target_pos, target_pos_indices, target_vel, feedforward, target_vel_indices)
            target_pos, target_pos_indices, target_vel, feedforward, target_vel_indices = randomization.native_targets(
                *command
            )
        joints = (positions, velocities, target_pos, target_vel, feedforward)
        joint_indices = (pos_indices, vel_indices, target_pos_indices, target_vel_indices)
        self._compute(joints, joint_indices, forces, state, device or self._device)
        if randomization is not None:
            state_and_targets = (positions, velocities, pos_indices, vel_indices, target_pos, target_pos_indices)
            randomization.native_output(forces, *state_and_targets)
            if randomization.friction is not None:  # its extra friction skips bad joint states, not bad commands
                self._zero_where_command_nonfinite(forces, target_vel, feedforward, target_vel_indices)

    def _compute(self, joints, indices, forces, state, device) -> None:
        """The model's clipped effort into ``forces`` (the Warp kernels, or their torch form on CPU devices).

        ``joints``: positions, velocities, position and velocity targets, feed-forward (or None); ``indices``: the
        position, velocity, position-target and velocity-target indices.
        """
        if self._torch is not None:
            self._torch.compute(self, joints, indices, forces, state)
            return
        p = self.params
        joints = [*joints, *indices, self.params_pack]
        settings = [self.friction_velocity, int(self.pd_torque_speed_curve)]
        net_scalars = [len(p.head), p.output_scale, p.output_offset]
        state_arrays = [state.hidden, state.held, state.fallback, state.phase, state.dirty]
        scratch = [self._x_buf, self._h_buf, self._head_buf]
        wp.launch(
            self._net_kernel,
            dim=self._num_actuators,
            inputs=[*joints, *settings, *self._net_arrays, *net_scalars, *state_arrays, *scratch],
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

    def _zero_where_command_nonfinite(self, forces, target_vel, feedforward, target_vel_indices) -> None:
        """Zero ``forces`` where the velocity target or the feed-forward is non-finite (CPU: randomisation only).

        The kernels gave those slots zero effort; the randomisation's extra friction must not add to it (as on the
        Python path, where the effort of a bad joint is zeroed after the randomisation).
        """
        from .torch_backend import WarpTorchIO

        io = self._command_io
        if io is None:
            io = self._command_io = WarpTorchIO(self._num_actuators)
        command = [io.gather(target_vel, target_vel_indices, 0)]
        if feedforward is not None:
            command.append(io.gather(feedforward, target_vel_indices, 1))
        if all(math.isfinite(float(x.sum())) for x in command):
            return
        finite = torch.isfinite(command[0])
        for x in command[1:]:
            finite.logical_and_(torch.isfinite(x))
        io.view(forces)[: self._num_actuators].masked_fill_(finite.logical_not_(), 0.0)

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
