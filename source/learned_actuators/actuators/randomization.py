r"""Per-env actuator randomisation and input delay for policy training, drawn at reset by an Isaac Lab event.

Per env and joint, drawn when the env resets and fixed for its episode (all optional; a range left ``None`` is off):

.. math::

    (q^*, \dot q^*, \tau_{ff})_{in}(t) &= (q^*, \dot q^*, \tau_{ff})(t - \min(d, n - 1)) \quad (d \in
        \text{delay\_range physics steps}, n \text{ commands since the reset: the oldest of the episode while fewer
        than } d + 1) \\
    k_p &= s_p\, k_{p,0}, \quad k_d = s_d\, k_{d,0} \quad \text{(the GRU-PD's physics prior only)} \\
    \tau &= s_\tau\, \tau_{model} - f \tanh(\dot q / v_c)

``tau_model`` is the actuator's clipped torque (so ``s_tau`` scales the motor, its limits included: a weaker or
stronger motor), ``f`` an extra Coulomb friction [N·m] of the joint (:func:`learned_actuators.physics.friction_torque`,
``v_c`` = :attr:`ActuatorRandomizationCfg.friction_velocity`), not seen by the model's inputs. A joint whose input
is non-finite keeps zero effort. The delay matches Isaac Lab's ``DelayBuffer`` and Newton's ``Delay`` right after a
reset (the first command is held until the history is long enough); the whole command (position and velocity
targets, feed-forward effort) is delayed together.

Both execution paths apply it inside our actuators, from the same code (:class:`ActuatorRandomization`): Isaac
Lab's Python path (:class:`~learned_actuators.actuators.LearnedActuatorBase`: targets in ``_guard_inputs``, gains in
the GRU-PD's per-env ``stiffness``/``damping``, output in ``_write_output``) and the native Newton drives
(:class:`~learned_actuators.newton_drives.DriveGRUPD`: targets and output around its kernels, gains in its per-slot
``kp``/``kd`` columns; :class:`~learned_actuators.newton_drives.DriveLSTM`/``DriveMLP`` run the Python-path class).
The native drives' slots are mapped to (env, joint) through Isaac Lab's public
:func:`isaaclab.actuators.newton.read_group_parameter`. Per-slot tensors are allocated once, when the event first
runs; the per-step cost is a few element-wise ops (see ``benchmarks/bench_policy.py``).

Use: :func:`actuator_randomization_event` (an ``EventTerm`` with mode ``"reset"`` calling
:func:`randomize_actuators`), e.g. ``env_cfg.events.actuator_randomization = actuator_randomization_event(cfg)``;
the ``-Randomized-Offline`` Go2 tasks set it.

With :attr:`ActuatorRandomizationCfg.ensemble_member` each env applies one member of an ensemble network file
(drawn at reset, per env and joint) instead of the members' mean: on Isaac Lab's Python path and on the native GRU-PD
drive's torch backend (CPU devices; its Warp kernels run the mean and refuse it). Native GRU-PD drives on CUDA devices
are not supported yet (the ops are torch ops outside the CUDA graph; use ``sim.use_newton_actuators=False`` there).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..errors import UserInputError
from ..physics import friction_torque
from .randomization_cfg import ActuatorRandomizationCfg

__all__ = [
    "ActuatorRandomization",
    "ActuatorRandomizationCfg",
    "actuator_randomization_event",
    "attached_randomization",
    "randomize_actuators",
]

_GAINS = {"kp_scale_range": "kp", "kd_scale_range": "kd"}


class ActuatorRandomization:
    """Per-slot randomised parameters and target history of one actuator (a group of ``S`` slots).

    Args:
        cfg: The ranges (checked).
        slot_map: Slot of each (env, joint), long tensor ``(num_envs, num_joints)`` (the Python path:
            ``arange(S).view(E, J)``; a native drive: its slot order).
        gains: Live flat views (S,) of the prior's ``"kp"``/``"kd"`` the actuator reads (None: the model has no
            prior; a gain range then raises). Their current values are the bases the factors apply to.
        owner: Name used in error messages.
        members: Ensemble members of the actuator's network file (0: a single model; ``ensemble_member`` then
            raises).
    """

    def __init__(
        self, cfg: ActuatorRandomizationCfg, slot_map: torch.Tensor, gains: dict | None, owner: str, members: int = 0
    ):
        cfg.check()
        self.cfg = cfg
        self.slot_map = slot_map.to(torch.long)
        device = slot_map.device
        size = int(slot_map.numel())
        for field, gain in _GAINS.items():
            if getattr(cfg, field) is not None and not gains:
                raise UserInputError(
                    f"ActuatorRandomizationCfg: field '{field}' scales the GRU-PD physics prior's {gain}; {owner} has "
                    "no physics prior (an LSTM/MLP net). Set it to None for this actuator."
                )
        self._gains = {_GAINS[f]: gains[_GAINS[f]] for f in _GAINS if getattr(cfg, f) is not None}
        self._gain_base = {name: view.clone() for name, view in self._gains.items()}
        self._gain_scale = {name: torch.ones_like(view) for name, view in self._gains.items()}
        self.torque_scale = None if cfg.torque_scale_range is None else torch.ones(size, device=device)
        """Motor strength per slot (S,), or None when off."""
        self.friction = None if cfg.friction_range is None else torch.zeros(size, device=device)
        """Extra Coulomb friction [N·m] per slot (S,), or None when off."""
        if cfg.ensemble_member and members < 2:
            raise UserInputError(
                f"ActuatorRandomizationCfg: field 'ensemble_member' samples a member of an ensemble network file; "
                f"{owner} runs a single model. Export an ensemble (learned_actuators.learning.ensemble) or set it "
                "False."
            )
        self.members = int(members)
        self.member = torch.zeros(size, dtype=torch.long, device=device) if cfg.ensemble_member else None
        """Ensemble member per slot (S,) (long), or None when off."""
        self.delay = None
        """Input delay [physics steps] per slot (S,) (long), or None when off."""
        self._history = None
        if cfg.delay_range is not None:
            self.delay = torch.zeros(size, dtype=torch.long, device=device)
            # the whole command per slot: position target, velocity target, feed-forward effort
            self._history = torch.zeros(int(cfg.delay_range[1]) + 1, 3, size, device=device)
            self._head = 0
            self._count = torch.zeros(size, dtype=torch.long, device=device)
            self._index = torch.zeros(1, 3, size, dtype=torch.long, device=device)
            self._delayed = torch.zeros(3, size, device=device)
        self._native = None

    @property
    def num_envs(self) -> int:
        """Number of envs (rows of :attr:`slot_map`)."""
        return int(self.slot_map.shape[0])

    def parameters(self) -> dict[str, torch.Tensor]:
        """The drawn values per (env, joint): gain scales, ``torque_scale``, ``friction``, ``delay``, ``member``."""
        values = {f"{name}_scale": scale for name, scale in self._gain_scale.items()}
        for name in ("torque_scale", "friction", "delay", "member"):
            if getattr(self, name) is not None:
                values[name] = getattr(self, name)
        return {name: value[self.slot_map] for name, value in values.items()}

    def draw(self, env_ids: Sequence[int] | torch.Tensor | slice | None) -> None:
        """Draw new parameters for ``env_ids`` (None: all) and clear their target history."""
        slots = self._slots(env_ids)
        count, device = slots.numel(), self.slot_map.device
        for field, name in _GAINS.items():
            if name in self._gains:
                low, high = getattr(self.cfg, field)
                self._gain_scale[name][slots] = torch.empty(count, device=device).uniform_(low, high)
                self._gains[name][slots] = self._gain_base[name][slots] * self._gain_scale[name][slots]
        for name, field in (("torque_scale", "torque_scale_range"), ("friction", "friction_range")):
            if getattr(self, name) is not None:
                low, high = getattr(self.cfg, field)
                getattr(self, name)[slots] = torch.empty(count, device=device).uniform_(low, high)
        if self.delay is not None:
            low, high = self.cfg.delay_range
            self.delay[slots] = torch.randint(int(low), int(high) + 1, (count,), device=device)
            self._count[slots] = 0
        if self.member is not None:
            self.member[slots] = torch.randint(0, self.members, (count,), device=device)

    def clear_history(self, env_ids: Sequence[int] | torch.Tensor | slice | None) -> None:
        """Forget the targets of ``env_ids`` (None: all): the next target is held as in a new episode."""
        if self._history is not None:
            self._count[self._slots(env_ids)] = 0

    def _slots(self, env_ids) -> torch.Tensor:
        """Flat slot indices of the envs ``env_ids`` (None or ``slice(None)``: all)."""
        if env_ids is None or (isinstance(env_ids, slice) and env_ids == slice(None)):
            return self.slot_map.reshape(-1)
        if isinstance(env_ids, torch.Tensor):
            env_ids = env_ids.to(self.slot_map.device, torch.long)
        return self.slot_map[env_ids].reshape(-1)

    def delayed_targets(self, target: torch.Tensor, *command: torch.Tensor | None):
        """Record the command and return it delayed (the whole command together, as Newton's ``Delay`` does).

        ``target`` (any shape of ``S`` elements, slot order) alone returns the delayed target; with ``command`` (the
        velocity target and feed-forward effort; None: zero, returned as None) returns ``(target, *command)``
        delayed. The inputs themselves when the delay is off. The results are buffers valid until the next call.
        """
        history = self._history
        if history is None:
            return (target, *command) if command else target
        length = history.shape[0]
        self._head = (self._head + 1) % length
        row = history[self._head]
        row[0].view(target.shape).copy_(target)
        for k in (1, 2):
            value = command[k - 1] if len(command) >= k else None
            row[k].zero_() if value is None else row[k].view(target.shape).copy_(value)
        self._count.add_(1).clamp_(max=length)
        index = self._index[0, 0]
        torch.sub(self._count, 1, out=index)
        torch.minimum(index, self.delay, out=index)
        index.neg_().add_(self._head).remainder_(length)
        self._index[0, 1:].copy_(index.expand(2, -1))
        torch.gather(history, 0, self._index, out=self._delayed.view(1, 3, -1))
        delayed = self._delayed[0].view(target.shape)
        if not command:
            return delayed
        return (
            delayed,
            *(None if c is None else self._delayed[k + 1].view(target.shape) for k, c in enumerate(command)),
        )

    def apply_output(self, effort: torch.Tensor, joint_vel: torch.Tensor, finite: torch.Tensor | None = None) -> None:
        """``effort = s * effort - f tanh(qd / v_c)`` in place (slot order; ``finite``: where the inputs are finite)."""
        if self.torque_scale is not None:
            effort.mul_(self.torque_scale.view(effort.shape))
        if self.friction is not None:
            extra = friction_torque(joint_vel, self.friction.view(effort.shape), self.cfg.friction_velocity)
            if finite is not None:
                extra = torch.where(finite, extra, 0.0)
            effort.add_(extra)

    def checkpoint(self):
        """A copy of the target history (see ``LearnedActuatorBase.reset``)."""
        return None if self._history is None else (self._head, self._history.clone(), self._count.clone())

    def restore(self, saved) -> None:
        """Put back a copy from :meth:`checkpoint`."""
        if saved is not None and self._history is not None:
            self._head = saved[0]
            self._history.copy_(saved[1])
            self._count.copy_(saved[2])

    """
    Native GRU-PD drive (called by DriveGRUPD.compute around its kernels).
    """

    def native_targets(
        self, target_pos, target_pos_indices, target_vel=None, feedforward=None, target_vel_indices=None
    ):
        """The delayed command as Warp arrays on identity indices.

        Returns ``(target_pos, its indices, target_vel, feedforward, their indices)``: the inputs unchanged when the
        delay is off; None terms stay None.
        """
        if self._history is None:
            return target_pos, target_pos_indices, target_vel, feedforward, target_vel_indices
        io, rows, identity = self._native_io()
        command = [
            None if a is None else io.gather(a, target_vel_indices, k) for a, k in ((target_vel, 4), (feedforward, 5))
        ]
        self.delayed_targets(io.gather(target_pos, target_pos_indices, 2), *command)
        velocity, effort = (None if a is None else rows[k] for a, k in ((target_vel, 1), (feedforward, 2)))
        return rows[0], identity, velocity, effort, identity

    def native_output(self, forces, positions, velocities, pos_indices, vel_indices, target_pos, target_indices):
        """Apply :meth:`apply_output` to the drive's ``forces`` (zero stays zero where an input is non-finite)."""
        if self.torque_scale is None and self.friction is None:
            return
        io = self._native_io()[0]
        size = self.slot_map.numel()
        effort = io.view(forces)[:size]
        finite = None
        qd = io.gather(velocities, vel_indices, 1)
        if self.friction is not None:
            q, qt = io.gather(positions, pos_indices, 0), io.gather(target_pos, target_indices, 3)
            finite = torch.isfinite(q).logical_and_(torch.isfinite(qd)).logical_and_(torch.isfinite(qt))
            qd = torch.where(finite, qd, 0.0)
        self.apply_output(effort, qd, finite)

    def _native_io(self):
        if self._native is None:
            import warp as wp

            from ..newton_drives.torch_backend import WarpTorchIO

            size = self.slot_map.numel()
            identity = wp.array(np.arange(size, dtype=np.uint32), device="cpu")
            rows = [wp.from_torch(row) for row in self._delayed] if self._history is not None else None
            self._native = (WarpTorchIO(size), rows)
            self._native = (*self._native, identity)
        return self._native


"""
Attaching to an articulation's actuator groups, and the event term.
"""


def attached_randomization(group) -> ActuatorRandomization | None:
    """The randomisation attached to an actuator group (our Python-path actuator or a Newton actuator of ours)."""
    target = _target(group)
    return None if target is None else getattr(target, "randomization", None)


def _target(group):
    """The object whose ``randomization`` attribute our code reads: a Python-path actuator or a native GRU-PD drive."""
    from ..newton_drives import DriveGRUPD
    from ..newton_drives.drive_net import DriveLearnedNet
    from .learned_actuator import LearnedActuatorBase

    if isinstance(group, LearnedActuatorBase):
        return group
    drive = getattr(group, "drive", None)
    if isinstance(drive, DriveGRUPD):
        return drive
    if isinstance(drive, DriveLearnedNet):
        return drive.actuator
    return None


def _native_slot_map(collection, name: str, group) -> torch.Tensor:
    """Slot of each (env, joint) of a native group, through Isaac Lab's public group-parameter read."""
    import warp as wp

    from isaaclab.actuators.newton import read_group_parameter

    drive = group.drive
    drive.slot_index = wp.array(np.arange(group.num_actuators, dtype=np.float32), device=group.device)
    return read_group_parameter(collection, name, "controller", "slot_index").round().to(torch.long).cpu()


def _attach(collection, name: str, group, cfg: ActuatorRandomizationCfg) -> ActuatorRandomization | None:
    """Build and attach the randomisation of one group (None: not one of our actuators)."""
    import warp as wp

    from ..newton_drives import DriveGRUPD
    from .gru_pd_actuator import CombinedGRUAndPDActuator

    target = _target(group)
    if target is None:
        return None
    owner = f"actuator group '{name}' ({type(target).__name__})"
    if target is group:  # Isaac Lab's Python path: rows are envs
        slot_map = torch.arange(target.stiffness.numel(), device=target.stiffness.device).view(target.stiffness.shape)
        gains, members = None, 0
        if isinstance(target, CombinedGRUAndPDActuator):
            gains = {"kp": target.stiffness.view(-1), "kd": target.damping.view(-1)}
            members = target.ensemble_members
    else:
        members = 0
        slot_map = _native_slot_map(collection, name, group)
        gains = None
        if isinstance(target, DriveGRUPD):
            if cfg.ensemble_member and target.backend != "torch":
                raise UserInputError(
                    f"ActuatorRandomizationCfg: field 'ensemble_member' is supported for native GRU-PD drives on CPU "
                    f"devices (the drive's torch backend) and on Isaac Lab's Python actuator path only; {owner} runs "
                    f"its Warp kernels on {group.device}. Set sim.use_newton_actuators=False or ensemble_member=False."
                )
            if not wp.get_device(group.device).is_cpu:
                raise UserInputError(
                    f"ActuatorRandomizationCfg: {owner} runs natively on {group.device}; randomising it there is not "
                    "supported yet. Set sim.use_newton_actuators=False (Isaac Lab's Python actuator path)."
                )
            gains = {"kp": wp.to_torch(target.kp), "kd": wp.to_torch(target.kd)}
            members = target.ensemble_members
        else:  # a net drive's actuator: one env of all slots
            slot_map = slot_map.to(target.stiffness.device)
    randomization = ActuatorRandomization(cfg, slot_map, gains, owner, members)
    target.randomization = randomization
    return randomization


def randomize_actuators(
    env,
    env_ids: torch.Tensor | None,
    asset_cfg=None,
    randomization: ActuatorRandomizationCfg | None = None,
    actuator_names: Sequence[str] | None = None,
) -> None:
    """Isaac Lab event (mode ``"reset"``): draw the actuator parameters of ``env_ids`` for their new episode.

    Args:
        env: The environment.
        env_ids: Envs being reset (None: all).
        asset_cfg: The articulation (``SceneEntityCfg``; default ``"robot"``).
        randomization: The ranges (default: all off, i.e. today's torques).
        actuator_names: Actuator groups to randomise (default: every group that is one of our learned actuators).

    The per-slot tensors are built and attached on the first call (allocated once).
    """
    asset = env.scene[asset_cfg.name if asset_cfg is not None else "robot"]
    cfg = randomization if randomization is not None else ActuatorRandomizationCfg()
    collection = asset.actuators
    names = list(actuator_names) if actuator_names is not None else list(collection.keys())
    found = []
    for name in names:
        if name not in collection:
            raise UserInputError(
                f"randomize_actuators: the asset has no actuator group '{name}' (groups: {list(collection.keys())})."
            )
        group = collection[name]
        attached = attached_randomization(group)
        if attached is None:
            attached = _attach(collection, name, group, cfg)
        if attached is not None:
            attached.draw(env_ids)
            found.append(name)
    if not found:
        raise UserInputError(
            f"randomize_actuators: none of the actuator groups {names} is a learned actuator of this package; the "
            "randomisation applies to CombinedGRUAndPDActuator, LSTMActuatorNet and MLPActuatorNet groups."
        )


def actuator_randomization_event(cfg: ActuatorRandomizationCfg, asset_name: str = "robot", actuator_names=None):
    """An ``EventTerm`` (mode ``"reset"``) calling :func:`randomize_actuators` with ``cfg``."""
    from isaaclab.managers import EventTermCfg, SceneEntityCfg

    cfg.check()
    params = {"asset_cfg": SceneEntityCfg(asset_name), "randomization": cfg, "actuator_names": actuator_names}
    return EventTermCfg(func=randomize_actuators, mode="reset", params=params)
