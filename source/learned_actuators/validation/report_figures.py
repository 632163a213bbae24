"""The figures of the validation report (matplotlib, Agg), each returned as a figure or embedded as base64 PNG."""

from __future__ import annotations

import base64
import io
import math

import numpy as np

from .results import ValidationResult

LOG_STYLE = {"color": "black", "linewidth": 1.6, "label": "logged"}
TARGET_STYLE = {"color": "0.6", "linewidth": 1.0, "linestyle": "--", "label": "command"}


def png_base64(fig) -> str:
    """``fig`` as a base64 PNG (90 dpi), closed afterwards."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _plot_joint(result: ValidationResult) -> int:
    """Joint shown in the overlays: the one with the largest logged range."""
    q = result.batch.q
    return int(np.argmax(q.max(axis=(0, 1)) - q.min(axis=(0, 1))))


def shown_runs(result: ValidationResult, num_runs: int) -> list[int]:
    """Runs shown as traces: the first ones, or with several folds the first runs of every fold in turn."""
    total = result.batch.num_envs
    if not result.folds:
        return list(range(min(num_runs, total)))
    by_fold: dict[str, list[int]] = {}
    for e, fold in enumerate(result.folds):
        by_fold.setdefault(fold, []).append(e)
    picked: list[int] = []
    for k in range(max(len(v) for v in by_fold.values())):
        for runs in by_fold.values():
            if k < len(runs) and len(picked) < num_runs:
                picked.append(runs[k])
    return sorted(picked)


def _run_title(result: ValidationResult, e: int, j: int) -> str:
    batch = result.batch
    fold = f" · fold {result.folds[e]}" if result.folds else ""
    kp = batch.metas[e].get("kp") if e < len(batch.metas) else None
    gain = f" · kp {kp:g}" if isinstance(kp, int | float) else ""
    return f"{batch.names[e]}{fold}{gain} · {batch.joint_names[j]}"


def _run_grid(plt, num_runs: int):
    """A figure with one panel per shown run, two columns when there are several."""
    cols = 2 if num_runs > 1 else 1
    rows = math.ceil(num_runs / cols)
    return plt.subplots(rows, cols, figsize=(7 * cols, 2.6 * rows), squeeze=False)


def overlay_figure(result: ValidationResult, num_runs: int, signal: str):
    """Logged vs simulated joint position (``signal="q"``, with the command) or velocity (``"qd"``), shown runs."""
    import matplotlib.pyplot as plt

    batch, j = result.batch, _plot_joint(result)
    runs = shown_runs(result, num_runs)
    fig, axes = _run_grid(plt, len(runs))
    for ax, e in zip(axes.flat, runs, strict=False):
        n = int(batch.lengths[e])
        time = batch.time[:n]
        logged = batch.q if signal == "q" else batch.qd
        ax.plot(time, logged[e, :n, j], **LOG_STYLE)
        if signal == "q":
            ax.plot(time, batch.q_target[e, :n, j], **TARGET_STYLE)
        for m in result.models:
            sim = m.q_sim if signal == "q" else m.qd_sim
            ax.plot(time, sim[e, :n, j], linewidth=1.0, label=m.name)
        ax.set_title(_run_title(result, e, j), fontsize=9)
        ax.set_xlabel("time [s]")
        ax.set_ylabel("position [rad]" if signal == "q" else "velocity [rad/s]")
    for ax in list(axes.flat)[len(runs) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def torque_figure(result: ValidationResult, num_runs: int):
    """Single-step model torque (fed the logged state) vs the logged torque label, on the counted frames."""
    import matplotlib.pyplot as plt

    batch, j = result.batch, _plot_joint(result)
    runs = shown_runs(result, num_runs)
    fig, axes = _run_grid(plt, len(runs))
    for ax, e in zip(axes.flat, runs, strict=False):
        n = int(batch.lengths[e])
        time = batch.time[:n]
        counted = batch.mask[e, :n]

        def masked(x, counted=counted):
            return np.where(counted, x, np.nan)

        ax.plot(time, masked(batch.tau[e, :n, j]), **{**LOG_STYLE, "label": "logged torque"})
        for m in result.models:
            if m.tau_single is not None:
                ax.plot(time, masked(m.tau_single[e, :n, j]), linewidth=1.0, label=m.name)
        ax.set_title(_run_title(result, e, j), fontsize=9)
        ax.set_xlabel("time [s]")
        ax.set_ylabel("torque [N·m]")
    for ax in list(axes.flat)[len(runs) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def spread_figure(result: ValidationResult):
    """Per-run rollout RMSE of every model: box plot with every run as a dot (coloured by fold), mean as a diamond."""
    import matplotlib.pyplot as plt

    rows = result.table(by_bench=False)
    names = [r["model"] for r in rows]
    per_run = {m.name: np.asarray(m.rollout["pos_rmse_per_traj"], dtype=float) for m in result.models}
    finite = np.concatenate([v[np.isfinite(v)] for v in per_run.values()] or [np.zeros(1)])
    top = float(finite.max()) * 1.15 if finite.size else 1.0
    folds = result.folds or ["all runs"] * result.batch.num_envs
    colours = {f: plt.cm.tab10(i % 10) for i, f in enumerate(dict.fromkeys(folds))}
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(names) + 2), 4))
    data = [np.where(np.isfinite(per_run[n]), per_run[n], np.nan) for n in names]
    ax.boxplot([d[np.isfinite(d)] for d in data], positions=range(len(names)), widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)
    for i, name in enumerate(names):
        vals = per_run[name]
        x = i + rng.uniform(-0.15, 0.15, size=len(vals))
        for fold in colours:
            sel = np.asarray([f == fold for f in folds]) & np.isfinite(vals)
            ax.scatter(x[sel], vals[sel], s=14, color=colours[fold], label=fold if i == 0 else None, zorder=3)
        bad = ~np.isfinite(vals)
        if bad.any():
            ax.scatter(x[bad], np.full(bad.sum(), top), marker="x", color="red", zorder=3)
            ax.annotate(f"{bad.sum()} diverged", (i, top), fontsize=7, ha="center", va="bottom", color="red")
        mean = rows[i]["pos_rmse_run_mean"]
        if math.isfinite(mean):
            ax.scatter([i], [mean], marker="D", color="black", s=28, zorder=4, label="mean" if i == 0 else None)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([f"{r['model']}\n({r['kind']})" for r in rows], fontsize=8)
    ax.set_ylabel("rollout position RMSE per run [rad]")
    ax.set_ylim(0, top * 1.08)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7, title="fold (held-out group)" if result.folds else None, title_fontsize=7)
    fig.tight_layout()
    return fig


def growth_figure(result: ValidationResult):
    """Position and velocity rollout RMSE vs horizon (log-log) of every model."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for m in result.models:
        for ax, growth in zip(axes, (m.pos_growth, m.vel_growth), strict=True):
            ok = np.isfinite(growth.rmse) & (growth.rmse > 0)
            if ok.any():
                ax.loglog(
                    growth.horizon[ok],
                    growth.rmse[ok],
                    marker="o",
                    markersize=3,
                    label=f"{m.name} (p={growth.exponent:.2f})",
                )
    axes[0].set_ylabel("position RMSE [rad]")
    axes[1].set_ylabel("velocity RMSE [rad/s]")
    for ax in axes:
        ax.set_xlabel("horizon [s]")
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.suptitle("Open-loop rollout error growth (RMSE vs time since start; p = log-log slope)")
    fig.tight_layout()
    return fig


def per_run_figure(result: ValidationResult):
    """Rollout position RMSE of every run, one bar per model."""
    import matplotlib.pyplot as plt

    batch = result.batch
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * batch.num_envs * len(result.models) ** 0.5 + 4), 3.5))
    width = 0.8 / max(len(result.models), 1)
    x = np.arange(batch.num_envs)
    for i, m in enumerate(result.models):
        vals = np.asarray(m.rollout["pos_rmse_per_traj"], dtype=float)
        ax.bar(x + i * width, np.where(np.isfinite(vals), vals, np.nan), width, label=m.name)
    ax.set_xticks(x + 0.4 - width / 2)
    ax.set_xticklabels(batch.names, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("rollout position RMSE [rad]")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def report_figures(result: ValidationResult, num_runs: int) -> tuple[list, list]:
    """The (caption, figure) pairs shown above the per-run table, and those shown below it, in page order."""
    figures_top = [("Rollout position RMSE per run (spread)", spread_figure(result))]
    figures = [
        ("Logged vs simulated joint position", overlay_figure(result, num_runs, "q")),
        ("Logged vs simulated joint velocity", overlay_figure(result, num_runs, "qd")),
    ]
    if result.batch.tau is not None:
        figures.append(
            ("Model torque fed the logged state (single step) vs logged torque", torque_figure(result, num_runs))
        )
    figures += [
        ("Error growth", growth_figure(result)),
        ("Rollout position RMSE per run", per_run_figure(result)),
    ]
    return figures_top, figures
