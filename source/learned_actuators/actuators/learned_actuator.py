"""Common machinery of the learned actuators: network loading and checks, rate handling, clipping, NaN guard.

Isaac Lab 3.0 execution path
----------------------------
Isaac Lab 3.0 runs its stock explicit actuators inside Newton by default (``SimulationCfg.use_newton_actuators
= True``) and rejects every other explicit actuator class while authoring the robot
(``isaaclab.sim.schemas.schemas_actuators.validate_newton_native_actuator_cfgs`` raises a ValueError that does
not say where the switch lives).

* Our three cfgs run there too: the joints of a :class:`~learned_actuators.actuators.CombinedGRUAndPDActuatorCfg`
  get our Newton drive :class:`~learned_actuators.newton_drives.DriveGRUPD` (Warp kernels), those of the LSTM and
  MLP cfgs :class:`~learned_actuators.newton_drives.DriveLSTM` / ``DriveMLP`` (our actuator classes run inside
  Newton's step; graph-safe on the CPU only). Same torques as the Python path; see
  :mod:`learned_actuators.actuators.isaaclab_native`, the one module that depends on Isaac Lab internals. With
  ``use_newton_actuators=False`` they run on Isaac Lab's Python actuator path (the fallback).
* A subclass of our cfgs is not run natively: with ``use_newton_actuators=True`` the first thing Isaac Lab asks of
  its actuator class (its ``is_implicit_model`` flag, read before that ValueError can be raised) raises
  :class:`NewtonActuatorPathError`, which names the exact setting. The flag is an ordinary ``False`` whenever no
  simulation with Newton actuators is active (unit tests, the Python actuator path), and for a class that runs
  natively.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import sys
from abc import ABCMeta
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from isaaclab.actuators import DCMotor, resolve_joint_parameter
from isaaclab.utils import index_fill_

from ..errors import UserInputError
from ..network_file import (
    EXAMPLE_TOLERANCE,
    NetworkFileError,
    check_examples,
    check_metadata,
    load_network,
    stored_examples,
)
from .scale_check import SCALE_CHECK_OPTIONS, check_network_scale

if TYPE_CHECKING:
    from .learned_actuator_cfg import LearnedActuatorBaseCfg

__all__ = [
    "NONFINITE_OPTIONS",
    "ActuatorCfgError",
    "LearnedActuatorBase",
    "NewtonActuatorPathError",
    "NonFiniteActuatorError",
    "newton_actuators_active",
]

logger = logging.getLogger(__name__)

_DT_TOLERANCE = 1e-6
"""Relative tolerance when testing that the network dt is a whole multiple of the physics dt."""

_FUSED_TOLERANCE = 1e-4
"""Relative (to the output magnitude) tolerance of the load-time check of the fused kernels."""

_CHECK_ROWS, _CHECK_CHUNK = 100, 32


def _fused_error_ok(error: float, scale: float) -> bool:
    """Whether a fused (or compiled) net's max error against its reference, at output magnitude ``scale``, passes."""
    return error <= _FUSED_TOLERANCE * max(1.0, scale)


"""Batch and chunk width of that check: several chunks and a partial one, so the chunking is checked too."""


NONFINITE_OPTIONS = ("guard", "raise")
"""Values of :attr:`~learned_actuators.actuators.LearnedActuatorBaseCfg.nonfinite`."""

_TORQUE_SPEED_CURVES = ("dc_motor", "asymmetric")

_MOTOR_LIMITS = (
    ("saturation_effort", "positive and finite"),
    ("actuator_velocity_limit", "positive (inf: no velocity limit)"),
    ("actuator_effort_limit", "positive (inf: no continuous limit)"),
)
"""Motor-limit cfg fields checked per joint when an actuator is built, with what they must be."""

_MAX_LISTED_ENVS = 10
"""Most env ids a :class:`NonFiniteActuatorError` lists."""


def _positive_finite(value) -> bool:
    """Whether ``value`` is a real number (not a bool) that is positive and finite."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _resolve_cfg_joint_values(file, name: str, value, joint_names: list[str]) -> torch.Tensor:
    """A per-joint cfg value (number or joint-name-pattern dict) resolved for ``joint_names``, shape (num_joints,).

    Raises :class:`ActuatorCfgError` naming ``file`` and the field when Isaac Lab cannot resolve it.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real | dict):
        raise ActuatorCfgError(
            f"{file}: cfg field '{name}' must be a number or a dict of joint-name patterns to numbers; got {value!r}."
        )
    try:
        return resolve_joint_parameter(value, None, joint_names, 1, "cpu")[0]
    except (ValueError, TypeError) as err:
        raise ActuatorCfgError(
            f"{file}: cfg field '{name}' = {value!r} does not resolve for joints {joint_names}: {err}"
        ) from err


class NewtonActuatorPathError(RuntimeError):
    """A learned actuator was used while Isaac Lab runs actuators natively in Newton."""


class ActuatorCfgError(UserInputError):
    """A learned actuator's cfg field has a value it cannot run with; the message names the network file and field."""


class NonFiniteActuatorError(FloatingPointError):
    """A joint position, velocity, position target, net output or effort was NaN/inf with ``nonfinite="raise"``.

    The message names the actuator class, its network file, the quantity, the env ids and the joint names.
    """


def newton_actuators_active() -> bool:
    """Whether an Isaac Lab simulation context exists with ``use_newton_actuators=True``.

    Never imports Isaac Lab's simulation module: without it loaded there is no context.
    """
    module = sys.modules.get("isaaclab.sim.simulation_context")
    if module is None:
        return False
    context = module.SimulationContext.instance()
    return context is not None and bool(getattr(context.cfg, "use_newton_actuators", False))


class _LabActuatorPathMeta(ABCMeta):
    """Metaclass whose ``is_implicit_model`` check explains the ``use_newton_actuators`` requirement."""

    @property
    def is_implicit_model(cls) -> bool:
        if newton_actuators_active() and not _runs_natively(cls):
            native = (
                "This package's Newton-native path is off for the installed Isaac Lab/Newton versions (see the "
                "warning of learned_actuators.actuators.isaaclab_native). "
                if cls.__dict__.get("newton_native_drive", False)
                else "Only the package's CombinedGRUAndPDActuator, LSTMActuatorNet and MLPActuatorNet classes (not "
                "subclasses) run natively in Newton. "
            )
            raise NewtonActuatorPathError(
                f"{cls.__module__}.{cls.__name__} is a custom explicit actuator and runs only on Isaac Lab's Python "
                "actuator path, but the simulation was configured with sim.use_newton_actuators=True (the Isaac "
                f"Lab 3.0 default). {native}Set `self.sim.use_newton_actuators = False` in your env cfg's "
                "__post_init__ (command line: `env.sim.use_newton_actuators=false`), or use a learned_actuators "
                "task, which sets it."
            )
        return False


def _runs_natively(cls) -> bool:
    """Whether ``cls`` itself (not a subclass of it) has a Newton drive and the native path is installed."""
    if not cls.__dict__.get("newton_native_drive", False):
        return False
    from .isaaclab_native import native_path_available

    return native_path_available()


class LearnedActuatorBase(DCMotor, metaclass=_LabActuatorPathMeta):
    """Base of the learned actuators: loads and checks the net, runs it at its own rate, guards and clips.

    Subclasses implement :meth:`_net_step` (advance the net by one of its own steps, writing its output in
    N·m into :attr:`_net_output`) and :meth:`_reset_net_state`. Between net steps the last output is held.

    Rate: the net's dt (file metadata, or :attr:`LearnedActuatorBaseCfg.network_dt`) must be a whole multiple
    ``k`` of the physics dt; the net then runs on physics steps ``0, k, 2k, ...`` (counted from construction;
    with ``k`` dividing the env decimation these are the first physics steps of env steps) and its output is
    held in between. A dt that is not a multiple raises a :class:`~learned_actuators.network_file.NetworkFileError`.

    NaN/inf guard (cfg ``nonfinite="guard"``, the default); the applied and computed efforts are always finite:

    * Inputs. A joint (of one env) whose position, velocity or position target is NaN/inf on a physics step gets
      **zero effort** on that step (what a motor driver does when it faults; ``tau_phys`` cannot be computed from a
      NaN state either). Its bad values reach nothing: the net, the physics torque and the final clip see finite
      placeholders (zeros) for that joint, and a net step taken on that physics step is *skipped* for it: its
      recurrent state (hidden, cell) or history window is restored to what it was before the step, so the next
      finite net step gives the torque of an actuator that never saw the bad step (exactly so when the net runs
      every physics step; with a slower net the step schedule is shared by all joints). Its held net output is
      dropped: until the next net step it gets the fallback torque (``tau_phys`` for
      :class:`CombinedGRUAndPDActuator`, zero for the pure nets). :attr:`nonfinite_input_count` counts these
      (env, physics step) events per joint.
    * Net outputs. A non-finite net output (from finite inputs) is replaced by the same fallback torque and the
      recurrent state / history of that joint is zeroed; :attr:`nonfinite_output_count` counts them per joint,
      together with (GRU-PD) non-finite physics torques from a float overflow of finite inputs, which give zero.

    With ``nonfinite="raise"`` each of these raises :class:`NonFiniteActuatorError` instead, naming the quantity
    (position, velocity, target, net output, effort), the env ids and the joint names; a bad input raises before
    the actuator changes any state.

    Cost: on the CPU three reductions per physics step decide that the inputs are finite (one more for the net
    output on net steps, and for the GRU-PD effort), with no allocation; the masked path runs only when something
    is not finite. On a GPU the masked path always runs (about fifteen element-wise kernels, and a copy of the
    recurrent state per net step) so that no step waits on a device sync, except with ``nonfinite="raise"``.
    """

    cfg: LearnedActuatorBaseCfg

    model_type: str = ""
    """Model type this class runs (``network_file`` metadata ``model_type``)."""

    net_output_is_effort: bool = False
    """Whether the net output is the computed effort itself (the net writes :attr:`computed_effort` directly)."""

    def __init__(self, cfg: LearnedActuatorBaseCfg, *args, **kwargs):
        device = kwargs.get("device", args[3] if len(args) > 3 else None)
        joint_names = kwargs.get("joint_names", args[0] if args else None)
        self._check_cfg_fields(cfg, list(joint_names) if joint_names is not None else [])
        try:
            torch.empty(0, device=device)
        except (RuntimeError, AssertionError) as err:
            raise NetworkFileError(
                f"{cfg.network_file}: cannot run {type(self).__name__} on device {device!r}: {err}"
            ) from err
        super().__init__(cfg, *args, **kwargs)
        self._check_motor_limits()
        self.network, self.metadata = load_network(self.cfg.network_file, device=self._device)
        if self.metadata is not None and self.metadata.model_type != self.model_type:
            raise NetworkFileError(
                f"{self.cfg.network_file}: metadata 'model_type' is {self.metadata.model_type!r}, but "
                f"{type(self).__name__} runs {self.model_type!r} nets."
            )
        check_examples(self.network, self.metadata, str(self.cfg.network_file))  # the module vs its stored outputs
        if self.metadata is not None:
            stall = self._saturation_effort[0].tolist()
            check_network_scale(
                self.cfg.network_file, self.metadata.physics, self._joint_names, stall, self.cfg.scale_check
            )
        self.physics_dt = self._resolve_physics_dt()
        self.network_dt, self.steps_per_network_step = self._resolve_rate()
        self._step_count = 0
        self._checkpoint: tuple | None = None
        """(physics step, state) before the first compute after a reset, in a simulation (see :meth:`reset`)."""
        self._checkpoint_next = False
        self._net_output = self.computed_effort if self.net_output_is_effort else torch.zeros_like(self.computed_effort)
        """Last net output [N·m], shape (num_envs, num_joints); held between net steps."""
        self._nonfinite = torch.zeros(self._num_envs, self.num_joints, dtype=torch.bool, device=self._device)
        self._nonfinite_flagged = False
        """Whether :attr:`_nonfinite` may hold True entries (CPU fast path: it is all False otherwise)."""
        self._scratch = torch.zeros_like(self._net_output)
        self._upper = torch.zeros_like(self._net_output)
        self._lower = torch.zeros_like(self._net_output)
        self._clip_upper = torch.zeros_like(self._net_output)
        self._clip_lower = torch.zeros_like(self._net_output)
        self._one = torch.ones((), device=self._device)
        self._neg_vel_at_effort_lim = -self._vel_at_effort_lim  # static, as DCMotor's corner velocity
        self._mask = torch.zeros_like(self._nonfinite)
        self._output_sum = torch.zeros((), device=self._device)
        self._nonfinite_count = torch.zeros(self.num_joints, dtype=torch.long, device=self._device)
        self._nonfinite_per_joint = torch.zeros_like(self._nonfinite_count)
        self._host_checks = torch.device(self._device).type == "cpu"
        """Whether host-side reductions decide the guards (CPU: free reads); else the masked paths always run."""
        self._bad_input = torch.zeros_like(self._nonfinite)
        """Joints with a non-finite position, velocity or target on this physics step (valid when flagged)."""
        self._bad_flagged = False
        """Whether :attr:`_bad_input` may hold True entries on this step (always True without host checks)."""
        self._finite_tmp = torch.zeros_like(self._nonfinite)
        self._input_sums = torch.zeros(3, device=self._device)
        self._safe_inputs = tuple(torch.zeros_like(self._net_output) for _ in range(3))
        """Position, velocity and target with the bad joints' entries replaced by zeros (used when flagged)."""
        self._zero = torch.zeros((), device=self._device)
        self._nonfinite_input_count = torch.zeros_like(self._nonfinite_count)
        self.uses_fused_kernels = False
        """Whether the net runs on the fused kernels (False: the TorchScript module is called)."""
        self.randomization = None
        """Per-env randomisation and input delay (:mod:`.randomization`), attached by its event; None: off."""

    """
    Properties.
    """

    @property
    def nonfinite_output_count(self) -> torch.Tensor:
        """Number of non-finite net outputs replaced by the fallback torque, per joint. Shape (num_joints,)."""
        return self._nonfinite_count

    @property
    def num_nonfinite_outputs(self) -> int:
        """Total number of non-finite net outputs replaced by the fallback torque since construction."""
        return int(self._nonfinite_count.sum())

    @property
    def nonfinite_input_count(self) -> torch.Tensor:
        """Number of (env, physics step) pairs with a NaN/inf position, velocity or target, per joint (num_joints,)."""
        return self._nonfinite_input_count

    @property
    def num_nonfinite_inputs(self) -> int:
        """Total number of (env, joint, physics step) triples given zero effort for a non-finite input."""
        return int(self._nonfinite_input_count.sum())

    @property
    def network_output(self) -> torch.Tensor:
        """Net output held for the current physics step [N·m] (residual or torque). Shape (num_envs, num_joints)."""
        return self._net_output

    """
    Operations.
    """

    def reset(self, env_ids: Sequence[int] | slice | torch.Tensor | None):
        """Zero the recurrent state / history and the held net output of ``env_ids`` (None: all envs).

        In a simulation, the first :meth:`compute` after a reset is checkpointed: Isaac Lab's ``env.reset()`` calls
        ``compute()`` once without stepping the physics (``write_data_to_sim`` then ``sim.forward``), and a second
        call for the same physics step (see :meth:`_sync_physics_step`) undoes that one first. So the net steps
        exactly once per physics step, on the physics steps where Newton-native drives step, from the first
        physics step of each env step (when ``k`` divides the decimation).
        """
        count = self._physics_step_count()
        checkpoint = self._checkpoint
        if checkpoint is not None and checkpoint[0] == count:  # a compute without a physics step: undo it first
            self._restore_checkpoint(checkpoint[1])
        self._checkpoint = None
        index_fill_(self._net_output, env_ids, 0.0)
        index_fill_(self._nonfinite, env_ids, False)
        self._reset_net_state(env_ids)
        if self.randomization is not None:
            self.randomization.clear_history(env_ids)
        self._checkpoint_next = count is not None

    def _physics_step_count(self) -> int | None:
        """Physics steps of the active simulation so far (None: no simulation, or the cfg sets ``physics_dt``)."""
        if self.cfg.physics_dt is not None:
            return None
        module = sys.modules.get("isaaclab.sim.simulation_context")
        context = module.SimulationContext.instance() if module is not None else None
        return None if context is None else int(context.get_physics_step_count())

    def _sync_physics_step(self) -> None:
        """Undo the last compute if the physics did not step since it (Isaac Lab's ``env.reset()``); see :meth:`reset`.

        Called at the start of every :meth:`compute`; costs nothing unless a reset came before the last compute,
        then one copy of the net state for the first compute after it.
        """
        if self._checkpoint is None and not self._checkpoint_next:
            return
        count = self._physics_step_count()
        checkpoint, self._checkpoint = self._checkpoint, None
        if checkpoint is not None and checkpoint[0] == count:
            self._restore_checkpoint(checkpoint[1])
        if self._checkpoint_next and count is not None:
            self._checkpoint_next = False
            self._checkpoint = (count, self._take_checkpoint())

    def _take_checkpoint(self) -> tuple:
        return (
            self._step_count,
            self._net_output.clone(),
            self._nonfinite.clone(),
            self._nonfinite_flagged,
            self._net_state_checkpoint(),
            None if self.randomization is None else self.randomization.checkpoint(),
        )

    def _restore_checkpoint(self, saved: tuple) -> None:
        self._step_count = saved[0]
        self._net_output.copy_(saved[1])
        self._nonfinite.copy_(saved[2])
        self._nonfinite_flagged = saved[3]
        self._restore_net_state_checkpoint(saved[4])
        if self.randomization is not None:
            self.randomization.restore(saved[5])

    def _advance(self) -> bool:
        """Count one physics step; return True when the net runs on this step."""
        run = self._step_count % self.steps_per_network_step == 0
        self._step_count += 1
        return run

    def _guard_inputs(
        self, q: torch.Tensor, qd: torch.Tensor, q_target: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Position, velocity and target to use on this step, with the joints that have a NaN/inf zeroed.

        The given tensors when all are finite, else copies with zeros for every joint that has a non-finite entry in
        any of them (flagged in :attr:`_bad_input`).

        On the CPU three reductions decide (a sum is finite when every entry is; a finite overflow merely takes the
        exact path); no allocation. Raises :class:`NonFiniteActuatorError` with ``nonfinite="raise"``.
        """
        self._sync_physics_step()
        if self.randomization is not None:  # the delayed targets (the target itself when the delay is off)
            q_target = self.randomization.delayed_targets(q_target)
        if self._host_checks:
            sums = self._input_sums
            torch.sum(q, dim=(0, 1), out=sums[0])
            torch.sum(qd, dim=(0, 1), out=sums[1])
            torch.sum(q_target, dim=(0, 1), out=sums[2])
            if math.isfinite(sum(sums.tolist())):
                self._bad_flagged = False
                return q, qd, q_target
        bad, tmp = self._bad_input, self._finite_tmp
        self._finite_into(q, bad)
        self._finite_into(qd, tmp)
        bad.logical_and_(tmp)
        self._finite_into(q_target, tmp)
        bad.logical_and_(tmp).logical_not_()
        if self._host_checks or self.cfg.nonfinite == "raise":
            if not bool(bad.any()):  # CPU: a finite sum overflowed; GPU: the sync that "raise" costs
                self._bad_flagged = False
                return q, qd, q_target
            if self.cfg.nonfinite == "raise":
                raise self._nonfinite_error({"position": q, "velocity": qd, "target": q_target})
        torch.sum(bad, dim=0, out=self._nonfinite_per_joint)
        self._nonfinite_input_count.add_(self._nonfinite_per_joint)
        for value, safe in zip((q, qd, q_target), self._safe_inputs, strict=True):
            torch.where(bad, self._zero, value, out=safe)
        self._bad_flagged = True
        return self._safe_inputs

    def _finite_into(self, value: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """``isfinite(value)`` into the bool buffer ``out`` without allocating (NaN compares False)."""
        torch.abs(value, out=self._scratch)
        return torch.lt(self._scratch, math.inf, out=out)

    def _begin_net_step(self) -> None:
        """Before a net step: keep the state of the joints with a bad input (restored by :meth:`_end_net_step`)."""
        if self._bad_flagged:
            self._save_state()

    def _end_net_step(self) -> None:
        """After a net step: undo it for the joints with a bad input, then guard the net output."""
        if self._bad_flagged:
            self._restore_state_where(self._bad_input.view(-1))
            self._net_output.masked_fill_(self._bad_input, 0.0)  # their output was computed from placeholders
        self._guard_output()

    def _drop_bad_outputs(self) -> None:
        """Drop the held net output of the joints with a bad input on this step (fallback until the next net step)."""
        if self._bad_flagged:
            self._net_output.masked_fill_(self._bad_input, 0.0)
            self._nonfinite.logical_or_(self._bad_input)
            self._nonfinite_flagged = True

    def _guard_output(self) -> None:
        """Flag and zero non-finite entries of :attr:`_net_output`; count them and clear the joints' state.

        On the CPU one reduction decides (the sum is finite when every entry is; a finite overflow merely takes the
        exact path) and host reads cost no sync; on a GPU the exact masked path always runs, without a sync.
        """
        output = self._net_output
        if self._host_checks:
            torch.sum(output.view(-1), dim=0, out=self._output_sum)
            if math.isfinite(float(self._output_sum)):
                if self._nonfinite_flagged:
                    self._nonfinite.zero_()
                    self._nonfinite_flagged = False
                return
        self._finite_into(output, self._nonfinite).logical_not_()
        if self.cfg.nonfinite == "raise" and bool(self._nonfinite.any()):
            raise self._nonfinite_error({"net output": output})
        torch.sum(self._nonfinite, dim=0, out=self._nonfinite_per_joint)
        self._nonfinite_count.add_(self._nonfinite_per_joint)
        output.masked_fill_(self._nonfinite, 0.0)
        self._clear_state_where(self._nonfinite.view(-1))
        self._nonfinite_flagged = True

    def _nonfinite_error(self, quantities: dict[str, torch.Tensor]) -> NonFiniteActuatorError:
        """The error of ``nonfinite="raise"`` for the non-finite entries of ``quantities`` (name: (envs, joints))."""
        parts = []
        for name, value in quantities.items():
            bad = ~torch.isfinite(value)
            if not bool(bad.any()):
                continue
            envs = bad.any(dim=1).nonzero().flatten().tolist()
            listed = str(envs[:_MAX_LISTED_ENVS])
            if len(envs) > _MAX_LISTED_ENVS:
                listed = f"{listed[:-1]}, ...] ({len(envs)} envs)"
            joints = [self._joint_names[j] for j in bad.any(dim=0).nonzero().flatten().tolist()]
            parts.append(f"{name} at env ids {listed} of joints {joints}")
        return NonFiniteActuatorError(
            f"{type(self).__name__} ({self.cfg.network_file}; joints {self._joint_names}): non-finite "
            + "; non-finite ".join(parts)
            + ". The cfg sets nonfinite='raise'; with nonfinite='guard' (the default) those joints get a finite "
            "fallback effort and the event is counted (num_nonfinite_inputs / num_nonfinite_outputs)."
        )

    def _torque_speed_limits(
        self, joint_vel: torch.Tensor, stall: torch.Tensor | None = None, no_load_speed: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Asymmetric torque-speed limits ``(lower, upper)`` [N·m] at ``joint_vel`` [rad/s], each (envs, joints).

        Same values as :func:`learned_actuators.physics.torque_speed_limits` (stall torque ``stall``, default
        ``saturation_effort``; no-load speed ``no_load_speed``, default ``actuator_velocity_limit``), written into
        preallocated buffers that stay valid until the next call; callers must not modify them.
        """
        stall = self._saturation_effort if stall is None else stall
        no_load_speed = self.actuator_velocity_limit if no_load_speed is None else no_load_speed
        motoring, upper, lower = self._scratch, self._upper, self._lower
        torch.abs(joint_vel, out=motoring)
        torch.addcdiv(self._one, motoring, no_load_speed, value=-1.0, out=motoring)  # 1 - |qd| / v0
        motoring.clamp_(min=0.0).mul_(stall)
        torch.gt(joint_vel, 0.0, out=self._mask)
        torch.where(self._mask, motoring, stall, out=upper)
        torch.lt(joint_vel, 0.0, out=self._mask)
        torch.where(self._mask, motoring, stall, out=lower).neg_()
        return lower, upper

    def _clip_effort(
        self, effort: torch.Tensor, joint_vel: torch.Tensor, curve: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """Clip ``effort`` [N·m] with the motor limits at the current ``joint_vel`` [rad/s].

        Writes :attr:`applied_effort` in place (no allocation) and returns it. ``"dc_motor"`` gives the values of
        Isaac Lab's ``DCMotor._clip_effort`` (to float rounding), ``"asymmetric"`` those of
        :func:`~learned_actuators.physics.torque_speed_limits` bounded by ``actuator_effort_limit``; ``curve``
        passes the result of :meth:`_torque_speed_limits` at this ``joint_vel`` when it is already computed.
        """
        limit, upper, lower = self.actuator_effort_limit, self._clip_upper, self._clip_lower
        if self.cfg.torque_speed_curve == "asymmetric":
            curve_lower, curve_upper = self._torque_speed_limits(joint_vel) if curve is None else curve
            torch.minimum(curve_upper, limit, out=upper)
            torch.neg(limit, out=lower)
            torch.maximum(curve_lower, lower, out=lower)
        else:  # DC motor: the velocity is clipped at the corner velocity, then the linear four-quadrant curve
            ratio, sat = self._scratch, self._saturation_effort
            torch.clamp(joint_vel, min=self._neg_vel_at_effort_lim, max=self._vel_at_effort_lim, out=ratio)
            ratio.div_(self.actuator_velocity_limit)
            torch.addcmul(sat, sat, ratio, value=-1.0, out=upper)  # sat (1 - v / v0)
            torch.minimum(upper, limit, out=upper)
            torch.addcmul(sat, sat, ratio, out=lower)  # -sat (-1 - v / v0)
            torch.minimum(lower, limit, out=lower).neg_()
        return torch.clamp(effort, min=lower, max=upper, out=self.applied_effort)

    def _write_output(self, control_action, joint_vel: torch.Tensor, curve=None):
        """Clip :attr:`computed_effort` at ``joint_vel`` and hand it to the articulation as an effort command.

        ``joint_vel`` is the guarded velocity (:meth:`_guard_inputs`); joints with a bad input get zero effort.
        """
        if self._bad_flagged:
            self.computed_effort.masked_fill_(self._bad_input, 0.0)
        control_action.joint_efforts = self._clip_effort(self.computed_effort, joint_vel, curve)
        if self.randomization is not None:  # motor strength and extra friction (joint_vel: zero for bad joints)
            self.randomization.apply_output(self.applied_effort, joint_vel)
        if self._bad_flagged:
            self.applied_effort.masked_fill_(self._bad_input, 0.0)
        control_action.joint_positions = None
        control_action.joint_velocities = None
        return control_action

    """
    Subclass hooks.
    """

    def _reset_net_state(self, env_ids) -> None:
        raise NotImplementedError

    def _clear_state_where(self, mask: torch.Tensor) -> None:
        """Zero the recurrent state / history of the flattened joints where ``mask`` (num_envs*num_joints,)."""

    def _net_state_checkpoint(self):
        """A copy of the recurrent state / history (see :meth:`reset`)."""
        raise NotImplementedError

    def _restore_net_state_checkpoint(self, saved) -> None:
        """Put back a copy from :meth:`_net_state_checkpoint`."""
        raise NotImplementedError

    def _save_state(self) -> None:
        """Keep a copy of the recurrent state / history window (before a net step with bad inputs)."""

    def _restore_state_where(self, mask: torch.Tensor) -> None:
        """Put back the state kept by :meth:`_save_state` for the flattened joints where ``mask``."""

    """
    Helpers.
    """

    @classmethod
    def _check_cfg_fields(cls, cfg: LearnedActuatorBaseCfg, joint_names: list[str]) -> None:
        """Check the cfg fields that need no file, before anything is built; raise :class:`ActuatorCfgError`."""
        file = cfg.network_file
        if not isinstance(file, str | os.PathLike) or not os.fspath(file):
            raise ActuatorCfgError(
                f"{cls.__name__}: cfg field 'network_file' must be the path of a TorchScript actuator net (.pt); "
                f"got {file!r}."
            )
        options = (
            ("nonfinite", NONFINITE_OPTIONS),
            ("torque_speed_curve", _TORQUE_SPEED_CURVES),
            ("scale_check", SCALE_CHECK_OPTIONS),
        )
        for name, allowed in options:
            if getattr(cfg, name) not in allowed:
                raise ActuatorCfgError(
                    f"{file}: cfg field '{name}' must be one of {allowed}; got {getattr(cfg, name)!r}."
                )
        for name in ("physics_dt", "network_dt"):
            value = getattr(cfg, name)
            if value is not None and not _positive_finite(value):
                raise ActuatorCfgError(
                    f"{file}: cfg field '{name}' must be a positive, finite time step in seconds (or None); "
                    f"got {value!r}."
                )
        if cfg.saturation_effort is None:
            raise ActuatorCfgError(f"{file}: cfg field 'saturation_effort' (stall torque [N·m]) must be set.")
        if cfg.actuator_velocity_limit is None and cfg.velocity_limit is None:
            raise ActuatorCfgError(f"{file}: cfg field 'actuator_velocity_limit' (no-load speed [rad/s]) must be set.")
        for name in ("saturation_effort", "actuator_velocity_limit", "actuator_effort_limit", "stiffness", "damping"):
            value = getattr(cfg, name, None)
            if value is not None:
                _resolve_cfg_joint_values(file, name, value, joint_names)

    def _check_motor_limits(self) -> None:
        """Check the resolved per-joint motor limits (after Isaac Lab's alias handling)."""
        values = {
            "saturation_effort": self._saturation_effort,
            "actuator_velocity_limit": self.actuator_velocity_limit,
            "actuator_effort_limit": self.actuator_effort_limit,
        }
        for name, rule in _MOTOR_LIMITS:
            cfg_value = getattr(self.cfg, name, None)
            what = f"cfg field '{name}'" + ("" if cfg_value is not None else " (not set: the articulation's default)")
            self._check_joint_values(what, values[name][0], rule, cfg_value)

    def _check_joint_values(self, what: str, values: torch.Tensor, rule: str, cfg_value=None) -> None:
        """Raise a user error for the joints whose value in ``values`` (num_joints,) breaks ``rule``.

        :class:`ActuatorCfgError`, or :class:`NetworkFileError` when ``what`` names a "metadata ..." value.
        ``rule``: ``"positive and finite"``, ``"positive (...)"`` (inf allowed), ``"non-negative and finite"`` or
        ``"finite"``.
        """
        finite = torch.isfinite(values)
        if rule.startswith("positive and finite"):
            ok = finite & (values > 0)
        elif rule.startswith("positive"):
            ok = values > 0  # NaN compares False; +inf allowed
        elif rule.startswith("non-negative"):
            ok = finite & (values >= 0)
        else:
            ok = finite
        if bool(ok.all()):
            return
        bad = (~ok).nonzero().flatten().tolist()
        got = ", ".join(f"{self._joint_names[j]}={float(values[j])!r}" for j in bad)
        hint = ""
        if isinstance(cfg_value, dict) and any(float(values[j]) == 0.0 for j in bad):
            hint = " (joints that no pattern of the dict matches get 0)"
        error = NetworkFileError if what.startswith("metadata") else ActuatorCfgError
        raise error(f"{self.cfg.network_file}: {what} must be {rule} for every joint; got {got}{hint}.")

    def _check_metadata(self, expected: dict) -> None:
        """Compare the file's metadata with cfg values (None entries: don't care); raise naming the file."""
        if self.metadata is not None:
            check_metadata(self.metadata, expected, source=self.cfg.network_file)

    def _file_error(self, message: str) -> NetworkFileError:
        return NetworkFileError(f"{self.cfg.network_file}: {message}")

    def _resolve_physics_dt(self) -> float:
        if self.cfg.physics_dt is not None:
            return float(self.cfg.physics_dt)
        module = sys.modules.get("isaaclab.sim.simulation_context")
        context = module.SimulationContext.instance() if module is not None else None
        if context is None:
            raise ValueError(
                f"{type(self).__name__}: the physics dt is unknown (no SimulationContext is active); "
                "set the cfg field 'physics_dt' [s]."
            )
        return float(context.get_physics_dt())

    def _resolve_rate(self) -> tuple[float, int]:
        """Network dt [s] and the number of physics steps per network step."""
        file_dt = self.metadata.dt if self.metadata is not None else None
        cfg_dt = self.cfg.network_dt
        if file_dt is not None and cfg_dt is not None:
            self._check_metadata({"dt": float(cfg_dt)})
        net_dt = cfg_dt if cfg_dt is not None else file_dt
        if net_dt is None:
            logger.warning(
                "%s: %s has no metadata and the cfg sets no 'network_dt'; the net runs once per physics step "
                "(%.4g s), as Isaac Lab's stock actuator nets do. Set 'network_dt' to the rate it was trained at.",
                type(self).__name__,
                self.cfg.network_file,
                self.physics_dt,
            )
            return self.physics_dt, 1
        ratio = net_dt / self.physics_dt
        steps = round(ratio)
        if steps < 1 or not math.isclose(ratio, steps, rel_tol=_DT_TOLERANCE):
            raise self._file_error(
                f"the net was trained at dt={net_dt} s, which is not a whole multiple of the physics dt "
                f"{self.physics_dt} s; a recurrent/history net cannot run at another rate. Retrain at a multiple of "
                "the physics dt or change sim.dt."
            )
        return float(net_dt), int(steps)

    def _use_fused(self, fused, reference_error: float, scale: float) -> bool:
        """Decide whether to use the fused kernels.

        They must match the module on random inputs (``reference_error`` at output magnitude ``scale``) and, for a
        file that stores examples, its stored outputs on representative training inputs.
        """
        if fused is None:
            logger.info(
                "%s: net structure not recognised for fused kernels; calling the TorchScript module.",
                self.cfg.network_file,
            )
            return False
        examples = None if self.metadata is None else stored_examples(self.metadata, str(self.cfg.network_file))
        if examples is not None:
            from .fused_nets import fused_example_error

            error = fused_example_error(self.network, self.model_type, examples[0], examples[1], self._device)
            if error is None or error > EXAMPLE_TOLERANCE * examples[2]:
                logger.warning(
                    "%s: fused kernels differ from the outputs stored in the file by %s N·m on its representative "
                    "training inputs (tolerance %.3g N·m); calling the TorchScript module instead.",
                    self.cfg.network_file,
                    "an unknown amount" if error is None else f"{error:.3g}",
                    EXAMPLE_TOLERANCE * examples[2],
                )
                return False
        if not _fused_error_ok(reference_error, scale):
            logger.warning(
                "%s: fused kernels differ from the TorchScript module by %.3g N·m on random inputs; "
                "calling the module instead.",
                self.cfg.network_file,
                reference_error,
            )
            return False
        return True

    def _normalization(self, width: int) -> tuple[torch.Tensor | None, torch.Tensor | None, float, float]:
        """Input map, input offset, output scale and output offset undoing the file's normalisation.

        With ``normalization_in_network`` false and statistics present, the net sees ``(x - input_mean) /
        input_std`` and its output ``y`` means ``y * output_std + output_mean``. Returns identity values for files
        without metadata or with the normalisation inside the net.
        """
        meta = self.metadata
        if meta is None or meta.normalization_in_network or not (meta.input_mean or meta.input_std):
            if meta is not None and not meta.normalization_in_network:
                return None, None, float(meta.output_std), float(meta.output_mean)
            return None, None, 1.0, 0.0
        if len(meta.input_mean) != width or len(meta.input_std) != width:
            raise self._file_error(
                f"metadata 'input_mean'/'input_std' have {len(meta.input_mean)}/{len(meta.input_std)} entries; the "
                f"net takes {width} inputs (metadata 'features' {meta.features}, 'input_idx' {meta.input_idx})."
            )
        std = torch.tensor(meta.input_std, dtype=torch.float32)
        if not bool((std > 0).all()):
            raise self._file_error(f"metadata 'input_std' must be positive, got {meta.input_std}.")
        mean = torch.tensor(meta.input_mean, dtype=torch.float32)
        return torch.diag(1.0 / std), -mean / std, float(meta.output_std), float(meta.output_mean)
