"""OmegaConf structured configs generated from our cfg dataclasses, and OmegaConf errors as one clear line.

:func:`schema_of` turns a cfg dataclass (``DataCfg``, ``TrainCfg`` and the model cfgs, ``ValidationCfg``) into an
OmegaConf-compatible dataclass with the same fields and defaults: the types OmegaConf can check (``int``, ``float``,
``bool``, ``str``, lists, string-keyed mappings, optional values, nested cfgs) stay, the others (``bool |
Literal["auto"]``, ``Literal[...]``) become ``Any`` and are checked by :func:`~.cfg_checks.check_values`. With
``partial=True`` every leaf defaults to ``MISSING`` (not set): the per-model sections of a preset, which set only
what differs from ``train``. Generated from the dataclasses, so a new field needs no second declaration.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any

from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from ..errors import UserInputError
from .cfg_checks import show, type_name, unknown_key_error

__all__ = ["explain", "field_at", "schema_of", "set_values", "to_dataclass"]

_SIMPLE = (int, float, bool, str)


def _omega_type(hint):
    """The type OmegaConf checks for a field of type ``hint`` (``Any`` where it cannot)."""
    origin = typing.get_origin(hint)
    if hint in _SIMPLE or hint is Any:
        return hint
    if dataclasses.is_dataclass(hint):
        return schema_of(hint)
    if origin in (typing.Union, types.UnionType):
        arms = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = _omega_type(arms[0]) if len(arms) == 1 else Any
        return Any if inner is Any else typing.Optional[inner]  # noqa: UP045 - OmegaConf reads typing.Optional
    if origin in (list, tuple):
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        return list[_omega_type(args[0]) if len(args) == 1 else Any]
    if origin is dict or hint is dict:
        args = typing.get_args(hint)
        return dict[str, _omega_type(args[1]) if args else Any]
    return Any


def _default(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return dataclasses.field(default=f.default)
    return dataclasses.field(default_factory=f.default_factory)


@functools.cache
def schema_of(cls, partial: bool = False, unset: tuple[str, ...] = ()) -> type:
    """The OmegaConf structured-config dataclass of cfg dataclass ``cls``.

    ``partial``: every leaf defaults to ``MISSING`` (not set); ``unset``: these fields only (a value the config must
    choose, e.g. a preset's ``data.reader``; the dataclass default applies when it is built).
    """
    hints = typing.get_type_hints(cls)
    fields = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            sub = schema_of(hint, partial)
            fields.append((f.name, sub, dataclasses.field(default_factory=sub)))
        else:
            missing = partial or f.name in unset
            fields.append((f.name, _omega_type(hint), dataclasses.field(default=MISSING) if missing else _default(f)))
    return dataclasses.make_dataclass(f"{'Partial' if partial else ''}{cls.__name__}Schema", fields)


def set_values(node) -> Any:
    """A config node as plain Python, leaving out what is not set (``MISSING``, and nested cfgs with nothing set)."""
    if isinstance(node, DictConfig | ListConfig) and node._is_none():
        return None
    if isinstance(node, DictConfig):
        structured = dataclasses.is_dataclass(OmegaConf.get_type(node))
        out = {}
        for key in node:
            if OmegaConf.is_missing(node, key):
                continue
            value = set_values(node._get_node(key))
            child = node._get_node(key)
            if isinstance(child, DictConfig) and dataclasses.is_dataclass(OmegaConf.get_type(child)) and not value:
                continue
            out[str(key)] = value
        return out if structured or out else {}
    if isinstance(node, ListConfig):
        return [set_values(node._get_node(i)) for i in range(len(node))]
    return node._value() if hasattr(node, "_value") else node


def to_dataclass(cls, data: dict):
    """An instance of cfg dataclass ``cls`` from checked plain values (nested cfgs built, lists as tuples where due)."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in data.items():
        hint = hints[key]
        if dataclasses.is_dataclass(hint) and isinstance(value, dict):
            value = to_dataclass(hint, value)
        elif typing.get_origin(hint) is tuple or (
            typing.get_origin(hint) in (typing.Union, types.UnionType)
            and any(typing.get_origin(a) is tuple for a in typing.get_args(hint))
        ):
            value = tuple(value) if isinstance(value, list) else value
        kwargs[key] = value
    return cls(**kwargs)


def field_at(cls, key: str):
    """``(type hint, parent dataclass, field names of the parent)`` of dotted ``key`` below cfg dataclass ``cls``.

    The hint is None when the key does not exist (the parent then is the deepest dataclass reached).
    """
    hint, parent = cls, cls
    for part in key.split("."):
        if typing.get_origin(hint) is dict:  # a mapping's key: step to its values' type
            hint = (typing.get_args(hint) or (str, Any))[1]
            continue
        if not dataclasses.is_dataclass(hint):
            return None, parent, []
        parent = hint
        names = {f.name for f in dataclasses.fields(hint)}
        if part not in names:
            return None, parent, sorted(names)
        hint = typing.get_type_hints(hint)[part]
        arms = [a for a in typing.get_args(hint) if dataclasses.is_dataclass(a)]
        hint = arms[0] if arms and typing.get_origin(hint) in (typing.Union, types.UnionType) else hint
    return hint, parent, sorted(f.name for f in dataclasses.fields(parent))


def explain(err: BaseException, root, shown: dict[str, str], prefix: str = "", top: str = "config") -> UserInputError:
    """An OmegaConf/Hydra error about the config of cfg dataclass ``root`` as one line naming key, value, type.

    Args:
        err: The exception (a Hydra composition error is explained by its cause).
        root: The cfg dataclass of the whole config (its fields are the top-level keys).
        shown: The text the user gave per key (overrides), shown instead of the parsed value.
        prefix: Put before the message (the preset file the value came from).
        top: What the top level is called in messages about its keys.
    """
    cause = err
    while not isinstance(cause, OmegaConfBaseException) and cause.__cause__ is not None:
        cause = cause.__cause__
    key = str(getattr(cause, "full_key", "") or "")
    if not isinstance(cause, OmegaConfBaseException) or not key:
        text = " ".join(str(err).split())
        return UserInputError(f"{prefix}{text}")
    key = key.replace("[", ".").replace("]", "")
    hint, parent, names = field_at(root, key)
    where, last = key.rpartition(".")[0], key.rpartition(".")[2]
    longer = sorted(k for k in shown if k.startswith(f"{key}."))
    if longer and hint is not None and not _is_mapping(hint) and not dataclasses.is_dataclass(hint):
        return UserInputError(
            f"{prefix}{longer[0]}={shown[longer[0]]}: '{key}' is a single value ({type_name(hint)}) and has no field "
            f"'{longer[0].removeprefix(key + '.')}'."
        )
    if isinstance(cause, ConfigKeyError | AttributeError) or (hint is None and names):
        if (where and _is_mapping(field_at(root, where)[0])) or last in names:  # a real key the config lacks
            given = longer[0] if longer else key
            return UserInputError(
                f"{prefix}{given}={shown.get(given, '...')}: {where} has no '{last}' to change; add it with Hydra's "
                f"+ prefix (+{given}=...)."
            )
        found = unknown_key_error(where or top, last, names or [f.name for f in dataclasses.fields(parent)])
        return UserInputError(f"{prefix}{found}")
    value = getattr(cause, "value", None)
    given = shown.get(key, show(value) if value is not None else "?")
    expected = type_name(hint) if hint is not None else "a value of another type"
    return UserInputError(f"{prefix}{key}={given}: expected {expected}.")


def _is_mapping(hint) -> bool:
    return typing.get_origin(hint) is dict or hint is dict
