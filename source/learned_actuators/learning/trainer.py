"""Training loop for the actuator nets: windows of whole runs, AdamW, early stopping, resume, run directory.

A run directory holds ``config.json`` (resolved cfg), ``normalization.json``, ``deploy_summary.json`` (what the
actuator cfg needs: layers, hidden size, sequence length in steps, dt, physics), ``metrics.json``, ``best.pt``
(the best :class:`ActuatorModel`), ``checkpoint.pt`` (resume state), tensorboard logs and PNG plots. Every file is
written atomically (temporary file, fsync, rename): a run killed at any moment leaves the previous version readable,
and ``train(..., resume=checkpoint)`` continues it to the same result as an uninterrupted run.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..atomic_io import atomic_write_json, torch_save_atomic
from ..data.joint_log import JointLog
from ..data.normalization import Normalizer
from ..data.splits import split_blocks, split_joints, split_runs
from ..errors import UserInputError
from .actuator_model import ActuatorModel, build_net
from .baselines import fit_physics
from .features import gru_step_features, loss_mask, tau_phys
from .metrics import plot_curves, plot_horizon, plot_prediction, torque_metrics
from .recipe_rules import resolve_recipe
from .rollout import error_vs_horizon, load_of
from .tracking import Tracker, flat_hparams, flat_metrics, score_name
from .trainer_cfg import TrainCfg

__all__ = ["TrainResult", "evaluate", "finished_run", "mirror_log", "prepare_logs", "train"]

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """Outcome of :func:`train`."""

    model: ActuatorModel
    """The best model (lowest ``score_name`` curve)."""
    history: dict[str, list[float]]
    """Per epoch: ``epoch``, ``train_loss`` and the ``score_name`` curve."""
    best_epoch: int
    best_score: float
    """The ``score_name`` value of the best epoch."""
    wall_time_s: float
    run_dir: Path | None = None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    score_name: str = "val_rmse_Nm"
    """What the best epoch was chosen on (:func:`~learned_actuators.learning.tracking.score_name`):
    ``val_rmse_Nm`` (validation torque RMSE [N·m]) or ``sqrt_train_loss`` (no validation runs)."""

    @property
    def best_val_rmse(self) -> float:
        """Validation torque RMSE [N·m] of the best epoch; NaN when the run had no validation runs."""
        return self.best_score if self.score_name == "val_rmse_Nm" else float("nan")


def prepare_logs(logs: list[JointLog], what: str) -> list[JointLog]:
    """Single-joint runs with torque labels and one common time step; clear errors otherwise."""
    if not logs:
        raise UserInputError(f"no {what} runs given.")
    logs = split_joints(logs)
    for log in logs:
        if log.tau is None:
            raise UserInputError(
                f"{log.source}: {what} run '{log.name}' has no torque label (torque column or known load)."
            )
        if not loss_mask(log).any():
            raise UserInputError(f"{log.source}: {what} run '{log.name}' has no valid frame.")
    dts = np.array([log.dt for log in logs])
    if np.abs(dts / dts[0] - 1).max() > 0.01:
        bad = logs[int(np.argmax(np.abs(dts / dts[0] - 1)))]
        raise UserInputError(
            f"{bad.source}: sampling period {bad.dt:.6g} s differs from {dts[0]:.6g} s of '{logs[0].name}'; "
            "a net is trained at one rate: resample the runs first."
        )
    return logs


def evaluate(model: ActuatorModel, logs: list[JointLog]) -> dict[str, float]:
    """Teacher-forced torque metrics (N·m) over the valid frames of ``logs`` (all frames pooled)."""
    preds, trues = [], []
    for log in split_joints(logs):
        m = loss_mask(log)
        preds.append(model.predict(log)[m])
        trues.append(log.tau[m, 0])
    return torque_metrics(np.concatenate(preds), np.concatenate(trues))


class _Data:
    """Training tensors: windows (recurrent) or frames (MLP), with the raw states the rollout loss needs."""

    def __init__(self, model: ActuatorModel, logs: list[JointLog], cfg: TrainCfg):
        dt = model.dt
        recurrent = model.model_type != "mlp"
        length = max(2, round(cfg.seq_len_s / dt)) if recurrent else 1
        stride = max(1, round((cfg.stride_s or cfg.seq_len_s / 2) / dt)) if recurrent else 1
        burn = round(cfg.burn_in_s / dt) if recurrent else 0
        xs, ys, ms, raws, scal = [], [], [], [], []
        for log in logs:
            x = model.input_norm.apply(model.raw_inputs(log))
            y = model.output_norm.apply(model.target(log)[:, None])[:, 0]
            m = loss_mask(log)
            y = np.where(m, y, 0.0)
            kp = model.run_params(log).kp if model.model_type == "gru_pd" else 0.0
            rollout = cfg.rollout_loss.enabled and model.model_type == "gru_pd"
            inertia, mgl = load_of(log) if rollout else (1.0, 0.0)
            raw = np.stack([log.q[:, 0], log.qd[:, 0], log.q_target[:, 0]], axis=-1)
            n = len(log)
            win = min(length, n)
            starts = list(range(0, n - win + 1, stride)) if recurrent else [0]
            if recurrent and starts[-1] != n - win:
                starts.append(n - win)
            for s in starts:
                sl = slice(s, s + (win if recurrent else n))
                mm = m[sl].copy()
                mm[:burn] = False
                if not mm.any():
                    continue
                xs.append(x[sl])
                ys.append(y[sl])
                ms.append(mm)
                raws.append(raw[sl])
                scal.append(np.array([[kp, inertia, mgl]]).repeat(len(mm), 0))
        if recurrent:
            width = max(len(a) for a in xs)
            if any(len(a) != width for a in xs):  # runs shorter than a window: pad with masked frames
                xs, ys, ms, raws, scal = ([_pad(a, width) for a in arrs] for arrs in (xs, ys, ms, raws, scal))
            stack = np.stack
        else:
            stack = np.concatenate
        f32 = torch.float32
        self.x = torch.as_tensor(stack(xs), dtype=f32)
        self.y = torch.as_tensor(stack(ys), dtype=f32)
        self.m = torch.as_tensor(stack(ms))
        self.raw = torch.as_tensor(stack(raws), dtype=f32)
        self.scal = torch.as_tensor(stack(scal), dtype=f32)
        if not recurrent:  # frames: keep only the masked ones
            keep = self.m
            self.x, self.y, self.m, self.raw, self.scal = (
                a[keep] for a in (self.x, self.y, self.m, self.raw, self.scal)
            )

    def __len__(self) -> int:
        return len(self.x)


def _pad(a: np.ndarray, width: int) -> np.ndarray:
    if len(a) == width:
        return a
    pad = np.zeros((width - len(a), *a.shape[1:]), dtype=a.dtype)
    return np.concatenate([a, pad])


def _masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return ((pred - target) ** 2 * mask).sum() / mask.sum().clamp(min=1)


def _rollout_loss(model: ActuatorModel, cfg: TrainCfg, data: _Data, idx: torch.Tensor, gen: torch.Generator):
    """Multi-step loss: from states inside each window, drive the 1-DOF load with the model for the horizon.

    ``rollout_loss.starts_per_window`` start frames are drawn per batch; before its start the recurrent state is
    warmed up on the logged states (as in :func:`~learned_actuators.learning.rollout.error_vs_horizon`).
    """
    rl = cfg.rollout_loss
    x, m, raw, scal = data.x[idx], data.m[idx], data.raw[idx], data.scal[idx, 0]
    horizon = max(1, round(rl.horizon_s / model.dt))
    width = x.shape[1]
    burn = max(1, round(cfg.burn_in_s / model.dt))
    if width - horizon - 1 <= burn:
        return torch.zeros(())
    p = model.physics.at_gain(1.0)
    kp, inertia, mgl = scal[:, 0], scal[:, 1], scal[:, 2]
    mean = torch.as_tensor(model.input_norm.mean, dtype=torch.float32)
    std = torch.as_tensor(model.input_norm.std, dtype=torch.float32)
    out_mean, out_std = float(model.output_norm.mean[0]), float(model.output_norm.std[0])
    loss = torch.zeros(())
    count = torch.zeros(())
    for _ in range(max(1, rl.starts_per_window)):
        k0 = int(torch.randint(burn, width - horizon - 1, (1,), generator=gen))
        _, h = model.net(x[:, :k0])
        q, qd = raw[:, k0, 0], raw[:, k0, 1]
        for k in range(k0, k0 + horizon):
            qt = raw[:, k, 2]
            feats = gru_step_features(model.model_cfg.features, q, qd, qt, kp, p)
            y, h = model.net(((feats - mean) / std)[:, None, :], h)
            tau = y[:, 0] * out_std + out_mean
            if model.residual:
                tau = tau + tau_phys(q, qd, qt, kp, p)
            qd = qd + model.dt * (tau - mgl * torch.sin(q)) / inertia
            q = q + model.dt * qd
            valid = m[:, k + 1].float()
            loss = loss + (((q - raw[:, k + 1, 0]) / rl.position_scale) ** 2 * valid).sum()
            count = count + valid.sum()
    return loss / count.clamp(min=1)


def _save_json(path: Path, data) -> None:
    atomic_write_json(path, data, indent=2, sort_keys=True, default=float)


def deploy_summary(model: ActuatorModel, cfg: TrainCfg) -> dict:
    """Fields an actuator cfg needs to run the net as trained."""
    mc = model.model_cfg
    out = {
        "model_type": model.model_type,
        "dt": model.dt,
        "sequence_length_steps": max(2, round(cfg.seq_len_s / model.dt)) if model.model_type != "mlp" else 1,
        "physics": dataclasses.asdict(model.physics),
    }
    if model.model_type == "gru_pd":
        out.update(hidden_size=mc.hidden_size, num_layers=mc.num_layers, features=list(mc.features), mode=mc.mode)
    elif model.model_type == "lstm":
        out.update(hidden_size=mc.hidden_size, num_layers=mc.num_layers, features=["pos_error", "qd"])
    else:
        out.update(
            input_idx=list(mc.input_idx),
            hidden=list(mc.hidden),
            input_order="pos_vel",
            pos_scale=1.0,
            vel_scale=1.0,
            torque_scale=1.0,
        )
    return out


def mirror_log(log: JointLog) -> JointLog:
    """The run mirrored about q = 0: angles, velocities and torques change sign (named ``<name>#mirror``)."""
    return dataclasses.replace(
        log,
        name=f"{log.name}#mirror",
        q=-log.q,
        q_target=-log.q_target,
        qd=-log.qd,
        tau=None if log.tau is None else -log.tau,
        meta={**log.meta, "mirrored": True},
    )


def _split_validation(cfg: TrainCfg, train_logs, val_logs):
    train_logs = prepare_logs(train_logs, "training")
    if val_logs:
        return _augment(cfg, train_logs), prepare_logs(val_logs, "validation")
    if cfg.val_ratio <= 0:
        return _augment(cfg, train_logs), []
    ratios = (1 - cfg.val_ratio, cfg.val_ratio, 0.0)
    split = split_runs(train_logs, ratios, cfg.seed) if len(train_logs) >= 2 else split_blocks(train_logs, ratios)
    return _augment(cfg, split.train), split.val


def _augment(cfg: TrainCfg, logs: list[JointLog]) -> list[JointLog]:
    return logs + [mirror_log(g) for g in logs] if cfg.augment_mirror else logs


def _init_model(cfg: TrainCfg, train_logs: list[JointLog]) -> ActuatorModel:
    """Untrained model with physics (fitted when asked) and normalisation fitted on the training runs."""
    fit = cfg.physics.fit and cfg.model_type == "gru_pd"
    physics = fit_physics(train_logs, cfg.physics) if fit else cfg.physics
    model_cfg = copy.deepcopy(cfg.model_cfg)
    unit = Normalizer(np.zeros(1), np.ones(1))
    model = ActuatorModel(
        cfg.model_type, build_net(cfg.model_type, model_cfg), model_cfg, physics, train_logs[0].dt, unit, unit
    )
    model.input_norm = Normalizer.fit(np.concatenate([model.raw_inputs(g)[loss_mask(g)] for g in train_logs]))
    model.output_norm = Normalizer.fit(np.concatenate([model.target(g)[loss_mask(g)] for g in train_logs]))
    return model


def input_names(model: ActuatorModel) -> list[str]:
    """One name per net input: the GRU-PD features, ``pos_error``/``qd`` (LSTM), ``pos_error[t-i]``/``qd[t-i]``."""
    if model.model_type == "gru_pd":
        return list(model.model_cfg.features)
    if model.model_type == "lstm":
        return ["pos_error", "qd"]
    idx = model.model_cfg.input_idx
    return [f"{name}[t-{i}]" for name in ("pos_error", "qd") for i in idx]


def _normalization_notes(model: ActuatorModel) -> list[str]:
    """Notes on near-constant inputs (scaled by their magnitude, see :class:`Normalizer`), logged as warnings."""
    notes = model.input_norm.notes(input_names(model))
    for note in notes:
        logger.warning("note: %s", note)
    return notes


def _start_run_dir(
    run_dir: Path | None, cfg: TrainCfg, model: ActuatorModel, train_logs, val_logs, start_epoch: int = 0, notes=()
):
    """Write the resolved cfg (with the trainer's notes), normalisation and split; return the run's tracker."""
    if run_dir is None:
        return Tracker(None, cfg, start_epoch)
    run_dir.mkdir(parents=True, exist_ok=True)
    resolved = {"resolved_physics": dataclasses.asdict(model.physics), "notes": list(notes)}
    _save_json(run_dir / "config.json", cfg.to_dict() | resolved)
    norm = {
        "input": model.input_norm.to_dict(),
        "output": model.output_norm.to_dict(),
        "features": deploy_summary(model, cfg).get("features"),
    }
    _save_json(run_dir / "normalization.json", norm)
    _save_json(run_dir / "splits.json", {"train": [g.name for g in train_logs], "val": [g.name for g in val_logs]})
    return Tracker(run_dir, cfg, start_epoch)


def _train_epoch(model, cfg: TrainCfg, data: _Data, opt, gen: torch.Generator, epoch: int, average=None) -> float:
    """One pass over the shuffled training windows; returns the mean loss. ``average``: weight average to update."""
    model.net.train()
    if cfg.lr_schedule == "cosine":
        for group in opt.param_groups:
            group["lr"] = cfg.lr * (0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi * epoch / max(1, cfg.max_epochs))))
    batch = cfg.batch_size if cfg.model_type != "mlp" else cfg.frames_per_batch
    perm = torch.randperm(len(data), generator=gen)
    losses = []
    for b in range(0, len(data), batch):
        idx = perm[b : b + batch]
        x = data.x[idx]
        if cfg.input_noise > 0:
            x = x + cfg.input_noise * torch.randn(x.shape, generator=gen)
        loss = _masked_mse(model.forward_normalized(x), data.y[idx], data.m[idx])
        if cfg.rollout_loss.enabled and cfg.model_type == "gru_pd":
            loss = loss + cfg.rollout_loss.weight * _rollout_loss(model, cfg, data, idx, gen)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.net.parameters(), cfg.grad_clip)
        opt.step()
        if average is not None:
            average.update_parameters(model.net)
        losses.append(float(loss.detach()))
    return float(np.mean(losses))


def _weight_average(cfg: TrainCfg, net: torch.nn.Module):
    """The exponential moving average of ``net``'s weights asked for by ``cfg.ema_decay`` (None when off)."""
    if cfg.ema_decay == 0:
        return None
    if not 0 < cfg.ema_decay < 1:
        raise UserInputError(f"train.ema_decay is {cfg.ema_decay}; expected 0 (off) or a decay in (0, 1).")
    ema = torch.optim.swa_utils.get_ema_multi_avg_fn(cfg.ema_decay)
    return torch.optim.swa_utils.AveragedModel(net, multi_avg_fn=ema, use_buffers=True)


_RESUME_IGNORED = (
    "progress",
    "tensorboard",
    "wandb",
    "wandb_project",
    "plots",
    "checkpoint_every",
    "max_epochs",
    "patience",
)
"""Cfg fields that may differ between an interrupted run and its resumption: display and outputs, and the two stop
criteria (a finished run can be extended; with the cosine schedule the remaining epochs follow the new length)."""


def _save_checkpoint(
    path: Path, live_state: dict, average, opt, gen: torch.Generator, history, best, epoch: int, cfg: TrainCfg
):
    """Everything :func:`_resume` needs to continue after ``epoch`` (written atomically)."""
    state = {
        "cfg": cfg.to_dict(),
        "net": live_state,
        "average": None if average is None else average.state_dict(),
        "optimizer": opt.state_dict(),
        "generator": gen.get_state(),
        "torch_rng": torch.get_rng_state(),
        "history": history,
        "best": best,
        "epoch": epoch,
    }
    torch_save_atomic(state, path)


def _resume(path, net, average, opt, gen: torch.Generator, cfg: TrainCfg):
    """Load a checkpoint written by :func:`train` into the training state.

    Restores the live weights, the weight average, the optimiser, the shuffling generator, the global torch RNG
    (dropout), the history and the best epoch (weights, RMSE, epochs without improvement).

    Returns:
        ``(history, best, next epoch)``; the next epoch is ``cfg.max_epochs`` when the run had stopped early.

    Raises:
        UserInputError: when the file is missing or not a checkpoint of this trainer, or was written with a
            different cfg (the fields are listed).
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: no such checkpoint to resume from.")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # any unpickling failure means the file is not a checkpoint
        raise UserInputError(f"{path}: not a readable training checkpoint ({type(err).__name__}: {err}).") from err
    needed = {"net", "average", "optimizer", "generator", "torch_rng", "history", "best", "epoch"}
    if not isinstance(ckpt, dict) or not needed <= set(ckpt):
        raise UserInputError(f"{path}: not a training checkpoint (expected the keys {sorted(needed)}).")
    if "cfg" in ckpt:
        now = cfg.to_dict()
        old = ckpt["cfg"]
        changed = sorted(k for k in set(now) | set(old) if k not in _RESUME_IGNORED and now.get(k) != old.get(k))
        if changed:
            diffs = ", ".join(f"train.{k}: {old.get(k)!r} -> {now.get(k)!r}" for k in changed)
            raise UserInputError(f"{path}: written with other settings ({diffs}); a run resumes with its own settings.")
    net.load_state_dict(ckpt["net"])
    if average is not None:
        average.load_state_dict(ckpt["average"])
    opt.load_state_dict(ckpt["optimizer"])
    gen.set_state(ckpt["generator"])
    torch.set_rng_state(ckpt["torch_rng"])
    best = ckpt["best"]
    # a run that had stopped early has nothing left to train
    next_epoch = cfg.max_epochs if best["stall"] >= cfg.patience else ckpt["epoch"] + 1
    return ckpt["history"], best, next_epoch


def train(
    cfg: TrainCfg,
    train_logs: list[JointLog],
    val_logs: list[JointLog] | None = None,
    run_dir: str | Path | None = None,
    resume: str | Path | None = None,
) -> TrainResult:
    """Train one actuator net (see :class:`TrainCfg`); returns the best model on the validation runs.

    Without validation runs (``val_ratio = 0``) the best epoch is the one with the lowest training loss, and the
    curve is named ``sqrt_train_loss``, not ``val_rmse_Nm`` (:mod:`~learned_actuators.learning.tracking`).

    Args:
        cfg: Training configuration.
        train_logs: Training runs (multi-joint runs are split into single-joint runs).
        val_logs: Validation runs for early stopping; None or empty: ``cfg.val_ratio`` of the training runs (whole
            runs; contiguous time blocks when there is a single run).
        run_dir: Where to write the run directory (None: nothing is written).
        resume: A ``checkpoint.pt`` of an interrupted run with the same cfg and data; training continues from it.
    """
    t_start = time.perf_counter()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    if cfg.lr_schedule not in ("constant", "cosine"):
        raise UserInputError(f"train.lr_schedule {cfg.lr_schedule!r}; expected 'constant' or 'cosine'.")
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    cfg, notes = resolve_recipe(cfg, prepare_logs(train_logs, "training"))
    train_logs, val_logs = _split_validation(cfg, train_logs, val_logs)
    model = _init_model(cfg, train_logs)
    notes = notes + _normalization_notes(model)
    model.info = {"notes": notes}
    net = model.net
    data = _Data(model, train_logs, cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    average = _weight_average(cfg, net)
    score = score_name(bool(val_logs))
    history: dict[str, list[float]] = {"epoch": [], "train_loss": [], score: []}
    best = {"rmse": float("inf"), "epoch": -1, "state": copy.deepcopy(net.state_dict()), "stall": 0}
    start_epoch = 0
    if resume is not None:
        history, best, start_epoch = _resume(resume, net, average, opt, gen, cfg)
        if "val_rmse" in history:  # a checkpoint written before the curves were named for what they are
            history[score] = history.pop("val_rmse")
    run_dir = Path(run_dir) if run_dir is not None else None
    tracker = _start_run_dir(run_dir, cfg, model, train_logs, val_logs, start_epoch, notes)
    bar = tqdm(
        range(start_epoch, cfg.max_epochs), disable=not cfg.progress, desc=f"train {cfg.model_type}", leave=False
    )
    try:
        for epoch in bar:
            loss = _train_epoch(model, cfg, data, opt, gen, epoch, average)
            live = copy.deepcopy(net.state_dict())
            if average is not None:  # evaluate and keep the averaged weights
                net.load_state_dict(average.module.state_dict())
            # the curve the best epoch is chosen on, named for what it is (tracking.score_name)
            value = evaluate(model, val_logs)["rmse"] if val_logs else float(np.sqrt(loss))
            for key, v in (("epoch", epoch), ("train_loss", loss), (score, value)):
                history[key].append(v)
            tracker.log_epoch(epoch, {"train_loss": loss, score: value})
            if value < best["rmse"]:
                best.update(rmse=value, epoch=epoch, state=copy.deepcopy(net.state_dict()), stall=0)
            else:
                best["stall"] += 1
            bar.set_postfix({"loss": f"{loss:.4f}", score: f"{value:.4f}", "best": best["epoch"]})
            stop = best["stall"] >= cfg.patience or epoch == cfg.max_epochs - 1
            if run_dir is not None and ((epoch + 1) % cfg.checkpoint_every == 0 or stop):
                _save_checkpoint(run_dir / "checkpoint.pt", live, average, opt, gen, history, best, epoch, cfg)
            if stop:
                break
            if average is not None:  # back to the raw weights for the next epoch
                net.load_state_dict(live)
    except BaseException:
        tracker.close()
        raise
    net.load_state_dict(best["state"])
    net.eval()
    model.info.update(best_epoch=best["epoch"], train_runs=[g.name for g in train_logs])
    model.info.update(_deploy_info(model, train_logs))
    if cfg.model_type == "gru_pd":
        model.info["train_kp"] = [model.run_params(g).kp for g in train_logs]
    wall = time.perf_counter() - t_start
    result = TrainResult(model, history, best["epoch"], best["rmse"], wall, run_dir, score_name=score)
    result.metrics.update(_final_metrics(model, train_logs, val_logs))
    summary = {"best_epoch": result.best_epoch, f"best_{score}": result.best_score, **result.metrics}
    tracker.finish(flat_hparams(cfg.to_dict()), flat_metrics(summary))
    if run_dir is not None:
        _write_outputs(result, cfg, train_logs, val_logs)
    return result


def _deploy_info(model: ActuatorModel, train_logs: list[JointLog]) -> dict:
    """What an export stores to check itself: representative training inputs and the torque scale [N·m]."""
    torque = np.concatenate([g.tau[loss_mask(g), 0] for g in train_logs])
    return {
        "representative_inputs": model.representative_inputs(train_logs).tolist(),
        "torque_scale": float(np.abs(torque).max()),
    }


def _final_metrics(model: ActuatorModel, train_logs, val_logs) -> dict:
    """Torque metrics on the training (and validation) runs, and rollout error vs horizon when the load is known."""
    metrics = {"train": evaluate(model, train_logs)}
    if val_logs:
        metrics["val"] = evaluate(model, val_logs)
    eval_logs = val_logs or train_logs
    if all("inertia" in g.meta for g in eval_logs):
        horizons = [h for h in (1, 2, 5, 10, 20, 50, 100) if h < min(len(g) for g in eval_logs) // 2]
        curve = error_vs_horizon(model, eval_logs, horizons=horizons, stride=max(1, horizons[-1] // 2))
        metrics["error_vs_horizon_rad"] = {str(h): v for h, v in curve.items()}
    return metrics


def finished_run(run_dir: str | Path) -> tuple[ActuatorModel, dict] | None:
    """The best model and metrics of a finished run directory, else None.

    ``metrics.json`` is written last, so its presence marks a finished run; :func:`~learned_actuators.learning.
    pipeline.run_preset` uses this to skip finished folds on resume.
    """
    run_dir = Path(run_dir)
    if not ((run_dir / "metrics.json").is_file() and (run_dir / "best.pt").is_file()):
        return None
    try:
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
        state = torch.load(run_dir / "best.pt", map_location="cpu", weights_only=False)
        return ActuatorModel.from_checkpoint(state), metrics
    except Exception as err:
        raise UserInputError(f"{run_dir}: best.pt or metrics.json cannot be read ({err}); cannot resume.") from err


def _write_outputs(result: TrainResult, cfg: TrainCfg, train_logs, val_logs) -> None:
    """Write the run directory's outputs; ``metrics.json`` comes last and marks the run as finished."""
    run_dir, model = result.run_dir, result.model
    torch_save_atomic(model.to_checkpoint(), run_dir / "best.pt")
    _save_json(run_dir / "deploy_summary.json", deploy_summary(model, cfg))
    if cfg.plots:
        plot_curves(run_dir / "training_curves.png", result.history)
        if "error_vs_horizon_rad" in result.metrics:
            plot_horizon(run_dir / "error_vs_horizon.png", result.metrics["error_vs_horizon_rad"], model.dt)
        for name, logs in (("train", train_logs), ("val", val_logs)):
            if logs:
                log = logs[0]
                plot_prediction(
                    run_dir / f"prediction_{name}.png",
                    log.t,
                    log.tau[:, 0],
                    model.predict(log),
                    f"{cfg.model_type} on {name} run {log.name}",
                )
    _save_json(
        run_dir / "metrics.json",
        {
            "best_epoch": result.best_epoch,
            "selection": {"curve": result.score_name, "best": result.best_score},
            "wall_time_s": result.wall_time_s,
            "notes": model.info.get("notes", []),
            **result.metrics,
        },
    )
