"""The analytic baselines of a validation (IdealPD, DC motor, PD fitted on training runs, in-sample oracle PD).

Each takes its per-run gains from the cfg or the log meta (:func:`log_gains`); :func:`baseline_models` builds the
ones a :class:`~learned_actuators.validation.validation_cfg.ValidationCfg` asks for, or says why one cannot run.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from isaaclab.actuators import ActuatorBaseCfg, DCMotorCfg, IdealPDActuatorCfg

from .metrics import fit_pd_on_training, fit_pd_per_gain
from .trajectories import TrajectoryBatch
from .validation_cfg import ValidationCfg

if TYPE_CHECKING:
    from .replay import Gains

__all__ = ["BASELINES", "ORACLES", "baseline_models", "has_logged_gain", "log_gains"]

BASELINES = ("ideal_pd", "dc_motor", "fitted_pd", "fitted_pd_oracle")
ORACLES = ("fitted_pd_oracle",)
"""Baselines fitted on the validated runs themselves (kind ``"oracle"``: shown, never in the verdict)."""


def _meta_float(meta: dict, *keys: str) -> float | None:
    for key in keys:
        value = meta.get(key)
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    return None


def _gain_metas(batch: TrajectoryBatch, meta: dict) -> list[dict]:
    """The metas holding one run's gains: one per joint of a multi-joint log (with its per-joint constants)."""
    from learned_actuators.data.splits import _joint_meta as joint_meta  # the per-joint meta of split_joints

    return [joint_meta(meta, name) for name in batch.joint_names] if len(batch.joint_names) > 1 else [meta]


def has_logged_gain(batch: TrajectoryBatch) -> bool:
    """Whether some run (or joint of a multi-joint run) logs a numeric gain ``kp``, which a gain scale applies to."""
    if batch.kp is not None and np.isfinite(batch.kp).any():
        return True
    return any(_meta_float(m, "kp") is not None for meta in batch.metas for m in _gain_metas(batch, meta))


def log_gains(batch: TrajectoryBatch, cfg: ValidationCfg) -> Gains | None:
    """Per-run gains from the cfg (``kp``, ``kd``) or the log meta (``kp_scale · meta["kp"]``, ``meta["kd"]``).

    A multi-joint log gives every joint its own gain (its per-joint constants, ``meta["joints"][<name>]``).

    When the batch logs gains per step (``kp``/``kd`` channels, :class:`~.trajectories.TrajectoryBatch`), the gains
    are per step, (E, T, J): the logged values (``kp`` times ``kp_scale``) where logged, the run's constant gain
    elsewhere (a run without ``meta["kp"]`` takes the median of its ``kp`` channel); a cfg ``kp``/``kd`` still wins.

    Returns:
        ``(kp, kd)`` of shape (E,) each (one-joint logs) or (E, J), per step (E, T, J), or None when some run or joint
        has no gain (and the cfg sets none).
    """
    multi = len(batch.joint_names) > 1
    scale = cfg.kp_scale if cfg.kp_scale is not None else 1.0
    kp, kd = [], []
    for e, meta in enumerate(batch.metas):
        metas = _gain_metas(batch, meta)
        raws = [_meta_float(m, "kp") for m in metas]
        if batch.kp is not None:  # a run without a constant gain: the median of its logged per-step gains
            logged = batch.kp[e, : batch.lengths[e]]
            raws = [
                r if r is not None or np.isnan(logged[:, j]).all() else float(np.nanmedian(logged[:, j]))
                for j, r in enumerate(raws)
            ]
        if cfg.kp is None and None in raws:
            return None
        row_kp = [cfg.kp if cfg.kp is not None else scale * raw for raw in raws]
        row_kd = [cfg.kd if cfg.kd is not None else (_meta_float(m, "kd") or 0.0) for m in metas]
        kp.append(row_kp if multi else row_kp[0])
        kd.append(row_kd if multi else row_kd[0])
    kp, kd = np.asarray(kp, dtype=float), np.asarray(kd, dtype=float)
    return _per_step(batch, cfg, kp, kd, scale)


def _per_step(batch: TrajectoryBatch, cfg: ValidationCfg, kp: np.ndarray, kd: np.ndarray, scale: float) -> Gains:
    """Constant gains ``kp``, ``kd`` ((E,) or (E, J)) with the batch's per-step logged gains laid over them."""
    step_kp = batch.kp if cfg.kp is None else None
    step_kd = batch.kd if cfg.kd is None else None
    if step_kp is None and step_kd is None:
        return kp, kd
    shape = batch.q.shape

    def over(constant: np.ndarray, logged: np.ndarray | None, factor: float) -> np.ndarray:
        full = np.broadcast_to(constant.reshape(shape[0], 1, -1), shape).copy()
        return full if logged is None else np.where(np.isnan(logged), full, factor * logged)

    return over(kp, step_kp, scale), over(kd, step_kd, 1.0)


def _ideal_pd(gains: Gains | None) -> tuple | str:
    """The IdealPD baseline on the logged gains, or why it cannot run."""
    if gains is None:
        return "the log has no gain (meta 'kp') and ValidationCfg.kp is not set"
    return IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=0.0, damping=0.0), gains, {}


def _dc_motor(meta: dict, cfg: ValidationCfg, gains: Gains | None) -> tuple | str:
    """The DC-motor baseline on the logged gains with the cfg's (else the log's) torque-speed curve, or why not."""
    effort = cfg.effort_limit if cfg.effort_limit is not None else _meta_float(meta, "stall_torque", "effort_limit")
    speed = (
        cfg.velocity_limit if cfg.velocity_limit is not None else _meta_float(meta, "no_load_speed", "velocity_limit")
    )
    if gains is None or effort is None or speed is None:
        return (
            "needs the log's gain and a stall torque and no-load speed (ValidationCfg.effort_limit / "
            "velocity_limit or meta 'stall_torque' / 'no_load_speed')"
        )
    dc = DCMotorCfg(
        joint_names_expr=[".*"],
        stiffness=0.0,
        damping=0.0,
        saturation_effort=effort,
        actuator_effort_limit=effort,
        actuator_velocity_limit=speed,
    )
    return dc, gains, {"stall_torque": effort, "no_load_speed": speed}


def _fitted_pd(batch: TrajectoryBatch, fit_batch: TrajectoryBatch | None) -> tuple | str:
    """The PD fitted on the training runs ``fit_batch`` only, or why it cannot run."""
    if fit_batch is None:
        return (
            "no training runs given (run_validation(..., fit_logs=...), validate_actuator.py --train-data): the "
            "fitted PD is fitted on training runs only; fitted_pd_oracle is the in-sample fit"
        )
    if fit_batch.tau is None:
        return "the training runs have no torque label to fit the gains on"
    kp, kd, how = fit_pd_on_training(batch, fit_batch)
    fitted = {"kp": kp.tolist(), "kd": kd.tolist(), "fit": how, "fit_runs": list(fit_batch.names)}
    return IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=0.0, damping=0.0), (kp, kd), fitted


def _fitted_pd_oracle(batch: TrajectoryBatch) -> tuple | str:
    """The PD fitted on the validated runs themselves (in-sample oracle), or why it cannot run."""
    if batch.tau is None:
        return "the log has no torque label to fit the gains on"
    kp, kd = fit_pd_per_gain(batch, batch)
    fitted = {
        "kp": kp.tolist(),
        "kd": kd.tolist(),
        "fit": "least squares per logged gain on the validated runs themselves (in-sample oracle)",
    }
    return IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=0.0, damping=0.0), (kp, kd), fitted


def baseline_models(
    batch: TrajectoryBatch, cfg: ValidationCfg, fit_batch: TrajectoryBatch | None = None
) -> tuple[dict[str, tuple[ActuatorBaseCfg, Gains | None, dict]], dict[str, str]]:
    """The analytic baselines ``cfg.baselines`` for this batch.

    ``fit_batch``: the training runs ``fitted_pd`` is fitted on (it is skipped without them); ``fitted_pd_oracle``
    is fitted on ``batch`` itself.

    Returns:
        ``({name: (actuator cfg, per-run gains, reported params)}, {name: reason it cannot run})``.
    """
    unknown = set(cfg.baselines) - set(BASELINES)
    if unknown:
        raise ValueError(f"ValidationCfg.baselines has unknown names {sorted(unknown)}; known: {BASELINES}.")
    gains = log_gains(batch, cfg)
    build = {
        "ideal_pd": lambda: _ideal_pd(gains),
        "dc_motor": lambda: _dc_motor(batch.metas[0], cfg, gains),
        "fitted_pd": lambda: _fitted_pd(batch, fit_batch),
        "fitted_pd_oracle": lambda: _fitted_pd_oracle(batch),
    }
    models, skipped = {}, {}
    for name in (n for n in BASELINES if n in cfg.baselines):
        built = build[name]()
        if isinstance(built, str):
            skipped[name] = built
        else:
            models[name] = built
    return models, skipped
