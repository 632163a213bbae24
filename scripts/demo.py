"""The main job on the built-in data (CPU, offline, no user data).

1. Train the GRU-PD, LSTM and MLP actuator models on the shipped BAM pendulum logs (Rhoban, Apache-2.0), one
   trajectory family held out, print the results table and export the nets (TorchScript with metadata, ONNX).
2. Replay the held-out logged commands in the Isaac Lab simulator (a one-joint pendulum bench) with each exported
   net and with the analytic baselines (IdealPD, DCMotor, fitted PD); write ``report.html`` and ``metrics.json``.
"""

import argparse
import logging
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="outputs/demo", help="output folder")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out = Path(args.out)
    t0 = time.perf_counter()

    from learned_actuators.learning.demo import run_demo

    print("== 1/2 training GRU-PD, LSTM and MLP on the built-in BAM pendulum logs ==", flush=True)
    _, table = run_demo(out / "train")
    print(table, flush=True)

    from learned_actuators.validation.demo import run
    from learned_actuators.validation.report import format_table

    print("\n== 2/2 validating the exported nets in the simulator against the held-out logs ==", flush=True)
    export = out / "train" / "export"
    extra = {name: export / f"{name}.pt" for name in ("lstm", "mlp")}
    result, paths = run(out, network_file=export / "gru_pd.pt", extra_networks=extra)
    print(format_table(result))
    print(f"\nreport: {paths['html']}\nmetrics: {paths['json']}\ntotal time: {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
