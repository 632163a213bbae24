"""Torque profiles as CSV (one row per frame): the layout, :func:`write_csv` and :func:`read_csv`.

CSV layout (UTF-8, comma separated, one line per frame):

.. code-block:: text

    # learned_actuators torque profile
    # fps: 50.0
    # dtype: float32
    time,joint_torque/FL_hip_joint,...,dof_pos/FL_hip_joint,...,body_rot/base/w,body_rot/base/x,...

* Leading ``#`` lines hold metadata as ``key: value``: ``fps`` [Hz] and ``dtype`` (``float32`` or
  ``float64``, the NPZ array type). Without ``fps`` the rate is taken from a uniform ``time`` column that
  starts at 0; without ``dtype``, values are read as float64.
* ``time`` [s] is ``frame / fps``. Then one column per dof for ``joint_torque/<dof>`` [N·m],
  ``dof_pos/<dof>`` [rad], ``dof_vel/<dof>`` [rad/s], and one per body and component for
  ``body_pos/<body>/{x,y,z}`` [m], ``body_rot/<body>/{w,x,y,z}``, ``body_lin_vel/<body>/{x,y,z}`` [m/s],
  ``body_ang_vel/<body>/{x,y,z}`` [rad/s], and for the optional ``dof_position_targets`` one
  ``dof_pos_target/<dof>`` [rad] column per dof (all or none). Dof and body order is the order of the
  ``dof_pos`` and ``body_pos`` columns.
* When the profile marks episodes (``episode_starts``), an ``episode`` column follows ``time``: the episode
  index of each frame (0, 1, ...); reading gives back the same ``episode_starts``. A profile read with
  ``require_bodies=False`` may lack every ``body_*`` column (its body names are then not kept).
* Values are written as the shortest decimal that reads back to the same float32/float64, so
  CSV -> NPZ -> CSV reproduces a file written here byte for byte, and NPZ -> CSV -> NPZ the same arrays.
"""

from __future__ import annotations

import csv
from os import PathLike
from pathlib import Path

import numpy as np

from ..atomic_io import atomic_write
from .profile import (
    BODY_FIELDS,
    DOF_FIELDS,
    EPISODE_KEY,
    OPTIONAL_DOF_FIELDS,
    TorqueProfileData,
    TorqueProfileFormatError,
    episode_ids,
    validate_profile,
)

__all__ = ["CSV_PREFIXES", "EPISODE_COLUMN", "read_csv", "write_csv"]

CSV_PREFIXES: dict[str, str] = {
    "joint_torques": "joint_torque",
    "dof_positions": "dof_pos",
    "dof_velocities": "dof_vel",
    "body_positions": "body_pos",
    "body_rotations": "body_rot",
    "body_linear_velocities": "body_lin_vel",
    "body_angular_velocities": "body_ang_vel",
    "dof_position_targets": "dof_pos_target",
}
"""CSV column prefix of each array field."""

EPISODE_COLUMN = "episode"
"""CSV column holding each frame's episode index (present only when the profile marks episodes)."""

_COMPONENTS = {3: ("x", "y", "z"), 4: ("w", "x", "y", "z")}
_TITLE = "learned_actuators torque profile"
_DTYPES = {"float32": np.float32, "float64": np.float64}
_FRAME_TOLERANCE = 1e-6
"""Largest accepted deviation of a ``time`` value from ``frame / fps``, in frames."""


def _columns(profile: TorqueProfileData) -> list[str]:
    header = ["time"] if profile.episode_starts is None else ["time", EPISODE_COLUMN]
    for key in profile.array_fields:
        size = BODY_FIELDS.get(key)
        if size is None:
            header += [f"{CSV_PREFIXES[key]}/{name}" for name in profile.dof_names]
        else:
            header += [f"{CSV_PREFIXES[key]}/{body}/{c}" for body in profile.body_names for c in _COMPONENTS[size]]
    return header


def write_csv(profile: TorqueProfileData, path: str | PathLike) -> Path:
    """Write a profile as CSV (layout in the module docstring), values repr-exact.

    The file is written atomically (a temporary file renamed over ``path``): a reader never sees half a file.

    Args:
        profile: The profile to write.
        path: Output ``.csv`` file.

    Returns:
        The path written.
    """
    path = Path(path)
    frames = profile.num_frames
    time = (np.arange(frames, dtype=np.float64) / profile.fps).astype(str)[:, None]
    # NumPy's str() of a float is the shortest decimal that parses back to the same value of its dtype
    blocks = [time, *(getattr(profile, key).reshape(frames, -1).astype(str) for key in profile.array_fields)]
    if profile.episode_starts is not None:
        blocks.insert(1, episode_ids(profile).astype(str)[:, None])
    with atomic_write(path, "w") as f:
        f.write(f"# {_TITLE}\n# fps: {profile.fps!r}\n# dtype: {np.dtype(profile.dtype).name}\n")
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(_columns(profile))
        writer.writerows(np.concatenate(blocks, axis=1).tolist())
    return path


def _read_metadata(lines: list[str], source: str) -> tuple[dict[str, str], int]:
    meta: dict[str, str] = {}
    count = 0
    for line in lines:
        if not line.startswith("#"):
            break
        count += 1
        key, sep, value = line[1:].partition(":")
        if sep:
            meta[key.strip()] = value.strip()
    unknown = sorted(set(meta) - {"fps", "dtype"})
    if unknown:
        raise TorqueProfileFormatError(f"{source}: unknown metadata line(s) {unknown}; expected 'fps' and 'dtype'.")
    return meta, count


def _parse_values(rows: list[list[str]], header: list[str], source: str, first_line: int) -> np.ndarray:
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise TorqueProfileFormatError(
                f"{source}: line {first_line + i} has {len(row)} values, the header has {len(header)} columns."
            )
    text = np.array(rows, dtype=np.str_).reshape(len(rows), len(header))
    try:
        values = text.astype(np.float64)
    except ValueError:
        for i, row in enumerate(rows):
            for column, cell in zip(header, row, strict=True):
                try:
                    float(cell)
                except ValueError:
                    raise TorqueProfileFormatError(
                        f"{source}: field '{column}', line {first_line + i}: '{cell}' is not a number."
                    ) from None
        raise
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        i, j = (int(k) for k in bad[0])
        raise TorqueProfileFormatError(
            f"{source}: field '{header[j]}', line {first_line + i}: non-finite value '{rows[i][j]}'."
        )
    return values


def _fps_from_time(meta: dict[str, str], time: np.ndarray, source: str) -> float:
    if "fps" in meta:
        try:
            fps = float(meta["fps"])
        except ValueError:
            raise TorqueProfileFormatError(f"{source}: field 'fps': '{meta['fps']}' is not a number.") from None
        if not np.isfinite(fps) or fps <= 0.0:
            raise TorqueProfileFormatError(f"{source}: field 'fps' must be a finite positive rate [Hz], got {fps}.")
    elif len(time) >= 2:
        fps = (len(time) - 1) / (time[-1] - time[0]) if time[-1] > time[0] else 0.0
        if fps <= 0.0:
            raise TorqueProfileFormatError(f"{source}: field 'time' must increase to give the frame rate.")
    else:
        raise TorqueProfileFormatError(f"{source}: needs a '# fps: <Hz>' line (one frame gives no rate).")
    deviation = np.abs(time * fps - np.arange(len(time)))
    if deviation.max(initial=0.0) > _FRAME_TOLERANCE:
        frame = int(np.argmax(deviation))
        raise TorqueProfileFormatError(
            f"{source}: field 'time' must be frame / fps (uniform from 0 at {fps!r} Hz); frame {frame} is at "
            f"{time[frame]!r} s, expected {frame / fps!r} s."
        )
    return fps


def _split_columns(header: list[str], source: str) -> dict[str, dict[str, int]]:
    """Map each field to ``{column suffix: column index}``, rejecting unknown and repeated columns."""
    by_prefix = {prefix: key for key, prefix in CSV_PREFIXES.items()}
    groups: dict[str, dict[str, int]] = {key: {} for key in CSV_PREFIXES}
    for j, column in enumerate(header[1:], start=1):
        if column == EPISODE_COLUMN and j == 1:
            continue
        prefix, _, suffix = column.partition("/")
        key = by_prefix.get(prefix)
        if key is None or not suffix:
            raise TorqueProfileFormatError(
                f"{source}: column '{column}' is not a torque-profile column; expected '<prefix>/<name>' with a "
                f"prefix in {sorted(by_prefix)}."
            )
        if suffix in groups[key]:
            raise TorqueProfileFormatError(f"{source}: column '{column}' appears more than once.")
        groups[key][suffix] = j
    return groups


def _names_in_order(suffixes: dict[str, int], per_body: bool) -> list[str]:
    names: list[str] = []
    for suffix in suffixes:
        name = suffix.rpartition("/")[0] if per_body else suffix
        if name not in names:
            names.append(name)
    return names


def _episode_starts_from_column(ids: np.ndarray, source: str) -> np.ndarray:
    """``episode_starts`` from the per-frame ``episode`` column (0, 1, 2 ... in order, each a whole number)."""
    if np.any(ids != np.round(ids)) or ids[0] != 0 or np.any(np.diff(ids) < 0) or np.any(np.diff(ids) > 1):
        raise TorqueProfileFormatError(
            f"{source}: field '{EPISODE_KEY}' (column '{EPISODE_COLUMN}') must count episodes 0, 1, 2 ... in frame "
            "order, one whole number per frame."
        )
    return np.flatnonzero(np.diff(ids, prepend=-1) > 0).astype(np.int64)


def _field_arrays(
    groups: dict[str, dict[str, int]], values: np.ndarray, source: str, require_bodies: bool
) -> dict[str, object]:
    """Names and per-field arrays from the columns of each field (:func:`_split_columns`) and the frame values."""
    dof_names = _names_in_order(groups["dof_positions"], per_body=False)
    body_names = _names_in_order(groups["body_positions"], per_body=True)
    arrays: dict[str, object] = {"dof_names": np.array(dof_names, dtype=np.str_)}
    arrays["body_names"] = np.array(body_names, dtype=np.str_)
    optional = [key for key in OPTIONAL_DOF_FIELDS if groups[key]]
    has_bodies = require_bodies or any(groups[key] for key in BODY_FIELDS)
    for key in (*DOF_FIELDS, *(BODY_FIELDS if has_bodies else ()), *optional):
        size = BODY_FIELDS.get(key)
        wanted = (
            [f"{body}/{c}" for body in body_names for c in _COMPONENTS[size]] if size is not None else list(dof_names)
        )
        have = groups[key]
        missing = [f"{CSV_PREFIXES[key]}/{s}" for s in wanted if s not in have]
        extra = [f"{CSV_PREFIXES[key]}/{s}" for s in have if s not in set(wanted)]
        if missing or extra:
            raise TorqueProfileFormatError(
                f"{source}: field '{key}' columns do not match the dofs/bodies of the 'dof_pos'/'body_pos' columns; "
                f"missing {missing}, unexpected {extra}."
            )
        block = values[:, [have[s] for s in wanted]]
        arrays[key] = block if size is None else block.reshape(len(values), len(body_names), size)
    return arrays


def read_csv(path: str | PathLike, require_bodies: bool = True) -> TorqueProfileData:
    """Read and validate one torque-profile CSV file (layout in the module docstring).

    Args:
        path: The ``.csv`` file.
        require_bodies: When False, a file without any ``body_*`` column is accepted (body fields None).

    Returns:
        The validated profile, with arrays of the ``dtype`` named in the file (float64 when not named).

    Raises:
        TorqueProfileFormatError: Missing or unknown columns, ragged rows, values that are not finite numbers,
            a ``time`` column that is not ``frame / fps``, or any breach of the format.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise TorqueProfileFormatError(f"{source}: no such torque-profile file.")
    with path.open(newline="", encoding="utf-8") as f:
        lines = f.read().splitlines()
    meta, num_meta = _read_metadata(lines, source)
    dtype = _DTYPES.get(meta.get("dtype", "float64"))
    if dtype is None:
        raise TorqueProfileFormatError(
            f"{source}: field 'dtype' must be one of {sorted(_DTYPES)}, got {meta['dtype']}."
        )
    rows = list(csv.reader(lines[num_meta:]))
    if not rows or not rows[0] or rows[0][0] != "time":
        raise TorqueProfileFormatError(f"{source}: the header must start with the column 'time'.")
    header, rows = rows[0], rows[1:]
    if not rows:
        raise TorqueProfileFormatError(f"{source}: has a header but no frames.")
    values64 = _parse_values(rows, header, source, first_line=num_meta + 2)
    fps = _fps_from_time(meta, values64[:, 0], source)
    # float32 files hold the shortest float32 decimals, which read back exactly through float64
    values = values64.astype(dtype)
    arrays = {"fps": fps, **_field_arrays(_split_columns(header, source), values, source, require_bodies)}
    if len(header) > 1 and header[1] == EPISODE_COLUMN:
        arrays[EPISODE_KEY] = _episode_starts_from_column(values64[:, 1], source)
    return validate_profile(arrays, source, require_bodies=require_bodies)
