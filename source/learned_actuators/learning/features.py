"""Per-step network inputs and targets, identical for training (whole sequences) and rollout (one step at a time).

The one home of the GRU-PD features: :func:`step_feature` computes each name of
:data:`learned_actuators.network_file.FEATURES` (the network-file contract), either into a new tensor (training,
export, rollouts) or into a caller's buffer with ``out=`` (the actuator's in-place hot path).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..data.joint_log import JointLog
from ..errors import UserInputError
from ..network_file import FEATURES
from ..physics import PhysicsParams, pd_torque, physical_torque
from .models_cfg import PhysicsCfg

__all__ = [
    "command_term",
    "gru_step_features",
    "loss_mask",
    "mlp_history",
    "run_command",
    "run_physics",
    "step_command",
    "step_feature",
    "tau_phys",
]


def run_physics(log: JointLog, cfg: PhysicsCfg) -> PhysicsParams:
    """The run's :class:`PhysicsParams`: ``kp`` from the cfg or ``kp_scale * meta["kp"]``.

    Raises:
        UserInputError: when the cfg has no ``kp`` and the run has no numeric ``meta["kp"]``.
    """
    if cfg.kp is not None:
        kp = float(cfg.kp)
    else:
        raw = log.meta.get("kp")
        if isinstance(raw, dict) or raw is None:
            raise UserInputError(
                f"{log.source}: run has no numeric metadata 'kp' and the physics cfg has no 'kp'; set physics.kp."
            )
        kp = float(cfg.kp_scale) * float(raw)
    return cfg.at_gain(kp)


COMMAND_CHANNELS = ("qd_target", "tau_ff", "kd")
"""Per-step command terms a log may carry (``JointLog.channels``) besides the target angle and the gain ``kp``."""


def command_term(log: JointLog, name: str, fill: float) -> np.ndarray:
    """One logged command channel of a single-joint run (``qd_target``, ``tau_ff``, ``kp``, ``kd``), shape (T,).

    ``fill`` at every step when the run does not log it (each caller says what an absent term means).
    """
    return log.channels[name][:, 0] if name in log.channels else np.full(len(log), fill, dtype=np.float64)


def run_command(log: JointLog, cfg: PhysicsCfg) -> tuple[PhysicsParams, float | np.ndarray, dict[str, np.ndarray]]:
    """The whole low-level command of a single-joint run: ``(params, kp, extras)``.

    ``kp`` [N·m/rad] is the run's gain (:func:`run_physics`), or per step (T,) ``kp_scale`` times the log's ``kp``
    channel when it has one and the cfg no fixed ``kp`` (then ``params`` is at the channel's median gain).
    ``extras`` holds the logged per-step ``qd_target`` [rad/s], ``tau_ff`` [N·m] and ``kd`` [N·m·s/rad] (T,) the
    log has (:data:`COMMAND_CHANNELS`); absent terms are zero (``kd``: ``params.kd``) in :func:`tau_phys` and
    :func:`gru_step_features`, which take ``extras`` as keywords.
    """
    extras = {k: log.channels[k][:, 0] for k in COMMAND_CHANNELS if k in log.channels}
    gains = log.channels.get("kp")
    if gains is None or cfg.kp is not None:
        params = run_physics(log, cfg)
        return params, params.kp, extras
    kp = float(cfg.kp_scale) * gains[:, 0]
    return cfg.at_gain(float(np.median(kp))), kp, extras


def step_command(command: dict[str, torch.Tensor] | None, kp, kd, cfg: PhysicsCfg) -> tuple:
    """One step of logged command terms for N rows as a model applies them: ``(kp, extras)``.

    ``command`` (a rollout's logged terms at this step, see :func:`~learned_actuators.learning.rollout.rollout`)
    holds ``qd_target``/``tau_ff`` (zero where a run has none) and ``kp`` (the logged raw gain) / ``kd`` (NaN where a
    run has none). A logged gain replaces ``kp`` (times ``cfg.kp_scale``; not when the cfg fixes ``kp``), a logged
    ``kd`` replaces the model's ``kd``; rows without them keep the model's values.
    """
    if not command:
        return kp, {}
    extras = {k: command[k] for k in ("qd_target", "tau_ff") if k in command}
    if "kd" in command:
        extras["kd"] = torch.where(
            torch.isnan(command["kd"]), torch.as_tensor(kd, dtype=command["kd"].dtype), command["kd"]
        )
    if "kp" in command and cfg.kp is None:
        kp = torch.where(torch.isnan(command["kp"]), kp, float(cfg.kp_scale) * command["kp"])
    return kp, extras


def tau_phys(q, qd, q_target, kp, params: PhysicsParams, *, qd_target=None, tau_ff=None, kd=None):
    """``tau_phys`` [N·m] of the shared physics with a (possibly per-row) gain ``kp``; torch or NumPy in, same out.

    The command's ``qd_target`` and ``tau_ff`` are zero when None, ``kd`` (per-step logged damping) is
    ``params.kd`` when None.
    """
    as_np = isinstance(q, np.ndarray)
    t = (lambda a: torch.as_tensor(a, dtype=torch.float64)) if as_np else (lambda a: a)

    def opt(a):
        return None if a is None else t(a)

    out = physical_torque(
        t(q),
        t(qd),
        t(q_target),
        t(kp) if isinstance(kp, np.ndarray) else kp,
        params.kd if kd is None else t(kd),
        params.k_spring,
        params.theta0,
        params.stall_torque,
        params.no_load_speed,
        params.friction,
        params.friction_velocity,
        qd_target=opt(qd_target),
        tau_ff=opt(tau_ff),
        friction_load=params.friction_load,
    )
    return out.numpy() if as_np else out


def _put(value: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
    return value if out is None else out.copy_(value)


def _pos_error(q, qd, q_target, kp, kd, phys, qd_target, tau_ff, out):
    return q_target - q if out is None else torch.sub(q_target, q, out=out)


def _gain(value, q, out):
    if out is None:
        return value * torch.ones_like(q)
    return out.copy_(value) if isinstance(value, torch.Tensor) else out.fill_(value)


def _command(value, q, out):
    """A command term (``qd_target``, ``tau_ff``), zero when the command has none."""
    return _gain(0.0 if value is None else value, q, out)


_FORMULAS: dict[str, Callable] = {
    "q": lambda q, qd, q_target, kp, kd, phys, qd_target, tau_ff, out: _put(q, out),
    "q_target": lambda q, qd, q_target, kp, kd, phys, qd_target, tau_ff, out: _put(q_target, out),
    "qd": lambda q, qd, q_target, kp, kd, phys, qd_target, tau_ff, out: _put(qd, out),
    "pos_error": _pos_error,
    "tau_pd": lambda q, qd, q_target, kp, kd, phys, qd_target, tau_ff, out: pd_torque(
        q, qd, q_target, kp, kd, out=out, qd_target=qd_target, tau_ff=tau_ff
    ),
    "tau_phys": lambda q, qd, q_target, kp, kd, phys, qd_target, tau_ff, out: _put(
        phys() if callable(phys) else phys, out
    ),
    "kp": lambda q, qd, q_target, kp, kd, phys, qd_target, tau_ff, out: _gain(kp, q, out),
    "kd": lambda q, qd, q_target, kp, kd, phys, qd_target, tau_ff, out: _gain(kd, q, out),
    "qd_target": lambda q, qd, q_target, kp, kd, phys, qd_target, tau_ff, out: _command(qd_target, q, out),
    "tau_ff": lambda q, qd, q_target, kp, kd, phys, qd_target, tau_ff, out: _command(tau_ff, q, out),
}
if tuple(_FORMULAS) != FEATURES:  # the contract's names and their formulas stay one list
    raise RuntimeError(f"features.py computes {tuple(_FORMULAS)}; network_file.FEATURES is {FEATURES}.")


def step_feature(
    name: str,
    q: torch.Tensor,
    qd: torch.Tensor,
    q_target: torch.Tensor,
    kp,
    kd,
    physics_torque: torch.Tensor | Callable[[], torch.Tensor],
    out: torch.Tensor | None = None,
    *,
    qd_target: torch.Tensor | None = None,
    tau_ff: torch.Tensor | None = None,
) -> torch.Tensor:
    """One per-step feature (a name of :data:`~learned_actuators.network_file.FEATURES`), shape of ``q``.

    ``tau_pd`` is the plain PD torque of the whole command ``kp (q* - q) + kd (qd* - qd) + tau_ff`` [N·m] (no
    torque-speed curve, no spring), ``tau_phys`` the whole physics torque ``physics_torque`` (a tensor, or a function
    computing it, called only for this name), ``kp``/``kd`` the gains (numbers or tensors broadcastable to ``q``),
    ``qd_target``/``tau_ff`` the command's target velocity and feed-forward torque (zero when None).

    Args:
        name: The feature.
        q: Joint angle [rad].
        qd: Joint velocity [rad/s].
        q_target: Target angle [rad].
        kp: Proportional gain [N·m/rad].
        kd: Derivative gain [N·m·s/rad].
        physics_torque: ``tau_phys`` [N·m], or a function returning it.
        out: Buffer of ``q``'s shape to write into (in place; no allocation for tensor gains); None: a new tensor
            (or ``q``, ``q_target``, ``qd`` themselves).
        qd_target: Target velocity [rad/s] of the command; None: zero.
        tau_ff: Feed-forward torque [N·m] of the command; None: zero.

    Raises:
        UserInputError: for a name that is not a known feature.
    """
    formula = _FORMULAS.get(name)
    if formula is None:
        raise UserInputError(f"unknown GRU feature {name!r}; expected one of {', '.join(FEATURES)}.")
    return formula(q, qd, q_target, kp, kd, physics_torque, qd_target, tau_ff, out)


def gru_step_features(
    names: list[str],
    q: torch.Tensor,
    qd: torch.Tensor,
    q_target: torch.Tensor,
    kp: torch.Tensor,
    params: PhysicsParams,
    out: torch.Tensor | None = None,
    physics: torch.Tensor | None = None,
    *,
    qd_target: torch.Tensor | None = None,
    tau_ff: torch.Tensor | None = None,
    kd: torch.Tensor | None = None,
) -> torch.Tensor:
    """Raw GRU inputs (..., F) in the order of ``names`` from broadcastable (...) tensors (:func:`step_feature`).

    ``tau_phys`` is :func:`tau_phys` (PD of the whole command saturated by the torque-speed curve, plus spring and
    friction) at the run's gain ``kp``, or ``physics`` when the caller has computed it already; ``kd`` is the
    per-step logged damping or, when None, ``params.kd``; ``qd_target``/``tau_ff`` the command's target velocity and
    feed-forward torque (zero when None). ``out``: an (..., F) buffer to fill in place.
    """
    kd_value = params.kd if kd is None else kd
    command = dict(qd_target=qd_target, tau_ff=tau_ff)

    def physics_torque():
        return tau_phys(q, qd, q_target, kp, params, kd=kd, **command) if physics is None else physics

    if out is None:
        feats = [step_feature(n, q, qd, q_target, kp, kd_value, physics_torque, **command) for n in names]
        return torch.stack(feats, dim=-1)
    for i, name in enumerate(names):
        step_feature(name, q, qd, q_target, kp, kd_value, physics_torque, out=out[..., i], **command)
    return out


def mlp_history(pos_error: np.ndarray, vel: np.ndarray, input_idx: list[int]) -> np.ndarray:
    """``[e(t-i) for i in input_idx] + [v(t-i) for i in input_idx]`` per frame, shape (T, 2 * len(input_idx)).

    Before the first frame the history is zero, as in the actuator after a reset.
    """
    cols = [
        np.concatenate([np.zeros(i), series[: len(series) - i]]) if i else series
        for series in (pos_error, vel)
        for i in input_idx
    ]
    return np.stack(cols, axis=-1)


def loss_mask(log: JointLog) -> np.ndarray:
    """Frames usable for losses and metrics: ``valid`` and a finite torque label, shape (T,)."""
    mask = np.ones(len(log), dtype=bool) if log.valid is None else log.valid.copy()
    if log.tau is not None:
        mask &= np.isfinite(log.tau[:, 0])
    return mask
