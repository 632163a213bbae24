"""Data-set statistics of the inspection: coverage of (position error, velocity) and of gains, label noise, splits."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.joint_log import GAIN_CHANNELS, JointLog
from ..errors import UserInputError

__all__ = ["COVERAGE_BINS", "coverage", "dataset_findings", "gains", "label_noise", "split_summary"]

COVERAGE_BINS = 24
"""Bins per axis of the (position error, velocity) coverage histogram."""

NOISE_SHARE = 0.1
"""A torque label whose sample-to-sample noise exceeds this share of its spread is noisy."""


def _valid(log: JointLog) -> np.ndarray:
    return np.ones(len(log), dtype=bool) if log.valid is None else log.valid


def coverage(logs: list[JointLog]) -> dict[str, Any]:
    """2-D histogram of valid frames over (position error q* - q [rad], velocity [rad/s]); share of filled bins.

    The grid spans the 1-99 % ranges, so one outlier does not stretch it.
    """
    err = np.concatenate([(g.q_target[:, 0] - g.q[:, 0])[_valid(g)] for g in logs])
    vel = np.concatenate([g.qd[:, 0][_valid(g)] for g in logs])
    ex, ev = np.percentile(err, [1, 99]), np.percentile(vel, [1, 99])
    ex = ex if ex[1] > ex[0] else ex + np.array([-1e-3, 1e-3])
    ev = ev if ev[1] > ev[0] else ev + np.array([-1e-3, 1e-3])
    hist, xe, ye = np.histogram2d(err, vel, bins=COVERAGE_BINS, range=[ex, ev])
    return {
        "counts": hist.T.astype(int).tolist(),
        "pos_error_edges": xe.tolist(),
        "velocity_edges": ye.tolist(),
        "filled_share": float((hist > 0).mean()),
        "frames": int(err.size),
    }


def gains(logs: list[JointLog]) -> dict[str, dict[str, int]]:
    """Frames per gain value (``kp``, ``kd`` metadata), as text keys."""
    out: dict[str, dict[str, int]] = {}
    for key in GAIN_CHANNELS:
        counts: dict[str, int] = {}
        for g in logs:
            if key in g.meta:
                v = g.meta[key]
                label = f"{v:g}" if isinstance(v, int | float) and not isinstance(v, bool) else str(v)
                counts[label] = counts.get(label, 0) + int(_valid(g).sum())
        if counts:
            out[key] = counts
    return out


def label_noise(logs: list[JointLog]) -> dict[str, Any] | None:
    """Sample-to-sample noise of the torque label against its spread (median over runs); None without labels.

    The noise is ``std(second difference) / sqrt(6)``, which is the standard deviation of white noise.
    """
    noise, spread = [], []
    for g in logs:
        if g.tau is None or len(g) < 5:
            continue
        tau = g.tau[:, 0]
        noise.append(float(np.std(np.diff(tau, 2)) / np.sqrt(6.0)))
        spread.append(float(np.std(tau)))
    if not noise:
        return None
    n, s = float(np.median(noise)), float(np.median(spread))
    return {"noise_nm": n, "label_std_nm": s, "share": n / s if s > 0 else None}


def split_summary(logs: list[JointLog], data_cfg, seed: int = 0) -> dict[str, Any]:
    """The split the preset would make (:func:`~learned_actuators.learning.data_loading.splits_of`), or its error."""
    from ..learning.data_loading import splits_of

    try:
        splits = splits_of(logs, data_cfg, seed)
    except UserInputError as err:
        return {"error": str(err)}
    return {
        "split": data_cfg.split,
        "group_key": data_cfg.group_key,
        "splits": {name: s.summary() for name, s in splits},
    }


def dataset_findings(summary: dict[str, Any]) -> list[dict[str, str]]:
    """Findings over the data set (coverage, gains, label noise, split)."""
    out = []

    def add(level: str, what: str, fix: str) -> None:
        out.append({"level": level, "run": "(data set)", "what": what, "fix": fix})

    cov = summary["coverage"]
    if cov["filled_share"] < 0.3:
        add(
            "info",
            f"the runs fill {cov['filled_share']:.0%} of the (position error, velocity) grid",
            "add excitation (chirps, steps, random targets) covering the empty regions; nets extrapolate poorly",
        )
    if len(summary["gains"].get("kp", {})) == 1:
        add("info", "every run has one kp", "log runs at several gains if the net must work at other gains")
    noise = summary.get("label_noise")
    if noise and noise["share"] is not None and noise["share"] > NOISE_SHARE:
        add(
            "warning",
            f"the torque label's sample-to-sample noise is {noise['share']:.0%} of its spread "
            f"({noise['noise_nm']:.3g} N·m)",
            'lower inverse_dynamics "cutoff_hz" in the column map, or filter the torque column',
        )
    if "error" in summary["split"]:
        add("error", f"the preset's split fails: {summary['split']['error']}", "change data.split / data.group_key")
    return out
