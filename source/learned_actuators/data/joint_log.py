"""The one in-memory form every log reader produces: :class:`JointLog`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UserInputError

__all__ = ["GAIN_CHANNELS", "JointLog", "LogFormatError"]

GAIN_CHANNELS = ("kp", "kd")
"""The per-step gains among :attr:`JointLog.channels` (also the metadata keys of a run's constant gains): unsigned,
so a mirrored run keeps them, and a constant one stands for the run's ``meta`` gain."""


class LogFormatError(UserInputError):
    """A log file cannot be read as asked. The message names the file, the field and what was expected."""


@dataclass
class JointLog:
    """One run (trajectory) of one or more joints, sampled at common time stamps.

    Arrays are float64 NumPy, time along axis 0, joints along axis 1. Units: [s], [rad], [rad/s], [N·m].
    """

    name: str
    """Run identifier, unique within a data set (usually the file stem)."""
    source: str
    """File (or folder) the run was read from, for error messages and provenance."""
    t: np.ndarray
    """Time stamps [s], shape (T,), strictly increasing."""
    q: np.ndarray
    """Measured joint angle [rad], shape (T, J)."""
    q_target: np.ndarray
    """Commanded joint angle [rad], shape (T, J)."""
    qd: np.ndarray
    """Joint velocity [rad/s], shape (T, J)."""
    tau: np.ndarray | None = None
    """Joint torque [N·m], shape (T, J), measured or from inverse dynamics; None when unknown."""
    joint_names: list[str] = field(default_factory=lambda: ["joint"])
    """Names of the J joints."""
    valid: np.ndarray | None = None
    """Frames usable for training and metrics (e.g. torque enabled), bool shape (T,); None = all."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Run metadata: ``group`` (inertia group / split group), ``inertia`` [kg·m²], ``mass`` [kg],
    ``length`` [m], ``kp``, ``kd``, ``motor``, ``trajectory`` ... (whatever the format knows). A multi-joint run
    may hold per-joint values under ``meta["joints"][<joint name>]``; :func:`~learned_actuators.data.splits.
    split_joints` moves them to the top level of each joint's run (so ``meta["kp"]`` is that joint's gain)."""
    channels: dict[str, np.ndarray] = field(default_factory=dict)
    """Extra per-step signals, shape (T, J) each, in SI units: ``tau_cmd`` (the logged PD or commanded torque
    [N·m]), ``kp`` [N·m/rad] and ``kd`` [N·m·s/rad] (per-step gains), ``qd_target`` [rad/s] (target velocity) and
    ``tau_ff`` [N·m] (feed-forward torque). Kept with the run (sliced and split with it); the gains, target velocity
    and feed-forward torque are the rest of the low-level command, which the physics prior, the GRU-PD's features, the
    baselines and the rollouts use (:func:`~learned_actuators.learning.features.run_command`)."""

    def __post_init__(self):
        n = len(self.t)
        for name in ("q", "q_target", "qd", "tau"):
            arr = getattr(self, name)
            if arr is None:
                continue
            arr = np.asarray(arr, dtype=np.float64)
            if arr.ndim == 1:
                arr = arr[:, None]
            if arr.shape[0] != n:
                raise LogFormatError(f"{self.source}: field '{name}' has {arr.shape[0]} samples, 't' has {n}.")
            setattr(self, name, arr)
        channels = {}
        for name, arr in self.channels.items():
            arr = np.asarray(arr, dtype=np.float64)
            arr = arr[:, None] if arr.ndim == 1 else arr
            if arr.shape != (n, self.q.shape[1]):
                raise LogFormatError(
                    f"{self.source}: channel '{name}' has shape {arr.shape}; expected ({n}, {self.q.shape[1]})."
                )
            channels[name] = arr
        self.channels = channels
        self.t = np.asarray(self.t, dtype=np.float64)
        if self.q.shape[1] != len(self.joint_names):
            raise LogFormatError(
                f"{self.source}: {self.q.shape[1]} joint columns but {len(self.joint_names)} joint names."
            )

    @property
    def num_joints(self) -> int:
        """Number of joints J."""
        return self.q.shape[1]

    @property
    def dt(self) -> float:
        """Median sampling period [s]."""
        return float(np.median(np.diff(self.t)))

    def __len__(self) -> int:
        return len(self.t)
