"""Least-squares baselines: PD + viscous + Coulomb friction, the ideal PD, and the physics fit the GRU-PD sits on."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import least_squares

from ..data.joint_log import JointLog
from ..errors import UserInputError
from .features import command_term, loss_mask, run_command, run_physics, step_command, tau_phys
from .models_cfg import FIT_PARAMS, PhysicsCfg, checked_fit_params
from .rollout import held_against_load, load_of

__all__ = ["IdealPDBaseline", "PDFrictionBaseline", "fit_ideal_pd", "fit_pd_friction", "fit_physics"]


def _raw_kp(log: JointLog) -> float:
    return float(log.meta.get("kp", 1.0)) if not isinstance(log.meta.get("kp"), dict) else 1.0


def _command_columns(log: JointLog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-step raw gain, target velocity and feed-forward torque of a run, shape (T,) each.

    The gain is the logged ``kp`` channel, else :func:`_raw_kp`; the other two are zero when not logged.
    """
    return command_term(log, "kp", _raw_kp(log)), command_term(log, "qd_target", 0.0), command_term(log, "tau_ff", 0.0)


@dataclass
class PDFrictionBaseline:
    """``tau = g·kp_raw·(q* - q) + b·(qd* - qd) - c·sign(qd) + d + e·tau_ff``, per gain group or one set for all.

    ``kp_raw`` is the run's logged gain (per step from a ``kp`` channel, else ``meta["kp"]``, 1 when absent) so one
    fit covers all gains (gain ∝ kp); the target velocity ``qd*`` and feed-forward torque ``tau_ff`` of the command
    are zero where not logged (a logged ``kd`` channel is not used: ``b`` is fitted).
    """

    coef: dict[str, np.ndarray]
    """Coefficients ``[g, b, c, d, e]`` per key (``"all"`` or ``str(kp_raw)``; ``[g, b, c, d]``: ``e = 0``)."""
    per_gain: bool

    def _coef(self, kp_raw: float) -> np.ndarray:
        key = str(kp_raw) if self.per_gain else "all"
        if key not in self.coef:
            raise KeyError(f"PD baseline has no fit for gain {kp_raw}; fitted: {sorted(self.coef)}.")
        coef = np.asarray(self.coef[key], dtype=np.float64)
        return np.pad(coef, (0, 5 - len(coef)))  # ``[g, b, c, d]`` alone: no feed-forward term

    def predict(self, log: JointLog) -> np.ndarray:
        """Torque [N·m] (T,) on a logged run."""
        g, b, c, d, e = self._coef(_raw_kp(log))
        kp, qd_target, tau_ff = _command_columns(log)
        q, qd, qt = log.q[:, 0], log.qd[:, 0], log.q_target[:, 0]
        return g * kp * (qt - q) + b * (qd_target - qd) - c * np.sign(qd) + d + e * tau_ff

    def joint_torque(self, log: JointLog) -> np.ndarray:
        """Torque [N·m] (T,) the joint receives: the Coulomb term ``c`` holding it against the run's load.

        As for the models with a physics prior (:func:`~.rollout.held_by_friction`): ``-c·sign(qd)`` on the logged
        velocity becomes static friction of bound ``c`` (:func:`~.rollout.held_against_load`). :meth:`predict` when
        ``c <= 0`` or the run's load is unknown.
        """
        tau = self.predict(log)
        c = float(self._coef(_raw_kp(log))[2])
        if c <= 0 or "inertia" not in log.meta:
            return tau
        state = (log.q[:, 0], log.qd[:, 0])
        return held_against_load(tau + c * np.sign(state[1]), state, load_of(log), log.dt, c)

    def stepper_for(self, logs: list[JointLog]) -> _PDStepper:
        """Per-step predictor for one row per run in ``logs`` (each with its logged gain)."""
        kp_raw = [_raw_kp(log) for log in logs]
        coefs = np.stack([self._coef(float(k)) for k in kp_raw])
        return _PDStepper(torch.as_tensor(coefs), torch.as_tensor(np.asarray(kp_raw, dtype=np.float64)))


class _PDStepper:
    def __init__(self, coef: torch.Tensor, kp: torch.Tensor):
        self.coef, self.kp = coef, kp

    def reset(self, n: int) -> None:
        """Stateless."""

    def step(self, q, qd, q_target, command=None):
        g, b, c, d, e = self.coef.T
        command = command or {}
        kp = torch.where(torch.isnan(command["kp"]), self.kp, command["kp"]) if "kp" in command else self.kp
        qd_target = command.get("qd_target", 0.0)
        tau = g * kp * (q_target - q) + b * (qd_target - qd) - c * torch.sign(qd) + d
        return tau + e * command["tau_ff"] if "tau_ff" in command else tau


def fit_pd_friction(logs: list[JointLog], per_gain: bool = False) -> PDFrictionBaseline:
    """Least-squares fit on the torque-labelled valid frames of ``logs`` (minimum-norm: terms no run has get 0)."""
    rows: dict[str, list] = {}
    for log in logs:
        if log.tau is None:
            raise UserInputError(f"{log.source}: run has no torque label; the PD baseline needs torque.")
        k = _raw_kp(log)
        m = loss_mask(log)
        kp, qd_target, tau_ff = (a[m] for a in _command_columns(log))
        q, qd, qt, tau = log.q[m, 0], log.qd[m, 0], log.q_target[m, 0], log.tau[m, 0]
        a = np.stack([kp * (qt - q), qd_target - qd, -np.sign(qd), np.ones_like(q), tau_ff], axis=1)
        rows.setdefault(str(k) if per_gain else "all", []).append((a, tau))
    coef = {}
    for key, parts in rows.items():
        a = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        coef[key] = np.linalg.lstsq(a, y, rcond=None)[0]
    return PDFrictionBaseline(coef, per_gain)


@dataclass
class IdealPDBaseline:
    """Isaac Lab's ``IdealPDActuator`` on the 1-DOF load: ``clip(kp (q* - q) + kd (q̇* - q̇) + τ_ff, ±limit)``.

    ``kp`` is the run's gain (per step where logged) times the fitted ``kp_scale``; ``kd`` and the limit (the stall
    torque) are those of :attr:`physics`, fitted on the training runs (:func:`fit_ideal_pd`): the values the demo's
    simulator baselines ``ideal_pd`` and ``dc_motor`` take. No torque-speed curve, friction or spring.
    """

    physics: PhysicsCfg

    def _pd(self, params):
        return dataclasses.replace(params, stall_torque=None, no_load_speed=None, friction=0.0, k_spring=0.0)

    def _clip(self, tau):
        limit = self.physics.stall_torque
        return tau if limit is None else tau.clip(-limit, limit)

    def predict(self, log: JointLog) -> np.ndarray:
        """Torque [N·m] (T,) on a logged run."""
        params, kp, extras = run_command(log, self.physics)
        return self._clip(tau_phys(log.q[:, 0], log.qd[:, 0], log.q_target[:, 0], kp, self._pd(params), **extras))

    def stepper_for(self, logs: list[JointLog]) -> _IdealPDStepper:
        """Per-step predictor for one row per run in ``logs`` (each with its gain; logged per-step terms apply)."""
        return _IdealPDStepper(self, torch.as_tensor([run_physics(log, self.physics).kp for log in logs]))


class _IdealPDStepper:
    def __init__(self, model: IdealPDBaseline, kp: torch.Tensor):
        self.model, self.kp = model, kp
        self.params = model._pd(model.physics.at_gain(1.0))

    def reset(self, n: int) -> None:
        """Stateless."""

    def step(self, q, qd, q_target, command=None):
        physics = self.model.physics
        kp, extras = step_command(command, self.kp, physics.kd, physics)
        return self.model._clip(tau_phys(q, qd, q_target, kp, self.params, **extras))


def fit_ideal_pd(logs: list[JointLog], cfg: PhysicsCfg) -> IdealPDBaseline:
    """The ideal PD with the physics of ``cfg`` fitted on ``logs`` by least squares on torque (:func:`fit_physics`)."""
    return IdealPDBaseline(fit_physics(logs, dataclasses.replace(cfg, fit=True)))


def fit_physics(logs: list[JointLog], cfg: PhysicsCfg) -> PhysicsCfg:
    """Fit ``kp_scale`` (or ``kp``), ``kd``, ``stall_torque``, ``no_load_speed`` and ``friction`` to the torque labels.

    The physics sees each run's whole command (:func:`~.features.run_command`): per-step gains, target velocity and
    feed-forward torque where logged; ``kd`` is not fitted when every run logs it. Where a run logs the motor's own
    torque (the ``tau_motor`` channel: measured current times the torque constant), the motor part of the physics
    (saturated PD, without friction) is fitted to it as well, so the friction is what separates it from the joint
    torque label; the channel's scale is refined within a factor of 2 where joint labels exist (a datasheet torque
    constant is rarely exact), and a run with only that channel (no joint torque) still constrains the motor part.

    Robust (soft-L1) least squares on the valid frames of all runs, starting from the cfg's values; the torque-speed
    curve is fitted only when the cfg enables it (both curve parameters set), the friction only when it is not None,
    and ``cfg.fit_params`` (when set) limits the fit to the named parameters. Returns an updated copy of ``cfg``.
    With ``cfg.fit == "trajectory"`` the fit is by trajectory simulation instead
    (:func:`~learned_actuators.learning.sysid_fit.fit_trajectory_physics`).
    """
    if cfg.fit == "trajectory":
        from .sysid_fit import fit_trajectory_physics

        return fit_trajectory_physics(logs, cfg)
    data = []
    unit = dataclasses.replace(cfg, kp_scale=1.0)
    for log in logs:
        m = loss_mask(log)
        _, kp, extras = run_command(log, unit)
        raw = np.ones(m.sum()) if cfg.kp is not None else np.broadcast_to(kp, m.shape)[m]
        n = len(log)
        qd_target, tau_ff = (extras.get(k, np.zeros(n))[m] for k in ("qd_target", "tau_ff"))
        kd = extras.get("kd", np.full(n, np.nan))[m]
        tau, motor = (np.full(n, np.nan) if a is None else a[:, 0] for a in (log.tau, log.channels.get("tau_motor")))
        data.append((log.q[m, 0], log.qd[m, 0], log.q_target[m, 0], tau[m], raw, qd_target, tau_ff, kd, motor[m]))
    q, qd, qt, tau, kraw, qd_target, tau_ff, kd_log, motor = (np.concatenate([d[i] for d in data]) for i in range(9))
    logged_kd = ~np.isnan(kd_log)
    labelled, logged_motor = np.isfinite(tau), np.isfinite(motor)
    if not (labelled.any() or logged_motor.any()):
        raise UserInputError(f"{logs[0].source}: no torque label and no tau_motor channel to fit the physics on.")
    use_curve = cfg.stall_torque is not None and cfg.no_load_speed is not None
    gain = "kp" if cfg.kp is not None else "kp_scale"
    names = [gain] + ([] if logged_kd.all() else ["kd"]) + (["stall_torque", "no_load_speed"] if use_curve else [])
    names += ["friction"] if cfg.friction is not None else []
    chosen = checked_fit_params(cfg)
    if chosen is not None:
        names = [n for n in names if n in chosen or (n == gain and "kp" in chosen)]
    if not names:
        return cfg
    start = dataclasses.asdict(cfg)

    # with joint labels beside it, the logged motor torque's scale (the torque constant) is refined too: a free
    # factor in [0.5, 2] (on the BAM XL330 logs the joint torque is 1.34x the current times the datasheet constant)
    free_scale = bool(labelled.any() and logged_motor.any())

    def params(x) -> PhysicsCfg:
        return dataclasses.replace(cfg, **{n: float(v) for n, v in zip(names, x[: len(names)], strict=True)})

    # the frames of each label, sliced once: (is the motor torque, label, q, qd, q*, raw gain, q̇*, tau_ff, logged kd)
    groups = [
        (is_motor, *(a[rows] for a in (label, q, qd, qt, kraw, qd_target, tau_ff, kd_log)))
        for is_motor, label, rows in ((False, tau, labelled), (True, motor, logged_motor))
        if rows.any()
    ]

    def resid(x):
        c = params(x)
        scale = c.kp if c.kp is not None else c.kp_scale
        joint = c.at_gain(1.0)
        motor_part = dataclasses.replace(joint, friction=0.0, friction_load=0.0)
        out = []
        for is_motor, label, *r, raw, vt, ff, kd in groups:
            phys, label = (motor_part, label * x[-1] if free_scale else label) if is_motor else (joint, label)
            kd = np.where(np.isnan(kd), c.kd, kd)
            out.append(tau_phys(*r, scale * raw, phys, qd_target=vt, tau_ff=ff, kd=kd) - label)
        return np.concatenate(out)

    x0 = [start[n] for n in names] + [1.0] * free_scale
    bounds = ([FIT_PARAMS[n] for n in names] + [0.5] * free_scale, [np.inf] * len(names) + [2.0] * free_scale)
    x = least_squares(resid, x0, bounds=bounds, loss="soft_l1", f_scale=0.05).x
    return params(x)
