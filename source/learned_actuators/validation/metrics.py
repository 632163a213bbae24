"""Validation metrics on padded trajectory batches (pure NumPy, no simulator).

Every array is batched as ``(E, T, J)``: E trajectories (one simulated env each), T time steps at the log's
rate (shorter runs padded at the end), J joints. A boolean ``mask`` of shape (E, T) marks the frames that
count (inside the run and valid, e.g. torque enabled); padded or invalid frames never enter a metric.

Metrics:

* **single-step** (:func:`torque_errors`): the model fed the logged state, its torque compared with the
  torque label [N·m]: RMSE, MAE and R².
* **open-loop rollout** (:func:`rollout_errors`): the simulated joint driven by the model from the logged
  initial state, compared with the logged positions [rad] and velocities [rad/s]: RMSE and MAE per
  trajectory and over all frames.
* **error growth** (:func:`error_growth`): the rollout RMSE at each horizon (time since the rollout
  started), averaged in log-spaced bins, with the exponent ``p`` of a log-log fit ``RMSE ≈ c · h^p``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

__all__ = [
    "ErrorGrowth",
    "error_growth",
    "fit_pd_gains",
    "fit_pd_on_training",
    "fit_pd_per_gain",
    "masked_mae",
    "masked_rmse",
    "rollout_errors",
    "torque_errors",
]


def _check_batch(name: str, arr: np.ndarray, mask: np.ndarray) -> np.ndarray:
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[:2] != mask.shape:
        raise ValueError(f"'{name}' has shape {arr.shape}; expected (E, T, J) with (E, T) = {mask.shape}.")
    return arr


def _frame_mask(mask: np.ndarray, num_joints: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(mask, dtype=bool)[:, :, None], (*mask.shape, num_joints))


def masked_rmse(err: np.ndarray, mask: np.ndarray) -> float:
    """Root mean square of ``err`` (E, T, J) over the frames where ``mask`` (E, T) is True; NaN if none."""
    mask = np.asarray(mask, dtype=bool)
    err = _check_batch("err", err, mask)
    sel = err[_frame_mask(mask, err.shape[2])]
    return float(np.sqrt(np.mean(sel**2))) if sel.size else float("nan")


def masked_mae(err: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute value of ``err`` (E, T, J) over the frames where ``mask`` (E, T) is True; NaN if none."""
    mask = np.asarray(mask, dtype=bool)
    err = _check_batch("err", err, mask)
    sel = err[_frame_mask(mask, err.shape[2])]
    return float(np.mean(np.abs(sel))) if sel.size else float("nan")


def _per_trajectory(err: np.ndarray, mask: np.ndarray) -> tuple[list[float], list[float]]:
    rmse, mae = [], []
    for e in range(err.shape[0]):
        rmse.append(masked_rmse(err[e : e + 1], mask[e : e + 1]))
        mae.append(masked_mae(err[e : e + 1], mask[e : e + 1]))
    return rmse, mae


def rollout_errors(
    q_log: np.ndarray, qd_log: np.ndarray, q_sim: np.ndarray, qd_sim: np.ndarray, mask: np.ndarray
) -> dict:
    """Open-loop rollout errors of simulated vs logged positions [rad] and velocities [rad/s].

    Args:
        q_log: Logged joint positions, shape (E, T, J).
        qd_log: Logged joint velocities, shape (E, T, J).
        q_sim: Simulated joint positions, shape (E, T, J).
        qd_sim: Simulated joint velocities, shape (E, T, J).
        mask: Frames that count, bool shape (E, T).

    Returns:
        ``{"pos_rmse", "pos_mae", "vel_rmse", "vel_mae"}`` over all counted frames (floats) and the same keys
        with a ``_per_traj`` suffix (lists of E floats). A trajectory whose simulation diverged (non-finite
        state) gets ``inf``, and so does the aggregate.
    """
    mask = np.asarray(mask, dtype=bool)
    out: dict = {}
    for kind, ref, sim in (("pos", q_log, q_sim), ("vel", qd_log, qd_sim)):
        err = _check_batch(f"{kind}_sim", sim, mask) - _check_batch(f"{kind}_log", ref, mask)
        err = np.where(np.isfinite(err), err, np.inf)
        out[f"{kind}_rmse"] = masked_rmse(err, mask)
        out[f"{kind}_mae"] = masked_mae(err, mask)
        out[f"{kind}_rmse_per_traj"], out[f"{kind}_mae_per_traj"] = _per_trajectory(err, mask)
    return out


def torque_errors(tau_model: np.ndarray, tau_label: np.ndarray, mask: np.ndarray) -> dict:
    """Single-step torque errors [N·m] of a model fed the logged state, against the torque label.

    Args:
        tau_model: Model torque, shape (E, T, J).
        tau_label: Torque label (measured or inverse dynamics), shape (E, T, J).
        mask: Frames that count, bool shape (E, T).

    Returns:
        ``{"torque_rmse", "torque_mae", "torque_r2", "torque_rmse_per_traj"}``; R² is
        ``1 - SSE / SST`` with SST about the label mean over the counted frames.
    """
    mask = np.asarray(mask, dtype=bool)
    model = _check_batch("tau_model", tau_model, mask)
    label = _check_batch("tau_label", tau_label, mask)
    err = model - label
    sel = _frame_mask(mask, label.shape[2])
    sst = float(np.sum((label[sel] - label[sel].mean()) ** 2)) if sel.any() else float("nan")
    sse = float(np.sum(err[sel] ** 2))
    rmse_per_traj, _ = _per_trajectory(err, mask)
    return {
        "torque_rmse": masked_rmse(err, mask),
        "torque_mae": masked_mae(err, mask),
        "torque_r2": 1.0 - sse / sst if sst > 0 else float("nan"),
        "torque_rmse_per_traj": rmse_per_traj,
    }


@dataclass
class ErrorGrowth:
    """Rollout RMSE as a function of the horizon, and its log-log growth exponent."""

    horizon: np.ndarray
    """Bin centres [s] (geometric mean of the horizons in each bin), shape (B,)."""
    rmse: np.ndarray
    """RMSE over trajectories, joints and the horizons of each bin, shape (B,)."""
    exponent: float
    """Slope ``p`` of the least-squares line ``log rmse = log c + p log h`` (NaN when fewer than 2 usable bins)."""
    coefficient: float
    """``c`` of that fit [unit of the error · s^-p]."""

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {
            "horizon_s": self.horizon.tolist(),
            "rmse": self.rmse.tolist(),
            "exponent": self.exponent,
            "coefficient": self.coefficient,
        }


def error_growth(
    ref: np.ndarray,
    sim: np.ndarray,
    mask: np.ndarray,
    dt: float,
    num_bins: int = 20,
    start_index: int = 1,
) -> ErrorGrowth:
    """RMSE of ``sim - ref`` versus the horizon ``h = k · dt`` since the rollout started at index 0.

    The squared error at step k is averaged over trajectories and joints (counted frames only), then over
    log-spaced bins of k (so the long tail does not dominate the fit), and the growth exponent is fitted on
    ``log rmse`` vs ``log h`` over the bins with a positive, finite RMSE.

    Args:
        ref: Logged signal, shape (E, T, J).
        sim: Simulated signal, shape (E, T, J).
        mask: Frames that count, bool shape (E, T).
        dt: Log period [s].
        num_bins: Number of log-spaced horizon bins (fewer when T is short).
        start_index: First horizon step used (index 0 is the shared initial state, error 0 by construction).
    """
    mask = np.asarray(mask, dtype=bool)
    err = _check_batch("sim", sim, mask) - _check_batch("ref", ref, mask)
    num_steps = err.shape[1]
    sq = np.where(_frame_mask(mask, err.shape[2]), err**2, 0.0)
    count = mask.sum(axis=0) * err.shape[2]
    sq_sum = sq.sum(axis=(0, 2))
    if num_steps <= start_index:
        raise ValueError(f"error_growth needs more than {start_index} steps; got {num_steps}.")
    edges = np.unique(np.geomspace(start_index, num_steps, num_bins + 1).astype(int))
    horizons, rmses = [], []
    for lo, hi in itertools.pairwise(edges):
        n = count[lo:hi].sum()
        if n == 0:
            continue
        steps = np.arange(lo, hi)
        horizons.append(float(np.exp(np.mean(np.log(steps)))) * dt)
        rmses.append(float(np.sqrt(sq_sum[lo:hi].sum() / n)))
    horizon, rmse = np.asarray(horizons), np.asarray(rmses)
    ok = np.isfinite(rmse) & (rmse > 0)
    if ok.sum() >= 2:
        slope, intercept = np.polyfit(np.log(horizon[ok]), np.log(rmse[ok]), 1)
        exponent, coefficient = float(slope), float(np.exp(intercept))
    else:
        exponent = coefficient = float("nan")
    return ErrorGrowth(horizon=horizon, rmse=rmse, exponent=exponent, coefficient=coefficient)


def fit_pd_gains(
    q: np.ndarray, qd: np.ndarray, q_target: np.ndarray, tau: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative least-squares PD gains per joint: ``tau ≈ kp · (q_target - q) - kd · qd`` on the counted frames.

    The gains are constrained to ``kp, kd >= 0``: a negative damping fitted to lagged or noisy labels would make
    the simulated joint unstable.

    Args:
        q: Joint positions [rad], shape (E, T, J).
        qd: Joint velocities [rad/s], shape (E, T, J).
        q_target: Commanded positions [rad], shape (E, T, J).
        tau: Torque label [N·m], shape (E, T, J).
        mask: Frames that count, bool shape (E, T).

    Returns:
        ``(kp, kd)``, each of shape (J,), in [N·m/rad] and [N·m·s/rad].

    Raises:
        ValueError: if a joint has fewer than 2 counted frames or non-finite data in them.
    """
    mask = np.asarray(mask, dtype=bool)
    q, qd, q_target, tau = (
        _check_batch(n, a, mask) for n, a in zip(("q", "qd", "q_target", "tau"), (q, qd, q_target, tau), strict=True)
    )
    kp, kd = np.zeros(q.shape[2]), np.zeros(q.shape[2])
    for j in range(q.shape[2]):
        a = np.stack([(q_target - q)[..., j][mask], -qd[..., j][mask]], axis=1)
        b = tau[..., j][mask]
        if len(b) < 2 or not (np.isfinite(a).all() and np.isfinite(b).all()):
            raise ValueError(f"fit_pd_gains: joint {j} has {len(b)} counted frames or non-finite values; need >= 2.")
        (kp[j], kd[j]), _ = nnls(a, b)
    return kp, kd


def _gain_key(meta: dict) -> float | None:
    value = meta.get("kp")
    return float(value) if isinstance(value, int | float) and np.isfinite(value) else None


def _fit(src, runs: np.ndarray, scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """NNLS PD gains on the runs ``runs`` of ``src``; with ``scale`` (per run), ``kp`` is per unit of that scale."""
    sel = np.s_[runs]
    q, target = src.q[sel], src.q_target[sel]
    if scale is not None:  # tau ≈ g · scale · (q* - q) - kd · qd: fit on the scaled error
        target = q + scale[runs, None, None] * (target - q)
    return fit_pd_gains(q, src.qd[sel], target, src.tau[sel], src.mask[sel])


def fit_pd_per_gain(batch, fit_batch) -> tuple[np.ndarray, np.ndarray]:
    """PD gains (E, J) for the runs of ``batch``, each fitted on the runs of ``fit_batch`` with the same logged gain.

    ``batch`` and ``fit_batch`` are :class:`~learned_actuators.validation.trajectories.TrajectoryBatch` es (logged gain:
    ``meta["kp"]``). With ``fit_batch = batch`` this is the in-sample (oracle) fit.
    """
    kp = np.zeros((batch.num_envs, len(batch.joint_names)))
    kd = np.zeros_like(kp)
    fit_keys = [_gain_key(m) for m in fit_batch.metas]
    for key in dict.fromkeys(_gain_key(m) for m in batch.metas):
        runs = np.asarray([e for e, k in enumerate(fit_keys) if k == key])
        rows = np.asarray([e for e, m in enumerate(batch.metas) if _gain_key(m) == key])
        kp[rows], kd[rows] = _fit(fit_batch, runs)
    return kp, kd


def fit_pd_on_training(batch, fit_batch) -> tuple[np.ndarray, np.ndarray, str]:
    """PD gains (E, J) for the runs of ``batch`` fitted on the training runs ``fit_batch`` only, and how.

    Nothing of ``batch`` but its logged gains enters the fit.

    Per logged gain when every validated gain occurs in the training runs; else one fit for all runs with the
    proportional gain scaled by the logged gain (or one plain PD when the logs carry no gain).
    """
    fit_keys = {_gain_key(m) for m in fit_batch.metas}
    keys = {_gain_key(m) for m in batch.metas}
    if keys <= fit_keys:
        kp, kd = fit_pd_per_gain(batch, fit_batch)
        return kp, kd, f"least squares per logged gain on the {fit_batch.num_envs} training runs only"
    all_runs = np.arange(fit_batch.num_envs)
    if None in keys | fit_keys:
        kp, kd = _fit(fit_batch, all_runs)
        how = f"least squares, one PD for all runs, on the {fit_batch.num_envs} training runs only"
        return np.tile(kp, (batch.num_envs, 1)), np.tile(kd, (batch.num_envs, 1)), how
    raw = np.asarray([_gain_key(m) for m in fit_batch.metas])
    g, kd = _fit(fit_batch, all_runs, scale=raw)
    run_raw = np.asarray([_gain_key(m) for m in batch.metas])[:, None]
    how = (
        f"least squares, kp proportional to the logged gain (a validated gain is not among the training runs' "
        f"{sorted(fit_keys)}), on the {fit_batch.num_envs} training runs only"
    )
    return run_raw * g[None, :], np.tile(kd, (batch.num_envs, 1)), how
