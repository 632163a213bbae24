"""A one-joint test bench built procedurally as USD: a revolute joint driving an inertia or a pendulum.

The bench is a fixed base and one link on a horizontal revolute joint (axis +Y, angle 0 = hanging down).
The link carries ``mass`` [kg] with its centre of mass at ``length`` [m] below the axis (a pendulum; the
gravity torque is ``-m·g·l·sin q``); the rest of the total joint-side inertia ``inertia`` [kg·m²] (motor
rotor, horn, load) is the joint's armature (:attr:`BenchParams.armature`), which the replay writes into the
simulation. ``length = 0`` gives a pure inertial load with no gravity torque.

The USD is written with ``pxr`` into a cache folder, named by a hash of the parameters, and spawned with
Isaac Lab's ``UsdFileCfg``; no external file is needed. Several geometries run side by side in one simulation:
the replay writes each env's mass, centre of mass and armature (:func:`run_benches`, :func:`expand_benches`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from learned_actuators.errors import UserInputError

__all__ = [
    "BENCH_KEYS",
    "BenchParams",
    "arm_body_names",
    "check_bench_spec",
    "joint_benches",
    "parse_bench_spec",
    "write_bench_usd",
]

BENCH_KEYS = ("mass", "length", "inertia", "armature")
"""Keys of a bench geometry (``ValidationCfg.benches`` entries, ``--bench``)."""

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

    def with_geometry(self, geometry: dict) -> BenchParams:
        """This bench with ``geometry``'s ``mass``/``length``/``inertia``/``armature`` (:data:`BENCH_KEYS`).

        Without ``inertia`` the total inertia is the new ``m·l²`` plus ``armature`` (default: this bench's motor-side
        inertia, its ``inertia - m·l²``).
        """
        mass = float(geometry.get("mass", self.mass))
        length = float(geometry.get("length", self.length))
        inertia = geometry.get("inertia")
        if inertia is None:
            armature = geometry.get("armature", self.inertia - self.mass * self.length**2)
            inertia = mass * length**2 + float(armature)
        return replace(self, mass=mass, length=length, inertia=float(inertia))

    @property
    def label(self) -> str:
        """Short name of the geometry, e.g. ``m=0.49 kg l=0.1 m J=0.0069 kg·m²``."""
        return f"m={self.mass:.4g} kg l={self.length:.4g} m J={self.inertia:.4g} kg·m²"

    @property
    def armature(self) -> float:
        """Joint armature [kg·m²]: the total inertia less the point mass's ``m·l²`` and the link's own tiny inertia."""
        return max(self.inertia - self.mass * self.length**2 - MIN_INERTIA, 0.0)


def check_bench_spec(spec, where: str) -> dict[str, float]:
    """A bench geometry checked: keys from :data:`BENCH_KEYS`, finite values >= 0 (``inertia`` > 0).

    Raises:
        UserInputError: naming ``where`` (e.g. ``ValidationCfg.benches[1]``), the key and what is expected.
    """
    if not isinstance(spec, dict) or not spec:
        raise UserInputError(f"{where}: expected a non-empty mapping of {list(BENCH_KEYS)}; got {spec!r}.")
    out = {}
    for key, value in spec.items():
        if key not in BENCH_KEYS:
            raise UserInputError(f"{where}: unknown key {key!r}; expected any of {list(BENCH_KEYS)}.")
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or value < 0 or (key == "inertia" and value == 0):
            want = "a positive number [kg·m²]" if key == "inertia" else "a finite number >= 0"
            raise UserInputError(f"{where}: {key}={value!r}; expected {want}.")
        out[key] = float(value)
    return out


def parse_bench_spec(text: str, where: str = "--bench") -> dict[str, float]:
    """``"mass=0.5,length=0.1"`` as a checked geometry (:func:`check_bench_spec`)."""
    spec = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        try:
            spec[key.strip()] = float(value) if sep else None
        except ValueError:
            raise UserInputError(f"{where} {text!r}: {key.strip()}={value!r} is not a number.") from None
    return check_bench_spec(spec, f"{where} {text!r}")


def default_cache_dir() -> Path:
    """Folder for generated bench USDs (``learned_actuators`` asset cache, or the temp dir as fallback)."""
    try:
        from learned_actuators.assets.paths import cache_dir

        return cache_dir() / "validation_benches"
    except ImportError:  # the assets package is optional for the bench
        return Path(tempfile.gettempdir()) / "learned_actuators_benches"


def arm_body_names(count: int) -> list[str]:
    """Body names of the arms of a bench with ``count`` joints: ``arm`` (one joint), else ``arm_0``, ``arm_1``, ..."""
    return ["arm"] if count == 1 else [f"arm_{j}" for j in range(count)]


def write_bench_usd(params: BenchParams | list[BenchParams], cache_dir: str | Path | None = None) -> Path:
    """Write the bench as a USD file (reused when it already exists) and return its path.

    A list of parameters gives a bench of independent joints (one arm per joint on the same fixed base, each on its
    own horizontal revolute joint named ``joint_name``): the generic replica of a multi-joint log.
    """
    from pxr import Gf, Usd, UsdGeom, UsdPhysics

    joints = list(params) if isinstance(params, list | tuple) else [params]
    names = [p.joint_name for p in joints]
    if len(set(names)) != len(names):
        raise ValueError(f"bench joint names {names} must be unique.")
    record = {**asdict(joints[0])} if len(joints) == 1 else {"joints": [asdict(p) for p in joints]}
    key = hashlib.sha1(json.dumps({**record, "format": BENCH_FORMAT_VERSION}, sort_keys=True).encode()).hexdigest()[:12]
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
    for j, (bench, arm_name) in enumerate(zip(joints, arm_body_names(len(joints)), strict=True)):
        arm = body(f"/Bench/{arm_name}", bench.mass, -bench.length, MIN_INERTIA)
        joint = UsdPhysics.RevoluteJoint.Define(stage, f"/Bench/{arm_name}/{bench.joint_name}")
        joint.CreateAxisAttr("Y")
        joint.CreateBody0Rel().SetTargets([base.GetPath()])
        joint.CreateBody1Rel().SetTargets([arm.GetPath()])
        joint.CreateLocalPos0Attr(Gf.Vec3f(0.3 * j, 0.0, 0.0))  # arms side by side (contacts are off anyway)
        joint.CreateLocalPos1Attr(Gf.Vec3f(0.0, 0.0, 0.0))
        joint.CreateLocalRot0Attr(Gf.Quatf(1.0, 0.0, 0.0, 0.0))
        joint.CreateLocalRot1Attr(Gf.Quatf(1.0, 0.0, 0.0, 0.0))
    stage.GetRootLayer().Save()
    tmp.replace(path)
    return path


def run_benches(batch, cfg) -> list[BenchParams]:
    """The bench of every run of ``batch`` (a TrajectoryBatch): its meta with the cfg's overrides.

    The cfg's ``inertia``/``mass``/``length`` override every run's meta. Runs may differ: each env gets its own bench.

    Raises:
        LogFormatError: if the log has more than one joint, or a run's bench is unknown or impossible (naming it).
    """
    from learned_actuators.data.joint_log import LogFormatError

    if len(batch.joint_names) != 1:
        raise LogFormatError(
            f"{batch.sources[0]}: field 'joint_names' has {len(batch.joint_names)} joints {batch.joint_names}; "
            "the bench replica has one joint."
        )
    name = batch.joint_names[0] if batch.joint_names[0].isidentifier() else "joint"
    overrides = {"inertia": cfg.inertia, "mass": cfg.mass, "length": cfg.length}
    out = []
    for meta, source in zip(batch.metas, batch.sources, strict=True):
        try:
            out.append(BenchParams.from_meta(meta, joint_name=name, **overrides))
        except ValueError as err:
            raise LogFormatError(f"{source}: {err}") from None
    return out


def joint_benches(batch, cfg) -> list[list[BenchParams]]:
    """The load of every joint of every run of a multi-joint batch: the generic replica of independent joints.

    Each joint's load comes from its own constants (``meta["joints"][<name>]``: ``inertia``, or ``mass``/``length``/
    ``armature``, e.g. a side file's ``joint_constants``), else the run's; the cfg's ``inertia``/``mass``/``length``
    override every joint (a default load).

    Returns:
        ``[run][joint]`` bench parameters, joints in the log's order and named as logged.

    Raises:
        LogFormatError: naming the file and joint when a joint's load is unknown or impossible, or a joint name is not
            a valid USD prim name.
    """
    from learned_actuators.data.joint_log import LogFormatError
    from learned_actuators.data.splits import _joint_meta as joint_meta  # the per-joint meta of split_joints

    bad = [n for n in batch.joint_names if not n.isidentifier()]
    if bad:
        raise LogFormatError(
            f"{batch.sources[0]}: field 'joint_names' has {bad}; the replica names its joints as logged, so they must "
            "be valid USD prim names (letters, digits and '_', not starting with a digit)."
        )
    overrides = {"inertia": cfg.inertia, "mass": cfg.mass, "length": cfg.length}
    out = []
    for meta, source in zip(batch.metas, batch.sources, strict=True):
        row = []
        for name in batch.joint_names:
            try:
                row.append(BenchParams.from_meta(joint_meta(meta, name), joint_name=name, **overrides))
            except ValueError as err:
                raise LogFormatError(f"{source}: joint '{name}': {err}") from None
        out.append(row)
    return out


def expand_benches(batch, cfg):
    """``batch`` with every run once per geometry of ``cfg.benches`` (run-major: env ``r·G + g``), or ``batch``.

    Each copy's meta holds its bench (``mass``, ``length``, ``inertia``) and ``bench`` (its label); its name ends
    with the label.

    Raises:
        UserInputError: for a geometry that is not a valid bench (naming ``ValidationCfg.benches[i]``).
    """
    if not cfg.benches:
        return batch
    specs = [check_bench_spec(spec, f"ValidationCfg.benches[{i}]") for i, spec in enumerate(cfg.benches)]
    index, names, metas = [], [], []
    for e, base in enumerate(run_benches(batch, cfg)):
        for i, spec in enumerate(specs):
            try:
                bench = base.with_geometry(spec)
            except ValueError as err:
                raise UserInputError(f"ValidationCfg.benches[{i}] {spec} on run {batch.names[e]}: {err}") from None
            index.append(e)
            names.append(f"{batch.names[e]} · {bench.label}")
            geometry = {"mass": bench.mass, "length": bench.length, "inertia": bench.inertia, "bench": bench.label}
            metas.append({**batch.metas[e], **geometry})
    return batch.take(index, names=names, metas=metas)
