"""Synthetic runs of a known reference actuator (PD + torque-speed curve + friction) on a 1-DOF load.

Used by the tests (readers must recover the reference torque) and handy to try the tools without hardware. The
1-DOF load step (:func:`load_step`) is the one the trainer's rollouts and rollout loss integrate too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..physics import PhysicsParams, physical_torque
from .inverse_dynamics import GRAVITY
from .joint_log import JointLog

__all__ = ["chirp_command", "load_step", "simulate_reference_actuator", "write_bench_csv"]


def load_step(q, qd, tau, dt, inertia, mgl):
    """One semi-implicit Euler step of the 1-DOF load ``J·q̈ = tau - m·g·l·sin(q)``: returns ``(q, qd)`` after ``dt``.

    ``q`` [rad], ``qd`` [rad/s], ``tau`` [N·m], ``dt`` [s], ``inertia`` ``J`` [kg·m²] and ``mgl`` ``m·g·l`` [N·m]:
    floats, NumPy arrays or torch tensors (broadcast; the velocity is updated first, then the angle with it).
    """
    sin = torch.sin if isinstance(q, torch.Tensor) else np.sin
    qd = qd + dt * (tau - mgl * sin(q)) / inertia
    return q + dt * qd, qd


def chirp_command(t: np.ndarray, amplitude: float = 0.6, f0: float = 0.3, f1: float = 3.0, seed: int = 0) -> np.ndarray:
    """A chirp from ``f0`` to ``f1`` [Hz] plus a few random steps [rad], shape (T,)."""
    rng = np.random.default_rng(seed)
    duration = t[-1] - t[0] if len(t) > 1 else 1.0
    phase = 2 * np.pi * (f0 * t + 0.5 * (f1 - f0) * t**2 / duration)
    steps = np.repeat(rng.uniform(-0.3, 0.3, 4), int(np.ceil(len(t) / 4)))[: len(t)]
    return amplitude * np.sin(phase) + steps


def _reference_torque(q: float, qd: float, q_target: float, p: PhysicsParams, coulomb: float = 0.0) -> float:
    """Scalar torque [N·m] of the reference actuator: :func:`~learned_actuators.physics.physical_torque` (float64)."""
    x = torch.tensor([q, qd, q_target], dtype=torch.float64)
    tau = physical_torque(
        x[0:1], x[1:2], x[2:3], p.kp, p.kd, p.k_spring, p.theta0, p.stall_torque, p.no_load_speed, coulomb, 0.05
    )
    return float(tau[0])


def simulate_reference_actuator(
    params: PhysicsParams,
    inertia: float,
    mass: float = 0.0,
    length: float = 0.0,
    duration: float = 4.0,
    dt: float = 0.005,
    coulomb: float = 0.0,
    command: np.ndarray | None = None,
    substeps: int = 4,
    name: str = "synthetic",
    seed: int = 0,
) -> JointLog:
    """Simulate the reference actuator ``tau = physical_torque(...) - coulomb·tanh(qd/0.05)`` on a 1-DOF load.

    The load follows ``J·q̈ = tau - m·g·l·sin(q)`` (semi-implicit Euler with ``substeps`` per sample); the command is
    interpolated linearly between samples, so the torque has no steps at the sample instants.

    Returns a single-joint :class:`JointLog` sampled every ``dt`` [s] with the exact applied torque [N·m], its
    angular acceleration in ``meta["qdd"]`` and the load in ``meta``.
    """
    n = round(duration / dt)
    t = np.arange(n) * dt
    cmd = chirp_command(t, seed=seed) if command is None else np.asarray(command, dtype=np.float64)
    h = dt / substeps
    q = qd = 0.0
    out = np.zeros((n, 4))
    mgl = mass * GRAVITY * length
    for i in range(n):
        tau = _reference_torque(q, qd, float(cmd[i]), params, coulomb)
        out[i] = (q, qd, tau, (tau - mgl * np.sin(q)) / inertia)
        nxt = float(cmd[min(i + 1, n - 1)])
        for k in range(substeps):
            target = float(cmd[i]) + (nxt - float(cmd[i])) * k / substeps
            tau_s = _reference_torque(q, qd, target, params, coulomb)
            q, qd = load_step(q, qd, tau_s, h, inertia, mgl)
    return JointLog(
        name=name,
        source="<synthetic>",
        t=t,
        q=out[:, 0],
        q_target=cmd,
        qd=out[:, 1],
        tau=out[:, 2],
        meta={"inertia": inertia, "mass": mass, "length": length, "kp": params.kp, "qdd": out[:, 3], "group": name},
    )


def write_bench_csv(log: JointLog, path: str | Path, radius: float = 0.05) -> Path:
    """Write a run in the bench CSV format (angles in deg, gyro Z in deg/s, tangential acceleration on Acc_Y).

    The angular acceleration is taken from ``log.meta["qdd"]`` (as written by :func:`simulate_reference_actuator`).
    """
    import pandas as pd

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    qdd = np.asarray(log.meta["qdd"])
    df = pd.DataFrame(
        {
            "Time_ms": log.t * 1e3,
            "Encoder_Angle": np.rad2deg(log.q[:, 0]),
            "Commanded_Angle": np.rad2deg(log.q_target[:, 0]),
            "Acc_X": np.zeros(len(log)),
            "Acc_Y": qdd * radius,
            "Acc_Z": np.full(len(log), GRAVITY),
            "Gyro_X": np.zeros(len(log)),
            "Gyro_Y": np.zeros(len(log)),
            "Gyro_Z": np.rad2deg(log.qd[:, 0]),
        }
    )
    df.to_csv(path, index=False)
    return path
