"""Finding the runs of a reader: one file, or every matching file under a folder (recursively)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from .joint_log import JointLog, LogFormatError

__all__ = ["read_run_files"]


def read_run_files(path: str | Path, patterns: Sequence[str], read: Callable[[Path], JointLog]) -> list[JointLog]:
    """Read one file, or every file under a folder (recursively) matching ``patterns``, with ``read``.

    With several patterns (``("*.npz", "*.csv")``) a file is skipped when one of an earlier pattern with the same
    name lies beside it (a converted copy). Runs whose file names repeat in different sub-folders are named (and
    grouped, ``meta["group"]``) by their path relative to the folder.

    Raises:
        LogFormatError: ``path`` does not exist, or the folder holds no matching file.
    """
    path = Path(path)
    if not path.exists():
        raise LogFormatError(f"{path}: no such file or folder.")
    if not path.is_dir():
        return [read(path)]
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
    files.sort()
    logs = [read(f) for f in files]
    if len({log.name for log in logs}) != len(logs):
        for f, log in zip(files, logs, strict=True):
            renamed = str(f.relative_to(path).with_suffix(""))
            if log.meta.get("group") == log.name:
                log.meta["group"] = renamed
            log.name = renamed
    return logs
