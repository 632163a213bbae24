"""The GRU-PD cfg on Isaac Lab 3's native Newton actuator path: the one module that depends on Isaac Lab internals.

Isaac Lab 3.0.0 has no public way for an extension's actuator cfg to run natively in Newton: with
``sim.use_newton_actuators=True`` (the default) it authors ``NewtonActuator`` USD prims only for a fixed list of its
own cfg classes and rejects every other explicit cfg twice (while authoring the prims and while building the
articulation's actuator collection), both through
``isaaclab.sim.schemas.schemas_actuators._is_newton_native_actuator_cfg``. Everything past the prims is generic:
Newton's USD importer builds an actuator for every ``NewtonActuator`` prim whose API schema is registered (ours,
``LearnedActuatorsGRUPDDriveAPI`` -> :class:`~learned_actuators.newton_drives.DriveGRUPD`, is), and Isaac Lab's
Newton adapter steps, resets and reports every actuator of the Newton model.

:func:`install` (called when :mod:`learned_actuators.actuators` is imported) therefore wraps two functions of that
module, and nothing else:

* ``_is_newton_native_actuator_cfg``: also accepts a :class:`CombinedGRUAndPDActuatorCfg` whose ``class_type`` is
  exactly :class:`CombinedGRUAndPDActuator` (both validators look the function up in the module at call time);
* ``author_actuator_prims`` (called by ``define_actuator_properties`` from ``ArticulationCfg._post_spawn``, after the
  robot is spawned and before the cloner and Newton's importer read the stage): after Isaac Lab authored its prims
  (our cfg is a ``DCMotorCfg``, so each joint gets a PD + DC-motor prim with the motor limits, the effort limit
  defaulting to the joint's authored drive limit), the prims of our groups' joints are converted to our drive:
  their API schemas and ``newton:`` attributes are replaced by ``LearnedActuatorsGRUPDDriveAPI`` with the network
  file and every model parameter as resolved by the Python-path actuator itself (built once for one env to resolve
  the cfg against the file and run its checks, so both paths use the same values and raise the same errors).

Versions: the hooks are installed only with the versions in :data:`SUPPORTED_VERSIONS`; with others a warning says
so, :func:`native_path_available` is False and the GRU-PD cfg behaves like the LSTM and MLP cfgs (Python path,
``sim.use_newton_actuators=False``, which the package's task cfgs then set). :data:`INTERNALS` fingerprints the
source of every internal this relies on; ``tests/actuators/test_isaaclab_native.py`` fails the day one of them
changes, as it does for a version change.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import logging
import math
import os
from importlib import metadata
from typing import Any

__all__ = [
    "INTERNALS",
    "SUPPORTED_VERSIONS",
    "changed_internals",
    "install",
    "installed_versions",
    "native_path_available",
    "runs_natively",
    "uninstall",
]

logger = logging.getLogger(__name__)

SUPPORTED_VERSIONS = {"isaaclab": "3.0.0", "newton": "1.6.1"}
"""Distribution versions the hooks were written against; others leave Isaac Lab untouched."""

INTERNALS = {
    # the two functions wrapped here, and the authoring and validation around them
    "isaaclab.sim.schemas.schemas_actuators:_is_newton_native_actuator_cfg": "fd48b5c765f5dabe",
    "isaaclab.sim.schemas.schemas_actuators:validate_newton_native_actuator_cfgs": "091e93c87c8e3165",
    "isaaclab.sim.schemas.schemas_actuators:define_actuator_properties": "b415476ac4453dbe",
    "isaaclab.sim.schemas.schemas_actuators:author_actuator_prims": "771722d6684ae273",
    "isaaclab.assets.articulation.articulation_cfg:ArticulationCfg._post_spawn": "be0069a7241f3ae6",
    "isaaclab.actuators.actuator_base_cfg:_is_implicit_actuator_cfg": "5dbda78c413e0a33",
    # the Newton backend: native groups, adapter stepping/reset over every actuator of the model
    **{
        f"isaaclab_newton.assets.articulation.actuator_control:NewtonActuatorControl.{name}": fingerprint
        for name, fingerprint in (
            ("prepare_native_actuators", "abacdf1a6ae80dc1"),
            ("reset_native_actuators", "b2ad2c4d25680f66"),
        )
    },
    "isaaclab.actuators.newton.adapter:NewtonActuatorAdapter.step": "877c7ef4fb967109",
    "isaaclab.actuators.newton.adapter:NewtonActuatorAdapter.reset": "147830d2bd1b8710",
    "isaaclab_newton.physics.newton_manager:NewtonManager.activate_newton_actuator_path": "4072117c3433c951",
    # Newton's importer: schema lookup and attribute reading of actuator prims
    "newton._src.actuators.usd_parser:parse_actuator_prim": "f74103e07e7a6671",
    "newton._src.actuators.usd_parser:_read_schema_attrs": "b1355ca032e1dc20",
}
"""``module:qualname`` -> first 16 hex digits of the SHA-256 of its source (``inspect.getsource``), as installed
with :data:`SUPPORTED_VERSIONS`. :func:`changed_internals` lists the ones that differ."""

_state: dict[str, Any] = {"installed": False, "originals": {}}


def installed_versions() -> dict[str, str | None]:
    """Installed versions of the distributions in :data:`SUPPORTED_VERSIONS` (None: not installed)."""
    versions: dict[str, str | None] = {}
    for name in SUPPORTED_VERSIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _fingerprint(ref: str) -> str | None:
    module_name, qualname = ref.split(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        source = inspect.getsource(inspect.unwrap(obj))  # Isaac Lab's function, not the hook around it
    except (ImportError, AttributeError, OSError, TypeError):
        return None
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def changed_internals() -> dict[str, str | None]:
    """Internals of :data:`INTERNALS` whose source differs from the fingerprint (ref -> new fingerprint or None)."""
    changed = {}
    for ref, expected in INTERNALS.items():
        found = _fingerprint(ref)
        if found != expected:
            changed[ref] = found
    return changed


def native_path_available() -> bool:
    """Whether the hooks are installed, i.e. the GRU-PD cfg runs natively with ``sim.use_newton_actuators=True``."""
    return bool(_state["installed"])


def runs_natively(cfg) -> bool:
    """Whether ``cfg`` runs natively in Newton with ``sim.use_newton_actuators=True`` (else it needs the flag off)."""
    return native_path_available() and _native_kind(cfg) is not None


def install() -> bool:
    """Install the two hooks (idempotent). Returns :func:`native_path_available`.

    Does nothing (and warns once) when the installed Isaac Lab or Newton versions are not
    :data:`SUPPORTED_VERSIONS`, or when Isaac Lab's authoring module lacks a function the hooks wrap.
    """
    if _state["installed"]:
        return True
    versions = installed_versions()
    if versions != SUPPORTED_VERSIONS:
        logger.warning(
            "learned_actuators: Isaac Lab/Newton %s are not the versions its Newton-native GRU-PD path was written "
            "for (%s); CombinedGRUAndPDActuatorCfg runs on Isaac Lab's Python actuator path "
            "(sim.use_newton_actuators=False, set by the learned_actuators task cfgs).",
            versions,
            SUPPORTED_VERSIONS,
        )
        return False
    from isaaclab.sim.schemas import schemas_actuators

    originals = {}
    for name in ("_is_newton_native_actuator_cfg", "author_actuator_prims"):
        function = getattr(schemas_actuators, name, None)
        if not callable(function):
            logger.warning("learned_actuators: isaaclab has no %s; the Newton-native GRU-PD path is off.", name)
            return False
        originals[name] = function
    accepts, author = originals["_is_newton_native_actuator_cfg"], originals["author_actuator_prims"]

    def _is_newton_native_actuator_cfg(cfg: Any) -> bool:
        return _native_kind(cfg) is not None or accepts(cfg)

    def author_actuator_prims(stage: Any, articulation_prim_path: str, actuator_cfgs: dict[str, Any]) -> None:
        author(stage, articulation_prim_path, actuator_cfgs)
        ours = {name: cfg for name, cfg in actuator_cfgs.items() if _native_kind(cfg) is not None}
        if ours:
            _convert_prims(stage, articulation_prim_path, ours)

    for hook, original in ((_is_newton_native_actuator_cfg, accepts), (author_actuator_prims, author)):
        hook.__wrapped__ = original
        hook.__doc__ = f"{original.__doc__}\n\n(Wrapped by {__name__}: also handles our learned actuator cfgs.)"
    schemas_actuators._is_newton_native_actuator_cfg = _is_newton_native_actuator_cfg
    schemas_actuators.author_actuator_prims = author_actuator_prims
    _state["originals"] = originals
    _state["installed"] = True
    return True


def uninstall() -> None:
    """Put Isaac Lab's functions back (tests)."""
    if not _state["installed"]:
        return
    from isaaclab.sim.schemas import schemas_actuators

    for name, function in _state["originals"].items():
        setattr(schemas_actuators, name, function)
    _state["installed"] = False


"""
Internals.
"""


def _native_kind(cfg: Any):
    """The model kind (:mod:`learned_actuators.learning.kinds`) of one of our cfgs, else None.

    Only cfgs whose class is exactly the kind's actuator class run natively: subclasses of our actuator classes may
    change the model, so they stay on the Python path.
    """
    from ..learning.kinds import KINDS
    from .learned_actuator_cfg import LearnedActuatorBaseCfg

    if not isinstance(cfg, LearnedActuatorBaseCfg):
        return None
    class_type = _callable(cfg.class_type)
    for kind in KINDS.values():
        if isinstance(cfg, kind.actuator_cfg_class()):
            return kind if class_type is kind.actuator_class() else None
    return None


def _callable(class_type: Any) -> Any:
    """``class_type`` itself, or the class a ``"module:Class"`` string names (None when it names nothing)."""
    if not isinstance(class_type, str):
        return class_type
    from isaaclab.utils.string import string_to_callable

    try:
        return string_to_callable(str(class_type))
    except (ImportError, AttributeError, ValueError):
        return None


def _joint_prims(art_prim) -> dict[str, str]:
    """Joint name -> prim path of the revolute and prismatic joints under ``art_prim``."""
    from pxr import Usd

    joints = ("PhysicsRevoluteJoint", "PhysicsPrismaticJoint")
    return {p.GetName(): str(p.GetPath()) for p in Usd.PrimRange(art_prim) if p.GetTypeName() in joints}


def _actuator_prims(art_prim, joint_paths: set[str]) -> dict[str, Any]:
    """Joint path -> active ``NewtonActuator`` prim under ``art_prim`` that targets it."""
    from pxr import Usd

    found = {}
    for prim in Usd.PrimRange(art_prim):
        if prim.GetTypeName() != "NewtonActuator":
            continue
        rel = prim.GetRelationship("newton:targets")
        targets = [str(t) for t in rel.GetTargets()] if rel else []
        if targets and targets[0] in joint_paths:
            found[targets[0]] = prim
    return found


def _convert_prims(stage, articulation_prim_path: str, cfgs: dict[str, Any]) -> None:
    """Replace the drive of the prims Isaac Lab authored for our groups' joints by our drive of the cfg's model."""
    from isaaclab.utils.string import resolve_matching_names

    from ..newton_drives import apply_gru_pd_drive, apply_net_drive, register

    register()  # the USD plugin (before the first stage: see learned_actuators.newton_drives) and Newton's parser
    art_prim = stage.GetPrimAtPath(articulation_prim_path)
    joints = _joint_prims(art_prim)
    for group, cfg in cfgs.items():
        _, names = resolve_matching_names(cfg.joint_names_expr, list(joints))
        prims = _actuator_prims(art_prim, {joints[name] for name in names})
        missing = [name for name in names if joints[name] not in prims]
        if missing:
            raise RuntimeError(
                f"learned_actuators: Isaac Lab authored no NewtonActuator prim for joints {missing} of actuator "
                f"group '{group}' under {articulation_prim_path}; its authoring changed (see {__name__})."
            )
        defaults = [_authored_float(prims[joints[name]], "newton:maxMotorEffort") for name in names]
        kind = _native_kind(cfg)  # the physics kind runs as our DriveGRUPD, the others as our net drives
        resolve = _resolved_parameters if kind.uses_physics else _resolved_net_parameters
        values = resolve(group, cfg, names, defaults)
        for j, name in enumerate(names):
            prim = prims[joints[name]]
            prim.ClearMetadata("apiSchemas")  # Isaac Lab's PD drive and DC-motor clamp
            for attribute in prim.GetAuthoredAttributes():
                if attribute.GetName().startswith("newton:"):
                    prim.RemoveProperty(attribute.GetName())
            attributes = {
                key: (v[j] if isinstance(v, list) else v) for key, v in values.items() if key != "network_file"
            }
            if kind.uses_physics:
                apply_gru_pd_drive(stage, str(prim.GetPath()), joints[name], values["network_file"], **attributes)
            else:
                apply_net_drive(
                    stage, kind.name, str(prim.GetPath()), joints[name], values["network_file"], **attributes
                )


def _authored_float(prim, name: str) -> float:
    attribute = prim.GetAttribute(name)
    value = attribute.Get() if attribute and attribute.HasAuthoredValue() else None
    return math.inf if value is None else float(value)


def _reference_actuator(group: str, cfg, joint_names: list[str], effort_defaults: list[float]):
    """The cfg's Python-path actuator for one env on the CPU (resolves the cfg against the file, runs its checks)."""
    import torch

    from isaaclab.utils import clone

    from .learned_actuator import NewtonActuatorPathError

    if cfg.nonfinite == "raise":
        raise NewtonActuatorPathError(
            f"Actuator group '{group}' ({cfg.network_file}): nonfinite='raise' needs Isaac Lab's Python actuator path "
            "(a Newton drive cannot raise from inside the physics step). Set sim.use_newton_actuators=False, or keep "
            "nonfinite='guard' (zero effort for bad inputs, counted in the drive's nonfinite_input_count)."
        )
    return cfg.class_type(
        clone(cfg),  # as the actuator collection does: the actuator normalises deprecated aliases in place
        joint_names=list(joint_names),
        joint_ids=slice(None),
        num_envs=1,
        device="cpu",
        actuator_effort_limit=torch.tensor([effort_defaults], dtype=torch.float32),
    )


def _column(tensor) -> list[float]:
    return [float(v) for v in tensor.reshape(-1).tolist()]


def _resolved_parameters(group: str, cfg, joint_names: list[str], effort_defaults: list[float]) -> dict[str, Any]:
    """The GRU-PD drive's attributes as the Python-path actuator resolves them (one env, CPU), after its checks."""
    actuator = _reference_actuator(group, cfg, joint_names, effort_defaults)
    return {
        "network_file": os.path.abspath(os.fspath(cfg.network_file)),
        "kp": _column(actuator.stiffness),
        "kd": _column(actuator.damping),
        "spring_stiffness": _column(actuator.spring_stiffness),
        "spring_rest_angle": _column(actuator.spring_rest_angle),
        "friction": _column(actuator.coulomb_friction),
        "friction_load": _column(actuator.friction_load),
        "pd_stall_torque": _column(actuator.pd_stall_torque),
        "pd_no_load_speed": _column(actuator.pd_no_load_speed),
        "saturation_effort": _column(actuator._saturation_effort),
        "velocity_limit": _column(actuator.actuator_velocity_limit),
        "max_motor_effort": _column(actuator.actuator_effort_limit),
        "pd_torque_speed_curve": bool(actuator.pd_torque_speed_curve),
        "torque_speed_curve": cfg.torque_speed_curve,
        "network_dt": float(actuator.network_dt),
    }


def _resolved_net_parameters(group: str, cfg, joint_names: list[str], effort_defaults: list[float]) -> dict[str, Any]:
    """The LSTM/MLP drive's attributes as the Python-path actuator resolves them (one env, CPU), after its checks.

    The net dt and (MLP) input conventions are the resolved ones, so a file without metadata runs as on the Python
    path (the cfg's values, or one net step per physics step).
    """
    actuator = _reference_actuator(group, cfg, joint_names, effort_defaults)
    values = {
        "network_file": os.path.abspath(os.fspath(cfg.network_file)),
        "saturation_effort": _column(actuator._saturation_effort),
        "velocity_limit": _column(actuator.actuator_velocity_limit),
        "max_motor_effort": _column(actuator.actuator_effort_limit),
        "torque_speed_curve": cfg.torque_speed_curve,
        "network_dt": float(actuator.network_dt),
        "physics_dt": float(actuator.physics_dt),
    }
    from ..learning.kinds import kind_of

    for name in kind_of(actuator.model_type).native_conventions:  # the MLP's input conventions
        values[name] = _convention(getattr(actuator, name))
    return values


def _convention(value: Any) -> Any:
    """A resolved input convention as the drive attribute takes it.

    A name, a float, or a tuple of history slots (shared by every slot: per-slot values are lists).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return tuple(int(i) for i in value)
    return float(value)
