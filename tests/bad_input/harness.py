"""The bad-input suite's harness: run a command line in-process, check how it refused, check nothing changed.

Every case asserts three things: the exit status is non-zero, stderr is one clear message (no traceback) that
names the file and the field, and no input or earlier output file changed (content hashes before and after).
Case ids start with the kind of failure the case guarded against before it was fixed (``silent``, ``crash``,
``dataloss``) or ``clear`` for a case that already failed clearly, so the suite can be counted by kind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from learned_actuators.errors import run_cli

KINDS = ("silent", "crash", "dataloss", "clear")


@dataclass
class Outcome:
    """What a command line did: exit status, stdout, stderr."""

    status: int
    out: str
    err: str


def snapshot(*roots: Path) -> dict[str, str]:
    """sha256 of every file under ``roots`` (files or folders), keyed by path."""
    digests = {}
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            digests[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def run_main(main: Callable[[list[str]], int | None], argv: Iterable[str], capsys) -> Outcome:
    """Run ``main`` through :func:`run_cli` (as the script does) and capture its output."""
    capsys.readouterr()
    try:
        status = run_cli(main, [str(a) for a in argv])
    except SystemExit as exit_:  # argparse errors
        status = exit_.code if isinstance(exit_.code, int) else 2
    captured = capsys.readouterr()
    return Outcome(status, captured.out, captured.err)


def assert_refused(outcome: Outcome, *names: str) -> None:
    """Non-zero exit, no traceback, and every string of ``names`` (file, field, ...) in stderr."""
    assert outcome.status != 0, f"accepted silently (exit 0); stdout:\n{outcome.out}"
    assert "Traceback" not in outcome.err, outcome.err
    for name in names:
        assert str(name) in outcome.err, f"{name!r} not named in the error:\n{outcome.err}"


def assert_unchanged(before: dict[str, str], *roots: Path) -> None:
    """No file under ``roots`` changed, appeared or vanished since ``before`` was taken."""
    after = snapshot(*roots)
    changed = {k: (before.get(k), after.get(k)) for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert not changed, f"files changed, appeared or vanished: {sorted(changed)}"


def case(kind: str, name: str, *values, **kwargs):
    """A ``pytest.param`` whose id is ``<kind>-<name>`` (see the module docstring for the kinds)."""
    assert kind in KINDS, kind
    return pytest.param(*values, id=f"{kind}-{name}", **kwargs)


def load_script(name: str):
    """Import ``scripts/<name>.py`` as a module (its ``main(argv)`` is what the harness runs)."""
    import importlib.util

    from tests.conftest import REPO_ROOT

    spec = importlib.util.spec_from_file_location(f"scripts_{name}", REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
