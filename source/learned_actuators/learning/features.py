"""Per-step network inputs and targets, identical for training (whole sequences) and rollout (one step at a time)."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ..data.joint_log import JointLog
from ..errors import UserInputError
from ..physics import PhysicsParams, pd_torque, physical_torque
from .models_cfg import PhysicsCfg

__all__ = [
    "gru_step_features",
    "loss_mask",
    "mlp_history",
    "run_physics",
    "tau_phys",
]


def run_physics(log: JointLog, cfg: PhysicsCfg) -> PhysicsParams:
    """The run's :class:`PhysicsParams`: ``kp`` from the cfg or ``kp_scale * meta["kp"]``.

    Raises:
        UserInputError: when the cfg has no ``kp`` and the run has no numeric ``meta["kp"]``.
    """
    if cfg.kp is not None:
        kp = float(cfg.kp)
    else:
        raw = log.meta.get("kp")
        if isinstance(raw, dict) or raw is None:
            raise UserInputError(
                f"{log.source}: run has no numeric metadata 'kp' and the physics cfg has no 'kp'; set physics.kp."
            )
        kp = float(cfg.kp_scale) * float(raw)
    return cfg.at_gain(kp)


def tau_phys(q, qd, q_target, kp, params: PhysicsParams):
    """``tau_phys`` [N·m] of the shared physics with a (possibly per-row) gain ``kp``; torch or NumPy in, same out."""
    as_np = isinstance(q, np.ndarray)
    t = (lambda a: torch.as_tensor(a, dtype=torch.float64)) if as_np else (lambda a: a)
    out = physical_torque(
        t(q),
        t(qd),
        t(q_target),
        t(kp) if isinstance(kp, np.ndarray) else kp,
        params.kd,
        params.k_spring,
        params.theta0,
        params.stall_torque,
        params.no_load_speed,
        params.friction,
        params.friction_velocity,
    )
    return out.numpy() if as_np else out


def gru_step_features(
    names: list[str], q: torch.Tensor, qd: torch.Tensor, q_target: torch.Tensor, kp: torch.Tensor, params: PhysicsParams
) -> torch.Tensor:
    """Raw GRU inputs (..., F) in the order of ``names`` from broadcastable (...) tensors.

    Names as in :data:`learned_actuators.network_file.FEATURES`: ``tau_pd`` is the plain PD torque
    ``kp (q* - q) - kd qd`` [N·m] (no torque-speed curve, no spring), ``tau_phys`` the whole physics torque
    (:func:`tau_phys`: PD saturated by the torque-speed curve, plus spring and friction), ``kp``/``kd`` the run's
    gains.
    """
    cols = []
    for name in names:
        if name == "q":
            cols.append(q)
        elif name == "q_target":
            cols.append(q_target)
        elif name == "qd":
            cols.append(qd)
        elif name == "pos_error":
            cols.append(q_target - q)
        elif name == "tau_pd":
            cols.append(pd_torque(q, qd, q_target, kp, params.kd))
        elif name == "tau_phys":
            cols.append(tau_phys(q, qd, q_target, kp, params))
        elif name == "kp":
            cols.append(kp * torch.ones_like(q))
        elif name == "kd":
            cols.append(params.kd * torch.ones_like(q))
        else:
            raise UserInputError(
                f"unknown GRU feature {name!r}; expected q, q_target, qd, pos_error, tau_pd, tau_phys, kp or kd."
            )
    return torch.stack(cols, dim=-1)


def mlp_history(pos_error: np.ndarray, vel: np.ndarray, input_idx: list[int]) -> np.ndarray:
    """``[e(t-i) for i in input_idx] + [v(t-i) for i in input_idx]`` per frame, shape (T, 2 * len(input_idx)).

    Before the first frame the history is zero, as in the actuator after a reset.
    """
    cols = [
        np.concatenate([np.zeros(i), series[: len(series) - i]]) if i else series
        for series in (pos_error, vel)
        for i in input_idx
    ]
    return np.stack(cols, axis=-1)


def loss_mask(log: JointLog) -> np.ndarray:
    """Frames usable for losses and metrics: ``valid`` and a finite torque label, shape (T,)."""
    mask = np.ones(len(log), dtype=bool) if log.valid is None else log.valid.copy()
    if log.tau is not None:
        mask &= np.isfinite(log.tau[:, 0])
    return mask


def with_kp(cfg: PhysicsCfg, **changes) -> PhysicsCfg:
    """Copy of a physics cfg with some fields changed."""
    return dataclasses.replace(cfg, **changes)
