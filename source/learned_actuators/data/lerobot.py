"""LeRobot datasets (parquet) as column-mapped logs: one run per episode.

A LeRobot dataset folder holds ``meta/info.json`` (``fps``, ``robot_type``, ``features`` with each feature's
``shape`` and ``names``) and parquet files under ``data/`` (``data/chunk-000/episode_000000.parquet`` in format
v2, ``data/chunk-000/file-000.parquet`` holding several episodes in v3). Each parquet column is a log column:
vector features (``observation.state``, ``action``, ``observation.velocity``, ``observation.effort``) are (T, J)
columns whose joint names come from ``info.json``; ``timestamp`` [s], ``frame_index`` and ``episode_index`` are
(T,) columns. The column map (``"format": "lerobot"``) says which is which, e.g.::

    {
        "name": "so101_lerobot",
        "format": "lerobot",
        "time": {"column": "timestamp", "unit": "s"},
        "position": {"column": "observation.state", "unit": "deg"},
        "target": {"column": "action", "unit": "deg"},
    }

The scalar entries of ``info.json`` (``fps``, ``robot_type``, ``codebase_version``) and ``episode_index`` are the
run's metadata keys (``meta`` entries of the map may name them). Reading needs ``pyarrow`` (the ``formats`` extra).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .joint_log import LogFormatError

__all__ = ["Episode", "read_episodes"]

INFO = Path("meta") / "info.json"


class Episode:
    """One episode: its name, columns (name -> array), metadata and joint names per vector column."""

    def __init__(self, name: str, source: str, columns: dict, meta: dict, names: dict):
        self.name, self.source, self.columns, self.meta, self.names = name, source, columns, meta, names


def _dataset_root(path: Path) -> Path | None:
    for folder in (path, *path.parents[:4]):
        if (folder / INFO).is_file():
            return folder
    return None


def _info(root: Path | None) -> dict[str, Any]:
    if root is None:
        return {}
    try:
        info = json.loads((root / INFO).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise LogFormatError(f"{root / INFO}: not valid JSON ({err}).") from err
    if not isinstance(info, dict):
        raise LogFormatError(f"{root / INFO}: expected a JSON object with 'fps' and 'features'.")
    return info


def _feature_names(info: dict) -> dict[str, list[str]]:
    """Joint names per vector feature (``names`` is a list, or a dict holding one list, as in format v2.0)."""
    out = {}
    for key, feature in (info.get("features") or {}).items():
        names = feature.get("names") if isinstance(feature, dict) else None
        if isinstance(names, dict) and len(names) == 1:
            names = next(iter(names.values()))
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            out[key] = list(names)
    return out


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except ImportError as err:
        raise LogFormatError(f"{path}: reading LeRobot parquet files needs pyarrow (pip install pyarrow).") from err
    except Exception as err:  # pyarrow raises its own types for damaged files
        raise LogFormatError(f"{path}: not a readable parquet file ({type(err).__name__}: {err}).") from err


def _columns(frame: pd.DataFrame, source: str) -> dict[str, np.ndarray]:
    out = {}
    for name in frame.columns:
        col = frame[name].to_numpy()
        if col.dtype == object and len(col) and isinstance(col[0], list | tuple | np.ndarray):
            try:
                col = np.stack([np.asarray(v, dtype=np.float64) for v in col])
            except ValueError as err:
                raise LogFormatError(f"{source}: column '{name}' holds vectors of different lengths ({err}).") from err
        out[str(name)] = col
    return out


def read_episodes(path: str | Path, pattern: str = "data/**/*.parquet") -> list[Episode]:
    """The episodes of a LeRobot dataset folder (``pattern`` selects its parquet files) or of one parquet file."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.glob(pattern))
    if not files:
        raise LogFormatError(f"{path}: no parquet files match '{pattern}' (a LeRobot dataset has data/*/*.parquet).")
    root = _dataset_root(path if path.is_dir() else path.parent)
    info = _info(root)
    names = _feature_names(info)
    scalars = {k: v for k, v in info.items() if isinstance(v, str | int | float) and not isinstance(v, bool)}
    episodes = []
    for file in files:
        frame = _read_parquet(file)
        if "episode_index" not in frame.columns:
            frame = frame.assign(episode_index=0)
        for index, part in frame.groupby("episode_index", sort=True):
            order = "frame_index" if "frame_index" in part.columns else "timestamp"
            part = part.sort_values(order, kind="stable") if order in part.columns else part
            name = f"episode_{int(index):06d}"
            source = f"{file}#{name}"
            meta = {**scalars, "episode_index": int(index)}
            episodes.append(Episode(name, source, _columns(part, source), meta, names))
    seen = [e.name for e in episodes]
    if len(set(seen)) != len(seen):
        raise LogFormatError(f"{path}: an episode_index appears in more than one parquet file.")
    return episodes
