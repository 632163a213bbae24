"""Packaging: extension metadata agrees with pyproject; the training side imports without Isaac Lab."""

import subprocess
import sys
import tomllib

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit


def test_extension_toml_version_equals_package_version():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    extension = tomllib.loads((REPO_ROOT / "extension.toml").read_text())
    assert extension["package"]["version"] == pyproject["project"]["version"]


def test_extension_toml_has_isaac_lab_sections():
    extension = tomllib.loads((REPO_ROOT / "extension.toml").read_text())
    assert {"package", "dependencies", "python", "isaac_lab_settings"} <= set(extension)
    assert extension["python"]["module"] == [{"name": "learned_actuators"}]


def test_tasks_entry_point_declared():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["entry-points"]["isaaclab.tasks"] == {"learned_actuators": "learned_actuators.tasks"}


# Modules that must import with Isaac Lab absent (the training side).
TRAINING_SIDE = [
    "learned_actuators",
    "learned_actuators.physics",
    "learned_actuators.network_file",
    "learned_actuators.data",
]

_BLOCK_ISAACLAB = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0].startswith(('isaaclab', 'omni', 'pxr', 'warp', 'newton')):
            raise ImportError(f'blocked by test: {name}')
sys.meta_path.insert(0, Block())
"""


def test_training_side_imports_without_isaaclab():
    code = _BLOCK_ISAACLAB + "".join(f"import {m}\n" for m in TRAINING_SIDE) + "print('ok')"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_blocker_really_blocks_isaaclab():
    """Guard for the test above: the same blocker makes an Isaac Lab import fail."""
    proc = subprocess.run([sys.executable, "-c", _BLOCK_ISAACLAB + "import isaaclab.actuators"], capture_output=True)
    assert proc.returncode != 0
