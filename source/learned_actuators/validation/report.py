"""Validation report: a self-contained HTML page (plots embedded as base64 PNG), a JSON file and a text table.

The page opens with the verdict (:mod:`~learned_actuators.validation.verdict`: the best learned model by mean per-run
rollout RMSE vs the best baseline fitted on training data only; oracle rows excluded), then the results table, the
per-run errors (table and strip plot), position, velocity and torque traces, error growth and the provenance (commit,
package versions, date, data files with sha256). The HTML needs no network and no other file (no script, no external
style or image): open it in any browser offline. Both files are written atomically
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

from ..atomic_io import atomic_write_text, json_safe
from .results import ValidationResult

__all__ = ["format_table", "json_safe", "write_html", "write_json", "write_report"]

LOG_STYLE = {"color": "black", "linewidth": 1.6, "label": "logged"}
TARGET_STYLE = {"color": "0.6", "linewidth": 1.0, "linestyle": "--", "label": "command"}


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
    columns = result.table_columns()
    headers = [h + (f" [{u}]" if u else "") for _, h, u in columns]
    rows = [[_fmt(row[key]) for key, _, _ in columns] for row in result.table()]
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


def _overlay_figure(result: ValidationResult, num_runs: int, signal: str):
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


def _torque_figure(result: ValidationResult, num_runs: int):
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


def _spread_figure(result: ValidationResult):
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
    columns = result.table_columns()
    head = "".join(f"<th>{html.escape(h)}{f' [{html.escape(u)}]' if u else ''}</th>" for _, h, u in columns)
    body = []
    for row in result.table():
        cells = "".join(f"<td>{html.escape(_fmt(row[key]))}</td>" for key, _, _ in columns)
        body.append(f"<tr>{cells}</tr>")
    return f'<table id="results"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _html_per_run(result: ValidationResult) -> str:
    """Runs × models table of the rollout position RMSE; the lowest non-oracle value of each run in bold."""
    rows = result.table(by_bench=False)
    models = {m.name: m for m in result.models}
    head = "<th>run</th>" + ("<th>fold</th>" if result.folds else "") + "<th>kp</th>"
    head += "".join(f"<th>{html.escape(r['model'])}<br><small>{html.escape(r['kind'])}</small></th>" for r in rows)
    body = []
    for e, name in enumerate(result.batch.names):
        vals = {r["model"]: float(models[r["model"]].rollout["pos_rmse_per_traj"][e]) for r in rows}
        fair = [v for n, v in vals.items() if models[n].kind != "oracle" and math.isfinite(v)]
        best = min(fair) if fair else None
        kp = result.batch.metas[e].get("kp") if e < len(result.batch.metas) else None
        cells = f"<td>{html.escape(name)}</td>"
        cells += f"<td>{html.escape(result.folds[e])}</td>" if result.folds else ""
        cells += f"<td>{html.escape(_fmt(kp))}</td>"
        for r in rows:
            text = html.escape(_fmt(vals[r["model"]]))
            bold = best is not None and vals[r["model"]] == best and models[r["model"]].kind != "oracle"
            cells += f"<td>{'<b>' + text + '</b>' if bold else text}</td>"
        body.append(f"<tr>{cells}</tr>")
    span = 3 if result.folds else 2
    means = "".join(f"<td><b>{html.escape(_fmt(r['pos_rmse_run_mean']))}</b></td>" for r in rows)
    body.append(f'<tr><td colspan="{span}"><b>mean over runs</b></td>{means}</tr>')
    return f'<table id="per_run"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _second_verdict(result: ValidationResult) -> str:
    """The trainer's 1-DOF rollout verdict the main job records (``settings["demo"]["one_dof_verdict"]``), if any."""
    line = (result.settings.get("demo") or {}).get("one_dof_verdict")
    return f'\n<p class="verdict" id="one-dof-verdict">{html.escape(line)}</p>' if line else ""


def _html_provenance(prov: dict) -> str:
    if not prov:
        return "<p>No provenance recorded.</p>"
    git = prov.get("git")
    commit = "not a git checkout (or git unavailable)"
    if git:
        commit = git["commit"] + (" (with uncommitted changes)" if git.get("dirty") else "")
    packages = ", ".join(f"{k} {v or 'not installed'}" for k, v in (prov.get("packages") or {}).items())
    files = "".join(
        f"<tr><td style='text-align:left'>{html.escape(str(f['path']))}</td><td>{_fmt(f.get('bytes'))}</td>"
        f"<td style='text-align:left'><code>{html.escape(str(f.get('sha256')))}</code></td></tr>"
        for f in prov.get("data_files", [])
    )
    return (
        f"<ul><li>date: {html.escape(str(prov.get('date')))}</li><li>git commit: {html.escape(commit)}</li>"
        f"<li>packages: {html.escape(packages)}</li><li>Python {html.escape(str(prov.get('python')))} on "
        f"{html.escape(str(prov.get('platform')))}</li></ul>"
        f"<details><summary>{len(prov.get('data_files', []))} data and network files (sha256)</summary>"
        f"<table><thead><tr><th>file</th><th>bytes</th><th>sha256</th></tr></thead><tbody>{files}</tbody></table>"
        "</details>"
    )


def write_html(
    result: ValidationResult, path: str | Path, title: str = "Actuator validation", num_runs: int = 6
) -> Path:
    """Write the self-contained HTML report to ``path`` and return it."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    batch = result.batch
    figures_top = [("Rollout position RMSE per run (spread)", _spread_figure(result))]
    figures = [
        ("Logged vs simulated joint position", _overlay_figure(result, num_runs, "q")),
        ("Logged vs simulated joint velocity", _overlay_figure(result, num_runs, "qd")),
    ]
    if batch.tau is not None:
        figures.append(
            ("Model torque fed the logged state (single step) vs logged torque", _torque_figure(result, num_runs))
        )
    figures += [
        ("Error growth", _growth_figure(result)),
        ("Rollout position RMSE per run", _per_run_figure(result)),
    ]

    def embed(items) -> str:
        return "\n".join(
            f'<h2>{html.escape(c)}</h2><img alt="{html.escape(c)}" src="data:image/png;base64,{_png(fig)}"/>'
            for c, fig in items
        )

    verdict = result.verdict()
    skipped = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in result.skipped.items())
    settings = html.escape(json.dumps(json_safe(result.settings), indent=1, sort_keys=True))
    fold_names = list(dict.fromkeys(result.folds))
    if len(fold_names) > 1:
        where = (
            f"{batch.num_envs} held-out runs from {len(fold_names)} folds (held-out groups: "
            f"{html.escape(', '.join(fold_names))}); the runs of each fold are validated with the models trained "
            "without them and the baselines fitted without them"
        )
    elif fold_names:
        where = f"{batch.num_envs} held-out runs of one fold ({html.escape(fold_names[0])})"
    else:
        where = f"{batch.num_envs} runs"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1400px}} table{{border-collapse:collapse;margin:0.5em 0}}
td,th{{border:1px solid #bbb;padding:3px 8px;text-align:right}} th{{background:#eee}} img{{max-width:100%}}
.verdict{{font-size:1.15em;padding:0.6em 1em;border-left:6px solid {"#2a7" if verdict.learned_wins else "#c60"};
background:#f6f6f6}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<p class="verdict" id="verdict"><b>Verdict:</b> {html.escape(verdict.line)}</p>{_second_verdict(result)}
<p>{where}; {len(batch.joint_names)} joint(s) ({html.escape(", ".join(batch.joint_names))}),
log period {batch.dt:.6g} s, physics step {result.physics_dt:.6g} s (decimation {result.decimation}),
replica: {html.escape(result.replica)}{f", {len(set(result.benches))} bench geometries" if result.benches else ""}.
Rollout: open loop from the logged initial state, driven by the logged commands; metrics over the counted
(valid) frames only. Single-step: the model fed the logged state, compared with the torque label.
Verdict metric: the mean over runs of each run's rollout position RMSE.</p>
<p>Kinds: <b>model</b> = learned net under test; <b>baseline</b> = fitted or set from training runs only
(ideal_pd and dc_motor: the logged gains with the gain scale, damping and torque-speed curve of the settings below,
in the demo those of the fold's GRU-PD file, fitted on its training runs; fitted_pd: a PD fitted by least squares on
the training runs); <b>oracle</b> = fitted on the very runs shown here (in-sample): an optimistic reference, excluded
from the verdict.</p>
<h2>Results</h2>
{_html_table(result)}
{f"<p>Not run:</p><ul>{skipped}</ul>" if skipped else ""}
{embed(figures_top)}
<h2>Rollout position RMSE per run [rad]</h2>
<p>Bold: the lowest error of each run among the models and non-oracle baselines.</p>
{_html_per_run(result)}
{embed(figures)}
<h2>Provenance</h2>
{_html_provenance(result.provenance)}
<h2>Settings</h2><details><summary>resolved settings (JSON)</summary><pre>{settings}</pre></details>
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
