"""Offline Go2 flat env throughput on CPU (policy env-steps/s): DC motor vs GRU-PD, at several env counts.

Each (actuator, env count, round) runs in its own process (one Isaac Lab simulation per process); rounds are
interleaved and the figure is the median over ``--repeats`` rounds, the ratio the median of the per-round ratios to
the DC motor. Variants (``--actuators``):

* ``dc_motor``: the stock Go2 task's DC motors (Isaac Lab's ``DCMotorCfg``, Newton-native ``DrivePD`` + DC clamp);
* ``gru_pd``: the GRU-PD task with Isaac Lab's default ``sim.use_newton_actuators=True`` (our Newton drive; on CPU
  its torch backend);
* ``gru_pd_warp``: the same with the drive forced to its Warp kernels (what runs on CUDA; serial on CPU);
* ``gru_pd_python``: the GRU-PD task on Isaac Lab's Python actuator path (``use_newton_actuators=False``).

The GRU-PD net is random with the seed recipe's shape (GRU 1 x 32 on ``[pos_error, qd, kp, tau_pd, tau_phys]``,
residual, PD torque-speed curve, Coulomb friction) at the policy rate (4 physics steps per net step). Usage::

    ./run.sh bench env [--num-envs 64 256] [--actuators dc_motor gru_pd] [--steps 100] [--repeats 1]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

TASK = "LearnedActuators-Velocity-Flat-UnitreeGo2-Offline"
GRU_PD_TASK = "LearnedActuators-Velocity-Flat-UnitreeGo2-GRUPD-Offline"
VARIANTS = ("dc_motor", "gru_pd", "gru_pd_warp", "gru_pd_python")
FEATURES = ["pos_error", "qd", "kp", "tau_pd", "tau_phys"]


def write_net(path: str) -> str:
    """A random GRU-PD net of the seed recipe's shape at the policy rate (dt 0.02 s)."""
    import torch

    from learned_actuators.learning.models import GRUNet
    from learned_actuators.network_file import NetworkMetadata, save_network

    torch.manual_seed(0)
    physics = {"kp": 25.0, "kd": 0.5, "stall_torque": 23.7, "no_load_speed": 30.1, "friction": 0.2}
    meta = NetworkMetadata(
        model_type="gru_pd",
        dt=0.02,
        features=FEATURES,
        mode="residual",
        hidden_size=32,
        num_layers=1,
        input_mean=[0.0] * len(FEATURES),
        input_std=[0.5, 5.0, 10.0, 10.0, 10.0],
        output_std=2.0,
        physics={**physics, "friction_velocity": 0.5},
    )
    save_network(GRUNet(len(FEATURES), 32, 1).eval(), path, meta)
    return path


def child(variant: str, num_envs: int, steps: int, device: str, net: str) -> None:
    from learned_actuators.envs import make_env, measure_throughput

    task, overrides = TASK, []
    if variant != "dc_motor":
        task, overrides = GRU_PD_TASK, [f"env.scene.robot.actuators.base_legs.network_file={net}"]
    if variant == "gru_pd_python":
        overrides.append("env.sim.use_newton_actuators=false")
    with make_env(task, num_envs, device=device, overrides=overrides) as env:
        result = measure_throughput(env, steps)
        group = env.unwrapped.scene["robot"].actuators["base_legs"]
        drive = getattr(group, "drive", None)  # a Newton actuator (native path), else Isaac Lab's actuator object
        runs = type(group if drive is None else drive).__name__
        result["runs"] = f"{runs}({drive.backend})" if hasattr(drive, "backend") else runs
        print("RESULT " + json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-envs", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--actuators", nargs="+", choices=VARIANTS, default=["dc_motor", "gru_pd"])
    parser.add_argument("--steps", type=int, default=100, help="timed policy steps (after 10 warm-up steps)")
    parser.add_argument("--repeats", type=int, default=1, help="interleaved rounds (one process each)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--envs", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--net", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        if args.child == "gru_pd_warp":
            os.environ["LEARNED_ACTUATORS_DRIVE_BACKEND"] = "warp"
        child(args.child, args.envs, args.steps, args.device, args.net)
        return
    results: dict[tuple[str, int], list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        net = write_net(os.path.join(tmp, "gru_pd_bench.pt"))
        for round_ in range(args.repeats):
            for n in args.num_envs:
                for variant in args.actuators:
                    print(f"[bench_env] round {round_ + 1}: {variant}, {n} envs ...", file=sys.stderr, flush=True)
                    cmd = [sys.executable, __file__, "--child", variant, "--envs", str(n), "--net", net]
                    cmd += ["--steps", str(args.steps), "--device", args.device]
                    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
                    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
                    if proc.returncode != 0 or not lines:
                        sys.exit(f"benchmark child failed for {variant} at {n} envs:\n{proc.stderr[-3000:]}")
                    results.setdefault((variant, n), []).append(json.loads(lines[-1][len("RESULT ") :]))
    print(f"\nOffline Go2 flat on {args.device}, {args.steps} timed policy steps, median of {args.repeats} round(s)")
    print(f"{'actuator':>14} {'runs as':>22} {'envs':>6} {'env-steps/s':>12} {'ms/step':>9} {'vs DC motor':>12}")
    for n in args.num_envs:
        for variant in args.actuators:
            rows = results[(variant, n)]
            rate = statistics.median(r["env_steps_per_s"] for r in rows)
            ms = statistics.median(r["ms_per_step"] for r in rows)
            ratio = ""
            if "dc_motor" in args.actuators:
                base = results[("dc_motor", n)]
                ratios = [r["env_steps_per_s"] / b["env_steps_per_s"] for r, b in zip(rows, base, strict=True)]
                ratio = f"{statistics.median(ratios):.2f}x"
            print(f"{variant:>14} {rows[0]['runs']:>22} {n:>6} {rate:>12.0f} {ms:>9.1f} {ratio:>12}")


if __name__ == "__main__":
    main()
