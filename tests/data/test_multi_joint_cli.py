"""End to end: a four-joint CSV without a time column (gains in a side file) through scripts/train_actuator.py."""

import json

import numpy as np
import pytest

from tests.data.ankle_log import JOINTS, KP, write_ankle_log
from tests.support.cli import script_main

pytestmark = pytest.mark.unit


def test_gru_pd_recipe_trains_on_a_multi_joint_csv_with_chosen_blocks(tmp_path, capsys):
    csv, map_path = write_ankle_log(tmp_path, duration=12.0)
    out = tmp_path / "out"
    argv = [
        "--preset",
        "recipe_gru_pd",
        "--out",
        str(out),
        "--models",
        "gru_pd",
        "mlp",
        "--no-export",
        "data.reader=column_map",
        f"data.path={csv.parent}",
        f"data.column_map={map_path}",
        "data.split=kfold",
        "data.blocks=4",
        "data.test_blocks=[1,3]",
        "data.gap_s=0.5",
        "train.rollout_loss.enabled=false",  # no known load: torque loss only
        "train.max_epochs=1",
        "train.seq_len_s=0.5",
        "train.progress=false",
        "train.tensorboard=false",
        "train.plots=false",
    ]
    assert script_main("train_actuator")(argv) == 0
    assert "| gru_pd |" in capsys.readouterr().out
    rows = json.loads((out / "results.json").read_text())
    assert [r["model"] for r in rows] == ["gru_pd", "mlp", "pd_friction_lsq"]
    assert all(r["splits"] == ["block1", "block3"] for r in rows)  # the chosen held-out blocks, one fold each
    assert all(set(r["per_split"]) == {"block1", "block3", "mean"} for r in rows)
    assert (out / "gru_pd" / "block3" / "best.pt").is_file()
    norm = json.loads((out / "gru_pd" / "block3" / "normalization.json").read_text())
    k = norm["features"].index("kp")  # each joint's run trained with its own gain 35/30/25/25
    assert norm["input"]["mean"][k] == pytest.approx(np.mean(KP)) and norm["input"]["std"][k] == pytest.approx(
        np.std(KP)
    )
    splits = json.loads((out / "gru_pd" / "block3" / "splits.json").read_text())
    assert sorted(n for n in splits["train"] if "mirror" not in n) == [f"ankles/{j}#train0" for j in JOINTS]
