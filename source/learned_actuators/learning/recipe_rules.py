"""Recipe settings that depend on the data: decided from the training runs, each decision worded as a note.

* Rollout loss (GRU-PD): needs the load (``meta["inertia"]``, plus ``mass``/``length`` for a pendulum) of every
  training run. Without it the loss is turned off with a note (no trajectory-fitted plant exists to stand in).
* Mirroring (``augment_mirror``): adds sign-flipped copies of the runs, which is right only when the actuator and
  its load behave the same in both directions, i.e. the torque is an odd function of the state about ``q = 0``.
  ``"auto"`` mirrors only when the data says so (:func:`even_torque_share`); ``True`` mirrors regardless (with a
  note when the data disagrees); ``False`` never mirrors.
* Batch size (recurrent kinds, ``max_steps_per_epoch`` set): on a large data set an epoch of small batches is
  thousands of optimiser steps, each too small to keep a CPU busy. The batch doubles until an epoch takes at most
  ``max_steps_per_epoch`` steps (up to ``max_batch_size``), and the learning rate grows with the square root of the
  batch's growth (the usual scaling for Adam); data sets small enough keep the recipe exactly as given. With
  ``large_data_hidden_size`` set, a recurrent net whose batch grew also widens to that hidden size: the larger
  batch's fewer steps alone cost held-out accuracy that the wider net wins back (measured on a 1000-run bench).
* Gains (kinds without the physics prior, LSTM and MLP): a note when the training runs have several gains, which
  such a net cannot tell apart; ``train.per_gain`` trains one net per gain (:mod:`~.per_gain`).
"""

from __future__ import annotations

import dataclasses
import logging
import math

import numpy as np

from ..data.joint_log import JointLog
from ..errors import UserInputError
from .features import loss_mask
from .trainer_cfg import TrainCfg

__all__ = ["EVEN_SHARE_MAX", "count_windows", "even_torque_share", "resolve_recipe", "scaled_batch"]

logger = logging.getLogger(__name__)

EVEN_SHARE_MAX = 0.1
"""Largest even (direction-independent) share of the torque, RMS relative to the torque's RMS, for which the data
counts as symmetric. A gravity torque measured from the horizontal (``m g l cos q``), a spring whose rest angle is not
0 or a constant bias are even terms; a pendulum hanging at ``q = 0`` (``-m g l sin q``), PD, viscous and Coulomb
friction and the torque-speed curve are odd."""


def even_torque_share(logs: list[JointLog]) -> float:
    """RMS of the torque's even part over the RMS of the torque, pooled over the valid frames of ``logs``.

    Least squares of the torque on odd terms of the state (``q``, ``sin q``; ``e = q* - q``, ``e|e|``, ``e³``,
    ``tanh(e / s)``; ``qd``, ``qd|qd|``, ``tanh(qd / v)``; ``e qd²``, with ``s``, ``v`` a tenth of the spreads)
    together with the even terms a bias, a spring's rest angle or gravity from the horizontal produce (``1``,
    ``cos q``); the even part is the fitted even terms. A mirrored copy of a run is consistent with
    the data only when this share is small (:data:`EVEN_SHARE_MAX`). Odd terms are fitted jointly so that a run
    that explores one side of ``q = 0`` more than the other is not mistaken for an asymmetric load. A run given by
    its metadata with a frame sample (:class:`~learned_actuators.data.lazy_runs.RunInfo` with ``sample``, as the
    trainer passes runs larger than ``train.fit_frames``) is measured on that sample.
    """
    cols = []
    for log in logs:
        log = log.sample if getattr(log, "sample", None) is not None else log
        m = loss_mask(log)
        q, qt, qd = log.q[m, 0], log.q_target[m, 0], log.qd[m, 0]
        cols.append(np.stack([q, qt - q, qd, log.tau[m, 0]], axis=-1))
    q, e, qd, tau = np.concatenate(cols).T
    v = max(0.1 * float(np.std(qd)), 1e-6)
    se = max(0.1 * float(np.std(e)), 1e-9)
    odd = np.stack(
        [q, np.sin(q), e, e * np.abs(e), e**3, np.tanh(e / se), qd, qd * np.abs(qd), np.tanh(qd / v), e * qd**2],
        axis=-1,
    )
    even = np.stack([np.ones_like(q), np.cos(q)], axis=-1)
    basis = np.concatenate([odd, even], axis=-1)
    scale = np.maximum(np.abs(basis).max(axis=0), 1e-12)  # conditioning only
    coef, *_ = np.linalg.lstsq(basis / scale, tau, rcond=None)
    even_part = (even / scale[odd.shape[1] :]) @ coef[odd.shape[1] :]
    rms = float(np.sqrt(np.mean(tau**2)))
    return float(np.sqrt(np.mean(even_part**2))) / max(rms, 1e-12)


def count_windows(cfg: TrainCfg, logs: list[JointLog]) -> int:
    """Training windows the trainer cuts from ``logs``, before mirroring and holding out validation runs.

    As :class:`~.windows.TrainingWindows` cuts them: ``seq_len_s`` windows every ``stride_s``, the last one ending at
    the run's end.
    """
    total = 0
    for log in logs:
        length = cfg.kind.window_steps(cfg, log.dt)
        stride = max(1, round((cfg.stride_s or cfg.seq_len_s / 2) / log.dt))
        win = min(length, len(log))
        starts = range(0, len(log) - win + 1, stride)
        total += len(starts) + (starts[-1] != len(log) - win)
    return total


def scaled_batch(cfg: TrainCfg, windows: int) -> tuple[int, float]:
    """``(batch_size, lr)`` for an epoch of ``windows`` windows under ``cfg.max_steps_per_epoch`` (see the module)."""
    batch, lr = cfg.batch_size, cfg.lr
    if cfg.max_steps_per_epoch is None or not cfg.kind.recurrent:
        return batch, lr
    while math.ceil(windows / batch) > cfg.max_steps_per_epoch and batch * 2 <= cfg.max_batch_size:
        batch *= 2
    return batch, lr * math.sqrt(batch / cfg.batch_size)


def _batch_note(cfg: TrainCfg, logs: list[JointLog], mirror: bool) -> tuple[TrainCfg, list[str]]:
    """The cfg with the batch and learning rate of :func:`scaled_batch`, and a note when they changed."""
    windows = count_windows(cfg, logs) * (2 if mirror else 1)
    batch, lr = scaled_batch(cfg, windows)
    if batch == cfg.batch_size:
        return cfg, []
    note = (
        f"batch {batch} windows at lr {lr:.3g} (asked: {cfg.batch_size} at {cfg.lr:.3g}): about {windows} training "
        f"windows would take {math.ceil(windows / cfg.batch_size)} optimiser steps per epoch, more than "
        f"train.max_steps_per_epoch={cfg.max_steps_per_epoch}; the learning rate grows with the square root of the "
        "batch."
    )
    out = dataclasses.replace(cfg, batch_size=batch, lr=lr)
    hidden, field, arch = cfg.large_data_hidden_size, cfg.kind.cfg_field, cfg.kind.model_cfg(cfg)
    if hidden is not None and field is not None and hidden > getattr(arch, "hidden_size", hidden):
        out = dataclasses.replace(out, **{field: dataclasses.replace(arch, hidden_size=hidden)})
        note += (
            f" The net widens to {hidden} hidden units (asked: {arch.hidden_size}; train.large_data_hidden_size) "
            "to keep the held-out accuracy of small-batch training."
        )
    return out, [note + " Set train.max_steps_per_epoch=null to keep the recipe as given."]


def _gain_note(cfg: TrainCfg, logs: list[JointLog]) -> list[str]:
    """A note when a net that does not see the gain (no physics prior: LSTM, MLP) trains on runs of several gains."""
    gains = sorted({float(g.meta["kp"]) for g in logs if isinstance(g.meta.get("kp"), int | float)})
    if cfg.kind.uses_physics or cfg.kind.scales_by_gain(cfg.kind.model_cfg(cfg)) or len(gains) < 2:
        return []
    shown = ", ".join(f"{g:g}" for g in gains[:6]) + (" ..." if len(gains) > 6 else "")
    return [
        f"the training runs have {len(gains)} gains (kp {shown}) and the {cfg.model_type} net does not see the gain, "
        "so one net stands for all of them; set train.per_gain=true (models.<model>.per_gain) to train one net per "
        "gain, as a robot runs one gain per joint."
    ]


def resolve_recipe(cfg: TrainCfg, logs: list[JointLog]) -> tuple[TrainCfg, list[str]]:
    """The cfg with the rollout loss, mirroring and batch size decided from the training runs ``logs``, and notes.

    The notes are logged as warnings (printed by the training script) and recorded in the run's ``config.json``
    and the exported file's metadata.
    """
    notes = []
    rollout = cfg.rollout_loss
    if cfg.kind.rollout_loss(cfg):
        missing = [g.name for g in logs if "inertia" not in g.meta]
        if missing:
            rollout = dataclasses.replace(rollout, enabled=False)
            listed = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            notes.append(
                f"rollout loss off: the load of training runs {listed} is unknown (no metadata 'inertia'), and no "
                "fitted plant can stand in; give the load (data.load, or 'inertia'/'mass'/'length' in the runs' "
                "metadata) to use it, or set train.rollout_loss.enabled=false to silence this note."
            )
    longest = rollout.horizon_end_s or rollout.horizon_s
    if rollout.enabled and cfg.kind.rollout_loss(cfg) and longest + cfg.burn_in_s >= cfg.seq_len_s:
        key = "horizon_end_s" if rollout.horizon_end_s else "horizon_s"
        raise UserInputError(
            f"train.rollout_loss.{key}={longest:g} s does not fit in a training window: train.seq_len_s="
            f"{cfg.seq_len_s:g} s must exceed it plus train.burn_in_s={cfg.burn_in_s:g} s; set train.seq_len_s="
            f"{longest + cfg.burn_in_s + 0.5:g} or shorten the horizon."
        )
    mirror = cfg.augment_mirror
    if mirror in (True, "auto"):
        share = even_torque_share(logs)
        symmetric = share <= EVEN_SHARE_MAX
        words = f"the torque's even (direction-independent) part is {share:.1%} of its RMS (limit {EVEN_SHARE_MAX:.0%})"
        if mirror == "auto":
            mirror = symmetric
            if not symmetric:
                notes.append(
                    f"mirroring off: {words}, so the load is not symmetric about q = 0 (gravity from the horizontal, "
                    "a spring's rest angle or a bias); set train.augment_mirror=true to mirror anyway."
                )
        elif not symmetric:
            notes.append(f"mirroring on as asked (train.augment_mirror=true), although {words}.")
    cfg, batch_notes = _batch_note(cfg, logs, bool(mirror))
    notes += batch_notes + _gain_note(cfg, logs)
    for note in notes:
        logger.warning("note: %s", note)
    return dataclasses.replace(cfg, rollout_loss=rollout, augment_mirror=bool(mirror)), notes
