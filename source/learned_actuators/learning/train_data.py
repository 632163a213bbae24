"""The trainer's data preparation, done once per run.

Single-joint runs, the validation split, mirrored copies, and the validation inputs every epoch is scored on.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..data.joint_log import JointLog
from ..data.splits import split_blocks, split_joints, split_runs
from ..errors import UserInputError
from .actuator_model import ActuatorModel
from .features import loss_mask
from .metrics import torque_metrics
from .trainer_cfg import TrainCfg

__all__ = ["ScoredRuns", "mirror_log", "prepare_logs", "split_validation"]


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


def split_validation(cfg: TrainCfg, train_logs: list[JointLog], val_logs: list[JointLog] | None):
    """``(training runs, validation runs)`` from prepared training runs and the given validation runs.

    No validation runs (None or empty): ``cfg.val_ratio`` of the training runs (whole runs, or contiguous blocks of a
    single run). The training runs get their mirrored copies when ``cfg.augment_mirror``.
    """
    if val_logs:
        return _augment(cfg, train_logs), prepare_logs(val_logs, "validation")
    if cfg.val_ratio <= 0:
        return _augment(cfg, train_logs), []
    ratios = (1 - cfg.val_ratio, cfg.val_ratio, 0.0)
    split = split_runs(train_logs, ratios, cfg.seed) if len(train_logs) >= 2 else split_blocks(train_logs, ratios)
    return _augment(cfg, split.train), split.val


def _augment(cfg: TrainCfg, logs: list[JointLog]) -> list[JointLog]:
    return logs + [mirror_log(g) for g in logs] if cfg.augment_mirror else logs


class ScoredRuns:
    """Prepared single-joint runs with their net inputs, base torque and labels computed once.

    The model's physics and normalisation are fixed while it trains: each epoch only runs the net.
    """

    def __init__(self, model: ActuatorModel, logs: list[JointLog]):
        self.masks = [loss_mask(log) for log in logs]
        self.inputs = [model.raw_inputs(log) for log in logs]
        self.base = [model.base_torque(log) for log in logs]
        self.labels = np.concatenate([log.tau[m, 0] for log, m in zip(logs, self.masks, strict=True)]) if logs else None

    def __bool__(self) -> bool:
        return self.labels is not None

    def metrics(self, model: ActuatorModel) -> dict[str, float]:
        """Teacher-forced torque metrics (N·m) of ``model`` over the valid frames (all runs pooled)."""
        preds = [
            (model.net_outputs(x[None])[0] + base)[m]
            for x, base, m in zip(self.inputs, self.base, self.masks, strict=True)
        ]
        return torque_metrics(np.concatenate(preds), self.labels)
