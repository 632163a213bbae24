"""Packaging: extension metadata agrees with pyproject; the training side imports without Isaac Lab."""

import json
import subprocess
import sys
import tomllib
from pathlib import Path

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
    "learned_actuators.learning.presets",
    "learned_actuators.demo.training",
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


WHEEL_CHECK = """
import json, sys
from pathlib import Path
import learned_actuators
from learned_actuators.config import shipped_names
from learned_actuators.data.column_map import load_column_map
from learned_actuators.data.demo import load_demo_logs
from learned_actuators.learning.presets import build_cfg, load_preset
from learned_actuators.models import go2_starter_path
from learned_actuators.network_file import load_network

print(json.dumps({
    "file": learned_actuators.__file__,
    "presets": shipped_names("presets"),
    "column_maps": shipped_names("column_maps"),
    "preset_split": build_cfg(load_preset("bam_xl330"))[0].split,
    "demo_lstm": [load_preset("demo_all_folds")["models"]["lstm"][k] for k in ("max_epochs", "per_gain")],
    "map_name": load_column_map("bam_json").name,
    "demo_runs": len(load_demo_logs()),
    "starter": go2_starter_path(),
    "starter_type": load_network(go2_starter_path())[1].model_type,
    "starter_notes": sorted(p.name for p in Path(go2_starter_path()).parent.iterdir()),
}))
"""


def test_wheel_installed_non_editable_ships_presets_column_maps_and_demo_data(tmp_path):
    """Build the wheel, install it (no deps) into a scratch venv that reuses our dependencies, load from it."""
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), "."],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("learned_actuators-*.whl")
    scratch = tmp_path / "scratch"
    subprocess.run([sys._base_executable, "-m", "venv", str(scratch)], check=True)
    py = scratch / "bin" / "python"
    site = subprocess.run([py, "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True, text=True)
    ours = subprocess.run(
        [sys.executable, "-c", "import torch, os; print(os.path.dirname(os.path.dirname(torch.__file__)))"],
        capture_output=True,
        text=True,
    )
    # Dependencies are reused from this environment; its editable install of our package is not (a plain path
    # entry in a .pth does not run that folder's own .pth files, where the editable hook lives).
    Path(site.stdout.strip(), "reuse_deps.pth").write_text(ours.stdout.strip() + "\n")
    install = subprocess.run(
        [py, "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True
    )
    assert install.returncode == 0, install.stderr[-2000:]
    run = subprocess.run([py, "-c", WHEEL_CHECK], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(found["file"]).is_relative_to(scratch), f"imported from {found['file']}, not from the wheel"
    assert {"bam_xl330", "so101", "recipe_gru_pd", "recipe_lstm", "recipe_mlp", "demo"} <= set(found["presets"])
    assert {"bam_json", "so101_sage", "wtw_go2_pickle"} <= set(found["column_maps"])
    assert found["preset_split"] == "groups" and found["map_name"] == "bam_json" and found["demo_runs"] == 16
    assert found["demo_lstm"] == [40, True]  # values it inherits (Hydra defaults list) from the wheel's demo preset
    assert Path(found["starter"]).is_relative_to(scratch) and found["starter_type"] == "gru_pd"
    assert {"LICENSE", "PROVENANCE.md"} <= set(found["starter_notes"])
