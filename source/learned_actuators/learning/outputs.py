"""Output folders and atomic output files of the training and validation command lines.

**Output folders.** A command line writes one run into one folder (``--out``). A folder that already holds files is
never written into silently: the command refuses before any work unless ``--overwrite`` is given (then the earlier
run's files are deleted first, after every check passed, so old and new files never mix) or ``--resume`` continues
that very run. Every run folder holds ``run.json`` (the command, the resolved settings and whether it finished).

**Atomic files.** Every file a user keeps (checkpoints, best model, exports, results, reports, plots) is written to a
temporary file beside it and renamed over it (:mod:`learned_actuators.atomic_io`): a crash, SIGTERM or SIGKILL at
any moment leaves the previous file readable, and a full disk gives an error naming the file.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..atomic_io import atomic_write, atomic_write_json
from ..errors import UserInputError

__all__ = [
    "RUN_FILE",
    "check_out_dir",
    "exit_on_sigterm",
    "finish_run_file",
    "read_run_file",
    "remove_partial_files",
    "save_figure",
    "start_out_dir",
]

RUN_FILE = "run.json"
"""Marker and record of a run folder: command, settings, ``status`` (``running`` / ``finished``)."""

_RUN_OUTPUTS = (RUN_FILE, "results.json", "report.html", "metrics.json")
"""Files that show a folder holds an earlier run of ours (``--overwrite`` deletes only such folders)."""


def save_figure(fig, path: str | os.PathLike, **savefig_kwargs: Any) -> Path:
    """``fig.savefig`` into ``path`` atomically (PNG unless ``format`` is given); return the path."""
    savefig_kwargs.setdefault("format", Path(path).suffix.lstrip(".") or "png")
    with atomic_write(path, "wb") as f:
        fig.savefig(f, **savefig_kwargs)
    return Path(path)


def remove_partial_files(folder: str | os.PathLike) -> int:
    """Delete the temporary ``.<name>.*.partial*`` files a killed run left under ``folder``; return how many."""
    count = 0
    for tmp in Path(folder).rglob(".*.partial*") if Path(folder).is_dir() else ():
        tmp.unlink(missing_ok=True)
        count += 1
    return count


def _is_partial(name: str) -> bool:
    """A temporary file of an atomic write (left behind only by a killed run)."""
    return name.startswith(".") and ".partial" in name


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _is_writable_dir(folder: Path) -> bool:
    try:
        fd, name = tempfile.mkstemp(prefix=".write_check.", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


def check_out_dir(out: str | os.PathLike, overwrite: bool = False, flag: str = "--out") -> Path:
    """Check, before any work, that the run folder ``out`` can take a new run; return it as a Path.

    Refused (:class:`UserInputError` naming the folder): a file (or a file on the way) where a folder is expected,
    a folder that cannot be written, and a folder that already holds files unless ``overwrite`` (which is refused
    too for a non-empty folder that holds no run of ours, so that ``--overwrite`` never deletes foreign files).
    """
    out = Path(out)
    existing = _nearest_existing(out)
    if existing.exists() and not existing.is_dir():
        what = "is a file" if existing == out else f"goes through {existing}, which is a file"
        raise UserInputError(f"{flag} {out}: {what}, not a folder; give a folder for the run's outputs.")
    if not _is_writable_dir(existing):
        raise UserInputError(f"{flag} {out}: folder {existing} is not writable; give a folder you can write to.")
    if out.is_dir():
        if not _is_writable_dir(out):
            raise UserInputError(f"{flag} {out}: the folder is not writable; give a folder you can write to.")
        entries = sorted(p.name for p in out.iterdir() if not _is_partial(p.name))
        if entries and not overwrite:
            shown = ", ".join(entries[:4]) + (", ..." if len(entries) > 4 else "")
            raise UserInputError(
                f"{flag} {out}: the folder already holds files ({shown}); a run never overwrites an earlier one. "
                "Give a new folder, --overwrite to delete the earlier run first, or --resume to continue it."
            )
        if entries and not any((out / name).exists() for name in _RUN_OUTPUTS):
            raise UserInputError(
                f"{flag} {out}: the folder holds files but no earlier run ({RUN_FILE} or results.json/report.html); "
                "--overwrite deletes only run folders. Give a new or empty folder."
            )
    return out


def start_out_dir(out: str | os.PathLike, overwrite: bool, record: dict[str, Any]) -> Path:
    """Create the run folder (deleting the earlier run's files when ``overwrite``) and write ``run.json``.

    Call it after every check passed and just before the first output is written.
    """
    out = Path(out)
    if overwrite and out.is_dir():
        for entry in out.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    out.mkdir(parents=True, exist_ok=True)
    remove_partial_files(out)
    info = {
        "status": "running",
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "argv": sys.argv[:1] + list(record.pop("argv", [])),
        **record,
    }
    atomic_write_json(out / RUN_FILE, info)
    return out


def read_run_file(run: str | os.PathLike, flag: str = "--resume") -> dict[str, Any]:
    """The ``run.json`` of a run folder, for ``--resume`` (clear errors when it is not one)."""
    import json

    run = Path(run)
    path = run / RUN_FILE
    if not run.is_dir():
        raise UserInputError(f"{flag} {run}: no such run folder.")
    if not path.is_file():
        raise UserInputError(f"{flag} {run}: not a run folder of this command (no {RUN_FILE}); nothing to resume.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserInputError(f"{path}: not valid JSON ({err}); cannot resume this run.") from err
    if not isinstance(data, dict):
        raise UserInputError(f"{path}: expected a JSON object; cannot resume this run.")
    return data


def finish_run_file(out: str | os.PathLike, **extra: Any) -> None:
    """Mark the run in ``out/run.json`` as finished."""
    import json

    path = Path(out) / RUN_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(status="finished", finished=time.strftime("%Y-%m-%d %H:%M:%S"), **extra)
    atomic_write_json(path, data)


def exit_on_sigterm() -> None:
    """Turn SIGTERM into ``SystemExit(143)`` so temporary files are removed on the way out (scripts only)."""

    def _handler(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _handler)
