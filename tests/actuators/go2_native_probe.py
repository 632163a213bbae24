"""Subprocess probe: the offline Go2 flat GRU-PD task on one actuator path, 50 policy steps, applied torques recorded.

python -m tests.actuators.go2_native_probe {native|python} OUT.npz NET_DIR [STEPS]

``native``: ``sim.use_newton_actuators=True`` (the task's default: our Newton drive); ``python``: ``False`` (Isaac
Lab's Python actuator path). Same seed, same reset state, same (seeded random) actions; envs 0 and 2 time out at
policy step 20 (a per-env reset mid-run). Records, for every physics step, the applied joint efforts Newton
integrates (``control.joint_f``, read by a post-actuator hook) and, for every policy step, the articulation's
``actuators.applied_effort``.
"""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from tests.actuators.helpers import GRUNet, save

TASK = "LearnedActuators-Velocity-Flat-UnitreeGo2-GRUPD-Offline"
NUM_ENVS, RESET_AT, RESET_ENVS = 4, 20, [0, 2]


def net_file(directory: Path) -> str:
    """A random GRU-PD net (residual, 1 x 8, net dt 0.02 s = 4 physics steps) with a PD curve and friction."""
    torch.manual_seed(0)
    return save(
        directory,
        "gru.pt",
        GRUNet(3, 8, 1),
        model_type="gru_pd",
        dt=0.02,
        features=["q", "q_target", "qd"],
        input_mean=[0.0, 0.0, 0.0],
        input_std=[1.0, 1.0, 10.0],
        output_std=0.5,
        physics={
            "kp": 25.0,
            "kd": 0.5,
            "stall_torque": 20.0,
            "no_load_speed": 25.0,
            "friction": 0.1,
            "friction_velocity": 0.5,
        },
    )


def main(mode: str, out: str, net_dir: str, steps: str = "50") -> None:
    from isaaclab_newton.physics import NewtonManager

    from learned_actuators.envs import make_env

    steps = int(steps)
    path = net_file(Path(net_dir))

    def modify(env_cfg):
        assert env_cfg.sim.use_newton_actuators is True  # the GRU-PD task keeps Isaac Lab's default
        env_cfg.sim.use_newton_actuators = mode == "native"

    overrides = [f"env.scene.robot.actuators.base_legs.network_file={path}"]
    joint_f, applied, info = [], [], {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with make_env(TASK, NUM_ENVS, modify_cfg=modify, overrides=overrides) as env:
            unwrapped = env.unwrapped
            robot = unwrapped.scene["robot"]
            group = robot.actuators["base_legs"]
            info["group"] = type(group).__name__
            drive = getattr(group, "drive", None)
            info["drive"] = type(drive).__name__ if drive is not None else None
            info["backend"] = getattr(drive, "backend", None)
            info["graphable"] = bool(NewtonManager._is_all_graphable())
            control = NewtonManager.backend.control
            NewtonManager.register_post_actuator_callback(lambda: joint_f.append(control.joint_f.numpy().copy()))
            generator = torch.Generator().manual_seed(1)
            actions = 0.5 * torch.randn(steps, NUM_ENVS, unwrapped.action_manager.total_action_dim, generator=generator)
            env.reset()
            joint_f.clear()
            resets = []
            for step in range(steps):
                if step == RESET_AT:
                    unwrapped.episode_length_buf[RESET_ENVS] = unwrapped.max_episode_length
                _, _, terminated, truncated, _ = env.step(actions[step])
                resets.append((terminated | truncated).tolist())
                applied.append(robot.actuators.applied_effort.torch.clone().numpy())
            info["resets"] = resets
            info["physics_steps_per_policy_step"] = unwrapped.cfg.decimation
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    info["lab_path_deprecation"] = any("Isaac Lab execution of explicit actuator models" in m for m in messages)
    np.savez(out, joint_f=np.stack(joint_f), applied=np.stack(applied), info=json.dumps(info))


if __name__ == "__main__":
    main(*sys.argv[1:])
