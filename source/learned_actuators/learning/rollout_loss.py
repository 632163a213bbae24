"""The trainer's losses: masked MSE on the normalised torque, and the multi-step rollout loss of the physics kinds."""

from __future__ import annotations

import torch

from ..data.synthetic import load_step
from .actuator_model import ActuatorModel
from .trainer_cfg import TrainCfg
from .windows import Batch

__all__ = ["at_full_horizon", "horizon_s", "masked_mse", "residual_penalty", "rollout_loss", "step_loss"]


def _ramp_epochs(cfg: TrainCfg) -> int:
    """The first epoch at the curriculum's final horizon (the last epoch at the latest)."""
    return min(cfg.max_epochs - 1, round(cfg.rollout_loss.curriculum_fraction * cfg.max_epochs))


def horizon_s(cfg: TrainCfg, epoch: int | None = None) -> float:
    """The rollout horizon [s] of ``epoch``.

    ``horizon_s``, or on the curriculum (``horizon_end_s`` set) the geometric ramp
    ``horizon_s · (horizon_end_s / horizon_s)^(epoch / ramp)``, held at ``horizon_end_s`` from epoch
    ``ramp = curriculum_fraction · max_epochs`` on (and for ``epoch=None``: the longest horizon).
    """
    rl = cfg.rollout_loss
    if rl.horizon_end_s is None:
        return rl.horizon_s
    ramp = _ramp_epochs(cfg)
    share = 1.0 if epoch is None or ramp <= 0 else min(1.0, epoch / ramp)
    return rl.horizon_s * (rl.horizon_end_s / rl.horizon_s) ** share


def at_full_horizon(cfg: TrainCfg, epoch: int) -> bool:
    """Whether ``epoch`` trains at the final horizon (always without a curriculum): only such epochs can be kept."""
    return cfg.rollout_loss.horizon_end_s is None or epoch >= _ramp_epochs(cfg)


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the frames of ``mask``."""
    return ((pred - target) ** 2 * mask).sum() / mask.sum().clamp(min=1)


def residual_penalty(model: ActuatorModel, pred: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The residual's penalty: ``residual_penalty`` times its mean square over the frames of ``mask``.

    The residual is measured in units of its spread over the training runs; a model that is not a residual over
    physics gets 0. ``pred`` is the net's normalised output ``(r - mean) / std``, so the residual in spread units is
    ``pred + mean / std``: :func:`masked_mse` against ``pred = -mean / std``. The penalty pulls the residual towards
    zero, i.e. the model towards its physics prior, wherever the torque labels do not pay for the difference.
    """
    weight = model.model_cfg.residual_penalty if model.residual else 0.0
    if weight <= 0:
        return torch.zeros(())
    zero_residual = pred.new_tensor(-float(model.output_norm.mean[0]) / float(model.output_norm.std[0]))
    return weight * masked_mse(pred, zero_residual, mask)


def step_loss(
    model: ActuatorModel, cfg: TrainCfg, batch: Batch, x: torch.Tensor, gen: torch.Generator, epoch: int | None = None
):
    """One optimiser step's loss: the net's masked MSE on inputs ``x`` plus its :func:`residual_penalty`.

    The weighted rollout loss is added when asked; it runs at the horizon of ``epoch`` (:func:`horizon_s`).

    When the rollout warm-up would re-run the net on exactly ``x`` (a one-layer GRU net, no input noise, so ``x`` is
    ``batch.x``), the hidden states of this forward pass are handed to :func:`rollout_loss` instead: the same
    values and gradients, without a second pass over each window's prefix.
    """
    with_rollout = model.kind.rollout_loss(cfg)
    gru = getattr(model.net, "gru", None)
    if with_rollout and x is batch.x and isinstance(gru, torch.nn.GRU) and gru.num_layers == 1:
        hidden, _ = gru(x)
        pred = model.net.head(hidden).squeeze(-1)
        loss = masked_mse(pred, batch.y, batch.m) + residual_penalty(model, pred, batch.m)
        return loss + cfg.rollout_loss.weight * rollout_loss(model, cfg, batch, gen, hidden, epoch)
    pred = model.forward_normalized(x)
    loss = masked_mse(pred, batch.y, batch.m) + residual_penalty(model, pred, batch.m)
    if with_rollout:
        loss = loss + cfg.rollout_loss.weight * rollout_loss(model, cfg, batch, gen, epoch=epoch)
    return loss


def rollout_loss(
    model: ActuatorModel,
    cfg: TrainCfg,
    batch: Batch,
    gen: torch.Generator,
    hidden: torch.Tensor | None = None,
    epoch: int | None = None,
):
    """Multi-step loss: from states inside each window, drive the 1-DOF load with the model for the horizon.

    The horizon is :func:`horizon_s` of ``epoch`` (a fixed one without a curriculum).

    ``rollout_loss.starts_per_window`` start frames are drawn per batch (of :class:`~.windows.Batch`); before its
    start the recurrent state is warmed up on the logged states (as in
    :func:`~learned_actuators.learning.rollout.error_vs_horizon`). The kind gives the torque of each step
    (:meth:`~learned_actuators.learning.kinds.ModelKind.rollout_torque`), the load follows
    :func:`~learned_actuators.data.synthetic.load_step`. ``hidden``: the one-layer net's hidden states (N, T, H) on
    ``batch.x`` when the caller has them (:func:`step_loss`); the warm-up state at a start ``k0`` is then
    ``hidden[:, k0 - 1]`` (the same value as re-running the net on ``x[:, :k0]``).
    """
    rl = cfg.rollout_loss
    x, m, raw, scal = batch.x, batch.m, batch.raw, batch.scal
    horizon = max(1, round(horizon_s(cfg, epoch) / model.dt))
    width = x.shape[1]
    burn = max(1, round(cfg.burn_in_s / model.dt))
    if width - horizon - 1 <= burn:
        return torch.zeros(())
    p = model.physics.at_gain(1.0)
    inertia, mgl = scal[:, 1], scal[:, 2]
    norm = (
        torch.as_tensor(model.input_norm.mean, dtype=torch.float32),
        torch.as_tensor(model.input_norm.std, dtype=torch.float32),
        float(model.output_norm.mean[0]),
        float(model.output_norm.std[0]),
    )
    loss = torch.zeros(())
    count = torch.zeros(())
    for _ in range(max(1, rl.starts_per_window)):
        k0 = int(torch.randint(burn, width - horizon - 1, (1,), generator=gen))
        h = hidden[None, :, k0 - 1] if hidden is not None else model.net(x[:, :k0])[1]
        q, qd = raw[:, k0, 0], raw[:, k0, 1]
        for k in range(k0, k0 + horizon):
            qd_target, tau_ff, kp, kd = raw[:, k, 3:].unbind(-1)  # the step's whole command (COMMAND_COLUMNS)
            command = dict(qd_target=qd_target, tau_ff=tau_ff, kd=kd)
            tau, h = model.kind.rollout_torque(model, h, kp, p, q, qd, raw[:, k, 2], norm, **command)
            q, qd = load_step(q, qd, tau, model.dt, inertia, mgl)
            valid = m[:, k + 1].float()
            loss = loss + (((q - raw[:, k + 1, 0]) / rl.position_scale) ** 2 * valid).sum()
            count = count + valid.sum()
    return loss / count.clamp(min=1)
