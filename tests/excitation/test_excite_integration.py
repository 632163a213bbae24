"""The whole path without a robot: excitation in the simulator -> log -> inspect_logs -> training -> a model file.

Real simulator (Isaac Lab 3, kit-less, CPU): the offline Go2 flat task, DC motors, base fixed in the air; a few
seconds on two joint groups (thighs, calves) at the default amplitudes and gains.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from learned_actuators.data import read_mapped_folder
from learned_actuators.excitation.go2 import GO2_POSITION_LIMITS, joint_part
from learned_actuators.excitation.robot_backend import SoftLimits
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.integration]

SHORT = [
    "chirp_duration_s=1.2",
    "steps_duration_s=0.8",
    "random_duration_s=1.0",
    "settle_s=0.2",
    "ramp_s=0.2",
    "chirp_f0_hz=0.5",
    "chirp_f1_hz=3",
    "step_hold_s=0.2",
    "sim.show_progress=false",
]


def _script(name: str, *argv: str) -> str:
    proc = subprocess.run(
        [sys.executable, f"scripts/{name}", *argv], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _check_log(folder, limits: SoftLimits) -> int:
    (log,) = read_mapped_folder(folder, folder / "column_map.json")
    assert log.joint_names == [f"{leg}_{p}_joint" for leg in ("FL", "FR", "RL", "RR") for p in ("thigh", "calf")]
    np.testing.assert_allclose(np.diff(log.t), 0.005, atol=1e-9)  # one row per physics step (200 Hz)
    # the torque label is the actuator's torque at the logged state and command: the DC motor's PD, unsaturated
    np.testing.assert_allclose(log.tau, log.channels["tau_cmd"], atol=1e-4)
    assert np.abs(log.tau).max() > 2.0 and np.abs(log.qd).max() > 2.0  # the joints were excited
    # the default amplitudes in the simulator stay inside the real robot's default soft limits
    for j, name in enumerate(log.joint_names):
        lo, hi = GO2_POSITION_LIMITS[name]
        part = joint_part(name)
        assert lo + limits.position_margin < log.q[:, j].min() and log.q[:, j].max() < hi - limits.position_margin
        assert np.abs(log.qd[:, j]).max() < limits.max_velocity[part]
        assert np.abs(log.tau[:, j]).max() < limits.max_torque[part]
    return len(log)


def test_excite_in_simulation_then_inspect_and_train_from_the_written_column_map(tmp_path):
    out = _script("excite_go2.py", "--groups", "thighs", "calves", "--out", str(tmp_path / "sessions"), *SHORT)
    folder = tmp_path / "sessions" / re.search(r"session: \S+/(go2_sim_[0-9-]+)", out).group(1)
    session = json.loads((folder / "session.json").read_text())
    record = session["record"]
    assert record["stop_reason"] == "completed" and record["actuator"] == "base_legs: DCMotorCfg"
    assert record["min_foot_height_m"] > 0.3  # suspended: the feet never near the ground
    rows = _check_log(folder, SoftLimits())
    assert rows == record["rows"] == 4 * round(session["plan"]["duration_s"] * 50)

    cmap = str(folder / "column_map.json")
    _script("inspect_logs.py", str(folder), "--column-map", cmap, "--out", str(tmp_path / "inspect"))
    summary = json.loads((tmp_path / "inspect" / "inspection.json").read_text())
    assert summary["runs"] == 8 and summary["frames"] == 8 * rows
    assert [f for f in summary["findings"] if f["level"] == "error"] == []
    assert (tmp_path / "inspect" / "inspection.html").stat().st_size > 100_000

    train = tmp_path / "train"
    _script(
        "train_actuator.py", "--preset", "recipe_gru_pd", "--out", str(train), "--models", "gru_pd",
        "data.reader=column_map", f"data.path={folder}", f"data.column_map={cmap}", 'data.test_groups=["FL"]',
        "train.max_epochs=3", "train.progress=false", "train.tensorboard=false", "train.plots=false",
    )  # fmt: skip
    results = {r["model"]: r for r in json.loads((train / "results.json").read_text())}
    assert results["gru_pd"]["splits"] == ["FL"]  # the front-left leg's joints held out
    assert np.isfinite(results["gru_pd"]["rmse"]) and results["gru_pd"]["r2"] > 0.9
    # a PD fitted on the other legs predicts the held-out torque exactly: label and state are paired right
    assert results["pd_friction_lsq"]["rmse"] < 1e-3
    model = train / "export" / "gru_pd.pt"
    assert model.is_file()
    from learned_actuators.network_file import load_network

    _, meta = load_network(str(model))
    assert meta.dt == pytest.approx(0.005)
