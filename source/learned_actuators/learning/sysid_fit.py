"""Output-error identification of :class:`~learned_actuators.learning.sysid.TrajectoryPhysics` on training runs.

Every training run is simulated from its first logged state, driven by its logged command, to its last torque-enabled
frame (the rollout's integrator, all runs and all finite-difference parameter sets in one batch); the residual is the
position error on the torque-enabled frames, each run weighted equally. ``scipy.optimize.least_squares`` (trust region
reflective, bounds of :data:`~learned_actuators.learning.sysid.PARAMS`) minimises it, starting from the physics cfg's
values (``fit_physics`` by least squares on torque, when the runs have torque labels).

Identifiability: at the optimum the Jacobian gives the covariance ``s²·(JᵀJ)⁻¹``, with ``s²`` and the number of
independent residuals corrected for the residuals' lag-1 autocorrelation (consecutive frames of one run are not
independent). A parameter whose relative standard error exceeds :data:`MAX_REL_SE` (or whose column of the Jacobian
is zero, e.g. a torque-speed curve the runs never reach) is fixed at its prior and the rest refitted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time

import numpy as np
from scipy.optimize import least_squares

from ..data.joint_log import JointLog
from ..errors import UserInputError
from .features import loss_mask
from .models_cfg import PhysicsCfg
from .rollout import _end, _simulate, load_of
from .sysid import PARAMS, TrajectoryPhysics, priors_of

__all__ = ["DEFAULT_FREE", "MAX_REL_SE", "fit_trajectory", "fit_trajectory_model", "fit_trajectory_physics"]

logger = logging.getLogger(__name__)

DEFAULT_FREE = ("gain", "kd", "coulomb", "coulomb_load", "armature", "delay", "offset", "stall_torque", "no_load_speed")
"""Parameters fitted by default; ``friction_velocity`` stays at its prior (the BAM logs never determined it)."""

PRIOR_FREE = tuple(n for n in DEFAULT_FREE if n != "coulomb_load")
"""Fitted for the GRU-PD prior: ``coulomb_load`` is left out since the actuator's physics cannot express it."""

MAX_REL_SE = 0.5
"""A parameter with a larger relative standard error (SE / max(|value|, scale)) is fixed at its prior."""

FD_STEP = 1e-3
"""Forward-difference step in units of each parameter's scale."""

TOL = 1e-4
"""Relative tolerance on the cost and the (scaled) parameters at which a least-squares pass stops."""

MAX_SECONDS = 10.0
"""Default simulated span [s] from each run's start (the BAM runs are 6 s, simulated whole)."""

PASSES = 3
"""Least-squares passes at most: after each, what the data cannot determine is fixed and the rest refitted.
"""


class _Problem:
    """Residuals and a batched finite-difference Jacobian over the training runs, in scaled units ``z = x / scale``."""

    def __init__(self, logs: list[JointLog], model: TrajectoryPhysics, free: list[str], stride: int, seconds: float):
        self.logs, self.model, self.free = logs, model, free
        self.scale = np.asarray([PARAMS[n].scale for n in free])
        self.ends = [min(_end(g), int(seconds / g.dt) + 1) for g in logs]
        self.steps = max(self.ends) - 1
        self.idx = [np.nonzero(loss_mask(g)[:e])[0][::stride] for g, e in zip(logs, self.ends, strict=True)]
        self.weights = [1.0 / np.sqrt(len(i) * len(logs)) for i in self.idx]
        self.cache: tuple[bytes, np.ndarray, np.ndarray] | None = None
        self.evals = 0

    def values(self, z: np.ndarray) -> dict[str, float]:
        return {**self.model.values, **{n: float(v) for n, v in zip(self.free, z * self.scale, strict=True)}}

    def _residuals(self, zs: list[np.ndarray]) -> np.ndarray:
        """Residual vectors (P, M) for parameter sets ``zs`` (one batched simulation)."""
        logs = self.logs * len(zs)
        rows = [(i, 0) for i in range(len(logs))]
        per_row = [self.values(z) for z in zs for _ in self.logs]
        model = _RowModel(self.model, per_row)
        q_sim = _simulate(model, logs, rows, self.steps)
        self.evals += len(zs)
        out = []
        for p in range(len(zs)):
            parts = []
            for r, g in enumerate(self.logs):
                i = self.idx[r]
                err = q_sim[p * len(self.logs) + r, i] - g.q[i, 0]
                parts.append(np.clip(np.nan_to_num(err, nan=10.0), -10.0, 10.0) * self.weights[r])
            out.append(np.concatenate(parts))
        return np.stack(out)

    def fun(self, z):
        if self.cache is not None and self.cache[0] == z.tobytes():
            return self.cache[1]
        return self._residuals([z])[0]

    def jac(self, z):
        zs = [z] + [z + FD_STEP * np.eye(len(z))[k] for k in range(len(z))]
        res = self._residuals(zs)
        jac = ((res[1:] - res[0]) / FD_STEP).T
        self.cache = (z.tobytes(), res[0], jac)
        return jac


class _RowModel:
    """Adapter for :func:`_simulate`: per-row parameter sets of one :class:`TrajectoryPhysics`."""

    def __init__(self, model: TrajectoryPhysics, per_row: list[dict[str, float]]):
        self.model, self.per_row = model, per_row

    def stepper_for(self, logs):
        return self.model.stepper_for(logs, self.per_row)


def _identifiability(problem: _Problem, z: np.ndarray, res: np.ndarray, jac: np.ndarray) -> dict[str, dict]:
    """Relative standard error, sensitivity and correlations of the free parameters at ``z``."""
    m, n = jac.shape
    rho = float(np.clip(np.corrcoef(res[:-1], res[1:])[0, 1], 0.0, 0.999)) if m > 2 else 0.0
    m_eff = max(n + 1.0, m * (1 - rho) / (1 + rho))
    s2 = float(res @ res) / max(m - n, 1)
    cov = s2 * np.linalg.pinv(jac.T @ jac) * (m / m_eff)  # inflated: only m_eff of the m residuals are independent
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None)) * problem.scale
    d = np.sqrt(np.clip(np.diag(cov), 1e-300, None))
    corr = cov / np.outer(d, d)
    sens = np.linalg.norm(jac, axis=0)
    out = {}
    for k, name in enumerate(problem.free):
        value = float(z[k] * problem.scale[k])
        zero = sens[k] <= 1e-9 * max(float(sens.max()), 1e-300)
        rel = float(se[k] / max(abs(value), PARAMS[name].scale))
        partner = int(np.argmax(np.where(np.arange(n) == k, -1, np.abs(corr[k]))))
        out[name] = {
            "value": value,
            "se": float(se[k]),
            "rel_se": None if zero else rel,
            "sensitivity": float(sens[k]),
            "max_corr": [problem.free[partner], float(corr[k, partner])] if n > 1 else None,
            "identified": bool(not zero and rel <= MAX_REL_SE),
        }
    return out


def _solve(problem: _Problem, x0: dict[str, float], max_nfev: int, tol: float):
    lo = np.asarray([PARAMS[n].lower for n in problem.free]) / problem.scale
    hi = np.asarray([PARAMS[n].upper for n in problem.free]) / problem.scale
    z0 = np.clip(np.asarray([x0[n] for n in problem.free]) / problem.scale, lo + 1e-9, hi - 1e-9)
    sol = least_squares(
        problem.fun, z0, jac=problem.jac, bounds=(lo, hi), max_nfev=max_nfev, x_scale=1.0, ftol=tol, xtol=tol
    )
    return sol.x, sol.fun, problem.jac(sol.x), sol.nfev


def fit_trajectory(
    logs: list[JointLog],
    cfg: PhysicsCfg | None = None,
    free: list[str] | tuple[str, ...] | None = None,
    max_nfev: int = 30,
    stride: int = 1,
    max_seconds: float = MAX_SECONDS,
    tol: float = TOL,
) -> TrajectoryPhysics:
    """Identify :class:`TrajectoryPhysics` on ``logs`` (training runs only) by output-error least squares.

    Args:
        logs: Training runs with a known load (``meta`` ``inertia``, ``mass``, ``length``) and a gain.
        cfg: Prior physics (gain convention, starting values); default :class:`PhysicsCfg`.
        free: Parameters to fit (default :data:`DEFAULT_FREE`); the others stay at their prior.
        max_nfev: Iterations of each least-squares pass (each one batched simulation of ``len(free) + 1`` sets).
        stride: Use every ``stride``-th torque-enabled frame in the residual (the simulation runs every step).
        max_seconds: Simulate at most this long from each run's start (long logs: the fit's cost is per step).
        tol: Relative tolerance on cost and parameters at which a pass stops (``ftol``/``xtol`` of least_squares).

    Returns:
        The model, with ``report``: per parameter value, relative SE and whether it was fixed; train RMSE; time.

    Raises:
        UserInputError: no runs, a run without a known load, or an unknown parameter name.
    """
    if not logs:
        raise UserInputError("trajectory physics fit: no training runs given.")
    for g in logs:
        load_of(g)
    cfg = cfg or PhysicsCfg()
    free = list(DEFAULT_FREE if free is None else free)
    unknown = sorted(set(free) - set(PARAMS))
    if unknown:
        raise UserInputError(f"trajectory physics fit: unknown parameters {unknown}; expected some of {list(PARAMS)}.")
    t0 = time.perf_counter()
    prior = priors_of(cfg)
    model = TrajectoryPhysics(dict(prior), dataclasses.replace(cfg, identified=None))
    fixed: dict[str, str] = {}
    report: dict[str, dict] = {}
    evals, nfev = 0, []
    for k in range(PASSES):  # fit; fix what the data cannot determine; refit the rest
        problem = _Problem(logs, model, [n for n in free if n not in fixed], stride, max_seconds)
        if not problem.free:
            break
        z, res, jac, n_it = _solve(problem, model.values, max_nfev if k == 0 else max(3, max_nfev // 3), tol)
        nfev.append(n_it)
        model.values = problem.values(z)
        report = _identifiability(problem, z, res, jac)
        evals += problem.evals
        weak = [n for n, r in report.items() if not r["identified"]]
        for n in weak:
            why = "no sensitivity" if report[n]["rel_se"] is None else f"relative SE {report[n]['rel_se']:.2g}"
            fixed[n] = f"not determined by the data ({why}); fixed at the prior {prior[n]:.4g}"
            model.values[n] = prior[n]
        if not weak:
            break
    rmse = float(np.sqrt(np.sum(problem._residuals([z])[0] ** 2))) if problem.free else float("nan")
    params = {
        n: {
            **report.get(n, {"value": model.values[n], "rel_se": None}),
            "fixed": fixed.get(n, "" if n in free else "not fitted (prior)"),
        }
        for n in PARAMS
    }
    for n in fixed:
        params[n]["value"] = model.values[n]
    model.report = {
        "params": params,
        "rmse": rmse,
        "evals": evals,
        "iterations": nfev,
        "runs": [g.name for g in logs],
        "time_s": time.perf_counter() - t0,
    }
    logger.info("trajectory physics: %s (train RMSE %.4f rad, %.1f s)", model.values, rmse, model.report["time_s"])
    return model


_CACHE: dict[str, TrajectoryPhysics] = {}
"""Fits of this process by training runs and prior: the baseline row and the GRU-PD prior of a fold share one."""


def _key(logs: list[JointLog], cfg: PhysicsCfg, options) -> str:
    h = hashlib.sha1(repr((dataclasses.replace(cfg, fit=False, identified=None), options)).encode())
    for g in logs:
        for a in (g.q, g.q_target, g.qd):
            h.update(np.ascontiguousarray(a).tobytes())
        h.update(repr(sorted((k, str(v)) for k, v in g.meta.items())).encode())
    return h.hexdigest()


def fit_trajectory_model(
    logs: list[JointLog], cfg: PhysicsCfg, max_nfev: int = 12, free: tuple[str, ...] = DEFAULT_FREE
) -> TrajectoryPhysics:
    """The trajectory-fitted physics of training runs ``logs`` (the ``traj_physics`` baseline and the GRU-PD prior).

    Starts from ``cfg`` refined by least squares on the torque labels when every run has them (``fit_physics``),
    with Coulomb friction on; mirrored copies (training augmentation) are left out, as they would hide an encoder
    offset. Fits are cached in this process by runs and prior. ``max_nfev`` bounds the first pass (about 1 s per
    iteration on 12 runs of 6 s at 200 Hz), the budget that keeps the main job within a minute of its old time.
    """
    from .baselines import fit_physics

    runs = [g for g in logs if not g.meta.get("mirrored")] or logs
    key = _key(runs, cfg, (max_nfev, free))
    if key not in _CACHE:
        start = dataclasses.replace(cfg, fit=True, identified=None)
        if all(g.tau is not None for g in runs):
            start = fit_physics(runs, start)
        if start.friction is None:
            start = dataclasses.replace(start, friction=0.0)
        _CACHE[key] = fit_trajectory(runs, start, free=free, max_nfev=max_nfev)
    return _CACHE[key]


def fit_trajectory_physics(logs: list[JointLog], cfg: PhysicsCfg) -> PhysicsCfg:
    """``physics.fit="trajectory"``: ``cfg`` with the parameters :func:`fit_trajectory_model` identifies.

    The result keeps the cfg's gain convention and carries what :class:`PhysicsCfg` can express (gain, ``kd``,
    Coulomb friction, torque-speed curve) plus ``identified`` (all parameters, relative standard errors, what was
    fixed and what the actuator cannot express) for the exported file.
    """
    return dataclasses.replace(fit_trajectory_model(logs, cfg, free=PRIOR_FREE).physics_cfg(), fit=cfg.fit)
