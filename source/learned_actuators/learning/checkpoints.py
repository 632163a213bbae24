"""Run directories and checkpoint IO of the trainer (:func:`~learned_actuators.learning.trainer.train`).

A run directory holds ``config.json`` (resolved cfg and the trainer's notes), ``normalization.json``,
``splits.json``, ``deploy_summary.json`` (:func:`~learned_actuators.learning.deploy.deploy_summary`),
``metrics.json``, ``best.pt`` (the best :class:`ActuatorModel`), ``checkpoint.pt`` (resume state), tensorboard logs
and PNG plots. Every file is written atomically (temporary file, fsync, rename): a run killed at any moment leaves
the previous version readable, and a resumed run continues to the same result as an uninterrupted one.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..atomic_io import atomic_write_json, torch_save_atomic
from ..data.joint_log import JointLog
from ..errors import UserInputError
from .actuator_model import ActuatorModel
from .deploy import deploy_summary
from .metrics import plot_curves, plot_horizon, plot_prediction
from .run_passes import run_names
from .tracking import Tracker
from .trainer_cfg import TrainCfg

__all__ = [
    "RESUME_IGNORED",
    "TrainState",
    "finished_run",
    "resume",
    "save_checkpoint",
    "start_run_dir",
    "write_outputs",
]

RESUME_IGNORED = (
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


@dataclass
class TrainState:
    """Everything of a training run that changes from epoch to epoch besides the live weights."""

    opt: torch.optim.Optimizer
    average: Any
    """The weight average (``torch.optim.swa_utils.AveragedModel``) or None."""
    gen: torch.Generator
    """The shuffling (and rollout-start) generator."""
    score: str
    """Name of the curve the best epoch is chosen on (:func:`~learned_actuators.learning.tracking.score_name`)."""
    history: dict[str, list[float]]
    best: dict[str, Any]
    """``rmse`` (score), ``epoch``, ``state`` (weights) and ``stall`` (epochs without improvement)."""
    start_epoch: int = 0

    @classmethod
    def new(cls, net: torch.nn.Module, opt, average, gen: torch.Generator, score: str) -> TrainState:
        """The state before the first epoch."""
        best = {"rmse": float("inf"), "epoch": -1, "state": copy.deepcopy(net.state_dict()), "stall": 0}
        return cls(opt, average, gen, score, {"epoch": [], "train_loss": [], score: []}, best)


def save_json(path: Path, data) -> None:
    """Write ``data`` as indented, key-sorted JSON (atomically)."""
    atomic_write_json(path, data, indent=2, sort_keys=True, default=float)


def save_checkpoint(path: Path, live_state: dict, state: TrainState, epoch: int, cfg: TrainCfg) -> None:
    """Everything :func:`resume` needs to continue after ``epoch`` (written atomically)."""
    data = {
        "cfg": cfg.to_dict(),
        "net": live_state,
        "average": None if state.average is None else state.average.state_dict(),
        "optimizer": state.opt.state_dict(),
        "generator": state.gen.get_state(),
        "torch_rng": torch.get_rng_state(),
        "history": state.history,
        "best": state.best,
        "epoch": epoch,
    }
    torch_save_atomic(data, path)


def _load_checkpoint(path: Path, cfg: TrainCfg) -> dict:
    """The checkpoint at ``path``, checked to be one written with ``cfg``."""
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
        changed = sorted(k for k in set(now) | set(old) if k not in RESUME_IGNORED and now.get(k) != old.get(k))
        if changed:
            diffs = ", ".join(f"train.{k}: {old.get(k)!r} -> {now.get(k)!r}" for k in changed)
            raise UserInputError(f"{path}: written with other settings ({diffs}); a run resumes with its own settings.")
    return ckpt


def resume(path, net: torch.nn.Module, state: TrainState, cfg: TrainCfg) -> None:
    """Load a checkpoint written by the trainer into ``net`` and ``state``.

    Restores the live weights, the weight average, the optimiser, the shuffling generator, the global torch RNG
    (dropout), the history and the best epoch (weights, RMSE, epochs without improvement); ``state.start_epoch``
    becomes the next epoch (``cfg.max_epochs`` when the run had stopped early).

    Raises:
        UserInputError: when the file is missing or not a checkpoint of this trainer, or was written with a
            different cfg (the fields are listed).
    """
    ckpt = _load_checkpoint(Path(path), cfg)
    net.load_state_dict(ckpt["net"])
    if state.average is not None:
        state.average.load_state_dict(ckpt["average"])
    state.opt.load_state_dict(ckpt["optimizer"])
    state.gen.set_state(ckpt["generator"])
    torch.set_rng_state(ckpt["torch_rng"])
    state.history, state.best = ckpt["history"], ckpt["best"]
    if "val_rmse" in state.history:  # a checkpoint written before the curves were named for what they are
        state.history[state.score] = state.history.pop("val_rmse")
    # a run that had stopped early has nothing left to train
    state.start_epoch = cfg.max_epochs if state.best["stall"] >= cfg.patience else ckpt["epoch"] + 1


def start_run_dir(
    run_dir: Path | None, cfg: TrainCfg, model: ActuatorModel, train_logs, val_logs, start_epoch: int = 0, notes=()
) -> Tracker:
    """Write the resolved cfg (with the trainer's notes), normalisation and split; return the run's tracker."""
    if run_dir is None:
        return Tracker(None, cfg, start_epoch)
    run_dir.mkdir(parents=True, exist_ok=True)
    resolved = {"resolved_physics": dataclasses.asdict(model.physics), "notes": list(notes)}
    save_json(run_dir / "config.json", cfg.to_dict() | resolved)
    norm = {
        "input": model.input_norm.to_dict(),
        "output": model.output_norm.to_dict(),
        "features": model.kind.input_names(model.model_cfg),  # one name per normalised input
    }
    save_json(run_dir / "normalization.json", norm)
    save_json(run_dir / "splits.json", {"train": run_names(train_logs), "val": run_names(val_logs)})
    return Tracker(run_dir, cfg, start_epoch)


def write_outputs(result, cfg: TrainCfg, train_logs: list[JointLog], val_logs: list[JointLog]) -> None:
    """Write the run directory's outputs of a :class:`~learned_actuators.learning.trainer.TrainResult`.

    ``metrics.json`` comes last and marks the run as finished.
    """
    run_dir, model = result.run_dir, result.model
    torch_save_atomic(model.to_checkpoint(), run_dir / "best.pt")
    save_json(run_dir / "deploy_summary.json", deploy_summary(model, cfg))
    if cfg.plots:
        _plots(result, cfg, train_logs, val_logs)
    save_json(
        run_dir / "metrics.json",
        {
            "best_epoch": result.best_epoch,
            "selection": {"curve": result.score_name, "kept": cfg.keep_epoch, "best": result.best_score},
            "wall_time_s": result.wall_time_s,
            "notes": model.info.get("notes", []),
            **result.metrics,
        },
    )


def _plots(result, cfg: TrainCfg, train_logs, val_logs) -> None:
    run_dir, model = result.run_dir, result.model
    plot_curves(run_dir / "training_curves.png", result.history)
    if "error_vs_horizon_rad" in result.metrics:
        plot_horizon(run_dir / "error_vs_horizon.png", result.metrics["error_vs_horizon_rad"], model.dt)
    for name, logs in (("train", train_logs), ("val", val_logs)):
        if logs:
            log = logs[0]
            title = f"{cfg.model_type} on {name} run {log.name}"
            plot_prediction(run_dir / f"prediction_{name}.png", log.t, log.tau[:, 0], model.predict(log), title)


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
