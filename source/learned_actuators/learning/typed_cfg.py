"""Typed configs from JSON-like dicts and ``key=value`` overrides: every value checked against its cfg field.

Types come from the dataclass annotations (:func:`typing.get_type_hints`): ``int``, ``float``, ``bool``, ``str``,
``list[...]``, ``tuple[...]``, ``dict[...]``, ``Literal[...]``, unions with ``None`` and nested dataclasses. Ranges
and choices that the types cannot say live in :data:`FIELD_CHECKS` (keyed by class name and field). Every error is a
:class:`~learned_actuators.errors.UserInputError` naming the field path (``train.max_epochs``), the value given and
what is expected.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import UserInputError

__all__ = ["FIELD_CHECKS", "Check", "coerce", "field_hint", "from_dict", "parse_value", "unknown_key_error"]


@dataclass(frozen=True)
class Check:
    """Range and choices of a field (applied to every element of a list/tuple field)."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: tuple | None = None
    nonempty: bool = False

    def describe(self) -> str:
        """What a valid value is, in words."""
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        parts = []
        for op, bound in ((">=", self.ge), (">", self.gt), ("<=", self.le), ("<", self.lt)):
            if bound is not None:
                parts.append(f"{op} {bound:g}")
        return "a value " + " and ".join(parts)

    def ok(self, value) -> bool:
        """Whether one (scalar) value passes."""
        if self.choices is not None:
            return value in self.choices
        if not isinstance(value, int | float) or isinstance(value, bool):
            return True
        return (
            (self.ge is None or value >= self.ge)
            and (self.gt is None or value > self.gt)
            and (self.le is None or value <= self.le)
            and (self.lt is None or value < self.lt)
        )


POSITIVE, NON_NEGATIVE, AT_LEAST_ONE, FRACTION = Check(gt=0), Check(ge=0), Check(ge=1), Check(ge=0, lt=1)

_FEATURES = ("q", "q_target", "qd", "pos_error", "tau_pd", "tau_phys", "kp", "kd")
_FIT_PARAMS = ("kp", "kp_scale", "kd", "stall_torque", "no_load_speed", "friction")

FIELD_CHECKS: dict[str, dict[str, Check]] = {
    "TrainCfg": {
        "model_type": Check(choices=("gru_pd", "lstm", "mlp")),
        "seq_len_s": POSITIVE,
        "stride_s": POSITIVE,
        "burn_in_s": NON_NEGATIVE,
        "batch_size": AT_LEAST_ONE,
        "frames_per_batch": AT_LEAST_ONE,
        "lr": POSITIVE,
        "lr_schedule": Check(choices=("constant", "cosine")),
        "weight_decay": NON_NEGATIVE,
        "input_noise": NON_NEGATIVE,
        "ema_decay": FRACTION,
        "grad_clip": POSITIVE,
        "max_epochs": AT_LEAST_ONE,
        "patience": AT_LEAST_ONE,
        "val_ratio": FRACTION,
        "num_threads": AT_LEAST_ONE,
        "checkpoint_every": AT_LEAST_ONE,
    },
    "RolloutLossCfg": {
        "horizon_s": POSITIVE,
        "weight": NON_NEGATIVE,
        "position_scale": POSITIVE,
        "starts_per_window": AT_LEAST_ONE,
    },
    "GRUModelCfg": {
        "features": Check(choices=_FEATURES, nonempty=True),
        "mode": Check(choices=("residual", "direct")),
        "hidden_size": AT_LEAST_ONE,
        "num_layers": AT_LEAST_ONE,
        "dropout": FRACTION,
    },
    "LSTMModelCfg": {"hidden_size": AT_LEAST_ONE, "num_layers": AT_LEAST_ONE, "dropout": FRACTION},
    "MLPModelCfg": {
        "input_idx": Check(ge=0, nonempty=True),
        "hidden": Check(ge=1, nonempty=True),
        "activation": Check(choices=("softsign", "tanh", "elu", "relu")),
    },
    "PhysicsCfg": {
        "kp": NON_NEGATIVE,
        "kp_scale": POSITIVE,
        "kd": NON_NEGATIVE,
        "stall_torque": POSITIVE,
        "no_load_speed": POSITIVE,
        "friction": NON_NEGATIVE,
        "friction_velocity": POSITIVE,
        "fit_params": Check(choices=_FIT_PARAMS),
    },
    "DataCfg": {
        "reader": Check(choices=("demo", "column_map", "bench_csv", "history_npz", "torque_profile")),
        "split": Check(choices=("groups", "runs", "blocks", "kfold")),
        "blocks": Check(ge=2),
        "test_blocks": NON_NEGATIVE,
        "test_span_s": NON_NEGATIVE,
        "gap_s": NON_NEGATIVE,
        "group_key": Check(nonempty=True),
        "test_groups": Check(nonempty=True),
        "ratios": NON_NEGATIVE,
        "max_runs": AT_LEAST_ONE,
        "dt": POSITIVE,
        "path": Check(nonempty=True),
        "column_map": Check(nonempty=True),
    },
    "ValidationCfg": {  # learned_actuators.validation.validation_cfg (scripts/validate_actuator.py overrides)
        "inertia": POSITIVE,
        "mass": NON_NEGATIVE,
        "length": NON_NEGATIVE,
        "decimation": AT_LEAST_ONE,
        "max_physics_dt": POSITIVE,
        "min_physics_dt": POSITIVE,
        "baselines": Check(choices=("ideal_pd", "dc_motor", "fitted_pd")),
        "kp": NON_NEGATIVE,
        "kp_scale": POSITIVE,
        "kd": NON_NEGATIVE,
        "effort_limit": POSITIVE,
        "velocity_limit": POSITIVE,
        "growth_bins": AT_LEAST_ONE,
        "plot_trajectories": NON_NEGATIVE,
    },
}


def unknown_key_error(where: str, key: str, names) -> UserInputError:
    """``where`` has no field ``key``: the error lists the fields and a close match."""
    close = difflib.get_close_matches(key, list(names), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return UserInputError(f"{where}: unknown key '{key}'{hint}; fields: {', '.join(sorted(names))}.")


def _type_name(hint) -> str:
    origin = typing.get_origin(hint)
    if hint is type(None):
        return "null"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(hint))
    if origin is Literal:
        return "one of " + ", ".join(map(str, typing.get_args(hint)))
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    if hint in names:
        return names[hint]
    if origin in (list, tuple):
        return f"a list of {_type_name(typing.get_args(hint)[0])}s"
    if origin is dict or hint is dict:
        return "a mapping"
    if dataclasses.is_dataclass(hint):
        return f"a mapping of {hint.__name__} fields"
    return getattr(hint, "__name__", str(hint))


class _MismatchError(Exception):
    pass


def _coerce(value, hint):  # noqa: C901 - one branch per supported type
    """``value`` as ``hint`` or :class:`_MismatchError` (no range checks here)."""
    if hint is Any or hint is object:
        return value
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        for arm in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arm)
            except _MismatchError:
                continue
        raise _MismatchError
    if origin is Literal:
        if value in typing.get_args(hint):
            return value
        raise _MismatchError
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _MismatchError
    if hint is int:
        if isinstance(value, bool):
            raise _MismatchError
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _MismatchError
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _MismatchError
        return float(value)
    if hint is str:
        if isinstance(value, str):
            return value
        raise _MismatchError
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise _MismatchError
        (arg, *_) = typing.get_args(hint) or (Any,)
        items = [_coerce(v, arg) for v in value]
        return items if origin is list else tuple(items)
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise _MismatchError
        args = typing.get_args(hint)
        val_hint = args[1] if len(args) == 2 else Any
        return {str(k): _coerce(v, val_hint) for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise _MismatchError
        return value  # checked field by field by from_dict
    return value


def coerce(value, hint, where: str, check: Check | None = None):
    """``value`` converted to the field type ``hint`` and checked against ``check``; errors name ``where``."""
    try:
        out = _coerce(value, hint)
    except _MismatchError:
        raise UserInputError(f"{where}={_show(value)}: expected {_type_name(hint)}.") from None
    if check is not None and out is not None:
        items = list(out) if isinstance(out, list | tuple) else [out]
        if check.nonempty and (not items or out == ""):
            raise UserInputError(f"{where}={_show(value)}: must not be empty.")
        bad = [v for v in items if not check.ok(v)]
        if bad:
            what = "is not allowed" if check.choices is not None else "is out of range"
            raise UserInputError(f"{where}={_show(value)}: {_show(bad[0])} {what}; expected {check.describe()}.")
    return out


def _show(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def field_hint(cls, name: str):
    """The resolved type of field ``name`` of dataclass ``cls`` (None when there is no such field)."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    return hints[name] if name in names else None


def _nested_dataclass(hint):
    """The dataclass inside ``hint`` (``Cfg`` or ``Cfg | None``), else None."""
    if dataclasses.is_dataclass(hint):
        return hint
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if dataclasses.is_dataclass(a)]
        return inner[0] if inner else None
    return None


def check_fields(cls, data: dict, where: str) -> dict:
    """Coerce and check every key of ``data`` (a partial dict of ``cls`` fields); returns the converted dict."""
    if not isinstance(data, dict):
        raise UserInputError(f"{where}: expected a mapping of {cls.__name__} fields, got {_show(data)}.")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    checks = FIELD_CHECKS.get(cls.__name__, {})
    out = {}
    for key, value in data.items():
        if key not in names:
            raise unknown_key_error(where, key, names)
        sub = _nested_dataclass(hints[key])
        if sub is not None and isinstance(value, dict):
            out[key] = check_fields(sub, value, f"{where}.{key}")
        else:
            out[key] = coerce(value, hints[key], f"{where}.{key}", checks.get(key))
    return out


def from_dict(cls, data: dict, where: str):
    """An instance of dataclass ``cls`` from ``data`` (unknown keys, wrong types and ranges are errors)."""
    hints = typing.get_type_hints(cls)
    kwargs = check_fields(cls, data, where)
    for key, value in list(kwargs.items()):
        sub = _nested_dataclass(hints[key])
        if sub is not None and isinstance(value, dict):
            kwargs[key] = from_dict(sub, value, f"{where}.{key}")
    return cls(**kwargs)


def _leaf_is_str(hint) -> bool:
    if hint is str:
        return True
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return str in typing.get_args(hint)
    return False


def parse_value(text: str, hint) -> Any:
    """Parse an override's text for a field of type ``hint``: JSON when it parses, else the text itself.

    For string fields a bare word stays text (``data.path=123`` is the path ``"123"``); ``null`` still means None.
    """
    if _leaf_is_str(hint) and text != "null" and not (text.startswith('"') and text.endswith('"')):
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = text
    if _is_list(hint) and value is not None and not isinstance(value, list | dict):
        return [value]  # `data.test_groups=up_and_down` is the one-element list
    return value


def _is_list(hint) -> bool:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(hint))
    return typing.get_origin(hint) in (list, tuple)
