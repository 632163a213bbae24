"""Build Isaac Lab environments of registered tasks from Python (tests, benchmarks, demos).

Mirrors what ``isaaclab train`` does before training: resolve the task's env cfg from its gym
registration, set the number of envs and the device, launch the (kit-less) simulation runtime and
``gym.make`` the env.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import gymnasium as gym


def load_task_cfgs(task: str, overrides: list[str] | None = None) -> tuple[Any, Any]:
    """Resolve the env and rsl-rl agent cfgs of ``task`` as ``isaaclab train`` does (presets, Hydra overrides)."""
    import learned_actuators.tasks  # noqa: F401  (registers our tasks)

    if task not in gym.registry:
        ours = sorted(k for k in gym.registry if k.startswith("LearnedActuators"))
        raise ValueError(f"Unknown task {task!r}. Tasks of this package: {ours}")
    from isaaclab_tasks.utils.hydra import resolve_task_config

    return resolve_task_config(task, "rsl_rl_cfg_entry_point", overrides=list(overrides or []))


@contextlib.contextmanager
def make_env(
    task: str,
    num_envs: int,
    device: str = "cpu",
    seed: int = 0,
    modify_cfg: Callable[[Any], None] | None = None,
    overrides: list[str] | None = None,
) -> Iterator[Any]:
    """Context manager yielding the (unwrapped-by-nothing) gym env of ``task``; closes it on exit.

    Args:
        task: Registered task id.
        num_envs: Number of parallel envs.
        device: Torch/Warp device, ``"cpu"`` or ``"cuda:0"``.
        seed: Env seed.
        modify_cfg: Optional callback applied to the env cfg before the env is built.
        overrides: Hydra-style ``env.<field>=<value>`` overrides, as on the ``isaaclab train`` command line.
    """
    from isaaclab.app import launch_simulation

    env_cfg, _ = load_task_cfgs(task, overrides)
    env_cfg.scene.num_envs = num_envs
    env_cfg.sim.device = device
    env_cfg.seed = seed
    if modify_cfg is not None:
        modify_cfg(env_cfg)
    with launch_simulation(env_cfg, {"device": device, "headless": True}):
        env = gym.make(task, cfg=env_cfg)
        try:
            yield env
        finally:
            env.close()


def measure_throughput(env: Any, num_steps: int, warmup_steps: int = 10) -> dict[str, float]:
    """Step ``env`` with zero actions and return policy env-steps per second and ms per step.

    An env-step is one policy step of one env (``decimation`` physics steps).
    """
    import time

    import torch

    unwrapped = env.unwrapped
    actions = torch.zeros(unwrapped.num_envs, unwrapped.action_manager.total_action_dim, device=unwrapped.device)
    env.reset()
    for _ in range(warmup_steps):
        env.step(actions)
    start = time.perf_counter()
    for _ in range(num_steps):
        env.step(actions)
    elapsed = time.perf_counter() - start
    return {
        "num_envs": unwrapped.num_envs,
        "env_steps_per_s": unwrapped.num_envs * num_steps / elapsed,
        "ms_per_step": 1e3 * elapsed / num_steps,
    }
