r"""Validate actuator models in the simulator against logged trajectories and write an HTML + JSON report.

Examples::

    # the README main job: train GRU-PD on the built-in BAM data, validate, report (CPU, offline)
    python scripts/validate_actuator.py --demo --out runs/validation_demo

    # a trained net on your held-out logs (column map as for training), with baselines fitted on the training logs;
    # the gain scale, damping and torque-speed curve come from the GRU-PD file unless given as overrides
    python scripts/validate_actuator.py --data test_logs/ --train-data train_logs/ --column-map bam_xl330_demo \
        --network runs/x/export/gru_pd.pt --out runs/val

    # the same, replayed on two arms at once (one env per run and geometry), results per geometry
    python scripts/validate_actuator.py --data test_logs/ --column-map bam_xl330_demo --network gru_pd.pt \
        --bench mass=0.49,length=0.1 --bench mass=1.0,length=0.15 --out runs/val_arms

Learned nets run with their own physics and gains (from their files) and an open final clip; the motor limits
``effort_limit`` / ``velocity_limit`` are the DC-motor baseline's (default: the first GRU-PD file's torque-speed
curve), and clip the learned nets too only with ``--clip-models``. The decimation (physics steps per log sample) is
chosen for the log's rate and the nets' unless ``decimation=K`` is given. The ``fitted_pd`` baseline is fitted on
``--train-data`` only (skipped without it); ``fitted_pd_oracle`` is fitted on ``--data`` itself and labelled as an
oracle (never in the verdict). Everything goes through ``run_validation``: the same net and runs give the same numbers
from Python.

``report.html`` and ``metrics.json`` go to ``--out``; a folder that already holds files is refused before any work
unless ``--overwrite`` (the earlier outputs are deleted first, so old and new files never mix). Overrides are
``ValidationCfg`` fields as Hydra ``key=value`` (``decimation=2 kp=20``, lists ``baselines=[ideal_pd,dc_motor]``),
each type-checked against its field (a structured config) and range-checked before any work; unknown keys are
errors. ``--demo`` uses the demo's own settings and refuses them (and ``--data``/``--column-map``/``--network``).
Mistakes print one line naming the file or field and exit with status 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from learned_actuators.errors import UserInputError, run_cli
from learned_actuators.learning.outputs import check_out_dir, exit_on_sigterm, finish_run_file, start_out_dir


def _existing_file(path: str, flag: str) -> str:
    if not Path(path).is_file():
        raise UserInputError(f"{flag} {path}: no such file.")
    return path


def _validate_logs(args, overrides: dict, out: Path):
    """Validate ``--network`` files on ``--data`` (baselines fitted on ``--train-data``); returns (result, paths)."""
    from learned_actuators.data.column_map import load_column_map, read_mapped_folder
    from learned_actuators.validation.model_physics import learned_model_cfg
    from learned_actuators.validation.provenance import provenance
    from learned_actuators.validation.report import write_report
    from learned_actuators.validation.validate import run_validation
    from learned_actuators.validation.validation_cfg import ValidationCfg

    column_map = load_column_map(args.column_map)
    logs = read_mapped_folder(args.data, column_map)
    train_logs = read_mapped_folder(args.train_data, column_map) if args.train_data else None
    cfg = ValidationCfg(clip_models=args.clip_models)
    for key, value in overrides.items():
        setattr(cfg, key, value)
    models = {Path(p).stem: learned_model_cfg(p) for p in args.network}
    result = run_validation(logs, models, cfg, fit_logs=train_logs)
    result.provenance = provenance([*(log.source for log in logs + (train_logs or [])), *args.network])
    paths = write_report(result, out, num_runs=cfg.plot_trajectories)
    return result, paths


def _bench_overrides(args, overrides: dict) -> dict:
    """``--bench`` geometries as the ``benches`` override (refused beside a ``benches=`` override)."""
    from learned_actuators.validation.bench import parse_bench_spec

    if not args.bench:
        return overrides
    if "benches" in overrides:
        raise UserInputError("give the bench geometries either as --bench or as the override benches=..., not both.")
    return {**overrides, "benches": tuple(parse_bench_spec(text) for text in args.bench)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", action="store_true", help="Train on the built-in BAM data, validate, report.")
    parser.add_argument("--data", help="Folder of logs (read with --column-map).")
    parser.add_argument("--column-map", help="Column map name or JSON file for --data.")
    parser.add_argument(
        "--network", action="append", default=[], help="Network file(s) to validate (GRU-PD, LSTM or MLP)."
    )
    parser.add_argument(
        "--bench",
        action="append",
        default=[],
        metavar="KEY=VALUE,...",
        help="A bench geometry to replay every run on (repeat for several, one env each, one simulation): "
        "mass [kg], length [m], inertia or armature [kg·m²], e.g. --bench mass=0.5,length=0.1.",
    )
    parser.add_argument("--train-data", help="Folder of the training logs (same --column-map) for fitted_pd.")
    parser.add_argument(
        "--clip-models", action="store_true", help="Clip the learned nets with effort_limit/velocity_limit too."
    )
    parser.add_argument("--network-file", dest="demo_network", help="--demo: validate this file instead of training.")
    parser.add_argument("--max-epochs", type=int, help="--demo: training epochs override.")
    parser.add_argument("--out", default="runs/validation", help="Output folder for report.html and metrics.json.")
    parser.add_argument("--overwrite", action="store_true", help="Delete the earlier outputs in --out first.")
    parser.add_argument("overrides", nargs="*", help="ValidationCfg fields as key=value (e.g. decimation=2 kp=20).")
    return parser


def _demo(args, argv: list[str]):
    """``--demo``: train a GRU-PD on the built-in data (unless ``--network-file``), validate it on its fold."""
    given = [
        flag
        for flag, value in (
            ("--data", args.data),
            ("--column-map", args.column_map),
            ("--network", args.network),
            ("--bench", args.bench),
            ("overrides " + " ".join(args.overrides), args.overrides),
        )
        if value
    ]
    if given:
        raise UserInputError(
            f"--demo validates with the demo's own data and settings; {', '.join(given)} would be ignored: "
            "drop them, or validate your logs with --data/--column-map/--network."
        )
    if args.max_epochs is not None and args.max_epochs < 1:
        raise UserInputError(f"--max-epochs {args.max_epochs}: expected an integer >= 1.")
    if args.demo_network is not None:
        _existing_file(args.demo_network, "--network-file")
        if args.max_epochs is not None:
            raise UserInputError("--max-epochs applies to training; with --network-file nothing is trained.")
    out = check_out_dir(args.out, args.overwrite)
    start_out_dir(out, args.overwrite, {"argv": argv, "source": "scripts/validate_actuator.py --demo"})
    from learned_actuators.demo.validation import validate_network

    return out, *validate_network(out, network_file=args.demo_network, max_epochs=args.max_epochs)


def _logs(args, argv: list[str], parser):
    """``--data``: validate ``--network`` files on the user's logs (every input checked before any work)."""
    unused = [f for f, v in (("--network-file", args.demo_network), ("--max-epochs", args.max_epochs)) if v]
    if unused:
        raise UserInputError(f"{', '.join(unused)} apply only with --demo.")
    if args.train_data is not None and not Path(args.train_data).is_dir():
        raise UserInputError(f"--train-data {args.train_data}: no such folder.")
    if not args.data or not args.column_map:
        parser.error("give --demo, or --data and --column-map")
    from learned_actuators.validation.validation_cfg import validation_overrides

    overrides = _bench_overrides(args, validation_overrides(args.overrides))
    if not Path(args.data).is_dir():
        raise UserInputError(f"--data {args.data}: no such folder.")
    for path in args.network:
        _existing_file(path, "--network")
    out = check_out_dir(args.out, args.overwrite)
    start_out_dir(out, args.overwrite, {"argv": argv, "source": "scripts/validate_actuator.py"})
    return out, *_validate_logs(args, overrides, out)


def main(argv: list[str]) -> int:
    """Command line (``argv`` without the program name); returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    out, result, paths = _demo(args, argv) if args.demo else _logs(args, argv, parser)
    from learned_actuators.validation.report import format_table

    finish_run_file(out)
    print(format_table(result))
    verdict = result.verdict()
    print(f"\nVerdict: {verdict.line}" + (f"\n{verdict.against_reference}" if verdict.against_reference else ""))
    print(f"\nreport: {paths['html']}\nmetrics: {paths['json']}")
    return 0


if __name__ == "__main__":
    exit_on_sigterm()
    sys.exit(run_cli(main))
