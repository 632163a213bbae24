"""Validate actuator models in the simulator against logged trajectories and write an HTML + JSON report.

Examples::

    # the README main job: train GRU-PD on the built-in BAM data, validate, report (CPU, offline)
    python scripts/validate_actuator.py --demo --out runs/validation_demo

    # a trained net on your logs (column map as for training), with baselines
    python scripts/validate_actuator.py --data logs/ --column-map bam_xl330_demo --network runs/x/export/gru_pd.pt \
        --out runs/val kp_scale=0.0015 effort_limit=0.5 velocity_limit=20
"""

import argparse
import json
import logging
from pathlib import Path


def _parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"override {item!r} must look like key=value (e.g. decimation=2).")
        key, value = item.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", action="store_true", help="Train on the built-in BAM data, validate, report.")
    parser.add_argument("--data", help="Folder of logs (read with --column-map).")
    parser.add_argument("--column-map", help="Column map name or JSON file for --data.")
    parser.add_argument("--network", action="append", default=[], help="GRU-PD network file(s) to validate.")
    parser.add_argument("--network-file", dest="demo_network", help="--demo: validate this file instead of training.")
    parser.add_argument("--max-epochs", type=int, help="--demo: training epochs override.")
    parser.add_argument("--out", default="runs/validation", help="Output folder for report.html and metrics.json.")
    parser.add_argument("overrides", nargs="*", help="ValidationCfg fields as key=value (e.g. decimation=2 kp=20).")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from learned_actuators.validation.report import format_table

    if args.demo:
        from learned_actuators.validation.demo import run

        result, paths = run(args.out, network_file=args.demo_network, max_epochs=args.max_epochs)
    else:
        if not args.data or not args.column_map:
            parser.error("give --demo, or --data and --column-map")
        from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg
        from learned_actuators.data.column_map import load_column_map, read_mapped_folder
        from learned_actuators.validation.report import write_report
        from learned_actuators.validation.validate import run_validation
        from learned_actuators.validation.validation_cfg import ValidationCfg

        cfg = ValidationCfg()
        for key, value in _parse_overrides(args.overrides).items():
            if not hasattr(cfg, key):
                parser.error(f"unknown ValidationCfg field {key!r}")
            setattr(cfg, key, tuple(value) if isinstance(value, list) else value)
        logs = read_mapped_folder(args.data, load_column_map(args.column_map))
        models = {
            Path(p).stem: CombinedGRUAndPDActuatorCfg(
                joint_names_expr=[".*"],
                network_file=p,
                saturation_effort=cfg.effort_limit or 1e6,
                actuator_effort_limit=cfg.effort_limit or 1e6,
                actuator_velocity_limit=cfg.velocity_limit or 1e6,
            )
            for p in args.network
        }
        result = run_validation(logs, models, cfg)
        paths = write_report(result, args.out, num_runs=cfg.plot_trajectories)
    print(format_table(result))
    print(f"\nreport: {paths['html']}\nmetrics: {paths['json']}")


if __name__ == "__main__":
    main()
