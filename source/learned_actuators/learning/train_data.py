"""The trainer's data preparation, done once per run.

Single-joint runs, the validation split, mirrored copies, and the validation inputs every epoch is scored on. Each
accepts a list of runs or lazily read runs (:class:`~learned_actuators.data.lazy_runs.LazyRuns`, streaming
training): then checks and splits use the runs' metadata and nothing is held in memory but one run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..data.joint_log import GAIN_CHANNELS, JointLog
from ..data.lazy_runs import LazyRuns, RunInfo, runs_in_order
from ..data.splits import split_blocks, split_joints, split_runs
from ..errors import UserInputError
from .actuator_model import ActuatorModel
from .evaluation import TorqueSums
from .features import loss_mask
from .run_passes import frame_sample, run_names
from .trainer_cfg import TrainCfg
from .window_store import FrameArray

__all__ = ["ScoredRuns", "mirror_log", "prepare_logs", "split_validation", "train_sample"]


def prepare_logs(logs: Sequence[JointLog], what: str) -> Sequence[JointLog]:
    """Single-joint runs with torque labels and one common time step; clear errors otherwise."""
    if not logs:
        raise UserInputError(f"no {what} runs given.")
    lazy = isinstance(logs, LazyRuns)
    if not lazy:
        logs = split_joints(logs)
    for log in logs.infos if lazy else logs:
        if not (log.has_tau if lazy else log.tau is not None):
            raise UserInputError(
                f"{log.source}: {what} run '{log.name}' has no torque label (torque column or known load)."
            )
        if not (log.valid_frames if lazy else loss_mask(log).any()):
            raise UserInputError(f"{log.source}: {what} run '{log.name}' has no valid frame.")
    runs = logs.infos if lazy else logs
    dts = np.array([log.dt for log in runs])
    if np.abs(dts / dts[0] - 1).max() > 0.01:
        bad = runs[int(np.argmax(np.abs(dts / dts[0] - 1)))]
        raise UserInputError(
            f"{bad.source}: sampling period {bad.dt:.6g} s differs from {dts[0]:.6g} s of '{runs[0].name}'; "
            "a net is trained at one rate: resample the runs first."
        )
    return logs


def mirror_log(log: JointLog) -> JointLog:
    """The run mirrored about q = 0 (named ``<name>#mirror``): angles, velocities and torques change sign.

    So do the logged command channels (target velocity, feed-forward, commanded and motor torque); gains do not.
    """
    return dataclasses.replace(
        log,
        name=f"{log.name}#mirror",
        q=-log.q,
        q_target=-log.q_target,
        qd=-log.qd,
        tau=None if log.tau is None else -log.tau,
        channels={k: v if k in GAIN_CHANNELS else -v for k, v in log.channels.items()},
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
    if isinstance(train_logs, LazyRuns):
        if len(train_logs) < 2:
            raise UserInputError(
                "train.val_ratio: streaming training (data.streaming) holds out whole runs for validation and there "
                "is one run; give validation runs, more runs, or set train.val_ratio=0."
            )
        where = train_logs.position_of()
        split = split_runs(train_logs.infos, ratios, cfg.seed)
        train, val = ([where[id(i)] for i in part] for part in (split.train, split.val))
        return _augment(cfg, train_logs.subset(train)), train_logs.subset(val)
    split = split_runs(train_logs, ratios, cfg.seed) if len(train_logs) >= 2 else split_blocks(train_logs, ratios)
    return _augment(cfg, split.train), split.val


def _augment(cfg: TrainCfg, logs: Sequence[JointLog]) -> Sequence[JointLog]:
    if not cfg.augment_mirror:
        return logs
    if isinstance(logs, LazyRuns):
        return logs + logs.mapped(mirror_log, _mirror_info)
    return logs + [mirror_log(g) for g in logs]


def _mirror_info(info: RunInfo) -> RunInfo:
    return dataclasses.replace(info, name=f"{info.name}#mirror", meta={**info.meta, "mirrored": True})


def train_sample(sample: list[JointLog], train_logs: Sequence[JointLog], budget: int) -> list[JointLog]:
    """The frame sample of the training runs (:func:`~.run_passes.frame_sample`) from the one of the prepared runs.

    The training runs are prepared runs and their mirrored copies (``<name>#mirror``); they are picked by name from
    ``sample``, so no run is read again. Training runs that are not in it (time blocks of a single run) are sampled
    anew.
    """
    by_name = {g.name: g for g in sample}
    out = []
    for name in run_names(train_logs):
        base = name.removesuffix("#mirror")
        if base not in by_name:
            return frame_sample(train_logs, budget)
        out.append(by_name[name] if name == base else mirror_log(by_name[base]))
    return out


class ScoredRuns:
    """Prepared single-joint runs with their net inputs, base torque and labels computed once.

    The model's physics and normalisation are fixed while it trains: each epoch only runs the net, run by run,
    pooling the metrics (:class:`~.evaluation.TorqueSums`). The rows (raw inputs, base torque, label, mask; float64)
    are held in memory, or in the file ``path`` (streaming training), read back one run at a time.
    """

    def __init__(self, model: ActuatorModel, logs: Sequence[JointLog], path: Path | None = None):
        self.features = len(model.input_norm.mean)
        self.rows = FrameArray(self.features + 3, np.float64, capacity=0 if path else _total(logs), path=path)
        spans: dict[int, tuple[int, int]] = {}
        if path is None:
            self._add_runs(model, logs, None, spans)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as out:
                self._add_runs(model, logs, out, spans)
        self.rows.finish()
        self.spans = [spans[p] for p in range(len(spans))]

    def _add_runs(self, model: ActuatorModel, logs, out, spans: dict) -> None:
        for pos, log in runs_in_order(logs):
            m = loss_mask(log)
            label = np.where(m, log.tau[:, 0], 0.0)
            block = np.concatenate([model.raw_inputs(log), np.stack([model.base_torque(log), label, m], -1)], 1)
            spans[pos] = (self.rows.append(block, out), len(block))

    def __bool__(self) -> bool:
        return bool(self.spans)

    def close(self) -> None:
        """Close the rows' file (streaming)."""
        self.rows.close()

    def metrics(self, model: ActuatorModel) -> dict[str, float]:
        """Teacher-forced torque metrics (N·m) of ``model`` over the valid frames (all runs pooled)."""
        sums, f = TorqueSums(), self.features
        for start, count in self.spans:
            rows = self.rows.read(start, count)
            m = rows[:, f + 2] > 0.5
            pred = model.net_outputs(rows[None, :, :f])[0] + rows[:, f]
            sums.add(pred[m], rows[m, f + 1])
        return {k: v for k, v in sums.metrics().items() if k in ("mse", "rmse", "mae", "r2")}


def _total(logs: Sequence[JointLog]) -> int:
    return sum(i.length for i in logs.infos) if isinstance(logs, LazyRuns) else sum(len(g) for g in logs)
