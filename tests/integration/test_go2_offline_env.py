"""The offline Go2 flat task builds on CPU, steps, stands, and never touches the network."""

import json
import shutil
import subprocess
import sys

import pytest

from learned_actuators.assets.paths import go2_usd_path
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration


def _no_network_prefix() -> list[str]:
    """Run in a fresh network namespace (no interfaces at all) where the kernel allows it."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        return [unshare, "-rn"]
    return []  # the in-process guard of the probe still blocks and records every attempt


def test_go2_offline_flat_env_steps_stands_and_stays_offline(tmp_path):
    """50 policy steps with the stock DC motor: finite obs/rewards, robot standing, zero network attempts."""
    out = tmp_path / "probe.json"
    cmd = [*_no_network_prefix(), sys.executable, "-m", "tests.support.go2_offline_probe", str(out), "16", "50"]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(out.read_text())

    assert result["network_attempts"] == []
    assert result["usd_path"] == str(go2_usd_path())
    assert result["num_envs"] == 16 and result["steps"] == 50
    assert result["finite_obs"] and result["finite_rew"]
    assert result["actuator_cfgs"] == ["DCMotorCfg"]
    assert len(result["joint_names"]) == 12
    assert {f"{leg}_foot" for leg in ("FL", "FR", "RL", "RR")} <= set(result["body_names"])
    # Standing Go2: the nominal base height is ~0.27-0.32 m; with zero actions (default joint targets, kp=25)
    # it sags a little. A fallen robot lies below ~0.12 m, a launched one above 0.5 m.
    heights = result["base_height"]
    assert all(0.15 < h < 0.45 for h in heights), heights
