"""The compare tool scores our exported GRU-PD exactly as its trainer did (issue 17, "Bring your own robot").

A four-joint ankle CSV without a time column (per-joint gains in a side file) is trained through
``scripts/train_actuator.py`` with block 3 of 4 held out, exported, and compared through
``scripts/compare_actuators.py`` on the same block. The trainer fits a gain scale (``kp_scale`` ≠ 1) and uses
``kp_scale · logged kp`` for every feature and the residual's base torque; the exported file used to omit it, so the
compare tool ran the net at the raw logged gains and reported 5x the trainer's held-out error (0.0027 vs 0.00053 N·m
on a 60 s log).
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from learned_actuators.data.column_map import load_column_map, read_mapped_folder
from learned_actuators.data.splits import split_joints
from learned_actuators.errors import UserInputError
from learned_actuators.learning.checkpoints import finished_run
from learned_actuators.learning.export import export_model
from learned_actuators.network_file import load_network
from learned_actuators.validation.compare import compare_models, held_out
from learned_actuators.validation.third_party import parse_model_spec
from learned_actuators.validation.validation_cfg import ValidationCfg
from tests.data.ankle_log import JOINTS, KD, KP, RATE, write_ankle_log

pytestmark = pytest.mark.unit

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
SPLIT = ["--blocks", "4", "--test-block", "3", "--gap-s", "0.5"]
UNIT = 0.1
"""N·m/rad per logged gain unit: the side file logs the gains in tenths (350/300/250/250), so the trainer fits
``kp_scale`` ≈ 0.1 (on the 60 s log of the README, logged in N·m/rad, it fitted 0.9993: the same gap, 5x the error)."""
FRAME_TOLERANCE = 1e-5
"""Per-frame torque difference allowed, of the torque scale (float32 net vs the trainer's float64 features)."""


def _main(script: str):
    spec = importlib.util.spec_from_file_location(script, SCRIPTS / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The README walk-through's step 1 on a 16 s log: (folder, map, run folder)."""
    root = tmp_path_factory.mktemp("ankles")
    side = {"rate_hz": RATE, "joint_names": JOINTS, "joint_constants": {"kp": [k / UNIT for k in KP], "kd": KD}}
    csv, map_path = write_ankle_log(root, duration=16.0, header=False, side=side)
    out = root / "run"
    argv = ["--preset", "recipe_gru_pd", "--out", str(out), "--models", "gru_pd", "data.reader=column_map"]
    argv += [f"data.path={csv.parent}", f"data.column_map={map_path}", "data.split=kfold", "data.blocks=4"]
    argv += ["data.test_blocks=[3]", "data.gap_s=0.5", "train.rollout_loss.enabled=false", "train.max_epochs=3"]
    argv += ["train.seq_len_s=0.5", "train.progress=false", "train.tensorboard=false", "train.plots=false"]
    assert _main("train_actuator")(argv) == 0
    return csv.parent, map_path, out


def test_compare_single_step_rmse_is_the_trainers_held_out_rmse(trained, tmp_path):
    logs, map_path, run = trained
    model, _ = finished_run(run / "gru_pd" / "block3")
    assert model.physics.kp_scale == pytest.approx(UNIT, rel=1e-3)  # a fitted gain scale: what the file must carry
    path = run / "export" / "gru_pd.pt"
    _, meta = load_network(str(path))
    assert meta.source["kp_scale"] == pytest.approx(model.physics.kp_scale, rel=1e-12)
    trainer_rmse = json.loads((run / "results.json").read_text())[0]["per_split"]["block3"]["rmse"]
    out = tmp_path / "cmp"
    argv = ["--data", str(logs), "--column-map", str(map_path), *SPLIT, "--no-rollout", "--out", str(out)]
    argv += ["--model", f"ours:{path}", "--model", "isaaclab:IdealPD", f"kp_scale={UNIT}", f"kd={KD}"]
    assert _main("compare_actuators")(argv) == 0
    result = json.loads((out / "comparison.json").read_text())
    rows = {r["model"]: r for r in result["rows"]}
    assert rows["gru_pd"]["torque_rmse"] == pytest.approx(trainer_rmse, rel=1e-3)
    # the overrides set the stock PD's gains (logged x 0.1, kd 2: the synthetic torque is that PD's), not ours
    assert rows["IdealPD"]["torque_rmse"] < 1e-2 * rows["gru_pd"]["torque_rmse"]
    assert any("logged kp x kp_scale 0.1, kd 2" in n for n in result["notes"])


def test_compare_torques_equal_the_trainers_predictions_frame_by_frame(trained):
    logs, map_path, run = trained
    model, _ = finished_run(run / "gru_pd" / "block3")
    test, _, _ = held_out(read_mapped_folder(logs, load_column_map(map_path)), 4, 3, 0.5)
    spec = parse_model_spec(f"ours:{run / 'export' / 'gru_pd.pt'}")
    comparison = compare_models(test, [spec], ValidationCfg(show_progress=False), rollout=False)
    got = comparison.tau["gru_pd"][0]  # (T, J): one held-out run, every joint with its own gain
    runs = split_joints(test)
    want = np.stack([model.predict(g) for g in runs], axis=-1)
    scale = max(float(np.abs(g.tau).max()) for g in runs)
    error = float(np.abs(got - want).max())
    assert error <= FRAME_TOLERANCE * scale, f"{error:.3g} N·m off (torque scale {scale:.3g} N·m)"


def test_file_without_its_gain_scale_is_refused_on_per_joint_gains(trained, tmp_path):
    """A file from before the fix (no ``source.kp_scale``) on a log with per-joint gains: a clear error naming the
    field, not a silent scale of 1; with the scale given (``kp_scale=``) it matches the trainer again."""
    logs, map_path, run = trained
    model, _ = finished_run(run / "gru_pd" / "block3")
    old = export_model(model, tmp_path, "old", source={"kp_scale": None}, onnx=False)["torchscript"]
    test, _, _ = held_out(read_mapped_folder(logs, load_column_map(map_path)), 4, 3, 0.5)
    spec = parse_model_spec(f"ours:{old}")
    with pytest.raises(UserInputError, match="kp_scale"):
        compare_models(test, [spec], ValidationCfg(show_progress=False), rollout=False)
    cfg = ValidationCfg(show_progress=False, kp_scale=model.physics.kp_scale)
    got = compare_models(test, [spec], cfg, rollout=False).tau["old"][0]
    runs = split_joints(test)
    want = np.stack([model.predict(g) for g in runs], axis=-1)
    assert float(np.abs(got - want).max()) <= FRAME_TOLERANCE * max(float(np.abs(g.tau).max()) for g in runs)
