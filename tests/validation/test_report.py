import json
from html.parser import HTMLParser

import numpy as np
import pytest

from learned_actuators.data.joint_log import JointLog
from learned_actuators.validation.report import format_table, write_report
from learned_actuators.validation.results import ValidationResult, evaluate_model
from learned_actuators.validation.trajectories import TrajectoryBatch

pytestmark = pytest.mark.unit


class _TableParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.images, self._in_table, self._cell = [], 0, False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "results":
            self._in_table = True
        elif self._in_table and tag == "tr":
            self.rows.append([])
        elif self._in_table and tag in ("td", "th"):
            self._cell = ""
        elif tag == "img" and attrs.get("src", "").startswith("data:image/png;base64,"):
            self.images += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _result():
    dt, n = 0.01, 60
    t = np.arange(n) * dt
    logs = [
        JointLog(
            name=f"run{i}",
            source=f"run{i}.json",
            t=t,
            q=np.sin(t + i),
            q_target=np.sin(t + i + 0.1),
            qd=np.cos(t + i),
            tau=np.sin(t),
            joint_names=["joint"],
        )
        for i in range(3)
    ]
    batch = TrajectoryBatch.from_logs(logs)
    models = [
        evaluate_model("exact", "model", batch, batch.q.copy(), batch.qd.copy(), batch.tau.copy()),
        evaluate_model("offset", "baseline", batch, batch.q + 0.25, batch.qd, batch.tau + 0.1),
    ]
    bad_q = batch.q.copy()
    bad_q[1, 30:] = np.nan
    models.append(evaluate_model("unstable", "model", batch, bad_q, batch.qd, None))
    return ValidationResult(
        batch=batch,
        models=models,
        replica="bench",
        physics_dt=dt,
        skipped={"dc_motor": "no stall torque"},
        settings={"kp": 1.0},
    )


def test_report_html_parses_and_holds_the_table(tmp_path):
    paths = write_report(_result(), tmp_path / "rep", num_runs=2)
    page = paths["html"].read_text(encoding="utf-8")
    parser = _TableParser()
    parser.feed(page)
    header, *rows = parser.rows
    assert header[0] == "model" and any("pos RMSE" in h for h in header)
    assert [r[0] for r in rows] == ["exact", "unstable", "offset"]  # learned models first, then baselines
    pos_col = next(i for i, h in enumerate(header) if h.startswith("pos RMSE"))
    assert float(rows[0][pos_col]) == 0.0
    assert rows[1][pos_col] == "diverged"
    assert float(rows[2][pos_col]) == pytest.approx(0.25)
    mean_col = header.index("mean of run pos RMSE [rad]")
    assert float(rows[2][mean_col]) == pytest.approx(0.25) and rows[1][mean_col] == "diverged"
    # per-run spread, position and velocity overlays, torque traces, error growth, per-run RMSE bars
    assert parser.images == 6
    assert "http://" not in page and "https://" not in page  # opens offline
    assert "no stall torque" in page


def test_metrics_json_has_every_model(tmp_path):
    result = _result()
    data = json.loads(write_report(result, tmp_path)["json"].read_text())
    assert set(data["models"]) == {"exact", "offset", "unstable"}
    assert data["models"]["offset"]["summary"]["pos_rmse"] == pytest.approx(0.25)
    assert data["models"]["offset"]["single_step"]["torque_rmse"] == pytest.approx(0.1)
    assert data["models"]["unstable"]["summary"]["pos_rmse"] == "inf"
    assert data["models"]["unstable"]["single_step"] is None
    assert len(data["models"]["exact"]["rollout"]["pos_rmse_per_traj"]) == 3
    assert data["skipped"] == {"dc_motor": "no stall torque"}
    assert [r["name"] for r in data["runs"]] == ["run0", "run1", "run2"]


def test_text_table_lists_every_model():
    text = format_table(_result())
    lines = text.splitlines()
    assert lines[0].startswith("model")
    assert [line.split()[0] for line in lines[2:]] == ["exact", "unstable", "offset"]
    assert "diverged" in lines[3]


def test_a_full_disk_leaves_the_previous_report(tmp_path, monkeypatch):
    import errno
    import os

    from learned_actuators.errors import DiskFullError

    paths = write_report(_result(), tmp_path)
    before = {name: path.read_bytes() for name, path in paths.items()}

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(DiskFullError) as err:
        write_report(_result(), tmp_path, num_runs=1)
    monkeypatch.undo()
    assert str(paths["html"]) in str(err.value) and "disk is full" in str(err.value)
    assert {name: path.read_bytes() for name, path in paths.items()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "report.html"]  # no temporary file left


def test_the_main_jobs_one_dof_verdict_is_shown_beside_the_simulators(tmp_path):
    result = _result()
    assert 'id="one-dof-verdict"' not in write_report(result, tmp_path / "a")["html"].read_text()
    line = "In the trainer's 1-DOF rollout: traj_physics beats gru_pd & co"
    result.settings["demo"] = {"one_dof_verdict": line}
    page = write_report(result, tmp_path / "b")["html"].read_text()
    assert 'id="one-dof-verdict"' in page and "traj_physics beats gru_pd &amp; co" in page


def test_each_learned_model_against_the_ideal_pd_is_shown_when_it_ran(tmp_path):
    result = _result()
    assert 'id="against-reference"' not in write_report(result, tmp_path / "a")["html"].read_text()
    batch = result.batch
    result.models.append(evaluate_model("ideal_pd", "baseline", batch, batch.q + 0.1, batch.qd, batch.tau))
    paths = write_report(result, tmp_path / "b")
    page = paths["html"].read_text()
    assert 'id="against-reference"' in page and "Against ideal_pd (0.100 rad" in page
    assert "exact 0.000 rad beats it" in page and "unstable is worse than the plain PD" in page
    saved = json.loads(paths["json"].read_text())
    assert saved["verdict"]["against_reference"].startswith("Against ideal_pd")


def test_per_gain_sub_folds_are_counted_as_their_folds():
    from types import SimpleNamespace

    from learned_actuators.validation.report import _where

    parts = [f"{fold} kp{g}" for fold in ("a", "b") for g in (100, 200)]
    records = {p: {"fold": p.split()[0], "gain": float(p.split("kp")[1])} for p in parts}
    result = SimpleNamespace(batch=SimpleNamespace(num_envs=4), folds=parts, settings={"folds": records})
    text = _where(result)
    assert text.startswith("4 held-out runs from 2 folds (held-out groups: a, b, each fold's runs validated per gain")
    assert "(4 sub-folds)" in text
    plain = SimpleNamespace(batch=SimpleNamespace(num_envs=2), folds=["a", "b"], settings={"folds": {}})
    assert _where(plain).startswith("2 held-out runs from 2 folds (held-out groups: a, b);")
