"""Training tensors of the trainer: windows of whole runs (recurrent kinds) or single frames, built once per run.

A window is ``seq_len_s`` long, windows start every ``stride_s`` (default half a window) and the last one ends at the
run's end; the first ``burn_in_s`` of each window is excluded from the loss while the recurrent state settles. Runs
shorter than a window are padded with masked frames. Frame-wise kinds (the MLP) train on every valid frame.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from ..data.joint_log import JointLog
from .actuator_model import ActuatorModel
from .features import loss_mask
from .rollout import load_of
from .trainer_cfg import TrainCfg

__all__ = ["Batch", "TrainingWindows"]


class Batch(NamedTuple):
    """One optimiser step's windows: normalised inputs ``x`` (B, T, F), targets ``y`` (B, T), loss masks ``m``
    (B, T), raw states ``raw`` (B, T, 3: q, qd, q*) and per-window scalars ``scal`` (B, 3: kp, inertia, m·g·l);
    frame-wise kinds drop the T axis."""

    x: torch.Tensor
    y: torch.Tensor
    m: torch.Tensor
    raw: torch.Tensor
    scal: torch.Tensor


class TrainingWindows:
    """The training tensors: (N, T, ...) windows, or (N, ...) frames for frame-wise kinds.

    Normalised inputs ``x``, targets ``y``, loss masks ``m``, and what the rollout loss needs: raw states ``raw``
    (q, qd, q*) and per-window scalars ``scal`` (kp, inertia, m·g·l).
    """

    def __init__(self, model: ActuatorModel, logs: list[JointLog], cfg: TrainCfg):
        kind, dt = model.kind, model.dt
        self.recurrent = kind.recurrent
        self.length = kind.window_steps(cfg, dt)
        self.stride = max(1, round((cfg.stride_s or cfg.seq_len_s / 2) / dt)) if self.recurrent else 1
        self.burn = round(cfg.burn_in_s / dt) if self.recurrent else 0
        rollout = kind.rollout_loss(cfg)
        pieces = []
        for log in logs:
            kp = model.run_params(log).kp if kind.uses_physics else 0.0
            inertia, mgl = load_of(log) if rollout else (1.0, 0.0)
            pieces += self._windows(model, log, (kp, inertia, mgl))
        self._stack(pieces)

    def _windows(self, model: ActuatorModel, log: JointLog, scalars: tuple[float, float, float]) -> list[tuple]:
        """``(x, y, mask, raw, scal)`` of each window of one run that has a frame in the loss."""
        x = model.input_norm.apply(model.raw_inputs(log))
        y = model.output_norm.apply(model.target(log)[:, None])[:, 0]
        m = loss_mask(log)
        y = np.where(m, y, 0.0)
        raw = np.stack([log.q[:, 0], log.qd[:, 0], log.q_target[:, 0]], axis=-1)
        n = len(log)
        win = min(self.length, n)
        starts = list(range(0, n - win + 1, self.stride)) if self.recurrent else [0]
        if self.recurrent and starts[-1] != n - win:
            starts.append(n - win)
        out = []
        for s in starts:
            sl = slice(s, s + (win if self.recurrent else n))
            mm = m[sl].copy()
            mm[: self.burn] = False
            if mm.any():
                out.append((x[sl], y[sl], mm, raw[sl], np.array([scalars]).repeat(len(mm), 0)))
        return out

    def _stack(self, pieces: list[tuple]) -> None:
        columns = [list(c) for c in zip(*pieces, strict=True)]
        if self.recurrent:
            width = max(len(a) for a in columns[0])
            columns = [[_pad(a, width) for a in arrs] for arrs in columns]  # short runs: masked padding
            stack = np.stack
        else:
            stack = np.concatenate
        f32 = torch.float32
        self.x, self.y, self.m, self.raw, self.scal = (
            torch.as_tensor(stack(c), dtype=None if i == 2 else f32) for i, c in enumerate(columns)
        )
        if not self.recurrent:  # frames: keep only the masked ones
            keep = self.m
            self.x, self.y, self.m, self.raw, self.scal = (
                a[keep] for a in (self.x, self.y, self.m, self.raw, self.scal)
            )

    def __len__(self) -> int:
        return len(self.x)

    def batch(self, idx: torch.Tensor) -> Batch:
        """The windows (or frames) ``idx``."""
        scal = self.scal[idx, 0] if self.recurrent else self.scal[idx]
        return Batch(self.x[idx], self.y[idx], self.m[idx], self.raw[idx], scal)


def _pad(a: np.ndarray, width: int) -> np.ndarray:
    if len(a) == width:
        return a
    pad = np.zeros((width - len(a), *a.shape[1:]), dtype=a.dtype)
    return np.concatenate([a, pad])
