"""Validation report: a self-contained HTML page (plots embedded as base64 PNG), a JSON file and a text table.

The HTML needs no network and no other file: open it in any browser offline. Both files are written atomically
(temporary file, fsync, rename): an interrupted run leaves the previous report readable.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path

import numpy as np

from ..atomic_io import atomic_write_text
from .results import TABLE_COLUMNS, ValidationResult

__all__ = ["format_table", "json_safe", "write_html", "write_json", "write_report"]

LOG_STYLE = {"color": "black", "linewidth": 1.6, "label": "logged"}
TARGET_STYLE = {"color": "0.6", "linewidth": 1.0, "linestyle": "--", "label": "command"}


def json_safe(value):
    """Recursively convert NumPy types to Python and non-finite floats to ``None`` (NaN) or ``"inf"``/``"-inf"``."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if math.isinf(value):
            return "diverged"
        return f"{value:.4g}"
    return str(value)


def format_table(result: ValidationResult) -> str:
    """The results table as aligned plain text (one row per model)."""
    headers = [h + (f" [{u}]" if u else "") for _, h, u in TABLE_COLUMNS]
    rows = [[_fmt(row[key]) for key, _, _ in TABLE_COLUMNS] for row in result.table()]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _plot_joint(result: ValidationResult) -> int:
    """Joint shown in the overlays: the one with the largest logged range."""
    q = result.batch.q
    return int(np.argmax(q.max(axis=(0, 1)) - q.min(axis=(0, 1))))


def _overlay_figure(result: ValidationResult, num_runs: int, signal: str):
    import matplotlib.pyplot as plt

    batch = result.batch
    j = _plot_joint(result)
    runs = list(range(min(num_runs, batch.num_envs)))
    cols = 2 if len(runs) > 1 else 1
    rows = math.ceil(len(runs) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7 * cols, 2.6 * rows), squeeze=False)
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
        ax.set_title(f"{batch.names[e]} · {batch.joint_names[j]}", fontsize=9)
        ax.set_xlabel("time [s]")
        ax.set_ylabel("position [rad]" if signal == "q" else "velocity [rad/s]")
    for ax in list(axes.flat)[len(runs) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def _growth_figure(result: ValidationResult):
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


def _per_run_figure(result: ValidationResult):
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


def _html_table(result: ValidationResult) -> str:
    head = "".join(f"<th>{html.escape(h)}{f' [{html.escape(u)}]' if u else ''}</th>" for _, h, u in TABLE_COLUMNS)
    body = []
    for row in result.table():
        cells = "".join(f"<td>{html.escape(_fmt(row[key]))}</td>" for key, _, _ in TABLE_COLUMNS)
        body.append(f"<tr>{cells}</tr>")
    return f'<table id="results"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def write_html(
    result: ValidationResult, path: str | Path, title: str = "Actuator validation", num_runs: int = 6
) -> Path:
    """Write the self-contained HTML report to ``path`` and return it."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    batch = result.batch
    figures = [
        ("Logged vs simulated joint position", _overlay_figure(result, num_runs, "q")),
        ("Logged vs simulated joint velocity", _overlay_figure(result, num_runs, "qd")),
        ("Error growth", _growth_figure(result)),
        ("Rollout position RMSE per run", _per_run_figure(result)),
    ]
    images = "\n".join(
        f'<h2>{html.escape(caption)}</h2><img alt="{html.escape(caption)}" src="data:image/png;base64,{_png(fig)}"/>'
        for caption, fig in figures
    )
    skipped = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in result.skipped.items())
    settings = html.escape(json.dumps(json_safe(result.settings), indent=1, sort_keys=True))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1400px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:3px 8px;text-align:right}} th{{background:#eee}} img{{max-width:100%}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<p>{batch.num_envs} runs × {len(batch.joint_names)} joint(s) ({html.escape(", ".join(batch.joint_names))}),
log period {batch.dt:.6g} s, physics step {result.physics_dt:.6g} s, replica: {html.escape(result.replica)}.
Rollout: open loop from the logged initial state, driven by the logged commands; metrics over the counted
(valid) frames only. Single-step: the model fed the logged state, compared with the torque label.
Baselines: IdealPD and DCMotor use the logged gains; fitted_pd is a PD fitted by least squares on the torque
labels of the very logs shown here (in-sample), so it is an optimistic reference, not a held-out model.</p>
<h2>Results</h2>
{_html_table(result)}
{f"<p>Not run:</p><ul>{skipped}</ul>" if skipped else ""}
{images}
<h2>Settings</h2><pre>{settings}</pre>
</body></html>
"""
    return atomic_write_text(path, page)


def write_json(result: ValidationResult, path: str | Path) -> Path:
    """Write every model's metrics as JSON to ``path`` and return it."""
    return atomic_write_text(path, json.dumps(json_safe(result.to_json_dict()), indent=1, allow_nan=False))


def write_report(result: ValidationResult, out_dir: str | Path, num_runs: int = 6) -> dict[str, Path]:
    """Write ``report.html`` and ``metrics.json`` into ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    return {
        "html": write_html(result, out_dir / "report.html", num_runs=num_runs),
        "json": write_json(result, out_dir / "metrics.json"),
    }
