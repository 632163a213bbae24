"""The LSTM and MLP actuator nets as Newton drives: :class:`DriveLSTM`, :class:`DriveMLP`.

Each drive runs **the Python-path actuator class itself** (:class:`~learned_actuators.actuators.LSTMActuatorNet`,
:class:`~learned_actuators.actuators.MLPActuatorNet`) on the drive's slots, inside Newton's actuator step: one
instance for all ``N`` slots (one "env" of ``N`` joints), fed zero-copy torch views of Newton's joint arrays and
writing into Newton's force array. So the native path has, by construction, the same rate handling (net dt a
multiple of the physics dt, output held between net steps, counted from the drive's creation), NaN/inf guard,
fused kernels (:mod:`learned_actuators.actuators.fused_nets`), normalisation and final clip as the Python path, and
no second copy of any of these formulas.

Parameters: the network file and the cfg fields that are the same for every slot are shared (``SHARED_PARAMS``);
the motor limits of the final clip (``saturation_effort``, ``velocity_limit``, ``max_motor_effort``) are per slot.
The USD schemas ``LearnedActuatorsLSTMDriveAPI`` / ``LearnedActuatorsMLPDriveAPI`` carry them as ``newton:``
attributes (:func:`~learned_actuators.newton_drives.apply_net_drive`).

State: :class:`DriveLearnedNet.State` is a handle on the drive's actuator, whose recurrent state / history, held
output and rate counter are advanced in place by every call; all states of one drive share it (as with
:class:`~learned_actuators.newton_drives.DriveGRUPD`, both buffers of Newton's double buffer hold the same advanced
state, so the host-side swap is harmless). :meth:`DriveLearnedNet.State.reset` zeroes the masked slots' state and
held output (the rate counter is a physics clock and is never reset, as on the Python path).

Devices: CPU devices run the torch kernels (``is_graphable()`` True: no CUDA graph exists there, and the flag lets
Isaac Lab fold the decimation loop as for its own drives). On CUDA devices the same torch code runs on the GPU
without host syncs, but the rate counter is a host value, so such a drive is **not** graphable
(``is_graphable()`` False: Isaac Lab then steps without a CUDA graph). Needs Isaac Lab (the actuator classes are
Isaac Lab actuators). Explicit effort mode only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import warp as wp
from newton.actuators import DriveBase

from .torch_backend import WarpTorchIO, single_torch_thread

__all__ = ["NET_PER_SLOT_PARAMS", "DriveLSTM", "DriveLearnedNet", "DriveMLP"]

NET_PER_SLOT_PARAMS = ("saturation_effort", "velocity_limit", "max_motor_effort")
"""Per-slot parameters of the net drives (the final clip's motor limits), float arrays of shape (N,)."""

_CURVES = ("dc_motor", "asymmetric")


class DriveLearnedNet(DriveBase):
    """Base of :class:`DriveLSTM` and :class:`DriveMLP`: a Python-path learned actuator run as a Newton drive.

    Args:
        network_file: TorchScript network file (``.pt``) of the drive's model type.
        saturation_effort: Motor stall torque [N·m] per slot, shape (N,) (positive, finite).
        velocity_limit: No-load speed [rad/s] per slot. None: inf.
        max_motor_effort: Continuous torque limit [N·m] per slot. None: inf.
        network_dt: Net time step [s]; must agree with the file's ``dt``. None: the file's (else the physics dt).
        physics_dt: Physics time step [s]. None: the ``dt`` of the first :meth:`compute`.
        torque_speed_curve: Final clip: ``"dc_motor"`` (default, Isaac Lab's DCMotor) or ``"asymmetric"``.
        **conventions: Further cfg fields of the actuator class (MLP: ``pos_scale``, ``vel_scale``,
            ``torque_scale``, ``input_order``, ``input_idx``); None: from the file's metadata.
    """

    model_type: ClassVar[str] = ""
    actuator_cfg: ClassVar[str] = ""
    """Name of the drive's actuator cfg class in :mod:`learned_actuators.actuators`."""
    CONVENTIONS: ClassVar[tuple[str, ...]] = ()
    SHARED_PARAMS: ClassVar[set[str]] = {"network_file", "network_dt", "physics_dt", "torque_speed_curve"}

    @dataclass
    class State(DriveBase.State):
        """Handle on the drive's actuator (its state is advanced in place; see the module docstring)."""

        drive: DriveLearnedNet | None = None

        def reset(self, mask: wp.array[wp.bool] | None = None) -> None:
            """Zero the recurrent state / history and held output of the masked slots (all when None)."""
            if self.drive is not None:
                self.drive._reset_slots(mask)

        def assign(self, other: DriveLearnedNet.State) -> None:
            """Nothing to copy: states of one drive share its actuator (Newton's ``Actuator.State.assign``)."""
            if other.drive is not self.drive:
                raise ValueError("DriveLearnedNet.State.assign: the states belong to different drives.")

    @classmethod
    def resolve_arguments(cls, args: dict[str, Any]) -> dict[str, Any]:
        """Check and complete the arguments (per-slot limits default to inf, except the stall torque)."""
        name = cls.__name__
        network_file = args.get("network_file")
        if not network_file:
            raise ValueError(f"{name} requires a non-empty 'network_file' (USD: newton:networkFile)")
        resolved: dict[str, Any] = {"network_file": str(network_file)}
        if args.get("saturation_effort") is None:
            raise ValueError(f"{name} requires 'saturation_effort' (USD: newton:saturationEffort), the stall torque")
        for key in NET_PER_SLOT_PARAMS:
            value = args.get(key)
            resolved[key] = math.inf if value is None else float(value)
            if not resolved[key] > 0:
                raise ValueError(f"{name}: '{key}' must be positive, got {value!r}")
        for key in ("network_dt", "physics_dt"):
            value = args.get(key)
            resolved[key] = None if value is None else float(value)
        curve = str(args.get("torque_speed_curve") or "dc_motor")
        if curve not in _CURVES:
            raise ValueError(f"{name}: torque_speed_curve must be one of {_CURVES}, got {curve!r}")
        resolved["torque_speed_curve"] = curve
        for key in cls.CONVENTIONS:
            value = args.get(key)
            resolved[key] = tuple(int(v) for v in value) if key == "input_idx" and value is not None else value
        return resolved

    def __init__(
        self,
        network_file: str,
        saturation_effort: wp.array[float],
        velocity_limit: wp.array[float] | None = None,
        max_motor_effort: wp.array[float] | None = None,
        network_dt: float | None = None,
        physics_dt: float | None = None,
        torque_speed_curve: str = "dc_motor",
        **conventions: Any,
    ):
        unknown = set(conventions) - set(self.CONVENTIONS)
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(unknown)}")
        self.network_file = str(network_file)
        self.network_dt = network_dt
        self.physics_dt = physics_dt
        self.torque_speed_curve = torque_speed_curve
        self.conventions = {k: v for k, v in conventions.items() if v is not None}
        self._limits = {
            "saturation_effort": saturation_effort,
            "velocity_limit": velocity_limit,
            "max_motor_effort": max_motor_effort,
        }
        self.actuator = None
        """The :class:`~learned_actuators.actuators.LearnedActuatorBase` instance run on the slots (after the first
        :meth:`compute`, or :meth:`finalize` when ``physics_dt`` is given)."""
        self._device: wp.Device | None = None
        self._num_actuators = 0
        self._io: WarpTorchIO | None = None
        self._action = None

    """
    Newton drive interface.
    """

    def finalize(self, device: wp.Device, num_actuators: int) -> None:
        """Record the device and slot count; build the actuator now when the physics dt is known."""
        self._device = wp.get_device(device)
        self._num_actuators = n = int(num_actuators)
        for key, value in self._limits.items():
            if value is not None and value.shape != (n,):
                raise ValueError(f"{type(self).__name__}: '{key}' has shape {value.shape}; the actuator has {n} slots")
        self._io = WarpTorchIO(n)
        if self.physics_dt is not None:
            self._build(float(self.physics_dt))

    def is_stateful(self) -> bool:
        """The actuator keeps a recurrent state or history, a held output and a rate counter."""
        return True

    def is_graphable(self) -> bool:
        """True on CPU devices (no CUDA graphs there); False on CUDA (the rate counter is a host value)."""
        return self._device is None or self._device.is_cpu

    def state(self, num_actuators: int, device: wp.Device) -> DriveLearnedNet.State:
        """A handle on this drive's actuator state."""
        return DriveLearnedNet.State(drive=self)

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
        state: DriveLearnedNet.State | None,
        dt: float,
        device: wp.Device | None = None,
    ) -> None:
        """Clipped effort [N·m] into ``forces``; advances the actuator's state in place."""
        if self.actuator is None:
            if dt is None:
                raise ValueError(f"{type(self).__name__}: the physics dt is unknown; pass dt or physics_dt.")
            self._build(float(dt))
        elif dt is not None and not math.isclose(float(dt), self.actuator.physics_dt, rel_tol=1e-6):
            raise ValueError(
                f"{type(self).__name__}: the physics dt changed to {dt} s (was {self.actuator.physics_dt} s); build a "
                "new drive for another dt."
            )
        with single_torch_thread(self._num_actuators):
            io = self._io
            q = io.gather(positions, pos_indices, 0).view(1, -1)
            qd = io.gather(velocities, vel_indices, 1).view(1, -1)
            action = self._action
            action.joint_positions = io.gather(target_pos, target_pos_indices, 2).view(1, -1)
            action.joint_velocities = action.joint_efforts = None
            effort = self.actuator.compute(action, q, qd).joint_efforts
            io.view(forces)[: self._num_actuators].copy_(effort.view(-1))

    def update_state(self, current_state: DriveLearnedNet.State, next_state: DriveLearnedNet.State) -> None:
        """Nothing to do: the actuator's state was advanced in place by :meth:`compute`."""

    """
    Diagnostics.
    """

    @property
    def num_nonfinite_inputs(self) -> int:
        """(slot, physics step) pairs given zero effort for a non-finite input."""
        return 0 if self.actuator is None else self.actuator.num_nonfinite_inputs

    @property
    def num_nonfinite_outputs(self) -> int:
        """Non-finite net outputs replaced by zero effort."""
        return 0 if self.actuator is None else self.actuator.num_nonfinite_outputs

    """
    Internals.
    """

    def _cfg(self, physics_dt: float, limits: np.ndarray):
        """The actuator cfg: the shared fields, and each motor limit per slot-name pattern (see :meth:`_build`)."""
        from .. import actuators

        cfg_class = getattr(actuators, self.actuator_cfg)
        fields = ("saturation_effort", "actuator_velocity_limit", "actuator_effort_limit")
        per_joint = {
            field: {f"s{k}_.*": float(row[c]) for k, row in enumerate(limits)}
            if len(limits) > 1
            else float(limits[0][c])
            for c, field in enumerate(fields)
        }
        return cfg_class(
            joint_names_expr=[".*"],
            network_file=self.network_file,
            network_dt=self.network_dt,
            physics_dt=physics_dt,
            torque_speed_curve=self.torque_speed_curve,
            nonfinite="guard",
            **per_joint,
            **{k: (list(v) if k == "input_idx" else v) for k, v in self.conventions.items()},
        )

    def _build(self, physics_dt: float) -> None:
        """Build the actuator for all slots as one env of ``N`` joints on the drive's device.

        Slot ``i`` is joint ``s{k}_{i}``, with ``k`` the index of its (stall torque, no-load speed, continuous torque)
        among the distinct triples, so every per-joint cfg limit is a dict of a few patterns (one per motor type).
        """
        from isaaclab.utils.types import ArticulationActions

        n = self._num_actuators
        columns = []
        for key in NET_PER_SLOT_PARAMS:
            value = self._limits[key]
            columns.append(np.full(n, math.inf, np.float32) if value is None else value.numpy().astype(np.float32))
        table = np.stack(columns, axis=1)
        if not np.isfinite(table[:, 0]).all():
            raise ValueError(f"{type(self).__name__}: 'saturation_effort' must be finite for every slot")
        limits, index = np.unique(table, axis=0, return_inverse=True)
        names = [f"s{k}_{i}" for i, k in enumerate(index.reshape(-1))]
        cfg = self._cfg(physics_dt, limits)
        self.actuator = cfg.class_type(
            cfg,
            joint_names=names,
            joint_ids=slice(None),
            num_envs=1,
            device="cpu" if self._device.is_cpu else f"cuda:{self._device.ordinal}",
        )
        self._action = ArticulationActions()

    def _reset_slots(self, mask: wp.array[wp.bool] | None) -> None:
        """Per-slot form of the actuator's per-env ``reset``: held output, guard flag and state of the slots."""
        actuator = self.actuator
        if actuator is None:  # nothing has run yet: the state is zero
            return
        if mask is None:
            actuator.reset(None)
            return
        selected = wp.to_torch(mask).view(-1)
        actuator.network_output.view(-1).masked_fill_(selected, 0.0)
        actuator._nonfinite.view(-1).masked_fill_(selected, False)
        actuator._clear_state_where(selected)


class DriveLSTM(DriveLearnedNet):
    """:class:`~learned_actuators.actuators.LSTMActuatorNet` as a Newton drive (see the module docstring)."""

    model_type: ClassVar[str] = "lstm"
    actuator_cfg: ClassVar[str] = "LSTMActuatorNetCfg"


class DriveMLP(DriveLearnedNet):
    """:class:`~learned_actuators.actuators.MLPActuatorNet` as a Newton drive (see the module docstring).

    Conventions (shared; None: the file's metadata, required for files without): ``pos_scale``, ``vel_scale``,
    ``torque_scale``, ``input_order``, ``input_idx``.
    """

    model_type: ClassVar[str] = "mlp"
    actuator_cfg: ClassVar[str] = "MLPActuatorNetCfg"
    CONVENTIONS: ClassVar[tuple[str, ...]] = ("pos_scale", "vel_scale", "torque_scale", "input_order", "input_idx")
    SHARED_PARAMS: ClassVar[set[str]] = DriveLearnedNet.SHARED_PARAMS | set(CONVENTIONS)
