"""Open-loop rollouts of an actuator model on a 1-DOF load (pendulum or pure inertia) driven by logged commands.

The joint follows ``J·q̈ = tau - m·g·l·sin(q)`` integrated with semi-implicit Euler at the log's time step
(:func:`~learned_actuators.data.synthetic.load_step`, as in the reference simulator and the rollout loss), starting
from the logged state; the model sees only simulated states (and the logged command: the target angle and, where
logged, the target velocity, feed-forward torque and per-step gains, each stepper's ``step(q, qd, q_target,
command)``). This is what the model will
do in a simulator, so the position error it accumulates is the number that matters.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from ..data.inverse_dynamics import GRAVITY
from ..data.joint_log import JointLog
from ..data.synthetic import load_step
from ..errors import UserInputError
from ..physics import static_friction
from .features import command_term, loss_mask, tau_phys

__all__ = [
    "RolloutResult",
    "command_series",
    "error_vs_horizon",
    "friction_terms",
    "held_against_load",
    "held_by_friction",
    "held_torque",
    "load_of",
    "rollout",
]

DIVERGED_ANGLE = 2 * np.pi
"""A rollout whose angle error exceeds this [rad] (or is not finite) counts as diverged."""


def load_of(log: JointLog) -> tuple[float, float]:
    """``(J [kg·m²], m·g·l [N·m])`` of a run's load from ``meta`` (``inertia``, ``mass``, ``length``).

    Raises:
        UserInputError: when the run has no ``inertia`` (the load must be known for a rollout).
    """
    if "inertia" not in log.meta:
        raise UserInputError(f"{log.source}: run has no metadata 'inertia' [kg·m²]; a rollout needs the load.")
    return float(log.meta["inertia"]), float(log.meta.get("mass", 0.0)) * GRAVITY * float(log.meta.get("length", 0.0))


def friction_terms(state: tuple, kp, p, extras: dict | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """The smoothed Coulomb friction torque and its bound [N·m] of physics ``p`` on logged states.

    ``state``: ``(q, qd, q_target)`` arrays (any broadcastable shape, e.g. (T,) or (envs, T, joints)), ``kp`` the
    gain, ``extras`` the command's further terms (:func:`~.features.run_command`). The term is
    ``-(tau_c + mu_c·|sat(tau_pd)|)·tanh(qd / v_c)``, the bound ``tau_c + mu_c·|sat(tau_pd)|``. None when ``p`` has no
    friction (:func:`held_torque` then changes nothing).
    """
    if p.friction == 0.0 and p.friction_load == 0.0:
        return None
    extras = extras or {}
    frictionless = dataclasses.replace(p, friction=0.0, friction_load=0.0)
    smoothed = tau_phys(*state, kp, p, **extras) - tau_phys(*state, kp, frictionless, **extras)
    saturated_pd = tau_phys(*state, kp, dataclasses.replace(frictionless, k_spring=0.0), **extras)
    return smoothed, p.friction + p.friction_load * np.abs(saturated_pd)


def held_torque(tau: np.ndarray, state: tuple, kp, p, load: tuple, dt: float, extras=None) -> np.ndarray:
    """The torque [N·m] a joint receives from a model of torque ``tau`` whose Coulomb friction holds it.

    ``tau`` includes the smoothed friction of physics ``p`` (:func:`friction_terms`; ``state``, ``kp``,
    ``extras`` as there), ``load`` is the joint's ``(J, m·g·l)``. On the logged velocity the smoothed term flips sign
    with the encoder's quantisation wherever the joint stands still, while in a simulation the joint creeps until
    the friction balances the load. This is that balance, the ``v_c -> 0`` limit: the smoothed term is replaced by
    :func:`~learned_actuators.physics.static_friction` against the load with the same bound, as the
    trajectory-fitted baseline's integrator does. ``tau`` unchanged when ``p`` has no friction.
    """
    terms = friction_terms(state, kp, p, extras)
    if terms is None:
        return tau
    smoothed, bound = terms
    return held_against_load(tau - smoothed, state, load, dt, bound)


def held_against_load(motor: np.ndarray, state: tuple, load: tuple, dt: float, bound) -> np.ndarray:
    """The torque [N·m] the joint receives: ``motor`` plus static friction of ``bound`` [N·m] against its load.

    :func:`~learned_actuators.physics.static_friction` at the logged ``state`` ``(q, qd, ...)`` with the load
    ``(J, m·g·l)``; any broadcastable shapes.
    """
    motor, q, qd, bound = (torch.as_tensor(a) for a in (motor, state[0], state[1], bound))
    inertia, mgl = (torch.as_tensor(v) for v in load)
    return (motor + static_friction(motor - mgl * torch.sin(q), qd, inertia, dt, bound)).numpy()


def held_by_friction(tau: np.ndarray, log: JointLog, command: tuple) -> np.ndarray:
    """:func:`held_torque` (T,) of a single-joint run, its load (:func:`load_of`) and its ``command``.

    ``command``: ``(params, kp, extras)`` (:func:`~.features.run_command`). ``tau`` unchanged when the load is unknown.
    """
    if "inertia" not in log.meta:
        return tau
    p, kp, extras = command
    state = (log.q[:, 0], log.qd[:, 0], log.q_target[:, 0])
    return held_torque(tau, state, kp, p, load_of(log), log.dt, extras)


@dataclass
class RolloutResult:
    """Per-run rollout outcome."""

    q_sim: list[np.ndarray]
    """Simulated angle [rad] per run, over frames 0..end."""
    rmse: np.ndarray
    """Position RMSE [rad] per run over its valid frames."""
    diverged: np.ndarray
    """Bool per run."""

    @property
    def mean_rmse(self) -> float:
        """Mean of the per-run RMSEs [rad]."""
        return float(np.mean(self.rmse))


def _end(log: JointLog) -> int:
    """Last valid frame + 1 (a rollout stops where torque gets disabled for good)."""
    m = loss_mask(log)
    return int(np.nonzero(m)[0][-1]) + 1 if m.any() else len(log)


def _simulate(model, logs: list[JointLog], rows: list[tuple[int, int]], steps: int) -> np.ndarray:
    """Simulated angle (R, steps + 1) from frame 0 for rows ``(run, start)``.

    Logged states are fed up to ``start``, then the model drives the load.
    """
    n = len(rows)
    length = max(len(logs[r]) for r, _ in rows)

    def pad(a):
        return np.concatenate([a, np.repeat(a[-1:], length - len(a))]) if len(a) < length else a

    series = command_series([logs[r] for r, _ in rows], pad)
    q_log = torch.as_tensor(np.stack([pad(logs[r].q[:, 0]) for r, _ in rows]))
    qd_log = torch.as_tensor(np.stack([pad(logs[r].qd[:, 0]) for r, _ in rows]))
    qt_log = torch.as_tensor(np.stack([pad(logs[r].q_target[:, 0]) for r, _ in rows]))
    inertia, mgl = (torch.as_tensor(v) for v in zip(*[load_of(logs[r]) for r, _ in rows], strict=True))
    dt = torch.as_tensor([logs[r].dt for r, _ in rows])
    start = torch.as_tensor([s for _, s in rows])
    stepper = model.stepper_for([logs[r] for r, _ in rows])
    stepper.reset(n)
    q, qd = q_log[:, 0].clone(), qd_log[:, 0].clone()
    out = torch.empty(n, steps + 1, dtype=torch.float64)
    out[:, 0] = q
    for i in range(steps):
        forced = i < start
        q = torch.where(forced, q_log[:, i], q)
        qd = torch.where(forced, qd_log[:, i], qd)
        command = {k: v[:, i] for k, v in series.items()} or None
        q, qd = load_step(q, qd, stepper.step(q, qd, qt_log[:, i], command), dt, inertia, mgl)
        q = torch.where(torch.isfinite(q), q, torch.full_like(q, 1e6))
        qd = torch.where(torch.isfinite(qd), qd, torch.zeros_like(qd))
        out[:, i + 1] = q
    return out.numpy()


def command_series(logs: list[JointLog], pad=lambda a: a) -> dict[str, torch.Tensor]:
    """The logged command terms beyond the target angle, (R, T) per name, for the runs that have any.

    ``qd_target``/``tau_ff`` are zero and ``kp``/``kd`` NaN (the model's own value) for runs without them
    (:func:`~learned_actuators.learning.features.step_command` applies them).
    """
    out = {}
    for name, missing in (("qd_target", 0.0), ("tau_ff", 0.0), ("kp", np.nan), ("kd", np.nan)):
        if any(name in log.channels for log in logs):
            out[name] = torch.as_tensor(np.stack([pad(command_term(log, name, missing)) for log in logs]))
    return out


def rollout(model, logs: list[JointLog]) -> RolloutResult:
    """Open-loop rollout of every run from its first frame to its last valid frame (batched).

    ``model`` is anything with ``stepper_for(logs)``, e.g. :class:`ActuatorModel` or the PD baseline.
    """
    ends = [_end(log) for log in logs]
    q_sim = _simulate(model, logs, [(i, 0) for i in range(len(logs))], max(ends) - 1)
    sims, rmse, div = [], [], []
    for i, log in enumerate(logs):
        qs = q_sim[i, : ends[i]]
        m = loss_mask(log)[: ends[i]]
        err = qs[m] - log.q[: ends[i], 0][m]
        sims.append(qs)
        rmse.append(float(np.sqrt(np.mean(err**2))))
        div.append(bool(np.abs(err).max() > DIVERGED_ANGLE))
    return RolloutResult(sims, np.asarray(rmse), np.asarray(div))


def error_vs_horizon(
    model, logs: list[JointLog], horizons=(1, 5, 10, 20, 50, 100), stride: int = 50
) -> dict[int, float]:
    """Position RMSE [rad] after ``h`` free-running steps, from starts every ``stride`` valid frames.

    Before its start each rollout is fed the logged states (recurrent state warmed up on the log).
    """
    hmax = max(horizons)
    rows = []
    for i, log in enumerate(logs):
        m = loss_mask(log)
        rows.extend((i, s) for s in range(1, _end(log) - hmax, stride) if m[s : s + hmax + 1].all())
    if not rows:
        return {h: float("nan") for h in horizons}
    steps = max(s for _, s in rows) + hmax
    q_sim = _simulate(model, logs, rows, steps)
    out = {}
    for h in horizons:
        err = [q_sim[k, s + h] - logs[r].q[s + h, 0] for k, (r, s) in enumerate(rows)]
        out[h] = float(np.sqrt(np.mean(np.square(err))))
    return out
