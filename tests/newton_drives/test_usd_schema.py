"""The LearnedActuatorsGRUPDDriveAPI schema: known to USD after register() in a fresh process, and only then."""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

_FRESH = """
import json
import learned_actuators.newton_drives as nd  # registers the plugin before any stage exists
from pxr import Usd
nd.register()  # idempotent
stage = Usd.Stage.CreateInMemory()
joint = stage.DefinePrim("/Robot/Joint", "PhysicsRevoluteJoint")
prim = nd.apply_gru_pd_drive(stage, "/Robot/Actuator", "/Robot/Joint", "net.pt", kp=25.0, torque_speed_curve="dc_motor")
definition = Usd.SchemaRegistry().FindAppliedAPIPrimDefinition(nd.SCHEMA_NAME)
print(json.dumps({
    "known": nd.schema_is_known(),
    "has_api": prim.HasAPI(nd.SCHEMA_NAME),
    "has_control_base": prim.HasAPI("NewtonActuatorControlBaseAPI"),
    "schemas": list(prim.GetAppliedSchemas()),
    "properties": sorted(definition.GetPropertyNames()),
    "kp": prim.GetAttribute("newton:kp").Get(),
    "curve": prim.GetAttribute("newton:torqueSpeedCurve").Get(),
}))
"""

_LATE = """
from pxr import Usd
early = Usd.Stage.CreateInMemory()
early.DefinePrim("/Body", "Xform").ApplyAPI("PhysicsRigidBodyAPI")  # builds USD's schema registry, without ours
import learned_actuators.newton_drives as nd
stage = Usd.Stage.CreateInMemory()
stage.DefinePrim("/Robot/Joint", "PhysicsRevoluteJoint")
try:
    nd.apply_gru_pd_drive(stage, "/Robot/Actuator", "/Robot/Joint", "net.pt")
except RuntimeError as err:
    print("raised:", err)
print("known:", nd.schema_is_known())
"""


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)


def test_schema_is_known_and_applies_after_register_in_a_fresh_process():
    proc = _python(_FRESH)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["known"] and result["has_api"] and result["has_control_base"]
    assert "LearnedActuatorsGRUPDDriveAPI" in result["schemas"]
    assert {"newton:networkFile", "newton:kp", "newton:maxMotorEffort", "newton:torqueSpeedCurve"} <= set(
        result["properties"]
    )
    assert result["kp"] == 25.0 and result["curve"] == "dc_motor"


def test_registering_after_the_first_stage_is_detected():
    proc = _python(_LATE)
    assert proc.returncode == 0, proc.stderr
    assert "raised: USD does not know the schema LearnedActuatorsGRUPDDriveAPI" in proc.stdout
    assert "known: False" in proc.stdout


def test_plugin_files_ship_in_the_package():
    from learned_actuators.newton_drives import NET_SCHEMA_NAMES, PLUGIN_DIR, SCHEMA_NAME, schema_is_known

    info = json.loads((PLUGIN_DIR / "plugInfo.json").read_text())
    types = info["Plugins"][0]["Info"]["Types"]
    names = [SCHEMA_NAME, NET_SCHEMA_NAMES["lstm"], NET_SCHEMA_NAMES["mlp"]]
    assert [t["schemaIdentifier"] for t in types.values()] == names
    text = (PLUGIN_DIR / "generatedSchema.usda").read_text()
    assert all(f'class "{name}"' in text and schema_is_known(name) for name in names)
