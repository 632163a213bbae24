"""Finding the runs of a reader: one file, or every matching file under a folder (recursively)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from .joint_log import JointLog, LogFormatError

__all__ = ["find_run_files", "read_run_files", "rename_run", "run_names"]


def read_run_files(path: str | Path, patterns: Sequence[str], read: Callable[[Path], JointLog]) -> list[JointLog]:
    """Read one file, or every file under a folder (recursively) matching ``patterns``, with ``read``.

    With several patterns (``("*.npz", "*.csv")``) a file is skipped when one of an earlier pattern with the same
    name lies beside it (a converted copy). Runs whose file names repeat in different sub-folders are named (and
    grouped, ``meta["group"]``) by their path relative to the folder.

    Raises:
        LogFormatError: ``path`` does not exist, or the folder holds no matching file.
    """
    path = Path(path)
    files = find_run_files(path, patterns)
    logs = [read(f) for f in files]
    for log, name in zip(logs, run_names(path, files, [log.name for log in logs]), strict=True):
        rename_run(log, name)
    return logs


def find_run_files(path: str | Path, patterns: Sequence[str]) -> list[Path]:
    """The files :func:`read_run_files` reads, sorted: ``path`` itself, or the matches under the folder.

    Raises:
        LogFormatError: ``path`` does not exist, or the folder holds no matching file.
    """
    path = Path(path)
    if not path.exists():
        raise LogFormatError(f"{path}: no such file or folder.")
    if not path.is_dir():
        return [path]
    files: list[Path] = []
    seen: set[Path] = set()
    for pattern in patterns:
        found = sorted(p for p in path.rglob(pattern) if p.is_file() and p.with_suffix("") not in seen)
        files += found
        seen |= {p.with_suffix("") for p in found}
    if not files:
        raise LogFormatError(
            f"{path}: no files match {' or '.join('**/' + p for p in patterns)} (searched recursively)."
        )
    return sorted(files)


def run_names(path: Path, files: list[Path], names: list[str]) -> list[str]:
    """The run names: the readers' ``names``, or each file's path relative to ``path`` when names repeat."""
    if len(set(names)) == len(names) or not path.is_dir():
        return names
    return [str(f.relative_to(path).with_suffix("")) for f in files]


def rename_run(log: JointLog, name: str) -> JointLog:
    """Give ``log`` the name ``name`` (and the group, when the group was the old name); returns ``log``."""
    if name != log.name:
        if log.meta.get("group") == log.name:
            log.meta["group"] = name
        log.name = name
    return log
