r"""Compare any mix of actuator models on the same held-out frames of a log, and probe a third-party net's convention.

Examples::

    # our GRU-PD, walk-these-ways' Go1 MLP (its conventions as arguments) and Isaac Lab's IdealPD with the logged
    # per-joint gains, on block 3 of 4 of a four-joint CSV (the block the trainer held out with the same settings)
    python scripts/compare_actuators.py --data logs/ --column-map ankle_map.json --blocks 4 --test-block 3 --gap-s 0.5 \
        --model ours:runs/ankles/export/gru_pd.pt \
        --model mlp:unitree_go1.pt,pos_scale=-1,input_idx=0,1,2,dt=0.02,name=go1 \
        --model isaaclab:IdealPD --out runs/compare

    # which sign / history spacing / order does this net expect? (scored on the training blocks)
    python scripts/compare_actuators.py --data logs/ --column-map ankle_map.json --blocks 4 --test-block 3 \
        --probe-convention unitree_go1.pt --out runs/probe

Model specs (``--model``, repeat): ``ours:FILE``, ``mlp:FILE,pos_scale=..,input_idx=..,dt=..`` (TorchScript without
metadata), ``onnx:FILE,...`` (a dense ONNX MLP, same keys), ``lstm:FILE,dt=..``, ``isaaclab:IdealPD[,kp=..,kd=..]``,
``isaaclab:DCMotor,effort_limit=..,velocity_limit=..[,kp=..,kd=..]``; any spec takes ``name=``. See
``learned_actuators.validation.third_party``. Single-step errors need no simulator; the rollout runs where the load of
every joint is known (side file ``joint_constants``: ``inertia`` or ``mass``/``length``/``armature``; or the override
``inertia=<kg·m²>`` for all joints), else the table says so. Overrides are ``ValidationCfg`` fields as Hydra
``key=value``, type- and range-checked as in ``validate_actuator.py``.

Outputs in ``--out`` (refused when it holds files, unless ``--overwrite``): ``comparison.json``, ``table.txt``,
``probe.json`` (with ``--probe-convention``), and ``report.html`` + ``metrics.json`` when rollouts ran. Mistakes print
one line naming the argument and what is expected and exit with status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from learned_actuators.errors import UserInputError, run_cli
from learned_actuators.learning.outputs import check_out_dir, exit_on_sigterm, finish_run_file, start_out_dir


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="Folder of logs (read with --column-map).")
    parser.add_argument("--column-map", required=True, help="Column map name or JSON file for --data.")
    parser.add_argument("--model", action="append", default=[], metavar="KIND:TARGET[,key=value...]", help="A model.")
    parser.add_argument("--probe-convention", metavar="NET", help="Rank sign/spacing/order of this MLP (.pt/.onnx).")
    parser.add_argument("--max-spacing", type=float, default=0.1, help="Probe: largest history spacing [s].")
    parser.add_argument("--blocks", type=int, help="Time blocks per run; one of them is held out.")
    parser.add_argument("--test-block", type=int, help="The held-out block (0-based; default the last).")
    parser.add_argument("--gap-s", type=float, default=0.0, help="Seconds left out on each side of the held-out block.")
    parser.add_argument("--warmup-s", type=float, default=0.0, help="Leading seconds of every run left out of metrics.")
    parser.add_argument("--no-rollout", action="store_true", help="Single-step errors only (no simulator).")
    parser.add_argument("--out", default="runs/compare", help="Output folder.")
    parser.add_argument("--overwrite", action="store_true", help="Delete the earlier outputs in --out first.")
    parser.add_argument("overrides", nargs="*", help="ValidationCfg fields as key=value (e.g. inertia=0.02).")
    return parser


def _check_args(args) -> None:
    if not args.model and not args.probe_convention:
        raise UserInputError("give at least one --model KIND:TARGET[,key=value...] or --probe-convention NET.")
    if not Path(args.data).is_dir():
        raise UserInputError(f"--data {args.data}: no such folder.")
    for flag, value in (("--gap-s", args.gap_s), ("--warmup-s", args.warmup_s)):
        if value < 0:
            raise UserInputError(f"{flag} {value}: expected seconds >= 0.")
    if args.max_spacing <= 0:
        raise UserInputError(f"--max-spacing {args.max_spacing}: expected seconds > 0.")
    if args.probe_convention and not Path(args.probe_convention).is_file():
        raise UserInputError(f"--probe-convention {args.probe_convention}: no such file.")


def main(argv: list[str]) -> int:
    """Command line (``argv`` without the program name); returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    _check_args(args)
    from learned_actuators.atomic_io import atomic_write_json, atomic_write_text
    from learned_actuators.data.column_map import load_column_map, read_mapped_folder
    from learned_actuators.validation.compare import compare_models, format_comparison, held_out
    from learned_actuators.validation.conventions import probe_convention
    from learned_actuators.validation.report import json_safe, write_report
    from learned_actuators.validation.third_party import parse_model_spec
    from learned_actuators.validation.trajectories import TrajectoryBatch
    from learned_actuators.validation.validation_cfg import ValidationCfg, validation_overrides

    overrides = validation_overrides(args.overrides)
    specs = [parse_model_spec(text, "--model") for text in args.model]  # every spec checked before any work
    out = check_out_dir(args.out, args.overwrite)
    logs = read_mapped_folder(args.data, load_column_map(args.column_map))
    test, train, how = held_out(logs, args.blocks, args.test_block, args.gap_s)
    start_out_dir(out, args.overwrite, {"argv": argv, "source": "scripts/compare_actuators.py"})
    print(f"held-out frames: {how}")
    if args.probe_convention:
        probe_logs = train or test
        probe = probe_convention(args.probe_convention, TrajectoryBatch.from_logs(probe_logs), args.max_spacing)
        atomic_write_json(out / "probe.json", json_safe(probe.to_dict()))
        where = "the training blocks" if train else "the data (no --blocks: no held-out frames kept apart)"
        print(f"\nconvention probe of {args.probe_convention} on {where}, {probe.frames} frames:\n{probe.format()}")
        print(f"\nbest: {probe.best.label}\n  --model {probe.best.spec(args.probe_convention)}")
    if specs:
        cfg = ValidationCfg(show_progress=False)
        for key, value in overrides.items():
            setattr(cfg, key, value)
        comparison = compare_models(test, specs, cfg, rollout=not args.no_rollout, warmup_s=args.warmup_s)
        comparison.notes.insert(0, f"held-out frames: {how}")
        table = format_comparison(comparison)
        atomic_write_json(out / "comparison.json", json_safe(comparison.to_json_dict()), allow_nan=False)
        atomic_write_text(out / "table.txt", table + "\n")
        if comparison.validation is not None:
            write_report(comparison.validation, out, num_runs=cfg.plot_trajectories)
        print(f"\n{table}\n\noutputs: {out}")
    finish_run_file(out)
    return 0


if __name__ == "__main__":
    exit_on_sigterm()
    sys.exit(run_cli(main))
