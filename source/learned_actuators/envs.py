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
