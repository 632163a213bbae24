"""Training windows of the trainer: gathered per batch from each run's frames, held in memory or on disk.

A window is ``seq_len_s`` long, windows start every ``stride_s`` (default half a window) and the last one ends at the
run's end; the first ``burn_in_s`` of each window is excluded from the loss while the recurrent state settles; a
window without a frame in the loss is dropped. Runs shorter than a window are padded with masked frames. Frame-wise
kinds (the MLP) train on every valid frame.

Each run's frames are stored once, contiguously (raw net inputs, target, loss mask, q, qd, q*: one float64 row per
frame, see :mod:`.window_store`), with a table of windows (start, length, run); :meth:`TrainingWindows.batch`
gathers the windows of one optimiser step and normalises them (float64, then float32: the numbers of normalising the
whole run at once). The same pass over the runs fits the normalisation (streaming moments), so the net inputs are
computed once per run. The frames live in memory, or in a file on disk for streaming training (``data.streaming``),
where they are written run by run so that memory holds one run at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from ..data.joint_log import JointLog
from ..data.lazy_runs import runs_in_order
from ..data.normalization import Moments, Normalizer
from .actuator_model import ActuatorModel
from .features import loss_mask
from .rollout import load_of
from .run_passes import run_lengths, run_names
from .trainer_cfg import TrainCfg
from .window_store import FrameArray, StoreFolder, store_key

__all__ = ["COMMAND_COLUMNS", "Batch", "TrainingWindows"]

COMMAND_COLUMNS = ("qd_target", "tau_ff", "kp", "kd")
"""The rollout loss's per-step command in ``Batch.raw[..., 3:]``: target velocity [rad/s] and feed-forward torque
[N·m] (zero where not logged), gain [N·m/rad] and damping [N·m·s/rad] (the run's or the logged per-step values)."""


class Batch(NamedTuple):
    """One optimiser step's windows.

    Normalised inputs ``x`` (B, T, F), targets ``y`` (B, T), loss masks ``m`` (B, T), raw states ``raw`` (B, T, 3:
    q, qd, q*; with the rollout loss 3 + 4: and the :data:`COMMAND_COLUMNS`) and per-window scalars ``scal`` (B, 3:
    kp, inertia, m·g·l); frame-wise kinds drop the T axis.
    """

    x: torch.Tensor
    y: torch.Tensor
    m: torch.Tensor
    raw: torch.Tensor
    scal: torch.Tensor


class TrainingWindows:
    """The training windows (recurrent kinds) or valid frames (frame-wise kinds) of the training runs.

    Building it fits ``model.input_norm`` and ``model.output_norm`` on the valid frames of ``logs`` (streaming
    moments merged in run order, :class:`~learned_actuators.data.normalization.Moments`: :meth:`Normalizer.fit` on
    the concatenated frames up to float rounding) and sets :attr:`torque_peak`, the largest |torque| of those frames.

    Args:
        model: The model with its physics fixed (the stored inputs depend on it).
        logs: Single-joint training runs (a list, or lazily read runs).
        cfg: Window length, stride, burn-in and the rollout loss (per-window scalars).
        store: Folder for the frames on disk (None: in memory). A complete folder with the same key is reused.
    """

    def __init__(self, model: ActuatorModel, logs: Sequence[JointLog], cfg: TrainCfg, store: StoreFolder | None = None):
        kind, dt = model.kind, model.dt
        self.recurrent = kind.recurrent
        self.length = kind.window_steps(cfg, dt)
        self.stride = max(1, round((cfg.stride_s or cfg.seq_len_s / 2) / dt)) if self.recurrent else 1
        self.burn = round(cfg.burn_in_s / dt) if self.recurrent else 0
        self.rollout = kind.rollout_loss(cfg)
        self.features = len(kind.input_names(model.model_cfg))
        # raw x, target, mask, q, qd, q* (and for the rollout loss the command: qd*, tau_ff, kp, kd per step)
        width = self.features + 5 + (len(COMMAND_COLUMNS) if self.rollout else 0)
        if store is None:
            self.frames = FrameArray(width, np.float64, capacity=sum(run_lengths(logs)))
            table = self._write(model, logs, None)
        else:
            store.key = store_key(self._key_parts(model, logs))
            self.frames = FrameArray(width, np.float64, path=store.frames)
            if store.complete() is not None:
                table = store.load_table()
                self.frames.rows = int(table["rows"])
            else:
                table = store.build(self.frames, lambda out: self._write(model, logs, out))
        self.frames.finish()
        self._set_table(table)
        model.input_norm, model.output_norm = self.input_norm, self.output_norm

    def _key_parts(self, model: ActuatorModel, logs: Sequence[JointLog]) -> dict:
        return {
            "runs": run_names(logs),
            "lengths": run_lengths(logs),
            "window": [self.recurrent, self.length, self.stride, self.burn, self.rollout],
            "physics": repr(model.physics),
            "kind": [model.model_type, repr(model.model_cfg)],
        }

    def _write(self, model: ActuatorModel, logs: Sequence[JointLog], out) -> dict[str, np.ndarray]:
        """Append every run's frames (in file order) and return the window table and moments (in run order)."""
        per_run: dict[int, tuple] = {}
        for pos, log in runs_in_order(logs):
            block, m, starts, win = self._run_frames(model, log)
            x, y = Moments(self.features).add(block[m, : self.features]), Moments(1).add(block[m, self.features])
            moments = [x.n, *x.mean, *x.m2, y.n, y.mean[0], y.m2[0], float(np.abs(log.tau[m, 0]).max(initial=0.0))]
            block = block if self.recurrent else block[m]
            offset = self.frames.append(block, out)
            per_run[pos] = (offset, starts, win, len(block), self._scalars(model, log), moments)
        runs = [per_run[p] for p in range(len(per_run))]
        table = {"scal": np.array([r[4] for r in runs], dtype=np.float32).reshape(-1, 3)}
        table["moments"] = np.array([r[5] for r in runs], dtype=np.float64).reshape(len(runs), -1)
        table["rows"] = np.array(self.frames.rows)
        if self.recurrent:
            table["starts"] = np.concatenate([off + st for off, st, *_ in runs]).astype(np.int64)
            table["lengths"] = np.concatenate([np.full(len(st), win) for _, st, win, *_ in runs]).astype(np.int64)
            table["runs"] = np.concatenate([np.full(len(r[1]), k) for k, r in enumerate(runs)]).astype(np.int64)
        else:
            table["offsets"] = np.array([r[0] for r in runs], dtype=np.int64)
            table["cum"] = np.concatenate([[0], np.cumsum([r[3] for r in runs])]).astype(np.int64)
        return table

    def _run_frames(self, model: ActuatorModel, log: JointLog) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """One run's rows, its loss mask, its windows' starts (recurrent kinds) and their length."""
        m = loss_mask(log)
        raw = np.stack([log.q[:, 0], log.qd[:, 0], log.q_target[:, 0], *self._command(model, log)], axis=-1)
        block = np.concatenate([model.raw_inputs(log), model.target(log)[:, None], m[:, None], raw], axis=1)
        if not self.recurrent:
            return block, m, np.zeros(0, np.int64), 1
        n = len(log)
        win = min(self.length, n)
        starts = np.arange(0, n - win + 1, self.stride)
        if starts[-1] != n - win:
            starts = np.append(starts, n - win)
        counts = np.concatenate([[0], np.cumsum(m)])
        first = np.minimum(starts + self.burn, starts + win)
        keep = counts[starts + win] - counts[first] > 0  # a frame in the loss after the burn-in
        return block, m, starts[keep].astype(np.int64), win

    def _command(self, model: ActuatorModel, log: JointLog) -> list[np.ndarray]:
        """The rollout loss's per-step command columns (:data:`COMMAND_COLUMNS`); none without the rollout loss."""
        if not self.rollout:
            return []
        _, kp, extras = model.run_command(log)
        n = len(log)
        defaults = {"qd_target": 0.0, "tau_ff": 0.0, "kp": kp, "kd": model.physics.kd}
        return [np.broadcast_to(extras.get(k, defaults[k]), (n,)) for k in COMMAND_COLUMNS]

    def _scalars(self, model: ActuatorModel, log: JointLog) -> tuple[float, float, float]:
        kp = model.run_params(log).kp if model.kind.uses_physics else 0.0
        inertia, mgl = load_of(log) if self.rollout else (1.0, 0.0)
        return float(kp), inertia, mgl

    def _set_table(self, table: dict[str, np.ndarray]) -> None:
        self.scal = table["scal"]
        self._fit_normalizers(table["moments"])
        if self.recurrent:
            self.starts, self.lengths, self.runs = table["starts"], table["lengths"], table["runs"]
            self.width = int(self.lengths.max()) if len(self.lengths) else self.length
            self.count = len(self.starts)
        else:
            self.offsets, self.cum = table["offsets"], table["cum"]
            self.count = int(self.cum[-1])

    def _fit_normalizers(self, moments: np.ndarray) -> None:
        """The normalisation from the runs' moments, merged in run order, and the largest |torque|."""
        f = self.features
        x, y = Moments(f), Moments(1)
        for row in moments:
            x.merge(int(row[0]), row[1 : 1 + f], row[1 + f : 1 + 2 * f])
            y.merge(int(row[1 + 2 * f]), row[2 + 2 * f : 3 + 2 * f], row[3 + 2 * f : 4 + 2 * f])
        if x.n == 0 or y.n == 0:
            raise ValueError("cannot fit normalisation statistics on zero finite samples.")
        self.input_norm, self.output_norm = Normalizer.from_moments(x), Normalizer.from_moments(y)
        self.torque_peak = float(moments[:, -1].max())

    def __len__(self) -> int:
        return self.count

    def close(self) -> None:
        """Close the frames file (a store on disk)."""
        self.frames.close()

    def batch(self, idx) -> Batch:
        """The windows (or frames) ``idx``: normalised inputs and targets, as the whole runs normalised would be."""
        idx = idx.numpy() if isinstance(idx, torch.Tensor) else np.asarray(idx)
        if self.recurrent:
            starts, lengths, runs, width = self.starts[idx], self.lengths[idx], self.runs[idx], self.width
        else:
            runs = np.searchsorted(self.cum, idx, side="right") - 1
            starts, lengths, width = self.offsets[runs] + idx - self.cum[runs], np.ones(len(idx), np.int64), 1
        rows = self.frames.gather(starts, lengths, width)
        f = self.features
        m = rows[..., f + 1] > 0.5
        x = self.input_norm.apply(rows[..., :f]).astype(np.float32)
        y = np.where(m, self.output_norm.apply(rows[..., f : f + 1])[..., 0], 0.0).astype(np.float32)
        raw = rows[..., f + 2 :].astype(np.float32)
        if self.recurrent:
            x[np.arange(width)[None, :] >= lengths[:, None]] = 0.0  # padding of short runs: zeros, masked
            m[:, : self.burn] = False
        else:
            x, y, m, raw = x[:, 0], y[:, 0], m[:, 0], raw[:, 0]
        return Batch(*(torch.from_numpy(a) for a in (x, y, m, raw, self.scal[runs])))
