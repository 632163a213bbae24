"""Reading a NumPy ``.npz`` log file into named arrays (never with pickle) and taking required arrays from it."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .format_checks import check_finite, check_numeric
from .joint_log import LogFormatError

__all__ = ["load_npz_arrays", "require_array"]


def load_npz_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of the NPZ archive ``path``, by name.

    Raises:
        LogFormatError: The file is missing, holds a single array, is truncated or damaged, or needs pickle.
    """
    if not path.is_file():
        raise LogFormatError(f"{path}: file not found.")
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise LogFormatError(f"{path}: holds a single array, not an NPZ archive of named arrays.")
        with npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        if isinstance(err, LogFormatError):
            raise
        raise LogFormatError(f"{path}: not a readable NPZ file (truncated or damaged? {err}).") from err


def require_array(data: Mapping[str, Any], key: str, source: str, what: str) -> np.ndarray:
    """The array ``key`` of ``data`` as finite float64; errors name ``source``, the key and ``what`` it holds."""
    if key not in data:
        raise LogFormatError(f"{source}: missing array '{key}' ({what}); the file has {sorted(data)}.")
    arr = check_numeric(data[key], source, key)
    check_finite(arr, source, key)
    return arr
