"""Offline Go2 flat env throughput and PPO iteration time with Isaac Lab's DC motor vs each learned actuator (CPU).

Each actuator config runs in its own process (one Isaac Lab simulation per process): policy env-steps/s with
zero actions (after warm-up), then rsl-rl PPO iterations of the task's own runner cfg on the same env. Ratios
are against the DC motor measured in the same run (target: GRU-PD >= 0.9x). The machine may be shared, so
the load average is printed with the results. Usage::

    ./run.sh bench policy [--num-envs 256] [--steps 100] [--ppo-iterations 2] [--repeats 1]
        [--torch-threads 0] [--configs dc gru_pd ...]

Configs: ``dc`` (stock task, Newton-native DC motor), ``dc_python`` (the same DC motor on Isaac Lab's
Python actuator path, ``sim.use_newton_actuators=False``, for reference only: the learned actuators run on the
default native path, as their tasks do), ``gru_pd``
(GRU 1 x 32 residual at 50 Hz, the rate of the Go2 logs), ``gru_pd_200hz`` (same net stepped every physics
step), ``lstm`` (legged_gym's ANYdrive LSTM, 2 x 8, every physics step) and ``mlp`` (walk-these-ways' Go1
MLP, 6-32-32-1 at 50 Hz; both from the shared data folder, ``LEARNED_ACTUATORS_SHARED``).

The GRU-PD nets have the trainer's default size, random GRU weights and a zeroed output head: the GRU runs in
full, but its residual is zero, so the robot moves as with the PD motor and only the actuator's cost differs
(a random residual would topple the robot and add reset costs). ``gru_pd_rand`` and ``mlp_rand`` are ``gru_pd`` and
``mlp`` on the ``-Randomized-Offline`` tasks (per-env gains, motor strength, friction and 0-2 physics steps of target
delay, drawn at each reset); their cost is printed against the same config without randomisation, same run. The
third-party nets change the dynamics (they were trained for other motors), so their figures include that.

Torch threads: on a loaded CPU, torch's default intra-op threads can make each small actuator op wait for a
descheduled thread (measured here: 113 ms instead of 0.85 ms per GRU step at 256 envs); ``--torch-threads 1``
shows the figures without that effect.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLAT = "LearnedActuators-Velocity-Flat-UnitreeGo2"
SHARED = Path(os.environ.get("LEARNED_ACTUATORS_SHARED", Path(__file__).resolve().parents[1] / ".." / "shared"))
NETS = SHARED / "data" / "nets"
CONFIGS = ("dc", "dc_python", "gru_pd", "gru_pd_rand", "gru_pd_200hz", "lstm", "mlp", "mlp_rand")
RANDOMIZED = {"gru_pd_rand": "gru_pd", "mlp_rand": "mlp"}
"""Configs with the ``-Randomized-Offline`` task's actuator randomisation and delay on -> the same config without."""


def _task(config: str) -> str:
    suffix = {"dc": "", "dc_python": "", "gru_pd": "-GRUPD", "gru_pd_200hz": "-GRUPD", "lstm": "-LSTM", "mlp": "-MLP"}[
        RANDOMIZED.get(config, config)
    ]
    return f"{FLAT}{suffix}{'-Randomized' if config in RANDOMIZED else ''}-Offline"


def _write_gru_pd(path: Path, dt: float) -> None:
    import torch

    from learned_actuators.learning.models import GRUNet
    from learned_actuators.network_file import NetworkMetadata, save_network

    torch.manual_seed(0)
    net = GRUNet(3, 32, 1).eval()
    with torch.no_grad():  # zero residual: the robot moves exactly as with the PD motor, only the cost differs
        for name, param in net.named_parameters():
            if not name.startswith("gru."):
                param.zero_()
    meta = NetworkMetadata(
        model_type="gru_pd",
        dt=dt,
        features=["q", "q_target", "qd"],
        hidden_size=32,
        num_layers=1,
        input_mean=[0.0, 0.0, 0.0],
        input_std=[0.5, 0.5, 5.0],
        output_std=1.0,
        physics={"kp": 25.0, "kd": 0.5},
    )
    save_network(net, path, meta)


def _actuator_fields(config: str, tmp: Path) -> dict:
    """Fields of the ``base_legs`` actuator cfg for ``config`` (network file and, for third-party nets, conventions)."""
    config = RANDOMIZED.get(config, config)
    if config in ("gru_pd", "gru_pd_200hz"):
        path = tmp / f"{config}.pt"
        _write_gru_pd(path, dt=0.02 if config == "gru_pd" else 0.005)
        return {"network_file": str(path)}
    if config == "lstm":  # no metadata: runs every physics step, as legged_gym does
        return {"network_file": str(NETS / "anydrive_v3_lstm.pt")}
    if config == "mlp":  # walk-these-ways' conventions (no metadata in the file)
        return {
            "network_file": str(NETS / "unitree_go1.pt"),
            "network_dt": 0.02,
            "pos_scale": -1.0,
            "vel_scale": 1.0,
            "torque_scale": 1.0,
            "input_order": "pos_vel",
            "input_idx": [0, 1, 2],
        }
    return {}


def child(config: str, num_envs: int, steps: int, ppo_iterations: int, torch_threads: int) -> None:
    """Measure one config in this process and print a ``RESULT {json}`` line."""
    import torch

    if torch_threads > 0:
        torch.set_num_threads(torch_threads)

    from isaaclab_rl.rsl_rl import (
        RslRlVecEnvWrapper,
        check_rsl_rl_version,
        create_rsl_rl_runner,
        handle_deprecated_rsl_rl_cfg,
    )

    from learned_actuators.envs import load_task_cfgs, make_env, measure_throughput

    task = _task(config)
    with tempfile.TemporaryDirectory() as tmp:
        fields = _actuator_fields(config, Path(tmp))

        def modify(env_cfg):
            if config == "dc_python":
                env_cfg.sim.use_newton_actuators = False
            for key, value in fields.items():
                setattr(env_cfg.scene.robot.actuators["base_legs"], key, value)

        with make_env(task, num_envs, device="cpu", modify_cfg=modify) as env:
            actuator = env.unwrapped.scene["robot"].actuators["base_legs"]
            result = {"config": config, "task": task, "actuator": type(actuator).__name__}
            result.update(measure_throughput(env, steps))
            if ppo_iterations > 0:
                _, agent_cfg = load_task_cfgs(task)
                agent_cfg = handle_deprecated_rsl_rl_cfg(agent_cfg, check_rsl_rl_version())
                agent_cfg.device = "cpu"
                wrapped = RslRlVecEnvWrapper(env, clip_actions=agent_cfg.clip_actions)
                runner = create_rsl_rl_runner(wrapped, agent_cfg)
                runner.learn(1)  # warm-up iteration
                start = time.perf_counter()
                runner.learn(ppo_iterations)
                result["ppo_s_per_iteration"] = (time.perf_counter() - start) / ppo_iterations
                result["ppo_steps_per_env"] = agent_cfg.num_steps_per_env
            result["finite_state"] = bool(torch.isfinite(env.unwrapped.scene["robot"].data.joint_pos.torch).all())
    print("RESULT " + json.dumps(result), flush=True)


def _run_child(config: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", config, "--num-envs", str(args.num_envs)]
    cmd += ["--steps", str(args.steps), "--ppo-iterations", str(args.ppo_iterations)]
    cmd += ["--torch-threads", str(args.torch_threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        sys.exit(f"benchmark child failed for {config}:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def _median_row(results: list[dict]) -> dict:
    """The first result with its timings replaced by the medians over ``results``."""
    row = dict(results[0])
    for key in ("env_steps_per_s", "ppo_s_per_iteration"):
        if key in row:
            row[key] = statistics.median(r[key] for r in results)
    row["finite_state"] = all(r["finite_state"] for r in results)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-envs", type=int, default=256)
    parser.add_argument("--steps", type=int, default=100, help="timed policy steps (after 10 warm-up steps)")
    parser.add_argument("--ppo-iterations", type=int, default=2, help="timed PPO iterations (after 1 warm-up)")
    parser.add_argument("--configs", nargs="+", choices=CONFIGS, default=list(CONFIGS))
    parser.add_argument(
        "--torch-threads", type=int, default=0, help="torch intra-op threads in each child (default 0: torch's own)"
    )
    parser.add_argument("--repeats", type=int, default=1, help="interleaved runs per config (median reported)")
    parser.add_argument("--child", choices=CONFIGS, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.num_envs, args.steps, args.ppo_iterations, args.torch_threads)
        return
    configs = ["dc", *[c for c in args.configs if c != "dc"]]  # the reference always runs, first
    runs: dict[str, list[dict]] = {config: [] for config in configs}
    loads = []
    for repeat in range(args.repeats):  # interleaved, so that a change in machine load hits every config
        for config in configs:
            print(
                f"[bench_policy] {config} ({repeat + 1}/{args.repeats}): {args.num_envs} envs, {args.steps} steps",
                file=sys.stderr,
                flush=True,
            )
            runs[config].append(_run_child(config, args))
            loads.append(os.getloadavg()[0])
    rows = [_median_row(results) for results in runs.values()]
    reference = rows[0]
    print(
        f"\nOffline Go2 flat, {args.num_envs} envs, CPU, torch threads {args.torch_threads or 'default'}; "
        f"median of {args.repeats} run(s); load average (1 min) after each run: "
        + ", ".join(f"{load:.2f}" for load in loads)
    )
    print(f"{'config':>13} {'actuator':>26} {'env-steps/s':>12} {'vs DC':>6} {'PPO s/iter':>11} {'vs DC':>6}")
    for r in rows:
        ppo = r.get("ppo_s_per_iteration")
        ppo_ratio = ppo / reference["ppo_s_per_iteration"] if ppo and reference.get("ppo_s_per_iteration") else None
        print(
            f"{r['config']:>13} {r['actuator']:>26} {r['env_steps_per_s']:>12.0f} "
            f"{r['env_steps_per_s'] / reference['env_steps_per_s']:>6.2f} "
            f"{(f'{ppo:.2f}' if ppo else '-'):>11} {(f'{ppo_ratio:.2f}' if ppo_ratio else '-'):>6}"
            + ("" if r["finite_state"] else "  (non-finite joint state!)")
        )
    by_config = {r["config"]: r for r in rows}
    for randomized, plain in RANDOMIZED.items():
        if randomized in by_config and plain in by_config:
            ratio = by_config[randomized]["env_steps_per_s"] / by_config[plain]["env_steps_per_s"]
            print(f"actuator randomisation cost: {randomized} vs {plain}: {ratio:.2f}x env-steps/s")
    gru = next((r for r in rows if r["config"] == "gru_pd"), None)
    if gru is not None:
        ratio = gru["env_steps_per_s"] / reference["env_steps_per_s"]
        print(f"GRU-PD throughput vs DC motor: {ratio:.2f} (target >= 0.90: {'met' if ratio >= 0.9 else 'NOT met'})")


if __name__ == "__main__":
    main()
