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

__all__ = [
    "chirp_command",
    "load_step",
    "simulate_reference_actuator",
    "simulate_reference_runs",
    "write_bench_csv",
    "write_profile_npz",
]


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


def _run_commands(t: np.ndarray, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Commands (n, T) [rad] and their kinds (n,): 0 chirp, 1 steps, 2 random sum of sines (all vectorised)."""
    kinds = rng.integers(0, 3, n)
    duration = max(float(t[-1] - t[0]), 1e-9) if len(t) > 1 else 1.0
    amp = rng.uniform(0.2, 0.8, (n, 1))
    f0, f1 = rng.uniform(0.1, 0.5, (n, 1)), rng.uniform(1.5, 4.0, (n, 1))
    chirp = amp * np.sin(2 * np.pi * (f0 * t + 0.5 * (f1 - f0) * t**2 / duration))
    hold = rng.uniform(0.2, 1.0, (n, 1))  # step every 0.2-1 s
    levels = rng.uniform(-1.0, 1.0, (n, int(duration / 0.2) + 2))
    steps = amp * np.take_along_axis(levels, np.minimum((t / hold).astype(int), levels.shape[1] - 1), axis=1)
    freqs, phases = rng.uniform(0.1, 3.0, (n, 4, 1)), rng.uniform(0, 2 * np.pi, (n, 4, 1))
    sines = amp * np.sin(2 * np.pi * freqs * t + phases).sum(axis=1) / 2
    return np.choose(kinds[:, None], [chirp, steps, sines]), kinds


def simulate_reference_runs(
    n_runs: int,
    duration: float = 6.0,
    dt: float = 0.01,
    seed: int = 0,
    *,
    substeps: int = 4,
    lag_s: tuple[float, float] = (0.01, 0.02),
    stiction: float = 0.03,
    label_noise: float = 0.005,
    name: str = "synthetic",
    full_command: bool = False,
) -> list[JointLog]:
    """Simulate ``n_runs`` single-joint bench runs at once (NumPy over the run axis): a fast data set for benchmarks.

    Each run drives a 1-DOF pendulum ``J·q̈ = tau - m·g·l·sin(q)`` (hanging at ``q = 0``) with an actuator the GRU-PD
    physics prior cannot fully express:

    * motor torque: PD (gain ``kp`` per run in [2, 8] N·m/rad, ``kd = 0.2`` N·m·s/rad) clipped by a torque-speed curve
      (stall 3 N·m, no-load speed 6 rad/s), lagging behind its command with a first-order time constant per run
      in ``lag_s`` [s];
    * minus friction (not lagged): Coulomb 0.02 N·m and a Stribeck (stiction) bump ``stiction·exp(-(qd/0.2)²)``,
      both times ``tanh(qd/0.05)``, plus viscous 0.01 N·m·s/rad;
    * the torque label is the applied torque plus Gaussian noise of ``label_noise`` [N·m] (a floor of the error).

    Loads vary per run: mass in [0.2, 1.0] kg, length in [0.1, 0.25] m, inertia ``m·l²`` plus a rotor 2e-4 kg·m².
    Commands are a chirp, random steps or a random sum of sines (a third each, drawn per run), amplitude 0.2-0.8
    rad, interpolated linearly over ``substeps`` semi-implicit Euler steps per sample (:func:`load_step`).

    Args:
        n_runs: Number of runs (e.g. 1000, or 12 for a 12-joint robot's worth of stacked joints).
        duration: Length of each run [s].
        dt: Sample period [s] (0.01 = 100 Hz).
        seed: Seed of every random draw: the same arguments give the same runs.
        substeps: Integration steps per sample.
        lag_s: Range ``(low, high)`` of the torque-lag time constant [s]; ``(0, 0)`` turns the lag off.
        stiction: Height of the Stribeck friction bump [N·m].
        label_noise: Standard deviation of the torque label noise [N·m].
        name: Prefix of the run names (``f"{name}_{i:04d}"``), also each run's ``meta["group"]``.
        full_command: Drive the motor with the whole low-level command of a Unitree-style controller instead of the
            target angle alone: ``kp (q* - q) + kd (qd* - qd) + tau_ff`` with the target velocity ``qd* = dq*/dt``,
            a feed-forward torque ``tau_ff = 0.8 m·g·l·sin(q*) + a·sin(2π f t + φ)`` (gravity compensation of the
            load plus a random sine, ``a`` in [0.1, 0.4] N·m, ``f`` in [0.5, 2] Hz), per-step gains (``kp`` steps
            up by 50 % halfway through the run) and ``kd`` per run in [0.1, 0.4] N·m·s/rad. The logs carry them as
            the channels ``qd_target``, ``tau_ff``, ``kp`` and ``kd``.

    Returns:
        ``n_runs`` single-joint :class:`JointLog` of ``round(duration / dt)`` samples: ``tau`` the (noisy) applied
        torque, ``meta``: ``inertia`` [kg·m²], ``mass`` [kg], ``length`` [m], ``kp`` [N·m/rad], ``group``,
        ``lag_s`` [s], ``command`` (``"chirp"``, ``"steps"`` or ``"sines"``) and ``qdd`` (T,) [rad/s²] of the
        noise-free torque.
    """
    rng = np.random.default_rng(seed)
    n = round(duration / dt)
    t = np.arange(n) * dt
    cmd, kinds = _run_commands(t, rng, n_runs)
    kp = rng.uniform(2.0, 8.0, n_runs)
    mass, length = rng.uniform(0.2, 1.0, n_runs), rng.uniform(0.1, 0.25, n_runs)
    load = (mass * length**2 + 2e-4, mass * GRAVITY * length)
    lag = rng.uniform(lag_s[0], lag_s[1], n_runs)
    keep = np.exp(-dt / substeps / np.maximum(lag, 1e-12)) if lag_s[1] > 0 else np.zeros(n_runs)
    extras = _full_command(t, cmd, kinds, kp, load[1], rng) if full_command else None
    out = _integrate(cmd, kp, load, keep, stiction, dt, substeps, extras)
    labels = out[2] + label_noise * rng.standard_normal((n_runs, n))
    meta = dict(inertia=load[0], mass=mass, length=length, kp=kp, lag_s=lag)
    logs = _logs(name, t, cmd, out, labels, meta, kinds)
    for r, log in enumerate(logs if extras else []):
        log.channels = {k: v[r][:, None] for k, v in extras.items()}
        log.meta.pop("kp")  # the gain changes within the run: per step in the channel
    return logs


def _full_command(t, cmd, kinds, kp, mgl, rng) -> dict[str, np.ndarray]:
    """Target velocity, feed-forward torque and per-step gains (n_runs, T) of :func:`simulate_reference_runs`."""
    n_runs = len(cmd)
    dt = float(t[1] - t[0]) if len(t) > 1 else 1.0
    amp, freq = rng.uniform(0.1, 0.4, (n_runs, 1)), rng.uniform(0.5, 2.0, (n_runs, 1))
    phase = rng.uniform(0, 2 * np.pi, (n_runs, 1))
    tau_ff = 0.8 * mgl[:, None] * np.sin(cmd) + amp * np.sin(2 * np.pi * freq * t + phase)
    gains = kp[:, None] * np.where(t >= t[-1] / 2, 1.5, 1.0)
    damping = np.repeat(rng.uniform(0.1, 0.4, (n_runs, 1)), len(t), axis=1)
    qd_target = np.where(kinds[:, None] == 1, 0.0, np.gradient(cmd, dt, axis=1))  # steps: no target velocity
    return {"qd_target": qd_target, "tau_ff": tau_ff, "kp": gains, "kd": damping}


def _logs(name: str, t, cmd, out, labels, meta: dict, kinds) -> list[JointLog]:
    """One :class:`JointLog` per run from the (runs, T) arrays and the per-run numbers of ``meta``."""
    words = ("chirp", "steps", "sines")
    return [
        JointLog(
            name=f"{name}_{r:04d}",
            source="<synthetic>",
            t=t.copy(),
            q=out[0, r],
            q_target=cmd[r],
            qd=out[1, r],
            tau=labels[r],
            meta={
                **{k: float(v[r]) for k, v in meta.items()},
                "group": f"{name}_{r:04d}",
                "command": words[int(kinds[r])],
                "qdd": out[3, r],
            },
        )
        for r in range(len(cmd))
    ]


def _integrate(cmd, kp, load, keep, stiction: float, dt: float, substeps: int, extras=None) -> np.ndarray:
    """States of all runs at the samples: (4, n_runs, T) of ``q``, ``qd``, applied torque, ``qdd``.

    ``load = (J, m·g·l)`` per run; ``keep`` the per-substep decay ``exp(-h / lag)`` of the motor torque's first-order
    lag (exact for a command held over the substep ``h``; 0: no lag). ``extras``: the rest of the command (see
    :func:`_full_command`), interpolated like the target; None: ``kp`` per run, ``kd = 0.2``, no ``qd*``/``tau_ff``.
    """
    inertia, mgl = load
    n_runs, n = cmd.shape
    h = dt / substeps
    rest = extras or {"qd_target": np.zeros((n_runs, 1)), "tau_ff": np.zeros((n_runs, 1))}
    rest = {
        **rest,
        "kp": extras["kp"] if extras else kp[:, None],
        "kd": extras["kd"] if extras else np.full((1, 1), 0.2),
    }

    def at(i: int, k: int) -> dict[str, np.ndarray]:  # the command terms at substep k of sample i
        out = {}
        for key, a in rest.items():
            now, nxt = a[:, min(i, a.shape[1] - 1)], a[:, min(i + 1, a.shape[1] - 1)]
            out[key] = now + (nxt - now) * k / substeps
        return out

    def motor(q, qd, target, c):  # PD of the whole command clipped by the torque-speed curve, before the lag
        upper = 3.0 * np.maximum(1 - np.maximum(qd, 0.0) / 6.0, 0.0)  # torque-speed curve as physics.py draws it
        lower = -3.0 * np.maximum(1 + np.minimum(qd, 0.0) / 6.0, 0.0)
        return np.clip(c["kp"] * (target - q) + c["kd"] * (c["qd_target"] - qd) + c["tau_ff"], lower, upper)

    def friction(qd):  # Coulomb + viscous + Stribeck bump, not lagged
        bump = stiction * np.exp(-((qd / 0.2) ** 2))
        return (0.02 + bump) * np.tanh(qd / 0.05) + 0.01 * qd

    q, qd = np.zeros(n_runs), np.zeros(n_runs)
    lagged = motor(q, qd, cmd[:, 0], at(0, 0))
    out = np.zeros((4, n_runs, n))
    for i in range(n):
        tau = lagged - friction(qd)
        out[:, :, i] = q, qd, tau, (tau - mgl * np.sin(q)) / inertia
        nxt = cmd[:, min(i + 1, n - 1)]
        for k in range(substeps):
            target = cmd[:, i] + (nxt - cmd[:, i]) * k / substeps
            lagged = keep * lagged + (1 - keep) * motor(q, qd, target, at(i, k))
            q, qd = load_step(q, qd, lagged - friction(qd), h, inertia, mgl)
    return out


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


def write_profile_npz(runs: list[JointLog], path: str | Path, joint_names: list[str] | None = None) -> Path:
    """Single-joint runs of one length and rate as one multi-joint torque-profile NPZ (float32; one joint per run).

    The format :func:`~learned_actuators.data.torque_profile.read_torque_profile_npz` reads (``fps``, ``dof_names``,
    ``joint_torques``, ``dof_positions``, ``dof_velocities``, ``dof_position_targets``). Returns ``path``.
    """
    names = joint_names or [f"j{j}" for j in range(len(runs))]

    def cols(field: str) -> np.ndarray:
        return np.stack([getattr(g, field)[:, 0] for g in runs], axis=1).astype(np.float32)

    np.savez(
        path,
        fps=np.float64(1.0 / runs[0].dt),
        dof_names=np.array(names),
        joint_torques=cols("tau"),
        dof_positions=cols("q"),
        dof_velocities=cols("qd"),
        dof_position_targets=cols("q_target"),
    )
    return Path(path)
