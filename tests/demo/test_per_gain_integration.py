"""The demo with one net per gain for the LSTM and the MLP (``train.per_gain``): quick training (two epochs, one fold)
exports a file per gain, and the simulator validation replays every held-out run with the file of its own gain, in
one sub-fold per gain; every model runs in one replay over the sub-folds (the per-gain nets side by side, each on
the envs of its own gain's runs)."""

import json
from collections import Counter

import pytest

from learned_actuators.data.demo import load_demo_logs
from learned_actuators.network_file import load_network

pytestmark = pytest.mark.integration

PER_GAIN = ("++models.lstm.per_gain=true", "++models.mlp.per_gain=true")  # ++: with or without the key in the preset
GAINS = (100.0, 200.0, 400.0, 800.0)


def test_quick_demo_validates_each_run_with_the_net_of_its_gain(tmp_path, monkeypatch):
    from learned_actuators.demo.training import run_demo
    from learned_actuators.demo.validation import validate_folds
    from learned_actuators.validation import validate

    trained = run_demo(tmp_path / "train", overrides=PER_GAIN, quick=True, all_folds=True)
    (fold,) = trained.folds
    nets = trained.folds[fold]
    assert set(nets.networks) == {"gru_pd"} and set(nets.per_gain) == {"lstm", "mlp"}
    export = tmp_path / "train" / "export"
    for model in ("lstm", "mlp"):
        assert list(nets.per_gain[model]) == list(GAINS)
        for gain, path in nets.per_gain[model].items():
            assert path == export / "folds" / fold / f"{model}_kp{gain:g}.pt" and path.is_file()
            assert (export / f"{model}_kp{gain:g}.pt").is_file() and (export / f"{model}_kp{gain:g}.onnx").is_file()
            _, meta = load_network(path)
            assert meta.model_type == model and meta.source["gain"] == gain and meta.source["held_out_group"] == fold
            assert len(meta.source["train_runs"]) == 3  # the training runs of that gain (3 other trajectories)

    replays, members = Counter(), {}
    replay = validate.replay

    def counted(batch, actuator_cfg, cfg, name="model", gains=None):
        replays[name] += 1
        members[name] = [(c.network_file, batch.names) for c in getattr(actuator_cfg, "members", [])]
        return replay(batch, actuator_cfg, cfg, name, gains)

    monkeypatch.setattr(validate, "replay", counted)
    result, paths = validate_folds(tmp_path / "validation", trained.folds)

    kp = {log.name: float(log.meta["kp"]) for log in load_demo_logs()}
    subfolds = [f"{fold} kp{g:g}" for g in GAINS]
    assert list(dict.fromkeys(result.folds)) == subfolds and len(result.batch.names) == 4
    settings = result.settings
    assert settings["per_gain_models"] == ["lstm", "mlp"]
    for name, sub in zip(result.batch.names, result.folds, strict=True):
        record = settings["folds"][sub]
        gain = kp[name]
        assert record["gain"] == gain and record["fold"] == fold and record["test_runs"] == [name]
        for model in ("lstm", "mlp"):  # every held-out run by the file of its own gain
            assert record["network_files"][model] == str(nets.per_gain[model][gain])
        assert record["network_files"]["gru_pd"] == str(nets.networks["gru_pd"])
        assert len(record["train_runs"]) == 12 and name not in record["train_runs"]  # the whole fold's training runs
    # the same baseline physics in every sub-fold; fitted_pd fitted on the fold's 12 training runs (at each gain)
    assert len({json.dumps(settings["folds"][s]["baseline_physics"], sort_keys=True) for s in subfolds}) == 1
    fitted = result.model("fitted_pd").params["folds"]
    assert all(fitted[s]["fit_runs"] == settings["folds"][s]["train_runs"] for s in subfolds)
    # one replay per model over the sub-folds: the per-gain nets as the members of one env-groups actuator, each on
    # its gain's run (the runs in sub-fold order, one per gain)
    assert all(replays[m] == 1 for m in ("gru_pd", "ideal_pd", "lstm", "mlp")) and not members["gru_pd"]
    for model in ("lstm", "mlp"):
        files = [file for file, _ in members[model]]
        runs = members[model][0][1]
        assert files == [str(nets.per_gain[model][kp[name]]) for name in runs] and len(set(files)) == 4

    data = json.loads(paths["json"].read_text())
    files = {f["path"] for f in data["provenance"]["data_files"]}
    assert all(str(p.resolve()) in files for by_gain in nets.per_gain.values() for p in by_gain.values())
    assert str(nets.networks["gru_pd"].resolve()) in files
    page = paths["html"].read_text()
    assert "lstm, mlp: one net per gain" in page
    assert f"4 held-out runs of one fold ({fold}, each fold's runs validated per gain (4 sub-folds))" in page
    verdict = data["verdict"]
    if verdict["best_model"] in ("lstm", "mlp"):
        assert f"{verdict['best_model']} (one net per gain)" in verdict["line"]
    assert "lstm (one net per gain)" in verdict["against_reference"]
