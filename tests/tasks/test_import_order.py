"""Importing the task package (Isaac Lab's ``isaaclab.tasks`` entry point) or the GRU-PD cfg module registers our
USD schema and Newton actuator component before any stage exists, and installs the native-path hooks (fresh
processes: USD builds its schema registry once per process)."""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

_PROBE = """
import json, sys
import {module}
from pxr import Usd
from newton.actuators import parse_actuator_prim
from learned_actuators.actuators import isaaclab_native
import learned_actuators.newton_drives as nd
stage = Usd.Stage.CreateInMemory()  # the first stage of the process
stage.DefinePrim("/Robot/Joint", "PhysicsRevoluteJoint")
prim = nd.apply_gru_pd_drive(stage, "/Robot/Actuator", "/Robot/Joint", "net.pt")
parsed = parse_actuator_prim(prim)
print(json.dumps({{
    "known": nd.schema_is_known(),
    "drive": parsed.drive_class.__name__,
    "hooks": isaaclab_native.native_path_available(),
}}))
"""


@pytest.mark.parametrize("module", ["learned_actuators.tasks", "learned_actuators.actuators.gru_pd_actuator_cfg"])
def test_importing_registers_the_schema_before_the_first_stage(module):
    code = _PROBE.format(module=module)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"known": True, "drive": "DriveGRUPD", "hooks": True}
