"""Torque metrics of a model on test runs: the moving / standstill split and its pooling over folds."""

import numpy as np
import pytest

from learned_actuators.learning.evaluation import (
    STILL_SPEED,
    evaluate,
    format_table,
    per_split_results,
    pool_results,
)
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
