"""Experiment tracking of a training run: tensorboard (``train.tensorboard``) and Weights & Biases (``train.wandb``).

Every epoch logs the training loss and the curve the best epoch is chosen on, named for what it is
(:func:`score_name`): ``val_rmse_Nm``, the teacher-forced torque RMSE [N·m] on the validation runs, when there are
validation runs; ``sqrt_train_loss``, the square root of the epoch's mean training loss (normalised torque MSE plus
the weighted rollout loss; no unit), when the recipe has none (``train.val_ratio=0`` and no validation runs). At the
end the hyper-parameters (the resolved ``train`` cfg, flattened to dotted keys) and the final metrics are logged:
tensorboard's HParams tab (run ``hparams`` beside the curves) and a ``config`` text; a W&B run's config and summary.

W&B is an optional extra (``pip install learned_actuators[wandb]``); the run is written under
``<run_dir>/wandb`` and follows W&B's own settings (``WANDB_MODE=offline`` writes it locally, to be uploaded later
with ``wandb sync``; nothing in the trainer needs the network).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..errors import UserInputError

__all__ = ["SQRT_TRAIN_LOSS", "VAL_RMSE", "Tracker", "flat_hparams", "flat_metrics", "score_name"]

VAL_RMSE = "val_rmse_Nm"
"""Curve name: teacher-forced torque RMSE [N·m] on the validation runs."""
SQRT_TRAIN_LOSS = "sqrt_train_loss"
"""Curve name: square root of the epoch's mean training loss (normalised units), when there are no validation runs."""


def score_name(has_validation: bool) -> str:
    """Name of the curve the best epoch is chosen on (module docstring)."""
    return VAL_RMSE if has_validation else SQRT_TRAIN_LOSS


def flat_hparams(cfg: dict[str, Any], prefix: str = "") -> dict[str, bool | int | float | str]:
    """Nested cfg dict -> ``{"gru.hidden_size": 32, ...}`` of scalars (lists and None as JSON text)."""
    out: dict[str, bool | int | float | str] = {}
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_hparams(value, f"{name}."))
        elif isinstance(value, bool | int | float | str):
            out[name] = value
        else:
            out[name] = json.dumps(value, default=str)
    return out


def flat_metrics(metrics: dict[str, Any], prefix: str = "final/") -> dict[str, float]:
    """Nested metrics dict -> ``{"final/val/rmse": ..., ...}`` of finite numbers (other entries are left out)."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_metrics(value, f"{name}/"))
        elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            out[name] = float(value)
    return out


class Tracker:
    """The run's tensorboard writer and W&B run (either may be off); see the module docstring."""

    def __init__(self, run_dir: Path | None, cfg, start_epoch: int = 0):
        self._writer = None
        self._wandb = None
        if run_dir is not None and cfg.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            # a resumed run drops the events logged after its checkpoint, so no epoch appears twice
            self._writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=start_epoch or None)
        if cfg.wandb:
            self._wandb = _start_wandb(run_dir, cfg)

    def log_epoch(self, epoch: int, values: dict[str, float]) -> None:
        """Per-epoch scalars (``train_loss`` and the score curve)."""
        if self._writer is not None:
            for key, value in values.items():
                self._writer.add_scalar(f"curves/{key}", value, epoch)
        if self._wandb is not None:
            self._wandb.log({"epoch": epoch, **values}, step=epoch)

    def finish(self, hparams: dict[str, Any], metrics: dict[str, float]) -> None:
        """Log the hyper-parameters and final metrics, then close everything."""
        if self._writer is not None:
            self._writer.add_text("config", "```json\n" + json.dumps(hparams, indent=1, sort_keys=True) + "\n```")
            self._writer.add_hparams(hparams, metrics, run_name="hparams")
            self._writer.close()
        if self._wandb is not None:
            self._wandb.summary.update(metrics)
            self._wandb.finish()
        self._writer = self._wandb = None

    def close(self) -> None:
        """Close without final logging (a run that failed)."""
        if self._writer is not None:
            self._writer.close()
        if self._wandb is not None:
            self._wandb.finish(exit_code=1)
        self._writer = self._wandb = None


def _start_wandb(run_dir: Path | None, cfg):
    try:
        import wandb
    except ImportError as err:
        raise UserInputError(
            "train.wandb=true needs Weights & Biases: pip install 'learned_actuators[wandb]' (or train.wandb=false)."
        ) from err
    where = None
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        where = str(run_dir)
    return wandb.init(
        project=cfg.wandb_project,
        dir=where,
        name=run_dir.name if run_dir is not None else None,
        config=flat_hparams(cfg.to_dict()),
        reinit="finish_previous",
    )
