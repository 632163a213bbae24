"""``isaaclab train|play`` with this package's tasks registered and rsl-rl as the default library.

Two conveniences over the stock CLI, both overridable: ``--rl_library rsl_rl`` is the default, and
``--device X`` is mirrored to the agent (``agent.device=X``) unless the command line sets it, since the
rsl-rl runner otherwise tries CUDA on a CPU-only machine. A user error (say, a missing actuator network file)
prints one line and exits with status 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

from ..errors import run_cli


def with_defaults(argv: list[str]) -> list[str]:
    """Return ``argv`` with the rl library and the agent device filled in where the user left them out."""
    argv = list(argv)
    if not any(a == "--rl_library" or a.startswith("--rl_library=") for a in argv):
        argv = ["--rl_library", "rsl_rl", *argv]
    device = None
    for i, arg in enumerate(argv):
        if arg == "--device" and i + 1 < len(argv):
            device = argv[i + 1]
        elif arg.startswith("--device="):
            device = arg.split("=", 1)[1]
    if device is not None and not any(a.startswith("agent.device=") for a in argv):
        argv.append(f"agent.device={device}")
    return argv


def train(argv: list[str] | None = None) -> int:
    """Run ``isaaclab train`` (see module docstring); returns the exit code."""
    from isaaclab_rl.entrypoints import run_train_cli

    import learned_actuators.tasks  # noqa: F401  (registers our tasks)

    return run_cli(lambda args: run_train_cli(with_defaults(args)), argv)


def play(argv: list[str] | None = None) -> int:
    """Run ``isaaclab play`` (see module docstring); returns the exit code."""
    from isaaclab_rl.entrypoints import run_play_cli

    import learned_actuators.tasks  # noqa: F401  (registers our tasks)

    return run_cli(lambda args: run_play_cli(with_defaults(args)), argv)
