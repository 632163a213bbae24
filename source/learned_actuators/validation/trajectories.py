"""A data set of :class:`~learned_actuators.data.JointLog` runs as one padded batch (pure NumPy).

Each run becomes one simulated env. Runs of different lengths are padded at the end by holding their last
sample; the ``mask`` marks the frames that belong to a run and are valid (``JointLog.valid``), so padding
never enters a metric.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from learned_actuators.data.joint_log import JointLog, LogFormatError

__all__ = ["TrajectoryBatch", "pad_steps"]

RATE_TOLERANCE = 0.02
"""Largest allowed relative deviation of any sampling period from the data set's period."""


@dataclass
class TrajectoryBatch:
    """E runs of J joints padded to T steps at one common period ``dt``. Arrays are (E, T, J) float64."""

    names: list[str]
    """Run names, length E."""
    sources: list[str]
    """Files the runs were read from, length E."""
    joint_names: list[str]
    """Names of the J joints (the same in every run)."""
    dt: float
    """Log period [s]."""
    q: np.ndarray
    """Logged joint positions [rad], shape (E, T, J)."""
    qd: np.ndarray
    """Logged joint velocities [rad/s], shape (E, T, J)."""
    q_target: np.ndarray
    """Commanded joint positions [rad], shape (E, T, J)."""
    tau: np.ndarray | None
    """Torque label [N·m], shape (E, T, J), or None when some run has none."""
    lengths: np.ndarray
    """Samples per run, int shape (E,)."""
    mask: np.ndarray
    """Frames that count (inside the run and valid), bool shape (E, T)."""
    metas: list[dict] = field(default_factory=list)
    """``JointLog.meta`` of each run."""
    qd_target: np.ndarray | None = None
    """Commanded joint velocities [rad/s], shape (E, T, J) (zero where a run logs none); None: no run logs them."""
    tau_ff: np.ndarray | None = None
    """Feed-forward torques [N·m], shape (E, T, J) (zero where a run logs none); None: no run logs them."""
    kp: np.ndarray | None = None
    """Logged per-step proportional gains as logged (before any gain scale), shape (E, T, J) (NaN where a run logs
    none: its constant gain applies, :func:`~.baselines.log_gains`); None: no run logs them."""
    kd: np.ndarray | None = None
    """Logged per-step damping gains [N·m·s/rad], shape (E, T, J) (NaN where a run logs none); None: none logged."""

    @property
    def num_envs(self) -> int:
        """Number of runs E."""
        return self.q.shape[0]

    @property
    def num_steps(self) -> int:
        """Padded length T."""
        return self.q.shape[1]

    @property
    def time(self) -> np.ndarray:
        """Time since the start of each run [s], shape (T,)."""
        return np.arange(self.num_steps) * self.dt

    @classmethod
    def from_logs(cls, logs: list[JointLog], require_tau: bool = False) -> TrajectoryBatch:
        """Pad and stack ``logs``, checking that they can be replayed together.

        Raises:
            LogFormatError: naming the file and field when the list is empty, joint names differ between runs,
                commanded positions are missing or not finite, the sampling is not regular (the simulator
                replays at one fixed rate), the runs have different rates, or a torque label is required and
                missing.
        """
        if not logs:
            raise LogFormatError("<data set>: no runs to validate (empty list of logs).")
        first = logs[0]
        dt = _regular_period(first)
        for log in logs:
            _check_replayable(log, first, dt, require_tau)
        lengths = np.array([len(log) for log in logs])
        num_steps = int(lengths.max())
        mask = np.zeros((len(logs), num_steps), dtype=bool)
        for e, log in enumerate(logs):
            mask[e, : len(log)] = True if log.valid is None else np.asarray(log.valid, dtype=bool)
        has_tau = all(log.tau is not None for log in logs)
        return cls(
            names=[log.name for log in logs],
            sources=[log.source for log in logs],
            joint_names=list(first.joint_names),
            dt=dt,
            q=_pad_runs([log.q for log in logs], num_steps, first.num_joints),
            qd=_pad_runs([log.qd for log in logs], num_steps, first.num_joints),
            q_target=_pad_runs([log.q_target for log in logs], num_steps, first.num_joints),
            tau=_pad_runs([log.tau for log in logs], num_steps, first.num_joints) if has_tau else None,
            lengths=lengths,
            mask=mask,
            metas=[dict(log.meta) for log in logs],
            qd_target=_command_term(logs, "qd_target", num_steps),
            tau_ff=_command_term(logs, "tau_ff", num_steps),
            kp=_command_term(logs, "kp", num_steps, fill=np.nan),
            kd=_command_term(logs, "kd", num_steps, fill=np.nan),
        )

    def take(self, index, names: list[str] | None = None, metas: list[dict] | None = None) -> TrajectoryBatch:
        """The runs at ``index`` (in that order, repeats allowed), optionally renamed and with new metas."""
        index = np.asarray(index, dtype=int)
        return TrajectoryBatch(
            names=list(names) if names is not None else [self.names[e] for e in index],
            sources=[self.sources[e] for e in index],
            joint_names=list(self.joint_names),
            dt=self.dt,
            q=self.q[index],
            qd=self.qd[index],
            q_target=self.q_target[index],
            tau=self.tau[index] if self.tau is not None else None,
            lengths=self.lengths[index],
            mask=self.mask[index],
            metas=list(metas) if metas is not None else [dict(self.metas[e]) for e in index],
            qd_target=self.qd_target[index] if self.qd_target is not None else None,
            tau_ff=self.tau_ff[index] if self.tau_ff is not None else None,
            kp=self.kp[index] if self.kp is not None else None,
            kd=self.kd[index] if self.kd is not None else None,
        )

    @classmethod
    def concat(cls, batches: list[TrajectoryBatch]) -> TrajectoryBatch:
        """The runs of several batches (e.g. the test runs of every fold) as one batch, in order.

        Raises:
            ValueError: when the batches log different joints or have different periods.
        """
        if not batches:
            raise ValueError("TrajectoryBatch.concat needs at least one batch.")
        first = batches[0]
        for b in batches[1:]:
            if b.joint_names != first.joint_names or abs(b.dt - first.dt) > RATE_TOLERANCE * first.dt:
                raise ValueError(
                    f"TrajectoryBatch.concat: runs {b.names[:1]} log {b.joint_names} at {b.dt:.6g} s, runs "
                    f"{first.names[:1]} log {first.joint_names} at {first.dt:.6g} s; only like batches join."
                )
        num_steps = max(b.num_steps for b in batches)

        def join(name: str) -> np.ndarray:
            return np.concatenate([pad_steps(getattr(b, name), num_steps) for b in batches])

        has_tau = all(b.tau is not None for b in batches)

        def command(name: str, fill: float = 0.0) -> np.ndarray | None:  # ``fill`` for batches without the term
            if all(getattr(b, name) is None for b in batches):
                return None
            parts = [getattr(b, name) if getattr(b, name) is not None else np.full_like(b.q, fill) for b in batches]
            return np.concatenate([pad_steps(p, num_steps) for p in parts])

        return cls(
            names=[n for b in batches for n in b.names],
            sources=[s for b in batches for s in b.sources],
            joint_names=list(first.joint_names),
            dt=first.dt,
            q=join("q"),
            qd=join("qd"),
            q_target=join("q_target"),
            tau=join("tau") if has_tau else None,
            lengths=np.concatenate([b.lengths for b in batches]),
            mask=np.concatenate([pad_steps(b.mask, num_steps, hold=False) for b in batches]),
            metas=[m for b in batches for m in b.metas],
            qd_target=command("qd_target"),
            tau_ff=command("tau_ff"),
            kp=command("kp", np.nan),
            kd=command("kd", np.nan),
        )


def _command_term(logs: list[JointLog], name: str, num_steps: int, fill: float = 0.0) -> np.ndarray | None:
    """A logged command channel of every run (``qd_target``, ``tau_ff``, ``kp``, ``kd``), (E, T, J).

    ``fill`` where a run does not log it; None when no run does.
    """
    if not any(name in log.channels for log in logs):
        return None
    for log in logs:
        if name in log.channels and not np.isfinite(log.channels[name]).all():
            raise LogFormatError(
                f"{log.source}: channel '{name}' (logged command) is not finite in some samples; replay needs a "
                "finite command (fix or drop those samples, e.g. with the column map's cleaning)."
            )
    parts = [log.channels[name] if name in log.channels else np.full_like(log.q, fill) for log in logs]
    return _pad_runs(parts, num_steps, logs[0].num_joints)


def pad_steps(arr: np.ndarray, num_steps: int, hold: bool = True) -> np.ndarray:
    """``arr`` (E, T, ...) padded along T to ``num_steps``: holding the last sample (``hold``) or with zeros/False."""
    arr = np.asarray(arr)
    extra = num_steps - arr.shape[1]
    if extra < 0:
        raise ValueError(f"pad_steps: {arr.shape[1]} steps is more than {num_steps}.")
    if extra == 0:
        return arr
    tail = np.repeat(arr[:, -1:], extra, axis=1) if hold else np.zeros((arr.shape[0], extra, *arr.shape[2:]), arr.dtype)
    return np.concatenate([arr, tail], axis=1)


def _check_replayable(log: JointLog, first: JointLog, dt: float, require_tau: bool) -> None:
    """Raise a :class:`LogFormatError` when ``log`` cannot be replayed with ``first`` (period ``dt``)."""
    if list(log.joint_names) != list(first.joint_names):
        raise LogFormatError(
            f"{log.source}: field 'joint_names' is {list(log.joint_names)}; expected {list(first.joint_names)} "
            f"as in {first.source} (runs replayed together must log the same joints in the same order)."
        )
    if log.q_target is None or not np.isfinite(log.q_target).all():
        bad = "missing" if log.q_target is None else "not finite in some samples"
        raise LogFormatError(
            f"{log.source}: field 'q_target' (commanded positions) is {bad}; replay needs a finite command "
            "at every sample."
        )
    for name in ("q", "qd"):
        if not np.isfinite(getattr(log, name)[0]).all():
            raise LogFormatError(f"{log.source}: field '{name}' is not finite at the first sample (initial state).")
    log_dt = _regular_period(log)
    if abs(log_dt - dt) > RATE_TOLERANCE * dt:
        raise LogFormatError(
            f"{log.source}: sampling period {log_dt:.6g} s differs from {dt:.6g} s of {first.source}; "
            "resample the runs to one rate."
        )
    if require_tau and log.tau is None:
        raise LogFormatError(f"{log.source}: field 'tau' (torque label) is missing.")


def _pad_runs(arrays: list[np.ndarray], num_steps: int, num_joints: int) -> np.ndarray:
    """Per-run (T_e, J) arrays as one float64 (E, num_steps, J) array, each padded by holding its last sample."""
    out = np.zeros((len(arrays), num_steps, num_joints))
    for e, arr in enumerate(arrays):
        out[e, : len(arr)] = arr
        out[e, len(arr) :] = arr[-1]
    return out


def _regular_period(log: JointLog) -> float:
    """The period [s] of ``log``; raises when its time stamps are not regular within :data:`RATE_TOLERANCE`."""
    if len(log) < 2:
        raise LogFormatError(f"{log.source}: field 't' has {len(log)} samples; replay needs at least 2.")
    steps = np.diff(log.t)
    dt = float(np.median(steps))
    if dt <= 0 or np.max(np.abs(steps - dt)) > RATE_TOLERANCE * dt:
        raise LogFormatError(
            f"{log.source}: field 't' is not regularly sampled (median period {dt:.6g} s, periods from "
            f"{steps.min():.6g} to {steps.max():.6g} s); the simulator replays at one fixed rate, so resample the "
            "log first (e.g. the processed 200 Hz BAM logs)."
        )
    return dt
