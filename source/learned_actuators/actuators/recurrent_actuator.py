"""Per-env recurrent state and one-step evaluation shared by the LSTM and GRU actuators."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from isaaclab.utils import index_fill_

from .actuator_checks import CHECK_CHUNK, CHECK_ROWS
from .fused_nets import max_abs_error
from .fused_recurrent import FusedRecurrentNet
from .learned_actuator import LearnedActuatorBase

if TYPE_CHECKING:
    from .recurrent_actuator_cfg import RecurrentActuatorBaseCfg

__all__ = ["RecurrentActuatorBase"]


class RecurrentActuatorBase(LearnedActuatorBase):
    """Learned actuator with a recurrent net (``.lstm`` or ``.gru`` submodule) stepped once per net step.

    State: :attr:`hidden_state` (and :attr:`cell_state` for an LSTM) of shape
    ``(num_layers, num_envs * num_joints, hidden_size)`` with per-env views :attr:`hidden_state_per_env`
    ``(num_layers, num_envs, num_joints, hidden_size)``; :meth:`reset` zeroes exactly the given envs. With the
    fused kernels the storage is feature-major ``(num_layers, hidden_size, num_envs * num_joints)`` and these
    are (non-contiguous) views of it.
    """

    cfg: RecurrentActuatorBaseCfg
    rnn_kind: str = ""

    def _init_recurrent(self, input_width: int, input_map, input_offset, output_scale: float, output_offset: float):
        """Check the net's shape and build the state and the fused (or module) evaluation."""
        rnn = getattr(self.network, self.rnn_kind, None)
        if rnn is None:
            raise self._file_error(
                f"{type(self).__name__} needs a TorchScript net with a '.{self.rnn_kind}' submodule; found children "
                f"{[name for name, _ in self.network.named_children()]}."
            )
        state = rnn.state_dict()
        self.num_layers = sum(1 for key in state if key.startswith("weight_ih_l"))
        self.hidden_size = int(state["weight_hh_l0"].shape[1])
        net_inputs = int(state["weight_ih_l0"].shape[1])
        for name, have in (("hidden_size", self.hidden_size), ("num_layers", self.num_layers)):
            want = getattr(self.cfg, name)
            if want is not None and want != have:
                raise self._file_error(f"the net's {self.rnn_kind} has {name}={have}, but the cfg expects {want}.")
            if self.metadata is not None and getattr(self.metadata, name) not in (0, have):
                raise self._file_error(
                    f"metadata '{name}' is {getattr(self.metadata, name)}, but the net's {self.rnn_kind} has {have}."
                )
        if net_inputs != input_width:
            raise self._file_error(
                f"the net's {self.rnn_kind} takes {net_inputs} inputs per step, but {type(self).__name__} feeds "
                f"{input_width} (check metadata 'features')."
            )
        rows = self._num_envs * self.num_joints
        self._input_map = None if input_map is None else input_map.to(self._device)
        self._input_offset = None if input_offset is None else input_offset.to(self._device)
        self._out_scale, self._out_offset = output_scale, output_offset
        affine = {
            "input_map": input_map,
            "input_offset": input_offset,
            "output_scale": output_scale,
            "output_offset": output_offset,
        }
        self._module_input = torch.zeros(rows, 1, input_width, device=self._device)
        self._input = torch.zeros(input_width, rows, device=self._device)
        """Per-step net input (F, rows) [raw features]; subclasses write it in place (the fused net's own rows)."""
        self._fused = None
        if self.cfg.fused:
            fused = FusedRecurrentNet.from_module(self.network, self.rnn_kind, rows, self._device, **dict(affine))
            error, scale = self._compare_fused(input_width, affine) if fused is not None else (0.0, 1.0)
            self._fused = fused if self._use_fused(fused, error, scale) else None
        self.uses_fused_kernels = self._fused is not None
        if self._fused is not None:
            self.hidden_state, self.cell_state = self._fused.state_views()
            self._hidden_storage = self._fused.hidden
            self._cell_storage = self._fused.cell
            self._input = self._fused.input
        else:
            shape = (self.num_layers, rows, self.hidden_size)
            self.hidden_state = torch.zeros(shape, device=self._device)
            self.cell_state = torch.zeros(shape, device=self._device) if self.rnn_kind == "lstm" else None
            self._hidden_storage, self._cell_storage = self.hidden_state, self.cell_state

    """
    Properties.
    """

    @property
    def hidden_state_per_env(self) -> torch.Tensor:
        """Hidden state view of shape (num_layers, num_envs, num_joints, hidden_size)."""
        return self._per_env(self.hidden_state)

    @property
    def cell_state_per_env(self) -> torch.Tensor | None:
        """LSTM cell state view of shape (num_layers, num_envs, num_joints, hidden_size); None for a GRU."""
        return None if self.cell_state is None else self._per_env(self.cell_state)

    def _per_env(self, state: torch.Tensor) -> torch.Tensor:
        n, j = self._num_envs, self.num_joints
        if state.is_contiguous():
            return state.view(self.num_layers, n, j, self.hidden_size)
        # feature-major storage (layers, hidden, envs*joints) seen as (layers, envs*joints, hidden)
        return state.permute(0, 2, 1).view(self.num_layers, self.hidden_size, n, j).permute(0, 2, 3, 1)

    """
    Internals.
    """

    def _reset_net_state(self, env_ids) -> None:
        for state in (self.hidden_state, self.cell_state):
            if state is not None:
                index_fill_(self._per_env(state), env_ids, 0.0, dim=1)

    def _clear_state_where(self, mask: torch.Tensor) -> None:
        for storage in (self._hidden_storage, self._cell_storage):
            if storage is not None:
                storage.masked_fill_(self._row_mask(storage, mask), 0.0)

    def _net_state_checkpoint(self):
        return tuple(None if s is None else s.clone() for s in self._storages())

    def _restore_net_state_checkpoint(self, saved) -> None:
        for storage, copy in zip(self._storages(), saved, strict=True):
            if storage is not None:
                storage.copy_(copy)

    def _save_state(self) -> None:
        backup = getattr(self, "_state_backup", None)
        if backup is None:  # allocated on the first step with a bad input only
            backup = self._state_backup = [None if s is None else torch.empty_like(s) for s in self._storages()]
        for storage, copy in zip(self._storages(), backup, strict=True):
            if storage is not None:
                copy.copy_(storage)

    def _restore_state_where(self, mask: torch.Tensor) -> None:
        for storage, copy in zip(self._storages(), self._state_backup, strict=True):
            if storage is not None:
                torch.where(self._row_mask(storage, mask), copy, storage, out=storage)

    def _storages(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self._hidden_storage, self._cell_storage

    def _row_mask(self, storage: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``mask`` (rows,) shaped to broadcast over ``storage``'s layout."""
        if storage is self.hidden_state or storage is self.cell_state:  # module layout (layers, rows, hidden)
            return mask.view(1, -1, 1)
        return mask.view(1, 1, -1)  # fused layout (layers, hidden, rows)

    def _step(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Advance the state on the raw per-step input ``x`` (F, rows); write the net output [N·m] to ``out``."""
        if self._fused is not None:
            return self._fused(x, out)
        return self._module_step(x, out, self.hidden_state, self.cell_state)

    def _module_step(self, x, out, hidden, cell):
        """Call the TorchScript module for one step (fallback path and reference for the fused check)."""
        z = x if self._input_map is None else self._input_map @ x
        if self._input_offset is not None:
            z = z + self._input_offset[:, None]
        rows = x.shape[1]
        module_input = self._module_input
        if rows != module_input.shape[0]:
            module_input = torch.empty(rows, 1, z.shape[0], device=self._device)
        module_input.copy_(z.t().unsqueeze(1))
        with torch.inference_mode():
            if cell is None:
                y, new_hidden = self.network(module_input, hidden)
            else:
                y, (new_hidden, new_cell) = self.network(module_input, (hidden, cell))
                cell.copy_(new_cell)
        hidden.copy_(new_hidden)
        torch.add(y.reshape(1, -1) * self._out_scale, self._out_offset, out=out)
        return out

    def _compare_fused(self, input_width: int, affine: dict) -> tuple[float, float]:
        """Max error of the fused kernels against the module over three steps from a random state."""
        generator = torch.Generator(device="cpu").manual_seed(0)
        rows = CHECK_ROWS  # several chunks and a partial one, so the chunking is checked too
        fused = FusedRecurrentNet.from_module(
            self.network, self.rnn_kind, rows, self._device, chunk=CHECK_CHUNK, **dict(affine)
        )
        fused.hidden.copy_(0.5 * torch.randn(fused.hidden.shape, generator=generator))
        if fused.cell is not None:
            fused.cell.copy_(0.5 * torch.randn(fused.cell.shape, generator=generator))
        hidden = fused.hidden.permute(0, 2, 1).contiguous()
        cell = None if fused.cell is None else fused.cell.permute(0, 2, 1).contiguous()
        error, scale = 0.0, 1.0
        for _ in range(3):
            x = torch.randn(input_width, rows, generator=generator).to(self._device)
            reference = self._module_step(x, torch.empty(1, rows, device=self._device), hidden, cell)
            result = fused(x, torch.empty(1, rows, device=self._device))
            error = max(error, max_abs_error(lambda r=result: r, lambda r=reference: r))
            scale = max(scale, float(reference.abs().max()))
        return error, scale
