r"""CPU compute of :class:`~learned_actuators.newton_drives.DriveGRUPD` with torch kernels on zero-copy views.

Warp's CPU backend runs the threads of a kernel one after another on one core, so the drive's Warp kernels evaluate
the GRU slot by slot (about 7x slower than a batched GEMM at 4096 x 12 slots). On a CPU device the drive therefore
computes with the fused torch kernels of :mod:`learned_actuators.actuators.fused_recurrent` (the ones the
Python-path :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator` uses) and torch element-wise ops, on
``wp.to_torch`` views of the drive's own Warp arrays: the simulator's joint arrays, the per-slot parameter pack,
the state and the output are read and written in place, nothing is copied to or from Warp. The math is the Warp
kernels' (:mod:`.kernels`, :mod:`.net_kernel`), step for step: the same physics prior, features, GRU, head, rate
hold, guards and clip (plus, for ensemble files, the per-slot member heads of
:attr:`~learned_actuators.newton_drives.DriveGRUPD.member_head` when the randomisation samples members, which the
Warp kernels do not run); the physics prior and the clip are the functions of :mod:`learned_actuators.physics`, called
with ``out=`` buffers (the Python-path actuator calls the same ones).

State layout (the documented mapping)
-------------------------------------
On this backend a :class:`~learned_actuators.newton_drives.DriveGRUPD.State` also holds ``storage``, a
``(F + 1 + L (H + 1), N)`` float32 Warp array laid out as :class:`~learned_actuators.actuators.fused_recurrent.
FusedRecurrentNet` needs it (rows ``[x; 1; h_0; 1; h_1; 1; ...]``, one column per slot, ``F`` features, ``L``
layers of ``H`` units). ``state.hidden`` is a strided Warp view of it with the usual ``[L, N, H]`` indexing::

    state.hidden[l, i, j] == state.storage[F + 1 + l * (H + 1) + j, i]

so everything that reads or writes ``hidden`` (tests, resets, ``hidden_per_env``) sees the same values as on the
Warp backend. ``held``, ``fallback``, ``phase`` and ``dirty`` are the same ``(N,)`` arrays on both backends.

The net runs where the rate phase is 0. All slots share one phase (it starts at 0 in every slot, advances by one
every call in every slot and is never reset), so this backend reads it from slot 0 on the host: CPU arrays need no
device sync. Not graphable, which does not matter: CUDA graphs exist on CUDA devices only, where the drive runs its
Warp kernels.
"""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING

import numpy as np
import torch
import warp as wp

from ..learning.features import step_feature
from ..network_file import EnsembleHeads
from ..physics import motor_limits, physical_torque
from . import kernels
from .network import metadata_affine

if TYPE_CHECKING:
    from .drive_gru_pd import DriveGRUPD

__all__ = ["SINGLE_THREAD_BELOW", "TorchGRUPD", "WarpTorchIO", "hidden_view", "single_torch_thread", "storage_rows"]

SINGLE_THREAD_BELOW = 8192
"""Below this many slots a call runs on one torch thread (restored afterwards). Each torch op on a few thousand
values is microseconds of work, but with several intra-op threads every op is an OpenMP fork/join, and inside the
simulator those threads compete with the physics for the cores: measured in the offline Go2 flat env at 64 envs
(768 slots) on a loaded 2-core machine, 160 ms per env step with 2 torch threads vs 67-100 ms with 1 (DC motors:
73-100 ms)."""

_MAX_CACHED_VIEWS = 16


def storage_rows(num_features: int, num_layers: int, hidden_size: int) -> int:
    """Rows of a state's ``storage`` on the torch backend: ``[x; 1; h_0; 1; ...]``."""
    return num_features + 1 + num_layers * (hidden_size + 1)


def hidden_block(storage: torch.Tensor, num_features: int, num_layers: int, hidden_size: int) -> torch.Tensor:
    """Feature-major hidden rows of a storage view, ``(L, H, N)`` (a view; the ones rows excluded)."""
    blocks = storage[num_features + 1 :].view(num_layers, hidden_size + 1, storage.shape[1])
    return blocks[:, :hidden_size]


def hidden_view(storage: wp.array, num_features: int, num_layers: int, hidden_size: int) -> wp.array:
    """``[L, N, H]`` strided Warp view of the hidden rows of ``storage`` (zero copy, shares its memory)."""
    block = hidden_block(wp.to_torch(storage), num_features, num_layers, hidden_size)
    view = wp.from_torch(block.permute(0, 2, 1))
    view._storage_owner = storage  # keep the storage alive as long as the view
    return view


@contextlib.contextmanager
def single_torch_thread(num_slots: int):
    """Run the block on one torch thread when ``num_slots`` < :data:`SINGLE_THREAD_BELOW` (restored afterwards)."""
    threads = torch.get_num_threads()
    if threads == 1 or num_slots >= SINGLE_THREAD_BELOW:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class WarpTorchIO:
    """Cached zero-copy torch views of a drive's Warp arrays and gathers of the simulator's joint arrays.

    Args:
        num_slots: Number of slots ``N`` of the drive.
    """

    def __init__(self, num_slots: int):
        self.n = int(num_slots)
        self._views: dict[tuple, torch.Tensor] = {}
        self._indices: dict[tuple, torch.Tensor | None] = {}
        self._buffers: dict[int, torch.Tensor] = {}

    def view(self, array: wp.array) -> torch.Tensor:
        """``wp.to_torch(array)``, cached per array."""
        key = (array.ptr, array.shape, array.strides)
        view = self._views.get(key)
        if view is None:
            if len(self._views) >= _MAX_CACHED_VIEWS:
                self._views.clear()
            view = self._views[key] = wp.to_torch(array)
        return view

    def gather(self, array: wp.array, indices: wp.array, slot: int) -> torch.Tensor:
        """``array[indices]`` as a torch tensor: a view when the indices are ``0..N-1``, else a gathered copy.

        The copy goes into the buffer ``slot`` and stays valid until the next gather into it.
        """
        key = (indices.ptr, indices.shape)
        index = self._indices.get(key, False)
        if index is False:
            host = indices.numpy().astype(np.int64)
            identity = host.shape == (self.n,) and bool((host == np.arange(self.n)).all())
            index = None if identity else torch.from_numpy(host).to(wp.device_to_torch(indices.device))
            if len(self._indices) >= _MAX_CACHED_VIEWS:
                self._indices.clear()
            self._indices[key] = index
        values = self.view(array)
        if index is None:
            return values[: self.n]
        buffer = self._buffers.get(slot)
        if buffer is None or buffer.device != values.device:
            buffer = self._buffers[slot] = torch.empty(self.n, device=values.device)
        return torch.index_select(values, 0, index, out=buffer)


class TorchGRUPD:
    """The drive's compute, state mirror and reset as torch ops on zero-copy views (CPU devices).

    Args:
        drive: The finalized drive (its parameters, per-slot parameter pack and output arrays are viewed, not
            copied: writes to ``drive.kp`` etc. reach this backend as they reach the Warp kernels).
        num_actuators: Number of slots ``N``.
    """

    def __init__(self, drive: DriveGRUPD, num_actuators: int):
        # torch only; imported here to keep imports light
        from ..actuators.fused_recurrent import FusedRecurrentNet, recurrent_blocks

        self._net_class = FusedRecurrentNet
        p = drive.params
        self.n = n = int(num_actuators)
        self.num_features, self.num_layers, self.hidden_size = len(p.features), p.num_layers, p.hidden_size
        self.feature_names = list(p.features)
        self.residual = p.mode == "residual"
        self.friction_velocity = float(drive.friction_velocity)
        self.use_pd_curve = bool(drive.pd_torque_speed_curve)
        self.dc_motor_clip = drive.torque_speed_curve == "dc_motor"
        pack = wp.to_torch(drive.params_pack)
        self.columns = {name: pack[:, c] for c, name in enumerate(kernels.PARAM_COLUMNS)}
        self._net_args = {
            "kind": "gru",
            "rnn_state": {
                **{f"weight_ih_l{k}": torch.from_numpy(w) for k, w in enumerate(p.w_ih)},
                **{f"weight_hh_l{k}": torch.from_numpy(w) for k, w in enumerate(p.w_hh)},
                **{f"bias_ih_l{k}": torch.from_numpy(b) for k, b in enumerate(p.b_ih)},
                **{f"bias_hh_l{k}": torch.from_numpy(b) for k, b in enumerate(p.b_hh)},
            },
            "num_layers": p.num_layers,
            "hidden_size": p.hidden_size,
            "head_layers": [(torch.from_numpy(w), torch.from_numpy(b), act) for w, b, act in p.head],
            "batch": n,
            "device": "cpu",
            "input_map": torch.diag(torch.from_numpy(p.input_scale.astype(np.float32))),
            "input_offset": torch.from_numpy(p.input_offset.astype(np.float32)),
            "output_scale": p.output_scale,
            "output_offset": p.output_offset,
        }
        self._nets: dict[int, object] = {}
        self._member_head = None
        if drive.member_head is not None:  # ensemble file: the members' heads (spread, per-slot member sampling)
            weight, bias = (torch.from_numpy(a) for a in drive.member_head)
            _, _, scale, offset = metadata_affine(p.metadata, len(p.features), drive.network_file)
            self._member_head = EnsembleHeads(weight, bias, drive.member_noise, scale, offset, n)
            members = recurrent_blocks(self._net_args["rnn_state"], p.num_layers, p.hidden_size, bias.numel())
            self._net_args["blocks"] = members  # the members' recurrent products one by one (K, not K² cost)
            self.ensemble_std = wp.to_torch(drive.ensemble_std)
        self.tau = wp.to_torch(drive.tau_phys)
        self.input_count = wp.to_torch(drive.nonfinite_input_count)
        self.output_count = wp.to_torch(drive.nonfinite_output_count)
        zeros = [torch.zeros(n) for _ in range(11)]
        self._safe = zeros[:5]
        """Position, velocity, position and velocity targets, feed-forward with zeros at bad slots (when any)."""
        self._error, self._upper, self._lower, self._effort, self._y = zeros[5:10]
        self._tmp = zeros[10]
        self._io = WarpTorchIO(n)

    """
    Drive interface.
    """

    def compute(self, drive: DriveGRUPD, joints, indices, forces, state) -> None:
        """Clipped effort into ``forces``, state advanced in place (the Warp kernels' math).

        ``joints``: the simulator's positions, velocities, position and velocity targets and feed-forward (None:
        zero); ``indices``: the position, velocity, position-target and velocity-target indices (the feed-forward is
        read at the velocity-target indices, as by Newton's ``DrivePD``).
        """
        with single_torch_thread(self.n):
            self._compute(drive, joints, indices, forces, state)

    def _compute(self, drive: DriveGRUPD, joints, indices, forces, state) -> None:
        positions, velocities, target_pos, target_vel, feedforward = joints
        pos_indices, vel_indices, target_indices, target_vel_indices = indices
        q = self._gather(positions, pos_indices, 0)
        qd = self._gather(velocities, vel_indices, 1)
        qt = self._gather(target_pos, target_indices, 2)
        qdt = self._gather(target_vel, target_vel_indices, 3)
        ff = None if feedforward is None else self._gather(feedforward, target_vel_indices, 4)
        views = state.torch_views()
        bad = self._bad_inputs(q, qd, qt, qdt, ff)
        if bad is not None:  # finite placeholders (zeros) so that nothing below sees the bad values
            inputs = zip((q, qd, qt, qdt, ff), self._safe, strict=True)
            q, qd, qt, qdt, ff = (None if x is None else safe.copy_(x).masked_fill_(bad, 0.0) for x, safe in inputs)
        tau = self._physics_torque(q, qd, qt, qdt, ff)
        phase = int(views["phase"][0])  # all slots share it (see the module docstring)
        if phase == 0:
            self._net_step(drive, state, views, q, qd, qt, qdt, ff, bad)
        views["phase"].fill_((phase + 1) % drive.steps_per_network_step)
        effort, held = self._effort, views["held"]
        if self.residual:
            torch.add(tau, held, out=effort)  # held is 0 where the last output was non-finite
        elif bool(views["fallback"].any()):
            torch.where(views["fallback"].bool(), tau, held, out=effort)
        else:
            effort.copy_(held)
        out = self._view(forces)
        self._clip(effort, qd, out)
        if bad is not None:
            out.masked_fill_(bad, 0.0)
            tau.masked_fill_(bad, 0.0)
            self.input_count.add_(bad)

    def mirror(self, current, following) -> None:
        """Copy the advanced ``current`` state into ``following`` (hidden rows only when they changed)."""
        src, dst = current.torch_views(), following.torch_views()
        for name in ("held", "fallback", "phase"):
            dst[name].copy_(src[name])
        if bool(src["dirty"].any()):
            dst["storage"][self.num_features + 1 :].copy_(src["storage"][self.num_features + 1 :])
            src["dirty"].zero_()
        dst["dirty"].zero_()

    """
    Internals.
    """

    def _net(self, state):
        storage = state.torch_views()["storage"]
        net = self._nets.get(storage.data_ptr())
        if net is None:
            if len(self._nets) >= 4:  # states created and dropped (tests, resets of the whole sim)
                self._nets.clear()
            net = self._nets[storage.data_ptr()] = self._net_class(**self._net_args, storage=storage)
        return net

    def _view(self, array: wp.array) -> torch.Tensor:
        return self._io.view(array)

    def _gather(self, array: wp.array, indices: wp.array, slot: int) -> torch.Tensor:
        return self._io.gather(array, indices, slot)

    def _bad_inputs(self, *inputs) -> torch.Tensor | None:
        """Slots with a non-finite input (None inputs skipped), or None when all are finite (a host read per input)."""
        inputs = [x for x in inputs if x is not None]
        if all(math.isfinite(float(x.sum())) for x in inputs):
            return None
        finite = torch.isfinite(inputs[0])
        for x in inputs[1:]:
            finite.logical_and_(torch.isfinite(x))
        if bool(finite.all()):  # a finite overflow of the sum
            return None
        return finite.logical_not_()

    def _physics_torque(self, q, qd, qt, qdt=None, ff=None) -> torch.Tensor:
        """``tau_phys`` into the drive's ``tau_phys`` array: :func:`~learned_actuators.physics.physical_torque`.

        The Coulomb friction term (with its load-dependent bound ``friction + friction_load * |saturated PD torque|``)
        is skipped while ``friction`` and ``friction_load`` are zero in every slot, as the Warp kernels skip it.

        ``qdt`` [rad/s] and ``ff`` [N·m] are the velocity target and feed-forward torque (None: zero).
        """
        c = self.columns
        curve = self.use_pd_curve
        friction, friction_load = c["friction"], c["friction_load"]
        return physical_torque(
            q,
            qd,
            qt,
            c["kp"],
            c["kd"],
            c["spring_stiffness"],
            c["spring_rest_angle"],
            c["pd_stall_torque"] if curve else None,
            c["pd_no_load_speed"] if curve else None,
            friction if bool(friction.ne(0.0).any()) else 0.0,
            self.friction_velocity,
            out=self.tau,
            scratch=self._error,
            limits=(self._lower, self._upper),
            qd_target=qdt,
            tau_ff=ff,
            friction_load=friction_load if bool(friction_load.ne(0.0).any()) else 0.0,
        )

    def _net_step(self, drive, state, views, q, qd, qt, qdt, ff, bad) -> None:
        """One GRU step on every slot; slots with bad inputs keep their state (``net_kernel.gru_pd_net``).

        With member sampling (the drive's randomisation has a ``member`` per slot) each slot's output comes from its
        drawn member's head (:meth:`_sampled_member_output`) instead of the mean head, before the guards.
        """
        net = self._net(state)
        c = self.columns
        for row, name in zip(net.input, self.feature_names, strict=True):
            step_feature(name, q, qd, qt, c["kp"], c["kd"], self.tau, out=row, qd_target=qdt, tau_ff=ff)
        hidden = hidden_block(views["storage"], self.num_features, self.num_layers, self.hidden_size)
        held, fallback = views["held"], views["fallback"]
        saved = None
        if bad is not None:
            saved = (hidden.clone(), held.clone(), fallback.clone())
        y = self._y
        net(net.input, y.view(1, -1))
        member = None if drive.randomization is None else drive.randomization.member
        if self._member_head is not None:  # the members' outputs and spread (as the Python path's)
            self._member_head.update(hidden[-1].t(), self.ensemble_std)
        if member is not None:
            self._sampled_member_output(member, y)
        if math.isfinite(float(y.sum())):
            held.copy_(y)
            fallback.zero_()
        else:  # non-finite outputs: physics fallback, that slot's hidden state cleared
            out_bad = torch.isfinite(y).logical_not_()
            held.copy_(y).masked_fill_(out_bad, 0.0)
            fallback.copy_(out_bad)
            hidden.masked_fill_(out_bad.view(1, 1, -1), 0.0)
            if bad is not None:
                out_bad.logical_and_(bad.logical_not())
            self.output_count.add_(out_bad)
        if saved is not None:
            torch.where(bad.view(1, 1, -1), saved[0], hidden, out=hidden)
            torch.where(bad, saved[1], held, out=held)
            torch.where(bad, saved[2], fallback, out=fallback)
        views["dirty"].fill_(1)

    def _sampled_member_output(self, member, out) -> None:
        """Each slot's net output [N·m] from its drawn member's head, into ``out``; ``member``: index per slot (N,)."""
        if self._member_head is None:
            raise ValueError(
                "DriveGRUPD: the randomisation samples ensemble members, but the network file has no member heads."
            )
        self._member_head.sample(member, out)

    def _clip(self, effort, qd, out) -> None:
        """Final clip at the motor limits at ``qd`` into ``out``: :func:`~learned_actuators.physics.motor_limits`."""
        c = self.columns
        lower, upper = motor_limits(
            qd,
            "dc_motor" if self.dc_motor_clip else "asymmetric",
            c["saturation_effort"],
            c["velocity_limit"],
            c["max_motor_effort"],
            out=(self._lower, self._upper),
            scratch=self._tmp,
        )
        torch.clamp(effort, min=lower, max=upper, out=out)
