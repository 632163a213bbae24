"""``scripts/train_torque_amp.py``: ``isaaclab train`` (rsl-rl) on a Go2 AMP task with reference torque profiles.

Our options become Hydra overrides of the AMP algorithm cfg (:class:`~learned_actuators.amp.cfg.
TorqueAmpPpoAlgorithmCfg`); everything else (``--task``, ``--num_envs``, ``--max_iterations``, ``--device``,
``--seed``, ``key=value`` overrides, ...) goes to Isaac Lab's rsl-rl train entry unchanged, through
:func:`learned_actuators.policy.cli.train`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import UserInputError
from ..recording.profile_files import find_profiles

__all__ = ["amp_overrides", "main", "parse_amp_args"]


def parse_amp_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """Split ``argv`` into our AMP options and the arguments for ``isaaclab train``."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("torque-aware AMP")
    group.add_argument(
        "--torque_motion_files",
        nargs="+",
        type=Path,
        required=True,
        help="reference torque profiles (.npz/.csv from scripts/play_policy.py), or folders of them",
    )
    group.add_argument(
        "--torque_weight", type=float, default=1.0, help="scale of the torque features (0: ordinary AMP)"
    )
    group.add_argument(
        "--style_reward_weight",
        type=float,
        default=None,
        help="reward = task + weight * step_dt * style (default: the agent cfg's, 1.0)",
    )
    ours, rest = parser.parse_known_args(list(argv))
    if ours.torque_weight < 0.0:
        parser.error(f"--torque_weight must be >= 0, got {ours.torque_weight}")
    return ours, rest


def _motion_files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += find_profiles(path)
        elif path.is_file():
            files.append(path)
        else:
            raise UserInputError(f"--torque_motion_files: {path}: no such file or folder.")
    if not files:
        raise UserInputError(f"--torque_motion_files: no .npz or .csv torque profile in {[str(p) for p in paths]}.")
    return [f.resolve() for f in files]


def amp_overrides(ours: argparse.Namespace) -> list[str]:
    """The ``agent.algorithm.*`` Hydra overrides that carry our options."""
    quoted = ",".join(
        "'" + str(f).replace("\\", "\\\\").replace("'", "\\'") + "'" for f in _motion_files(ours.torque_motion_files)
    )
    overrides = [f"agent.algorithm.motion_files=[{quoted}]", f"agent.algorithm.torque_weight={ours.torque_weight!r}"]
    if ours.style_reward_weight is not None:
        overrides.append(f"agent.algorithm.style_reward_weight={ours.style_reward_weight!r}")
    return overrides


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry; returns the exit code (a user error prints one line and gives 2)."""
    from ..errors import run_cli
    from ..policy.cli import train

    argv = list(sys.argv[1:] if argv is None else argv)

    def run(args: list[str]) -> int:
        ours, rest = parse_amp_args(args)
        return train([*rest, *amp_overrides(ours)])

    return run_cli(run, argv)
