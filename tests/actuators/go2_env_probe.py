"""Subprocess probe: step the offline Go2 flat task with one learned actuator, force resets, report the state.

python -m tests.actuators.go2_env_probe {gru_pd|lstm|mlp} OUT.json NET_DIR
"""

import json
import sys
from pathlib import Path

import torch

from tests.actuators.helpers import GRUNet, LSTMNet, linear_mlp, save

TASK = "LearnedActuators-Velocity-Flat-UnitreeGo2-Offline"
NUM_ENVS, RESET_ENVS = 4, [0, 2]


def _net_file(model: str, directory: Path, dt: float) -> str:
    torch.manual_seed(0)
    if model == "gru_pd":
        return save(
            directory,
            "gru.pt",
            GRUNet(3, 8, 1),
            model_type="gru_pd",
            dt=dt,
            features=["q", "q_target", "qd"],
            input_mean=[0.0, 0.0, 0.0],
            input_std=[1.0, 1.0, 10.0],
            output_std=0.5,
            physics={"kp": 25.0, "kd": 0.5},
        )
    if model == "lstm":
        return save(directory, "lstm.pt", LSTMNet(8, 2), model_type="lstm", dt=dt, features=["pos_error", "qd"])
    return save(
        directory,
        "mlp.pt",
        linear_mlp([25.0, 0.0, -0.5, 0.0]),
        model_type="mlp",
        dt=dt,
        features=["pos_error", "qd"],
        input_idx=[0, 1],
    )


def main(model: str, out: str, net_dir: str) -> None:
    from isaaclab.utils import replace

    from learned_actuators.assets import unitree_go2_actuators as presets
    from learned_actuators.envs import make_env

    robot = {
        "gru_pd": presets.UNITREE_GO2_GRU_PD_CFG,
        "lstm": presets.UNITREE_GO2_LSTM_CFG,
        "mlp": presets.UNITREE_GO2_MLP_CFG,
    }[model]

    def modify(env_cfg):
        path = _net_file(model, Path(net_dir), env_cfg.sim.dt * env_cfg.decimation)
        legs = replace(robot.actuators["base_legs"], network_file=path)
        env_cfg.scene.robot = replace(env_cfg.scene.robot, actuators={"base_legs": legs})
        env_cfg.sim.use_newton_actuators = False

    with make_env(TASK, NUM_ENVS, modify_cfg=modify) as env:
        unwrapped = env.unwrapped
        actuator = unwrapped.scene["robot"].actuators["base_legs"]
        actions = torch.zeros(NUM_ENVS, unwrapped.action_manager.total_action_dim)
        env.reset()
        for _ in range(5):
            env.step(actions)
        state = actuator.hidden_state_per_env if model != "mlp" else actuator.joint_pos_error_history.transpose(0, 1)
        before = state.abs().sum(dim=tuple(d for d in range(state.dim()) if d != 1)).tolist()
        unwrapped.episode_length_buf[RESET_ENVS] = unwrapped.max_episode_length  # time out -> reset in step()
        _, rew, terminated, truncated, _ = env.step(actions)
        state = actuator.hidden_state_per_env if model != "mlp" else actuator.joint_pos_error_history.transpose(0, 1)
        after = state.abs().sum(dim=tuple(d for d in range(state.dim()) if d != 1)).tolist()
        result = {
            "class": type(actuator).__name__,
            "fused": actuator.uses_fused_kernels,
            "steps_per_network_step": actuator.steps_per_network_step,
            "reset": (terminated | truncated).tolist(),
            "state_before": before,
            "state_after": after,
            "finite": bool(torch.isfinite(rew).all()),
            "applied_finite": bool(torch.isfinite(actuator.applied_effort).all()),
        }
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:4])
