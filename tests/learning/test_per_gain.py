"""One net per logged gain (``train.per_gain``): grouping, dispatch in prediction and rollout, training and export."""

import json

import numpy as np
import pytest

from learned_actuators.errors import UserInputError
from learned_actuators.learning import export_model, run_preset
from learned_actuators.learning.per_gain import PerGainModel, gain_of, gain_tag, group_by_gain
from learned_actuators.learning.rollout import rollout
from learned_actuators.learning.trainer import train
from learned_actuators.network_file import load_network
from tests.learning.conftest import make_runs, quick_cfg

pytestmark = pytest.mark.unit

GAINS = (2.0, 2.0, 5.0, 5.0)


@pytest.fixture(scope="module")
def per_gain():
    runs = make_runs(kps=GAINS, duration=1.0, seed=3)
    cfg = quick_cfg("mlp", max_epochs=2)
    return PerGainModel({g: train(cfg, group).model for g, group in group_by_gain(runs).items()})


def test_runs_are_grouped_by_their_logged_gain():
    runs = make_runs(kps=(5.0, 2.0, 5.0), duration=0.2)
    groups = group_by_gain(runs)
    assert list(groups) == [2.0, 5.0]  # ascending
    assert [log.name for log in groups[5.0]] == [runs[0].name, runs[2].name]
    assert gain_tag(400.0) == "kp400" and gain_tag(2.5) == "kp2.5"


def test_a_run_without_one_gain_is_refused_with_its_file_named():
    log = make_runs(kps=(2.0,), duration=0.2)[0]
    log.meta.pop("kp")
    with pytest.raises(UserInputError, match="metadata 'kp'"):
        gain_of(log)
    log.meta["kp"] = 2.0
    log.channels["kp"] = np.linspace(1.0, 3.0, len(log))
    with pytest.raises(UserInputError, match="changes within the run"):
        gain_of(log)
    log.channels["kp"] = np.full(len(log), 3.0)
    assert gain_of(log) == 3.0  # a constant logged channel is the run's gain


def test_each_run_is_predicted_and_rolled_out_by_the_net_of_its_gain(per_gain):
    held_out = make_runs(kps=(5.0, 2.0, 5.0), duration=0.8, seed=20)
    nets = per_gain.models
    assert np.abs(nets[2.0].predict(held_out[0]) - nets[5.0].predict(held_out[0])).max() > 1e-3  # they differ
    for log in held_out:
        np.testing.assert_array_equal(per_gain.predict(log), nets[gain_of(log)].predict(log))
    mixed = rollout(per_gain, held_out)  # one batched rollout over runs of both gains
    for i, log in enumerate(held_out):
        alone = rollout(nets[gain_of(log)], [log])
        np.testing.assert_allclose(mixed.q_sim[i], alone.q_sim[0], atol=1e-12)


def test_a_run_of_a_gain_no_net_was_trained_at_is_refused(per_gain):
    log = make_runs(kps=(3.0,), duration=0.2)[0]
    with pytest.raises(UserInputError, match=r"kp = 3, .*kp = 2, 5 only"):
        per_gain.predict(log)
    with pytest.raises(UserInputError, match=log.source):
        rollout(per_gain, [log])


def _preset(tmp_path, **train):
    return {
        "data": {"reader": "demo", "split": "groups", "group_key": "trajectory", "test_groups": ["b"]},
        "train": {"model_type": "mlp", "progress": False, "tensorboard": False, "plots": False, "max_epochs": 2}
        | train,
    }


def _grouped_runs():
    runs = make_runs(kps=(2.0, 5.0, 2.0, 5.0), duration=0.8, seed=5)
    for i, log in enumerate(runs):
        log.meta["trajectory"] = "a" if i < 2 else "b"
    return runs


def test_the_pipeline_trains_one_net_per_gain_and_exports_each_as_a_network_file(tmp_path):
    runs = _grouped_runs()
    rows = run_preset(_preset(tmp_path, per_gain=True), tmp_path / "out", logs=runs, baseline=False)
    assert rows[0]["model"] == "mlp" and rows[0]["diverged"] == 0 and len(rows[0]["rollout_rmse_runs"]) == 2
    for gain in ("kp2", "kp5"):
        assert (tmp_path / "out" / "mlp" / "b" / gain / "best.pt").is_file()
        _, meta = load_network(tmp_path / "out" / "export" / f"mlp_{gain}.pt")
        assert meta.source["gain"] == float(gain[2:]) and meta.model_type == "mlp"
    assert not (tmp_path / "out" / "export" / "mlp.pt").exists()
    # each net saw only its gain's training run
    splits = json.loads((tmp_path / "out" / "mlp" / "b" / "kp5" / "splits.json").read_text())
    assert {name.split("#")[0] for name in splits["train"] + splits["val"]} == {runs[1].name}


def test_per_gain_with_an_ensemble_or_an_unseen_test_gain_is_refused(tmp_path):
    runs = _grouped_runs()
    with pytest.raises(UserInputError, match=r"per_gain with train\.ensemble"):
        run_preset(_preset(tmp_path, per_gain=True, ensemble=2), tmp_path / "o1", logs=runs, baseline=False)
    runs[3].meta["kp"] = 7.0
    with pytest.raises(UserInputError, match="kp = 7"):
        run_preset(_preset(tmp_path, per_gain=True), tmp_path / "o2", logs=runs, baseline=False)


def test_a_net_without_the_gain_trained_on_several_gains_gets_a_note():
    from learned_actuators.learning.recipe_rules import resolve_recipe

    runs = make_runs(kps=(2.0, 5.0), duration=0.5)
    _, notes = resolve_recipe(quick_cfg("lstm"), runs)
    assert any("2 gains (kp 2, 5)" in n and "train.per_gain=true" in n for n in notes)
    assert not any("per_gain" in n for n in resolve_recipe(quick_cfg("gru_pd"), runs)[1])  # its PD sees the gain
    assert not any("per_gain" in n for n in resolve_recipe(quick_cfg("mlp"), runs[:1])[1])  # one gain


def test_export_names_each_files_own_training_runs(tmp_path):
    """``PerGainModel.export(train_runs=...)``: each gain's file records its gain's runs only (the demo's folds)."""
    models = {}

    def keep(model_type, split_name, model, split, metrics):
        models[split_name] = (model, split)

    run_preset(_preset(tmp_path, per_gain=True), tmp_path / "out", logs=_grouped_runs(), baseline=False, on_split=keep)
    model, split = models["b"]
    assert isinstance(model, PerGainModel)
    paths = model.export(tmp_path / "exp", "mlp", {"note": "x"}, onnx=False, train_runs=split.train + split.val)
    assert sorted(paths) == sorted(model.models)
    for gain, files in paths.items():
        _, meta = load_network(files["torchscript"])
        want = sorted({log.name for log in split.train + split.val if log.meta["kp"] == gain})
        assert sorted(meta.source["train_runs"]) == want and meta.source["note"] == "x" and meta.source["gain"] == gain


def _gain_scaled_lstm():
    cfg = quick_cfg("lstm", max_epochs=2)
    cfg.lstm.gain_scaled_error = True
    return train(cfg, make_runs(kps=GAINS, duration=1.0, seed=3)).model


def test_a_gain_scaled_lstm_runs_at_each_gain_as_a_plain_input_net_with_the_gain_folded_in(tmp_path):
    """``lstm.gain_scaled_error``: the net sees ``kp·(q* - q)``; folded at a gain it takes ``q* - q`` and gives the
    same torques (teacher-forced and in a rollout), and the folded nets of two gains differ."""
    model = _gain_scaled_lstm()
    held_out = make_runs(kps=(2.0, 5.0), duration=0.8, seed=20)
    for log in held_out:
        kp = float(model.run_params(log).kp)
        np.testing.assert_allclose(model.raw_inputs(log)[:, 0], kp * (log.q_target[:, 0] - log.q[:, 0]))
        folded = model.kind.at_gain(model, kp)
        assert not folded.model_cfg.gain_scaled_error and model.model_cfg.gain_scaled_error
        np.testing.assert_allclose(folded.raw_inputs(log)[:, 0], log.q_target[:, 0] - log.q[:, 0])
        np.testing.assert_allclose(folded.predict(log), model.predict(log), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rollout(folded, [log]).q_sim[0], rollout(model, [log]).q_sim[0], atol=1e-6)
    other = model.kind.at_gain(model, 2.0 * float(model.run_params(held_out[0]).kp))
    assert np.abs(other.predict(held_out[0]) - model.predict(held_out[0])).max() > 1e-3
    with pytest.raises(UserInputError, match="positive gain"):
        model.kind.at_gain(model, 0.0)
    with pytest.raises(UserInputError, match="export it at a gain"):
        export_model(model, tmp_path, "scaled", onnx=False)


def test_the_pipeline_trains_one_gain_scaled_net_and_exports_it_per_gain(tmp_path):
    runs = _grouped_runs()
    lstm = {"hidden_size": 8, "num_layers": 1, "gain_scaled_error": True}
    preset = _preset(tmp_path, model_type="lstm", lstm=lstm)
    rows = run_preset(preset, tmp_path / "out", logs=runs, baseline=False)
    assert rows[0]["diverged"] == 0 and len(rows[0]["rollout_rmse_runs"]) == 2
    assert (tmp_path / "out" / "lstm" / "b" / "best.pt").is_file()  # one net for both gains
    assert not (tmp_path / "out" / "lstm" / "b" / "kp2").exists()
    means = {}
    for gain in (2.0, 5.0):
        net, meta = load_network(tmp_path / "out" / "export" / f"lstm_{gain_tag(gain)}.pt")
        assert meta.source["gain"] == gain and meta.features == ["pos_error", "qd"]
        means[gain] = float(net.input_std[0])
    assert means[2.0] == pytest.approx(means[5.0] * 5.0 / 2.0, rel=1e-5)  # the gain folded into the error's scale
    with pytest.raises(UserInputError, match="per_gain with a gain-scaled net"):
        run_preset(_preset(tmp_path, model_type="lstm", lstm=lstm, per_gain=True), tmp_path / "o2", logs=runs)
    with pytest.raises(UserInputError, match=r"models\.lstm: train\.ensemble = 2; ensembles are of gru_pd"):
        run_preset(_preset(tmp_path, model_type="lstm", lstm=lstm, ensemble=2), tmp_path / "o3", logs=runs)
    assert not (tmp_path / "o3").exists()  # refused before anything trained
    from learned_actuators.learning.recipe_rules import resolve_recipe

    cfg = quick_cfg("lstm")
    cfg.lstm.gain_scaled_error = True
    assert not any("per_gain" in n for n in resolve_recipe(cfg, runs)[1])  # it sees the gain: no note
