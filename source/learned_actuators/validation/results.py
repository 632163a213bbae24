"""Results of a validation run: per-model metrics and trajectories (pure NumPy, no simulator)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .metrics import ErrorGrowth, error_growth, rollout_errors, torque_errors
from .trajectories import TrajectoryBatch

__all__ = ["TABLE_COLUMNS", "ModelResult", "ValidationResult", "evaluate_model"]

TABLE_COLUMNS = (
    ("model", "model", ""),
    ("kind", "kind", ""),
    ("pos_rmse", "pos RMSE", "rad"),
    ("pos_mae", "pos MAE", "rad"),
    ("vel_rmse", "vel RMSE", "rad/s"),
    ("vel_mae", "vel MAE", "rad/s"),
    ("pos_growth_exponent", "pos growth p", ""),
    ("torque_rmse", "1-step τ RMSE", "N·m"),
    ("torque_r2", "1-step τ R²", ""),
)
"""Columns of the results table: (key, header, unit)."""


@dataclass
class ModelResult:
    """One model (or baseline) validated on the batch."""

    name: str
    """Model label."""
    kind: str
    """``"model"`` (under test) or ``"baseline"``."""
    q_sim: np.ndarray
    """Simulated joint positions [rad], shape (E, T, J)."""
    qd_sim: np.ndarray
    """Simulated joint velocities [rad/s], shape (E, T, J)."""
    rollout: dict
    """:func:`~learned_actuators.validation.metrics.rollout_errors` output."""
    pos_growth: ErrorGrowth
    """Position error growth."""
    vel_growth: ErrorGrowth
    """Velocity error growth."""
    single_step: dict | None = None
    """:func:`~learned_actuators.validation.metrics.torque_errors` output, None without a torque label."""
    tau_single: np.ndarray | None = None
    """Single-step model torque [N·m], shape (E, T, J)."""
    params: dict = field(default_factory=dict)
    """Parameters worth reporting (e.g. fitted gains)."""

    def summary(self) -> dict:
        """Aggregated metrics: one row of the results table."""
        row = {"model": self.name, "kind": self.kind}
        for key in ("pos_rmse", "pos_mae", "vel_rmse", "vel_mae"):
            row[key] = self.rollout[key]
        row["pos_growth_exponent"] = self.pos_growth.exponent
        row["torque_rmse"] = self.single_step["torque_rmse"] if self.single_step else None
        row["torque_r2"] = self.single_step["torque_r2"] if self.single_step else None
        return row


@dataclass
class ValidationResult:
    """Everything a report needs."""

    batch: TrajectoryBatch
    """The logged runs."""
    models: list[ModelResult]
    """Validated models and baselines, in run order."""
    replica: str
    """Simulated set-up (``"bench"`` or ``"go2"``)."""
    physics_dt: float
    """Physics step [s]."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Baselines or models that could not run, with the reason."""
    settings: dict = field(default_factory=dict)
    """Resolved settings (replica parameters, cfg) for provenance."""

    def table(self) -> list[dict]:
        """Results table rows (see :data:`TABLE_COLUMNS`)."""
        return [m.summary() for m in self.models]

    def model(self, name: str) -> ModelResult:
        """The result of the model called ``name``."""
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(f"no model {name!r}; have {[m.name for m in self.models]}.")

    def to_json_dict(self) -> dict:
        """JSON-serialisable metrics of every model (NaN/inf written as null / strings by the caller)."""
        batch = self.batch
        return {
            "replica": self.replica,
            "physics_dt": self.physics_dt,
            "log_dt": batch.dt,
            "runs": [
                {"name": n, "source": s, "length": int(length), "counted_frames": int(m.sum())}
                for n, s, length, m in zip(batch.names, batch.sources, batch.lengths, batch.mask, strict=True)
            ],
            "joint_names": batch.joint_names,
            "settings": self.settings,
            "skipped": self.skipped,
            "models": {
                m.name: {
                    "kind": m.kind,
                    "summary": m.summary(),
                    "rollout": m.rollout,
                    "pos_error_growth": m.pos_growth.to_dict(),
                    "vel_error_growth": m.vel_growth.to_dict(),
                    "single_step": m.single_step,
                    "params": m.params,
                }
                for m in self.models
            },
        }


def evaluate_model(
    name: str,
    kind: str,
    batch: TrajectoryBatch,
    q_sim: np.ndarray,
    qd_sim: np.ndarray,
    tau_single: np.ndarray | None = None,
    growth_bins: int = 20,
    params: dict | None = None,
) -> ModelResult:
    """Compute every metric of one model from its simulated rollout and single-step torque."""
    rollout = rollout_errors(batch.q, batch.qd, q_sim, qd_sim, batch.mask)
    diverged = not math.isfinite(rollout["pos_rmse"])
    finite_q = np.where(np.isfinite(q_sim), q_sim, np.inf)
    finite_qd = np.where(np.isfinite(qd_sim), qd_sim, np.inf)
    pos_growth = error_growth(batch.q, finite_q, batch.mask, batch.dt, num_bins=growth_bins)
    vel_growth = error_growth(batch.qd, finite_qd, batch.mask, batch.dt, num_bins=growth_bins)
    single = None
    if tau_single is not None and batch.tau is not None:
        single = torque_errors(tau_single, batch.tau, batch.mask)
    out_params = dict(params or {})
    if diverged:
        out_params["diverged"] = True
    return ModelResult(
        name=name,
        kind=kind,
        q_sim=q_sim,
        qd_sim=qd_sim,
        rollout=rollout,
        pos_growth=pos_growth,
        vel_growth=vel_growth,
        single_step=single,
        tau_single=tau_single,
        params=out_params,
    )
