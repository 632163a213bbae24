"""The demo's validation of per-gain nets (one file per logged gain), without the simulator: which file validates
which run, and the clear error for a held-out run whose gain has no file; the verdict names such models."""

from pathlib import Path

import pytest

from learned_actuators.data.demo import load_demo_logs
from learned_actuators.demo.training import FoldNets
from learned_actuators.demo.validation import _gain_files
from learned_actuators.errors import UserInputError
from learned_actuators.validation.verdict import compute_verdict, verdict_labels

pytestmark = pytest.mark.unit

FOLD = "up_and_down"


def _held_out():
    return [log for log in load_demo_logs() if log.meta["trajectory"] == FOLD]


def test_held_out_runs_are_grouped_by_gain_with_a_file_each():
    files = {g: Path(f"lstm_kp{g:g}.pt") for g in (100.0, 200.0, 400.0, 800.0)}
    runs = _gain_files(FOLD, {"lstm": files, "mlp": dict(files)}, _held_out())
    assert list(runs) == [100.0, 200.0, 400.0, 800.0]
    assert all(len(logs) == 1 and logs[0].meta["kp"] == g for g, logs in runs.items())


def test_a_held_out_run_without_a_file_of_its_gain_is_a_clear_error():
    held_out = _held_out()
    files = {g: Path(f"mlp_kp{g:g}.pt") for g in (100.0, 200.0, 400.0)}
    with pytest.raises(UserInputError) as err:
        _gain_files(FOLD, {"mlp": files}, held_out)
    run = next(log for log in held_out if log.meta["kp"] == 800)
    message = str(err.value)
    assert run.name in message and "kp = 800" in message and "kp = 100, 200, 400 only" in message and "mlp" in message


def test_validate_folds_refuses_before_any_replay(tmp_path):
    from learned_actuators.demo.validation import validate_folds

    nets = FoldNets(per_gain={"lstm": {100.0: tmp_path / "lstm_kp100.pt"}})
    with pytest.raises(UserInputError, match=r"lstm has files for kp = 100 only"):
        validate_folds(tmp_path, {FOLD: nets})


def test_verdict_names_per_gain_models_as_such():
    per_run = {"lstm": [0.1, 0.1], "gru_pd": [0.3, 0.3], "ideal_pd": [0.2, 0.2]}
    kinds = {"lstm": "model", "gru_pd": "model", "ideal_pd": "baseline"}
    labels = verdict_labels({"per_gain_models": ["lstm"]})
    verdict = compute_verdict(per_run, kinds, labels)
    assert verdict.best_model == "lstm" and verdict.line.startswith("lstm (one net per gain) is best")
    assert "lstm (one net per gain) 0.100 rad beats it" in verdict.against_reference
    assert "gru_pd 0.300 rad does not" in verdict.against_reference
    assert compute_verdict(per_run, kinds).line == verdict.line.replace(" (one net per gain)", "")
    assert verdict_labels({}) == {}
