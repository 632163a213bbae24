"""``benchmarks/bench_actuator_training.py``'s table over seeds: what it averages, over which seeds, per fold."""

import importlib.util

import numpy as np
import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "bench_actuator_training", REPO_ROOT / "benchmarks" / "bench_actuator_training.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(model, rmse, rollout, still=True, fitted=None):
    row = {"model": model, "rmse": rmse, "r2": 0.9, "rollout_rmse": rollout, "diverged": 0, "train_time_s": 1.0}
    if fitted is not None:  # on the model's own training runs; absent where not rolled out
        row["fit_rollout_rmse"] = fitted
    return {**row, "rmse_moving": rmse / 2, "rmse_still": rmse * 2} if still else row


def _folds(model, values):
    return [{"model": model, "fold": f, "rmse": v, "rollout_rmse": v / 10} for f, v in values.items()]


def test_learned_models_get_mean_and_spread_over_seeds_physics_is_fitted_once(bench, capsys):
    seed0 = [
        _row("gru_pd", 0.06, 0.040, fitted=0.03),
        _row("traj_physics", 0.05, 0.056, fitted=0.05),
        _row("lsq_per_kp", 0.1, 0.1, still=False),
    ]
    seed1 = [_row("gru_pd", 0.08, 0.050, fitted=0.02)]
    folds0 = _folds("gru_pd", {"a": 0.2, "b": 0.4}) + _folds("traj_physics", {"a": 0.3, "b": 0.5})
    folds1 = _folds("gru_pd", {"a": 0.4, "b": 0.6})
    table = bench._over_seeds({1: (seed1, folds1), 0: (seed0, folds0)})
    bench._print_over_seeds(table)

    gru = table["gru_pd"]
    assert [r["seed"] for r in gru["seeds"]] == [0, 1]
    np.testing.assert_allclose(gru["summary"]["rmse"], [0.07, 0.01])
    np.testing.assert_allclose(gru["summary"]["rollout_rmse"], [0.045, 0.005])
    assert gru["per_fold"]["a"] == {"rmse": [0.2, 0.4], "rollout_rmse": [0.02, 0.04]}
    assert len(table["traj_physics"]["seeds"]) == 1
    np.testing.assert_allclose(table["traj_physics"]["summary"]["rollout_rmse"], [0.056, 0.0])

    out = capsys.readouterr().out
    assert (
        "| gru_pd | 2 | 0.0700 ± 0.0100 | 0.0350 / 0.1400 | 0.0450 ± 0.0050 | 0.0250 ± 0.0050 | 0.0500 | 0 | "
        "0.300, 0.030 |" in out
    )
    assert "| traj_physics | 1 | 0.0500 | 0.0250 / 0.1000 | 0.0560 | 0.0500 | 0.0560 |" in out
    assert "| lsq_per_kp | 1 | 0.1000 | - | 0.1000 | - | 0.1000 |" in out
    assert "gru_pd mean rollout 0.0450 rad = 0.80 x traj_physics (0.0560)" in out
