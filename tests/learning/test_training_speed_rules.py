"""Training speed on large benches: the batch rule of resolve_recipe, and the rollout loss's shared warm-up."""

import dataclasses

import numpy as np
import pytest
import torch

from learned_actuators.data.synthetic import load_step, simulate_reference_runs
from learned_actuators.learning import trainer
from learned_actuators.learning.features import gru_step_features, tau_phys
from learned_actuators.learning.presets import build_cfg, load_preset
from learned_actuators.learning.recipe_rules import count_windows, resolve_recipe, scaled_batch
from learned_actuators.learning.rollout_loss import masked_mse, step_loss
from learned_actuators.learning.windows import TrainingWindows

from .conftest import quick_cfg

pytestmark = pytest.mark.unit


def _recipe():
    return build_cfg(load_preset("recipe_gru_pd"))[1]


def test_large_bench_gets_a_larger_batch_and_a_scaled_lr_with_a_note():
    cfg = _recipe()
    assert cfg.max_steps_per_epoch is not None  # the recipe has the rule on
    cfg = dataclasses.replace(cfg, max_steps_per_epoch=128)
    logs = simulate_reference_runs(120, 6.0, 0.01, seed=0)  # 120 x 11 windows, mirrored: 2640 -> 330 steps at 8
    out, notes = resolve_recipe(cfg, logs)
    assert out.augment_mirror is True
    assert out.batch_size == 32  # 2640 / 32 = 83 steps <= 128; 16 would be 165
    assert out.lr == pytest.approx(cfg.lr * 2.0)
    (note,) = [n for n in notes if n.startswith("batch")]
    assert "batch 32" in note and "2640" in note and "max_steps_per_epoch=128" in note
    assert out.gru.hidden_size == 64 and cfg.gru.hidden_size == 32  # the wider net
    assert "widens to 64 hidden units" in note
    narrow, _ = resolve_recipe(dataclasses.replace(cfg, large_data_hidden_size=None), logs)
    assert (narrow.batch_size, narrow.gru.hidden_size) == (32, 32)
    wide = dataclasses.replace(cfg, gru=dataclasses.replace(cfg.gru, hidden_size=96))
    assert resolve_recipe(wide, logs)[0].gru.hidden_size == 96  # never shrinks


def test_small_bench_keeps_the_recipe_exactly():
    cfg = _recipe()
    logs = simulate_reference_runs(16, 10.0, 0.005, seed=0)  # BAM-sized: 16 runs at 200 Hz, 19 windows each
    out, notes = resolve_recipe(cfg, logs)
    assert (out.batch_size, out.lr, out.max_epochs, out.lr_schedule) == (8, 0.003, 100, "cosine")
    assert not [n for n in notes if n.startswith("batch")]
    assert dataclasses.replace(out, augment_mirror=cfg.augment_mirror, rollout_loss=cfg.rollout_loss) == cfg


def test_rule_off_and_capped():
    cfg = dataclasses.replace(_recipe(), max_steps_per_epoch=None)
    assert scaled_batch(cfg, 100_000) == (8, 0.003)
    capped = dataclasses.replace(cfg, max_steps_per_epoch=10, max_batch_size=64)
    batch, lr = scaled_batch(capped, 100_000)
    assert batch == 64 and lr == pytest.approx(0.003 * np.sqrt(8))
    assert scaled_batch(dataclasses.replace(capped, model_type="mlp"), 100_000) == (8, 0.003)


def _model(cfg, logs):
    """A GRU-PD model with physics and normalisation fitted on ``logs`` (one training epoch)."""
    return trainer.train(dataclasses.replace(cfg, max_epochs=1), logs).model


def test_count_windows_matches_the_trainer(runs):
    cfg = quick_cfg("gru_pd", rollout_loss=dataclasses.replace(quick_cfg("gru_pd").rollout_loss, enabled=True))
    logs = [*runs, simulate_reference_runs(1, 0.1, 0.005, seed=1)[0]]  # a run shorter than a window, padded
    assert count_windows(cfg, logs) == len(TrainingWindows(_model(cfg, logs), logs, cfg))


def _reference_loss(model, cfg, batch, gen):
    """Today's loss written out plainly: masked MSE plus a rollout warmed up by re-running the GRU on the prefix."""
    loss = masked_mse(model.net(batch.x)[0], batch.y, batch.m)
    rl, dt = cfg.rollout_loss, model.dt
    horizon, burn, width = round(rl.horizon_s / dt), round(cfg.burn_in_s / dt), batch.x.shape[1]
    p = model.physics.at_gain(1.0)
    kp, inertia, mgl = batch.scal[:, 0], batch.scal[:, 1], batch.scal[:, 2]
    mean = torch.as_tensor(model.input_norm.mean, dtype=torch.float32)
    std = torch.as_tensor(model.input_norm.std, dtype=torch.float32)
    out_mean, out_std = float(model.output_norm.mean[0]), float(model.output_norm.std[0])
    total, count = 0.0, 0.0
    for _ in range(rl.starts_per_window):
        k0 = int(torch.randint(burn, width - horizon - 1, (1,), generator=gen))
        _, h = model.net(batch.x[:, :k0])
        q, qd = batch.raw[:, k0, 0], batch.raw[:, k0, 1]
        for k in range(k0, k0 + horizon):
            qt = batch.raw[:, k, 2]
            feats = gru_step_features(model.model_cfg.features, q, qd, qt, kp, p)
            y, h = model.net(((feats - mean) / std)[:, None, :], h)
            tau = y[:, 0] * out_std + out_mean + tau_phys(q, qd, qt, kp, p)
            q, qd = load_step(q, qd, tau, dt, inertia, mgl)
            valid = batch.m[:, k + 1].float()
            total = total + (((q - batch.raw[:, k + 1, 0]) / rl.position_scale) ** 2 * valid).sum()
            count = count + valid.sum()
    return loss + rl.weight * total / count


def test_step_loss_equals_the_plain_loop_in_value_and_gradient(runs):
    rollout = dataclasses.replace(quick_cfg("gru_pd").rollout_loss, enabled=True, starts_per_window=2, weight=0.7)
    cfg = quick_cfg("gru_pd", rollout_loss=rollout)
    model = _model(cfg, runs)
    data = TrainingWindows(model, runs, cfg)
    batch = data.batch(torch.arange(len(data)))
    grads = []
    for fn in (_reference_loss, lambda m, c, b, g: step_loss(m, c, b, b.x, g)):
        model.net.zero_grad()
        loss = fn(model, cfg, batch, torch.Generator().manual_seed(3))
        loss.backward()
        grads.append((float(loss.detach()), [p.grad.clone() for p in model.net.parameters()]))
    (ref, ref_grads), (fast, fast_grads) = grads
    assert fast == pytest.approx(ref, rel=1e-5)
    with torch.no_grad():
        torque_only = float(masked_mse(model.net(batch.x)[0], batch.y, batch.m))
    assert ref > torque_only * 1.01  # the rollout term counts
    for a, b in zip(ref_grads, fast_grads, strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)
