"""Experiment tracking: curves named for what they are, hyper-parameters and final metrics, W&B offline."""

import json
import math
import struct

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from learned_actuators.learning import train
from learned_actuators.learning.evaluation import evaluate
from tests.learning.conftest import quick_cfg

pytestmark = pytest.mark.unit


def _scalars(folder):
    acc = EventAccumulator(str(folder))
    acc.Reload()
    return acc, {tag: [e.value for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_without_validation_runs_the_curve_is_the_square_root_of_the_training_loss(runs, tmp_path):
    cfg = quick_cfg("gru_pd", max_epochs=3, tensorboard=True, val_ratio=0.0)
    result = train(cfg, runs, run_dir=tmp_path)
    assert set(result.history) == {"epoch", "train_loss", "sqrt_train_loss"}
    np.testing.assert_allclose(result.history["sqrt_train_loss"], np.sqrt(result.history["train_loss"]))
    assert result.score_name == "sqrt_train_loss" and math.isnan(result.best_val_rmse)
    assert result.best_score == pytest.approx(min(result.history["sqrt_train_loss"]))
    selection = json.loads((tmp_path / "metrics.json").read_text())["selection"]
    assert selection == {"curve": "sqrt_train_loss", "kept": "best", "best": pytest.approx(result.best_score)}
    _, scalars = _scalars(tmp_path / "tensorboard")
    assert not any("val" in tag for tag in scalars)
    np.testing.assert_allclose(scalars["curves/sqrt_train_loss"], result.history["sqrt_train_loss"], rtol=1e-6)
    np.testing.assert_allclose(scalars["curves/train_loss"], result.history["train_loss"], rtol=1e-6)


def test_with_validation_runs_the_curve_is_the_validation_torque_rmse(runs):
    cfg = quick_cfg("gru_pd", max_epochs=3)
    result = train(cfg, runs[:1], runs[1:])
    assert result.score_name == "val_rmse_Nm" and "sqrt_train_loss" not in result.history
    # the returned model is the best epoch's: its RMSE [N·m] on the validation run is the curve's minimum
    assert evaluate(result.model, runs[1:])["rmse"] == pytest.approx(min(result.history["val_rmse_Nm"]), rel=1e-5)
    assert result.best_val_rmse == pytest.approx(min(result.history["val_rmse_Nm"]))


def test_hyper_parameters_and_final_metrics_are_logged_to_tensorboard(runs, tmp_path):
    cfg = quick_cfg("gru_pd", max_epochs=2, tensorboard=True, lr=2e-3)
    result = train(cfg, runs[:1], runs[1:], run_dir=tmp_path)
    acc, scalars = _scalars(tmp_path / "tensorboard" / "hparams")
    content = acc.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hparams = start.session_start_info.hparams
    assert hparams["lr"].number_value == pytest.approx(2e-3)
    assert hparams["gru.hidden_size"].number_value == cfg.gru.hidden_size
    assert hparams["model_type"].string_value == "gru_pd"
    assert json.loads(hparams["gru.features"].string_value) == cfg.gru.features
    assert scalars["final/val/rmse"] == [pytest.approx(result.metrics["val"]["rmse"])]
    assert scalars["final/best_val_rmse_Nm"] == [pytest.approx(result.best_score)]
    assert scalars["final/best_epoch"] == [result.best_epoch]
    text, _ = _scalars(tmp_path / "tensorboard")
    (event,) = text.Tensors("config/text_summary")
    assert '"lr": 0.002' in event.tensor_proto.string_val[0].decode()


def _wandb_records(path):
    """Records of an offline W&B run file (a LevelDB-style log of protobuf ``Record`` messages)."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B"
    pos, block, chunk, out = 7, 32768, b"", []
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # block trailer
            pos += block - pos % block
            continue
        length, kind = struct.unpack("<HB", data[pos + 4 : pos + 7])
        chunk += data[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # full or last fragment
            out.append(wandb_internal_pb2.Record.FromString(chunk))
            chunk = b""
    return out


def _key(item) -> str:
    return item.key or "/".join(item.nested_key)


def test_wandb_offline_logs_curves_hyper_parameters_and_final_metrics(runs, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    cfg = quick_cfg("gru_pd", max_epochs=2, wandb=True, wandb_project="tests")
    result = train(cfg, runs, run_dir=tmp_path)
    (run_file,) = (tmp_path / "wandb").glob("offline-run-*/run-*.wandb")
    records = _wandb_records(run_file)
    config = {
        _key(item): json.loads(item.value_json)
        for r in records
        if r.WhichOneof("record_type") == "run"
        for item in r.run.config.update
    }
    assert config["lr"] == cfg.lr and config["gru.hidden_size"] == cfg.gru.hidden_size
    history = [
        {_key(item): json.loads(item.value_json) for item in r.history.item}
        for r in records
        if r.WhichOneof("record_type") == "history"
    ]
    logged = [h["sqrt_train_loss"] for h in history if "sqrt_train_loss" in h]
    np.testing.assert_allclose(logged, result.history["sqrt_train_loss"], rtol=1e-6)
    summary = {
        _key(item): json.loads(item.value_json)
        for r in records
        if r.WhichOneof("record_type") == "summary"
        for item in r.summary.update
    }
    assert summary["final/train/rmse"] == pytest.approx(result.metrics["train"]["rmse"])
