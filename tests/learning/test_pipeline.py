import importlib.util
import json
from pathlib import Path

import pytest

from learned_actuators.data import load_demo_logs
from learned_actuators.data.synthetic import write_bench_csv
from learned_actuators.learning import apply_overrides, build_cfg, load_preset
from learned_actuators.learning.demo import DEMO_PRESET
from learned_actuators.config import shipped_file, shipped_names
from tests.learning.conftest import make_runs

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_actuator.py"


def _cli():
    spec = importlib.util.spec_from_file_location("train_actuator", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


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
    with pytest.raises(ValueError, match=r"'train' has unknown keys \['max_epoch'\]"):
        build_cfg({"train": {"max_epoch": 3}})
    with pytest.raises(ValueError, match=r"'train.gru' has unknown keys \['hidden'\]"):
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


def test_cli_trains_evaluates_and_exports_on_bench_csv(tmp_path, capsys):
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
    main = _cli()
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
    assert {p.name for p in (tmp_path / "out" / "export").iterdir()} == {
        "gru_pd.pt",
        "gru_pd.onnx",
        "mlp.pt",
        "mlp.onnx",
    }
    assert (tmp_path / "out" / "gru_pd" / "light" / "best.pt").is_file()
