"""Validation report: a self-contained HTML page (plots embedded as base64 PNG), a JSON file and a text table.

The page opens with the verdict (:mod:`~learned_actuators.validation.verdict`: the best learned model by mean per-run
rollout RMSE vs the best baseline fitted on training data only; oracle rows excluded), then the results table, the
per-run errors (table and strip plot), position, velocity and torque traces, error growth and the provenance (commit,
package versions, date, data files with sha256). The HTML needs no network and no other file (no script, no external
style or image): open it in any browser offline (the figures: :mod:`.report_figures`). Both files are written atomically
(temporary file, fsync, rename): an interrupted run leaves the previous report readable.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

from ..atomic_io import atomic_write_text, json_safe
from .report_figures import png_base64, report_figures, shown_runs
from .results import ValidationResult
from .verdict import PER_GAIN_LABEL

__all__ = ["format_table", "json_safe", "shown_runs", "write_html", "write_json", "write_report"]


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


def _per_gain_note(result: ValidationResult) -> str:
    """Which models are one net per gain (``settings["per_gain_models"]``), under the results table."""
    names = result.settings.get("per_gain_models") or []
    if not names:
        return ""
    return (
        f"<p>{html.escape(', '.join(names))}: {PER_GAIN_LABEL[1:-1]} (<code>&lt;model&gt;_kp&lt;gain&gt;.pt</code>, "
        "trained on the training runs of that gain); each held-out run is replayed with the net of its gain, each "
        "row pools the runs of every gain.</p>"
    )


def _second_verdict(result: ValidationResult) -> str:
    """The trainer's 1-DOF rollout verdict the main job records (``settings["demo"]["one_dof_verdict"]``), if any."""
    line = (result.settings.get("demo") or {}).get("one_dof_verdict")
    return f'\n<p class="verdict" id="one-dof-verdict">{html.escape(line)}</p>' if line else ""


def _against(verdict) -> str:
    """Every learned model against the ideal PD (:func:`~.verdict.against_reference`), if that baseline ran."""
    line = verdict.against_reference
    return f'\n<p class="verdict" id="against-reference">{html.escape(line)}</p>' if line else ""


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


def _embed(items) -> str:
    """Each (caption, figure) as a heading and an inline base64 PNG image."""
    return "\n".join(
        f'<h2>{html.escape(c)}</h2><img alt="{html.escape(c)}" src="data:image/png;base64,{png_base64(fig)}"/>'
        for c, fig in items
    )


def _where(result: ValidationResult) -> str:
    """Which runs the report shows: all, one fold's held-out runs, or the held-out runs of several folds."""
    batch = result.batch
    records = result.settings.get("folds") or {}
    parts = list(dict.fromkeys(result.folds))
    fold_names = list(dict.fromkeys((records.get(p) or {}).get("fold", p) for p in parts))  # sub-folds: their fold
    by_gain = f", each fold's runs validated per gain ({len(parts)} sub-folds)" if len(parts) > len(fold_names) else ""
    if len(fold_names) > 1:
        return (
            f"{batch.num_envs} held-out runs from {len(fold_names)} folds (held-out groups: "
            f"{html.escape(', '.join(fold_names))}{by_gain}); the runs of each fold are validated with the models "
            "trained without them and the baselines fitted without them"
        )
    if fold_names:
        return f"{batch.num_envs} held-out runs of one fold ({html.escape(fold_names[0])}{by_gain})"
    return f"{batch.num_envs} runs"


_KINDS = """<p>Kinds: <b>model</b> = learned net under test; <b>baseline</b> = fitted or set from training runs only
(ideal_pd and dc_motor: the logged gains with the gain scale, damping and torque-speed curve of the settings below,
in the demo those of the fold's GRU-PD file, fitted on its training runs; fitted_pd: a PD fitted by least squares on
the training runs); <b>oracle</b> = fitted on the very runs shown here (in-sample): an optimistic reference, excluded
from the verdict.</p>"""


def write_html(
    result: ValidationResult, path: str | Path, title: str = "Actuator validation", num_runs: int = 6
) -> Path:
    """Write the self-contained HTML report to ``path`` and return it."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    batch = result.batch
    figures_top, figures = report_figures(result, num_runs)
    verdict = result.verdict()
    lines = _against(verdict) + _second_verdict(result)  # each learned model vs the ideal PD; the 1-DOF verdict
    skipped = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in result.skipped.items())
    settings = html.escape(json.dumps(json_safe(result.settings), indent=1, sort_keys=True))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1400px}} table{{border-collapse:collapse;margin:0.5em 0}}
td,th{{border:1px solid #bbb;padding:3px 8px;text-align:right}} th{{background:#eee}} img{{max-width:100%}}
.verdict{{font-size:1.15em;padding:0.6em 1em;border-left:6px solid {"#2a7" if verdict.learned_wins else "#c60"};
background:#f6f6f6}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<p class="verdict" id="verdict"><b>Verdict:</b> {html.escape(verdict.line)}</p>{lines}
<p>{_where(result)}; {len(batch.joint_names)} joint(s) ({html.escape(", ".join(batch.joint_names))}),
log period {batch.dt:.6g} s, physics step {result.physics_dt:.6g} s (decimation {result.decimation}),
replica: {html.escape(result.replica)}{f", {len(set(result.benches))} bench geometries" if result.benches else ""}.
Rollout: open loop from the logged initial state, driven by the logged commands; metrics over the counted
(valid) frames only. Single-step: the model fed the logged state, compared with the torque label.
Verdict metric: the mean over runs of each run's rollout position RMSE.</p>
{_KINDS}
<h2>Results</h2>
{_html_table(result)}
{_per_gain_note(result)}
{f"<p>Not run:</p><ul>{skipped}</ul>" if skipped else ""}
{_embed(figures_top)}
<h2>Rollout position RMSE per run [rad]</h2>
<p>Bold: the lowest error of each run among the models and non-oracle baselines.</p>
{_html_per_run(result)}
{_embed(figures)}
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
