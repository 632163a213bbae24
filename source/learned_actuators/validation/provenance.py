"""Provenance of a validation report: code version, package versions, date and the data files (with sha256).

Recorded in ``metrics.json`` and shown in ``report.html`` so that a number in a report can be traced back to the
code and data that produced it. Everything here is best effort and offline: no git, no checkout or no package
gives ``None`` for that entry, never an error.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import importlib.metadata
import platform
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

__all__ = ["PACKAGES", "file_sha256", "git_info", "package_versions", "provenance"]

PACKAGES = ("learned_actuators", "torch", "isaaclab", "newton", "warp-lang", "mujoco-warp", "numpy")
"""Distributions whose versions are recorded."""


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_info(path: str | Path | None = None) -> dict | None:
    """``{"commit", "dirty"}`` of the git checkout holding ``path`` (default: this package's ``__init__.py``), or None.

    None when git is missing or ``path`` is not a tracked file of a checkout (e.g. a package installed from a wheel).
    ``dirty`` is True when tracked files differ from the commit (the numbers may not match the commit exactly).
    """
    here = Path(path) if path is not None else Path(__file__).resolve().parents[1] / "__init__.py"
    cwd = here if here.is_dir() else here.parent
    if _git(["ls-files", "--error-unmatch", str(here.resolve())], cwd) is None:
        return None
    commit = _git(["rev-parse", "HEAD"], cwd)
    if not commit:
        return None
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each distribution (None when not installed)."""
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def provenance(data_files: Iterable[str | Path] = (), root: str | Path | None = None) -> dict:
    """Everything a report needs to be traced: date, git commit, package versions, Python, data files.

    Args:
        data_files: Files the numbers were computed from (logs, column map, network files); each is listed with its
            size and sha256. Duplicates are listed once.
        root: Paths under it are written relative to it (default: as given).
    """
    files, seen = [], set()
    for f in data_files:
        p = Path(f).resolve()
        if p in seen:
            continue
        seen.add(p)
        entry = {"path": str(p), "bytes": None, "sha256": None}
        if root is not None:
            with contextlib.suppress(ValueError):
                entry["path"] = str(p.relative_to(Path(root).resolve()))
        if p.is_file():
            entry.update(bytes=p.stat().st_size, sha256=file_sha256(p))
        files.append(entry)
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "git": git_info(),
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "data_files": files,
    }
