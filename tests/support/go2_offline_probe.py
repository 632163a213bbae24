"""Child process of the offline-env integration test: build the offline Go2 flat task with the network
blocked, step it with zero actions and write what the test asserts on as JSON.

Usage: python -m tests.support.go2_offline_probe OUT.json NUM_ENVS NUM_STEPS
"""

import json
import sys

from tests.support import network_guard

network_guard.install()

import torch

from learned_actuators.envs import make_env

TASK = "LearnedActuators-Velocity-Flat-UnitreeGo2-Offline"


def main(out: str, num_envs: int, num_steps: int) -> None:
    result = {"task": TASK}
    with make_env(TASK, num_envs, device="cpu") as env:
        obs, _ = env.reset()
        unwrapped = env.unwrapped
        actions = torch.zeros(unwrapped.num_envs, unwrapped.action_manager.total_action_dim)
        finite_obs, finite_rew = True, True
        for _ in range(num_steps):
            obs, rew, _, _, _ = env.step(actions)
            finite_obs &= bool(torch.isfinite(obs["policy"]).all())
            finite_rew &= bool(torch.isfinite(rew).all())
        robot = unwrapped.scene["robot"]
        result.update(
            num_envs=unwrapped.num_envs,
            steps=num_steps,
            finite_obs=finite_obs,
            finite_rew=finite_rew,
            base_height=robot.data.root_pos_w.torch[:, 2].tolist(),
            joint_names=list(robot.joint_names),
            body_names=list(robot.body_names),
            actuator_cfgs=sorted({type(a).__name__ for a in robot.cfg.actuators.values()}),
            usd_path=unwrapped.cfg.scene.robot.spawn.usd_path,
        )
    result["network_attempts"] = network_guard.ATTEMPTS
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
