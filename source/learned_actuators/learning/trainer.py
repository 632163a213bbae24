"""Training loop for the actuator nets: windows of whole runs, AdamW, early stopping, resume, run directory.

:func:`train` reads top to bottom: prepare the runs (:mod:`.train_data`), build the model of the cfg's kind
(:mod:`.kinds`), cut the training windows (:mod:`.windows`), run the epochs (losses in :mod:`.rollout_loss`), keep
the best epoch, and write the run directory (:mod:`.checkpoints`: ``config.json``, ``normalization.json``,
``deploy_summary.json``, ``metrics.json``, ``best.pt``, ``checkpoint.pt``, tensorboard logs, plots; every file
written atomically). ``train(..., resume=checkpoint)`` continues an interrupted run to the same result as an
uninterrupted one.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..data.joint_log import JointLog
from ..data.lazy_runs import LazyRuns, RunInfo
from ..data.normalization import Normalizer
from ..errors import UserInputError
from .actuator_model import ActuatorModel
from .baselines import fit_physics
from .cfg_checks import check_values
from .checkpoints import TrainState, save_checkpoint, start_run_dir, write_outputs
from .checkpoints import resume as resume_from
from .deploy import deploy_info
from .evaluation import evaluate
from .recipe_rules import resolve_recipe
from .rollout import error_vs_horizon
from .rollout_loss import at_full_horizon, step_loss
from .run_passes import bounded_runs, frame_sample, run_lengths, run_metas, run_names
from .tracking import flat_hparams, flat_metrics, score_name
from .train_data import ScoredRuns, prepare_logs, split_validation, train_sample
from .trainer_cfg import TrainCfg
from .window_store import StoreFolder
from .windows import TrainingWindows

__all__ = ["TrainResult", "TrainingData", "prepare_training", "train"]

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
    gen = _seeded(cfg)
    run_dir = Path(run_dir) if run_dir is not None else None
    setup = prepare_training(cfg, train_logs, val_logs, run_dir)
    try:
        result = _fit(setup, run_dir, resume, gen, t_start)
    except BaseException:
        setup.close(finished=False)
        raise
    setup.close(finished=True)
    return result


@dataclass
class TrainingData:
    """What :func:`prepare_training` gives the epochs: the resolved cfg, the untrained model and its data."""

    cfg: TrainCfg
    model: ActuatorModel
    train_logs: Sequence[JointLog]
    val_logs: Sequence[JointLog]
    data: TrainingWindows
    scored: ScoredRuns
    store: Path | None = None
    """Folder of the frames on disk (streaming), else None."""
    temporary: bool = False
    """Whether :attr:`store` is a temporary folder (no run directory), removed in any case."""

    def close(self, finished: bool = True) -> None:
        """Close the files; remove the store when temporary or when training finished (kept for a resume)."""
        self.data.close()
        self.scored.close()
        if self.store is not None and (finished or self.temporary):
            shutil.rmtree(self.store, ignore_errors=True)


def prepare_training(
    cfg: TrainCfg, train_logs: Sequence[JointLog], val_logs: Sequence[JointLog] | None, run_dir: Path | None
) -> TrainingData:
    """Runs checked and split, recipe resolved, model initialised, windows stored (:func:`train`'s first half).

    Lazily read runs (:class:`~learned_actuators.data.lazy_runs.LazyRuns`, ``data.streaming``) are read one at a
    time and their frames written to ``<run_dir>/streaming_store`` (a temporary folder without a run directory):
    memory holds about one run, the fits' frame sample (``cfg.fit_frames``) and a batch.
    """
    prepared = prepare_logs(train_logs, "training")
    sample = frame_sample(prepared, cfg.fit_frames)
    cfg, notes = resolve_recipe(cfg, _recipe_runs(prepared, sample))
    train_logs, val_logs = split_validation(cfg, prepared, val_logs)
    fit_runs = train_sample(sample, train_logs, cfg.fit_frames)
    model = _init_model(cfg, train_logs, fit_runs)
    store, temporary = None, False
    if isinstance(prepared, LazyRuns):
        temporary = run_dir is None
        store = Path(tempfile.mkdtemp(prefix="learned_actuators_store_")) if temporary else run_dir / "streaming_store"
    try:  # the windows fit the normalisation in their pass over the runs
        data = TrainingWindows(model, train_logs, cfg, StoreFolder(store / "train") if store else None)
        scored = ScoredRuns(model, val_logs, store / "val_rows.bin" if store else None)
    except BaseException:
        if temporary:
            shutil.rmtree(store, ignore_errors=True)
        raise
    model.info = {"notes": notes + _normalization_notes(model)}
    model.info["deploy"] = _deploy(model, train_logs, fit_runs, data.torque_peak)
    return TrainingData(cfg, model, train_logs, val_logs, data, scored, store, temporary)


def _recipe_runs(prepared: Sequence[JointLog], sample: list[JointLog]) -> Sequence:
    """What :func:`resolve_recipe` decides on: the runs, or their metadata with their frame sample when thinned."""
    if not isinstance(prepared, LazyRuns) and all(a is b for a, b in zip(prepared, sample, strict=True)):
        return prepared
    infos = prepared.infos if isinstance(prepared, LazyRuns) else [RunInfo.of(g) for g in prepared]
    return [dataclasses.replace(i, sample=s) for i, s in zip(infos, sample, strict=True)]


def _deploy(model: ActuatorModel, train_logs, fit_runs: list[JointLog], peak: float) -> dict:
    """:func:`deploy_info` with the representative inputs of the training runs and the torque scale of all frames."""
    info = deploy_info(model, fit_runs)
    info.update(representative_inputs=model.representative_inputs(train_logs).tolist(), torque_scale=peak)
    return info


def _fit(setup: TrainingData, run_dir: Path | None, resume, gen: torch.Generator, t_start: float) -> TrainResult:
    """The epochs, the best model, the final metrics and the run directory's outputs (:func:`train`'s second half)."""
    cfg, model, data, train_logs, val_logs = setup.cfg, setup.model, setup.data, setup.train_logs, setup.val_logs
    deploy = model.info.pop("deploy")
    opt = torch.optim.AdamW(model.net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    state = TrainState.new(model.net, opt, _weight_average(cfg, model.net), gen, score_name(bool(val_logs)))
    if resume is not None:
        resume_from(resume, model.net, state, cfg)
    tracker = start_run_dir(run_dir, cfg, model, train_logs, val_logs, state.start_epoch, model.info["notes"])
    try:
        _run_epochs(model, cfg, data, state, setup.scored, tracker, run_dir)
    except BaseException:
        tracker.close()
        raise
    model.net.load_state_dict(state.best["state"])
    model.net.eval()
    model.info.update(best_epoch=state.best["epoch"], train_runs=run_names(train_logs))
    model.info.update(deploy)
    wall = time.perf_counter() - t_start
    result = TrainResult(
        model, state.history, state.best["epoch"], state.best["rmse"], wall, run_dir, score_name=state.score
    )
    result.metrics.update(_final_metrics(model, train_logs, val_logs, cfg.fit_frames))
    summary = {"best_epoch": result.best_epoch, f"best_{state.score}": result.best_score, **result.metrics}
    tracker.finish(flat_hparams(cfg.to_dict()), flat_metrics(summary))
    if run_dir is not None:
        write_outputs(result, cfg, train_logs, val_logs)
    return result


def _seeded(cfg: TrainCfg) -> torch.Generator:
    """Check the schedule and the kept epoch, set the thread count and seed torch; returns the shuffling generator."""
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    # a TrainCfg built in code has not been through the preset's checks: the one validator checks these choices
    check_values(TrainCfg, {"lr_schedule": cfg.lr_schedule, "keep_epoch": cfg.keep_epoch}, "train")
    torch.manual_seed(cfg.seed)
    return torch.Generator().manual_seed(cfg.seed)


def _init_model(cfg: TrainCfg, train_logs, fit_runs: list[JointLog]) -> ActuatorModel:
    """Untrained model with physics (fitted when asked, on the frame sample ``fit_runs``).

    Its normalisation is fitted by :class:`TrainingWindows` in the same pass that stores the windows.
    """
    kind = cfg.kind
    physics = cfg.physics
    if cfg.physics.fit and kind.uses_physics:
        runs = bounded_runs(train_logs, cfg.fit_frames) if cfg.physics.fit == "trajectory" else fit_runs
        physics = fit_physics(runs, cfg.physics)
    model_cfg = copy.deepcopy(cfg.model_cfg)
    unit = Normalizer(np.zeros(1), np.ones(1))
    dt = train_logs.infos[0].dt if isinstance(train_logs, LazyRuns) else train_logs[0].dt
    return ActuatorModel(cfg.model_type, kind.build_net(model_cfg), model_cfg, physics, dt, unit, unit)


def input_names(model: ActuatorModel) -> list[str]:
    """One name per net input (:meth:`~learned_actuators.learning.kinds.ModelKind.input_names`)."""
    return model.kind.input_names(model.model_cfg)


def _normalization_notes(model: ActuatorModel) -> list[str]:
    """Notes on near-constant inputs (scaled by their magnitude, see :class:`Normalizer`), logged as warnings."""
    notes = model.input_norm.notes(input_names(model))
    for note in notes:
        logger.warning("note: %s", note)
    return notes


def _weight_average(cfg: TrainCfg, net: torch.nn.Module):
    """The exponential moving average of ``net``'s weights asked for by ``cfg.ema_decay`` (None when off)."""
    if cfg.ema_decay == 0:
        return None
    if not 0 < cfg.ema_decay < 1:
        raise UserInputError(f"train.ema_decay is {cfg.ema_decay}; expected 0 (off) or a decay in (0, 1).")
    ema = torch.optim.swa_utils.get_ema_multi_avg_fn(cfg.ema_decay)
    return torch.optim.swa_utils.AveragedModel(net, multi_avg_fn=ema, use_buffers=True)


def _run_epochs(model, cfg: TrainCfg, data, state: TrainState, scored: ScoredRuns, tracker, run_dir) -> None:
    """Train from ``state.start_epoch`` until ``cfg.max_epochs`` or ``cfg.patience`` epochs without improvement."""
    net, average, best = model.net, state.average, state.best
    epochs = range(state.start_epoch, cfg.max_epochs)
    bar = tqdm(epochs, disable=not cfg.progress, desc=f"train {cfg.model_type}", leave=False)
    for epoch in bar:
        loss = _train_epoch(model, cfg, data, state.opt, state.gen, epoch, average)
        live = copy.deepcopy(net.state_dict())
        if average is not None:  # evaluate and keep the averaged weights
            net.load_state_dict(average.module.state_dict())
        # the curve the best epoch is chosen on, named for what it is (tracking.score_name)
        value = scored.metrics(model)["rmse"] if scored else float(np.sqrt(loss))
        for key, v in (("epoch", epoch), ("train_loss", loss), (state.score, value)):
            state.history[key].append(v)
        tracker.log_epoch(epoch, {"train_loss": loss, state.score: value})
        if not at_full_horizon(cfg, epoch):  # a curriculum's shorter horizons: neither kept nor counted as stalls
            pass
        elif cfg.keep_epoch == "last" or value < best["rmse"]:
            best.update(rmse=value, epoch=epoch, state=copy.deepcopy(net.state_dict()), stall=0)
        else:
            best["stall"] += 1
        bar.set_postfix({"loss": f"{loss:.4f}", state.score: f"{value:.4f}", "best": best["epoch"]})
        stop = best["stall"] >= cfg.patience or epoch == cfg.max_epochs - 1
        if run_dir is not None and ((epoch + 1) % cfg.checkpoint_every == 0 or stop):
            save_checkpoint(run_dir / "checkpoint.pt", live, state, epoch, cfg)
        if stop:
            break
        if average is not None:  # back to the raw weights for the next epoch
            net.load_state_dict(live)


def _train_epoch(model, cfg: TrainCfg, data, opt, gen: torch.Generator, epoch: int, average=None) -> float:
    """One pass over the shuffled training windows; returns the mean loss. ``average``: weight average to update."""
    model.net.train()
    if cfg.lr_schedule == "cosine":
        for group in opt.param_groups:
            group["lr"] = cfg.lr * (0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi * epoch / max(1, cfg.max_epochs))))
    batch = model.kind.batch_size(cfg)
    perm = torch.randperm(len(data), generator=gen)
    losses = []
    for b in range(0, len(data), batch):
        step = data.batch(perm[b : b + batch])
        x = step.x
        if cfg.input_noise > 0:
            x = x + cfg.input_noise * torch.randn(x.shape, generator=gen)
        loss = step_loss(model, cfg, step, x, gen, epoch)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.net.parameters(), cfg.grad_clip)
        opt.step()
        if average is not None:
            average.update_parameters(model.net)
        losses.append(float(loss.detach()))
    return float(np.mean(losses))


def _final_metrics(model: ActuatorModel, train_logs, val_logs, budget: int) -> dict:
    """Torque metrics on the training (and validation) runs, and rollout error vs horizon when the load is known.

    Lazily read runs are evaluated run by run (:func:`evaluate`); their error-vs-horizon curve uses the leading
    evaluation runs within ``budget`` frames.
    """
    torque = ("mse", "rmse", "mae", "r2")
    runs = {"train": train_logs, "val": val_logs} if val_logs else {"train": train_logs}
    metrics = {}
    for name, logs in runs.items():
        found = evaluate(model, logs, with_rollout=False)
        metrics[name] = {k: found[k] for k in torque}
    eval_logs = val_logs or train_logs
    if all("inertia" in meta for meta in run_metas(eval_logs)):
        eval_logs = bounded_runs(eval_logs, budget)
        horizons = [h for h in (1, 2, 5, 10, 20, 50, 100) if h < min(run_lengths(eval_logs)) // 2]
        curve = error_vs_horizon(model, eval_logs, horizons=horizons, stride=max(1, horizons[-1] // 2))
        metrics["error_vs_horizon_rad"] = {str(h): v for h, v in curve.items()}
    return metrics
