"""User errors versus internal errors, and the one way every command line reports them.

A :class:`UserInputError` is a mistake in what the user gave us (a file, a column, a config field, a value): its
message names the file, the field and what was expected, and a command line prints just that message and exits
with status 2. Any other exception is ours (a bug) and keeps its traceback. ``--debug`` on a command line, or
``LEARNED_ACTUATORS_DEBUG=1``, shows the traceback of user errors too.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Sequence

__all__ = ["DEBUG_ENV_VAR", "DiskFullError", "UserInputError", "run_cli"]

DEBUG_ENV_VAR = "LEARNED_ACTUATORS_DEBUG"
"""Environment variable: when set to a non-empty value other than ``0``, user errors show their traceback."""

EXIT_USER_ERROR = 2
"""Exit status of a command line that stopped on a user error (as argparse uses for bad arguments)."""


class UserInputError(ValueError):
    """A mistake in the user's input. The message names the file, the field and what was expected."""


class DiskFullError(UserInputError):
    """Writing a file failed because its disk is full (or over quota); nothing was replaced."""


def disk_full_error(path: os.PathLike | str, err: OSError) -> DiskFullError | None:
    """A :class:`DiskFullError` naming ``path`` when ``err`` is ENOSPC/EDQUOT, else None."""
    if err.errno not in (errno.ENOSPC, errno.EDQUOT):
        return None
    return DiskFullError(
        f"{path}: the disk is full ({os.strerror(err.errno)}); nothing was written and the previous file, if any, "
        "is unchanged. Free some space and run again."
    )


def _debug_requested(argv: Sequence[str]) -> bool:
    return "--debug" in argv or os.environ.get(DEBUG_ENV_VAR, "") not in ("", "0")


def run_cli(main: Callable[[list[str]], int | None], argv: Sequence[str] | None = None) -> int:
    """Run ``main(argv)`` and turn a user error into one line on stderr and exit status 2.

    ``argv`` defaults to ``sys.argv[1:]``; ``--debug`` is removed from it before ``main`` sees it (and re-raises
    user errors with their traceback). Internal errors always propagate. Returns the exit status.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    args = [a for a in args if a != "--debug"]
    try:
        status = main(args)
    except UserInputError as err:
        if debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as err:
        full = disk_full_error(getattr(err, "filename", None) or "<output>", err)
        if full is None or debug:
            raise
        print(f"error: {full}", file=sys.stderr)
        return EXIT_USER_ERROR
    return int(status or 0)
