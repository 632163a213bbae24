"""One explicit actuator that runs another actuator model on each contiguous group of envs (one replay, many models).

The validation replays a model on every held-out run; where each fold (or each gain of a per-gain model) has its own
exported net, each net used to need its own simulator set-up and replay of a few runs. :class:`EnvGroupsActuator`
lets one replay hold them all: envs ``[0, n_0)`` run ``members[0]``, the next ``n_1`` envs ``members[1]``, and so on.
Each member is built as Isaac Lab would build it for its own envs (its own cfg's gains, limits and network), gets
those envs' rows of the command and state, and keeps its own state (histories, recurrent state, resets); the envs of
one articulation are independent in the simulator, so each run's rollout is the one a replay of that member alone
gives. Isaac Lab's actuator path only (``sim.use_newton_actuators=False``, the validation's default): the native
Newton path builds its drives from the cfg classes without this wrapper.

The members must agree on the joint properties that the articulation writes into the simulator for the group
(stiffness, damping, armature, friction and joint limits: :data:`SHARED_FIELDS`); :func:`can_group` says whether they
do. Their own effort and velocity clips may differ (each member clips its own envs).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch

from isaaclab.actuators import ActuatorBase, ActuatorBaseCfg, ImplicitActuatorCfg
from isaaclab.utils import ArticulationActions, configclass, instantiate, replace

__all__ = ["SHARED_FIELDS", "EnvGroupsActuator", "EnvGroupsActuatorCfg", "can_group"]

_OWN_FIELDS = ("class_type", "joint_names_expr", "actuator_effort_limit", "actuator_velocity_limit")
"""Fields each member keeps to itself (its class, its clips) or the group sets (its joints)."""

SHARED_FIELDS = tuple(f.name for f in dataclasses.fields(ActuatorBaseCfg) if f.name not in _OWN_FIELDS)
"""Fields of :class:`~isaaclab.actuators.ActuatorBaseCfg` the members must share: the joint properties the
articulation resolves from the group's cfg and writes into the simulator."""


def can_group(cfgs: Sequence[ActuatorBaseCfg]) -> bool:
    """Whether ``cfgs`` can run as the members of one :class:`EnvGroupsActuator`.

    They must be explicit actuator cfgs (not implicit: those have no ``compute`` of their own) that agree on
    :data:`SHARED_FIELDS`.
    """
    explicit = (
        isinstance(c, ActuatorBaseCfg) and not isinstance(c, (ImplicitActuatorCfg, EnvGroupsActuatorCfg)) for c in cfgs
    )
    if not cfgs or not all(explicit):
        return False
    first = cfgs[0]
    return all(getattr(c, name) == getattr(first, name) for c in cfgs[1:] for name in SHARED_FIELDS)


def _require_groupable(cfgs: Sequence[ActuatorBaseCfg], where: str) -> None:
    """Raise ValueError (naming ``where``) unless :func:`can_group` accepts ``cfgs``."""
    if not can_group(cfgs):
        raise ValueError(
            f"{where}: the members must be explicit actuator cfgs that agree on {', '.join(SHARED_FIELDS)}."
        )


class EnvGroupsActuator(ActuatorBase):
    """Runs ``cfg.members[i]`` on the ``cfg.env_counts[i]`` envs after those of the earlier members.

    ``computed_effort`` and ``applied_effort`` hold every member's rows; ``members`` are the member actuators. Where
    every member has PD gains, ``stiffness`` and ``damping`` (num_envs, num_joints) hold them all: written here, they
    reach each member's rows at the next :meth:`compute`.
    """

    cfg: EnvGroupsActuatorCfg

    def __init__(
        self, cfg: EnvGroupsActuatorCfg, joint_names: list[str], joint_ids, num_envs: int, device: str, **kwargs
    ):
        """Build every member on its envs; ``kwargs`` (gains, limits: per-env tensors are split by rows) go to them."""
        counts = [int(n) for n in cfg.env_counts]
        if len(counts) != len(cfg.members) or any(n < 1 for n in counts) or sum(counts) != num_envs:
            raise ValueError(
                f"EnvGroupsActuatorCfg: env_counts {counts} must give each of the {len(cfg.members)} members at least "
                f"one env and add up to the articulation's {num_envs} envs."
            )
        _require_groupable(cfg.members, "EnvGroupsActuatorCfg")
        super().__init__(cfg, joint_names, joint_ids, num_envs, device)
        starts = [sum(counts[:i]) for i in range(len(counts))]
        self._slices = [slice(s, s + n) for s, n in zip(starts, counts, strict=True)]
        self.members: list[ActuatorBase] = []
        for member_cfg, rows in zip(cfg.members, self._slices, strict=True):
            if cfg.physics_dt is not None and getattr(member_cfg, "physics_dt", "absent") is None:
                member_cfg = replace(member_cfg, physics_dt=cfg.physics_dt)
            member_cfg = replace(member_cfg, joint_names_expr=list(cfg.joint_names_expr))
            own = {k: _rows(v, rows, num_envs) for k, v in kwargs.items()}
            member = instantiate(
                member_cfg,
                joint_names=joint_names,
                joint_ids=joint_ids,
                num_envs=rows.stop - rows.start,
                device=device,
                **own,
            )
            self.members.append(member)
        # the members' PD gains as one (num_envs, num_joints) buffer each, handed to them at every compute: the
        # validation writes per-run (or per-step) gains into it as into one actuator's
        if all(hasattr(m, "stiffness") and hasattr(m, "damping") for m in self.members):
            self.stiffness = torch.cat([m.stiffness for m in self.members]).clone()
            self.damping = torch.cat([m.damping for m in self.members]).clone()
        # the group's clips, as the articulation reads them: each member's on its rows
        self.actuator_velocity_limit = torch.cat([m.actuator_velocity_limit for m in self.members])
        self.actuator_effort_limit = torch.cat([m.actuator_effort_limit for m in self.members])

    def reset(self, env_ids: Sequence[int] | slice | torch.Tensor | None):
        """Reset the members' envs among ``env_ids`` (None or ``slice(None)``: all), each in its own numbering."""
        ids = _env_ids(env_ids, self._num_envs)
        for member, rows in zip(self.members, self._slices, strict=True):
            local = ids[(ids >= rows.start) & (ids < rows.stop)] - rows.start
            if local.numel():
                member.reset(local.tolist())

    def compute(
        self, control_action: ArticulationActions, joint_pos: torch.Tensor, joint_vel: torch.Tensor
    ) -> ArticulationActions:
        """Each member's action on its envs' rows of ``control_action``, ``joint_pos`` and ``joint_vel``.

        A field the members leave None (an explicit actuator's position and velocity targets) stays None.
        """
        fields = ("joint_positions", "joint_velocities", "joint_efforts")
        parts: dict[str, list] = {name: [] for name in fields}
        gains = hasattr(self, "stiffness")
        given = {name: getattr(control_action, name) for name in fields}
        for member, rows in zip(self.members, self._slices, strict=True):
            if gains:
                member.stiffness.copy_(self.stiffness[rows])
                member.damping.copy_(self.damping[rows])
            action = ArticulationActions(
                **{name: None if v is None else v[rows] for name, v in given.items()},
                joint_indices=control_action.joint_indices,
            )
            action = member.compute(action, joint_pos=joint_pos[rows], joint_vel=joint_vel[rows])
            for name in fields:
                parts[name].append(getattr(action, name))
            self.computed_effort[rows] = member.computed_effort
            self.applied_effort[rows] = member.applied_effort
        joined = {name: None if any(v is None for v in vs) else torch.cat(vs) for name, vs in parts.items()}
        return ArticulationActions(**joined, joint_indices=control_action.joint_indices)


def _rows(value, rows: slice, num_envs: int):
    """A per-env tensor argument's rows of one member (others as given)."""
    if isinstance(value, torch.Tensor) and value.dim() >= 1 and value.shape[0] == num_envs:
        return value[rows]
    return value


def _env_ids(env_ids, num_envs: int) -> torch.Tensor:
    """``env_ids`` (None: all, a slice, a sequence or tensor of ids) as a CPU tensor of env ids."""
    if env_ids is None:
        env_ids = slice(None)
    if isinstance(env_ids, slice):
        return torch.arange(num_envs)[env_ids]
    return torch.as_tensor(env_ids).reshape(-1).long().cpu()


@configclass
class EnvGroupsActuatorCfg(ActuatorBaseCfg):
    """Members of one :class:`EnvGroupsActuator` and how many consecutive envs each runs.

    The joint properties (:data:`SHARED_FIELDS`) are the members' (:meth:`of`); build it with :meth:`of`.
    """

    class_type: type = EnvGroupsActuator
    members: list[ActuatorBaseCfg] = dataclasses.field(default_factory=list)
    """The member actuator cfgs, in env order."""
    env_counts: list[int] = dataclasses.field(default_factory=list)
    """Envs of each member (consecutive, in order; they add up to the articulation's envs)."""
    physics_dt: float | None = None
    """Physics step [s] handed to members whose cfg has a ``physics_dt`` left None (learned actuators built outside a
    simulator, as the single-step torque builds them). None: leave the members' own."""

    @classmethod
    def of(cls, members: Sequence[ActuatorBaseCfg], env_counts: Sequence[int]) -> EnvGroupsActuatorCfg:
        """The group of ``members`` on ``env_counts`` envs each, with the members' shared joint properties."""
        _require_groupable(members, "EnvGroupsActuatorCfg.of")
        shared = {name: getattr(members[0], name) for name in SHARED_FIELDS}
        return cls(
            joint_names_expr=list(members[0].joint_names_expr),
            members=list(members),
            env_counts=[int(n) for n in env_counts],
            **shared,
        )
