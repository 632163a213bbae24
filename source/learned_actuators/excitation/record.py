"""What a backend measured during a session (:class:`ExcitationRecord`), filled row by row by a :class:`Recorder`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["ExcitationRecord", "Recorder"]

ROW_FIELDS = ("q", "qd", "tau", "q_target", "kp", "kd", "tau_ff")
"""Per-joint signals of a row, shape (J,) each."""


@dataclass
class ExcitationRecord:
    """One session's log: every array has one row per logged sample, joints along axis 1 (SI units)."""

    joint_names: list[str]
    """Logged joints."""
    t: np.ndarray
    """Time [s] from the first row, shape (N,)."""
    q: np.ndarray
    """Measured position [rad] at ``t``."""
    qd: np.ndarray
    """Measured velocity [rad/s] at ``t``."""
    tau: np.ndarray
    """The motor's torque [N·m] in response to this row's command: the simulated actuator's applied torque over
    the step from ``t``, or the robot's ``tau_est`` read at the next command cycle."""
    q_target: np.ndarray
    """Commanded position [rad] sent at ``t``."""
    kp: np.ndarray
    """Commanded stiffness [N·m/rad]."""
    kd: np.ndarray
    """Commanded damping [N·m·s/rad]."""
    tau_ff: np.ndarray
    """Commanded feed-forward torque [N·m] (0 for this tool's excitation)."""
    segment: np.ndarray
    """Plan segment index of each row (-1: holding the nominal pose or moving to it), shape (N,)."""
    info: dict[str, Any] = field(default_factory=dict)
    """Backend, actuator, rates, why the session ended (``stop_reason``), ... (goes to ``session.json``)."""

    def __len__(self) -> int:
        return len(self.t)

    @property
    def tau_pd(self) -> np.ndarray:
        """The commanded PD torque at the logged state, ``kp (q* - q) - kd qd + tau_ff`` [N·m]."""
        return self.kp * (self.q_target - self.q) - self.kd * self.qd + self.tau_ff


class Recorder:
    """Collects rows into preallocated arrays (no per-row allocation in a control loop)."""

    def __init__(self, joint_names: list[str], capacity: int):
        self.joint_names = list(joint_names)
        num = len(self.joint_names)
        self._t = np.zeros(capacity)
        self._segment = np.full(capacity, -1, dtype=int)
        self._rows = {name: np.zeros((capacity, num)) for name in ROW_FIELDS}
        self.count = 0

    def append(self, t: float, segment: int, **row: np.ndarray) -> None:
        """Add one row: ``t`` [s], the plan segment and every field of :data:`ROW_FIELDS` (arrays of shape (J,))."""
        if self.count >= len(self._t):
            self._grow()
        k = self.count
        self._t[k], self._segment[k] = t, segment
        for name in ROW_FIELDS:
            self._rows[name][k] = row[name]
        self.count += 1

    def set_last(self, name: str, value: np.ndarray, back: int = 1) -> None:
        """Overwrite field ``name`` of the row ``back`` rows before the end (a value known one cycle late)."""
        self._rows[name][self.count - back] = value

    def _grow(self) -> None:
        extra = max(len(self._t), 16)
        self._t = np.concatenate([self._t, np.zeros(extra)])
        self._segment = np.concatenate([self._segment, np.full(extra, -1, dtype=int)])
        self._rows = {k: np.concatenate([v, np.zeros((extra, v.shape[1]))]) for k, v in self._rows.items()}

    def finish(self, info: dict[str, Any], drop_last: int = 0) -> ExcitationRecord:
        """The record of the rows so far, less the last ``drop_last`` (rows still waiting for a late value)."""
        n = max(self.count - drop_last, 0)
        rows = {name: self._rows[name][:n].copy() for name in ROW_FIELDS}
        t = self._t[:n] - (self._t[0] if n else 0.0)
        return ExcitationRecord(self.joint_names, t, segment=self._segment[:n].copy(), info=dict(info), **rows)
