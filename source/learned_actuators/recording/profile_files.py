"""Torque-profile files on disk: reading either form by suffix, finding them in folders, converting NPZ <-> CSV.

The forms are :mod:`~learned_actuators.recording.profile`'s NPZ and :mod:`~learned_actuators.recording.profile_csv`'s
CSV; :func:`convert` turns one into the other losslessly.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from ..errors import UserInputError
from .profile import TorqueProfileData, TorqueProfileFormatError, load_npz, save_npz
from .profile_csv import read_csv, write_csv

__all__ = ["PROFILE_PATTERNS", "ConversionError", "convert", "find_profiles", "read_profile"]


def read_profile(path: str | PathLike, require_bodies: bool = True) -> TorqueProfileData:
    """Read a torque profile from an ``.npz`` or ``.csv`` file (chosen by suffix).

    ``require_bodies`` is as in :func:`~learned_actuators.recording.profile.validate_profile`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return load_npz(path, require_bodies=require_bodies)
    if suffix == ".csv":
        return read_csv(path, require_bodies=require_bodies)
    raise TorqueProfileFormatError(f"{path}: unknown torque-profile file type '{suffix}'; expected .npz or .csv.")


PROFILE_PATTERNS = ("*.npz", "*.csv")
"""File patterns :func:`convert` looks for in a folder (recursively)."""


class ConversionError(UserInputError):
    """A conversion cannot start: the direction is ambiguous, or a folder holds no torque profile."""


def _target_format(sources: list[Path], to: str | None, where: Path) -> str:
    if to is not None:
        if to not in ("csv", "npz"):
            raise ConversionError(f"{where}: conversion target (to=/--to) must be 'csv' or 'npz', got '{to}'.")
        return to
    kinds = {p.suffix.lower() for p in sources}
    if kinds == {".npz"}:
        return "csv"
    if kinds == {".csv"}:
        return "npz"
    raise ConversionError(
        f"{where}: holds {sorted(kinds) or 'no .npz/.csv files'}; say which way to convert (to=... / --to)."
    )


def find_profiles(folder: str | PathLike, suffix: str | None = None) -> list[Path]:
    """Torque-profile files (``.npz``/``.csv``, or only ``suffix``) anywhere under ``folder``, sorted.

    Policy playback writes ``logs/torque_profiles/<experiment>/<run>_<checkpoint>/env_0000.npz``; any folder of that
    tree (the root, an experiment, a run) works. Hidden files and folders (temporary files) are skipped.
    """
    folder = Path(folder)
    suffixes = (suffix,) if suffix else tuple(p[1:] for p in PROFILE_PATTERNS)
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in suffixes
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def convert(
    src: str | PathLike, dst: str | PathLike | None = None, to: str | None = None, overwrite: bool = False
) -> list[Path]:
    """Convert torque profiles between NPZ and CSV: one file, or every ``.npz``/``.csv`` file under a folder.

    Every input is read and validated before anything is written, and each output is written atomically, so a bad
    input leaves no output changed.

    Args:
        src: A ``.npz``/``.csv`` file, or a folder, searched recursively (e.g. the ``logs/torque_profiles`` tree
            that ``play_policy.py`` writes, ``<experiment>/<run>_<checkpoint>/env_0000.npz``).
        dst: Output file (for a file ``src``) or folder (for a folder ``src`` the sub-folder layout is kept).
            Defaults to beside the input, same stem, new suffix.
        to: ``"csv"`` or ``"npz"``. Defaults to the other format of the input (for a folder: of the one
            format it holds).
        overwrite: Replace existing output files instead of raising.

    Returns:
        The files written, sorted.

    Raises:
        FileNotFoundError: ``src`` does not exist.
        FileExistsError: An output file exists and ``overwrite`` is False (nothing is written then).
        ConversionError: The direction is ambiguous or unknown, a folder holds no file to convert, or ``dst`` is
            not usable (a :class:`~learned_actuators.errors.UserInputError`, also a ``ValueError``).
        TorqueProfileFormatError: An input file breaks the format (nothing is written then).
    """
    src = Path(src)
    if not src.exists():
        raise FileNotFoundError(f"{src}: no such file or folder.")
    inputs, outputs, to = _folder_plan(src, dst, to) if src.is_dir() else _file_plan(src, dst, to)
    _check_outputs(outputs, overwrite)
    profiles = [read_profile(path_in) for path_in in inputs]
    for profile, path_out in zip(profiles, outputs, strict=True):
        if to == "csv":
            write_csv(profile, path_out)
        else:
            save_npz(profile, path_out)
    return sorted(outputs)


def _folder_plan(src: Path, dst: str | PathLike | None, to: str | None) -> tuple[list[Path], list[Path], str]:
    """Inputs, outputs (the sub-folder layout kept under ``dst``) and target format for a folder ``src``."""
    candidates = find_profiles(src)
    if not candidates:
        raise ConversionError(
            f"{src}: no torque-profile file found: nothing matches "
            f"{' or '.join('**/' + p for p in PROFILE_PATTERNS)} in the folder or its sub-folders."
        )
    to = _target_format(candidates, to, src)
    inputs = [p for p in candidates if p.suffix.lower() != f".{to}"]
    if not inputs:
        wanted = "**/*.csv" if to == "npz" else "**/*.npz"
        raise ConversionError(
            f"{src}: no torque-profile file to convert to .{to}: nothing matches {wanted} in the folder or its "
            "sub-folders."
        )
    out_dir = src if dst is None else Path(dst)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConversionError(f"{out_dir}: the output (--out) for a folder of profiles must be a folder.")
    return inputs, [out_dir / p.relative_to(src).with_suffix(f".{to}") for p in inputs], to


def _file_plan(src: Path, dst: str | PathLike | None, to: str | None) -> tuple[list[Path], list[Path], str]:
    """Input, output (beside it, or ``dst``: a file or a folder) and target format for a file ``src``."""
    if src.suffix.lower() not in (".npz", ".csv"):
        raise ConversionError(f"{src}: unknown torque-profile file type '{src.suffix}'; expected .npz or .csv.")
    to = _target_format([src], to, src)
    if src.suffix.lower() == f".{to}":
        raise ConversionError(f"{src}: is already a .{to} file.")
    if dst is None:
        return [src], [src.with_suffix(f".{to}")], to
    dst = Path(dst)
    return [src], [dst / f"{src.stem}.{to}" if dst.is_dir() else dst], to


def _check_outputs(outputs: list[Path], overwrite: bool) -> None:
    """Raise when an output cannot be written, or exists and ``overwrite`` is False (before anything is read)."""
    for out in outputs:
        if out.is_dir():
            raise ConversionError(f"{out}: is a folder; the output file cannot replace it.")
        blocker = next((p for p in (out.parent, *out.parent.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise ConversionError(f"{out}: cannot be written, {blocker} is a file, not a folder.")
    existing = [str(p) for p in outputs if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"Output file(s) exist, pass overwrite=True (--overwrite) to replace them: {existing}")
