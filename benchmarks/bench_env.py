"""Offline Go2 flat env throughput on CPU (policy env-steps/s) at several env counts.

Each env count runs in its own process (one Isaac Lab simulation per process). Usage::

    ./run.sh bench env [--num-envs 16 64 256] [--steps 100] [--task ...] [--device cpu]
"""

import argparse
import json
import subprocess
import sys

TASK = "LearnedActuators-Velocity-Flat-UnitreeGo2-Offline"


def child(task: str, num_envs: int, steps: int, device: str) -> None:
    from learned_actuators.envs import make_env, measure_throughput

    with make_env(task, num_envs, device=device) as env:
        print("RESULT " + json.dumps(measure_throughput(env, steps)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-envs", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--steps", type=int, default=100, help="timed policy steps (after 10 warm-up steps)")
    parser.add_argument("--task", default=TASK)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.task, args.child, args.steps, args.device)
        return
    rows = []
    for n in args.num_envs:
        print(f"[bench_env] {args.task}: {n} envs, {args.steps} steps ...", file=sys.stderr, flush=True)
        cmd = [sys.executable, __file__, "--child", str(n), "--steps", str(args.steps), "--task", args.task]
        proc = subprocess.run([*cmd, "--device", args.device], capture_output=True, text=True, check=False)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            sys.exit(f"benchmark child failed for {n} envs:\n{proc.stderr[-3000:]}")
        rows.append(json.loads(lines[-1][len("RESULT ") :]))
    print(f"\n{args.task} on {args.device}")
    print(f"{'envs':>6} {'env-steps/s':>12} {'ms/step':>9}")
    for r in rows:
        print(f"{r['num_envs']:>6} {r['env_steps_per_s']:>12.0f} {r['ms_per_step']:>9.1f}")


if __name__ == "__main__":
    main()
