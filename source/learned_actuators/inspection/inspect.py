"""Inspect the runs a data config names: statistics, findings and the split, as a JSON summary and an HTML page.

The runs are read by :func:`~learned_actuators.learning.data_loading.load_data`, exactly as training reads them (every
reader, the column map's cleaning, ``data.*`` filters). When that fails for a column-mapped folder, each log is read
alone so the page still shows the readable runs and names the failing files with the reader's error (which says what
to change).
"""

from __future__ import annotations

import sys
from typing import Any

from ..atomic_io import json_safe
from ..data.checks import validate_accept
from ..data.column_map import load_column_map, read_mapped_log
from ..data.joint_log import JointLog
from ..data.splits import split_joints
from ..errors import UserInputError
from .dataset import coverage, dataset_findings, gains, label_noise, split_summary
from .page import first_rows
from .runs import run_findings, run_stats

__all__ = ["inspect_data", "load_for_inspection"]


def _progress(items, desc: str, total: int):
    """``items`` with a progress bar on stderr when there are many (tqdm)."""
    if total < 20:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, total=total, file=sys.stderr, leave=False)


def _read_each(data_cfg) -> tuple[list[JointLog], list[dict[str, str]]]:
    """Each log of a column-mapped folder read alone: the readable runs and one error finding per failing file."""
    from ..learning.data_cfg import shared_path

    cmap = load_column_map(data_cfg.column_map)
    folder = shared_path(data_cfg.path)
    side = cmap.meta_file.replace("{stem}", "*")
    paths = sorted(
        p
        for p in folder.glob(cmap.file_glob)
        if (p.is_dir() if cmap.format == "sage_csv" else p.is_file() and not p.match(side))
    )
    logs, errors = [], []
    for path in _progress(paths, "reading", len(paths)):
        try:
            logs.append(read_mapped_log(path, cmap, validate_accept(data_cfg.accept)))
        except UserInputError as err:
            errors.append({"level": "error", "run": path.name, "what": "cannot be read for training", "fix": str(err)})
    return split_joints(logs), errors


def load_for_inspection(data_cfg) -> tuple[list[JointLog], list[dict[str, str]]]:
    """The runs as training reads them, and error findings when some logs of a column-mapped folder fail."""
    from ..learning.data_loading import load_data

    try:
        return load_data(data_cfg), []
    except UserInputError as err:
        if data_cfg.reader != "column_map" or data_cfg.path is None:
            raise
        logs, errors = _read_each(data_cfg)
        if not logs:
            raise
        if not errors:  # every log reads alone: the data set as a whole fails (e.g. runs at different rates)
            errors = [{"level": "error", "run": "(data set)", "what": "training would stop here", "fix": str(err)}]
        return logs, errors


def inspect_data(data_cfg, seed: int = 0, source: dict[str, Any] | None = None) -> tuple[dict[str, Any], list]:
    """Load and inspect; returns the JSON-ready summary and the runs (for the page's plots).

    Summary keys: ``source``, ``runs``, ``frames``, ``duration_s``, ``per_run`` (:func:`~.runs.run_stats`),
    ``coverage``, ``gains``, ``label_noise``, ``split``, ``cleaning`` (per run), ``first_rows`` (per run) and
    ``findings`` (``level``, ``run``, ``what``, ``fix``: what to change).
    """
    logs, load_errors = load_for_inspection(data_cfg)
    per_run = [run_stats(g) for g in _progress(logs, "inspecting", len(logs))]
    summary: dict[str, Any] = {
        "source": source or {"path": str(data_cfg.path), "reader": data_cfg.reader, "column_map": data_cfg.column_map},
        "runs": len(logs),
        "frames": int(sum(len(g) for g in logs)),
        "duration_s": float(sum(g.t[-1] - g.t[0] for g in logs)),
        "per_run": per_run,
        "coverage": coverage(logs),
        "gains": gains(logs),
        "label_noise": label_noise(logs),
        "split": split_summary(logs, data_cfg, seed),
        "cleaning": {g.name: g.meta["cleaning"] for g in logs if g.meta.get("cleaning")},
        "first_rows": {g.name: first_rows(g) for g in logs},
    }
    findings = list(load_errors)
    for s in per_run:
        findings += run_findings(s)
    findings += dataset_findings(summary)
    order = {"error": 0, "warning": 1, "info": 2}
    summary["findings"] = sorted(findings, key=lambda f: order[f["level"]])
    return json_safe(summary), logs
