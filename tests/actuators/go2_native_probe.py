"""Subprocess probe: an offline Go2 flat learned-actuator task on one actuator path, 50 policy steps, torques recorded.

python -m tests.actuators.go2_native_probe {native|python} OUT.npz NET_DIR [STEPS] [gru_pd|lstm|mlp] [randomized]

``native``: ``sim.use_newton_actuators=True`` (the task's default: our Newton drive); ``python``: ``False`` (Isaac
Lab's Python actuator path). Same seed, same reset state, same (seeded random) actions; envs 0 and 2 time out at
policy step 20 (a per-env reset mid-run); the base-contact termination is off (see ``main``). Records, for every
physics step, the applied joint efforts Newton integrates (``control.joint_f``, read by a post-actuator hook) and,
for every policy step, the articulation's ``actuators.applied_effort`` and root pose. ``randomized``: the
``-Randomized-Offline`` task (actuator randomisation and delay drawn at each reset); the drawn parameters per (env,
joint) are recorded after the first reset and after policy steps RESET_AT - 1 and RESET_AT.
"""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from tests.actuators.helpers import GRUNet, LSTMNet, save

TASKS = {
    model: f"LearnedActuators-Velocity-Flat-UnitreeGo2-{name}-Offline"
    for model, name in (("gru_pd", "GRUPD"), ("lstm", "LSTM"), ("mlp", "MLP"))
}
NUM_ENVS, RESET_AT, RESET_ENVS = 4, 20, [0, 2]


def net_file(directory: Path, model: str = "gru_pd") -> str:
    """A random net of ``model`` at net dt 0.02 s (4 physics steps: held 3 of 4), with normalisation.

    GRU-PD: residual, 1 x 8, PD curve and friction. LSTM: 2 x 8. MLP: 3 history slots, softsign hidden layer.
    """
    torch.manual_seed(0)
    if model == "lstm":
        net = LSTMNet(8, 2)
        meta = {"input_mean": [0.0, 0.0], "input_std": [0.2, 3.0], "output_std": 8.0, "output_mean": 0.5}
        return save(directory, "lstm.pt", net, model_type="lstm", dt=0.02, features=["pos_error", "qd"], **meta)
    if model == "mlp":
        net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Softsign(), torch.nn.Linear(16, 1))
        meta = {"input_idx": [0, 1, 2], "pos_scale": 5.0, "vel_scale": 0.2, "torque_scale": 10.0}
        return save(directory, "mlp.pt", net, model_type="mlp", dt=0.02, features=["pos_error", "qd"], **meta)
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


def main(mode: str, out: str, net_dir: str, steps: str = "50", model: str = "gru_pd", variant: str = "") -> None:
    from isaaclab_newton.physics import NewtonManager

    from learned_actuators.actuators.randomization import attached_randomization
    from learned_actuators.envs import make_env

    steps = int(steps)
    path = net_file(Path(net_dir), model)

    def modify(env_cfg):
        assert env_cfg.sim.use_newton_actuators is True  # the task keeps Isaac Lab's default
        env_cfg.sim.use_newton_actuators = mode == "native"
        # Isaac Lab's contact termination is not path-independent: with every actuator graphable it folds the
        # decimation loop and the contact sensor sees other substeps (measured: same physics state bitwise, a base
        # contact at policy step 41 on one path only). Resets here: the forced time-outs.
        env_cfg.terminations.base_contact = None

    overrides = [f"env.scene.robot.actuators.base_legs.network_file={path}"]
    task = TASKS[model].replace("-Offline", "-Randomized-Offline") if variant == "randomized" else TASKS[model]
    joint_f, applied, root, info, drawn = [], [], [], {}, {}

    def record(tag, group):
        randomization = attached_randomization(group)
        if randomization is not None:
            drawn.update({f"{tag}/{k}": v.cpu().numpy().copy() for k, v in randomization.parameters().items()})

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with make_env(task, NUM_ENVS, modify_cfg=modify, overrides=overrides) as env:
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
            record("start", group)
            joint_f.clear()
            resets = []
            for step in range(steps):
                if step in (RESET_AT - 1, RESET_AT + 1):
                    record(f"before_{step}", group)
                if step == RESET_AT:
                    unwrapped.episode_length_buf[RESET_ENVS] = unwrapped.max_episode_length
                _, _, terminated, truncated, _ = env.step(actions[step])
                resets.append((terminated | truncated).tolist())
                applied.append(robot.actuators.applied_effort.torch.clone().numpy())
                root.append(wp_torch(robot.data.root_link_pose_w).clone().numpy())
            info["resets"] = resets
            info["physics_steps_per_policy_step"] = unwrapped.cfg.decimation
    messages = [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)]
    info["lab_path_deprecation"] = any("Isaac Lab execution of explicit actuator models" in m for m in messages)
    ours = ("LSTMActuatorNet", "MLPActuatorNet", "CombinedGRUAndPDActuator", "learned_actuators")
    info["our_deprecations"] = [m for m in messages if any(name in m for name in ours)]
    arrays = {"joint_f": np.stack(joint_f), "applied": np.stack(applied), "root": np.stack(root)}
    np.savez(out, **arrays, **{f"drawn/{k}": v for k, v in drawn.items()}, info=json.dumps(info))


def wp_torch(data):
    """A data property as a torch tensor (Isaac Lab 3 returns Warp-backed wrappers with ``.torch``)."""
    return data.torch if hasattr(data, "torch") else data


if __name__ == "__main__":
    main(*sys.argv[1:])
