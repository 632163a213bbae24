"""The one validator of config values: types the structured schema cannot state, ranges and choices of every field.

OmegaConf's structured configs (:mod:`~learned_actuators.learning.cfg_schema`) check the plain types (``int``,
``float``, ``bool``, ``str``, lists, mappings, optional values); this module checks what they cannot: unions such as
``bool | Literal["auto"]``, finite numbers, and the ranges and choices in :data:`FIELD_CHECKS` (keyed by class name and
field, next to nothing else so that there is one table to read). Every error is a
:class:`~learned_actuators.errors.UserInputError` naming the key (``train.max_epochs``), the value given and what is
expected.
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
from ..network_file import FEATURES
from .models_cfg import FIT_PARAM_NAMES

__all__ = [
    "FIELD_CHECKS",
    "Check",
    "check_values",
    "checks_of",
    "model_types",
    "show",
    "type_name",
    "unknown_key_error",
]


def model_types() -> tuple[str, ...]:
    """The model kinds a preset may train (``train.model_type``, ``models.<kind>``, ``--models``): the registry's."""
    from .kinds import KINDS

    return tuple(KINDS)


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

FIELD_CHECKS: dict[str, dict[str, Check]] = {
    "TrainCfg": {
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
        "ensemble": AT_LEAST_ONE,
        "patience": AT_LEAST_ONE,
        "val_ratio": FRACTION,
        "num_threads": AT_LEAST_ONE,
        "jobs": AT_LEAST_ONE,
        "checkpoint_every": AT_LEAST_ONE,
        "max_steps_per_epoch": AT_LEAST_ONE,
        "max_batch_size": AT_LEAST_ONE,
        "large_data_hidden_size": AT_LEAST_ONE,
    },
    "RolloutLossCfg": {
        "horizon_s": POSITIVE,
        "weight": NON_NEGATIVE,
        "position_scale": POSITIVE,
        "starts_per_window": AT_LEAST_ONE,
        "horizon_end_s": POSITIVE,
        "curriculum_fraction": Check(gt=0, le=1),
    },
    "GRUModelCfg": {
        "features": Check(choices=FEATURES, nonempty=True),
        "mode": Check(choices=("residual", "direct")),
        "residual_penalty": NON_NEGATIVE,
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
        "friction_load": NON_NEGATIVE,
        "fit_params": Check(choices=FIT_PARAM_NAMES),
        "fit_generations": AT_LEAST_ONE,
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
        "baselines": Check(choices=("ideal_pd", "dc_motor", "fitted_pd", "fitted_pd_oracle")),
        "kp": NON_NEGATIVE,
        "kp_scale": POSITIVE,
        "kd": NON_NEGATIVE,
        "effort_limit": POSITIVE,
        "velocity_limit": POSITIVE,
        "growth_bins": AT_LEAST_ONE,
        "plot_trajectories": NON_NEGATIVE,
    },
}
"""Ranges and choices by cfg class name and field (``TrainCfg.model_type``: :func:`checks_of` adds the registry's)."""


def checks_of(cls) -> dict[str, Check]:
    """The checks of cfg dataclass ``cls`` by field (:data:`FIELD_CHECKS`; model kinds from the registry)."""
    checks = dict(FIELD_CHECKS.get(cls.__name__, {}))
    if cls.__name__ == "TrainCfg":
        checks["model_type"] = Check(choices=model_types())
    return checks


def unknown_key_error(where: str, key: str, names) -> UserInputError:
    """``where`` has no field ``key``: the error lists the fields and a close match."""
    close = difflib.get_close_matches(key, list(names), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return UserInputError(f"{where}: unknown key '{key}'{hint}; fields: {', '.join(sorted(names))}.")


def type_name(hint) -> str:
    """A field type in words (``an integer``, ``a list of strings``, ``true or false or one of auto``)."""
    origin = typing.get_origin(hint)
    if hint is type(None):
        return "null"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in typing.get_args(hint))
    if origin is Literal:
        return "one of " + ", ".join(map(str, typing.get_args(hint)))
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    if hint in names:
        return names[hint]
    if origin in (list, tuple):
        (arg, *_) = typing.get_args(hint) or (Any,)
        plural = {int: "integers", float: "numbers", bool: "booleans", str: "strings"}
        return f"a list of {plural.get(arg) or type_name(arg)}"
    if origin is dict or hint is dict:
        return "a mapping"
    if dataclasses.is_dataclass(hint):
        return f"a mapping of {hint.__name__} fields"
    return getattr(hint, "__name__", str(hint))


def _matches(value, hint) -> bool:
    """Whether ``value`` (plain Python, as a resolved config holds it) is of the field type ``hint``."""
    origin = typing.get_origin(hint)
    if hint is Any or hint is object:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arm) for arm in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is Literal:
        return any(value == arm and type(value) is type(arm) for arm in typing.get_args(hint))
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    if origin in (list, tuple):
        (arg, *_) = typing.get_args(hint) or (Any,)
        return isinstance(value, list | tuple) and all(_matches(v, arg) for v in value)
    if origin is dict or hint is dict:
        args = typing.get_args(hint)
        return isinstance(value, dict) and all(_matches(v, args[1] if args else Any) for v in value.values())
    if dataclasses.is_dataclass(hint):
        return isinstance(value, dict)
    return True


def show(value) -> str:
    """A value as the user would write it (text as is, anything else as JSON)."""
    return value if isinstance(value, str) else json.dumps(value)


def _check_one(value, hint, check: Check | None, key: str, shown: dict[str, str]) -> None:
    given = shown.get(key, show(value))
    if not _matches(value, hint):
        raise UserInputError(f"{key}={given}: expected {type_name(hint)}.")
    if check is None or value is None:
        return
    items = list(value) if isinstance(value, list | tuple) else [value]
    if check.nonempty and (not items or value == ""):
        raise UserInputError(f"{key}={given}: must not be empty.")
    bad = [v for v in items if not check.ok(v)]
    if bad:
        what = "is not allowed" if check.choices is not None else "is out of range"
        raise UserInputError(f"{key}={given}: {show(bad[0])} {what}; expected {check.describe()}.")


def check_values(cls, data: dict, where: str, shown: dict[str, str] | None = None) -> None:
    """Check every key of ``data`` (a plain, possibly partial dict of ``cls`` fields) against its field.

    Args:
        cls: The cfg dataclass (its nested dataclass fields are checked recursively).
        data: The values; keys that are not fields are errors.
        where: Key prefix for messages (``train``, ``models.lstm``; empty for top-level keys).
        shown: The text the user gave per full key (an override), shown instead of the parsed value.

    Raises:
        UserInputError: naming the key, the value and the expected type, range or choices.
    """
    shown = shown or {}
    if not isinstance(data, dict):
        raise UserInputError(f"{where}: expected a mapping of {cls.__name__} fields, got {show(data)}.")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    checks = checks_of(cls)
    for key, value in data.items():
        if key not in names:
            raise unknown_key_error(where or cls.__name__, key, names)
        hint, full = hints[key], f"{where}.{key}" if where else key
        if dataclasses.is_dataclass(hint) and isinstance(value, dict):
            check_values(hint, value, full, shown)
        else:
            _check_one(value, hint, checks.get(key), full, shown)
