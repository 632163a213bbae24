"""USD API schema ``LearnedActuatorsGRUPDDriveAPI`` and its registration with USD and Newton's actuator parser.

The schema is a codeless USD plugin shipped in this package (``usd/plugInfo.json`` + ``usd/generatedSchema.usda``).
Applied to a ``NewtonActuator`` prim (with ``newton:targets`` naming a revolute or prismatic joint) it makes
Newton's USD importer (``ModelBuilder.add_usd``) build a :class:`~learned_actuators.newton_drives.DriveGRUPD` for
that joint. Its attributes are in the ``newton:`` namespace (Newton's parser reads only that namespace) and map to
the drive's arguments in snake case (``newton:networkFile`` -> ``network_file``, ``newton:kp`` -> ``kp``, ...).

Order matters: USD builds its schema registry once, the first time it is needed (a stage opened from a file, a schema
applied or queried); a plugin registered after that is never seen (``ApplyAPI`` then fails and Newton's parser
reads the prim as if the schema were absent).
:func:`register` must therefore run before the first stage is opened. ``import learned_actuators.newton_drives``
calls it (idempotently), so importing the package early (e.g. at the top of the env cfg module or the task
package) is enough. :func:`schema_is_known` tells whether it came in time (it builds the registry itself, so call
it only after every plugin of the process is registered).
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

__all__ = [
    "NET_SCHEMA_NAMES",
    "PLUGIN_DIR",
    "SCHEMA_NAME",
    "apply_gru_pd_drive",
    "apply_net_drive",
    "register",
    "schema_is_known",
]

SCHEMA_NAME = "LearnedActuatorsGRUPDDriveAPI"
"""Token of the single-apply API schema that selects :class:`~learned_actuators.newton_drives.DriveGRUPD`."""

NET_SCHEMA_NAMES = {"lstm": "LearnedActuatorsLSTMDriveAPI", "mlp": "LearnedActuatorsMLPDriveAPI"}
"""Model type -> API schema selecting :class:`~learned_actuators.newton_drives.DriveLSTM` /
:class:`~learned_actuators.newton_drives.DriveMLP`."""

PLUGIN_DIR = Path(str(resources.files(__package__) / "usd"))
"""Folder of the USD plugin (``plugInfo.json``, ``generatedSchema.usda``)."""

_lock = threading.Lock()
_registered = False


def register() -> None:
    """Register the USD schema plugin and the Newton actuator component (idempotent).

    1. Imports ``newton_usd_schemas`` (Newton's own schema plugin, which ours builds on:
       ``NewtonActuatorControlBaseAPI``) and registers our plugin with ``pxr.Plug.Registry``.
    2. Registers ``LearnedActuatorsGRUPDDriveAPI`` -> :class:`DriveGRUPD`, ``LearnedActuatorsLSTMDriveAPI`` ->
       :class:`DriveLSTM` and ``LearnedActuatorsMLPDriveAPI`` -> :class:`DriveMLP` as DRIVEs with
       ``newton.actuators.register_actuator_component``.

    Must run before the first USD stage is opened in the process (see the module docstring).
    """
    global _registered
    with _lock:
        if _registered:
            return
        import newton_usd_schemas  # noqa: F401  (registers Newton's plugin first)
        from newton.actuators import ComponentKind, register_actuator_component
        from pxr import Plug

        Plug.Registry().RegisterPlugins([PLUGIN_DIR.as_posix()])

        from .drive_gru_pd import DriveGRUPD
        from .drive_net import DriveLSTM, DriveMLP

        register_actuator_component(SCHEMA_NAME, DriveGRUPD, ComponentKind.DRIVE)
        for drive in (DriveLSTM, DriveMLP):
            register_actuator_component(NET_SCHEMA_NAMES[drive.model_type], drive, ComponentKind.DRIVE)
        _registered = True


def schema_is_known(name: str = SCHEMA_NAME) -> bool:
    """Whether USD's schema registry knows ``name`` (False: :func:`register` ran after a stage opened).

    Builds USD's schema registry if no stage was opened yet: plugins registered after this call are not seen.
    """
    from pxr import Usd

    return Usd.SchemaRegistry().FindAppliedAPIPrimDefinition(name) is not None


def apply_gru_pd_drive(stage, actuator_path: str, joint_path: str, network_file: str, **attributes) -> object:
    """Author a ``NewtonActuator`` prim at ``actuator_path`` driving ``joint_path`` with our GRU-PD drive.

    ``attributes`` are optional drive arguments in snake case (``kp``, ``kd``, ``spring_stiffness``, ...,
    ``torque_speed_curve``, ``pd_torque_speed_curve``, ``network_dt``); unset ones come from the network file.

    Returns:
        The actuator prim.

    Raises:
        RuntimeError: if USD does not know the schema (:func:`register` ran after the first stage was opened).
    """
    return _apply_drive(stage, SCHEMA_NAME, actuator_path, joint_path, network_file, attributes)


def apply_net_drive(
    stage, model_type: str, actuator_path: str, joint_path: str, network_file: str, **attributes
) -> object:
    """Author a ``NewtonActuator`` prim driving ``joint_path`` with our LSTM or MLP drive (``model_type``).

    ``attributes`` in snake case: ``saturation_effort`` (required by the drive), ``velocity_limit``,
    ``max_motor_effort``, ``torque_speed_curve``, ``network_dt``, ``physics_dt`` and, for the MLP, ``pos_scale``,
    ``vel_scale``, ``torque_scale``, ``input_order``, ``input_idx``; None values are not authored.

    Returns:
        The actuator prim.

    Raises:
        RuntimeError: if USD does not know the schema (:func:`register` ran after the first stage was opened).
    """
    if model_type not in NET_SCHEMA_NAMES:
        raise ValueError(f"apply_net_drive: model_type must be one of {sorted(NET_SCHEMA_NAMES)}, got {model_type!r}")
    name = NET_SCHEMA_NAMES[model_type]
    return _apply_drive(stage, name, actuator_path, joint_path, network_file, attributes, _NET_DOUBLES)


_NET_DOUBLES = frozenset({"network_dt", "physics_dt", "pos_scale", "vel_scale", "torque_scale"})
"""Attributes of the net schemas declared ``double`` (no float32 rounding of a time step or scale)."""


def _apply_drive(
    stage, schema: str, actuator_path: str, joint_path: str, network_file: str, attributes, doubles=frozenset()
) -> object:
    from pxr import Sdf

    if not schema_is_known(schema):
        raise RuntimeError(
            f"USD does not know the schema {schema}: import learned_actuators.newton_drives before the first USD "
            "stage is opened in the process."
        )
    prim = stage.DefinePrim(actuator_path, "NewtonActuator")
    prim.ApplyAPI(schema)
    prim.CreateRelationship("newton:targets").SetTargets([Sdf.Path(joint_path)])
    prim.CreateAttribute("newton:networkFile", Sdf.ValueTypeNames.Asset).Set(Sdf.AssetPath(str(network_file)))
    for name, value in attributes.items():
        if value is None:
            continue
        usd_name = "newton:" + name.split("_")[0] + "".join(part.capitalize() for part in name.split("_")[1:])
        if isinstance(value, str):
            prim.CreateAttribute(usd_name, Sdf.ValueTypeNames.Token).Set(value)
        elif isinstance(value, bool):
            prim.CreateAttribute(usd_name, Sdf.ValueTypeNames.Bool).Set(value)
        elif isinstance(value, list | tuple):
            prim.CreateAttribute(usd_name, Sdf.ValueTypeNames.IntArray).Set([int(v) for v in value])
        elif name in doubles:
            prim.CreateAttribute(usd_name, Sdf.ValueTypeNames.Double).Set(float(value))
        else:
            prim.CreateAttribute(usd_name, Sdf.ValueTypeNames.Float).Set(float(value))
    return prim
