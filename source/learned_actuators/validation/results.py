"""Results of a validation run: per-model metrics and trajectories (pure NumPy, no simulator)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .metrics import ErrorGrowth, error_growth, rollout_errors, torque_errors
from .trajectories import TrajectoryBatch, pad_steps
from .verdict import Verdict, compute_verdict, verdict_labels

__all__ = ["KINDS", "TABLE_COLUMNS", "ModelResult", "ValidationResult", "evaluate_model", "merge_results"]

KINDS = ("model", "baseline", "oracle")
"""Row kinds: a learned model under test, a baseline fitted or set from training data only, an in-sample oracle
(fitted on the very runs shown; an optimistic reference that never enters the verdict)."""

TABLE_COLUMNS = (
    ("model", "model", ""),
    ("kind", "kind", ""),
    ("n_runs", "runs", ""),
    ("pos_rmse_run_mean", "mean of run pos RMSE", "rad"),
    ("pos_rmse_run_max", "worst run pos RMSE", "rad"),
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
    """``"model"`` (under test), ``"baseline"`` (training data only) or ``"oracle"`` (in-sample), see :data:`KINDS`."""
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
        per_run = [v if math.isfinite(v) else math.inf for v in map(float, self.rollout["pos_rmse_per_traj"])]
        row["n_runs"] = len(per_run)
        row["pos_rmse_run_mean"] = float(np.mean(per_run)) if per_run else math.nan
        row["pos_rmse_run_max"] = float(np.max(per_run)) if per_run else math.nan
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
    folds: list[str] = field(default_factory=list)
    """Fold (held-out group) of each run when the runs come from several folds (:func:`merge_results`), else empty."""
    provenance: dict = field(default_factory=dict)
    """Code, package versions, date and data files (:func:`~learned_actuators.validation.provenance.provenance`)."""
    decimation: int = 1
    """Physics steps per log sample (``log dt / physics_dt``)."""
    benches: list[str] = field(default_factory=list)
    """Bench geometry (label) of each env when the envs ran on more than one geometry, else empty."""

    def verdict(self) -> Verdict:
        """Which learned model is best on these runs by mean per-run rollout RMSE, vs the best non-oracle baseline.

        Models listed in ``settings["per_gain_models"]`` are named "(one net per gain)" in its sentences.
        """
        per_run = {m.name: m.rollout["pos_rmse_per_traj"] for m in self.models}
        return compute_verdict(per_run, {m.name: m.kind for m in self.models}, verdict_labels(self.settings))

    def table_columns(self) -> tuple:
        """Columns of :meth:`table`: :data:`TABLE_COLUMNS`, with a ``bench`` column when there are several benches."""
        if not self.benches:
            return TABLE_COLUMNS
        return (*TABLE_COLUMNS[:2], ("bench", "bench", ""), *TABLE_COLUMNS[2:])

    def table(self, by_bench: bool = True) -> list[dict]:
        """Results table rows (see :meth:`table_columns`).

        One per model, or (``by_bench`` and several bench geometries) one per model and geometry.
        """
        order = {kind: i for i, kind in enumerate(KINDS)}
        models = sorted(self.models, key=lambda m: order.get(m.kind, len(order)))
        if not self.benches or not by_bench:
            return [m.summary() for m in models]
        per_bench = self.per_bench()
        return [per_bench[m.name][label] for m in models for label in per_bench[m.name]]

    def per_bench(self) -> dict[str, dict[str, dict]]:
        """``{model: {bench label: summary row over that bench's envs}}`` (empty with one bench)."""
        if not self.benches:
            return {}
        labels = list(dict.fromkeys(self.benches))
        index = {label: [e for e, b in enumerate(self.benches) if b == label] for label in labels}
        out = {}
        for m in self.models:
            out[m.name] = {}
            for label, envs in index.items():
                sub = self.batch.take(envs)
                single = m.tau_single[envs] if m.tau_single is not None else None
                part = evaluate_model(m.name, m.kind, sub, m.q_sim[envs], m.qd_sim[envs], single)
                out[m.name][label] = {**part.summary(), "bench": label}
        return out

    def model(self, name: str) -> ModelResult:
        """The result of the model called ``name``."""
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(f"no model {name!r}; have {[m.name for m in self.models]}.")

    def to_json_dict(self) -> dict:
        """JSON-serialisable metrics of every model (NaN/inf written as null / strings by the caller)."""
        batch = self.batch
        per_bench = self.per_bench()
        return {
            "verdict": self.verdict().to_dict(),
            "provenance": self.provenance,
            "replica": self.replica,
            "physics_dt": self.physics_dt,
            "log_dt": batch.dt,
            "decimation": self.decimation,
            "runs": [
                {"name": n, "source": s, "length": int(length), "counted_frames": int(m.sum())}
                | ({"fold": self.folds[e]} if self.folds else {})
                | ({"bench": self.benches[e]} if self.benches else {})
                for e, (n, s, length, m) in enumerate(
                    zip(batch.names, batch.sources, batch.lengths, batch.mask, strict=True)
                )
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
                | ({"per_bench": per_bench[m.name]} if per_bench else {})
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


def merge_results(results: list[ValidationResult], folds: list[str], growth_bins: int = 20) -> ValidationResult:
    """One result over the test runs of several folds (each validated with the models trained without it).

    Every fold must have validated the same model names; the metrics are recomputed over all runs, the fold of each
    run is kept (:attr:`ValidationResult.folds`), and each model's parameters are kept per fold.

    Raises:
        ValueError: for a different number of results and folds, different model names or kinds, or different
            physics steps or replicas.
    """
    if not results or len(results) != len(folds):
        raise ValueError(f"merge_results: {len(results)} results for {len(folds)} folds; give one result per fold.")
    names = [(m.name, m.kind) for m in results[0].models]
    for fold, r in zip(folds, results, strict=True):
        if [(m.name, m.kind) for m in r.models] != names:
            raise ValueError(
                f"merge_results: fold {fold!r} validated {[(m.name, m.kind) for m in r.models]}, fold {folds[0]!r} "
                f"{names}; every fold must validate the same models."
            )
        if r.replica != results[0].replica or not math.isclose(r.physics_dt, results[0].physics_dt):
            raise ValueError(f"merge_results: fold {fold!r} uses another replica or physics step than {folds[0]!r}.")
    batch = TrajectoryBatch.concat([r.batch for r in results])
    models = []
    for i, (name, kind) in enumerate(names):
        parts = [r.models[i] for r in results]

        def join(attr: str, parts=parts) -> np.ndarray | None:
            arrays = [getattr(p, attr) for p in parts]
            if any(a is None for a in arrays):
                return None
            return np.concatenate([pad_steps(a, batch.num_steps) for a in arrays])

        params = {fold: p.params for fold, p in zip(folds, parts, strict=True)}
        models.append(
            evaluate_model(
                name,
                kind,
                batch,
                join("q_sim"),
                join("qd_sim"),
                join("tau_single"),
                growth_bins=growth_bins,
                params={"folds": params},
            )
        )
    skipped = {
        f"{name} ({fold})": why for fold, r in zip(folds, results, strict=True) for name, why in r.skipped.items()
    }
    return ValidationResult(
        batch=batch,
        models=models,
        replica=results[0].replica,
        physics_dt=results[0].physics_dt,
        skipped=skipped,
        settings={"folds": {fold: r.settings for fold, r in zip(folds, results, strict=True)}},
        folds=[fold for fold, r in zip(folds, results, strict=True) for _ in range(r.batch.num_envs)],
        provenance=results[0].provenance,
        decimation=results[0].decimation,
    )
