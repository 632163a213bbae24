"""Common machinery of the learned actuators: network loading and checks, rate handling, clipping, NaN guard.

The pieces live in single-purpose modules, combined here into :class:`LearnedActuatorBase`:
:mod:`.actuator_checks` (cfg and file checks, rate, normalisation), :mod:`.nonfinite_guard` (the NaN/inf guard),
:mod:`.newton_path` (which Isaac Lab 3.0 execution path an actuator class gets, and the error when it cannot run
there) and :func:`learned_actuators.physics.motor_limits` (the final clip). The names other code imports from this
module (the errors, :data:`NONFINITE_OPTIONS`, :func:`newton_actuators_active`) are re-exported.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from isaaclab.actuators import DCMotor
from isaaclab.utils import index_fill_

from ..network_examples import check_examples
from ..network_file import NetworkFileError, load_network
from ..physics import motor_limits
from .actuator_checks import NONFINITE_OPTIONS, ActuatorCfgError, ActuatorChecks
from .newton_path import LabActuatorPathMeta, NewtonActuatorPathError, newton_actuators_active
from .nonfinite_guard import NonFiniteActuatorError, NonFiniteGuard
from .scale_check import check_network_scale

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


class LearnedActuatorBase(NonFiniteGuard, ActuatorChecks, DCMotor, metaclass=LabActuatorPathMeta):
    """Base of the learned actuators: loads and checks the net, runs it at its own rate, guards and clips.

    Subclasses implement :meth:`compute` (advance the net on the physics steps where :meth:`_advance` says so,
    writing its output in N·m into :attr:`_net_output`, then hand the effort to :meth:`_write_output`) and the
    state hooks (:meth:`_reset_net_state` and the checkpoint/save/restore hooks below). Between net steps the last
    output is held.

    Rate: the net's dt (file metadata, or :attr:`LearnedActuatorBaseCfg.network_dt`) must be a whole multiple
    ``k`` of the physics dt; the net then runs on physics steps ``0, k, 2k, ...`` (counted from construction;
    with ``k`` dividing the env decimation these are the first physics steps of env steps) and its output is
    held in between. A dt that is not a multiple raises a :class:`~learned_actuators.network_file.NetworkFileError`.

    NaN/inf guard (cfg ``nonfinite="guard"``, the default); the applied and computed efforts are always finite:

    * Inputs. A joint (of one env) whose position, velocity or position target (:class:`CombinedGRUAndPDActuator`:
      also the velocity target or the feed-forward effort of the actions, which its PD uses) is NaN/inf on a physics
      step gets **zero effort** on that step (what a motor driver does when it faults; ``tau_phys`` cannot be computed
      from a NaN state either). Its bad values reach nothing: the net, the physics torque and the final clip see finite
      placeholders (zeros) for that joint, and a net step taken on that physics step is *skipped* for it: its recurrent
      state (hidden, cell) or history window is restored to what it was before the step, so the next finite net step
      gives the torque of an actuator that never saw the bad step (exactly so when the net runs every physics step; with
      a slower net the step schedule is shared by all joints). Its held net output is dropped: until the next net step
      it gets the fallback torque (``tau_phys`` for :class:`CombinedGRUAndPDActuator`, zero for the pure nets).
      :attr:`nonfinite_input_count` counts these (env, physics step) events per joint.
    * Net outputs. A non-finite net output (from finite inputs) is replaced by the same fallback torque and the
      recurrent state / history of that joint is zeroed; :attr:`nonfinite_output_count` counts them per joint,
      together with (GRU-PD) non-finite physics torques from a float overflow of finite inputs, which give zero.

    With ``nonfinite="raise"`` each of these raises :class:`NonFiniteActuatorError` instead, naming the quantity
    (position, velocity, target, velocity target, feed-forward effort, net output, effort), the env ids and the
    joint names; a bad input raises before the actuator changes any state.

    Cost: on the CPU one reduction per input and physics step (three; five for the GRU-PD) decides that the inputs are
    finite (one more for the net output on net steps, and for the GRU-PD effort), with no allocation; the masked path
    runs only when something is not finite. On a GPU the masked path always runs (about fifteen element-wise kernels,
    and a copy of the recurrent state per net step) so that no step waits on a device sync, except with
    ``nonfinite="raise"``.
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
        self._load_network()
        self.physics_dt = self._resolve_physics_dt()
        self.network_dt, self.steps_per_network_step = self._resolve_rate()
        self._step_count = 0
        self._checkpoint: tuple | None = None
        """(physics step, state) before the first compute after a reset, in a simulation (see :meth:`reset`)."""
        self._checkpoint_next = False
        self._net_output = self.computed_effort if self.net_output_is_effort else torch.zeros_like(self.computed_effort)
        """Last net output [N·m], shape (num_envs, num_joints); held between net steps."""
        self._scratch = torch.zeros_like(self._net_output)
        self._upper = torch.zeros_like(self._net_output)
        self._lower = torch.zeros_like(self._net_output)
        """Torque-speed limits of a subclass's physics torque (GRU-PD), reused by the final clip when they agree."""
        self._clip_upper = torch.zeros_like(self._net_output)
        self._clip_lower = torch.zeros_like(self._net_output)
        self._vel_bounds = (-self._vel_at_effort_lim, self._vel_at_effort_lim)  # static, as DCMotor's corner velocity
        self._init_guard()
        self.uses_fused_kernels = False
        """Whether the net runs on the fused kernels (False: the TorchScript module is called)."""
        self.randomization = None
        """Per-env randomisation and input delay (:mod:`.randomization`), attached by its event; None: off."""

    def _load_network(self) -> None:
        """Load :attr:`network` and :attr:`metadata`; check the model type, the stored examples and the scale."""
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

    """
    Properties.
    """

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

    def _clip_effort(
        self, effort: torch.Tensor, joint_vel: torch.Tensor, curve: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> torch.Tensor:
        """Clip ``effort`` [N·m] with the motor limits at the current ``joint_vel`` [rad/s].

        Writes :attr:`applied_effort` in place (no allocation) and returns it: the limits of
        :func:`~learned_actuators.physics.motor_limits` for the cfg's ``torque_speed_curve``. ``"dc_motor"`` gives
        the values of Isaac Lab's ``DCMotor._clip_effort`` (to float rounding; its static corner velocity),
        ``"asymmetric"`` those of :func:`~learned_actuators.physics.torque_speed_limits` bounded by
        ``actuator_effort_limit``; ``curve`` passes those torque-speed limits at this ``joint_vel`` when they are
        already computed.
        """
        lower, upper = motor_limits(
            joint_vel,
            self.cfg.torque_speed_curve,
            self._saturation_effort,
            self.actuator_velocity_limit,
            self.actuator_effort_limit,
            corner_velocity=self._vel_bounds,
            torque_speed=curve,
            out=(self._clip_lower, self._clip_upper),
            scratch=self._scratch,
        )
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
