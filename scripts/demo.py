"""The main job on built-in defaults: build the offline Go2 flat task on CPU, run it briefly, print throughput."""

import argparse

from learned_actuators.envs import make_env, measure_throughput

TASK = "LearnedActuators-Velocity-Flat-UnitreeGo2-Offline"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    with make_env(TASK, args.num_envs, device=args.device) as env:
        result = measure_throughput(env, args.steps)
    print(f"{TASK}: {result['num_envs']} envs on {args.device}, {result['env_steps_per_s']:.0f} env-steps/s")


if __name__ == "__main__":
    main()
