"""Torque metrics of a model on test runs: the moving / standstill split and its pooling over folds."""

import numpy as np
import pytest

from learned_actuators.learning import PhysicsCfg, evaluation
from learned_actuators.learning.baselines import IdealPDBaseline
from learned_actuators.learning.evaluation import (
    STILL_SPEED,
    evaluate,
    fit_rollout,
    format_table,
    generalisation_notes,
    per_split_results,
    pool_results,
    results_text,
)
from learned_actuators.learning.rollout import rollout
from tests.learning.conftest import make_runs

pytestmark = pytest.mark.unit


class _Offset:
    """A model whose torque is the label plus ``still`` on standstill frames and ``moving`` elsewhere."""

    def __init__(self, still: float, moving: float):
        self.still, self.moving = still, moving

    def predict(self, log):
        return log.tau[:, 0] + np.where(np.abs(log.qd[:, 0]) < STILL_SPEED, self.still, self.moving)


def _runs(held_frames: int):
    runs = make_runs(kps=(2.0, 4.0))
    for log in runs:
        log.qd[:held_frames, 0] = 0.01  # a stall at the start
    return runs


def test_torque_error_is_split_into_moving_and_standstill_frames():
    out = evaluate(_Offset(0.1, 0.02), _runs(60), with_rollout=False)
    n_still = sum(int((np.abs(g.qd[:, 0]) < STILL_SPEED).sum()) for g in _runs(60))
    assert out["n_still"] == n_still >= 120
    assert out["rmse_still"] == pytest.approx(0.1) and out["rmse_moving"] == pytest.approx(0.02)
    share = n_still / out["n"]
    assert out["rmse"] == pytest.approx(np.sqrt(share * 0.1**2 + (1 - share) * 0.02**2))
    no_stall = make_runs(kps=(2.0,))
    no_stall[0].qd[:, 0] = 1.0  # every frame moving: no standstill RMSE rather than a NaN
    moving_only = evaluate(_Offset(0.1, 0.02), no_stall, with_rollout=False)
    assert moving_only["n_still"] == 0 and "rmse_still" not in moving_only


def test_folds_pool_the_split_by_frames():
    a = evaluate(_Offset(0.1, 0.02), _runs(60), with_rollout=False)
    b = evaluate(_Offset(0.3, 0.04), _runs(150), with_rollout=False)
    pooled = pool_results([a, b], [a["n"], b["n"]])
    still = (0.1**2 * a["n_still"] + 0.3**2 * b["n_still"]) / (a["n_still"] + b["n_still"])
    n_a, n_b = a["n"] - a["n_still"], b["n"] - b["n_still"]
    moving = (0.02**2 * n_a + 0.04**2 * n_b) / (n_a + n_b)
    assert pooled["rmse_still"] == pytest.approx(np.sqrt(still)) and pooled["rmse_moving"] == pytest.approx(
        np.sqrt(moving)
    )
    assert pooled["n"] == a["n"] + b["n"] and pooled["n_still"] == a["n_still"] + b["n_still"]
    assert pooled["rmse"] ** 2 == pytest.approx((a["mse"] * a["n"] + b["mse"] * b["n"]) / (a["n"] + b["n"]))
    folds = per_split_results([("a", None), ("b", None)], [a, b])
    assert folds["b"]["rmse_still"] == pytest.approx(0.3) and folds["mean"]["rmse_moving"] == pytest.approx(0.03)
    table = format_table([{"model": "m", **pooled}, {"model": "pd", "rmse": 0.2, "r2": 0.5}]).splitlines()
    assert table[0].endswith("| moving / standstill [N·m] |")
    assert table[2].endswith(f"| {np.sqrt(moving):.3f} / {np.sqrt(still):.3f} |") and table[3].endswith("| — / — |")


def test_fit_rollout_rolls_out_the_training_runs_evenly_spaced_and_only_with_known_loads(monkeypatch):
    runs = make_runs(kps=(2.0, 3.0, 4.0, 5.0, 6.0))
    model = IdealPDBaseline(PhysicsCfg(kp_scale=0.5, kd=0.05, stall_torque=1.0))  # half the gain: off in rollout
    per_run = rollout(model, runs).rmse
    out = fit_rollout(model, runs)
    assert out["fit_rollout_rmse"] == pytest.approx(per_run.mean()) and out["fit_runs"] == 5
    assert out["fit_diverged"] == 0
    monkeypatch.setattr(evaluation, "FIT_ROLLOUT_RUNS", 3)  # runs 0, 2 and 4 of 5
    assert fit_rollout(model, runs)["fit_rollout_rmse"] == pytest.approx(per_run[[0, 2, 4]].mean())
    unstable = IdealPDBaseline(PhysicsCfg(kp_scale=1.0, kd=-2.0, stall_torque=None))  # negative damping: blows up
    assert fit_rollout(unstable, runs)["fit_diverged"] == 3
    runs[1].meta.pop("inertia")  # no rollout without the load
    assert fit_rollout(model, runs) == {} and fit_rollout(model, []) == {}


def _row(held: dict[str, float], fitted: dict[str, float]) -> dict:
    splits = {k: {"rollout_rmse": held[k], "fit_rollout_rmse": fitted[k]} for k in held}
    return {
        "model": "gru_pd",
        "rmse": 0.03,
        "r2": 0.9,
        "rollout_rmse": float(np.mean(list(held.values()))),
        "fit_rollout_rmse": float(np.mean(list(fitted.values()))),
        "per_split": {**splits, "mean": {}},
    }


def test_generalisation_notes_flag_the_splits_held_out_much_worse_than_fitted():
    row = _row({"a": 0.074, "b": 0.039, "c": 0.014}, {"a": 0.025, "b": 0.034, "c": 0.009})
    (line,) = generalisation_notes([row])
    assert line.startswith("gru_pd: held-out rollout 0.042 rad, 1.9x its training runs' 0.023")
    assert "a 0.074 against 0.025" in line  # 3x and 0.049 rad apart
    assert "b 0.039" not in line  # 1.1x
    assert "c 0.014" not in line  # 1.6x but only 0.005 rad apart
    (within,) = generalisation_notes([_row({"b": 0.039}, {"b": 0.034})])
    assert "every split within 1.5x" in within
    assert generalisation_notes([{"model": "pd", "rmse": 0.1, "r2": 0.5, "rollout_rmse": 0.1}]) == []
    unstable = _row({"a": 0.01, "b": 0.03}, {"a": 14.5, "b": 0.02})  # diverged on 3 of a's 4 training runs
    unstable.update(fit_diverged=3)
    unstable["per_split"]["a"].update(fit_diverged=3, fit_runs=4)
    (diverged,) = generalisation_notes([unstable])
    assert "diverged on runs it was fitted on (training runs of split a 3 of 4)" in diverged and "x its" not in diverged
    assert "| 7.260 (3 diverged) |" in format_table([unstable])
    text = results_text([row, {"model": "pd", "rmse": 0.1, "r2": 0.5, "rollout_rmse": 0.1}]).splitlines()
    assert text[0].startswith("| model | torque RMSE [N·m] | R² | rollout RMSE [rad] | on its training runs [rad] |")
    assert text[2].startswith("| gru_pd | 0.030 | 0.90 | 0.042 | 0.023 |") and text[3].startswith(
        "| pd | 0.100 | 0.50 | 0.100 | — |"
    )
    assert text[-1] == f"* {line}"


def test_folds_pool_the_rollout_on_their_training_runs_as_a_plain_mean():
    a = {"mse": 0.01, "label_mean": 0.0, "label_var": 1.0, "rollout_rmse_runs": [0.1], "diverged": 0}
    b = {**a, "rollout_rmse_runs": [0.3]}
    fit_a, fit_b = {"fit_rollout_rmse": 0.02, "fit_diverged": 0}, {"fit_rollout_rmse": 0.04, "fit_diverged": 2}
    pooled = pool_results([{**a, **fit_a}, {**b, **fit_b}], [1, 3])
    assert pooled["fit_rollout_rmse"] == pytest.approx(0.03) and pooled["rollout_rmse"] == pytest.approx(0.2)
    assert pooled["fit_diverged"] == 2
    assert "fit_rollout_rmse" not in pool_results([{**a, "fit_rollout_rmse": 0.02}, b], [1, 1])
    folds = per_split_results([("a", None), ("b", None)], [{**a, "fit_rollout_rmse": 0.02}, b])
    assert folds["a"]["fit_rollout_rmse"] == 0.02 and "fit_rollout_rmse" not in folds["b"]
    assert "fit_rollout_rmse" not in folds["mean"]
