"""The configs of ``scripts/excite_go2.py``: :class:`ExcitationCfg` and a backend cfg, composed with Hydra overrides.

The same machinery as the training and validation command lines: Hydra's override grammar
(:func:`~learned_actuators.learning.presets.parse_overrides`), a structured schema generated from the cfg dataclasses
(:func:`~learned_actuators.learning.cfg_schema.schema_of`), composition by Hydra
(:func:`~learned_actuators.learning.presets.compose_config`), errors as one line naming the key
(:func:`~learned_actuators.learning.cfg_schema.explain`, :func:`~learned_actuators.learning.cfg_checks.check_values`),
then the cfgs' own range checks: all before any work.

The top level holds the :class:`ExcitationCfg` fields (``chirp_f1_hz=3``, ``groups=[hips,calves]``) and one section
for the chosen backend: ``sim`` (:class:`~.sim_backend.SimBackendCfg`) or ``robot``
(:class:`~.robot_backend.RobotBackendCfg`, nested ``robot.limits.position_margin=0.08``). Every mapping starts with
all its keys spelled out, so that one entry is changed without Hydra's ``+``: ``amplitude.calf=0.3``,
``robot.limits.max_velocity.calf=10``, ``nominal.FL_calf_joint=-1.4`` (``nominal`` starts as the Go2's standing
pose), ``kp.calf=30`` (``kp`` and ``kd`` start as the task's gain for each part; ``kp=30`` sets every part).
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Sequence

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.types import Override, OverrideType
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ..errors import UserInputError
from ..learning.cfg_checks import check_values
from ..learning.cfg_schema import explain, schema_of, to_dataclass
from ..learning.presets import compose_config, parse_overrides
from .go2 import GO2_JOINT_NAMES, GO2_NOMINAL_POSE, PARTS
from .plan_cfg import ExcitationCfg

__all__ = ["BACKENDS", "PER_PART", "cli_cfg_class", "compose_session_cfg"]

BACKENDS = ("sim", "robot")
"""Backend sections (one per run, chosen with ``--backend``)."""

PER_PART = ("kp", "kd")
"""Fields that are one number or one per part: a per-part mapping here, ``kp=30`` meaning 30 for every part."""

_KEYS = {
    "amplitude": PARTS,
    "kp": PARTS,
    "kd": PARTS,
    "nominal": tuple(GO2_JOINT_NAMES),
    "robot.limits.max_velocity": PARTS,
    "robot.limits.max_torque": PARTS,
}
"""The keys each mapping may have (an entry outside them is refused before composition)."""


def _backend_class(backend: str) -> type:
    if backend == "sim":
        from .sim_backend import SimBackendCfg

        return SimBackendCfg
    from .robot_backend import RobotBackendCfg

    return RobotBackendCfg


def _default(f: dataclasses.Field) -> dataclasses.Field:
    if f.name in PER_PART:
        return dataclasses.field(default_factory=functools.partial(dict.fromkeys, PARTS, f.default))
    if f.name == "nominal":
        return dataclasses.field(default_factory=functools.partial(dict, GO2_NOMINAL_POSE))
    if f.default is not dataclasses.MISSING:
        return dataclasses.field(default=f.default)
    return dataclasses.field(default_factory=f.default_factory)


@functools.cache
def cli_cfg_class(backend: str) -> type:
    """The command line's cfg dataclass: the :class:`ExcitationCfg` fields and the ``backend`` section.

    ``kp`` and ``kd`` are per-part mappings (default: the :class:`ExcitationCfg` gain for each part) and ``nominal``
    starts as the full standing pose (:data:`~.go2.GO2_NOMINAL_POSE`): the same plan as the defaults, with every
    entry settable.
    """
    if backend not in BACKENDS:
        raise UserInputError(f"--backend {backend}: expected one of {', '.join(BACKENDS)}.")
    hints = typing.get_type_hints(ExcitationCfg)
    fields = []
    for f in dataclasses.fields(ExcitationCfg):
        hint = dict[str, float] if f.name in PER_PART else hints[f.name]
        fields.append((f.name, hint, _default(f)))
    cls = _backend_class(backend)
    fields.append((backend, cls, dataclasses.field(default_factory=cls)))
    return dataclasses.make_dataclass(f"ExciteGo2{backend.title()}Cfg", fields)


def _per_part_line(o: Override) -> str:
    """A ``kp=30`` override as ``kp={hip:30,thigh:30,calf:30}``; a mapping as given; anything else refused."""
    value = o.value()
    if isinstance(value, dict):
        return o.input_line
    if not isinstance(value, int | float) or isinstance(value, bool):
        text = o.input_line.split("=", 1)[1]
        raise UserInputError(
            f"{o.key_or_group}={text}: expected a number (for every part) or a mapping of {', '.join(PARTS)} to "
            f"numbers (e.g. {o.key_or_group}.calf=30)."
        )
    prefix = o.input_line[: len(o.input_line) - len(o.input_line.lstrip("+"))]
    entries = ",".join(f"{part}:{float(value)!r}" for part in PARTS)
    return f"{prefix}{o.key_or_group}={{{entries}}}"


def _checked_items(backend: str, items: Sequence[str]) -> list[str]:
    """The overrides, parsed and checked for what composition cannot say well; ``kp=30`` spelled per part."""
    out, other = [], next(b for b in BACKENDS if b != backend)
    for o in parse_overrides(items):
        key = o.key_or_group
        head, _, last = key.rpartition(".")
        if key.split(".")[0] == other:
            raise UserInputError(
                f"{o.input_line}: {other}.* settings are for --backend {other}; this run uses {backend}."
            )
        if o.is_sweep_override():
            raise UserInputError(
                f"override {o.input_line!r} is a Hydra sweep, which excite_go2 does not run; write a list as "
                f"{key}=[a,b] or quote text with a comma ({key}='a,b')."
            )
        if head in _KEYS and last not in _KEYS[head]:
            raise UserInputError(f"{o.input_line}: {head} has no '{last}'; expected one of {', '.join(_KEYS[head])}.")
        out.append(_per_part_line(o) if key in PER_PART and o.type != OverrideType.DEL else o.input_line)
    return out


def compose_session_cfg(backend: str, overrides: Sequence[str] = (), given: dict | None = None):
    """``(ExcitationCfg, backend cfg)`` from the defaults, ``given`` values (the flags) and Hydra ``overrides``.

    Args:
        backend: ``sim`` or ``robot``: the section the overrides may set besides the :class:`ExcitationCfg` fields.
        overrides: ``key=value`` overrides in Hydra's grammar, applied in order after ``given``.
        given: Plain values in the same shape (``{"groups": ["calves"], "sim": {"device": "cpu"}}``).

    Raises:
        UserInputError: one line naming the key, the value and what is expected (a wrong type, an unknown key, a
            malformed override, a value out of range), before any work.
    """
    root = cli_cfg_class(backend)
    items = _checked_items(backend, overrides)
    try:
        node = OmegaConf.merge(OmegaConf.structured(schema_of(root)), given or {})
    except OmegaConfBaseException as err:
        raise explain(err, root, {}, top="ExcitationCfg") from None
    name = f"excite_go2_{backend}"
    ConfigStore.instance().store(name=name, node=node)
    cfg, shown = compose_config(name, items, root, top="ExcitationCfg")
    try:
        values = OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as err:
        raise explain(err, root, shown, top="ExcitationCfg") from None
    check_values(root, values, "", shown)
    section = values.pop(backend)
    excitation = to_dataclass(ExcitationCfg, values)
    backend_cfg = to_dataclass(_backend_class(backend), section)
    excitation.validate()
    if backend == "robot":
        from .robot_backend import check_robot_cfg

        check_robot_cfg(backend_cfg)
    return excitation, backend_cfg
