"""The inspection page: one self-contained HTML file with interactive plotly figures (plotly.js inlined once)."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from ..data.joint_log import JointLog

__all__ = ["MAX_PLOT_POINTS", "MAX_PLOT_RUNS", "first_rows", "render_page"]

MAX_PLOT_RUNS = 40
"""Runs selectable in the signal plot (all runs are in the tables and the JSON summary)."""

MAX_PLOT_POINTS = 3000
"""Points per signal and run in the signal plot (longer runs are decimated by a stride)."""

FIRST_ROWS = 12
"""Rows of each run shown as a table."""

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:1300px;color:#222}
table{border-collapse:collapse;font-size:13px;margin:.5em 0}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f0f0f0}td.l,th.l{text-align:left}.error{background:#fdd}.warning{background:#ffd}.info{background:#eef}
h2{margin-top:1.4em;border-bottom:1px solid #ddd}code{background:#f5f5f5;padding:0 3px}
"""


def first_rows(log: JointLog, n: int = FIRST_ROWS) -> dict[str, list]:
    """The first ``n`` frames of a run, column -> values (SI units, after cleaning)."""
    cols = {"t [s]": log.t, "position [rad]": log.q[:, 0], "target [rad]": log.q_target[:, 0]}
    cols["velocity [rad/s]"] = log.qd[:, 0]
    if log.tau is not None:
        cols["torque [N·m]"] = log.tau[:, 0]
    cols["valid"] = np.ones(len(log), dtype=bool) if log.valid is None else log.valid
    return {k: [v.item() for v in np.asarray(a[:n])] for k, a in cols.items()}


def _table(header: list[str], rows: list[list], cls: list[str] | None = None, table_id: str = "") -> str:
    def cell(v) -> str:
        if isinstance(v, float):
            return f"<td>{v:.4g}</td>"
        return f'<td class="l">{html.escape(str(v))}</td>'

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        f'<tr class="{cls[i] if cls else ""}">' + "".join(cell(v) for v in r) + "</tr>" for i, r in enumerate(rows)
    )
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _signals_figure(logs: list[JointLog]) -> go.Figure:
    fig = go.Figure()
    shown = logs[:MAX_PLOT_RUNS]
    per_run = []
    for i, log in enumerate(shown):
        step = max(1, len(log) // MAX_PLOT_POINTS)
        t = log.t[::step]
        traces = [("position [rad]", log.q), ("target [rad]", log.q_target), ("velocity [rad/s]", log.qd)]
        if log.tau is not None:
            traces.append(("torque [N·m]", log.tau))
        for name, arr in traces:
            fig.add_trace(go.Scatter(x=t, y=arr[::step, 0], name=name, mode="lines", visible=i == 0))
        per_run.append(len(traces))
    buttons, start = [], 0
    total = sum(per_run)
    for log, k in zip(shown, per_run, strict=True):
        visible = [start <= j < start + k for j in range(total)]
        buttons.append({"label": log.name, "method": "update", "args": [{"visible": visible}, {"title": log.name}]})
        start += k
    fig.update_layout(
        title=shown[0].name,
        xaxis_title="time [s]",
        height=420,
        updatemenus=[{"buttons": buttons, "x": 1.0, "y": 1.18, "xanchor": "right"}],
    )
    return fig


def _coverage_figure(cov: dict[str, Any]) -> go.Figure:
    xe, ye = np.asarray(cov["pos_error_edges"]), np.asarray(cov["velocity_edges"])
    z = np.asarray(cov["counts"], dtype=float)
    fig = go.Figure(go.Heatmap(x=0.5 * (xe[1:] + xe[:-1]), y=0.5 * (ye[1:] + ye[:-1]), z=np.where(z > 0, z, np.nan)))
    fig.update_layout(
        title=f"coverage: {cov['filled_share']:.0%} of the bins hold frames",
        xaxis_title="position error q* − q [rad]",
        yaxis_title="velocity [rad/s]",
        height=420,
    )
    return fig


def _gains_figure(gains: dict[str, dict[str, int]]) -> go.Figure:
    fig = go.Figure([go.Bar(x=list(c), y=list(c.values()), name=k) for k, c in gains.items()])
    fig.update_layout(title="valid frames per gain value", xaxis_title="gain (log units)", height=320)
    return fig


def _torque_speed_figure(logs: list[JointLog]) -> go.Figure | None:
    with_tau = [g for g in logs if g.tau is not None]
    if not with_tau:
        return None
    qd = np.concatenate([g.qd[:, 0] for g in with_tau])
    tau = np.concatenate([g.tau[:, 0] for g in with_tau])
    idx = np.random.default_rng(0).choice(len(qd), size=min(len(qd), 5000), replace=False)
    fig = go.Figure(go.Scatter(x=qd[idx], y=tau[idx], mode="markers", marker={"size": 3, "opacity": 0.5}))
    fig.update_layout(title="torque vs speed", xaxis_title="velocity [rad/s]", yaxis_title="torque [N·m]", height=420)
    return fig


def _run_rows(stats: list[dict[str, Any]]) -> list[list]:
    rows = []
    for s in stats:
        src = s.get("source_timestamps", s)
        p1, _, p99, top = src["step_ms"]
        lag = s["velocity_lag_ms"]
        rows.append(
            [
                s["name"],
                s["group"],
                s["frames"],
                s["duration_s"],
                float(src["rate_hz"]),
                f"{p1:.3g}-{p99:.3g} (max {top:.3g})",
                s["gaps"] + s.get("gaps_source_frames", 0),
                s["valid_share"],
                "—" if lag is None else float(lag),
                f"{s['glitches']['found']} / {sum(s['glitches']['replaced'].values())}",
                ", ".join(f"{k} {v:.0%}" for k, v in s["saturation"].items()),
            ]
        )
    return rows


def _figures_html(figures: list[tuple[str, go.Figure]]) -> str:
    parts = []
    for i, (div_id, fig) in enumerate(figures):
        parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=i == 0, div_id=div_id))
    return "\n".join(parts)


def render_page(summary: dict[str, Any], logs: list[JointLog]) -> str:
    """The HTML page of an inspection ``summary`` (:func:`~learned_actuators.inspection.inspect.inspect_data`)."""
    findings = summary["findings"]
    figures = [("signals", _signals_figure(logs)), ("coverage", _coverage_figure(summary["coverage"]))]
    if summary["gains"]:
        figures.append(("gains", _gains_figure(summary["gains"])))
    ts = _torque_speed_figure(logs)
    if ts is not None:
        figures.append(("torque_speed", ts))
    head = ["run", "group", "frames", "duration [s]", "rate [Hz]", "step 1-99 % [ms]", "gaps", "valid share"]
    head += ["velocity lag left [ms]", "glitches found / replaced", "saturation"]
    split = summary["split"]
    split_html = (
        f"<p class='error'>{html.escape(split['error'])}</p>"
        if "error" in split
        else _table(
            ["split", "train", "val", "test", "test runs"],
            [
                [n, v["train"].__len__(), len(v["val"]), len(v["test"]), ", ".join(v["test"][:8])]
                for n, v in ((n, {k: s[k] for k in ("train", "val", "test")}) for n, s in split["splits"].items())
            ],
            table_id="split",
        )
    )
    rows_html = []
    for i, (name, cols) in enumerate(list(summary["first_rows"].items())[:10]):
        body = _table(list(cols), [list(r) for r in zip(*cols.values(), strict=True)], table_id=f"rows_{i}")
        rows_html.append(f"<details{' open' if i == 0 else ''}><summary>{html.escape(name)}</summary>{body}</details>")
    src = summary["source"]
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Log inspection: {html.escape(src["path"])}</title>
<style>{_STYLE}</style></head><body>
<h1>Log inspection</h1>
<p><code>{html.escape(src["path"])}</code> read by <code>{html.escape(src["reader"])}</code>
{f"with column map <code>{html.escape(str(src['column_map']))}</code>" if src.get("column_map") else ""}:
{summary["runs"]} run(s), {summary["frames"]} frames, {summary["duration_s"]:.1f} s.</p>
<h2>Findings ({len(findings)})</h2>
{
        _table(
            ["level", "run", "what", "what to change"],
            [[f["level"], f["run"], f["what"], f["fix"]] for f in findings],
            [f["level"] for f in findings],
            "findings",
        )
    }
<h2>Runs</h2>
{_table(head, _run_rows(summary["per_run"]), table_id="runs")}
<h2>Plots</h2>
<p>Signals of one run (menu at the top right picks the run; the first {MAX_PLOT_RUNS} runs), coverage of
(position error, velocity) over the valid frames of all runs, gains and torque vs speed. Drag to zoom,
double-click to reset.</p>
{_figures_html(figures)}
<h2>Split ({html.escape(str(split.get("split", "")))})</h2>
{split_html}
<h2>First rows</h2>
{"".join(rows_html)}
</body></html>
"""
