"""The torque-profile format: what a policy did, per env, as one NPZ file.

A torque profile holds the joint torques and the joint and body states of one robot, sampled at a fixed
rate during policy playback. It is Isaac Lab's motion-file layout (the ``humanoid_amp`` motion loader reads
it) plus ``joint_torques``. Every file holds these keys (F frames, D dofs, B bodies), and may hold the optional
``dof_position_targets``:

============================== ============= ======== ==============================================================
key                            shape         unit     meaning
============================== ============= ======== ==============================================================
``fps``                        ()            [Hz]     frame rate; frame ``k`` is at time ``k / fps`` [s]
``dof_names``                  (D,)          --       joint (dof) names, in the articulation's order
``body_names``                 (B,)          --       body (link) names, in the articulation's order
``joint_torques``              (F, D)        [N·m]    effort applied to each joint by its actuator
``dof_positions``              (F, D)        [rad]    joint positions
``dof_velocities``             (F, D)        [rad/s]  joint velocities
``body_positions``             (F, B, 3)     [m]      body (link frame) positions, world axes, relative to the
                                                      env origin when the recorder was given the env origins
``body_rotations``             (F, B, 4)     --       body orientations, unit quaternions ``(w, x, y, z)``
``body_linear_velocities``     (F, B, 3)     [m/s]    body (link frame origin) linear velocities, world axes
``body_angular_velocities``    (F, B, 3)     [rad/s]  body angular velocities, world axes
``dof_position_targets``       (F, D)        [rad]    *optional*: joint position targets the actuators received
                                                      (the policy's processed actions); the actuator-net trainers
                                                      need them (``learned_actuators.data.read_torque_profile_npz``)
``episode_starts``             (E,)          --       *optional*, int64: the first frame of each of the E episodes
                                                      (``[0, ...]``, strictly increasing); frames ``episode_starts[e]``
                                                      to ``episode_starts[e+1] - 1`` are one episode. Consecutive
                                                      frames of different episodes are not motion (an env reset lies
                                                      between them). Absent: the whole file is one episode.
============================== ============= ======== ==============================================================

The body arrays are required by default; a reader that never uses them (an AMP discriminator over joint data
only) may accept files without them (``require_bodies=False``): the fields are then None, never filled in.

The training reader (:func:`learned_actuators.data.read_torque_profile_npz`, a profile as a joint log) is more
lenient: it needs only the dof arrays (:data:`DOF_FIELDS`), and also takes per-frame time stamps ``time`` [s]
instead of ``fps`` (:data:`TIME_KEY`) and the targets under either name of :data:`TARGET_KEYS`.

Names are stored as NumPy unicode arrays (no pickle), numeric arrays as float32 or float64. Every reader
checks a file with :func:`validate_profile` and raises :class:`TorqueProfileFormatError` naming the file,
the field and what was expected.
"""

from __future__ import annotations

import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from learned_actuators.atomic_io import atomic_write
from learned_actuators.data.joint_log import LogFormatError

__all__ = [
    "BODY_FIELDS",
    "BODY_NAMES_KEY",
    "DOF_FIELDS",
    "DOF_NAMES_KEY",
    "EPISODE_KEY",
    "FPS_KEY",
    "OPTIONAL_DOF_FIELDS",
    "PROFILE_KEYS",
    "TARGET_KEYS",
    "TIME_KEY",
    "TorqueProfileData",
    "TorqueProfileFormatError",
    "check_names",
    "episode_ids",
    "load_npz",
    "save_npz",
    "validate_profile",
]

FPS_KEY = "fps"
"""Frame rate [Hz], a scalar."""

DOF_NAMES_KEY = "dof_names"
"""Joint names, (D,) strings."""

BODY_NAMES_KEY = "body_names"
"""Body names, (B,) strings."""

DOF_FIELDS: tuple[str, ...] = ("joint_torques", "dof_positions", "dof_velocities")
"""Per-dof arrays, shape (F, D)."""

BODY_FIELDS: dict[str, int] = {
    "body_positions": 3,
    "body_rotations": 4,
    "body_linear_velocities": 3,
    "body_angular_velocities": 3,
}
"""Per-body arrays and the size of their last axis, shape (F, B, size)."""

PROFILE_KEYS: tuple[str, ...] = (FPS_KEY, DOF_NAMES_KEY, BODY_NAMES_KEY, *DOF_FIELDS, *BODY_FIELDS)
"""The keys every torque-profile NPZ file holds, in canonical order."""

OPTIONAL_DOF_FIELDS: tuple[str, ...] = ("dof_position_targets",)
"""Per-dof arrays, shape (F, D), that a profile may hold in addition to :data:`PROFILE_KEYS`."""

EPISODE_KEY = "episode_starts"
"""Optional key: first frame of each episode, int64 (E,)."""

TIME_KEY = "time"
"""Per-frame time stamps [s], (F,): the training reader takes them instead of ``fps``; never written here, and
:func:`validate_profile` ignores them (with a warning)."""

TARGET_KEYS: tuple[str, ...] = (*OPTIONAL_DOF_FIELDS, "joint_position_targets")
"""The names the training reader looks for the joint position targets under, in this order."""

QUAT_NORM_TOLERANCE = 1e-3
"""Largest accepted deviation of a stored quaternion's norm from 1."""


class TorqueProfileFormatError(LogFormatError):
    """A torque-profile file (NPZ or CSV) cannot be read: the message names the file, the field and the problem."""


@dataclass(frozen=True)
class TorqueProfileData:
    """One torque profile in memory (NumPy arrays, validated). Shapes and units as in the module docstring.

    Build it with :func:`validate_profile` (or the readers), which checks every invariant.
    """

    fps: float
    """Frame rate [Hz]."""
    dof_names: tuple[str, ...]
    """The D joint names."""
    body_names: tuple[str, ...]
    """The B body names."""
    joint_torques: np.ndarray
    """Applied joint efforts [N·m], shape (F, D)."""
    dof_positions: np.ndarray
    """Joint positions [rad], shape (F, D)."""
    dof_velocities: np.ndarray
    """Joint velocities [rad/s], shape (F, D)."""
    body_positions: np.ndarray | None
    """Body positions [m], shape (F, B, 3); None only when read with ``require_bodies=False`` from a file without."""
    body_rotations: np.ndarray | None
    """Body orientations as unit quaternions (w, x, y, z), shape (F, B, 4) (None: as ``body_positions``)."""
    body_linear_velocities: np.ndarray | None
    """Body linear velocities [m/s], shape (F, B, 3) (None: as ``body_positions``)."""
    body_angular_velocities: np.ndarray | None
    """Body angular velocities [rad/s], shape (F, B, 3) (None: as ``body_positions``)."""
    dof_position_targets: np.ndarray | None = None
    """Optional joint position targets the actuators received [rad], shape (F, D); None when not recorded."""
    episode_starts: np.ndarray | None = None
    """Optional first frame of each episode, int64, shape (E,); None: the whole profile is one episode."""
    source: str = "<memory>"
    """Where the profile came from, for error messages."""

    @property
    def episodes(self) -> list[tuple[int, int]]:
        """``(first frame, last frame + 1)`` of each episode, in order (one episode when none are marked)."""
        starts = [0] if self.episode_starts is None else [int(i) for i in self.episode_starts]
        return list(zip(starts, [*starts[1:], self.num_frames], strict=True))

    @property
    def num_frames(self) -> int:
        """Number of frames F."""
        return self.dof_positions.shape[0]

    @property
    def duration(self) -> float:
        """Time of the last frame [s]: ``(F - 1) / fps``."""
        return (self.num_frames - 1) / self.fps

    @property
    def dtype(self) -> np.dtype:
        """Floating-point type of the numeric arrays (float32 or float64)."""
        return self.dof_positions.dtype

    @property
    def array_fields(self) -> tuple[str, ...]:
        """The per-frame array fields this profile holds: the required ones, then the optional ones present."""
        bodies = tuple(key for key in BODY_FIELDS if getattr(self, key) is not None)
        optional = tuple(key for key in OPTIONAL_DOF_FIELDS if getattr(self, key) is not None)
        return (*DOF_FIELDS, *bodies, *optional)

    def arrays(self) -> dict[str, Any]:
        """The NPZ content: every key of :data:`PROFILE_KEYS` (and the optional fields present) to its array."""
        out: dict[str, Any] = {
            "fps": np.asarray(self.fps, dtype=np.float64),
            "dof_names": np.asarray(self.dof_names, dtype=np.str_).reshape(len(self.dof_names)),
            "body_names": np.asarray(self.body_names, dtype=np.str_).reshape(len(self.body_names)),
        }
        for key in self.array_fields:
            out[key] = getattr(self, key)
        if self.episode_starts is not None:
            out[EPISODE_KEY] = self.episode_starts
        return out


def _error(source: str, field: str, problem: str) -> TorqueProfileFormatError:
    return TorqueProfileFormatError(f"{source}: field '{field}' {problem}")


def _names(value: Any, source: str, field: str) -> tuple[str, ...]:
    arr = np.asarray(value)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "US"):
        raise _error(source, field, f"must be a 1-D array of strings, got dtype {arr.dtype} shape {arr.shape}.")
    names = tuple(str(n) for n in arr.tolist())
    if any(not n for n in names):
        raise _error(source, field, "contains an empty name.")
    duplicates = sorted(n for n, count in Counter(names).items() if count > 1)
    if duplicates:
        raise _error(source, field, f"has duplicate names {duplicates}.")
    return names


def _numeric(value: Any, source: str, field: str, shape: tuple[int | None, ...], dtype: np.dtype | None) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise _error(source, field, f"must be numeric, got dtype {arr.dtype}.")
    if arr.dtype.kind != "f" or arr.dtype.itemsize not in (4, 8):
        arr = arr.astype(np.float64)
    if dtype is not None and arr.dtype != dtype:
        raise _error(source, field, f"has dtype {arr.dtype}, expected {dtype} like the other arrays.")
    expected = "(" + ", ".join("F" if n is None else str(n) for n in shape) + ")"
    if arr.ndim != len(shape) or any(n is not None and n != m for n, m in zip(shape, arr.shape, strict=True)):
        raise _error(source, field, f"has shape {arr.shape}, expected {expected}.")
    bad = ~np.isfinite(arr)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise _error(source, field, f"has a non-finite value ({arr[index]}) at index {index} (frame {index[0]}).")
    return arr


def _episode_starts(value: Any, source: str, num_frames: int) -> np.ndarray:
    """Check the optional ``episode_starts`` array: int, 1-D, starts at 0, strictly increasing, below F."""
    arr = np.asarray(value)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        raise _error(
            source, EPISODE_KEY, f"must be a non-empty 1-D integer array, got dtype {arr.dtype} shape {arr.shape}."
        )
    arr = arr.astype(np.int64)
    if arr[0] != 0 or np.any(np.diff(arr) <= 0) or arr[-1] >= num_frames:
        raise _error(
            source,
            EPISODE_KEY,
            f"must start at 0, increase strictly and stay below the {num_frames} frames; got {arr.tolist()[:20]}.",
        )
    return arr


def episode_ids(profile: TorqueProfileData) -> np.ndarray:
    """The episode index of each frame, int64, shape (F,) (all 0 when no episodes are marked)."""
    ids = np.zeros(profile.num_frames, dtype=np.int64)
    if profile.episode_starts is not None:
        ids[profile.episode_starts[1:]] = 1
        ids = np.cumsum(ids)
    return ids


def validate_profile(
    arrays: Mapping[str, Any], source: str | PathLike = "<memory>", require_bodies: bool = True
) -> TorqueProfileData:
    """Check a mapping of arrays against the torque-profile format and return it as :class:`TorqueProfileData`.

    Args:
        arrays: Mapping holding every key of :data:`PROFILE_KEYS` (an opened NPZ file works), and optionally
            those of :data:`OPTIONAL_DOF_FIELDS` and ``episode_starts``. Unknown keys are ignored with a warning.
        source: File name used in error messages.
        require_bodies: When False, the per-body arrays (:data:`BODY_FIELDS`) may be missing; the missing ones
            are None in the result (never filled in). ``body_names`` is still required.

    Returns:
        The validated profile. Numeric arrays keep float32/float64 (integer arrays become float64).

    Raises:
        TorqueProfileFormatError: A key is missing, an array has the wrong shape, dtype or a non-finite value,
            names are not unique strings, ``fps`` is not positive, a quaternion is not unit-norm, or
            ``episode_starts`` does not mark valid episode starts.
    """
    source = str(source)
    keys = set(arrays.keys())
    needed = PROFILE_KEYS if require_bodies else tuple(k for k in PROFILE_KEYS if k not in BODY_FIELDS)
    missing = [k for k in needed if k not in keys]
    if missing:
        raise TorqueProfileFormatError(f"{source}: missing field(s) {missing}; a torque profile needs {needed}.")
    extra = sorted(keys - set(PROFILE_KEYS) - set(OPTIONAL_DOF_FIELDS) - {EPISODE_KEY})
    if extra:
        warnings.warn(f"{source}: ignoring unknown field(s) {extra}.", UserWarning, stacklevel=2)

    fps_arr = np.asarray(arrays["fps"])
    if fps_arr.size != 1 or fps_arr.dtype.kind not in "fiu":
        raise _error(source, "fps", f"must be one number [Hz], got dtype {fps_arr.dtype} shape {fps_arr.shape}.")
    fps = float(fps_arr.reshape(()))
    if not np.isfinite(fps) or fps <= 0.0:
        raise _error(source, "fps", f"must be a finite positive frame rate [Hz], got {fps}.")
    dof_names = _names(arrays["dof_names"], source, "dof_names")
    body_names = _names(arrays["body_names"], source, "body_names")
    num_dofs, num_bodies = len(dof_names), len(body_names)

    first = _numeric(arrays["dof_positions"], source, "dof_positions", (None, num_dofs), None)
    num_frames, dtype = first.shape[0], first.dtype
    if num_frames < 1:
        raise _error(source, "dof_positions", "has no frames; a profile needs at least one.")
    out: dict[str, Any] = {"dof_positions": first}
    for key in (*DOF_FIELDS, *(k for k in OPTIONAL_DOF_FIELDS if k in keys)):
        if key not in out:
            out[key] = _numeric(arrays[key], source, key, (num_frames, num_dofs), dtype)
    for key, size in BODY_FIELDS.items():
        present = key in keys
        out[key] = _numeric(arrays[key], source, key, (num_frames, num_bodies, size), dtype) if present else None
    if EPISODE_KEY in keys:
        out[EPISODE_KEY] = _episode_starts(arrays[EPISODE_KEY], source, num_frames)

    if out["body_rotations"] is not None:
        _check_unit_quaternions(out["body_rotations"], body_names, source)
    return TorqueProfileData(fps=fps, dof_names=dof_names, body_names=body_names, source=source, **out)


def _check_unit_quaternions(rotations: np.ndarray, body_names: tuple[str, ...], source: str) -> None:
    norm_error = np.abs(np.linalg.norm(rotations.astype(np.float64), axis=-1) - 1.0)
    if norm_error.size and norm_error.max() > QUAT_NORM_TOLERANCE:
        frame, body = (int(i) for i in np.unravel_index(np.argmax(norm_error), norm_error.shape))
        raise _error(
            source,
            "body_rotations",
            f"must hold unit quaternions (w, x, y, z); frame {frame}, body '{body_names[body]}' has norm "
            f"{1.0 + norm_error[frame, body]:.6g} (tolerance {QUAT_NORM_TOLERANCE}).",
        )


def save_npz(profile: TorqueProfileData, path: str | PathLike, compress: bool = False) -> Path:
    """Write a profile as an NPZ file holding :data:`PROFILE_KEYS` and the optional fields the profile has.

    The file is written atomically (a temporary file renamed over ``path``): a reader never sees half a file.

    Args:
        profile: The profile to write.
        path: Output file; ``.npz`` is appended by NumPy when missing, so give the full name.
        compress: Use ``np.savez_compressed`` (smaller, slower).

    Returns:
        The path written.
    """
    path = Path(path)
    if path.suffix != ".npz":  # as np.savez does for a file name
        path = path.with_name(path.name + ".npz")
    with atomic_write(path, "wb") as f:
        (np.savez_compressed if compress else np.savez)(f, **profile.arrays())
    return path


def load_npz(path: str | PathLike, require_bodies: bool = True) -> TorqueProfileData:
    """Read and validate one torque-profile NPZ file.

    Args:
        path: The ``.npz`` file.
        require_bodies: As in :func:`validate_profile`.

    Returns:
        The validated profile.

    Raises:
        TorqueProfileFormatError: The file is missing, not an NPZ archive, needs pickle, or breaks the format.
    """
    path = Path(path)
    if not path.is_file():
        raise TorqueProfileFormatError(f"{path}: no such torque-profile file.")
    try:
        npz = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise TorqueProfileFormatError(f"{path}: not a readable NPZ archive ({err}).") from err
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise TorqueProfileFormatError(f"{path}: holds a single array, not an NPZ archive of named arrays.")
    arrays = {}
    with npz:
        for key in npz.files:
            try:
                arrays[key] = npz[key]
            except ValueError as err:  # object arrays need pickle, which is never enabled
                if "pickle" not in str(err):
                    raise _error(str(path), key, f"cannot be read (truncated or damaged file? {err}).") from err
                raise _error(str(path), key, f"cannot be read without pickle ({err}).") from err
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
                raise _error(str(path), key, f"cannot be read (truncated or damaged file? {err}).") from err
    return validate_profile(arrays, path, require_bodies=require_bodies)


def check_names(names: Sequence[str], source: str, field: str) -> tuple[str, ...]:
    """Validate a list of names (non-empty strings, unique) as :func:`validate_profile` does."""
    return _names(np.asarray(list(names), dtype=np.str_).reshape(len(names)), source, field)
