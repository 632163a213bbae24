"""Inspection statistics and findings on synthetic logs with known faults; the command line's outputs."""

import json

import numpy as np
import pandas as pd
import pytest

from learned_actuators.errors import UserInputError
from learned_actuators.inspection.cli import HTML_FILE, JSON_FILE, main
from learned_actuators.inspection.runs import velocity_lag

pytestmark = pytest.mark.unit

MAP = {
    "name": "synthetic",
    "format": "csv",
    "file_glob": "*.csv",
    "time": {"column": "t", "unit": "s"},
    "position": "q",
    "target": "q_cmd",
    "velocity": "qd",
    "torque": "tau",
    "meta": {},
    "constants": {"kp": 20.0},
}


def _write(folder, lag_s=0.03, glitch=True, irregular=(0, 1, 2), runs=3):
    """Runs of a 1.3 Hz sine at ~100 Hz whose velocity lags by ``lag_s``; a glitch in run 0; gaps of 15 ms."""
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(runs):
        dt = rng.choice([0.01, 0.015], size=599, p=[0.8, 0.2]) if i in irregular else np.full(599, 0.01)
        t = np.concatenate([[0.0], np.cumsum(dt)])
        w = 2 * np.pi * (1.3 + 0.2 * i)
        q = 0.6 * np.sin(w * t)
        if glitch and i == 0:
            q[300] = -np.pi
        frame = {"t": t, "q": q, "q_cmd": 0.7 * np.sin(w * t + 0.2), "qd": 0.6 * w * np.cos(w * (t - lag_s))}
        frame["tau"] = 2.0 * np.sin(w * t + 0.5)
        pd.DataFrame(frame).to_csv(folder / f"run{i}.csv", index=False)
        (folder / f"run{i}.meta.json").write_text(json.dumps({"constants": {"group": f"g{i}"}}))


def test_velocity_lag_estimate():
    t = np.arange(2000) * 0.005
    q = np.sin(3.0 * t) + 0.3 * np.sin(7.0 * t)
    qd = 3.0 * np.cos(3.0 * (t - 0.02)) + 2.1 * np.cos(7.0 * (t - 0.02))
    lag, corr = velocity_lag(t, q, qd)
    assert lag == pytest.approx(0.02, abs=0.001) and corr > 0.99


def test_findings_name_the_column_map_keys_that_fix_them(tmp_path, capsys):
    _write(tmp_path / "logs")
    (tmp_path / "map.json").write_text(json.dumps({**MAP, "resample_hz": 100}))
    out = tmp_path / "out"
    assert main([str(tmp_path / "logs"), "--column-map", str(tmp_path / "map.json"), "--out", str(out)]) == 0
    summary = json.loads((out / JSON_FILE).read_text())
    fixes = " ".join(f["fix"] for f in summary["findings"])
    assert '"glitches": {"position"' in fixes and '"lag_s": 0.03' in fixes
    run0 = summary["per_run"][0]
    assert run0["glitches"]["found"] == 1
    assert run0["velocity_lag_ms"] == pytest.approx(30.0, abs=2.0)
    assert run0["source_timestamps"]["step_ms"][-1] == pytest.approx(15.0)  # the source's own steps
    assert sorted(summary["split"]["splits"]) == ["g0", "g1", "g2"]  # leave one group out
    assert summary["first_rows"]["run0"]["t [s]"][:2] == pytest.approx([0.0, 0.01])
    assert summary["coverage"]["frames"] == summary["frames"] == sum(r["frames"] for r in summary["per_run"])
    assert "plotly" in (out / HTML_FILE).read_text()
    with pytest.raises(UserInputError, match="already holds files"):
        main([str(tmp_path / "logs"), "--column-map", str(tmp_path / "map.json"), "--out", str(out)])


def test_cleaned_logs_have_no_findings_and_unreadable_logs_are_listed(tmp_path, capsys):
    _write(tmp_path / "logs")
    cleaned = {**MAP, "resample_hz": 100, "glitches": {"position": 0.5}, "velocity": {"column": "qd", "lag_s": 0.03}}
    (tmp_path / "clean.json").write_text(json.dumps(cleaned))
    out = tmp_path / "clean"
    assert main([str(tmp_path / "logs"), "--column-map", str(tmp_path / "clean.json"), "--out", str(out)]) == 0
    summary = json.loads((out / JSON_FILE).read_text())
    assert [f for f in summary["findings"] if f["level"] != "info"] == []
    assert summary["cleaning"]["run0"]["glitches_replaced"] == {"position": 1}
    (tmp_path / "raw.json").write_text(json.dumps(MAP))  # no resample_hz: training cannot read irregular logs
    _write(tmp_path / "mixed", irregular=(0,))
    out = tmp_path / "raw"
    assert main([str(tmp_path / "mixed"), "--column-map", str(tmp_path / "raw.json"), "--out", str(out)]) == 0
    summary = json.loads((out / JSON_FILE).read_text())
    errors = [f for f in summary["findings"] if f["level"] == "error"]
    assert [f["run"] for f in errors] == ["run0.csv"] and 'set "resample_hz"' in errors[0]["fix"]
    assert summary["runs"] == 2  # the readable runs are still inspected
    with pytest.raises(UserInputError, match='set "resample_hz"'):  # none readable: the reader's error
        main([str(tmp_path / "logs"), "--column-map", str(tmp_path / "raw.json"), "--out", str(tmp_path / "r2")])


def test_cli_input_errors(tmp_path):
    with pytest.raises(UserInputError, match="say how to read it"):
        main([str(tmp_path)])
    with pytest.raises(UserInputError, match="only data"):
        main(["--demo", "train.max_epochs=3", "--out", str(tmp_path / "o")])
