"""The same net and runs give the same numbers through ``run_validation`` and ``scripts/validate_actuator.py``.

The logs are two short BAM runs of the built-in demo data downsampled to 100 Hz (a rate that needs the automatic
decimation: the net runs at 200 Hz), replayed on two arm geometries at once; the net is a tiny GRU-PD file with its own
physics (gain scale, damping, torque-speed curve), so nothing is copied by hand into either entry point.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from learned_actuators.data.demo import DEMO_DATA_DIR
from learned_actuators.network_file import NetworkMetadata, save_network
from tests.conftest import REPO_ROOT
from tests.policy.gru_pd_net import FEATURES, TinyGRUResidual

pytestmark = pytest.mark.integration

STEPS = 80
"""Samples per run at 100 Hz (0.8 s)."""
BENCHES = ["mass=0.49,length=0.1", "mass=1.0,length=0.15"]
PHYSICS = {"kp": 0.36, "kd": 0.012, "stall_torque": 0.45, "no_load_speed": 7.0}
KP_SCALE = 0.0036


def _write_logs(folder, files):
    folder.mkdir()
    for name in files:
        data = json.loads((DEMO_DATA_DIR / name).read_text())
        data["entries"] = data["entries"][100 : 100 + 2 * STEPS : 2]  # 200 Hz -> 100 Hz
        data["dt"] = 0.01
        (folder / name).write_text(json.dumps(data))
    return folder


def _write_net(path):
    torch.manual_seed(0)
    meta = NetworkMetadata(
        model_type="gru_pd",
        dt=0.005,
        features=list(FEATURES),
        mode="residual",
        hidden_size=8,
        num_layers=1,
        input_mean=[0.0, 0.0, 0.0],
        input_std=[1.0, 1.0, 10.0],
        output_mean=0.0,
        output_std=0.02,
        physics=dict(PHYSICS),
        source={"purpose": "learned_actuators validation tests", "kp_scale": KP_SCALE},
    )
    save_network(TinyGRUResidual().eval(), path, meta)
    return path


def test_python_and_command_line_give_identical_numbers(tmp_path):
    from learned_actuators.data.column_map import load_column_map, read_mapped_folder
    from learned_actuators.validation.bench import parse_bench_spec
    from learned_actuators.validation.model_physics import learned_model_cfg
    from learned_actuators.validation.validate import run_validation
    from learned_actuators.validation.validation_cfg import ValidationCfg

    names = sorted(p.name for p in DEMO_DATA_DIR.glob("20*.json"))
    test = _write_logs(tmp_path / "test", names[:2])
    train = _write_logs(tmp_path / "train", names[2:4])
    net = _write_net(tmp_path / "gru_pd.pt")
    column_map_file = DEMO_DATA_DIR / "column_map.json"
    out = tmp_path / "cli"
    argv = ["--data", str(test), "--train-data", str(train), "--column-map", str(column_map_file)]
    argv += ["--network", str(net)]
    argv += [arg for b in BENCHES for arg in ("--bench", b)] + ["--out", str(out), "show_progress=false"]
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "validate_actuator.py"), *argv],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    cli = json.loads((out / "metrics.json").read_text())

    column_map = load_column_map(str(column_map_file))
    cfg = ValidationCfg(benches=tuple(parse_bench_spec(b) for b in BENCHES), show_progress=False)
    result = run_validation(
        read_mapped_folder(test, column_map),
        {"gru_pd": learned_model_cfg(net)},
        cfg,
        fit_logs=read_mapped_folder(train, column_map),
    )

    # defaults only: the 100 Hz log gets decimation 2 (the 200 Hz net must divide the physics step)
    assert result.decimation == 2 and cli["decimation"] == 2 and cli["physics_dt"] == pytest.approx(0.005)
    # the baselines take the net file's physics; the net its own gain scale
    assert cli["settings"]["baseline_physics"] == {
        "kp_scale": KP_SCALE,
        "kd": PHYSICS["kd"],
        "effort_limit": PHYSICS["stall_torque"],
        "velocity_limit": PHYSICS["no_load_speed"],
    }
    assert cli["settings"]["learned_models_clipped"] is False
    # one env per (run, geometry), results per geometry
    assert [r["name"] for r in cli["runs"]] == result.batch.names and len(result.batch.names) == 4
    assert len(set(result.benches)) == 2 and len(cli["models"]["gru_pd"]["per_bench"]) == 2
    assert set(cli["models"]) == {m.name for m in result.models} >= {"gru_pd", "ideal_pd", "dc_motor", "fitted_pd"}
    for model in result.models:
        per_run = np.asarray(model.rollout["pos_rmse_per_traj"], dtype=float)
        assert np.isfinite(per_run).all()
        np.testing.assert_array_equal(cli["models"][model.name]["rollout"]["pos_rmse_per_traj"], per_run)
        if model.single_step is not None:
            assert cli["models"][model.name]["single_step"]["torque_rmse"] == model.single_step["torque_rmse"]
    # the heavier arm really is another bench: its envs move differently under the same commands
    gru = result.model("gru_pd").q_sim
    assert np.abs(gru[0] - gru[1]).max() > 1e-3
