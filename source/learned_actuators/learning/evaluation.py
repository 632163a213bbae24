"""Evaluation of a trained model (or a baseline) on test runs, pooling over folds, and the results table."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.joint_log import JointLog
from ..data.lazy_runs import LazyRuns
from ..data.normalization import Moments
from ..data.splits import split_joints
from .features import loss_mask
from .metrics import metrics_of
from .rollout import rollout

__all__ = [
    "STILL_SPEED",
    "TorqueSums",
    "evaluate",
    "fit_rollout",
    "format_table",
    "generalisation_notes",
    "per_split_results",
    "pool_results",
    "results_text",
    "standstill_split",
    "test_weight",
]


STILL_SPEED = 0.05
"""Logged joint speed [rad/s] under which a frame counts as standstill. There the torque label is the load's torque
held by static friction, which a model with smooth friction matches in a rollout (it holds the stall) but not frame by
frame on the logged velocity; models with a physics prior are scored on the torque their friction holds the joint with
(:func:`~.rollout.held_by_friction`). The torque RMSE is also given on the moving and the standstill frames apart."""


class TorqueSums:
    """Pooled torque metrics added run by run: the sums behind :func:`~.metrics.torque_metrics` of all frames.

    Equal to the metrics of the concatenated predictions up to float rounding; memory does not grow with the runs.
    Where :meth:`add` is given the standstill frames, the metrics also hold ``rmse_moving`` and ``rmse_still``.
    """

    def __init__(self):
        self.sq = self.abs = self.sq_still = 0.0
        self.n_still: int | None = None
        self.labels = Moments(1)

    def add(self, pred: np.ndarray, true: np.ndarray, still: np.ndarray | None = None) -> None:
        """Add one run's predicted and measured torques (flat arrays of its valid frames).

        ``still``: the run's standstill frames (bool, same length), for the moving / standstill split.
        """
        err = np.asarray(pred, dtype=np.float64) - np.asarray(true, dtype=np.float64)
        self.sq += float(np.sum(err**2))
        self.abs += float(np.sum(np.abs(err)))
        self.labels.add(true)
        if still is not None:
            self.sq_still += float(np.sum(err[still] ** 2))
            self.n_still = (self.n_still or 0) + int(np.sum(still))

    def metrics(self) -> dict[str, float]:
        """MSE, RMSE, MAE and R² of the frames added, plus ``n``, ``label_mean`` and ``label_var``.

        With standstill frames given to :meth:`add`: the moving / standstill split too (:func:`standstill_split`).
        """
        n = self.labels.n
        if n == 0:
            raise ValueError("torque metrics need at least one valid frame.")
        var = float(self.labels.m2[0] / n)
        out = metrics_of(self.sq / n, self.abs / n, var)
        out |= {"n": n, "label_mean": float(self.labels.mean[0]), "label_var": var}
        return out if self.n_still is None else out | standstill_split(self.sq, n, self.sq_still, self.n_still)


def standstill_split(sq: float, n: int, sq_still: float, n_still: int) -> dict[str, float]:
    """``n_still`` and the torque RMSE of the moving and of the standstill frames (:data:`STILL_SPEED`).

    From the sums of squared errors of all ``n`` frames and of the ``n_still`` standstill ones; a part without frames
    is left out.
    """
    out: dict[str, float] = {"n_still": n_still}
    if n_still:
        out["rmse_still"] = float(np.sqrt(sq_still / n_still))
    if n > n_still:
        out["rmse_moving"] = float(np.sqrt((sq - sq_still) / (n - n_still)))
    return out


def evaluate(model, logs: list[JointLog], with_rollout: bool = True) -> dict[str, Any]:
    """Teacher-forced torque metrics [N·m] and, when every run's load is known, the open-loop rollout RMSE per run.

    The torque metrics pool the valid frames of all ``logs`` (multi-joint runs split per joint). ``model`` is
    anything with ``predict(log)`` (a trained :class:`~.actuator_model.ActuatorModel` or a baseline); the rollout
    is :func:`~.rollout.rollout`. Lazily read runs (:class:`~learned_actuators.data.lazy_runs.LazyRuns`) are
    evaluated one at a time (file order), the metrics pooled from sums (:class:`TorqueSums`) and the rollout run per
    run, so memory holds one run.
    """
    if isinstance(logs, LazyRuns):
        return _evaluate_lazy(model, logs, with_rollout)
    logs = split_joints(logs)
    sums = TorqueSums()
    for log in logs:
        _add_run(sums, model, log)
    out: dict[str, Any] = sums.metrics()
    if with_rollout and all("inertia" in log.meta for log in logs):
        ro = rollout(model, logs)
        out.update(rollout_rmse=ro.mean_rmse, rollout_rmse_runs=ro.rmse.tolist(), diverged=int(ro.diverged.sum()))
    return out


FIT_ROLLOUT_RUNS = 24
"""At most this many of a fold's training runs (evenly spaced, in order) are rolled out for :func:`fit_rollout`:
the cost stays a few seconds per fold on large benches."""

GAP_RATIO = 1.5
"""A split whose held-out rollout RMSE is at least this multiple of the rollout RMSE on its own training runs (and
:data:`GAP_MIN_RAD` above it) is flagged by :func:`generalisation_notes`: its runs show behaviour the training runs do
not."""

GAP_MIN_RAD = 0.01
"""Smallest gap [rad] between held-out and training-run rollout RMSE that :func:`generalisation_notes` flags."""


def fit_rollout(model, logs: list[JointLog]) -> dict[str, float | int]:
    """Open-loop rollout of ``model`` on the runs it was fitted on (in-sample): metrics keys, empty without one.

    ``fit_rollout_rmse``: the mean rollout RMSE [rad] over those runs, as the held-out ``rollout_rmse`` is taken;
    ``fit_diverged``: how many of them diverged (a model unstable on its own training runs); ``fit_runs``: how many
    were rolled out. Set beside the held-out rollout RMSE it tells a data-limited model (held out much worse than on
    its own runs: the test runs show behaviour the training runs do not) from a model-limited one (both alike: a
    better fit is what lowers the error). At most :data:`FIT_ROLLOUT_RUNS` runs, evenly spaced; none for lazily read
    runs or when a run's load is unknown (no rollout).
    """
    if isinstance(logs, LazyRuns) or not logs:
        return {}
    logs = split_joints(logs)
    if not all("inertia" in log.meta for log in logs):
        return {}
    if len(logs) > FIT_ROLLOUT_RUNS:
        logs = [logs[i] for i in np.linspace(0, len(logs) - 1, FIT_ROLLOUT_RUNS).round().astype(int)]
    ro = rollout(model, logs)
    return {"fit_rollout_rmse": ro.mean_rmse, "fit_diverged": int(ro.diverged.sum()), "fit_runs": len(logs)}


def generalisation_notes(rows: list[dict[str, Any]]) -> list[str]:
    """Per result row, its held-out rollout RMSE against the one on its own training runs, and the splits it flags.

    A split is flagged when its held-out rollout RMSE is at least :data:`GAP_RATIO` times the training runs' and
    :data:`GAP_MIN_RAD` above it: its runs show behaviour the training runs do not cover, so runs like them in the
    training data are what would lower the error. A row whose rollout diverged on some of its own training runs says
    so instead: unstable where it was fitted, its ratios mean nothing. Rows without both figures get no line.
    """
    lines = []
    for r in rows:
        if "rollout_rmse" not in r or "fit_rollout_rmse" not in r:
            continue
        held, fit = r["rollout_rmse"], r["fit_rollout_rmse"]
        if r.get("fit_diverged"):
            unstable = [
                f"{name} {s['fit_diverged']} of {s['fit_runs']}"
                for name, s in r.get("per_split", {}).items()
                if name != "mean" and s.get("fit_diverged")
            ]
            lines.append(
                f"{r['model']}: its rollout diverged on runs it was fitted on (training runs of split "
                f"{', '.join(unstable)}): unstable in closed loop where it was fitted, whatever its held-out rollout "
                f"({held:.3f} rad)"
            )
            continue
        line = f"{r['model']}: held-out rollout {held:.3f} rad, {held / fit:.1f}x its training runs' {fit:.3f}"
        flagged = [
            f"{name} {s['rollout_rmse']:.3f} against {s['fit_rollout_rmse']:.3f}"
            for name, s in r.get("per_split", {}).items()
            if name != "mean"
            and "rollout_rmse" in s
            and "fit_rollout_rmse" in s
            and s["rollout_rmse"] >= GAP_RATIO * s["fit_rollout_rmse"]
            and s["rollout_rmse"] - s["fit_rollout_rmse"] >= GAP_MIN_RAD
        ]
        if flagged:
            line += (
                f"; held out much worse than fitted (>= {GAP_RATIO}x): {', '.join(flagged)}: these runs show "
                "behaviour the training runs do not cover, add runs like them to the training data"
            )
        else:
            line += f"; every split within {GAP_RATIO}x: the error is the model's fit, not behaviour left unseen"
        lines.append(line)
    return lines


def _evaluate_lazy(model, logs: LazyRuns, with_rollout: bool) -> dict[str, Any]:
    """:func:`evaluate` run by run (one run in memory at a time), the metrics pooled from sums."""
    sums, rollout_rmse, diverged = TorqueSums(), [], 0
    rollout_too = with_rollout and all("inertia" in i.meta for i in logs.infos)
    for _, log in logs.in_file_order():
        _add_run(sums, model, log)
        if rollout_too:
            ro = rollout(model, [log])
            rollout_rmse.append(float(ro.rmse[0]))
            diverged += int(ro.diverged.sum())
    out: dict[str, Any] = sums.metrics()
    if rollout_too:
        out.update(rollout_rmse=float(np.mean(rollout_rmse)), rollout_rmse_runs=rollout_rmse, diverged=diverged)
    return out


def _add_run(sums: TorqueSums, model, log: JointLog) -> None:
    """One single-joint run's valid frames: the model's torque against the label, standstill frames marked.

    The model's torque is its ``joint_torque(log)`` where it has one (a physics prior's friction holding the joint
    against the load), else its ``predict(log)``.
    """
    m = loss_mask(log)
    tau = getattr(model, "joint_torque", model.predict)(log)
    sums.add(tau[m], log.tau[m, 0], np.abs(log.qd[m, 0]) < STILL_SPEED)


def format_table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of result rows (model, torque RMSE [N·m], R², rollout RMSE [rad], diverged, time [s]).

    Where rows have it, a column beside the held-out rollout RMSE gives the one on the model's own training runs
    (:func:`fit_rollout`). Where rows split the torque error, a column gives it on the moving and on the
    standstill frames (:data:`STILL_SPEED`). When a row is an ensemble (``train.ensemble > 1``) a column gives the
    calibration of its spread on the test frames: the share of errors within 1 and 2 standard deviations of the
    members (Gaussian: 68 % / 95 %).
    """
    split = any("n_still" in r for r in rows)
    spread = any("within_1sigma" in r for r in rows)
    fitted = any("fit_rollout_rmse" in r for r in rows)
    head = "| model | torque RMSE [N·m] | R² | rollout RMSE [rad] |" + " on its training runs [rad] |" * fitted
    head += " diverged runs | train time [s] |" + " moving / standstill [N·m] |" * split + " within 1σ / 2σ |" * spread
    lines = [head, "|---|---|---|---|---|---|" + "---|" * (fitted + split + spread)]
    for r in rows:
        ro = f"{r['rollout_rmse']:.3f}" if "rollout_rmse" in r else "—"
        if fitted:
            ro += f" | {r['fit_rollout_rmse']:.3f}" if "fit_rollout_rmse" in r else " | —"
            ro += f" ({r['fit_diverged']} diverged)" if r.get("fit_diverged") else ""
        line = (
            f"| {r['model']} | {r['rmse']:.3f} | {r['r2']:.2f} | {ro} | {r.get('diverged', '—')} | "
            f"{r.get('train_time_s', 0.0):.1f} |"
        )
        if split:
            line += " " + " / ".join(f"{r[k]:.3f}" if k in r else "—" for k in ("rmse_moving", "rmse_still")) + " |"
        if spread:
            calibrated = "within_1sigma" in r
            line += f" {r['within_1sigma']:.0%} / {r['within_2sigma']:.0%} |" if calibrated else " — |"
        lines.append(line)
    return "\n".join(lines)


def results_text(rows: list[dict[str, Any]]) -> str:
    """:func:`format_table`, then a bullet per row from :func:`generalisation_notes` (held out against fitted)."""
    notes = generalisation_notes(rows)
    text = format_table(rows)
    if notes:
        text += "\n\n" + "\n".join(f"* {line}" for line in notes)
    return text


def pool_results(results: list[dict[str, Any]], weights: list[int]) -> dict[str, Any]:
    """Pool per-fold results as if all test frames were one set.

    MSE and R² are over all frames; the rollout RMSE is the mean over all test runs.
    """
    w = np.asarray(weights, dtype=float)
    out = {"mse": float(np.average([r["mse"] for r in results], weights=w))}
    out["rmse"] = float(np.sqrt(out["mse"]))
    mean = float(np.average([r["label_mean"] for r in results], weights=w))
    var = float(np.average([r["label_var"] + (r["label_mean"] - mean) ** 2 for r in results], weights=w))
    out["r2"] = 1.0 - out["mse"] / var
    if all("rollout_rmse_runs" in r for r in results):
        runs = [x for r in results for x in r["rollout_rmse_runs"]]
        out.update(
            rollout_rmse=float(np.mean(runs)),
            rollout_rmse_runs=[float(x) for x in runs],
            diverged=int(sum(r["diverged"] for r in results)),
        )
    if all("fit_rollout_rmse" in r for r in results):  # each fold's own training runs: plain mean
        out["fit_rollout_rmse"] = float(np.mean([r["fit_rollout_rmse"] for r in results]))
        out["fit_diverged"] = int(sum(r["fit_diverged"] for r in results))
    if all("n_still" in r and "n" in r for r in results):
        sq = [r["mse"] * r["n"] for r in results]
        sq_still = [r["rmse_still"] ** 2 * r["n_still"] if r["n_still"] else 0.0 for r in results]
        n, n_still = sum(r["n"] for r in results), sum(r["n_still"] for r in results)
        out.update(n=n, **standstill_split(float(sum(sq)), n, float(sum(sq_still)), n_still))
    for key in ("within_1sigma", "within_2sigma", "ensemble_std"):  # an ensemble's spread: frame-weighted
        if all(key in r for r in results):
            out[key] = float(np.average([r[key] for r in results], weights=w))
    out["train_time_s"] = float(sum(r.get("train_time_s", 0.0) for r in results))
    return out


def per_split_results(splits, results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per-split (per-fold) metrics plus their plain mean under ``"mean"``."""
    keys = (
        "rmse",
        "rmse_moving",
        "rmse_still",
        "r2",
        "rollout_rmse",
        "fit_rollout_rmse",
        "fit_diverged",
        "fit_runs",
        "diverged",
        "within_1sigma",
        "within_2sigma",
        "ensemble_std",
        "train_time_s",
    )
    out = {name: {k: r[k] for k in keys if k in r} for (name, _), r in zip(splits, results, strict=True)}
    out["mean"] = {k: float(np.mean([r[k] for r in results])) for k in keys if all(k in r for r in results)}
    return out


def test_weight(logs: list[JointLog]) -> int:
    """Valid (loss-mask) frames of ``logs``: a fold's weight when folds are pooled."""
    if isinstance(logs, LazyRuns):
        return sum(i.valid_frames for i in logs.infos)
    return sum(int(loss_mask(g).sum()) for g in logs)
