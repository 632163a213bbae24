"""PD + spring physics with an asymmetric torque-speed curve and a stateful GRU residual."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import torch

from isaaclab.actuators import resolve_joint_parameter

from ..learning.features import step_feature
from ..network_file import FEATURES, EnsembleHeads
from ..physics import PhysicsParams, physical_torque
from .actuator_checks import resolve_cfg_joint_values
from .recurrent_actuator import RecurrentActuatorBase

if TYPE_CHECKING:
    from isaaclab.utils.types import ArticulationActions

    from .gru_pd_actuator_cfg import CombinedGRUAndPDActuatorCfg

__all__ = ["CombinedGRUAndPDActuator"]

logger = logging.getLogger(__name__)


class CombinedGRUAndPDActuator(RecurrentActuatorBase):
    r"""Analytic PD + spring model plus a GRU that learns what it misses.

    .. math::

        \tau_{pd} &= k_p (q^* - q) + k_d (\dot q^* - \dot q) + \tau_{ff} \\
        \tau_{phys} &= \mathrm{sat}_{tsc}(\tau_{pd}, \dot q) + k_{spring} (q - \theta_0)
            - \tau_c \tanh(\dot q / v_c) \\
        \tau &= \mathrm{clip}_{\dot q}\big(\tau_{phys} + r\big) \ \text{(residual)} \quad \text{or} \quad
                \mathrm{clip}_{\dot q}(r) \ \text{(direct)}

    with the whole low-level command of Isaac Lab's articulation actions, as its ``IdealPDActuator`` takes it: the
    position target :math:`q^*` (``joint_positions``), the velocity target :math:`\dot q^*` (``joint_velocities``,
    zero by default) and the feed-forward torque :math:`\tau_{ff}` (``joint_efforts``, the effort target, zero by
    default; read before this actuator's output replaces it), each zero when the actions leave it None;
    :math:`\mathrm{sat}_{tsc}` the asymmetric torque-speed curve of :mod:`learned_actuators.physics`
    (optional), :math:`\tau_c` an optional Coulomb friction (:attr:`coulomb_friction`: 0 unless the file or the cfg's
    ``coulomb_friction`` sets it; the cfg's ``friction`` is Isaac Lab's joint friction in the solver, not this term)
    whose bound grows by :attr:`friction_load` times the saturated PD torque's magnitude (0 unless set),
    :math:`r = \sigma_y\, \mathrm{GRU}((x - \mu_x) / \sigma_x) + \mu_y` the denormalised GRU output
    and :math:`\mathrm{clip}_{\dot q}` the motor limits at the current velocity (``torque_speed_curve``).
    The GRU input ``x`` holds the file's ``features`` in order (default ``["q", "q_target", "qd"]``: joint
    angle [rad], target angle [rad], velocity [rad/s]; also ``pos_error``, ``tau_pd`` (unsaturated
    :math:`\tau_{pd}` [N·m]), ``tau_phys`` (:math:`\tau_{phys}` of the step [N·m]), ``kp``, ``kd``, ``qd_target``
    (:math:`\dot q^*` [rad/s]) and ``tau_ff`` (:math:`\tau_{ff}` [N·m])). One GRU step per net step (``dt`` from
    the file); :math:`r` is held between net steps while :math:`\tau_{phys}` is recomputed every physics step.

    NaN/inf guard (see :class:`~learned_actuators.actuators.LearnedActuatorBase`): a joint whose position, velocity or
    target (position, velocity or feed-forward effort) is non-finite gets zero torque on that step and its GRU state is
    left as it was (the step is skipped for it; counted in :attr:`nonfinite_input_count`); a non-finite GRU output falls
    back to :math:`\tau_{phys}` for that joint (its GRU state is zeroed; counted in :attr:`nonfinite_output_count`), as
    does a joint whose held output was dropped for a bad input, until the next GRU step; a torque that overflows from
    finite inputs gives zero (also counted).
    State: :attr:`hidden_state` ``(layers, num_envs*num_joints, hidden)``,
    per-env view :attr:`hidden_state_per_env`; :meth:`reset` zeroes exactly the given envs.

    Execution: with ``sim.use_newton_actuators=True`` (Isaac Lab 3's default) the cfg's joints run the same model
    natively in Newton as :class:`~learned_actuators.newton_drives.DriveGRUPD` and this class is only built once to
    resolve and check the cfg (:mod:`learned_actuators.actuators.isaaclab_native`); with ``False`` this class
    computes the torques on Isaac Lab's Python actuator path (same torques).
    """

    cfg: CombinedGRUAndPDActuatorCfg
    model_type = "gru_pd"
    rnn_kind = "gru"
    newton_native_drive = True
    """Runs natively in Newton as :class:`~learned_actuators.newton_drives.DriveGRUPD` (this class only; not
    inherited by subclasses, which may change the model)."""

    def __init__(self, cfg: CombinedGRUAndPDActuatorCfg, *args, **kwargs):
        super().__init__(cfg, *args, **kwargs)
        meta = self.metadata
        if meta is None:
            raise self._file_error(
                "CombinedGRUAndPDActuator needs a network file with metadata (features, normalisation, mode, dt); "
                "export it with learned_actuators.network_file.save_network."
            )
        self._check_metadata({"features": self.cfg.features, "mode": self.cfg.mode})
        if meta.mode not in ("residual", "direct"):
            raise self._file_error(f"metadata 'mode' is {meta.mode!r}; expected 'residual' or 'direct'.")
        if not meta.features:
            raise self._file_error(f"metadata 'features' is empty; expected a list from {FEATURES}.")
        self.mode = meta.mode
        self.features = list(meta.features)
        self._resolve_physics(self._trained_physics())
        self._init_recurrent(len(self.features), *self._normalization(len(self.features)))
        self.physical_effort = torch.zeros(self._num_envs, self.num_joints, device=self._device)
        """``tau_phys`` [N·m] of the last step, shape (num_envs, num_joints)."""
        self._error = torch.zeros_like(self.physical_effort)
        self._effort_bad = torch.zeros_like(self._nonfinite)
        self._init_ensemble()

    def compute(
        self, control_action: ArticulationActions, joint_pos: torch.Tensor, joint_vel: torch.Tensor
    ) -> ArticulationActions:
        """Effort command [N·m] from the targets (position, velocity, feed-forward effort) and the joint state.

        All tensors are (num_envs, num_joints); ``control_action.joint_velocities`` and ``joint_efforts`` are the
        velocity target [rad/s] and the feed-forward torque [N·m] (None: zero), read before the output replaces them.
        """
        command = (control_action.joint_velocities, control_action.joint_efforts)
        q, qd, q_target, qd_target, tau_ff = self._guard_inputs(
            joint_pos, joint_vel, control_action.joint_positions, *command
        )
        curve = self._physical_torque(q, qd, q_target, qd_target, tau_ff)
        if self._advance():
            self._write_features(q, qd, q_target, qd_target, tau_ff)
            self._begin_net_step()
            self._step(self._input, self._net_output.view(1, -1))
            if self.ensemble_std is not None:
                self._ensemble_spread()
                if self.randomization is not None and self.randomization.member is not None:
                    self._sampled_member_output()
            self._end_net_step()
        self._drop_bad_outputs()
        if self.mode == "residual":  # non-finite residuals were zeroed: tau = tau_phys there
            torch.add(self.physical_effort, self._net_output, out=self.computed_effort)
        elif self._nonfinite_flagged:
            torch.where(self._nonfinite, self.physical_effort, self._net_output, out=self.computed_effort)
        else:
            self.computed_effort.copy_(self._net_output)
        self._guard_effort()
        return self._write_output(control_action, qd, curve)

    def _init_ensemble(self) -> None:
        """The member heads of an ensemble file (buffers ``member_head_weight``/``member_head_bias``), if any."""
        weight = getattr(self.network, "member_head_weight", None)
        self.ensemble_members = 0
        """Members of an ensemble file (0: a single model)."""
        self.ensemble_std = None
        """Ensemble files only: the spread [N·m] of the net output of the last net step, shape (num_envs, num_joints):
        the members' standard deviation with the file's label-noise term ``member_noise_std`` in quadrature (the
        file's GRU is the members' block-diagonal GRU and its head their mean; see
        :mod:`learned_actuators.learning.ensemble`); None for a single model."""
        if weight is None:
            return
        weight = weight.detach().to(self._device, torch.float32)
        bias = self.network.member_head_bias.detach().to(self._device, torch.float32)
        if weight.shape != (bias.numel(), self.hidden_size) or bias.numel() < 2:
            raise self._file_error(
                f"buffers 'member_head_weight' {tuple(weight.shape)} / 'member_head_bias' {tuple(bias.shape)} do not "
                f"fit the GRU's hidden size {self.hidden_size}; expected (K, {self.hidden_size}) and (K,), K >= 2."
            )
        noise = getattr(self.network, "member_noise_std", None)
        noise = 0.0 if noise is None else float(noise.reshape(-1)[0])
        rows = self._num_envs * self.num_joints
        self._member_heads = EnsembleHeads(weight, bias, noise, self._out_scale, self._out_offset, rows, self._device)
        self.ensemble_members = self._member_heads.members
        self.ensemble_std = torch.zeros(self._num_envs, self.num_joints, device=self._device)

    def _ensemble_spread(self) -> None:
        """:attr:`ensemble_std` from the members' heads on the last layer's hidden state (in place)."""
        self._member_heads.update(self.hidden_state[-1], self.ensemble_std.view(-1))

    def _sampled_member_output(self) -> None:
        """Each slot's net output from its drawn member (:attr:`ActuatorRandomizationCfg.ensemble_member`)."""
        self._member_heads.sample(self.randomization.member, self._net_output)

    def _guard_effort(self) -> None:
        """Zero (and count as non-finite outputs) efforts that overflowed to NaN/inf from finite inputs.

        ``tau_phys`` is a sum of products of the inputs, which float32 can overflow (``|q| ~ 1e38``); every
        other term is finite by construction. One reduction on the CPU; the masked path always runs on a GPU.
        """
        effort = self.computed_effort
        if self._host_checks:
            torch.sum(effort.view(-1), dim=0, out=self._output_sum)
            if math.isfinite(float(self._output_sum)):
                return
        bad = self._finite_into(effort, self._effort_bad).logical_not_()
        if self.cfg.nonfinite == "raise" and bool(bad.any()):
            raise self._nonfinite_error({"effort": effort})
        torch.sum(bad, dim=0, out=self._nonfinite_per_joint)
        self._nonfinite_count.add_(self._nonfinite_per_joint)
        effort.masked_fill_(bad, 0.0)

    def _physical_torque(
        self,
        q: torch.Tensor,
        qd: torch.Tensor,
        q_target: torch.Tensor,
        qd_target: torch.Tensor | None = None,
        tau_ff: torch.Tensor | None = None,
    ):
        """``tau_phys`` [N·m] into :attr:`physical_effort`: :func:`~learned_actuators.physics.physical_torque` in place.

        ``qd_target`` [rad/s] and ``tau_ff`` [N·m] are the command's velocity target and feed-forward torque (None:
        zero).

        Returns the torque-speed limits at ``qd`` when the PD saturation computed them with the motor's curve (None
        otherwise), for the final clip to reuse.
        """
        curve = self.pd_torque_speed_curve
        physical_torque(
            q,
            qd,
            q_target,
            self.stiffness,
            self.damping,
            self.spring_stiffness,
            self.spring_rest_angle,
            self.pd_stall_torque if curve else None,
            self.pd_no_load_speed if curve else None,
            self.coulomb_friction if self._has_coulomb_friction else 0.0,
            self.friction_velocity,
            out=self.physical_effort,
            scratch=self._error,
            limits=(self._lower, self._upper),
            qd_target=qd_target,
            tau_ff=tau_ff,
            friction_load=self.friction_load if self._has_friction_load else 0.0,
        )
        return (self._lower, self._upper) if curve and self._pd_curve_is_motor_curve else None

    def _write_features(
        self,
        q: torch.Tensor,
        qd: torch.Tensor,
        q_target: torch.Tensor,
        qd_target: torch.Tensor | None = None,
        tau_ff: torch.Tensor | None = None,
    ) -> None:
        """The net's per-step inputs, in place (:func:`~learned_actuators.learning.features.step_feature`)."""
        shape = (self._num_envs, self.num_joints)
        gains, command = (self.stiffness, self.damping), {"qd_target": qd_target, "tau_ff": tau_ff}
        for row, name in zip(self._input, self.features, strict=True):
            step_feature(name, q, qd, q_target, *gains, self.physical_effort, out=row.view(shape), **command)

    def _trained_physics(self) -> PhysicsParams:
        """The file's ``physics`` record (training values), checked: known keys, numbers (or None for the curve)."""
        physics = self.metadata.physics
        if not isinstance(physics, dict):
            raise self._file_error(f"metadata 'physics' must be a dict of PhysicsParams fields; got {physics!r}.")
        try:
            trained = PhysicsParams.from_dict(physics) if physics else PhysicsParams()
        except (TypeError, ValueError) as err:
            raise self._file_error(f"metadata 'physics' is not a PhysicsParams record: {err}") from err
        for key, value in trained.to_dict().items():
            optional = key in ("stall_torque", "no_load_speed")
            if optional and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise self._file_error(f"metadata 'physics.{key}' must be a finite number; got {value!r}.")
        return trained

    def _check_physics(self) -> None:
        """Check the resolved gains, spring, friction and PD curve per joint (cfg value, else the file's)."""
        rules = (
            ("stiffness", "kp", self.stiffness, "non-negative and finite"),
            ("damping", "kd", self.damping, "non-negative and finite"),
            ("spring_stiffness", "k_spring", self.spring_stiffness, "finite"),
            ("spring_rest_angle", "theta0", self.spring_rest_angle, "finite"),
            ("coulomb_friction", "friction", self.coulomb_friction, "non-negative and finite"),
            ("friction_load", "friction_load", self.friction_load, "non-negative and finite"),
            ("pd_stall_torque", "stall_torque", self.pd_stall_torque, "positive and finite"),
            ("pd_no_load_speed", "no_load_speed", self.pd_no_load_speed, "positive (inf: no speed limit)"),
        )
        for cfg_name, file_key, values, rule in rules:
            cfg_value = getattr(self.cfg, cfg_name)
            what = f"cfg field '{cfg_name}'" if cfg_value is not None else f"metadata 'physics.{file_key}'"
            self._check_joint_values(what, values[0], rule, cfg_value)
        has_friction = self._has_coulomb_friction or self._has_friction_load
        if has_friction and not (math.isfinite(self.friction_velocity) and self.friction_velocity > 0):
            raise self._file_error(
                f"metadata 'physics.friction_velocity' must be positive and finite; got {self.friction_velocity!r}."
            )

    def _check_solver_friction(self) -> None:
        """Check the cfg's ``friction`` and warn when it adds solver friction to a Coulomb term of ours.

        ``friction`` is Isaac Lab's joint friction, which Isaac Lab writes into the solver; this class does not use
        it (it used to mean :attr:`coulomb_friction` here).
        """
        if self.cfg.friction is None:
            return
        solver = resolve_cfg_joint_values(self.cfg.network_file, "friction", self.cfg.friction, self._joint_names)
        self._check_joint_values("cfg field 'friction'", solver, "non-negative and finite", self.cfg.friction)
        if self._has_coulomb_friction and bool((solver != 0).any()):
            logger.warning(
                "%s: cfg 'friction' (%s) is Isaac Lab's joint friction, applied by the solver on top of this "
                "actuator's Coulomb friction (%s N·m, cfg 'coulomb_friction' else the file's physics.friction); "
                "set 'coulomb_friction' to change the actuator's term, 'friction' only for extra solver friction.",
                self.cfg.network_file,
                self.cfg.friction,
                self.coulomb_friction[0].tolist(),
            )

    def _resolve_physics(self, trained: PhysicsParams) -> None:
        """Per-joint gains, spring and curve switch: cfg values, else the training values from the file."""
        for name in (
            "spring_stiffness",
            "spring_rest_angle",
            "coulomb_friction",
            "friction_load",
            "pd_stall_torque",
            "pd_no_load_speed",
        ):
            if getattr(self.cfg, name) is not None:  # errors name the field, not Isaac Lab's resolver
                resolve_cfg_joint_values(self.cfg.network_file, name, getattr(self.cfg, name), self._joint_names)
        names, n = self._joint_names, self._num_envs
        for attr, cfg_name, file_value in (("stiffness", "stiffness", trained.kp), ("damping", "damping", trained.kd)):
            if getattr(self.cfg, cfg_name) is None:
                getattr(self, attr)[:] = file_value
            elif cfg_name == "stiffness" and "kp" in self.features:
                pass  # the net takes kp as an input: it was trained across gains, any gain is in scope
            elif not torch.allclose(getattr(self, attr), torch.full_like(getattr(self, attr), file_value)):
                logger.warning(
                    "%s: cfg %s differs from the training value %s in the file; the GRU residual was learned at the "
                    "training gains.",
                    self.cfg.network_file,
                    cfg_name,
                    file_value,
                )
        self.spring_stiffness = resolve_joint_parameter(
            self.cfg.spring_stiffness, trained.k_spring, names, n, self._device
        )
        self.spring_rest_angle = resolve_joint_parameter(
            self.cfg.spring_rest_angle, trained.theta0, names, n, self._device
        )
        # Not ``self.friction``: ``friction`` is Isaac Lab's joint friction, which its actuator collection resolves
        # from ``cfg.friction`` and writes into the solver; this term is part of our torque and must not go there.
        self.coulomb_friction = resolve_joint_parameter(
            self.cfg.coulomb_friction, trained.friction, names, n, self._device
        )
        """Coulomb friction torque [N·m] of the physics part, shape (num_envs, num_joints)."""
        self.friction_velocity = float(trained.friction_velocity)
        """Velocity [rad/s] over which the Coulomb friction changes sign."""
        self._has_coulomb_friction = bool((self.coulomb_friction != 0).any())
        self.friction_load = resolve_joint_parameter(
            self.cfg.friction_load, trained.friction_load, names, n, self._device
        )
        """Load-dependent Coulomb friction [-] (bound ``coulomb_friction + friction_load·|PD torque|``), shape
        (num_envs, num_joints)."""
        self._has_friction_load = bool((self.friction_load != 0).any())
        use_curve = self.cfg.pd_torque_speed_curve
        self.pd_torque_speed_curve = trained.uses_torque_speed_curve if use_curve is None else bool(use_curve)
        # The PD saturation curve is part of the model (trained values); the final clip uses the motor limits.
        self.pd_stall_torque = self._saturation_effort
        """Stall torque [N·m] of the PD saturation curve, shape (num_envs, num_joints)."""
        self.pd_no_load_speed = self.actuator_velocity_limit
        """No-load speed [rad/s] of the PD saturation curve, shape (num_envs, num_joints)."""
        self._pd_curve_is_motor_curve = True
        for attr, cfg_value, file_value in (
            ("pd_stall_torque", self.cfg.pd_stall_torque, trained.stall_torque),
            ("pd_no_load_speed", self.cfg.pd_no_load_speed, trained.no_load_speed),
        ):
            if cfg_value is not None or file_value is not None:
                default = getattr(self, attr) if file_value is None else float(file_value)
                setattr(self, attr, resolve_joint_parameter(cfg_value, default, names, n, self._device))
                self._pd_curve_is_motor_curve = False
        self._check_physics()
        self._check_solver_friction()
