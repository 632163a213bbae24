r"""Train, evaluate and export actuator nets from motor logs.

Examples::

    python scripts/train_actuator.py --demo                                  # built-in BAM demo, 3 models
    python scripts/train_actuator.py --demo --out runs/demo_short train.max_epochs=5
    python scripts/train_actuator.py --preset bam_xl330 --out runs/bam       # shared BAM logs, leave-one-trajectory-out
    python scripts/train_actuator.py --preset recipe_gru_pd data.reader=column_map data.path=logs/ \
        data.column_map=my_map.json train.max_epochs=100 --models gru_pd
    python scripts/train_actuator.py --resume runs/bam                       # continue an interrupted run

Output folder: a run writes into one folder, ``--out`` (default ``runs/<preset>``, ``runs/demo`` for ``--demo``).
A run never overwrites an earlier one: a folder that already holds files is refused before any work, unless
``--overwrite`` (the earlier run's files are deleted first, once every check has passed, so old and new files never
mix) or ``--resume`` (continue that very run). ``run.json`` in the folder records the command and the resolved
settings. Every output (checkpoints, ``best.pt``, exports, ``results.json``, metrics, plots) is written atomically:
a run killed at any moment leaves the previous version of each file readable.

``--resume RUN`` continues an interrupted run with the settings of its ``run.json`` (no other options or overrides):
every fold continues from its last ``checkpoint.pt`` (every ``train.checkpoint_every`` epochs) and the result is
the one of an uninterrupted run.

Overrides are ``key=value``: ``data.<field>``, ``train.<field>`` (every model, also where the preset's ``models``
section sets the field) and ``models.<gru_pd|lstm|mlp>.<field>`` (one model). Each value is converted to and checked
against the type and range of its config field before any work; unknown keys are errors. ``--demo`` honours them.
A run needs ``data.path`` unless it reads the built-in data (``--demo`` or ``data.reader=demo``). Mistakes print one
line naming the file or field and exit with status 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from learned_actuators.data.cleaning import cleaning_record
from learned_actuators.errors import UserInputError, run_cli
from learned_actuators.learning.demo import DEMO_PRESET
from learned_actuators.learning.outputs import (
    check_out_dir,
    exit_on_sigterm,
    finish_run_file,
    read_run_file,
    start_out_dir,
)
from learned_actuators.learning.pipeline import (
    MODEL_TYPES,
    apply_overrides,
    build_cfg,
    check_data_path,
    format_table,
    load_data,
    load_preset,
    run_preset,
    splits_of,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", action="store_true", help="train GRU-PD, LSTM and MLP on the built-in demo data")
    parser.add_argument(
        "--preset", help="preset name (shipped: bam_xl330, so101, recipe_gru_pd, recipe_lstm, recipe_mlp) or JSON path"
    )
    parser.add_argument("--out", default=None, help="run folder (default runs/<preset>); must be new or empty")
    parser.add_argument("--overwrite", action="store_true", help="delete the earlier run in --out first")
    parser.add_argument("--resume", metavar="RUN", help="continue the interrupted run in folder RUN")
    parser.add_argument("--models", nargs="+", default=None, help="model types to train (gru_pd lstm mlp)")
    parser.add_argument("--no-export", action="store_true", help="skip TorchScript/ONNX export")
    parser.add_argument("overrides", nargs="*", help="key=value overrides, e.g. train.max_epochs=50")
    return parser


def _check_models(models: list[str] | None) -> None:
    for name in models or []:
        if name not in MODEL_TYPES:
            raise UserInputError(f"--models {name}: unknown model type; expected {', '.join(MODEL_TYPES)}.")


def _input_paths(preset: dict, preset_arg: str | None) -> list[Path]:
    data = preset.get("data", {})
    paths = [data.get("path"), data.get("column_map"), preset_arg]
    return [Path(p) for p in paths if isinstance(p, str) and Path(p).exists()]


def _check_inputs_outside(out: Path, inputs: list[Path]) -> None:
    """``--overwrite`` must never delete an input (a preset or logs kept inside the old run folder)."""
    root = out.resolve()
    for path in inputs:
        p = path.resolve()
        if p == root or root in p.parents:
            raise UserInputError(f"--overwrite {out}: the input {path} lies inside it; give another --out.")


def _resume(args) -> int:
    extra = [
        flag
        for flag, given in (
            ("--demo", args.demo),
            ("--preset", args.preset),
            ("--models", args.models),
            ("--no-export", args.no_export),
            ("--overwrite", args.overwrite),
            ("overrides " + " ".join(args.overrides), args.overrides),
        )
        if given
    ]
    if extra:
        raise UserInputError(
            f"--resume {args.resume} continues the run with its own settings (its run.json); drop {', '.join(extra)}."
        )
    run = Path(args.resume)
    if args.out is not None and Path(args.out).resolve() != run.resolve():
        raise UserInputError(f"--out {args.out}: --resume writes into the run's own folder {run}; drop --out.")
    info = read_run_file(run)
    preset, models, export = info.get("preset"), info.get("models"), info.get("export", True)
    if not isinstance(preset, dict):
        raise UserInputError(f"{run / 'run.json'}: has no 'preset' settings; cannot resume this run.")
    try:
        data_cfg, train_cfg = build_cfg(preset)
    except UserInputError as err:
        raise UserInputError(f"{run / 'run.json'}: {err}") from err
    check_out_dir(run, overwrite=True, flag="--resume")  # writable
    logs = load_data(data_cfg)
    splits_of(logs, data_cfg, train_cfg.seed)
    rows = run_preset(preset, run, models=models, export=export, logs=logs, resume=True)
    finish_run_file(run, resumed=True)
    print(format_table(rows))
    print(f"\nresults: {run}/results.json (resumed)")
    return 0


def main(argv: list[str]) -> int:
    """Command line (``argv`` without the program name); returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.models:  # `--models a b key=value`: nargs="+" also takes the overrides that follow
        args.overrides += [m for m in args.models if "=" in m]
        args.models = [m for m in args.models if "=" not in m] or None
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.resume:
        return _resume(args)
    if args.demo and args.preset:
        raise UserInputError(f"give --demo or --preset {args.preset}, not both (--demo is its own preset).")
    if not args.demo and not args.preset:
        raise UserInputError("give --preset NAME (a shipped preset or a JSON file), --demo, or --resume RUN.")
    source = "--demo preset" if args.demo else f"preset {args.preset}"
    preset = DEMO_PRESET if args.demo else load_preset(args.preset)
    preset = apply_overrides(preset, args.overrides)
    try:
        data_cfg, train_cfg = build_cfg(preset)
    except UserInputError as err:
        raise UserInputError(f"{source}: {err}") from err
    _check_models(args.models)
    check_data_path(preset, demo=args.demo)
    default = "runs/demo" if args.demo else f"runs/{Path(args.preset).name.removesuffix('.json')}"
    out = check_out_dir(args.out or default, args.overwrite)
    if args.overwrite:
        _check_inputs_outside(out, _input_paths(preset, args.preset))
    logs = load_data(data_cfg)
    splits_of(logs, data_cfg, train_cfg.seed)  # data.test_groups against the loaded groups, before training
    record = {"argv": argv, "source": source, "preset": preset, "models": args.models, "export": not args.no_export}
    record["cleaning"] = cleaning_record(logs)  # the column map's glitch removal and resampling, per run
    start_out_dir(out, args.overwrite, record)
    rows = run_preset(preset, out, models=args.models, export=not args.no_export, logs=logs)
    finish_run_file(out)
    print(format_table(rows))
    print(f"\nresults: {out}/results.json\nresolved preset:\n{json.dumps(preset, indent=1)}")
    return 0


if __name__ == "__main__":
    exit_on_sigterm()
    sys.exit(run_cli(main))
