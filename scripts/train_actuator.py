r"""Train, evaluate and export actuator nets from motor logs.

Examples::

    python scripts/train_actuator.py --demo                                  # built-in BAM demo, 3 models
    python scripts/train_actuator.py --preset bam_xl330 --out runs/bam       # shared BAM logs, leave-one-trajectory-out
    python scripts/train_actuator.py --preset recipe_gru_pd data.reader=column_map data.path=logs/ \
        data.column_map=my_map.json train.max_epochs=100 --models gru_pd
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from learned_actuators.learning.demo import run_demo
from learned_actuators.learning.pipeline import apply_overrides, build_cfg, format_table, load_preset, run_preset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", action="store_true", help="train GRU-PD, LSTM and MLP on the built-in demo data")
    parser.add_argument("--preset", help="preset name (shipped: bam_xl330, so101, recipe_gru_pd, recipe_lstm, recipe_mlp) or JSON path")
    parser.add_argument("--out", default=None, help="output directory (default runs/<preset>)")
    parser.add_argument("--models", nargs="+", default=None, help="model types to train (gru_pd lstm mlp)")
    parser.add_argument("--no-export", action="store_true", help="skip TorchScript/ONNX export")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. train.max_epochs=50")
    args = parser.parse_args(argv)
    if args.models:  # `--models a b key=value`: nargs="+" also takes the overrides that follow
        args.overrides += [m for m in args.models if "=" in m]
        args.models = [m for m in args.models if "=" not in m]
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.demo:
        _, table = run_demo(args.out or "runs/demo")
        print(table)
        return 0
    if not args.preset:
        parser.error("give --preset NAME (or --demo)")
    preset = apply_overrides(load_preset(args.preset), args.overrides)
    build_cfg(preset)  # fail early on unknown keys
    out = args.out or f"runs/{args.preset.replace('/', '_').removesuffix('.json')}"
    rows = run_preset(preset, out, models=args.models, export=not args.no_export)
    print(format_table(rows))
    print(f"\nresults: {out}/results.json\nresolved preset:\n{json.dumps(preset, indent=1)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
