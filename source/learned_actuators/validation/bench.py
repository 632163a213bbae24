"""A one-joint test bench built procedurally as USD: a revolute joint driving an inertia or a pendulum.

The bench is a fixed base and one link on a horizontal revolute joint (axis +Y, angle 0 = hanging down).
The link carries ``mass`` [kg] with its centre of mass at ``length`` [m] below the axis (a pendulum; the
gravity torque is ``-m·g·l·sin q``); the rest of the total joint-side inertia ``inertia`` [kg·m²] (motor
rotor, horn, load) is the joint's armature (:attr:`BenchParams.armature`), which the replay writes into the
simulation. ``length = 0`` gives a pure inertial load with no gravity torque.

The USD is written with ``pxr`` into a cache folder, named by a hash of the parameters, and spawned with
Isaac Lab's ``UsdFileCfg``; no external file is needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["BenchParams", "write_bench_usd"]

BENCH_FORMAT_VERSION = 2
"""Bumped whenever the generated USD changes, so cached files of older layouts are not reused."""

MIN_INERTIA = 1e-7
"""Smallest principal inertia [kg·m²] given to any body (physics engines reject zero inertia)."""


@dataclass(frozen=True)
class BenchParams:
    """Physical parameters of the one-joint bench."""

    inertia: float
    """Total inertia about the joint axis [kg·m²] (includes ``mass · length²``)."""
    mass: float = 0.0
    """Point mass at the end of the arm [kg] (0 for a pure inertial load)."""
    length: float = 0.0
    """Distance of the mass from the axis [m]."""
    joint_name: str = "joint"
    """Name of the revolute joint (the log's joint name, so actuator cfgs and logs match)."""

    def __post_init__(self):
        if not self.inertia > 0:
            raise ValueError(f"bench 'inertia' is {self.inertia}; expected a positive inertia [kg·m²].")
        if self.mass < 0 or self.length < 0:
            raise ValueError(f"bench 'mass' ({self.mass}) and 'length' ({self.length}) must be >= 0.")
        if self.mass * self.length**2 > self.inertia * (1 + 1e-9):
            raise ValueError(
                f"bench 'inertia' {self.inertia} kg·m² is below m·l² = {self.mass * self.length**2:.6g} kg·m² of the "
                "point mass; 'inertia' is the total inertia about the axis (including m·l²)."
            )
        if not self.joint_name.isidentifier():
            raise ValueError(f"bench 'joint_name' {self.joint_name!r} must be a valid USD prim name.")

    @classmethod
    def from_meta(cls, meta: dict, joint_name: str = "joint", **overrides) -> BenchParams:
        """Parameters from ``JointLog.meta`` with ``overrides`` (not None) taking precedence.

        Keys: ``inertia``, ``mass``, ``length``; ``armature`` is added to ``m·l²`` when ``inertia`` is absent.

        Raises:
            ValueError: if no inertia can be derived, naming the keys that were looked for.
        """
        values = {k: meta.get(k) for k in ("inertia", "mass", "length", "armature")}
        values.update({k: v for k, v in overrides.items() if v is not None})
        mass, length = float(values["mass"] or 0.0), float(values["length"] or 0.0)
        inertia = values["inertia"]
        if inertia is None and values["armature"] is not None:
            inertia = mass * length**2 + float(values["armature"])
        if inertia is None:
            raise ValueError(
                "bench inertia unknown: the log meta has no 'inertia' or 'armature' and none was given "
                "(e.g. --inertia 0.0069 for the BAM XL330 pendulum)."
            )
        return cls(inertia=float(inertia), mass=mass, length=length, joint_name=joint_name)

    @property
    def armature(self) -> float:
        """Joint armature [kg·m²]: the total inertia less the point mass's ``m·l²`` and the link's own tiny inertia."""
        return max(self.inertia - self.mass * self.length**2 - MIN_INERTIA, 0.0)


def default_cache_dir() -> Path:
    """Folder for generated bench USDs (``learned_actuators`` asset cache, or the temp dir as fallback)."""
    try:
        from learned_actuators.assets.paths import cache_dir

        return cache_dir() / "validation_benches"
    except ImportError:  # the assets package is optional for the bench
        return Path(tempfile.gettempdir()) / "learned_actuators_benches"


def write_bench_usd(params: BenchParams, cache_dir: str | Path | None = None) -> Path:
    """Write the bench as a USD file (reused when it already exists) and return its path."""
    from pxr import Gf, Usd, UsdGeom, UsdPhysics

    key = hashlib.sha1(
        json.dumps({**asdict(params), "format": BENCH_FORMAT_VERSION}, sort_keys=True).encode()
    ).hexdigest()[:12]
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bench_{key}.usda"
    if path.is_file():
        return path
    tmp = folder / f".bench_{key}.{os.getpid()}.usda"
    stage = Usd.Stage.CreateNew(str(tmp))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    root = UsdGeom.Xform.Define(stage, "/Bench")
    stage.SetDefaultPrim(root.GetPrim())
    UsdPhysics.ArticulationRootAPI.Apply(root.GetPrim())

    def body(path: str, mass: float, com_z: float, inertia_axis: float):
        xform = UsdGeom.Xform.Define(stage, path)
        UsdPhysics.RigidBodyAPI.Apply(xform.GetPrim())
        mass_api = UsdPhysics.MassAPI.Apply(xform.GetPrim())
        mass_api.CreateMassAttr(max(mass, MIN_INERTIA))
        mass_api.CreateCenterOfMassAttr(Gf.Vec3f(0.0, 0.0, com_z))
        mass_api.CreateDiagonalInertiaAttr(Gf.Vec3f(inertia_axis, inertia_axis, inertia_axis))
        return xform

    base = body("/Bench/base", 1.0, 0.0, 1e-3)
    fixed = UsdPhysics.FixedJoint.Define(stage, "/Bench/base/world_joint")
    fixed.CreateBody1Rel().SetTargets([base.GetPath()])
    arm = body("/Bench/arm", params.mass, -params.length, MIN_INERTIA)
    joint = UsdPhysics.RevoluteJoint.Define(stage, f"/Bench/arm/{params.joint_name}")
    joint.CreateAxisAttr("Y")
    joint.CreateBody0Rel().SetTargets([base.GetPath()])
    joint.CreateBody1Rel().SetTargets([arm.GetPath()])
    joint.CreateLocalPos0Attr(Gf.Vec3f(0.0, 0.0, 0.0))
    joint.CreateLocalPos1Attr(Gf.Vec3f(0.0, 0.0, 0.0))
    joint.CreateLocalRot0Attr(Gf.Quatf(1.0, 0.0, 0.0, 0.0))
    joint.CreateLocalRot1Attr(Gf.Quatf(1.0, 0.0, 0.0, 0.0))
    stage.GetRootLayer().Save()
    tmp.replace(path)
    return path
