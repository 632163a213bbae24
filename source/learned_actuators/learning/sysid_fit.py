"""Output-error identification of :class:`~learned_actuators.learning.sysid.TrajectoryPhysics` on training runs.

Every training run is simulated from its first logged state, driven by its logged command, to its last torque-enabled
frame (the rollout's integrator; all runs and a whole CMA-ES population in one batch); the cost is the mean over runs
of each run's position RMSE on its torque-enabled frames (the metric of the held-out rollout). CMA-ES (the ``cmaes``
package, bounds of :data:`~learned_actuators.learning.sysid.PARAMS`, parameters in units of their scale) minimises
it, starting from the physics cfg's values (``fit_physics`` by least squares on torque, when the runs have torque
labels): the friction and delay make the cost non-smooth, where a gradient method stalls in a local minimum.

Identifiability: at the optimum a finite-difference Jacobian of the residuals gives the covariance ``s²·(JᵀJ)⁻¹``,
with ``s²`` and the number of independent residuals corrected for the residuals' lag-1 autocorrelation (consecutive
frames of one run are not independent). A parameter whose relative standard error exceeds :data:`MAX_REL_SE` (or whose
column of the Jacobian is zero, e.g. a torque-speed curve the runs never reach) is fixed at its prior and the rest
refitted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time

import numpy as np
from cmaes import CMA

from ..data.joint_log import JointLog
from ..errors import UserInputError
from .features import loss_mask
from .models_cfg import PhysicsCfg, checked_fit_params
from .rollout import _end, _simulate, load_of
from .sysid import PARAMS, TrajectoryPhysics, priors_of

__all__ = [
    "DEFAULT_FREE",
    "MAX_REL_SE",
    "add_shared_fits",
    "clear_shared_fits",
    "fit_trajectory",
    "fit_trajectory_model",
    "fit_trajectory_physics",
    "fit_trajectory_prior",
    "prior_free",
    "shared_fits",
]

logger = logging.getLogger(__name__)

DEFAULT_FREE = ("gain", "kd", "coulomb", "coulomb_load", "armature", "delay", "offset", "stall_torque", "no_load_speed")
"""Parameters fitted by default (all of :data:`~learned_actuators.learning.sysid.PARAMS`)."""

PRIOR_FREE = ("gain", "kd", "coulomb", "coulomb_load", "stall_torque", "no_load_speed")
"""Fitted for the GRU-PD prior, in the actuator's smoothed-friction form: what the actuator's physics expresses
(armature, delay and encoder offset stay at zero, so the prior simulates as fitted; the net learns the rest)."""

PRIOR_OF_CFG_NAME = {
    "kp": "gain",
    "kp_scale": "gain",
    "kd": "kd",
    "friction": "coulomb",
    "friction_load": "coulomb_load",
    "stall_torque": "stall_torque",
    "no_load_speed": "no_load_speed",
}
"""The trajectory-fit parameter that each ``PhysicsCfg.fit_params`` name (:data:`~.models_cfg.FIT_PARAM_NAMES`)
frees."""

MAX_REL_SE = 0.5
"""A parameter with a larger relative standard error (SE / max(|value|, scale)) is a candidate to fix at its prior."""

MAX_COST_RISE = 0.02
"""A candidate is fixed at its prior when that raises the training cost by less than this fraction: the data cannot
tell it from its prior (the SE of a stick-slip, delayed plant is a local and conservative measure)."""

FD_STEP = 1e-3
"""Forward-difference step in units of each parameter's scale."""

POPULATION = 16
"""CMA-ES population: one batched simulation of ``POPULATION × runs`` rows per generation."""

SIGMA = 0.5
"""CMA-ES initial step, in units of each parameter's scale (a refit pass starts at a third of it)."""

TOL = 1e-6
"""A pass stops early when the best cost has improved by less than this [rad] over the last :data:`STALL` gens."""

STALL = 20

MAX_SECONDS = 10.0
"""Default simulated span [s] from each run's start (the BAM runs are 6 s, simulated whole)."""

PASSES = 3
"""CMA-ES passes at most: after each, what the data cannot determine is fixed and the rest refitted."""


class _Problem:
    """Residuals and a batched finite-difference Jacobian over the training runs, in scaled units ``z = x / scale``."""

    def __init__(self, logs: list[JointLog], model: TrajectoryPhysics, free: list[str], stride: int, seconds: float):
        self.logs, self.model, self.free = logs, model, free
        self.scale = np.asarray([PARAMS[n].scale for n in free])
        self.ends = [min(_end(g), int(seconds / g.dt) + 1) for g in logs]
        self.steps = max(self.ends) - 1
        self.idx = [np.nonzero(loss_mask(g)[:e])[0][::stride] for g, e in zip(logs, self.ends, strict=True)]
        self.weights = [1.0 / np.sqrt(len(i) * len(logs)) for i in self.idx]
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

    def costs(self, zs: list[np.ndarray]) -> np.ndarray:
        """Mean over runs of each run's position RMSE [rad], per parameter set (P,)."""
        res = self._residuals(zs)
        cut = np.cumsum([len(i) for i in self.idx])[:-1]
        per_run = [np.sqrt(len(self.logs) * np.sum(part**2, axis=1)) for part in np.split(res, cut, axis=1)]
        return np.mean(per_run, axis=0)

    def jac(self, z):
        zs = [z] + [z + FD_STEP * np.eye(len(z))[k] for k in range(len(z))]
        res = self._residuals(zs)
        return res[0], ((res[1:] - res[0]) / FD_STEP).T


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


def _undetermined(problem: _Problem, z: np.ndarray, report: dict, prior: dict[str, float]) -> dict[str, float]:
    """Parameters with a large SE whose prior fits the training runs almost as well: ``{name: relative cost rise}``."""
    weak = [n for n, r in report.items() if not r["identified"]]
    if not weak:
        return {}
    zs = [z]
    for n in weak:
        k = problem.free.index(n)
        zs.append(np.where(np.arange(len(z)) == k, prior[n] / problem.scale[k], z))
    costs = problem.costs(zs)
    rises = {n: float(c / max(costs[0], 1e-12) - 1.0) for n, c in zip(weak, costs[1:], strict=True)}
    return {n: r for n, r in rises.items() if r < MAX_COST_RISE}


def _solve(problem: _Problem, x0: dict[str, float], generations: int, sigma: float, tol: float, seed: int):
    """CMA-ES from ``x0`` within the bounds: the best parameters (scaled), residuals, Jacobian and generations run."""
    lo = np.asarray([PARAMS[n].lower for n in problem.free]) / problem.scale
    hi = np.asarray([PARAMS[n].upper for n in problem.free]) / problem.scale
    z0 = np.clip(np.asarray([x0[n] for n in problem.free]) / problem.scale, lo + 1e-9, hi - 1e-9)
    best_cost, best = float(problem.costs([z0])[0]), z0
    opt = CMA(mean=z0, sigma=sigma, bounds=np.stack([lo, hi], axis=1), seed=seed, population_size=POPULATION)
    history = [best_cost]
    for _ in range(generations):
        zs = [opt.ask() for _ in range(opt.population_size)]
        costs = problem.costs(zs)
        opt.tell(list(zip(zs, costs, strict=True)))
        k = int(np.argmin(costs))
        if costs[k] < best_cost:
            best_cost, best = float(costs[k]), zs[k]
        history.append(best_cost)
        if len(history) > STALL and history[-STALL - 1] - best_cost < tol:
            break
    res, jac = problem.jac(best)
    return best, res, jac, len(history) - 1


def _checked_free(logs: list[JointLog], free) -> list[str]:
    """The parameters to fit (default :data:`DEFAULT_FREE`), after checking the runs and the names."""
    if not logs:
        raise UserInputError("trajectory physics fit: no training runs given.")
    for g in logs:
        load_of(g)
    free = list(DEFAULT_FREE if free is None else free)
    unknown = sorted(set(free) - set(PARAMS))
    if unknown:
        raise UserInputError(f"trajectory physics fit: unknown parameters {unknown}; expected some of {list(PARAMS)}.")
    return free


def fit_trajectory(
    logs: list[JointLog],
    cfg: PhysicsCfg | None = None,
    free: list[str] | tuple[str, ...] | None = None,
    generations: int | None = None,
    stride: int = 1,
    max_seconds: float = MAX_SECONDS,
    tol: float = TOL,
    seed: int = 0,
    stick_slip: bool = True,
) -> TrajectoryPhysics:
    """Identify :class:`TrajectoryPhysics` on ``logs`` (training runs only) by output-error least squares.

    Args:
        logs: Training runs with a known load (``meta`` ``inertia``, ``mass``, ``length``) and a gain.
        cfg: Prior physics (gain convention, starting values); default :class:`PhysicsCfg`.
        free: Parameters to fit (default :data:`DEFAULT_FREE`); the others stay at their prior.
        generations: CMA-ES generations of the first pass (each one batched simulation of :data:`POPULATION` sets;
            a refit pass gets a third); None: ``cfg.fit_generations``.
        stride: Use every ``stride``-th torque-enabled frame in the residual (the simulation runs every step).
        max_seconds: Simulate at most this long from each run's start (long logs: the fit's cost is per step).
        tol: A pass stops when its best cost improved by less than this [rad] over :data:`STALL` generations.
        seed: Seed of CMA-ES (same runs, same seed: same fit).
        stick_slip: Friction as the integrator's stick-slip constraint (the baseline); False: the actuator's smoothed
            term at ``cfg.friction_velocity`` (:attr:`TrajectoryPhysics.stick_slip`).

    Returns:
        The model, with ``report``: per parameter value, relative SE and whether it was fixed; train RMSE; time.

    Raises:
        UserInputError: no runs, a run without a known load, or an unknown parameter name.
    """
    cfg = cfg or PhysicsCfg()
    free = _checked_free(logs, free)
    t0 = time.perf_counter()
    prior = priors_of(cfg)
    model = TrajectoryPhysics(dict(prior), dataclasses.replace(cfg, identified=None), stick_slip=stick_slip)
    options = (cfg.fit_generations if generations is None else generations, stride, max_seconds, tol, seed)
    rmse, fixed, reports, evals, gens = _fit_passes(logs, model, free, prior, options)
    params = {
        n: {
            **reports.get(n, {"value": model.values[n], "rel_se": None}),
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
        "generations": gens,
        "runs": [g.name for g in logs],
        "time_s": time.perf_counter() - t0,
    }
    logger.info("trajectory physics: %s (train RMSE %.4f rad, %.1f s)", model.values, rmse, model.report["time_s"])
    return model


def _fit_passes(logs: list[JointLog], model: TrajectoryPhysics, free: list[str], prior: dict[str, float], options):
    """Fit; fix what the data cannot determine at its prior; refit the rest (up to :data:`PASSES` passes).

    Updates ``model.values``; returns the train RMSE [rad] (NaN with nothing to fit), why each parameter was fixed,
    the identifiability reports, the simulations run and the generations of each pass.
    """
    generations, stride, max_seconds, tol, seed = options
    fixed: dict[str, str] = {}
    reports: dict[str, dict] = {}
    evals, gens = 0, []
    for k in range(PASSES):
        problem = _Problem(logs, model, [n for n in free if n not in fixed], stride, max_seconds)
        if not problem.free:
            break
        budget, sigma = (generations, SIGMA) if k == 0 else (max(3, generations // 3), SIGMA / 3)
        z, res, jac, n_gen = _solve(problem, model.values, budget, sigma, tol, seed)
        gens.append(n_gen)
        model.values = problem.values(z)
        report = _identifiability(problem, z, res, jac)
        evals += problem.evals
        reports.update(report)
        weak = _undetermined(problem, z, report, prior)
        for n, rise in weak.items():
            why = "no sensitivity" if report[n]["rel_se"] is None else f"relative SE {report[n]['rel_se']:.2g}"
            fixed[n] = (
                f"not determined by the data ({why}; the prior raises the cost by {100 * rise:.1f} %); "
                f"fixed at the prior {prior[n]:.4g}"
            )
            model.values[n] = prior[n]
        if not weak:
            break
    rmse = float(problem.costs([z])[0]) if problem.free else float("nan")
    return rmse, fixed, reports, evals, gens


_CACHE: dict[str, TrajectoryPhysics] = {}
"""Fits of this process by training runs and prior: the baseline row and the GRU-PD prior of a fold share one."""


def shared_fits() -> dict[str, TrajectoryPhysics]:
    """The fits of this process by key (:mod:`.parallel_fits` hands them to the worker processes)."""
    return dict(_CACHE)


def add_shared_fits(fits: dict[str, TrajectoryPhysics]) -> None:
    """Adopt fits made in another process (by the keys of :func:`shared_fits`)."""
    _CACHE.update(fits)


def clear_shared_fits() -> None:
    """Forget the fits of this process (a benchmark that times the same fits twice)."""
    _CACHE.clear()


def _key(logs: list[JointLog], cfg: PhysicsCfg, options) -> str:
    h = hashlib.sha1(repr((dataclasses.replace(cfg, fit=False, identified=None), options)).encode())
    for g in logs:
        for a in (g.q, g.q_target, g.qd):
            h.update(np.ascontiguousarray(a).tobytes())
        h.update(repr(sorted((k, str(v)) for k, v in g.meta.items())).encode())
    return h.hexdigest()


def fit_trajectory_model(
    logs: list[JointLog],
    cfg: PhysicsCfg,
    free: tuple[str, ...] = DEFAULT_FREE,
    stick_slip: bool = True,
) -> TrajectoryPhysics:
    """The trajectory-fitted physics of training runs ``logs`` (the ``traj_physics`` baseline and the GRU-PD prior).

    Starts from ``cfg`` refined by least squares on the torque labels (or the logged motor torque, ``tau_motor``) when
    every run has them (``fit_physics``), with Coulomb friction on; mirrored copies (training augmentation) are left
    out, as they would hide an encoder offset. Fits are cached in this process by runs and prior.
    ``cfg.fit_generations`` bounds the first CMA-ES pass; ``stick_slip``: the friction's form
    (:attr:`TrajectoryPhysics.stick_slip`).
    """
    from .baselines import fit_physics

    runs = [g for g in logs if not g.meta.get("mirrored")] or logs
    key = _key(runs, cfg, (free, stick_slip))
    if key not in _CACHE:
        start = dataclasses.replace(cfg, fit=True, identified=None)
        if all(g.tau is not None or "tau_motor" in g.channels for g in runs):
            start = fit_physics(runs, start)
        if start.friction is None:
            start = dataclasses.replace(start, friction=0.0)
        _CACHE[key] = fit_trajectory(runs, start, free=free, stick_slip=stick_slip)
    return _CACHE[key]


def fit_trajectory_prior(logs: list[JointLog], cfg: PhysicsCfg) -> TrajectoryPhysics:
    """The GRU-PD's trajectory-fitted prior: :func:`fit_trajectory_model` in the actuator's own form.

    Smoothed friction at ``cfg.friction_velocity`` with its load-dependent part, :data:`PRIOR_FREE` fitted, or those
    of them that ``cfg.fit_params`` names (:func:`prior_free`; the row ``traj_prior`` and
    :func:`fit_trajectory_physics` share this fit through the cache).
    """
    return fit_trajectory_model(logs, cfg, free=prior_free(cfg), stick_slip=False)


def prior_free(cfg: PhysicsCfg) -> tuple[str, ...]:
    """What the prior's fit frees: :data:`PRIOR_FREE`, limited to ``cfg.fit_params`` when set.

    The others stay at the cfg's values (a datasheet's torque-speed curve, say) and are reported as not fitted.
    """
    names = checked_fit_params(cfg)
    if names is None:
        return PRIOR_FREE
    chosen = {PRIOR_OF_CFG_NAME[n] for n in names}
    return tuple(n for n in PRIOR_FREE if n in chosen)


def fit_trajectory_physics(logs: list[JointLog], cfg: PhysicsCfg) -> PhysicsCfg:
    """``physics.fit="trajectory"``: ``cfg`` with the parameters :func:`fit_trajectory_model` identifies.

    The fit (:func:`fit_trajectory_prior`) simulates the actuator's own form (smoothed friction at
    ``cfg.friction_velocity``, its load-dependent part included), so the prior rolls out as it was fitted. The result
    keeps the cfg's gain convention and carries what :class:`PhysicsCfg` can express (gain, ``kd``, Coulomb and
    load-dependent friction, torque-speed curve) plus ``identified`` (all parameters, relative standard errors, what
    was fixed) for the exported file.
    """
    return dataclasses.replace(fit_trajectory_prior(logs, cfg).physics_cfg(), fit=cfg.fit)
