"""The main job on the built-in data (CPU, offline, no user data).

1. Train the GRU-PD, LSTM and MLP actuator models on the shipped BAM pendulum logs (Rhoban, Apache-2.0) in four
   leave-one-trajectory-out folds (each trajectory family held out in turn, each model trained per fold), print the
   results table and export the nets (TorchScript with metadata, ONNX).
2. Replay every fold's held-out logged commands (all 16 runs) in the Isaac Lab simulator (a one-joint pendulum bench)
   with that fold's exported nets and with baselines fitted on that fold's training runs only (IdealPD and DCMotor
   with the fitted gain scale, damping and torque-speed curve, a least-squares PD), plus an in-sample PD labelled as
   an oracle; write ``report.html`` (opening with the verdict) and ``metrics.json`` (with provenance).

``--quick`` (CI) runs the same steps on one fold with two training epochs per model: it checks the code path, its
numbers mean nothing. Outputs go to ``--out`` (default ``outputs/demo``); a folder that already holds files is refused
before any work unless ``--overwrite`` (the earlier outputs are deleted first, so old and new files never mix). Every
output file is written atomically. The recipe is the shipped preset ``demo_all_folds`` (``demo`` with ``--quick``);
to change it, train with ``scripts/train_actuator.py --preset demo_all_folds key=value ...``.
"""

from __future__ import annotations

import argparse
import logging
import time

from ..learning.outputs import check_out_dir, finish_run_file, start_out_dir

__all__ = ["main"]


def _one_dof_line(rows: list[dict]) -> str:
    """The verdict of the trainer's 1-DOF rollout (Python, the same held-out runs), as one line.

    The trainer's rollout has baselines the simulator bench cannot express (``traj_physics``: load-dependent
    stick-slip friction); its verdict goes beside the simulator's so that neither hides a better physics model.
    """
    from ..learning.cfg_checks import model_types
    from ..validation.verdict import compute_verdict

    ranked = [r for r in rows if "rollout_rmse_runs" in r]
    one_dof = compute_verdict(
        {r["model"]: r["rollout_rmse_runs"] for r in ranked},
        {r["model"]: "model" if r["model"] in model_types() else "baseline" for r in ranked},
    )
    return f"In the trainer's 1-DOF rollout (Python, the same held-out runs): {one_dof.line}"


def main(argv: list[str]) -> int:
    """Command line of ``scripts/demo.py`` (``argv`` without the program name); returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="outputs/demo", help="output folder (must be new or empty)")
    parser.add_argument("--overwrite", action="store_true", help="delete the earlier outputs in --out first")
    parser.add_argument("--quick", action="store_true", help="CI check: same steps, one fold, two epochs per model")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = check_out_dir(args.out, args.overwrite)
    t0 = time.perf_counter()
    start_out_dir(out, args.overwrite, {"argv": argv, "source": "scripts/demo.py", "quick": args.quick})

    from .training import run_demo

    folds = "one fold (up_and_down held out)" if args.quick else "four leave-one-trajectory-out folds"
    print(f"== 1/2 training GRU-PD, LSTM and MLP on the built-in BAM pendulum logs, {folds} ==", flush=True)
    trained = run_demo(out / "train", quick=args.quick, all_folds=True)
    train_s = time.perf_counter() - t0
    print(trained.table, flush=True)

    from ..validation.report import format_table
    from .validation import validate_folds

    one_dof_line = _one_dof_line(trained.rows)
    print("\n== 2/2 validating each fold's exported nets in the simulator on its held-out logs ==", flush=True)
    settings = {"quick": args.quick, "train_time_s": round(train_s, 1), "one_dof_verdict": one_dof_line}
    result, paths = validate_folds(out, trained.folds, extra_settings=settings)
    finish_run_file(out, wall_time_s=round(time.perf_counter() - t0, 1))
    print(format_table(result))
    verdict = result.verdict()
    print(f"\nVerdict (simulator): {verdict.line}\n{verdict.against_reference}\n{one_dof_line}")
    print(f"\nreport: {paths['html']}\nmetrics: {paths['json']}\ntotal time: {time.perf_counter() - t0:.0f} s")
    return 0
