import json

import numpy as np
import pytest

from learned_actuators.config import shipped_file, shipped_names
from learned_actuators.data import load_demo_logs
from learned_actuators.data.synthetic import write_bench_csv
from learned_actuators.demo.training import demo_preset
from learned_actuators.errors import UserInputError
from learned_actuators.learning.checkpoints import finished_run
from learned_actuators.learning.data_loading import load_data, splits_of
from learned_actuators.learning.presets import apply_overrides, build_cfg, compose_preset, load_preset
from learned_actuators.learning.rollout import rollout
from tests.learning.conftest import make_runs
from tests.support.cli import script_main

pytestmark = pytest.mark.unit

DEMO_PRESET = demo_preset()


def test_overrides_parse_json_and_strings():
    out = apply_overrides(
        {"train": {"gru": {"hidden_size": 32}}},
        ["train.gru.hidden_size=64", "train.lr=1e-3", "data.path=/x/y", 'train.gru.features=["q"]'],
    )
    assert out["train"]["gru"]["hidden_size"] == 64 and out["train"]["lr"] == 1e-3
    assert out["data"]["path"] == "/x/y" and out["train"]["gru"]["features"] == ["q"]
    with pytest.raises(ValueError, match="must look like key=value"):
        apply_overrides({}, ["train.lr"])


def test_every_shipped_preset_builds():
    names = shipped_names("presets")
    assert {"bam_xl330", "so101", "recipe_gru_pd", "recipe_lstm", "recipe_mlp"} <= set(names)
    for name in names:
        data_cfg, train_cfg = build_cfg(load_preset(name))
        assert train_cfg.model_cfg is not None and data_cfg.split in ("groups", "runs", "blocks")
    _, cfg = build_cfg(DEMO_PRESET)
    assert cfg.rollout_loss.enabled and cfg.physics.fit


def test_unknown_keys_are_errors():
    with pytest.raises(UserInputError, match=r"train: unknown key 'max_epoch' \(did you mean 'max_epochs'\?\)"):
        build_cfg({"train": {"max_epoch": 3}})
    with pytest.raises(UserInputError, match=r"train.gru: unknown key 'hidden'"):
        build_cfg({"train": {"gru": {"hidden": 3}}})
    with pytest.raises(ValueError, match="neither a file nor a shipped preset"):
        load_preset("no_such_preset")


def test_demo_data_ships_with_the_package():
    logs = load_demo_logs()
    assert len(logs) == 16
    assert {log.meta["kp"] for log in logs} == {100, 200, 400, 800}
    assert {log.meta["group"] for log in logs} == {"sin_sin", "lift_and_drop", "up_and_down", "sin_time_square"}
    lift = next(log for log in logs if log.meta["group"] == "lift_and_drop")
    assert 380 < lift.valid.sum() < 420  # torque disabled after ~2 s: free swing is not training data
    assert all(log.tau is not None and log.meta["inertia"] == pytest.approx(0.0069) for log in logs)


def _bench_preset(tmp_path) -> None:
    """Two inertia groups of bench CSV runs and ``p.json``: the GRU-PD recipe on them, one epoch, quiet."""
    for k, (group, inertia) in enumerate((("light", 0.01), ("heavy", 0.02))):
        for i, log in enumerate(
            make_runs(kps=(3.0, 3.0), duration=1.0, inertia=inertia, mass=0.0, seed=k, keep_qdd=True)
        ):
            write_bench_csv(log, tmp_path / "bench" / group / f"run{i}.csv")
    preset = {
        "extends": str(shipped_file("presets", "recipe_gru_pd")),
        "data": {
            "reader": "bench_csv",
            "path": str(tmp_path / "bench"),
            "bench": {"group_inertia": {"light": 0.01, "heavy": 0.02}},
        },
        "train": {
            "physics": {"kp": 3.0, "fit": False},
            "max_epochs": 1,
            "progress": False,
            "tensorboard": False,
            "plots": False,
            "seq_len_s": 0.25,
        },
    }
    (tmp_path / "p.json").write_text(json.dumps(preset))


def test_cli_trains_evaluates_and_exports_on_bench_csv(tmp_path, capsys):
    _bench_preset(tmp_path)
    main = script_main("train_actuator")
    assert (
        main(
            [
                "--preset",
                str(tmp_path / "p.json"),
                "--out",
                str(tmp_path / "out"),
                "--models",
                "gru_pd",
                "mlp",
                "train.rollout_loss.horizon_s=0.02",
            ]
        )
        == 0
    )
    table = capsys.readouterr().out
    assert "| gru_pd |" in table and "| mlp |" in table and "| pd_friction_lsq |" in table
    rows = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["model"] for r in rows] == ["gru_pd", "mlp", "pd_friction_lsq"]
    assert rows[0]["splits"] == ["heavy", "light"]  # leave-one-inertia-group-out
    assert all("rollout_rmse" in r for r in rows)
    # beside each fold's held-out rollout, the one on that fold's own training runs, and the note comparing them
    assert "| on its training runs [rad] |" in table and "* gru_pd: held-out rollout" in table
    preset = compose_preset(tmp_path / "p.json")
    data_cfg, train_cfg = build_cfg(preset)
    light = dict(splits_of(load_data(data_cfg), data_cfg, train_cfg.seed))["light"]
    model, _ = finished_run(tmp_path / "out" / "gru_pd" / "light")
    fitted = rows[0]["per_split"]["light"]["fit_rollout_rmse"]
    assert fitted == pytest.approx(rollout(model, light.train).mean_rmse, rel=1e-4)
    assert fitted != pytest.approx(rows[0]["per_split"]["light"]["rollout_rmse"], rel=1e-3)  # not the test runs
    assert rows[0]["fit_rollout_rmse"] == pytest.approx(
        np.mean([rows[0]["per_split"][k]["fit_rollout_rmse"] for k in ("light", "heavy")])
    )
    assert {p.name for p in (tmp_path / "out" / "export").iterdir()} == {
        "gru_pd.pt",
        "gru_pd.onnx",
        "mlp.pt",
        "mlp.onnx",
    }
    assert (tmp_path / "out" / "gru_pd" / "light" / "best.pt").is_file()


def test_an_ensemble_trains_its_members_reports_their_calibration_and_exports_one_file(tmp_path, capsys, caplog):
    import logging

    from learned_actuators.network_file import load_network

    _bench_preset(tmp_path)

    def argv(out: str, *overrides: str) -> list[str]:
        preset = ["--preset", str(tmp_path / "p.json"), "train.jobs=1", "train.rollout_loss.enabled=false"]
        return [*preset, *overrides, "--out", str(tmp_path / out), "--models", "gru_pd"]

    with caplog.at_level(logging.WARNING, logger="learned_actuators.learning.pipeline"):
        assert script_main("train_actuator")(argv("out", "train.ensemble=2")) == 0
    assert "no label-noise term" in caplog.text  # no validation runs, no bootstrap
    caplog.clear()
    table = capsys.readouterr().out
    assert "within 1σ / 2σ" in table and "| pd_friction_lsq |" in table
    rows = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [r["model"] for r in rows] == ["gru_pd", "gru_pd_single", "pd_friction_lsq"]  # and one member alone
    row = rows[0]
    assert "within_1sigma" not in rows[1] and rows[1]["rmse"] > 0.0
    assert 0.0 <= row["within_1sigma"] <= row["within_2sigma"] <= 1.0 and row["ensemble_std"] > 0.0
    assert set(row["per_split"]["light"]) >= {"within_1sigma", "within_2sigma", "ensemble_std"}
    for split in ("light", "heavy"):
        assert all((tmp_path / "out" / "gru_pd" / split / f"member_{k}" / "best.pt").is_file() for k in (0, 1))
    net, meta = load_network(tmp_path / "out" / "export" / "gru_pd.pt")
    assert net.member_head_weight.shape == (2, meta.hidden_size) and meta.hidden_size == 2 * 32
    assert float(net.member_noise_std) == 0.0
    # bootstrap members: the label-noise term out of bag, from the training runs a member did not draw
    with caplog.at_level(logging.WARNING, logger="learned_actuators.learning.pipeline"):
        assert script_main("train_actuator")(argv("boot", "train.ensemble=3", "train.ensemble_bootstrap=true")) == 0
    assert "no label-noise term" not in caplog.text
    net, _ = load_network(tmp_path / "boot" / "export" / "gru_pd.pt")
    assert float(net.member_noise_std) > 0.0


def test_overrides_are_converted_and_checked_against_their_fields():
    import copy

    pristine = copy.deepcopy(DEMO_PRESET)
    out = apply_overrides(
        DEMO_PRESET,
        [
            "train.max_epochs=5",
            "models.mlp.lr=0.01",
            "data.test_groups=[sin_sin]",
            "data.path=123",
            "train.plots=False",
        ],
    )
    assert pristine == DEMO_PRESET  # the input is never modified
    assert out["train"]["max_epochs"] == 5 and out["models"]["lstm"]["max_epochs"] == 5  # train.* reaches every model
    assert out["models"]["mlp"]["max_epochs"] == 5 and out["models"]["mlp"]["lr"] == 0.01
    assert out["models"]["lstm"]["lr"] == DEMO_PRESET["models"]["lstm"]["lr"] != 0.01  # another model's value stays
    assert out["train"]["lr"] == DEMO_PRESET["train"]["lr"]
    assert out["data"]["test_groups"] == ["sin_sin"] and out["data"]["path"] == "123" and out["train"]["plots"] is False
    assert apply_overrides({}, ["train.max_epochs=100"])["train"]["max_epochs"] == 100
    for item, message in [
        ("train.max_epochs=abc", "train.max_epochs=abc: expected an integer"),
        ("train.lr=fast", "train.lr=fast: expected a number"),
        ("train.max_epochs=0", "train.max_epochs=0: 0 is out of range; expected a value >= 1"),
        ("train.batch_size=-2", "train.batch_size=-2: -2 is out of range"),
        ("train.lr=inf", "train.lr=inf: expected a number"),
        ("train.gru.mode=resid", "train.gru.mode=resid: resid is not allowed; expected one of residual, direct"),
        ("train.max_epoch=3", "train: unknown key 'max_epoch' (did you mean 'max_epochs'?)"),
        ("models.cnn.lr=1", "per-model keys look like models.<gru_pd|lstm|mlp>"),
        ("data.ratios=[0.5,-0.5,1]", "data.ratios=[0.5,-0.5,1]: -0.5 is out of range"),
        ("train.max_epochs=1e2", "train.max_epochs=1e2: expected an integer"),  # Hydra: 1e2 is a float
        ("train.physics.kp=null", None),
    ]:
        if message is None:
            assert apply_overrides({}, [item])["train"]["physics"]["kp"] is None
            continue
        with pytest.raises(UserInputError) as err:
            apply_overrides(DEMO_PRESET, [item])
        assert message in str(err.value)


def test_preset_values_are_checked_too():
    with pytest.raises(UserInputError, match=r"train.max_epochs=ten: expected an integer"):
        build_cfg({"train": {"max_epochs": "ten"}})
    with pytest.raises(UserInputError, match=r"models: unknown model type 'cnn'"):
        build_cfg({"models": {"cnn": {}}})
    with pytest.raises(UserInputError, match=r"data.test_groups=\[\"a\"\] applies only with data.split=groups"):
        build_cfg({"data": {"split": "runs", "test_groups": ["a"]}})
    data_cfg, train_cfg = build_cfg({"train": {"max_epochs": 3, "stride_s": None}})
    assert train_cfg.max_epochs == 3 and isinstance(train_cfg.max_epochs, int) and data_cfg.reader == "demo"
    with pytest.raises(UserInputError, match=r"train.max_epochs=3.0: expected an integer"):  # OmegaConf: no float
        build_cfg({"train": {"max_epochs": 3.0}})


def test_test_groups_must_name_groups_of_the_data():
    from learned_actuators.learning.data_loading import splits_of

    data_cfg, _ = build_cfg(apply_overrides(DEMO_PRESET, ["data.test_groups=[up_and_dwn]"]))
    with pytest.raises(UserInputError) as err:
        splits_of(load_demo_logs(), data_cfg)
    assert "'up_and_dwn' is not among the data's groups (run metadata 'trajectory')" in str(err.value)
    assert "lift_and_drop, sin_sin, sin_time_square, up_and_down" in str(err.value)
