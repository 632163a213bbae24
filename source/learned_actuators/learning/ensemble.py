"""Ensembles of GRU-PD models: training (seeds or bootstraps), one exported file, spread and its calibration.

An :class:`Ensemble` holds ``K`` GRU-PD members trained on the same runs with different seeds (and, with
``bootstrap``, on runs resampled with replacement). It predicts the members' mean; their standard deviation is the
model's own uncertainty. :func:`calibration` says how far that spread can be trusted on held-out runs: the share of
frames whose error lies within 1 and 2 standard deviations (a calibrated Gaussian spread: 68 % and 95 %).

:meth:`Ensemble.combined` folds the members into one GRU-PD :class:`~.actuator_model.ActuatorModel` that exports
and runs as any other (:func:`~.export.export_model`): one GRU of hidden size ``K·H`` whose weights are the
members' block-diagonally (each member's input normalisation folded into its input weights), a head giving the
members' mean torque, the members' own heads as the buffers ``member_head_weight`` (K, K·H) and
``member_head_bias`` (K,) [N·m], and the label-noise term ``member_noise_std`` (1,) [N·m]. The actuator runs the
mean like any GRU-PD file (both execution paths) and reads the member heads for its per-joint spread
(:attr:`~learned_actuators.actuators.CombinedGRUAndPDActuator.ensemble_std`). The Python path's fused kernels
and the native drive's torch backend run the block-diagonal GRU member by member
(:class:`~learned_actuators.actuators.fused_recurrent.FusedRecurrentNet` with ``blocks=K``): about ``K`` times one
member's cost (measured: 3.6x one member's ``compute()`` at K = 3; 7x with the dense product).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..data.joint_log import JointLog
from ..data.normalization import Normalizer
from ..errors import UserInputError
from ..network_file import member_spread
from .actuator_model import ActuatorModel
from .features import loss_mask
from .models import GRUNet
from .trainer_cfg import TrainCfg

__all__ = ["Ensemble", "calibration", "member_plan", "noise_std", "train_ensemble"]


@dataclass
class Ensemble:
    """``K`` GRU-PD members of one architecture, physics and time step; predicts their mean."""

    members: list[ActuatorModel]
    noise: float = 0.0
    """Label-noise term [N·m] added to the members' spread (:func:`noise_std`, fitted on validation runs; 0: none):
    the spread is ``sqrt(std² + noise²)`` in :meth:`predict_std`, :func:`calibration` and the exported file."""

    def __post_init__(self):
        if not self.members:
            raise UserInputError("an ensemble needs at least one member.")
        first = self.members[0]
        for k, m in enumerate(self.members):
            if not m.kind.ensembles:
                raise UserInputError(f"ensemble member {k} is {m.model_type!r}; ensembles are of gru_pd models.")
            same = (m.model_cfg, m.physics, m.dt) == (first.model_cfg, first.physics, first.dt)
            if not same:
                raise UserInputError(
                    f"ensemble member {k} differs from member 0 in its architecture, physics or dt; members must "
                    "share them (train them with one cfg; a physics fit on bootstrapped runs: fix the physics)."
                )

    @property
    def size(self) -> int:
        """Number of members ``K``."""
        return len(self.members)

    def predict_members(self, log: JointLog) -> np.ndarray:
        """Teacher-forced torque [N·m] of every member, shape (K, T)."""
        return np.stack([m.predict(log) for m in self.members])

    def predict(self, log: JointLog) -> np.ndarray:
        """The members' mean torque [N·m] (T,)."""
        return self.predict_members(log).mean(axis=0)

    def joint_torque_members(self, log: JointLog) -> np.ndarray:
        """Every member's torque [N·m] the joint receives (:meth:`ActuatorModel.joint_torque`), shape (K, T)."""
        return np.stack([m.joint_torque(log) for m in self.members])

    def joint_torque(self, log: JointLog) -> np.ndarray:
        """The members' mean joint torque [N·m] (T,); what the metrics score."""
        return self.joint_torque_members(log).mean(axis=0)

    def predict_std(self, log: JointLog) -> np.ndarray:
        """The spread [N·m] (T,): the members' standard deviation with :attr:`noise` added in quadrature.

        Population standard deviation (``ddof=0``), as the actuator computes it.
        """
        return member_spread(torch.from_numpy(self.predict_members(log).T), 1.0, self.noise).numpy()

    def stepper_for(self, logs: list[JointLog]):
        """Per-step mean model for rollouts: the combined model's stepper (the exported module)."""
        return self.combined().stepper_for(logs)

    def combined(self) -> ActuatorModel:
        """The members as one GRU-PD model (block-diagonal GRU, mean head, member heads as buffers)."""
        first = self.members[0]
        cfg = first.model_cfg
        k, h, layers = self.size, cfg.hidden_size, cfg.num_layers
        net = GRUNet(len(cfg.features), k * h, layers)
        state = {name: torch.zeros_like(p) for name, p in net.state_dict().items()}
        heads_w = torch.zeros(k, k * h, dtype=torch.float64)
        heads_b = torch.zeros(k, dtype=torch.float64)
        for i, m in enumerate(self.members):
            _place_member(state, m, i, k, h, layers, heads_w, heads_b)
        head_w, head_b = heads_w.mean(0, keepdim=True), heads_b.mean().reshape(1)
        state["head.weight"], state["head.bias"] = head_w.float(), head_b.float()
        net.load_state_dict(state)
        net.register_buffer("member_head_weight", heads_w.float())
        net.register_buffer("member_head_bias", heads_b.float())
        net.register_buffer("member_noise_std", torch.tensor([self.noise], dtype=torch.float32))
        f = len(cfg.features)
        unit = (Normalizer(np.zeros(f), np.ones(f)), Normalizer(np.zeros(1), np.ones(1)))
        model_cfg = dataclasses.replace(cfg, hidden_size=k * h)
        info: dict[str, Any] = {**copy.deepcopy(first.info), "ensemble_size": k, "ensemble_noise_std": self.noise}
        return ActuatorModel(first.model_type, net.eval(), model_cfg, first.physics, first.dt, *unit, info)


def _place_member(state: dict, member: ActuatorModel, i: int, k: int, h: int, layers: int, heads_w, heads_b) -> None:
    """Write member ``i``'s GRU into its diagonal blocks of ``state`` and its denormalised head into row ``i``.

    Gate rows of PyTorch's GRU are ``[r; z; n]`` blocks of the hidden size; member ``i`` owns rows and columns
    ``i·h .. (i+1)·h`` of each gate block. Its input normalisation ``(x - mu) / sigma`` is folded into layer 0's input
    weights and bias (exact: the input bias sits outside the reset gate's product).
    """
    src = member.net.state_dict()
    mu = torch.as_tensor(member.input_norm.mean, dtype=torch.float64)
    sigma = torch.as_tensor(member.input_norm.std, dtype=torch.float64)
    rows = slice(i * h, (i + 1) * h)
    for layer in range(layers):
        w_ih, b_ih = src[f"gru.weight_ih_l{layer}"].double(), src[f"gru.bias_ih_l{layer}"].double()
        w_hh, b_hh = src[f"gru.weight_hh_l{layer}"].double(), src[f"gru.bias_hh_l{layer}"].double()
        if layer == 0:
            w_ih = w_ih / sigma
            b_ih = b_ih - w_ih @ mu
        for g in range(3):  # r, z, n
            out_rows = slice(g * k * h + i * h, g * k * h + (i + 1) * h)
            gate = slice(g * h, (g + 1) * h)
            cols = slice(None) if layer == 0 else rows
            state[f"gru.weight_ih_l{layer}"][out_rows, cols] = w_ih[gate].float()
            state[f"gru.bias_ih_l{layer}"][out_rows] = b_ih[gate].float()
            state[f"gru.weight_hh_l{layer}"][out_rows, rows] = w_hh[gate].float()
            state[f"gru.bias_hh_l{layer}"][out_rows] = b_hh[gate].float()
    scale, offset = float(member.output_norm.std[0]), float(member.output_norm.mean[0])
    heads_w[i, rows] = src["head.weight"][0].double() * scale
    heads_b[i] = float(src["head.bias"][0]) * scale + offset


def member_plan(cfg: TrainCfg, train_logs: list[JointLog], members: int, bootstrap: bool = False) -> list[tuple]:
    """``(cfg, runs)`` of each of ``members`` members, seeds ``cfg.seed + k``.

    With ``bootstrap`` each member's training runs are drawn with replacement and the physics is fitted once on all
    runs, then fixed (members must share it).
    """
    from .baselines import fit_physics

    if members < 1:
        raise UserInputError(f"train.ensemble is {members}; expected at least 1 member.")
    if members > 1 and not cfg.kind.ensembles:
        raise UserInputError(
            f"train.ensemble is {members} with train.model_type {cfg.model_type!r}; ensembles are of gru_pd models."
        )
    base = cfg
    if bootstrap and cfg.physics.fit:
        base = dataclasses.replace(cfg, physics=dataclasses.replace(fit_physics(train_logs, cfg.physics), fit=False))
    plan = []
    for k in range(members):
        runs = train_logs
        if bootstrap:
            pick = np.random.default_rng(cfg.seed + k).integers(0, len(train_logs), len(train_logs))
            runs = [train_logs[i] for i in pick]
        plan.append((dataclasses.replace(base, seed=cfg.seed + k), runs))
    return plan


def train_ensemble(
    cfg: TrainCfg,
    train_logs: list[JointLog],
    val_logs: list[JointLog] | None = None,
    members: int = 3,
    bootstrap: bool = False,
) -> Ensemble:
    """Train the members of :func:`member_plan` (no run directories) and return them as an :class:`Ensemble`."""
    from .trainer import train

    plan = member_plan(cfg, train_logs, members, bootstrap)
    return Ensemble([train(member_cfg, runs, val_logs).model for member_cfg, runs in plan])


def _errors_and_spreads(
    ensemble: Ensemble, logs: list[JointLog], member_runs: list[list[JointLog]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``|tau - mean|`` and the members' standard deviation [N·m] on the valid frames of ``logs``, pooled.

    Both of the members' joint torques (:meth:`Ensemble.joint_torque_members`), the torque the metrics score.

    With ``member_runs`` (each member's training runs) a run is predicted only by the members that did not train on
    it (out of bag), and a run every member trained on is left out.
    """
    errs, stds = [np.zeros(0)], [np.zeros(0)]
    for log in logs:
        preds = ensemble.joint_torque_members(log)
        if member_runs is not None:
            out_of_bag = np.asarray([all(r is not log for r in runs) for runs in member_runs])
            if not out_of_bag.any():
                continue
            preds = preds[out_of_bag]
        m = loss_mask(log)
        errs.append(np.abs(log.tau[m, 0] - preds.mean(axis=0)[m]))
        stds.append(preds.std(axis=0)[m])
    return np.concatenate(errs), np.concatenate(stds)


def noise_std(ensemble: Ensemble, logs: list[JointLog], member_runs: list[list[JointLog]] | None = None) -> float:
    """The label-noise term [N·m] the members' spread lacks on ``logs``: ``sqrt(max(0, mse - mean(std²)))``.

    Members trained on the same runs agree where the data is noisy; a spread that is to cover the error of a new
    frame needs this (homoscedastic) term too. Fit it on runs the members did not train on: validation runs, or the
    training runs themselves with ``member_runs`` (bootstrap members: each run predicted by the members that did not
    draw it; with fewer members than the whole ensemble the estimate errs on the wide side). 0 with no such frames.
    """
    err, std = _errors_and_spreads(ensemble, logs, member_runs)
    if not err.size:
        return 0.0
    return float(np.sqrt(max(0.0, np.mean(err**2) - np.mean(std**2))))


def calibration(ensemble: Ensemble, logs: list[JointLog], noise: float | None = None) -> dict[str, float]:
    """Held-out calibration of the ensemble's spread, pooled over the valid frames of ``logs``.

    The spread is ``sqrt(std² + noise²)``: the members' standard deviation and a label-noise term
    (:func:`noise_std`, fitted elsewhere; None: the ensemble's :attr:`~Ensemble.noise`). Returns ``within_1sigma``
    and ``within_2sigma`` (share of frames whose torque error ``|tau - mean|`` is at most 1 / 2 spreads; a
    calibrated Gaussian spread gives 0.683 / 0.954), ``mean_std`` [N·m] (the average spread), ``rmse`` [N·m] (the
    mean's error) and ``frames``.
    """
    err, std = _errors_and_spreads(ensemble, logs)
    noise = ensemble.noise if noise is None else noise
    std = np.sqrt(std**2 + noise**2)
    return {
        "within_1sigma": float(np.mean(err <= std)),
        "within_2sigma": float(np.mean(err <= 2 * std)),
        "mean_std": float(np.mean(std)),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "frames": len(err),
    }
