"""The report's verdict, honest (training-only) baselines, fold merging and provenance: pure NumPy, no simulator."""

import hashlib
import json

import numpy as np
import pytest

from learned_actuators.data.joint_log import JointLog
from learned_actuators.validation.metrics import fit_pd_on_training, fit_pd_per_gain
from learned_actuators.validation.provenance import provenance
from learned_actuators.validation.report import write_report
from learned_actuators.validation.results import ValidationResult, evaluate_model, merge_results
from learned_actuators.validation.trajectories import TrajectoryBatch
from learned_actuators.validation.verdict import compute_verdict

pytestmark = pytest.mark.unit

KINDS = {"gru_pd": "model", "mlp": "model", "dc_motor": "baseline", "fitted_pd": "baseline", "oracle": "oracle"}


def test_verdict_names_the_winner_margin_and_run_count():
    per_run = {
        "gru_pd": [0.04, 0.05, 0.06, 0.05],  # mean 0.050
        "mlp": [0.20, 0.10, 0.30, 0.20],
        "dc_motor": [0.07, 0.08, 0.05, 0.08],  # mean 0.070: the best baseline
        "fitted_pd": [0.09, 0.09, 0.09, 0.09],
    }
    v = compute_verdict(per_run, KINDS)
    assert v.learned_wins and v.best_model == "gru_pd" and v.best_baseline == "dc_motor"
    assert v.n_runs == 4 and v.runs_better == 3
    assert v.best_model_mean == pytest.approx(0.05) and v.best_baseline_mean == pytest.approx(0.07)
    assert v.margin == pytest.approx(0.02) and v.margin_relative == pytest.approx(0.02 / 0.07)
    for text in ("gru_pd is best on 4 held-out runs", "0.050 rad", "0.070 rad", "dc_motor", "29% lower", "3 of 4"):
        assert text in v.line, (text, v.line)


def test_verdict_says_does_not_win_when_a_baseline_wins():
    per_run = {"gru_pd": [0.06, 0.06], "mlp": [0.2, 0.2], "fitted_pd": [0.05, 0.05], "dc_motor": [0.07, 0.07]}
    v = compute_verdict(per_run, KINDS)
    assert not v.learned_wins and v.best_baseline == "fitted_pd" and v.best_model == "gru_pd"
    assert v.margin == pytest.approx(-0.01)
    assert "do not win" in v.line and "fitted_pd" in v.line and "20% higher" in v.line and "0 of 2" in v.line


def test_verdict_ignores_the_oracle():
    per_run = {"gru_pd": [0.06, 0.05], "dc_motor": [0.08, 0.08], "oracle": [0.01, 0.01]}
    v = compute_verdict(per_run, KINDS)
    assert v.learned_wins and v.best_baseline == "dc_motor" and v.excluded == ("oracle",)
    assert "oracle" in v.line and "excluded" in v.line


def test_verdict_counts_a_diverged_run_against_the_model():
    per_run = {"gru_pd": [0.01, float("inf")], "dc_motor": [0.08, 0.08]}
    v = compute_verdict(per_run, KINDS)
    assert not v.learned_wins and "diverged on 1 of 2 runs" in v.line
    assert json.dumps(v.to_dict(), allow_nan=False)  # JSON-safe


def test_each_learned_model_is_set_against_the_ideal_pd():
    kinds = {**KINDS, "lstm": "model", "ideal_pd": "baseline"}
    per_run = {
        "gru_pd": [0.05, 0.07],  # mean 0.060: beats ideal_pd on both runs
        "mlp": [0.20, 0.10],  # mean 0.150: worse, better on 1 run
        "lstm": [0.05, float("inf")],  # diverged
        "ideal_pd": [0.12, 0.12],
        "dc_motor": [0.08, 0.08],
    }
    v = compute_verdict(per_run, kinds)
    line = v.against_reference
    assert line.startswith("Against ideal_pd (0.120 rad")
    assert "gru_pd 0.060 rad beats it (50% lower, better on 2 of 2 runs)" in line
    assert "mlp 0.150 rad does not (25% higher; better on 1 of 2 runs)" in line
    assert "lstm does not (it diverged on 1 of 2 runs)" in line
    assert line.endswith("mlp, lstm are worse than the plain PD.")
    assert line.index("gru_pd") < line.index("mlp") < line.index("lstm")  # best first
    assert v.to_dict()["against_reference"] == line
    assert compute_verdict({k: per_run[k] for k in ("gru_pd", "dc_motor")}, kinds).against_reference == ""


def test_verdict_without_baseline_or_model_and_bad_input():
    assert "nothing to compare" in compute_verdict({"gru_pd": [0.1]}, KINDS).line
    assert not compute_verdict({"dc_motor": [0.1]}, KINDS).learned_wins
    with pytest.raises(ValueError, match="same runs"):
        compute_verdict({"gru_pd": [0.1], "dc_motor": [0.1, 0.2]}, KINDS)
    with pytest.raises(ValueError, match="unknown kinds"):
        compute_verdict({"x": [0.1]}, {"x": "reference"})


# ------------------------------------------------------------------------------------------- honest baselines


def _pd_runs(kp: float, kd: float, gain: float, n_runs: int, prefix: str, seed: int) -> list[JointLog]:
    """Runs whose torque label is exactly ``kp (q* - q) - kd qd``, logged gain ``meta["kp"] = gain``."""
    rng = np.random.default_rng(seed)
    dt, n = 0.01, 200
    t = np.arange(n) * dt
    logs = []
    for i in range(n_runs):
        q = 0.3 * np.sin(2 * t + rng.uniform(0, 6))
        qd = np.gradient(q, dt)
        target = q + 0.1 * np.sin(5 * t + rng.uniform(0, 6))
        logs.append(
            JointLog(
                name=f"{prefix}{i}",
                source=f"{prefix}{i}.json",
                t=t,
                q=q,
                q_target=target,
                qd=qd,
                tau=kp * (target - q) - kd * qd,
                joint_names=["joint"],
                meta={"kp": gain},
            )
        )
    return logs


def test_fitted_pd_comes_from_the_training_runs_only():
    # same logged gain, different true gains: a fit that touched the test runs would land between the two
    train = TrajectoryBatch.from_logs(_pd_runs(2.0, 0.10, gain=100, n_runs=3, prefix="train", seed=0))
    test = TrajectoryBatch.from_logs(_pd_runs(5.0, 0.30, gain=100, n_runs=2, prefix="test", seed=1))
    kp, kd, how = fit_pd_on_training(test, train)
    assert kp.shape == (2, 1) and np.allclose(kp, 2.0, atol=1e-6) and np.allclose(kd, 0.10, atol=1e-6)
    assert "training runs only" in how
    oracle_kp, oracle_kd = fit_pd_per_gain(test, test)  # the in-sample fit sees the test runs' own gains
    assert np.allclose(oracle_kp, 5.0, atol=1e-6) and np.allclose(oracle_kd, 0.30, atol=1e-6)


def test_fitted_pd_per_logged_gain_and_proportional_fallback():
    train = TrajectoryBatch.from_logs(
        _pd_runs(1.0, 0.05, gain=100, n_runs=2, prefix="a", seed=0)
        + _pd_runs(2.0, 0.05, gain=200, n_runs=2, prefix="b", seed=1)
    )
    test = TrajectoryBatch.from_logs(
        _pd_runs(9.0, 0.9, gain=200, n_runs=1, prefix="c", seed=2)
        + _pd_runs(9.0, 0.9, gain=100, n_runs=1, prefix="d", seed=3)
    )
    kp, _, _ = fit_pd_on_training(test, train)
    assert kp[:, 0] == pytest.approx([2.0, 1.0], abs=1e-6)  # each test run gets the fit of its logged gain
    unseen = TrajectoryBatch.from_logs(_pd_runs(9.0, 0.9, gain=400, n_runs=1, prefix="e", seed=4))
    kp, kd, how = fit_pd_on_training(unseen, train)  # gain 400 not in training: kp ∝ logged gain (0.01 per unit)
    assert kp[0, 0] == pytest.approx(4.0, abs=1e-6) and kd[0, 0] == pytest.approx(0.05, abs=1e-6)
    assert "proportional" in how


# ------------------------------------------------------------------------------------- merge and provenance


def _fold_result(prefix: str, offsets: dict[str, float], n: int) -> ValidationResult:
    dt = 0.01
    t = np.arange(n) * dt
    logs = [
        JointLog(
            name=f"{prefix}{i}",
            source=f"{prefix}{i}.json",
            t=t,
            q=np.sin(t + i),
            q_target=np.sin(t + i + 0.1),
            qd=np.cos(t + i),
            tau=np.sin(t),
            joint_names=["joint"],
            meta={"kp": 100},
        )
        for i in range(2)
    ]
    batch = TrajectoryBatch.from_logs(logs)
    kinds = {"gru_pd": "model", "dc_motor": "baseline", "fitted_pd_oracle": "oracle"}
    models = [
        evaluate_model(name, kinds[name], batch, batch.q + off, batch.qd, batch.tau + off, params={"off": off})
        for name, off in offsets.items()
    ]
    return ValidationResult(batch=batch, models=models, replica="bench", physics_dt=dt, settings={"fold": prefix})


def test_merge_results_over_folds_keeps_every_run_and_the_verdict(tmp_path):
    a = _fold_result("a", {"gru_pd": 0.02, "dc_motor": 0.05, "fitted_pd_oracle": 0.01}, n=50)
    b = _fold_result("b", {"gru_pd": 0.04, "dc_motor": 0.03, "fitted_pd_oracle": 0.01}, n=70)
    merged = merge_results([a, b], ["fold_a", "fold_b"])
    assert merged.batch.num_envs == 4 and merged.batch.num_steps == 70
    assert merged.folds == ["fold_a", "fold_a", "fold_b", "fold_b"]
    gru = merged.model("gru_pd")
    assert gru.rollout["pos_rmse_per_traj"] == pytest.approx([0.02, 0.02, 0.04, 0.04])
    assert gru.params["folds"]["fold_b"] == {"off": 0.04}
    v = merged.verdict()
    assert v.learned_wins and v.n_runs == 4 and v.best_baseline == "dc_motor" and v.runs_better == 2
    assert v.best_model_mean == pytest.approx(0.03) and v.best_baseline_mean == pytest.approx(0.04)
    assert [row["model"] for row in merged.table()] == ["gru_pd", "dc_motor", "fitted_pd_oracle"]

    merged.provenance = {"date": "2026-01-01T00:00:00+00:00", "git": None, "packages": {}, "data_files": []}
    paths = write_report(merged, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["verdict"]["best_model"] == "gru_pd" and data["verdict"]["n_runs"] == 4
    assert [r["fold"] for r in data["runs"]] == merged.folds
    page = paths["html"].read_text(encoding="utf-8")
    assert page.index('id="verdict"') < page.index('id="results"')  # the report opens with its verdict
    assert v.line.split(":")[0] in page and 'id="per_run"' in page
    assert "<script" not in page and "http://" not in page and "https://" not in page  # self-contained, offline


def test_merge_refuses_different_models():
    a = _fold_result("a", {"gru_pd": 0.02, "dc_motor": 0.05}, n=40)
    b = _fold_result("b", {"gru_pd": 0.02}, n=40)
    with pytest.raises(ValueError, match="same models"):
        merge_results([a, b], ["a", "b"])


def test_provenance_records_commit_versions_date_and_data_hashes(tmp_path):
    data = tmp_path / "run.json"
    data.write_bytes(b'{"q": [0, 1]}')
    prov = provenance([data, data])
    assert set(prov) >= {"date", "git", "packages", "python", "platform", "data_files"}
    assert set(prov["packages"]) >= {"learned_actuators", "torch", "isaaclab", "newton"}
    assert prov["packages"]["learned_actuators"] and prov["packages"]["torch"]
    assert prov["date"].startswith("20") and "T" in prov["date"]
    assert prov["data_files"] == [
        {"path": str(data.resolve()), "bytes": 13, "sha256": hashlib.sha256(b'{"q": [0, 1]}').hexdigest()}
    ]
    git = prov["git"]  # this test runs from the repository checkout
    assert git is None or (len(git["commit"]) == 40 and isinstance(git["dirty"], bool))
    assert json.dumps(prov, allow_nan=False)
