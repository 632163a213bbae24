"""MLP actuator net with a per-env history that advances at the net's own rate."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

import torch

from isaaclab.utils import index_fill_

from .actuator_checks import CHECK_CHUNK, CHECK_ROWS, ActuatorCfgError, fused_error_ok
from .fused_nets import FusedMLP, max_abs_error
from .learned_actuator import LearnedActuatorBase

if TYPE_CHECKING:
    from isaaclab.utils.types import ArticulationActions

    from .mlp_actuator_cfg import MLPActuatorNetCfg

__all__ = ["AUTO_COMPILE_ROWS", "MLPActuatorNet"]

logger = logging.getLogger(__name__)

AUTO_COMPILE_ROWS = 16384
"""Batch rows (``num_envs * num_joints``) from which ``compile=None`` compiles the fused net on CPU. Below it the
one-off compile time (tens of seconds) outweighs the saving (about 20 % of a forward that takes under 1 ms)."""


class MLPActuatorNet(LearnedActuatorBase):
    r"""MLP actuator net :cite:`hwangbo2019learning` with a history of position errors and velocities.

    .. math::

        \tau = s_\tau \, f\big(s_q e_{t-i_0}, \dots, s_q e_{t-i_n}, s_v \dot q_{t-i_0}, \dots\big), \qquad
        e = q^* - q

    (``input_order="pos_vel"``; ``"vel_pos"`` swaps the halves), with ``i`` = ``input_idx`` counted in net
    steps. Same inputs, scales and DC-motor clip as Isaac Lab's ``ActuatorNetMLP``, so an equivalent cfg gives
    the same torques, but the history is a preallocated ring buffer (no ``roll``, no ``cat``) that advances once
    per net step, the net runs at its trained rate, and the result is clipped at the current velocity. NaN/inf
    guard: see :class:`~learned_actuators.actuators.LearnedActuatorBase`; a joint with a non-finite input gets zero
    torque and its history does not advance on that step (the bad sample never enters it).

    History: :attr:`joint_pos_error_history` and :attr:`joint_vel_history`, views of shape
    ``(num_envs, history_length, num_joints)``, slot 0 the latest; zeroed per env by :meth:`reset`.

    Execution: with ``sim.use_newton_actuators=True`` (Isaac Lab 3's default) the cfg's joints run this class
    inside Newton's actuator step as the drive :class:`~learned_actuators.newton_drives.DriveMLP` (same torques);
    with False, on Isaac Lab's Python actuator path.
    """

    cfg: MLPActuatorNetCfg
    model_type = "mlp"
    newton_native_drive = True
    net_output_is_effort = True

    def __init__(self, cfg: MLPActuatorNetCfg, *args, **kwargs):
        super().__init__(cfg, *args, **kwargs)
        self._resolve_conventions()
        length = max(self.input_idx) + 1
        self.history_length = length
        rows = self._num_envs * self.num_joints
        # Doubled ring buffer: slot s is written at s and s + length, so the latest `length` slots are always the
        # contiguous block [head, head + length) ordered newest first. Row 0: q* - q [rad], row 1: qd [rad/s].
        self._history = torch.zeros(2 * length, 2, rows, device=self._device)
        self._head = 0
        input_map, input_offset, out_scale, out_offset = self._input_output_maps(length)
        self._input_map = input_map.to(self._device)
        self._input_offset = None if input_offset is None else input_offset.to(self._device)
        self._out_scale = out_scale * self.torque_scale
        self._out_offset = out_offset * self.torque_scale
        self._fused = None
        if self.cfg.fused:
            fused = FusedMLP.from_module(
                self.network,
                rows,
                self._device,
                input_map=input_map,
                input_offset=input_offset,
                output_scale=self._out_scale,
                output_offset=self._out_offset,
            )
            error, scale = self._compare_fused(fused, length) if fused is not None else (0.0, 1.0)
            self._fused = fused if self._use_fused(fused, error, scale) else None
        self.uses_fused_kernels = self._fused is not None
        if self.cfg.compile:
            self._compile_fused(length)
        elif (
            self.cfg.compile is None
            and self._fused is not None
            and torch.device(self._device).type == "cpu"
            and (rows >= AUTO_COMPILE_ROWS)
        ):
            try:
                self._compile_fused(length)
            except RuntimeError as exc:
                logger.warning("%s Running the eager fused kernels.", exc)
        self.uses_compiled_kernels = self._fused is not None and self._fused.compiled

    """
    Properties.
    """

    @property
    def joint_pos_error_history(self) -> torch.Tensor:
        """Position errors ``q* - q`` [rad], newest first. View of shape (num_envs, history_length, num_joints)."""
        return self._window()[:, 0].view(self.history_length, self._num_envs, self.num_joints).permute(1, 0, 2)

    @property
    def joint_vel_history(self) -> torch.Tensor:
        """Joint velocities [rad/s], newest first. View of shape (num_envs, history_length, num_joints)."""
        return self._window()[:, 1].view(self.history_length, self._num_envs, self.num_joints).permute(1, 0, 2)

    """
    Operations.
    """

    def compute(
        self, control_action: ArticulationActions, joint_pos: torch.Tensor, joint_vel: torch.Tensor
    ) -> ArticulationActions:
        """Effort command [N·m] from the position targets and joint state (all (num_envs, num_joints))."""
        q, qd, q_target = self._guard_inputs(joint_pos, joint_vel, control_action.joint_positions)
        if self._advance():
            length = self.history_length
            self._begin_net_step()
            self._head = (self._head - 1) % length
            slot = self._history[self._head]
            shape = (self._num_envs, self.num_joints)
            torch.sub(q_target, q, out=slot[0].view(shape))
            slot[1].view(shape).copy_(qd)
            self._history[self._head + length].copy_(slot)
            self._forward(self._window().view(2 * length, -1), self._net_output.view(1, -1))
            self._end_net_step()
        self._drop_bad_outputs()
        return self._write_output(control_action, qd)

    def _reset_net_state(self, env_ids) -> None:
        per_env = self._history.view(2 * self.history_length, 2, self._num_envs, self.num_joints)
        index_fill_(per_env, env_ids, 0.0, dim=2)

    def _clear_state_where(self, mask: torch.Tensor) -> None:
        self._history.masked_fill_(mask.view(1, 1, -1), 0.0)

    def _net_state_checkpoint(self):
        return self._head, self._history.clone()

    def _restore_net_state_checkpoint(self, saved) -> None:
        self._head = saved[0]
        self._history.copy_(saved[1])

    def _save_state(self) -> None:
        """Keep the history window before the ring advances (a step with bad inputs)."""
        backup = getattr(self, "_window_backup", None)
        if backup is None:  # allocated on the first step with a bad input only
            backup = self._window_backup = torch.empty_like(self._window())
        backup.copy_(self._window())

    def _restore_state_where(self, mask: torch.Tensor) -> None:
        """Give the joints where ``mask`` their window of before the step: their history does not advance."""
        length, head = self.history_length, self._head
        window = self._window()
        torch.where(mask.view(1, 1, -1), self._window_backup, window, out=window)
        # keep the doubled ring consistent: slot s and s + length hold the same sample
        self._history[head + length : 2 * length].copy_(self._history[head:length])
        self._history[:head].copy_(self._history[length : length + head])

    """
    Internals.
    """

    def _window(self) -> torch.Tensor:
        return self._history[self._head : self._head + self.history_length]

    def _forward(self, window: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Net output [N·m] for a history window (2 * history_length, batch) into ``out`` (1, batch)."""
        if self._fused is not None:
            return self._fused(window, out)
        x = self._input_map @ window
        if self._input_offset is not None:
            x += self._input_offset[:, None]
        with torch.inference_mode():
            y = self.network(x.t().contiguous())
        torch.add(y.reshape(1, -1) * self._out_scale, self._out_offset, out=out)
        return out

    def _compare_fused(self, fused: FusedMLP, length: int) -> tuple[float, float]:
        generator = torch.Generator(device="cpu").manual_seed(0)
        rows = CHECK_ROWS
        window = torch.randn(2 * length, rows, generator=generator).to(self._device)
        saved, self._fused = self._fused, None
        reference = self._forward(window, torch.empty(1, rows, device=self._device)).clone()
        self._fused = saved
        small = FusedMLP.from_module(  # several chunks and a partial one, so the chunking is checked too
            self.network,
            rows,
            self._device,
            chunk=CHECK_CHUNK,
            input_map=self._input_map.cpu(),
            input_offset=None if self._input_offset is None else self._input_offset.cpu(),
            output_scale=self._out_scale,
            output_offset=self._out_offset,
        )
        error = max_abs_error(lambda: small(window, torch.empty(1, rows, device=self._device)), lambda: reference)
        return error, float(reference.abs().max())

    def _compile_fused(self, length: int) -> None:
        """Switch the fused net to its ``torch.compile``-d form, compiled now on the real batch and checked."""
        if self._fused is None:
            raise ActuatorCfgError(
                f"{self.cfg.network_file}: cfg field 'compile' = True needs the fused kernels, which are off or do "
                "not apply to this net (see the log); set compile=False."
            )
        generator = torch.Generator(device="cpu").manual_seed(1)
        window = torch.randn(2 * length, self._fused.batch, generator=generator).to(self._device)
        out = torch.empty(1, self._fused.batch, device=self._device)
        reference = self._fused(window, out).clone()
        self._fused.compile()
        try:
            error = max_abs_error(lambda: self._fused(window, out), lambda: reference)
        except Exception as exc:  # the backend's own errors: no C++ compiler, unsupported device, ...
            self._fused.uncompile()
            raise RuntimeError(
                f"{self.cfg.network_file}: compile=True but torch.compile failed ({type(exc).__name__}: {exc}). "
                "On CPU it needs a working C++ compiler (g++); set compile=False to run the eager fused kernels."
            ) from exc
        if not fused_error_ok(error, float(reference.abs().max())):
            self._fused.uncompile()
            raise RuntimeError(
                f"{self.cfg.network_file}: the compiled net differs from the eager fused net by {error:.3g} N·m on "
                "random inputs; set compile=False."
            )

    def _resolve_conventions(self) -> None:
        """Fill the input conventions from cfg and metadata; raise if they are invalid, disagree or are missing."""
        meta, cfg = self.metadata, self.cfg
        from_file = {}
        if meta is not None:
            from_file = {
                "pos_scale": float(meta.pos_error_sign * meta.pos_scale),
                "vel_scale": float(meta.vel_scale),
                "torque_scale": float(meta.torque_scale),
                "input_order": meta.input_order,
                "input_idx": list(meta.input_idx),
            }
            if list(meta.features) not in ([], ["pos_error", "qd"]):
                raise self._file_error(f"metadata 'features' is {meta.features}; MLP nets take ['pos_error', 'qd'].")
        for name in ("pos_scale", "vel_scale", "torque_scale", "input_order", "input_idx"):
            value = getattr(cfg, name)
            if value is None:
                value = from_file.get(name)
                if value is None or value == []:
                    missing = "no metadata" if meta is None else f"metadata '{name}' is empty"
                    raise self._file_error(
                        f"{missing}; set the cfg field '{name}' (Isaac Lab's ActuatorNetMLPCfg meaning)."
                    )
                self._check_convention(f"metadata '{name}'", name, value)
                setattr(self, name, value)
                continue
            if name == "input_idx" and isinstance(value, Iterable) and not isinstance(value, str):
                value = list(value)
            self._check_convention(f"cfg field '{name}'", name, value)
            if name in from_file:
                file_value = from_file[name]
                same = (
                    (abs(float(value) - file_value) <= 1e-6 * max(1.0, abs(file_value)))
                    if isinstance(file_value, float)
                    else value == file_value
                )
                if not same:
                    raise self._file_error(f"metadata gives {name}={file_value!r} but the cfg sets {value!r}.")
            setattr(self, name, value)

    def _check_convention(self, what: str, name: str, value) -> None:
        """Raise :class:`ActuatorCfgError` naming the file and ``what`` when ``value`` is not valid for ``name``."""
        if name == "input_order":
            ok, expected = value in ("pos_vel", "vel_pos"), "'pos_vel' or 'vel_pos'"
        elif name == "input_idx":
            ok = (
                isinstance(value, list)
                and bool(value)
                and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in value)
            )
            expected = "a non-empty list of non-negative history slots (ints)"
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value != 0
            expected = "a finite, non-zero number"
        if not ok:
            raise ActuatorCfgError(f"{self.cfg.network_file}: {what} must be {expected}; got {value!r}.")

    def _input_output_maps(self, length: int):
        """Map from the history window (2 * length rows) to the net input, and the output affine map."""
        n = len(self.input_idx)
        width = 2 * n
        input_map = torch.zeros(width, 2 * length)
        pos_first = self.input_order == "pos_vel"
        for j, lag in enumerate(self.input_idx):
            input_map[j if pos_first else n + j, 2 * lag] = self.pos_scale
            input_map[n + j if pos_first else j, 2 * lag + 1] = self.vel_scale
        norm_map, norm_offset, out_scale, out_offset = self._normalization(width)
        if norm_map is not None:
            input_map = norm_map @ input_map
        return input_map, norm_offset, out_scale, out_offset
