"""Presets as a Hydra config group and Hydra overrides: inheritance, per-model sections, sweeps, validation keys."""

import json
import logging

import pytest
from hydra.core.global_hydra import GlobalHydra

from learned_actuators.config import shipped_file, shipped_names
from learned_actuators.demo.training import demo_preset
from learned_actuators.errors import UserInputError
from learned_actuators.learning.presets import apply_overrides, compose_preset, model_train_cfg, sweep_jobs
from tests.learning.cli_data import write_bench_data, write_preset
from tests.support.cli import script_main

pytestmark = pytest.mark.unit


def test_shipped_presets_are_a_hydra_group_of_yaml_files():
    assert {"bam_xl330", "so101", "recipe_gru_pd", "recipe_lstm", "recipe_mlp", "demo", "demo_all_folds"} <= set(
        shipped_names("presets")
    )
    text = shipped_file("presets", "so101").read_text()
    assert text.startswith("# @package _global_") and "defaults: [bam_xl330, _self_]" in text
    so101, bam = compose_preset("so101"), compose_preset("bam_xl330")
    assert so101["data"]["group_key"] == "motion" and so101["train"]["physics"]["kd"] == 0.1  # its own values
    assert so101["train"]["physics"]["kp_scale"] == bam["train"]["physics"]["kp_scale"] == 0.0015  # inherited
    assert so101["train"]["gru"]["hidden_size"] == 32 and list(so101["models"]) == ["gru_pd", "lstm", "mlp"]
    assert not GlobalHydra.instance().is_initialized()  # each composition cleans up after itself


def test_all_folds_preset_extends_the_demo():
    one, four = demo_preset(), demo_preset(all_folds=True)
    assert one["data"]["test_groups"] == ["up_and_down"] and four["data"]["test_groups"] is None
    one["data"]["test_groups"] = None  # otherwise the main job's recipe: what the demo measures is what it runs
    assert one == four and four["train"]["max_epochs"] == 60
    assert four["models"]["lstm"]["max_epochs"] == 40 and four["models"]["lstm"]["lstm"]["hidden_size"] == 64
    assert all(model_train_cfg(four, m).per_gain for m in ("lstm", "mlp"))  # nets without a gain input: per gain
    assert not model_train_cfg(four, "gru_pd").per_gain
    quick = demo_preset(all_folds=True, quick=True)  # one fold, two epochs for every model
    assert quick["data"]["test_groups"] == ["up_and_down"]
    assert {model_train_cfg(quick, m).max_epochs for m in ("gru_pd", "lstm", "mlp")} == {2}


def test_a_train_override_reaches_every_model_and_says_so(caplog):
    with caplog.at_level(logging.INFO, logger="learned_actuators.learning.presets"):
        out = apply_overrides(demo_preset(), ["train.max_epochs=7", "train.lstm.hidden_size=8"])
    assert out["models"]["lstm"]["max_epochs"] == out["models"]["mlp"]["max_epochs"] == 7
    assert out["models"]["lstm"]["lstm"]["hidden_size"] == 8 and model_train_cfg(out, "lstm").lstm.hidden_size == 8
    assert "train.max_epochs=7 also replaces models.lstm.max_epochs (was 40)" in caplog.text
    assert "models.mlp.max_epochs (was 30)" in caplog.text
    assert "gru_pd" in out["models"] and "max_epochs" not in out["models"]["gru_pd"]  # nothing to replace there


def test_model_sections_are_added_dropped_and_typed():
    recipe = compose_preset("recipe_gru_pd", ["+models.mlp.lr=0.01", "+models.gru_pd.max_epochs=3"])
    assert recipe["models"] == {"mlp": {"lr": 0.01}, "gru_pd": {"max_epochs": 3}}
    assert model_train_cfg(recipe, "mlp").lr == 0.01 and model_train_cfg(recipe, "mlp").model_type == "mlp"
    assert list(compose_preset("bam_xl330", ["~models.lstm"])["models"]) == ["gru_pd", "mlp"]
    with pytest.raises(UserInputError, match=r"models.mlp.lr=fast: expected a number"):
        compose_preset("recipe_gru_pd", ["+models.mlp.lr=fast"])
    with pytest.raises(UserInputError, match=r"models.lstm.lstm.dropout=1.5: 1.5 is out of range"):
        compose_preset("bam_xl330", ["models.lstm.lstm.dropout=1.5"])
    # a real field the preset's model section does not set: say how to add it (not "unknown key")
    with pytest.raises(UserInputError, match=r"models\.lstm has no 'ema_decay' to change; add it .*\+models\.lstm"):
        compose_preset("bam_xl330", ["models.lstm.ema_decay=0.9"])
    assert compose_preset("bam_xl330", ["+models.lstm.ema_decay=0.9"])["models"]["lstm"]["ema_decay"] == 0.9


def test_preset_files_inherit_through_hydra_defaults_or_extends(tmp_path):
    (tmp_path / "base.yaml").write_text("defaults: [recipe_lstm, _self_]\ntrain:\n  max_epochs: 9\n  seed: 4\n")
    child = {"extends": str(tmp_path / "base.yaml"), "description": "mine", "train": {"seed": 5}}
    (tmp_path / "child.json").write_text(json.dumps(child))
    out = compose_preset(tmp_path / "child.json", ["train.lr=0.02"])
    assert out["train"]["model_type"] == "lstm" and out["train"]["max_epochs"] == 9  # recipe, then base
    assert out["train"]["seed"] == 5 and out["train"]["lr"] == 0.02  # the child, then the override
    (tmp_path / "bad.yaml").write_text("defaults: [recipe_lstm, _self_]\ntrain:\n  lstm: {hidden_size: wide}\n")
    with pytest.raises(UserInputError) as err:
        compose_preset(tmp_path / "bad.yaml")
    assert "bad.yaml: train.lstm.hidden_size=wide: expected an integer" in str(err.value)


def test_sweeps_expand_to_one_override_list_per_job():
    jobs = sweep_jobs(["train.seed=0,1", "data.max_runs=3", "train.lr=0.1,0.2"])
    assert jobs == [
        ["train.seed=0", "data.max_runs=3", "train.lr=0.1"],
        ["train.seed=0", "data.max_runs=3", "train.lr=0.2"],
        ["train.seed=1", "data.max_runs=3", "train.lr=0.1"],
        ["train.seed=1", "data.max_runs=3", "train.lr=0.2"],
    ]
    assert sweep_jobs(["train.seed=range(0,3)"]) == [["train.seed=0"], ["train.seed=1"], ["train.seed=2"]]
    with pytest.raises(UserInputError, match="is a sweep: add --multirun"):
        compose_preset("demo", ["train.seed=0,1"])


def test_multirun_seeds_make_separate_run_folders(tmp_path, capsys):
    preset = write_preset(tmp_path, write_bench_data(tmp_path, duration=0.6), max_epochs=1)
    main, out = script_main("train_actuator"), tmp_path / "seeds"
    argv = ["--preset", str(preset), "--models", "mlp", "--no-export", "--out", str(out), "--multirun"]
    with pytest.raises(UserInputError, match=r"train\.max_epochs=abc: expected an integer"):
        main([*argv, "train.seed=0,1", "train.max_epochs=1,abc"])  # every job is checked before any work
    assert not out.exists()
    assert main([*argv, "train.seed=0,1"]) == 0
    sweep = json.loads((out / "run.json").read_text())
    assert sweep["status"] == "finished" and [j["overrides"] for j in sweep["multirun"]] == [
        ["train.seed=0"],
        ["train.seed=1"],
    ]
    for seed in (0, 1):
        run = json.loads((out / str(seed) / "run.json").read_text())
        assert run["status"] == "finished" and run["preset"]["train"]["seed"] == seed and run["multirun_job"] == seed
        rows = json.loads((out / str(seed) / "results.json").read_text())
        assert [r["model"] for r in rows] == ["mlp", "pd_friction_lsq"]
    with pytest.raises(UserInputError, match="already holds files"):  # a sweep never overwrites an earlier one
        main([*argv, "train.seed=0,1"])
    with pytest.raises(UserInputError, match=r"a --multirun sweep; resume each unfinished job"):
        main(["--resume", str(out)])


def test_validation_overrides_are_typed_and_checked():
    from learned_actuators.validation.validation_cfg import validation_overrides

    got = validation_overrides(["decimation=2", "baselines=[ideal_pd,dc_motor]", "benches=[{mass:0.5,length:0.1}]"])
    assert got == {"decimation": 2, "baselines": ("ideal_pd", "dc_motor"), "benches": ({"mass": 0.5, "length": 0.1},)}
    for items, message in [
        (["decimation=abc"], "decimation=abc: expected an integer or null"),
        (["decimate=2"], "ValidationCfg: unknown key 'decimate' (did you mean 'decimation'?)"),
        (["replica=moon"], "replica=moon: expected one of auto, bench, joints, go2"),
        (["baselines=[ideal_pd,oracle]"], "oracle is not allowed"),
        (["kp=-1"], "kp=-1: -1.0 is out of range; expected a value >= 0"),
    ]:
        with pytest.raises(UserInputError) as err:
            validation_overrides(items)
        assert message in str(err.value)
