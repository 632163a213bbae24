"""Command line of ``scripts/inspect_logs.py``: which runs to read (as training would), where to write the page."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ..atomic_io import atomic_write_json, atomic_write_text
from ..errors import UserInputError
from ..learning.outputs import check_out_dir, finish_run_file, start_out_dir

__all__ = ["main"]

JSON_FILE = "inspection.json"
HTML_FILE = "inspection.html"


def _parser(doc: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("items", nargs="*", help="PATH (a folder or file of logs) and data.key=value overrides")
    parser.add_argument("--column-map", help="column map (shipped name or JSON file) that reads PATH")
    parser.add_argument("--preset", help="preset whose data section (reader, cleaning, split) to use")
    parser.add_argument("--demo", action="store_true", help="inspect the built-in demo data")
    parser.add_argument("--out", help="output folder (default runs/inspect/<name>); must be new or empty")
    parser.add_argument("--overwrite", action="store_true", help="delete an earlier inspection in --out first")
    return parser


def _preset(args, path: str | None, overrides: list[str]) -> tuple[dict, str]:
    from ..demo.training import demo_preset
    from ..learning.presets import apply_overrides, load_preset

    if args.demo and (args.preset or path):
        raise UserInputError("--demo inspects the built-in data; drop PATH and --preset.")
    if not (args.demo or args.preset or path):
        raise UserInputError("give PATH (with --column-map or --preset), --preset NAME or --demo.")
    preset = {"data": dict(demo_preset()["data"])} if args.demo else load_preset(args.preset) if args.preset else {}
    preset = {"data": dict(preset.get("data", {}))}
    if path:
        preset["data"]["path"] = path
    if args.column_map:
        preset["data"].update(reader="column_map", column_map=args.column_map)
    if path and preset["data"].get("reader", "demo") == "demo":
        raise UserInputError(
            f"{path}: say how to read it: --column-map MAP (shipped: bam_json, bam_sts3250, so101_sage, ...), "
            "--preset NAME, or data.reader=bench_csv|history_npz|torque_profile."
        )
    bad = [o for o in overrides if not o.startswith("data.")]
    if bad:
        raise UserInputError(f"overrides {bad}: the inspection takes only data.<field>=value overrides.")
    name = "demo" if args.demo else Path(path).name if path else Path(args.preset).stem
    return apply_overrides(preset, overrides), name


def main(argv: list[str], doc: str | None = None) -> int:
    """Inspect logs (``argv`` without the program name); returns the exit status."""
    from ..learning.data_loading import check_data_path
    from ..learning.presets import build_cfg
    from .inspect import inspect_data
    from .page import render_page

    args = _parser(doc).parse_args(argv)
    paths = [a for a in args.items if "=" not in a]
    if len(paths) > 1:
        raise UserInputError(f"give one PATH, got {paths}.")
    preset, name = _preset(args, paths[0] if paths else None, [a for a in args.items if "=" in a])
    data_cfg, _ = build_cfg(preset)
    check_data_path(preset, demo=args.demo)
    out = check_out_dir(args.out or f"runs/inspect/{name}", args.overwrite)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    source = {"path": "built-in demo data" if args.demo else str(data_cfg.path), "reader": data_cfg.reader}
    source["column_map"] = data_cfg.column_map
    summary, logs = inspect_data(data_cfg, source=source)
    start_out_dir(out, args.overwrite, {"argv": argv, "data": preset["data"]})
    atomic_write_json(out / JSON_FILE, summary)
    atomic_write_text(out / HTML_FILE, render_page(summary, logs))
    finish_run_file(out)
    levels = [f["level"] for f in summary["findings"]]
    print(
        f"{summary['runs']} runs, {summary['frames']} frames; findings: {levels.count('error')} errors, "
        f"{levels.count('warning')} warnings, {levels.count('info')} notes"
    )
    for f in summary["findings"][:10]:
        print(f"  [{f['level']}] {f['run']}: {f['what']} -> {f['fix']}")
    print(f"page: {out / HTML_FILE}\nsummary: {out / JSON_FILE}")
    return 0
