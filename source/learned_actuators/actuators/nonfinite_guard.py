"""NaN/inf guard of the learned actuators: non-finite inputs, net outputs and efforts never reach the solver.

:class:`NonFiniteGuard` is a mixin of :class:`~learned_actuators.actuators.LearnedActuatorBase`; the behaviour is
described there (cfg ``nonfinite``: ``"guard"`` or ``"raise"``).
"""

from __future__ import annotations

import math

import torch

__all__ = ["NonFiniteActuatorError", "NonFiniteGuard"]

_MAX_LISTED_ENVS = 10
"""Most env ids a :class:`NonFiniteActuatorError` lists."""

_INPUT_NAMES = ("position", "velocity", "target", "velocity target", "feed-forward effort")
"""The per-joint inputs :meth:`NonFiniteGuard._guard_inputs` checks, in its argument order (the last two: the
command's target velocity [rad/s] and feed-forward torque [N·m], given by the actuators whose model uses them)."""


class NonFiniteActuatorError(FloatingPointError):
    """A joint position, velocity, target, net output or effort was NaN/inf with ``nonfinite="raise"``.

    Targets: the position target, and for the actuators that use them the velocity target and feed-forward effort.
    The message names the actuator class, its network file, the quantity, the env ids and the joint names.
    """


class NonFiniteGuard:
    """Mixin: the guard's buffers and counters, the input, output and effort guards and the ``"raise"`` error.

    Uses the actuator's ``cfg``, ``computed_effort``, ``_net_output``, ``_scratch`` (a float buffer of the effort's
    shape), ``randomization``, ``_joint_names`` and its state hooks (``_save_state``, ``_restore_state_where``,
    ``_clear_state_where``).
    """

    def _init_guard(self) -> None:
        """Allocate the guard's buffers and counters (after ``computed_effort`` exists)."""
        like = self.computed_effort
        self._nonfinite = torch.zeros(like.shape, dtype=torch.bool, device=like.device)
        self._nonfinite_flagged = False
        """Whether :attr:`_nonfinite` may hold True entries (CPU fast path: it is all False otherwise)."""
        self._output_sum = torch.zeros((), device=like.device)
        self._nonfinite_count = torch.zeros(like.shape[1], dtype=torch.long, device=like.device)
        self._nonfinite_per_joint = torch.zeros_like(self._nonfinite_count)
        self._host_checks = like.device.type == "cpu"
        """Whether host-side reductions decide the guards (CPU: free reads); else the masked paths always run."""
        self._bad_input = torch.zeros_like(self._nonfinite)
        """Joints with a non-finite input (:data:`_INPUT_NAMES`) on this physics step (valid when flagged)."""
        self._bad_flagged = False
        """Whether :attr:`_bad_input` may hold True entries on this step (always True without host checks)."""
        self._finite_tmp = torch.zeros_like(self._nonfinite)
        self._input_sums = torch.zeros(len(_INPUT_NAMES), device=like.device)
        self._safe_inputs = tuple(torch.zeros_like(like) for _ in _INPUT_NAMES)
        """The inputs (:data:`_INPUT_NAMES`) with the bad joints' entries replaced by zeros (used when flagged)."""
        self._zero = torch.zeros((), device=like.device)
        self._nonfinite_input_count = torch.zeros_like(self._nonfinite_count)

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
        """Number of (env, physics step) pairs with a NaN/inf position, velocity or target, per joint (num_joints,).

        Targets: the position target, and for the actuators that use them the velocity target and feed-forward effort.
        """
        return self._nonfinite_input_count

    @property
    def num_nonfinite_inputs(self) -> int:
        """Total number of (env, joint, physics step) triples given zero effort for a non-finite input."""
        return int(self._nonfinite_input_count.sum())

    def _guard_inputs(
        self, q: torch.Tensor, qd: torch.Tensor, q_target: torch.Tensor, *command: torch.Tensor | None
    ) -> tuple[torch.Tensor | None, ...]:
        """Position, velocity, target and ``command`` to use on this step, with the joints that have a NaN/inf zeroed.

        ``command`` holds the further per-joint inputs of a model that uses them: the target velocity [rad/s] and the
        feed-forward torque [N·m] of the articulation's actions (None entries are absent: not checked, returned as
        None). The given tensors when all are finite, else copies with zeros for every joint that has a non-finite
        entry in any of them (flagged in :attr:`_bad_input`); a non-finite command entry thus gives the joint zero
        effort as a bad position target does.

        On the CPU one reduction per input decides (a sum is finite when every entry is; a finite overflow merely
        takes the exact path); no allocation. Raises :class:`NonFiniteActuatorError` with ``nonfinite="raise"``.
        """
        self._sync_physics_step()
        if self.randomization is not None:  # the delayed command (itself when the delay is off)
            if command:
                q_target, *command = self.randomization.delayed_targets(q_target, *command)
            else:
                q_target = self.randomization.delayed_targets(q_target)
        inputs = (q, qd, q_target, *command)
        if len(inputs) > len(_INPUT_NAMES):
            raise TypeError(f"_guard_inputs takes at most {len(_INPUT_NAMES)} inputs ({_INPUT_NAMES}).")
        if self._host_checks:
            sums = self._input_sums
            for k, value in enumerate(inputs):
                if value is not None:
                    torch.sum(value, dim=(0, 1), out=sums[k])
                else:
                    sums[k].zero_()
            if math.isfinite(sum(sums[: len(inputs)].tolist())):
                self._bad_flagged = False
                return inputs
        bad, tmp = self._bad_input, self._finite_tmp
        self._finite_into(q, bad)
        for value in inputs[1:]:
            if value is not None:
                self._finite_into(value, tmp)
                bad.logical_and_(tmp)
        bad.logical_not_()
        if self._host_checks or self.cfg.nonfinite == "raise":
            if not bool(bad.any()):  # CPU: a finite sum overflowed; GPU: the sync that "raise" costs
                self._bad_flagged = False
                return inputs
            if self.cfg.nonfinite == "raise":
                named = zip(_INPUT_NAMES, inputs, strict=False)
                raise self._nonfinite_error({name: value for name, value in named if value is not None})
        torch.sum(bad, dim=0, out=self._nonfinite_per_joint)
        self._nonfinite_input_count.add_(self._nonfinite_per_joint)
        for value, safe in zip(inputs, self._safe_inputs, strict=False):
            if value is not None:
                torch.where(bad, self._zero, value, out=safe)
        self._bad_flagged = True
        return tuple(None if value is None else safe for value, safe in zip(inputs, self._safe_inputs, strict=False))

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
