import dataclasses
import json

import numpy as np
import pytest
import torch

from learned_actuators.data import leave_one_group_out
from learned_actuators.errors import UserInputError
from learned_actuators.learning import train
from learned_actuators.learning.trainer_cfg import RolloutLossCfg
from tests.learning.conftest import make_runs, quick_cfg, rmse

pytestmark = pytest.mark.unit


def _weights(model):
    return torch.cat([p.detach().flatten() for p in model.net.parameters()])


@pytest.mark.parametrize("ema_decay", [0.0, 0.9])
def test_resume_gives_the_same_model_as_an_uninterrupted_run(runs, tmp_path, ema_decay):
    cfg = quick_cfg("gru_pd", max_epochs=6, checkpoint_every=100, ema_decay=ema_decay)
    straight = train(cfg, runs, run_dir=tmp_path / "straight")
    first = train(dataclasses.replace(cfg, max_epochs=3), runs, run_dir=tmp_path / "part")
    assert first.history["epoch"] == [0, 1, 2]
    resumed = train(cfg, runs, run_dir=tmp_path / "part", resume=tmp_path / "part" / "checkpoint.pt")
    assert resumed.history["epoch"] == list(range(6))
    np.testing.assert_allclose(resumed.history["train_loss"], straight.history["train_loss"], rtol=1e-6)
    torch.testing.assert_close(_weights(resumed.model), _weights(straight.model))
    different = train(dataclasses.replace(cfg, seed=1), runs)
    assert not torch.allclose(_weights(different.model), _weights(straight.model))


def test_weight_average_is_the_returned_model(runs, tmp_path):
    cfg = quick_cfg("gru_pd", max_epochs=1, ema_decay=0.5, batch_size=2)
    result = train(cfg, runs, run_dir=tmp_path)
    assert result.best_epoch == 0  # one epoch: the checkpoint holds the returned epoch's live and averaged weights
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    names = [name for name, _ in result.model.net.named_parameters()]
    average = torch.cat([ckpt["average"][f"module.{name}"].flatten() for name in names])
    live = torch.cat([ckpt["net"][name].flatten() for name in names])
    torch.testing.assert_close(_weights(result.model), average)
    assert not torch.allclose(average, live)
    assert int(ckpt["average"]["n_averaged"]) > 1
    with pytest.raises(ValueError, match=r"train\.ema_decay is 1\.0"):
        train(quick_cfg("gru_pd", ema_decay=1.0), runs)


def test_run_directory_contents(runs, tmp_path):
    cfg = quick_cfg("gru_pd", max_epochs=2, tensorboard=True, plots=True)
    result = train(cfg, runs, run_dir=tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert {
        "config.json",
        "normalization.json",
        "deploy_summary.json",
        "metrics.json",
        "best.pt",
        "checkpoint.pt",
        "training_curves.png",
        "prediction_train.png",
        "tensorboard",
        "error_vs_horizon.png",
    } <= names
    summary = json.loads((tmp_path / "deploy_summary.json").read_text())
    assert summary["sequence_length_steps"] == round(cfg.seq_len_s / runs[0].dt)
    assert summary["hidden_size"] == 16 and summary["dt"] == pytest.approx(runs[0].dt)
    assert summary["physics"]["stall_torque"] == cfg.physics.stall_torque
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["max_epochs"] == 2 and config["gru"]["hidden_size"] == 16
    assert set(json.loads((tmp_path / "metrics.json").read_text())["train"]) == {"mse", "rmse", "mae", "r2"}
    assert any((tmp_path / "tensorboard").iterdir())
    assert result.best_epoch in (0, 1)
    growth = json.loads((tmp_path / "metrics.json").read_text())["error_vs_horizon_rad"]
    assert set(growth) == {"1", "2", "5", "10", "20", "50", "100"} and growth["100"] > growth["1"]


def test_early_stopping_keeps_best_epoch(runs):
    cfg = quick_cfg("mlp", max_epochs=200, patience=2, lr=0.5)  # a huge rate makes validation worse quickly
    result = train(cfg, runs[:1], runs[1:])
    assert len(result.history["epoch"]) < 200
    assert result.best_val_rmse == pytest.approx(min(result.history["val_rmse_Nm"]))


def test_keep_epoch_last_returns_the_final_weights_without_early_stopping(runs, tmp_path):
    # validation worsens at once at this rate: "best" stops early on an early epoch, "last" trains on and keeps the end
    cfg = quick_cfg("mlp", max_epochs=8, patience=2, lr=0.5, checkpoint_every=100)
    best = train(cfg, runs[:1], runs[1:])
    last = train(dataclasses.replace(cfg, keep_epoch="last"), runs[:1], runs[1:], run_dir=tmp_path)
    assert best.best_epoch < 7 and last.best_epoch == 7 and len(last.history["epoch"]) == 8
    assert last.best_score == pytest.approx(last.history["val_rmse_Nm"][-1])
    assert json.loads((tmp_path / "metrics.json").read_text())["selection"]["kept"] == "last"
    final = torch.load(tmp_path / "checkpoint.pt", weights_only=False)["net"]  # the last epoch's live weights
    names = [name for name, _ in last.model.net.named_parameters()]
    torch.testing.assert_close(_weights(last.model), torch.cat([final[name].flatten() for name in names]))
    with pytest.raises(UserInputError, match="keep_epoch"):
        train(dataclasses.replace(cfg, keep_epoch="median"), runs[:1], runs[1:])


def test_normalization_is_fitted_on_the_fold_training_runs_only():
    logs = make_runs(kps=(1.0, 2.0, 8.0))
    for log in logs:
        log.meta["group"] = log.name
    fold = leave_one_group_out(logs)[2]  # holds out the kp=8 run
    assert fold.name == "kp8_2" and [g.name for g in fold.test] == ["kp8_2"]
    result = train(quick_cfg("gru_pd", max_epochs=1), fold.train)
    kp_col = result.model.model_cfg.features.index("kp")
    assert result.model.input_norm.mean[kp_col] == pytest.approx(1.5)  # mean over kp 1 and 2, not 8


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda logs: setattr(logs[0], "tau", None), "has no torque label"),
        (lambda logs: setattr(logs[1], "t", logs[1].t * 2), "sampling period .* differs"),
        (lambda logs: setattr(logs[0], "valid", np.zeros(len(logs[0]), bool)), "has no valid frame"),
        (lambda logs: logs[0].meta.pop("kp"), "has no numeric metadata 'kp'"),
    ],
)
def test_bad_training_data(mutate, message):
    logs = make_runs(duration=0.5)
    mutate(logs)
    with pytest.raises(ValueError, match=message):
        train(quick_cfg("gru_pd", max_epochs=1), logs)


def test_unknown_model_type(runs):
    with pytest.raises(ValueError, match="model_type 'transformer'"):
        train(quick_cfg("transformer"), runs)


def test_rollout_loss_trains_and_turns_off_with_a_note_without_a_known_load(runs, tmp_path, caplog):
    cfg = quick_cfg("gru_pd", max_epochs=2)
    cfg.rollout_loss.enabled = True
    cfg.rollout_loss.horizon_s = 0.05
    result = train(cfg, runs)
    assert np.isfinite(result.history["train_loss"]).all()
    assert not any("rollout loss off" in n for n in result.model.info["notes"])
    logs = make_runs(duration=0.5)
    logs[0].meta.pop("inertia")
    result = train(cfg, logs, run_dir=tmp_path / "run")  # used to raise "no metadata 'inertia'"
    assert "rollout loss off" in caplog.text and logs[0].name in caplog.text  # printed
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["rollout_loss"]["enabled"] is False
    assert any("rollout loss off" in n for n in saved["notes"])
    # the same training without the rollout loss: the note changed nothing else
    off = train(dataclasses.replace(cfg, rollout_loss=dataclasses.replace(cfg.rollout_loss, enabled=False)), logs)
    assert off.history["train_loss"] == result.history["train_loss"]


def test_rollout_horizon_curriculum_grows_to_its_end_and_keeps_only_full_horizon_epochs(runs, monkeypatch):
    from learned_actuators.learning import rollout_loss as rl_module
    from learned_actuators.learning.rollout_loss import at_full_horizon, horizon_s

    cfg = quick_cfg("gru_pd", max_epochs=6, seq_len_s=0.5)
    cfg.rollout_loss = dataclasses.replace(
        cfg.rollout_loss, enabled=True, horizon_s=0.02, horizon_end_s=0.32, curriculum_fraction=0.5
    )
    assert [round(horizon_s(cfg, e), 4) for e in range(6)] == [0.02, 0.0504, 0.127, 0.32, 0.32, 0.32]
    assert [at_full_horizon(cfg, e) for e in range(6)] == [False] * 3 + [True] * 3
    assert horizon_s(cfg) == 0.32 and horizon_s(dataclasses.replace(cfg, rollout_loss=RolloutLossCfg()), 0) == 0.1
    seen = []  # the horizon [frames] each rollout-loss call ran: the steps load_step was called for
    real_load_step = rl_module.load_step

    def counting_load_step(*args):
        seen[-1] += 1
        return real_load_step(*args)

    real_rollout_loss = rl_module.rollout_loss

    def tracking_rollout_loss(*args, **kw):
        seen.append(0)
        return real_rollout_loss(*args, **kw)

    monkeypatch.setattr(rl_module, "load_step", counting_load_step)
    monkeypatch.setattr(rl_module, "rollout_loss", tracking_rollout_loss)
    # the training loss grows with the horizon; the lowest (epoch 0) must not be kept: only epochs 3-5 qualify
    result = train(dataclasses.replace(cfg, patience=1), runs)
    assert result.best_epoch >= 3 and len(result.history["epoch"]) == 6  # no early stop during the ramp
    dt = runs[0].dt
    assert min(seen) == round(0.02 / dt) and max(seen) == round(0.32 / dt)


def test_a_rollout_horizon_longer_than_the_window_is_refused(runs):
    cfg = quick_cfg("gru_pd", seq_len_s=0.25)
    cfg.rollout_loss = dataclasses.replace(cfg.rollout_loss, enabled=True, horizon_s=0.05, horizon_end_s=0.3)
    with pytest.raises(UserInputError, match=r"train.rollout_loss.horizon_end_s=0.3 s does not fit.*seq_len_s=0.8"):
        train(cfg, runs)
    cfg.rollout_loss = dataclasses.replace(cfg.rollout_loss, horizon_end_s=None, horizon_s=0.25)
    with pytest.raises(UserInputError, match=r"train.rollout_loss.horizon_s=0.25 s"):
        train(cfg, runs)


def _spring_runs(k_spring, theta0):
    """Pendulum runs whose actuator has a spring with rest angle ``theta0``: an even torque term if theta0 != 0."""
    from learned_actuators.data.synthetic import simulate_reference_actuator
    from learned_actuators.physics import PhysicsParams

    return [
        simulate_reference_actuator(
            PhysicsParams(kp=kp, kd=0.05, stall_torque=1.0, no_load_speed=12.0, k_spring=k_spring, theta0=theta0),
            0.01,
            0.3,
            0.1,
            duration=1.5,
            name=f"spring{i}",
            seed=i,
        )
        for i, kp in enumerate((2.0, 4.0))
    ]


def test_even_torque_share_tells_symmetric_from_asymmetric_loads(runs):
    from learned_actuators.learning.recipe_rules import EVEN_SHARE_MAX, even_torque_share

    assert even_torque_share(runs) < 0.5 * EVEN_SHARE_MAX  # pendulum hanging at q = 0: odd
    assert even_torque_share(_spring_runs(-0.5, 0.0)) < 0.5 * EVEN_SHARE_MAX  # spring at rest at q = 0: odd
    assert even_torque_share(_spring_runs(-0.5, 0.4)) > 2 * EVEN_SHARE_MAX  # rest angle 0.4 rad: a bias


def test_auto_mirroring_follows_the_data(runs, caplog):
    symmetric = train(quick_cfg("mlp", max_epochs=1, augment_mirror="auto"), runs)
    assert any(name.endswith("#mirror") for name in symmetric.model.info["train_runs"])
    assert not any("mirroring" in n for n in symmetric.model.info["notes"])
    asymmetric = train(quick_cfg("mlp", max_epochs=1, augment_mirror="auto"), _spring_runs(-0.5, 0.4))
    assert not any(name.endswith("#mirror") for name in asymmetric.model.info["train_runs"])
    assert any("mirroring off" in n for n in asymmetric.model.info["notes"]) and "mirroring off" in caplog.text
    forced = train(quick_cfg("mlp", max_epochs=1, augment_mirror=True), _spring_runs(-0.5, 0.4))
    assert any(name.endswith("#mirror") for name in forced.model.info["train_runs"])
    assert any("mirroring on as asked" in n for n in forced.model.info["notes"])


def test_shipped_gru_pd_recipe_mirrors_only_on_symmetric_data():
    from learned_actuators.learning.presets import build_cfg, load_preset

    _, cfg = build_cfg(load_preset("recipe_gru_pd"))
    assert cfg.augment_mirror == "auto" and cfg.rollout_loss.enabled


def test_mirror_augmentation_adds_sign_flipped_runs(runs):
    from learned_actuators.learning.train_data import mirror_log

    m = mirror_log(runs[0])
    np.testing.assert_array_equal(m.q, -runs[0].q)
    np.testing.assert_array_equal(m.tau, -runs[0].tau)
    np.testing.assert_array_equal(m.q_target, -runs[0].q_target)
    n = len(runs[0])
    command = {"qd_target": np.linspace(-1, 2, n), "tau_ff": np.full(n, 0.3), "kp": np.full(n, 20.0)}
    mc = mirror_log(dataclasses.replace(runs[0], channels=command)).channels  # the logged command mirrors too
    assert (mc["qd_target"][:, 0] == -command["qd_target"]).all() and (mc["tau_ff"] == -0.3).all()
    assert (mc["kp"] == 20.0).all()  # a gain keeps its sign
    result = train(quick_cfg("mlp", max_epochs=1, augment_mirror=True), runs)
    assert sorted(result.model.info["train_runs"]) == sorted(
        [r.name for r in runs] + [f"{r.name}#mirror" for r in runs]
    )
    assert abs(result.model.output_norm.mean[0]) < 1e-9  # mirrored pairs cancel in the torque mean


def test_residual_penalty_pulls_the_gru_pd_towards_its_physics_prior(runs):
    """With a heavy penalty the net's residual (prediction minus the physics torque) shrinks."""
    from learned_actuators.learning.rollout_loss import residual_penalty

    def residual_rms(model):
        return rmse(np.concatenate([model.predict(log) - model.base_torque(log) for log in runs]), 0.0)

    cfg = quick_cfg("gru_pd", max_epochs=4)
    free = train(cfg, runs).model
    held = train(dataclasses.replace(cfg, gru=dataclasses.replace(cfg.gru, residual_penalty=100.0)), runs).model
    assert residual_rms(held) < 0.3 * residual_rms(free)
    # the penalty's value: weight times the mean square of the residual in units of its spread, over the mask
    pred, mask = torch.tensor([[0.5, -1.0, 2.0]]), torch.tensor([[1.0, 1.0, 0.0]])
    held.model_cfg.residual_penalty = 2.0
    r = pred + float(held.output_norm.mean[0]) / float(held.output_norm.std[0])
    torch.testing.assert_close(residual_penalty(held, pred, mask), 2.0 * (r[0, :2] ** 2).mean())
    # no physics to pull towards: a direct model is not penalised
    direct_gru = dataclasses.replace(cfg.gru, mode="direct", residual_penalty=5.0)
    direct = train(dataclasses.replace(cfg, gru=direct_gru), runs)
    assert float(residual_penalty(direct.model, pred, mask)) == 0.0
