"""Play an rsl-rl checkpoint like ``isaaclab play`` and record torque profiles (one NPZ per env).

``isaaclab play`` steps the policy until interrupted and offers no per-step hook, so this module runs the same
stages (Isaac Lab's own argument parsing, task-cfg resolution with ``key=value`` overrides, checkpoint
selection, env creation, rsl-rl runner, policy export) and then a bounded loop that records every policy step
with :class:`~learned_actuators.recording.ArticulationTorqueRecorder`.

Frame ``k`` of a profile is the state after policy step ``k``: joint and body states at the end of the step,
the efforts the actuator applied in its last physics step (``joint_torques``) and the joint position targets
the actuators received during the step (``dof_position_targets``). The frame rate is the policy rate
``1 / step_dt``. Episode resets are marked: a frame read right after an env's reset starts a new episode in its
profile (``episode_starts``), so that samplers never read the jump across a reset as motion.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .cli import with_defaults

__all__ = ["default_record_dir", "parse_play_args", "play", "play_argv"]

logger = logging.getLogger(__name__)

StepCallback = Callable[[Any, int], None]
"""Called after each recorded policy step with the (wrapped) env and the step index."""


def _recording_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("torque-profile recording")
    group.add_argument("--num_steps", type=int, default=500, help="policy steps to play and record (default 500)")
    group.add_argument(
        "--record_dir",
        type=Path,
        default=None,
        help="folder for the NPZ files (default: logs/torque_profiles/<experiment>/<run>_<checkpoint>)",
    )
    group.add_argument("--record_envs", type=int, default=None, help="record the first N envs (default: all)")
    group.add_argument("--no_record", action="store_true", help="play without recording")
    group.add_argument("--no_export", action="store_true", help="skip the JIT/ONNX policy export isaaclab play does")
    return parser


def parse_play_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """Split ``argv`` into our recording options and the ``isaaclab play`` arguments for the rsl-rl backend.

    Returns:
        ``(recording options, backend argv)``; the backend argv has ``--rl_library`` removed (only rsl-rl is
        supported) and ``agent.device`` mirrored from ``--device`` as :func:`~learned_actuators.policy.cli.train`
        does.

    Raises:
        SystemExit: ``--rl_library`` names another library, or ``--num_steps``/``--record_envs`` is not positive.
    """
    parser = _recording_parser()
    ours, rest = parser.parse_known_args(list(argv))
    if ours.num_steps < 1:
        parser.error(f"--num_steps must be at least 1, got {ours.num_steps}")
    if ours.record_envs is not None and ours.record_envs < 1:
        parser.error(f"--record_envs must be at least 1, got {ours.record_envs}")
    library = argparse.ArgumentParser(add_help=False)
    library.add_argument("--rl_library", default="rsl_rl")
    selected, backend_argv = library.parse_known_args(with_defaults(rest))
    if selected.rl_library != "rsl_rl":
        parser.error(f"play_policy records rsl-rl policies only; got --rl_library {selected.rl_library}")
    return ours, backend_argv


def default_record_dir(experiment_name: str, checkpoint: str | os.PathLike) -> Path:
    """``logs/torque_profiles/<experiment>/<run folder>_<checkpoint stem>`` (relative to the working directory)."""
    checkpoint = Path(checkpoint)
    return Path("logs", "torque_profiles", experiment_name, f"{checkpoint.parent.name}_{checkpoint.stem}")


def play_argv(argv: Sequence[str], on_step: StepCallback | None = None) -> list[Path]:
    """Play a checkpoint and record torque profiles; command-line arguments as ``isaaclab play`` plus ours.

    Args:
        argv: ``isaaclab play --rl_library rsl_rl`` arguments (``--task``, ``--checkpoint``, ``--num_envs``,
            ``--device``, ``key=value`` cfg overrides ...) plus ``--num_steps``, ``--record_dir``,
            ``--record_envs``, ``--no_record``, ``--no_export``.
        on_step: Optional callback run after each policy step (after the frame is recorded).

    Returns:
        The NPZ files written (empty with ``--no_record``, or when no checkpoint was found).
    """
    ours, backend_argv = parse_play_args(argv)
    original_argv = sys.argv  # Isaac Lab's argument parsing hands the overrides to Hydra through sys.argv
    try:
        return _play(ours, backend_argv, on_step)
    finally:
        sys.argv = original_argv


def _play(ours: argparse.Namespace, backend_argv: list[str], on_step: StepCallback | None) -> list[Path]:
    """The play stages and the recording loop of :func:`play_argv`."""
    from isaaclab.app import launch_simulation
    from isaaclab_rl.entrypoints.backends import play_rsl_rl as backend
    from isaaclab_rl.rsl_rl import check_rsl_rl_version
    from isaaclab_tasks.utils import resolve_task_config

    import learned_actuators.tasks  # noqa: F401  (registers our tasks)

    # Isaac Lab's rsl-rl play stages, in its order (isaaclab_rl.entrypoints.backends.play_rsl_rl.run)
    args_cli = backend._parse_args(backend_argv)
    installed_version = check_rsl_rl_version()
    env_cfg, agent_cfg = resolve_task_config(args_cli.task, args_cli.agent, play_mode=not args_cli.train_env_cfg)
    with launch_simulation(env_cfg, args_cli), contextlib.ExitStack() as cleanup:
        loaded = _load_checkpoint(args_cli, env_cfg, agent_cfg, installed_version, cleanup, export=not ours.no_export)
        if loaded is None:
            return []
        env, policy, agent_cfg, resume_path = loaded
        recorder = None if ours.no_record else _recorder(env.unwrapped, ours.record_envs)
        _run_policy(env, policy, ours.num_steps, recorder, on_step)
        if recorder is None:
            return []
        out_dir = ours.record_dir or default_record_dir(agent_cfg.experiment_name, resume_path)
        paths = recorder.save(out_dir)
        logger.info("Wrote %d torque profiles (%d frames each) to %s", len(paths), recorder.num_frames, out_dir)
        return paths


def _load_checkpoint(args_cli, env_cfg, agent_cfg, installed_version, cleanup: contextlib.ExitStack, export: bool):
    """Resolve the checkpoint, create the env (closed by ``cleanup``) and the runner, load the policy, export it.

    Returns:
        ``(wrapped env, inference policy, agent cfg, checkpoint path)``, or None when no checkpoint was found.
    """
    from isaaclab.envs import DirectMARLEnvCfg
    from isaaclab.utils.seed import configure_seed
    from isaaclab_rl.entrypoints.backends import cli_args_rsl_rl as cli_args
    from isaaclab_rl.entrypoints.backends import play_rsl_rl as backend
    from isaaclab_rl.entrypoints.common import (
        apply_env_overrides,
        apply_video_recording,
        close_env,
        create_isaaclab_env,
    )
    from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper, create_rsl_rl_runner, handle_deprecated_rsl_rl_cfg

    agent_cfg = cli_args.update_rsl_rl_cfg(agent_cfg, args_cli)
    agent_cfg = handle_deprecated_rsl_rl_cfg(agent_cfg, installed_version)
    apply_env_overrides(args_cli, env_cfg)
    env_cfg.seed = agent_cfg.seed
    log_root_path = os.path.abspath(os.path.join("logs", "rsl_rl", agent_cfg.experiment_name))
    logger.info("Loading experiment from directory: %s", log_root_path)
    resume_path = backend._resolve_checkpoint(args_cli, agent_cfg, env_cfg, log_root_path)
    if resume_path is None:
        logger.error("No checkpoint found for task %s under %s.", args_cli.task, log_root_path)
        return None
    log_dir = os.path.dirname(resume_path)
    env_cfg.log_dir = log_dir
    apply_video_recording(env_cfg, log_dir, args_cli, subdir="play", checkpoint_path=resume_path)
    env = create_isaaclab_env(
        args_cli.task, env_cfg, args_cli, convert_marl_to_single_agent=isinstance(env_cfg, DirectMARLEnvCfg)
    )
    cleanup.callback(lambda: close_env(env))
    env = RslRlVecEnvWrapper(env, clip_actions=agent_cfg.clip_actions)
    logger.info("Loading model checkpoint from: %s", resume_path)
    runner = create_rsl_rl_runner(env, agent_cfg)
    if args_cli.deterministic:
        configure_seed(env_cfg.seed, torch_deterministic=True)
    runner.load(resume_path)
    policy = runner.get_inference_policy(device=env.unwrapped.device)
    if export:
        export_dir = os.path.join(log_dir, "exported")
        runner.export_policy_to_jit(path=export_dir, filename="policy.pt")
        runner.export_policy_to_onnx(path=export_dir, filename="policy.onnx")
    return env, policy, agent_cfg, resume_path


def _recorder(unwrapped, record_envs: int | None):
    """A torque recorder of the robot in the first ``record_envs`` envs (all when None), at the policy rate."""
    from ..recording import ArticulationTorqueRecorder

    num_envs = unwrapped.num_envs
    count = num_envs if record_envs is None else min(record_envs, num_envs)
    return ArticulationTorqueRecorder(
        unwrapped.scene["robot"],
        fps=1.0 / unwrapped.step_dt,
        env_ids=range(count),
        env_origins=unwrapped.scene.env_origins,
    )


def _run_policy(env, policy, num_steps: int, recorder, on_step: StepCallback | None) -> None:
    """Step ``env`` with ``policy`` ``num_steps`` times, recording each step (with its episode starts) if asked."""
    import torch
    from tqdm import tqdm

    obs = env.get_observations()
    for step in tqdm(range(num_steps), desc="play", unit="step"):
        with torch.inference_mode():
            obs, _, dones, _ = env.step(policy(obs))
            policy.reset(dones)  # recurrent policies: reset the states of finished episodes
            if recorder is not None:
                recorder.record(new_episode=dones)
        if on_step is not None:
            on_step(env, step)


def play(argv: Sequence[str] | None = None) -> int:
    """Command-line entry (``scripts/play_policy.py``); returns the exit code (1 when nothing was recorded)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    ours, _ = parse_play_args(argv)  # bad recording options exit here, before the simulation starts
    logging.basicConfig(level=logging.INFO, format="[%(levelname)s] %(name)s: %(message)s")
    paths = play_argv(argv)
    if paths:
        print(f"Wrote {len(paths)} torque profile(s) to {paths[0].parent}")
    return 0 if paths or ours.no_record else 1
