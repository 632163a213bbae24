"""Presets as Hydra config groups, composed with ``key=value`` overrides into checked, typed configs.

A preset sets the ``data`` (:class:`~.data_cfg.DataCfg`), ``train`` (:class:`~.trainer_cfg.TrainCfg`) and ``models``
(``models.<kind>``: the ``train`` fields that differ for one model kind; the kinds listed are the ones trained)
sections. The shipped presets are the Hydra config group ``preset`` (``learned_actuators/config/preset/*.yaml``,
package data read through :mod:`importlib.resources` by Hydra's ``pkg://`` search path); a preset inherits another
through its Hydra defaults list (``defaults: [recipe_gru_pd, _self_]``). A preset file of the user's (YAML or JSON,
anywhere) joins the group when it is given: ``defaults`` (or ``"extends": "<preset name or file>"``) inherits.

Composition (:func:`compose_preset`) uses Hydra's Compose API: the structured schema generated from the cfg
dataclasses (:mod:`~.cfg_schema`) type-checks every preset value and every override, unknown keys are refused, and
:func:`~.cfg_checks.check_values` checks ranges and choices, all before any work. Overrides use Hydra's grammar
(``train.max_epochs=50``, ``data.test_groups=[up_and_down]``, ``+models.mlp.lr=0.01`` to add a section,
``~models.lstm`` to drop one); a ``train.<key>`` override also replaces ``models.<kind>.<key>`` where a model section
sets it (said in the log), so that it reaches every model. :func:`sweep_jobs` expands Hydra sweeps
(``train.seed=0,1,2``) for ``--multirun``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_module
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ..config import shipped_names
from ..errors import UserInputError
from .cfg_checks import check_values, model_types
from .cfg_schema import explain, schema_of, set_values, to_dataclass
from .data_cfg import DataCfg, check_data_cfg
from .trainer_cfg import TrainCfg

__all__ = [
    "PresetCfg",
    "apply_overrides",
    "build_cfg",
    "compose_config",
    "compose_preset",
    "load_preset",
    "merge_presets",
    "model_train_cfg",
    "parse_overrides",
    "sweep_jobs",
]

logger = logging.getLogger(__name__)

CONFIG_MODULE = "learned_actuators.config"
"""Package of the Hydra configs (primary configs ``train_actuator.yaml``, ``validate_actuator.yaml``; group
``preset/``)."""
GROUP = "preset"


@dataclass
class PresetCfg:
    """The typed shape of a resolved preset (what :func:`compose_preset` returns, as plain dicts)."""

    data: DataCfg = field(default_factory=DataCfg)
    train: TrainCfg = field(default_factory=TrainCfg)
    models: dict[str, TrainCfg] = field(default_factory=dict)


@functools.cache
def _preset_schema(typed_models: bool = True) -> type:
    """Structured schema of a preset; ``models.<kind>`` sections are partial (unset leaves are ``MISSING``).

    Hydra composes against the schema with untyped ``models`` sections (``typed_models=False``: OmegaConf cannot add
    a section to a mapping of structured values, and ``+models.mlp.lr=0.01`` must add one); the composed values are
    then merged into the typed schema, so every per-model value is type-checked too before any work.
    """
    models = dict[str, schema_of(TrainCfg, True)] if typed_models else dict[str, Any]
    data = schema_of(DataCfg, unset=("reader",))  # a preset chooses its data (no silent built-in demo data)
    fields = [
        ("data", data, field(default_factory=data)),
        ("train", schema_of(TrainCfg), field(default_factory=schema_of(TrainCfg))),
        ("models", models, field(default_factory=dict)),
    ]
    schema = dataclasses.make_dataclass("PresetSchema" if typed_models else "PresetComposeSchema", fields)
    if not typed_models:
        ConfigStore.instance().store(name="train_actuator_schema", node=schema)
    return schema


def _typed(data: dict, shown: dict[str, str], prefix: str = "") -> dict:
    """``data`` (a preset's values) merged into the typed schema; plain values (``MISSING`` left out)."""
    try:
        cfg = OmegaConf.merge(OmegaConf.structured(_preset_schema()), data)
    except OmegaConfBaseException as err:
        raise explain(err, PresetCfg, shown, prefix, "preset") from None
    return {
        "data": set_values(cfg.data),
        "train": set_values(cfg.train),
        "models": {str(k): set_values(v) for k, v in cfg.models.items()},
    }


@contextlib.contextmanager
def _hydra() -> Iterator[None]:
    """Hydra initialised on our config package for one composition (another owner's Hydra is put back after)."""
    held = GlobalHydra.instance()
    saved = held.hydra if held.is_initialized() else None
    held.clear()
    try:
        with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
            yield
    finally:
        if saved is not None:
            GlobalHydra.instance().initialize(saved)


def parse_overrides(items: Sequence[str]) -> list[Override]:
    """Overrides in Hydra's grammar, parsed; a malformed item is one clear error naming it."""
    parsed = []
    for item in items:
        if "=" not in item and not item.startswith("~"):
            raise UserInputError(f"override {item!r} must look like key=value (e.g. train.max_epochs=50).")
        try:
            parsed += OverridesParser.create().parse_overrides([item])
        except HydraException as err:
            reason = " ".join(str(err).split("\n")[1:2]) or str(err)
            raise UserInputError(f"override {item!r} is not valid Hydra override syntax ({reason}).") from None
    return parsed


def shown_values(parsed: Sequence[Override]) -> dict[str, str]:
    """The text the user gave per override key (shown in errors instead of the parsed value)."""
    return {o.key_or_group: o.input_line.split("=", 1)[1] for o in parsed if "=" in o.input_line}


def sweep_jobs(items: Sequence[str]) -> list[list[str]]:
    """One override list per job of a Hydra sweep (``train.seed=0,1,2``, ``range(0,3)``): their product, in order."""
    choices = []
    for o in parse_overrides(items):
        if o.is_sweep_override():
            choices.append([f"{o.get_key_element()}={v}" for v in o.sweep_string_iterator()])
        else:
            choices.append([o.input_line])
    return [list(job) for job in itertools.product(*choices)]


def _refuse_sweeps(parsed: Sequence[Override]) -> None:
    for o in parsed:
        if o.is_sweep_override():
            raise UserInputError(
                f"override {o.input_line!r} is a sweep: add --multirun to run one job per value, or quote the value "
                f"({o.key_or_group}='...') to give it as text."
            )


def compose_config(
    config_name: str, items: Sequence[str], root, label: str = "", top: str = "preset"
) -> tuple[DictConfig, dict[str, str]]:
    """Compose primary config ``config_name`` with overrides ``items``; returns plain values and the given texts.

    Args:
        config_name: ``train_actuator`` or ``validate_actuator`` (package ``learned_actuators.config``).
        items: Overrides (Hydra grammar); group choices first.
        root: The cfg dataclass the composed config has the shape of (for error messages).
        label: Put before error messages.
        top: What the top level is called in error messages.
    """
    parsed = parse_overrides(items)
    _refuse_sweeps(parsed)
    shown = shown_values(parsed)
    try:
        with _hydra():
            cfg = compose(config_name=config_name, overrides=list(items))
    except (HydraException, OmegaConfBaseException) as err:
        raise explain(err, root, shown, label, top) from None
    return cfg, shown


# ------------------------------------------------------------------------------------------------ preset sources

_REGISTERED: dict[str, str] = {}
"""Registered name in the ``preset`` group -> the file (or label) it came from."""


def _read_file(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        reason = " ".join(str(err).split())
        raise UserInputError(f"{path}: preset is not valid JSON or YAML ({reason}).") from None
    except OSError as err:
        raise UserInputError(f"{path}: cannot read the preset ({err.strerror}).") from err
    if not isinstance(data, dict):
        raise UserInputError(f"{path}: a preset is a JSON object (or YAML mapping) with data/train/models sections.")
    return data


def _option(name_or_path: str | Path | dict, label: str = "") -> str:
    """The name, in the ``preset`` group, of a shipped preset, a preset file or a preset dict (registered)."""
    if isinstance(name_or_path, dict):
        return _register(dict(name_or_path), label or "preset")
    path = Path(name_or_path)
    if path.is_file():
        return _register(_read_file(path), str(path))
    names = shipped_names("presets")
    if str(name_or_path) in names:
        return str(name_or_path)
    raise UserInputError(f"preset {str(name_or_path)!r} is neither a file nor a shipped preset {names}.")


def _register(data: dict, source: str) -> str:
    """Add a preset of the user's to the ``preset`` group (after checking its own values); returns its name."""
    data = {k: v for k, v in data.items() if k != "description"}
    parent, defaults = data.pop("extends", None), data.pop("defaults", None)
    if parent is not None and not isinstance(parent, str):
        raise UserInputError(f"{source}: 'extends' must be a preset name or path, got {parent!r}.")
    if defaults is not None and (not isinstance(defaults, list) or not all(isinstance(d, str) for d in defaults)):
        raise UserInputError(f"{source}: 'defaults' must be a list of preset names (and _self_), got {defaults!r}.")
    parents = [parent] if parent else [d for d in defaults or [] if d != "_self_"]
    try:
        names = [_option(p) for p in parents]
    except UserInputError as err:
        raise UserInputError(f"{source}: {'extends' if parent else 'defaults'}: {err}") from err
    _check_partial(data, f"{source}: ")
    name = f"_given_{len(_REGISTERED)}"
    node = {"defaults": [*names, "_self_"], **data} if names else data
    ConfigStore.instance().store(group=GROUP, name=name, node=node, package="_global_")
    _REGISTERED[name] = source
    return name


def _check_partial(data: dict, prefix: str) -> None:
    """Type, key, range and choice checks of one preset's own values (before they are merged with others)."""
    resolved = _typed(data, {}, prefix)
    try:
        _check_sections(resolved, {}, partial=True)
    except UserInputError as err:
        raise UserInputError(f"{prefix}{err}") from None


# -------------------------------------------------------------------------------------------------- resolution


def _check_sections(preset: dict, shown: dict[str, str], partial: bool = False) -> None:
    check_values(DataCfg, preset["data"], "data", shown)
    check_values(TrainCfg, preset["train"], "train", shown)
    for name, section in preset["models"].items():
        if name not in model_types():
            raise UserInputError(f"models: unknown model type '{name}'; expected {', '.join(model_types())}.")
        check_values(TrainCfg, section, f"models.{name}", shown)
    if not partial:
        check_data_cfg(to_dataclass(DataCfg, preset["data"]))


def _leaves(value, prefix: str) -> list[str]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, f"{prefix}.{k}" if prefix else str(k))]
    return [prefix]


def _propagate(cfg, parsed: Sequence[Override]) -> None:
    """A ``train.<key>`` override also replaces ``models.<kind>.<key>`` wherever a model section sets it."""
    for o in parsed:
        if not o.key_or_group.startswith("train.") or o.type == OverrideType.DEL:
            continue
        sub = o.key_or_group.removeprefix("train.")
        value = set_values(OmegaConf.select(cfg.train, sub, throw_on_missing=False))
        for leaf in _leaves(value, ""):
            path = f"{sub}.{leaf}" if leaf else sub
            new = OmegaConf.select(cfg.train, path)
            for name, section in cfg.models.items():
                parent, _, key = path.rpartition(".")
                node = OmegaConf.select(section, parent) if parent else section
                if node is None or key not in node or OmegaConf.is_missing(node, key) or node[key] == new:
                    continue
                logger.info("train.%s=%s also replaces models.%s.%s (was %s)", path, new, name, path, node[key])
                OmegaConf.update(section, path, new, merge=False)


def compose_preset(preset: str | Path | dict | None, overrides: Sequence[str] = (), label: str = "") -> dict:
    """A preset with overrides, composed by Hydra and checked: ``{"data": ..., "train": ..., "models": ...}``.

    Args:
        preset: A shipped preset name, a preset file (YAML or JSON), a preset dict, or None (the defaults).
        overrides: ``key=value`` overrides in Hydra's grammar (no sweeps: see :func:`sweep_jobs`).
        label: Put before error messages (e.g. ``preset bam_xl330: ``).

    Returns:
        Plain values: ``data`` and ``train`` complete, ``models.<kind>`` only the keys set for that kind.

    Raises:
        UserInputError: one line naming the key, the value and what is expected, for any wrong type, unknown key,
            out-of-range value or malformed override, before any work.
    """
    if any(o.split("=", 1)[0].lstrip("+~") == GROUP for o in overrides):
        raise UserInputError("override preset=...: give the preset with --preset NAME (or a preset file).")
    for o in parse_overrides(overrides):
        kind = o.key_or_group.split(".")[1] if o.key_or_group.startswith("models.") else None
        if kind is not None and kind not in model_types():
            raise UserInputError(
                f"override {o.input_line!r}: unknown model type '{kind}'; per-model keys look like "
                f"models.<{'|'.join(model_types())}>.<train field> (e.g. models.lstm.max_epochs=10)."
            )
    choice = [] if preset is None else [f"{GROUP}={_option(preset)}"]
    _preset_schema(typed_models=False)
    cfg, shown = compose_config("train_actuator", [*choice, *overrides], PresetCfg, label)
    _propagate(cfg, parse_overrides(overrides))
    resolved = _typed(OmegaConf.to_container(cfg, resolve=True), shown, label)
    try:
        _check_sections(resolved, shown)
    except UserInputError as err:
        raise UserInputError(f"{label}{err}") from None
    return resolved


def load_preset(name_or_path: str | Path) -> dict:
    """A shipped preset (by name) or a preset file, resolved (:func:`compose_preset` without overrides)."""
    return compose_preset(name_or_path)


def apply_overrides(preset: dict, overrides: Sequence[str]) -> dict:
    """``preset`` (a dict) with ``key=value`` overrides, resolved and checked (:func:`compose_preset`).

    The input is never modified.
    """
    return compose_preset(preset, overrides)


def merge_presets(base: dict, over: dict) -> dict:
    """``base`` updated recursively with ``over`` (nested dicts merge, other values replace); inputs unchanged."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merge_presets(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def build_cfg(preset: dict) -> tuple[DataCfg, TrainCfg]:
    """Typed configs from a resolved preset dict (unknown keys, wrong types and ranges are errors).

    The ``models`` sections (per-model ``train`` fields) are checked too.
    """
    if not isinstance(preset, dict):
        raise UserInputError(f"a preset is a mapping with data/train/models sections, got {preset!r}.")
    resolved = _typed(preset, {})
    _check_sections(resolved, {})
    return to_dataclass(DataCfg, resolved["data"]), to_dataclass(TrainCfg, resolved["train"])


def model_train_cfg(preset: dict, model_type: str) -> TrainCfg:
    """The :class:`TrainCfg` of one model kind: ``train`` with its ``models.<kind>`` section and ``model_type``."""
    section = (preset.get("models") or {}).get(model_type) or {}
    return build_cfg(merge_presets(preset, {"train": {"model_type": model_type, **section}}))[1]
