"""The four raw Feetech STS3250 BAM logs (~50-65 Hz, irregular) train through the shipped column map alone."""

import json

import numpy as np
import pytest

from learned_actuators.data.column_map import read_mapped_folder
from tests.support.cli import script_main

pytestmark = pytest.mark.integration


def test_sts3250_raw_logs_load_and_train_with_the_shipped_map(shared_data, tmp_path, capsys):
    folder = shared_data / "bam" / "sts3250_raw"
    logs = read_mapped_folder(folder, "bam_sts3250")
    assert len(logs) == 4
    for log in logs:  # irregular source (48.7 and 65.7 Hz) resampled to one uniform 50 Hz grid
        np.testing.assert_allclose(np.diff(log.t), 0.02, atol=1e-9)
        assert log.meta["cleaning"]["resample_hz"] == 50.0
        assert log.tau is not None and np.isfinite(log.tau).all()
    rates = sorted(round(g.meta["cleaning"]["source_rate_hz"]) for g in logs)
    assert rates == [49, 49, 49, 66]
    out = tmp_path / "run"
    argv = [
        "--preset",
        "bam_xl330",
        "--out",
        str(out),
        "--models",
        "gru_pd",
        "--no-export",
        f"data.path={folder}",
        "data.column_map=bam_sts3250",
        'data.test_groups=["up_and_down"]',
        "train.max_epochs=2",
        "train.progress=false",
        "train.tensorboard=false",
        "train.plots=false",
    ]
    assert script_main("train_actuator")(argv) == 0
    rows = json.loads((out / "results.json").read_text())
    assert [r["model"] for r in rows] == ["gru_pd", "pd_friction_lsq"]
    assert all(np.isfinite(r["rmse"]) for r in rows)
    run = json.loads((out / "run.json").read_text())
    assert set(run["cleaning"]) == {g.name for g in logs}  # the cleaning of every run is in the run's record
    assert all(c["glitch_thresholds"] == {"position": 0.5} for c in run["cleaning"].values())
