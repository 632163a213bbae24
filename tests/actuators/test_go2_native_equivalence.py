"""GRU-PD, LSTM, MLP in the offline Go2 flat env: Newton-native vs Isaac Lab's Python path, same torques, 50 steps.

Each run is its own process (one simulation per process) from the same seed, reset state and actions, with per-env
resets mid-run (see :mod:`tests.actuators.go2_native_probe`).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from learned_actuators.newton_drives import BACKEND_ENV
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration

TOLERANCE = 1e-4  # N·m
WARP_TOLERANCE = 1e-3  # N·m: float rounding of the Warp kernels (2e-6 per call) grows a little in the closed loop
STEPS = 50


def _probe(
    mode: str, directory, backend: str | None = None, model: str = "gru_pd", variant: str = ""
) -> tuple[np.ndarray, np.ndarray, dict]:
    out = directory / f"{mode}_{backend}_{model}{variant}.npz"
    cmd = [sys.executable, "-m", "tests.actuators.go2_native_probe", mode, str(out), str(directory), str(STEPS), model]
    cmd += [variant] if variant else []
    env = {k: v for k, v in os.environ.items() if k != BACKEND_ENV} | ({BACKEND_ENV: backend} if backend else {})
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    with np.load(out) as data:
        info = json.loads(str(data["info"]))
        info["drawn"] = {k[len("drawn/") :]: data[k] for k in data.files if k.startswith("drawn/")}
        return data["joint_f"], data["applied"], info


@pytest.fixture(scope="module")
def python_path(tmp_path_factory):
    return _probe("python", tmp_path_factory.mktemp("python"))


def test_native_and_python_paths_apply_the_same_torques_over_50_policy_steps(tmp_path, python_path):
    native_f, native_applied, native = _probe("native", tmp_path)
    python_f, python_applied, python = python_path

    assert native["group"] == "Actuator" and native["drive"] == "DriveGRUPD" and native["backend"] == "torch"
    assert native["graphable"]  # Isaac Lab folds the decimation loop, as for its own drives
    assert python["group"] == "CombinedGRUAndPDActuator"
    assert not native["lab_path_deprecation"] and python["lab_path_deprecation"]
    assert native["resets"] == python["resets"]  # the forced time-outs, and the same falls
    assert native["resets"][20][0] and native["resets"][20][2]

    decimation = native["physics_steps_per_policy_step"]
    assert native_f.shape == python_f.shape == (STEPS * decimation, native_f.shape[1])
    assert np.abs(python_f).max() > 1.0  # the legs are driven
    assert float(np.abs(native_f - python_f).max()) <= TOLERANCE
    assert float(np.abs(native_applied - python_applied).max()) <= TOLERANCE


def test_the_warp_kernels_in_the_env_stay_close_to_the_python_path(tmp_path, python_path):
    """The kernels that run on CUDA, here on the CPU (forced): same torques up to float rounding."""
    warp_f, _, warp = _probe("native", tmp_path, backend="warp")
    python_f, _, python = python_path
    assert warp["backend"] == "warp" and warp["resets"] == python["resets"]
    assert float(np.abs(warp_f - python_f).max()) <= WARP_TOLERANCE


@pytest.mark.parametrize(
    ("model", "drive", "group"), [("lstm", "DriveLSTM", "LSTMActuatorNet"), ("mlp", "DriveMLP", "MLPActuatorNet")]
)
def test_lstm_and_mlp_tasks_run_natively_with_the_same_torques(tmp_path, model, drive, group):
    """LSTM/MLP tasks keep use_newton_actuators=True: our drive, no deprecated path, the Python path's torques."""
    native_f, native_applied, native = _probe("native", tmp_path, model=model)
    python_f, python_applied, python = _probe("python", tmp_path, model=model)

    assert native["group"] == "Actuator" and native["drive"] == drive and native["graphable"]
    assert python["group"] == group
    assert not native["lab_path_deprecation"] and python["lab_path_deprecation"]
    assert not native["our_deprecations"], native["our_deprecations"]
    assert native["resets"] == python["resets"] and native["resets"][20][0] and native["resets"][20][2]
    assert native_f.shape == python_f.shape and np.abs(python_f).max() > 1.0
    assert float(np.abs(native_f - python_f).max()) <= TOLERANCE
    assert float(np.abs(native_applied - python_applied).max()) <= TOLERANCE


@pytest.mark.parametrize("model", ["gru_pd", "mlp"])
def test_randomised_tasks_draw_per_env_at_reset_and_both_paths_apply_the_same_torques(tmp_path, model, python_path):
    """The -Randomized task: gains, motor strength, friction and delay drawn per env by the reset event."""
    native_f, native_applied, native = _probe("native", tmp_path, model=model, variant="randomized")
    python_f, python_applied, python = _probe("python", tmp_path, model=model, variant="randomized")

    assert native["group"] == "Actuator" and native["graphable"]
    assert native["resets"] == python["resets"] and native["resets"][20][0] and native["resets"][20][2]
    drawn = native["drawn"]
    names = ["torque_scale", "friction", "delay"] + (["kp_scale", "kd_scale"] if model == "gru_pd" else [])
    assert sorted(k.split("/")[1] for k in drawn if k.startswith("start/")) == sorted(names)
    for key, value in drawn.items():
        np.testing.assert_array_equal(python["drawn"][key], value)  # same draws on both paths (same seed)
    for name in names:
        start, before, after = (drawn[f"{tag}/{name}"] for tag in ("start", "before_19", "before_21"))
        assert start.shape == (4, 12) and len({tuple(row) for row in start}) == 4, name  # per env
        np.testing.assert_array_equal(before, start)  # fixed within the episode
        np.testing.assert_array_equal(after[[1, 3]], start[[1, 3]])  # envs 1, 3 were not reset
        if name != "delay":
            assert (after[[0, 2]] != start[[0, 2]]).all(), name  # envs 0, 2 were reset: redrawn
    assert float(np.abs(native_f - python_f).max()) <= TOLERANCE
    assert float(np.abs(native_applied - python_applied).max()) <= TOLERANCE
    if model == "gru_pd":
        assert float(np.abs(native_f - python_path[0]).max()) > 0.1  # the randomisation changes the torques
