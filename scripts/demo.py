"""The main job on the built-in data (CPU, offline, no user data).

1. Train the GRU-PD, LSTM and MLP actuator models on the shipped BAM pendulum logs (Rhoban, Apache-2.0), one
   trajectory family held out, print the results table and export the nets (TorchScript with metadata, ONNX).
2. Replay the held-out logged commands in the Isaac Lab simulator (a one-joint pendulum bench) with each exported
   net and with the analytic baselines (IdealPD, DCMotor, fitted PD); write ``report.html`` and ``metrics.json``.

``--quick`` (CI) runs the same steps with two training epochs per model: it checks the code path, its numbers mean
nothing. Outputs go to ``--out`` (default ``outputs/demo``); a folder that already holds files is refused before any
work unless ``--overwrite`` (the earlier outputs are deleted first, so old and new files never mix). Every output
file is written atomically.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from learned_actuators.errors import run_cli
from learned_actuators.learning.outputs import check_out_dir, exit_on_sigterm, finish_run_file, start_out_dir


def main(argv: list[str]) -> int:
    """Command line (``argv`` without the program name); returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="outputs/demo", help="output folder (must be new or empty)")
    parser.add_argument("--overwrite", action="store_true", help="delete the earlier outputs in --out first")
    parser.add_argument("--quick", action="store_true", help="CI check: same steps, two epochs per model")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = check_out_dir(args.out, args.overwrite)
    t0 = time.perf_counter()
    start_out_dir(out, args.overwrite, {"argv": argv, "source": "scripts/demo.py", "quick": args.quick})

    from learned_actuators.learning.demo import run_demo

    print("== 1/2 training GRU-PD, LSTM and MLP on the built-in BAM pendulum logs ==", flush=True)
    _, table = run_demo(out / "train", quick=args.quick)
    print(table, flush=True)

    from learned_actuators.validation.demo import run
    from learned_actuators.validation.report import format_table

    print("\n== 2/2 validating the exported nets in the simulator against the held-out logs ==", flush=True)
    export = out / "train" / "export"
    extra = {name: export / f"{name}.pt" for name in ("lstm", "mlp")}
    result, paths = run(out, network_file=export / "gru_pd.pt", extra_networks=extra)
    finish_run_file(out, wall_time_s=round(time.perf_counter() - t0, 1))
    print(format_table(result))
    print(f"\nreport: {paths['html']}\nmetrics: {paths['json']}\ntotal time: {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    exit_on_sigterm()
    sys.exit(run_cli(main))
