"""Offline Go2 flat env throughput (policy env-steps/s): DC motor vs the learned actuators, at several env counts.

Each (actuator, env count, round) runs in its own process (one Isaac Lab simulation per process); rounds are
interleaved and the figure is the median over ``--repeats`` rounds, the ratio the median of the per-round ratios to
the DC motor measured in the same round. Variants (``--actuators``):

* ``dc_motor``: the stock Go2 task's DC motors (Isaac Lab's ``DCMotorCfg``, Newton-native ``DrivePD`` + DC clamp);
* ``gru_pd``: the GRU-PD task with its default file, the shipped Go2 starter model
  (:func:`learned_actuators.models.go2_starter_path`), on Isaac Lab's default ``sim.use_newton_actuators=True``
  (our Newton drive; on CPU its torch backend, on CUDA its Warp kernels inside Isaac Lab's CUDA graph);
* ``gru_pd_warp``: the same with the drive forced to its Warp kernels (what runs on CUDA; serial on CPU);
* ``gru_pd_python``: the GRU-PD task on Isaac Lab's Python actuator path (``use_newton_actuators=False``);
* ``lstm`` / ``mlp``: the LSTM / MLP tasks on the native path (our ``DriveLSTM`` / ``DriveMLP``) with random nets of
  the trainer's default shapes (LSTM 2 x 64, MLP 6-100-100-100-1) at the policy rate (net every 4 physics steps).

Usage::

    ./run.sh bench env [--num-envs 64 256] [--actuators dc_motor gru_pd lstm mlp] [--steps 100] [--repeats 3]
        [--device cpu] [--out env.json]

:func:`run_rounds` and :func:`summarize` are also used by ``bench_gpu.py`` (4096 envs on CUDA).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

TASK = "LearnedActuators-Velocity-Flat-UnitreeGo2-Offline"
LEARNED_TASKS = {
    "gru_pd": "LearnedActuators-Velocity-Flat-UnitreeGo2-GRUPD-Offline",
    "lstm": "LearnedActuators-Velocity-Flat-UnitreeGo2-LSTM-Offline",
    "mlp": "LearnedActuators-Velocity-Flat-UnitreeGo2-MLP-Offline",
}
VARIANTS = ("dc_motor", "gru_pd", "gru_pd_warp", "gru_pd_python", "lstm", "mlp")
NETWORK_FILE_KEY = "env.scene.robot.actuators.base_legs.network_file"
POLICY_PHYSICS_STEPS = 4
"""Physics steps per policy step of the Go2 flat task (decimation; sim dt 0.005 s): the LSTM/MLP nets' rate."""


def write_nets(directory: str) -> dict[str, str]:
    """Random LSTM and MLP files of the trainer's default shapes at the policy rate (``bench_newton_drive``'s)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_newton_drive import _net_files

    return _net_files(directory, POLICY_PHYSICS_STEPS)


def _graph_info() -> dict[str, bool]:
    """Whether Isaac Lab captured the physics step in a CUDA graph, and with the actuators inside it."""
    try:
        from isaaclab_newton.physics.newton_manager import NewtonManager

        captured = getattr(NewtonManager, "_graph", None) is not None
        return {"cuda_graph": captured, "actuators_in_graph": captured and bool(NewtonManager._is_all_graphable())}
    except (ImportError, AttributeError):  # another Isaac Lab layout: say nothing rather than guess
        return {"cuda_graph": False, "actuators_in_graph": False}


def child(variant: str, num_envs: int, steps: int, device: str, nets: dict[str, str]) -> None:
    """Build the variant's env, time ``steps`` policy steps and print one ``RESULT {json}`` line."""
    from learned_actuators.envs import make_env, measure_throughput

    task, overrides = TASK, []
    if variant != "dc_motor":
        kind = variant if variant in nets else "gru_pd"
        task = LEARNED_TASKS[kind]
        if kind in nets:
            overrides.append(f"{NETWORK_FILE_KEY}={nets[kind]}")
    if variant == "gru_pd_python":
        overrides.append("env.sim.use_newton_actuators=false")
    with make_env(task, num_envs, device=device, overrides=overrides) as env:
        result = measure_throughput(env, steps)
        group = env.unwrapped.scene["robot"].actuators["base_legs"]
        drive = getattr(group, "drive", None)  # a Newton actuator (native path), else Isaac Lab's actuator object
        runs = type(group if drive is None else drive).__name__
        result["runs"] = f"{runs}({drive.backend})" if hasattr(drive, "backend") else runs
        result.update(_graph_info())
        print("RESULT " + json.dumps(result), flush=True)


def run_child(variant: str, num_envs: int, steps: int, device: str, nets: dict, timeout: float | None = None) -> dict:
    """One child process; its result dict. Raises RuntimeError (with the child's stderr tail) on failure."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", variant, "--envs", str(num_envs)]
    cmd += ["--steps", str(steps), "--device", device, "--nets", json.dumps(nets)]
    env = dict(os.environ)
    if variant == "gru_pd_warp":
        from learned_actuators.newton_drives.drive_gru_pd import BACKEND_ENV

        env[BACKEND_ENV] = "warp"
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"benchmark child for {variant} at {num_envs} envs ran past {timeout:.0f} s") from None
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark child failed for {variant} at {num_envs} envs:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def run_rounds(variants, num_envs, steps: int, repeats: int, device: str, deadline: float | None = None) -> dict:
    """``{(variant, envs): [result per round]}``, rounds interleaved (one process each).

    ``deadline`` (a ``time.monotonic()`` value) bounds every child's run time; a child past it raises RuntimeError.
    """
    import time

    results: dict[tuple[str, int], list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        nets = write_nets(tmp) if {"lstm", "mlp"} & set(variants) else {}
        for round_ in range(repeats):
            for n in num_envs:
                for variant in variants:
                    print(f"[bench_env] round {round_ + 1}: {variant}, {n} envs ...", file=sys.stderr, flush=True)
                    timeout = None if deadline is None else max(deadline - time.monotonic(), 1.0)
                    result = run_child(variant, n, steps, device, nets, timeout)
                    results.setdefault((variant, n), []).append(result)
    return results


def summarize(results: dict) -> list[dict]:
    """One row per (variant, envs): medians over rounds and the median per-round ratio to ``dc_motor``."""
    rows = []
    for (variant, n), runs in results.items():
        row = {
            "actuator": variant,
            "runs": runs[0]["runs"],
            "num_envs": n,
            "rounds": len(runs),
            "env_steps_per_s": statistics.median(r["env_steps_per_s"] for r in runs),
            "ms_per_step": statistics.median(r["ms_per_step"] for r in runs),
            "env_steps_per_s_rounds": [r["env_steps_per_s"] for r in runs],
            "cuda_graph": all(r.get("cuda_graph", False) for r in runs),
            "actuators_in_graph": all(r.get("actuators_in_graph", False) for r in runs),
            "ratio_to_dc_motor": None,
        }
        base = results.get(("dc_motor", n))
        if base is not None:
            ratios = [r["env_steps_per_s"] / b["env_steps_per_s"] for r, b in zip(runs, base, strict=False)]
            row["ratio_to_dc_motor"] = statistics.median(ratios)
        rows.append(row)
    return rows


def print_table(rows: list[dict], title: str) -> None:
    print(f"\n{title}")
    print(f"{'actuator':>14} {'runs as':>22} {'envs':>6} {'env-steps/s':>12} {'ms/step':>9} {'vs DC motor':>12} graph")
    for row in rows:
        ratio = "" if row["ratio_to_dc_motor"] is None else f"{row['ratio_to_dc_motor']:.2f}x"
        graph = "actuators+solver" if row["actuators_in_graph"] else ("solver" if row["cuda_graph"] else "none")
        print(
            f"{row['actuator']:>14} {row['runs']:>22} {row['num_envs']:>6} {row['env_steps_per_s']:>12.0f} "
            f"{row['ms_per_step']:>9.1f} {ratio:>12} {graph}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-envs", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--actuators", nargs="+", choices=VARIANTS, default=["dc_motor", "gru_pd"])
    parser.add_argument("--steps", type=int, default=100, help="timed policy steps (after 10 warm-up steps)")
    parser.add_argument("--repeats", type=int, default=1, help="interleaved rounds (one process each)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None, help="also write the rows as JSON here (atomic)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--envs", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--nets", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.envs, args.steps, args.device, json.loads(args.nets))
        return
    if args.out and os.path.exists(args.out):
        sys.exit(f"--out {args.out}: the file exists; benchmarks never overwrite an earlier run, pass a new path")
    load_start = " ".join(f"{v:.2f}" for v in os.getloadavg())
    try:
        rows = summarize(run_rounds(args.actuators, args.num_envs, args.steps, args.repeats, args.device))
    except RuntimeError as err:
        sys.exit(str(err))
    load_end = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print_table(
        rows,
        f"Offline Go2 flat on {args.device}, {args.steps} timed policy steps, median of {args.repeats} interleaved "
        f"round(s); load average start {load_start}, end {load_end}",
    )
    if args.out:
        from learned_actuators.atomic_io import atomic_write_json

        atomic_write_json(args.out, {"device": args.device, "steps": args.steps, "rows": rows}, indent=1)


if __name__ == "__main__":
    main()
