"""Each learned actuator steps the offline Go2 flat task; episode resets zero exactly the reset envs' state."""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration


MODELS = [("gru_pd", "CombinedGRUAndPDActuator"), ("lstm", "LSTMActuatorNet"), ("mlp", "MLPActuatorNet")]


@pytest.mark.parametrize("model, class_name", MODELS)
def test_learned_actuator_steps_go2_env_and_reset_zeroes_exactly_reset_envs(tmp_path, model, class_name):
    out = tmp_path / "probe.json"
    cmd = [sys.executable, "-m", "tests.actuators.go2_env_probe", model, str(out), str(tmp_path)]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(out.read_text())
    assert result["class"] == class_name
    assert result["steps_per_network_step"] == 4  # net dt = policy dt = 4 physics steps
    assert result["finite"] and result["applied_finite"]
    assert result["reset"] == [True, False, True, False]
    assert all(value > 0 for value in result["state_before"])
    assert result["state_after"][0] == 0 and result["state_after"][2] == 0
    assert result["state_after"][1] > 0 and result["state_after"][3] > 0
