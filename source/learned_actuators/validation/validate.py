"""One-call validation: replay a data set with each model and the analytic baselines, compute every metric.

.. code-block:: python

    from learned_actuators.validation import ValidationCfg, run_validation, write_report

    result = run_validation(logs, {"gru_pd": my_actuator_cfg}, ValidationCfg(kp_scale=0.0036))
    write_report(result, "outputs/validation")
"""

from __future__ import annotations

import logging
import math
import warnings

import numpy as np

from isaaclab.actuators import ActuatorBaseCfg, DCMotorCfg, IdealPDActuatorCfg

from learned_actuators.data.joint_log import JointLog

from .metrics import fit_pd_gains
from .replay import Gains, bench_params, physics_dt, replay, resolve_replica, single_step_torque
from .results import ValidationResult, evaluate_model
from .trajectories import TrajectoryBatch
from .validation_cfg import ValidationCfg

__all__ = ["baseline_models", "log_gains", "run_validation"]

logger = logging.getLogger(__name__)

BASELINES = ("ideal_pd", "dc_motor", "fitted_pd")


def _meta_float(meta: dict, *keys: str) -> float | None:
    for key in keys:
        value = meta.get(key)
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    return None


def log_gains(batch: TrajectoryBatch, cfg: ValidationCfg) -> Gains | None:
    """Per-run gains from the cfg (``kp``, ``kd``) or the log meta (``kp_scale · meta["kp"]``, ``meta["kd"]``).

    Returns:
        ``(kp, kd)`` of shape (E,) each, or None when some run has no gain (and the cfg sets none).
    """
    kp, kd = [], []
    for meta in batch.metas:
        raw = _meta_float(meta, "kp")
        run_kp = cfg.kp if cfg.kp is not None else (None if raw is None else cfg.kp_scale * raw)
        if run_kp is None:
            return None
        kp.append(run_kp)
        kd.append(cfg.kd if cfg.kd is not None else (_meta_float(meta, "kd") or 0.0))
    return np.asarray(kp), np.asarray(kd)


def _gain_groups(batch: TrajectoryBatch) -> list[np.ndarray]:
    """Runs sharing a logged gain (``meta["kp"]``), as index arrays; one group when no run has a gain."""
    keys = [_meta_float(meta, "kp") for meta in batch.metas]
    groups: dict = {}
    for e, key in enumerate(keys):
        groups.setdefault(key, []).append(e)
    return [np.asarray(v) for v in groups.values()]


def baseline_models(
    batch: TrajectoryBatch, cfg: ValidationCfg
) -> tuple[dict[str, tuple[ActuatorBaseCfg, Gains | None, dict]], dict[str, str]]:
    """The analytic baselines ``cfg.baselines`` for this batch.

    Returns:
        ``({name: (actuator cfg, per-run gains, reported params)}, {name: reason it cannot run})``.
    """
    unknown = set(cfg.baselines) - set(BASELINES)
    if unknown:
        raise ValueError(f"ValidationCfg.baselines has unknown names {sorted(unknown)}; known: {BASELINES}.")
    models, skipped = {}, {}
    gains = log_gains(batch, cfg)
    meta = batch.metas[0]
    if "ideal_pd" in cfg.baselines:
        if gains is None:
            skipped["ideal_pd"] = "the log has no gain (meta 'kp') and ValidationCfg.kp is not set"
        else:
            models["ideal_pd"] = (IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=0.0, damping=0.0), gains, {})
    if "dc_motor" in cfg.baselines:
        effort = cfg.effort_limit if cfg.effort_limit is not None else _meta_float(meta, "stall_torque", "effort_limit")
        speed = (
            cfg.velocity_limit
            if cfg.velocity_limit is not None
            else _meta_float(meta, "no_load_speed", "velocity_limit")
        )
        if gains is None or effort is None or speed is None:
            skipped["dc_motor"] = (
                "needs the log's gain and a stall torque and no-load speed (ValidationCfg.effort_limit / "
                "velocity_limit or meta 'stall_torque' / 'no_load_speed')"
            )
        else:
            dc = DCMotorCfg(
                joint_names_expr=[".*"],
                stiffness=0.0,
                damping=0.0,
                saturation_effort=effort,
                actuator_effort_limit=effort,
                actuator_velocity_limit=speed,
            )
            models["dc_motor"] = (dc, gains, {"stall_torque": effort, "no_load_speed": speed})
    if "fitted_pd" in cfg.baselines:
        if batch.tau is None:
            skipped["fitted_pd"] = "the log has no torque label to fit the gains on"
        else:
            num_joints = len(batch.joint_names)
            kp = np.zeros((batch.num_envs, num_joints))
            kd = np.zeros_like(kp)
            for group in _gain_groups(batch):
                sel = np.s_[group]
                kp[sel], kd[sel] = fit_pd_gains(
                    batch.q[sel], batch.qd[sel], batch.q_target[sel], batch.tau[sel], batch.mask[sel]
                )
            fitted = {"kp": kp.tolist(), "kd": kd.tolist(), "fit": "least squares per logged gain"}
            models["fitted_pd"] = (
                IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=0.0, damping=0.0),
                (kp, kd),
                fitted,
            )
    return models, skipped


def run_validation(
    logs: list[JointLog] | TrajectoryBatch,
    models: dict[str, ActuatorBaseCfg],
    cfg: ValidationCfg | None = None,
) -> ValidationResult:
    """Validate ``models`` (and the baselines of ``cfg``) on the logged runs in the simulator.

    Each model is replayed open loop on every run in parallel (one env per run) and fed the logged state for
    the single-step metric; the baselines run the same way in the same call.

    Args:
        logs: The runs (or a prepared batch).
        models: Actuator cfgs under test by name (any explicit Isaac Lab actuator cfg, ours included).
        cfg: Validation settings. Defaults to :class:`ValidationCfg`.

    Raises:
        LogFormatError: for logs that cannot be replayed (names the file and the field).
        ValueError: for a rate the simulator cannot reach, or a model name clashing with a baseline.
    """
    cfg = cfg or ValidationCfg()
    batch = logs if isinstance(logs, TrajectoryBatch) else TrajectoryBatch.from_logs(logs)
    dt = physics_dt(batch.dt, cfg, batch.sources[0])
    replica = resolve_replica(batch, cfg)
    settings = {"cfg": cfg.to_dict(), "replica": replica}
    if replica == "bench":
        settings["bench"] = bench_params(batch, cfg).__dict__
    baselines, skipped = baseline_models(batch, cfg)
    clash = set(models) & set(baselines)
    if clash:
        raise ValueError(f"model names {sorted(clash)} clash with baseline names; rename them.")
    gains = log_gains(batch, cfg) if cfg.gains_from_log else None
    todo = [(name, "model", c, gains, {}) for name, c in models.items()]
    todo += [(name, "baseline", c, g, p) for name, (c, g, p) in baselines.items()]
    results = []
    for name, kind, actuator_cfg, run_gains, params in todo:
        logger.info("validating %s (%s) on %d runs", name, kind, batch.num_envs)
        tau_single = single_step_torque(batch, actuator_cfg, cfg, name, run_gains)
        rollout = replay(batch, actuator_cfg, cfg, name, run_gains)
        results.append(
            evaluate_model(
                name, kind, batch, rollout.q, rollout.qd, tau_single, growth_bins=cfg.growth_bins, params=params
            )
        )
        if "diverged" in results[-1].params:
            warnings.warn(f"model {name!r}: the simulated rollout diverged (non-finite state).", stacklevel=2)
    for name, reason in skipped.items():
        logger.warning("baseline %s not run: %s", name, reason)
    return ValidationResult(
        batch=batch, models=results, replica=replica, physics_dt=dt, skipped=skipped, settings=settings
    )
