"""Physics of a 1-DOF servo + load identified by simulating whole logged runs (output error).

The model (:class:`TrajectoryPhysics`) is a BAM-style servo: the shared PD torque on a delayed command, saturated by
the torque-speed curve (:func:`learned_actuators.physics.physical_torque`, ``kd`` is the back-EMF + viscous damping),
driving the run's known load plus an identified armature, with an encoder offset (gravity acts on ``q - offset``) and
stick-slip Coulomb friction whose bound grows with the motor torque (``coulomb + coulomb_load · |tau_motor|``, the
gearbox's load-dependent friction of BAM servo models). The friction is a constraint on each integrator step, as a
simulator's joint friction: the torque that would stop the joint within the step, bounded by that value. With
``stick_slip=False`` it is instead the actuator's own smoothed term (:func:`~learned_actuators.physics.physical_torque`:
``-(coulomb + coulomb_load·|tau_motor|)·tanh(qd / friction_velocity)``), the form a GRU-PD prior can carry into the
simulator (``physics.fit="trajectory"`` fits that form).
Its parameters (:data:`PARAMS`) are fitted by :mod:`learned_actuators.learning.sysid_fit` with the rollout's own
integrator (:func:`learned_actuators.learning.rollout._simulate`), batched over runs and parameter sets.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..data.joint_log import JointLog
from ..physics import physical_torque, static_friction
from .features import run_command, step_command
from .models_cfg import PhysicsCfg
from .rollout import command_series, load_of

__all__ = ["PARAMS", "ParamSpec", "TrajectoryPhysics", "exportable", "priors_of"]


@dataclass(frozen=True)
class ParamSpec:
    """Bounds, typical magnitude (optimiser scaling) and meaning of one identified parameter."""

    lower: float
    upper: float
    scale: float
    doc: str


PARAMS: dict[str, ParamSpec] = {
    "gain": ParamSpec(1e-3, 20.0, 1.0, "factor on the prior's proportional gain (kp_scale, or kp) [-]"),
    "kd": ParamSpec(0.0, 5.0, 0.02, "viscous damping / derivative gain on qd [N·m·s/rad]"),
    "coulomb": ParamSpec(0.0, 5.0, 0.02, "Coulomb (stick-slip) friction [N·m]"),
    "coulomb_load": ParamSpec(0.0, 2.0, 0.1, "load-dependent Coulomb friction per N·m of motor torque [-]"),
    "armature": ParamSpec(-5e-3, 0.1, 1e-3, "inertia added to the run's known load [kg·m²]"),
    "delay": ParamSpec(0.0, 0.05, 0.01, "input delay of the position command [s]"),
    "offset": ParamSpec(-0.2, 0.2, 0.01, "encoder offset: gravity acts on q - offset [rad]"),
    "stall_torque": ParamSpec(1e-2, 20.0, 0.5, "torque-speed curve: torque at zero speed [N·m]"),
    "no_load_speed": ParamSpec(0.1, 200.0, 10.0, "torque-speed curve: speed without motoring torque [rad/s]"),
}
"""Identified parameters. ``gain``, ``kd``, ``coulomb`` and the torque-speed curve map onto
:class:`~learned_actuators.physics.PhysicsParams` (its friction is smoothed by the cfg's ``friction_velocity``);
``armature``, ``delay``, ``offset`` and ``coulomb_load`` do not (a simulator takes the armature as joint armature and
the Coulomb friction as joint friction; delay and offset are lost in export)."""

MAX_DELAY_STEPS_PAD = 2


def priors_of(cfg: PhysicsCfg) -> dict[str, float]:
    """Starting values from a physics cfg: gain (factor 1), ``kd``, friction, ``friction_load``, curve; zero otherwise.

    A cfg without a torque-speed curve starts at a curve far outside the data (stall 20 N·m, 200 rad/s).
    """
    curve = cfg.stall_torque is not None and cfg.no_load_speed is not None
    return {
        "gain": 1.0,
        "kd": float(cfg.kd),
        "coulomb": float(cfg.friction or 0.0),
        "coulomb_load": float(cfg.friction_load),
        "armature": 0.0,
        "delay": 0.0,
        "offset": 0.0,
        "stall_torque": float(cfg.stall_torque) if curve else PARAMS["stall_torque"].upper,
        "no_load_speed": float(cfg.no_load_speed) if curve else PARAMS["no_load_speed"].upper,
    }


class BatchStepper:
    """Per-step torque of :class:`TrajectoryPhysics` for rows with their own parameters (``(R,)`` tensors).

    Returns the torque that, put into the rollout's ``J·q̈ = tau - m·g·l·sin q`` (semi-implicit Euler at ``dt``),
    gives the motion of the model's plant ``(J + armature)·q̈ = tau_motor + tau_friction - m·g·l·sin(q - offset)``
    (one integrator for fitting and evaluation).
    """

    def __init__(
        self, p: dict[str, torch.Tensor], kp: torch.Tensor, inertia, mgl, dt, params_of, cfg=None, stick_slip=True
    ):
        self.p, self.kp, self.stick_slip = p, kp, stick_slip
        self.inertia, self.mgl, self.dt = inertia, mgl, dt
        self.delay_steps = p["delay"] / dt
        self.params_of = params_of
        self.cfg = cfg or PhysicsCfg()
        self.k = math.ceil(float(self.delay_steps.max())) + MAX_DELAY_STEPS_PAD
        self.buf: torch.Tensor | None = None

    def reset(self, n: int) -> None:
        """Forget the command history."""
        self.buf = None

    def step(self, q, qd, q_target, command=None):
        """Torque [N·m] (R,) at the simulated state, the whole command delayed by the row's ``delay``.

        ``command``: the step's logged terms beyond the target angle (:func:`~.features.step_command`).
        """
        names = sorted(command or {})
        now = torch.stack([q_target, *(command[n] for n in names)], dim=-1)  # (R, C)
        if self.buf is None:
            self.buf = now[:, None, :].repeat(1, self.k, 1)
        self.buf = torch.cat([now[:, None, :], self.buf[:, :-1]], dim=1)
        lo = torch.floor(self.delay_steps).long().clamp(max=self.k - 2)
        frac = (self.delay_steps - lo)[:, None]
        index = lo[:, None, None].expand(-1, 1, now.shape[1])
        at, before = self.buf.gather(1, index)[:, 0], self.buf.gather(1, index + 1)[:, 0]
        delayed = (1 - frac) * at + frac * before
        return self.effective(q, qd, delayed[:, 0], {n: delayed[:, i + 1] for i, n in enumerate(names)})

    def motor(self, q, qd, q_cmd, command=None):
        """Motor torque [N·m]: the shared physics (PD of the whole command, torque-speed curve) at the row's gain."""
        p = self.p
        kp, extras = step_command(command, self.kp, p["kd"], self.cfg)
        kd = extras.pop("kd", p["kd"])
        params = (*self.params_of, p["stall_torque"], p["no_load_speed"])
        if not self.stick_slip:  # the actuator's smoothed friction, part of the motor torque
            params += (p["coulomb"], self.cfg.friction_velocity)
            extras["friction_load"] = p["coulomb_load"]
        return physical_torque(q, qd, q_cmd, kp * p["gain"], kd, *params, **extras)

    def effective(self, q, qd, q_cmd, command=None):
        """Torque for the rollout's integrator (stick-slip friction, armature and encoder offset folded in)."""
        p = self.p
        tau = self.motor(q, qd, q_cmd, command)
        inertia = self.inertia + p["armature"]
        net = tau - self.mgl * torch.sin(q - p["offset"])
        if not self.stick_slip:
            return self.mgl * torch.sin(q) + self.inertia / inertia * net
        friction = static_friction(net, qd, inertia, self.dt, p["coulomb"] + p["coulomb_load"] * tau.abs())
        return self.mgl * torch.sin(q) + self.inertia / inertia * (net + friction)


@dataclass
class TrajectoryPhysics:
    """A physics model identified by trajectory simulation; usable wherever the rollout takes a model.

    ``base`` is the physics cfg whose gain convention (``kp`` or ``kp_scale · meta["kp"]``) and spring it keeps.
    """

    values: dict[str, float]
    """Parameter values by name (:data:`PARAMS`)."""
    base: PhysicsCfg = field(default_factory=PhysicsCfg)
    report: dict[str, Any] = field(default_factory=dict)
    """Fit report: per parameter ``value``, ``rel_se``, ``fixed`` (and why), correlations, RMSE, time."""
    stick_slip: bool = True
    """Friction as a stick-slip constraint of the integrator (the baseline); False: the actuator's smoothed term."""

    def _rows(self, logs: list[JointLog], values: list[dict[str, float]] | None = None) -> BatchStepper:
        values = values or [self.values] * len(logs)
        p = {k: torch.as_tensor([v[k] for v in values], dtype=torch.float64) for k in PARAMS}
        kp = torch.as_tensor([run_command(g, self.base)[0].kp for g in logs], dtype=torch.float64)
        inertia, mgl = (torch.as_tensor(v, dtype=torch.float64) for v in zip(*map(load_of, logs), strict=True))
        dt = torch.as_tensor([g.dt for g in logs], dtype=torch.float64)
        spring = (float(self.base.k_spring), float(self.base.theta0))
        return BatchStepper(p, kp, inertia, mgl, dt, spring, self.base, self.stick_slip)

    def stepper_for(self, logs: list[JointLog], values: list[dict[str, float]] | None = None) -> BatchStepper:
        """Per-step model for one row per run (``values``: per-row parameters, default this model's)."""
        return self._rows(logs, values)

    def predict(self, log: JointLog) -> np.ndarray:
        """Torque [N·m] (T,) on the logged states (the effective torque of the rollout's integrator)."""
        stepper = self._rows([log])
        t = (torch.as_tensor(a[:, 0], dtype=torch.float64)[:, None] for a in (log.q, log.qd, log.q_target))
        q, qd, qt = t
        series = command_series([log])
        steps = (stepper.step(q[i], qd[i], qt[i], {k: v[:, i] for k, v in series.items()}) for i in range(len(log)))
        return np.asarray([float(tau[0]) for tau in steps])

    def joint_torque(self, log: JointLog) -> np.ndarray:
        """Torque [N·m] (T,) the joint receives: :meth:`predict` with the friction held as stick-slip.

        The smoothed fit (``stick_slip=False``, the ``traj_prior`` row) is scored as the models with a physics prior
        are (:func:`~.rollout.held_by_friction`): the same values with the integrator's stick-slip friction.
        """
        return (self if self.stick_slip else dataclasses.replace(self, stick_slip=True)).predict(log)

    def physics_cfg(self) -> PhysicsCfg:
        """The part a :class:`PhysicsCfg` can express: gain, kd, Coulomb and (smoothed fit) load-dependent friction.

        Also the friction velocity and the torque-speed curve.

        ``identified`` carries everything (also what the cfg cannot express) for the exported file.
        """
        v = self.values
        params = self.report.get("params", {})
        curve_found = not any(params.get(n, {}).get("fixed") for n in ("stall_torque", "no_load_speed"))
        keep_curve = (self.base.stall_torque is not None and self.base.no_load_speed is not None) or curve_found
        gain = {"kp": self.base.kp * v["gain"]} if self.base.kp is not None else {}
        return dataclasses.replace(
            self.base,
            kp_scale=float(self.base.kp_scale * v["gain"]) if self.base.kp is None else self.base.kp_scale,
            kd=float(v["kd"]),
            friction=float(v["coulomb"]),
            friction_load=0.0 if self.stick_slip else float(v["coulomb_load"]),
            stall_torque=float(v["stall_torque"]) if keep_curve else None,
            no_load_speed=float(v["no_load_speed"]) if keep_curve else None,
            identified=exportable(self),
            **gain,
        )


def exportable(model: TrajectoryPhysics) -> dict[str, Any]:
    """JSON-ready summary: values, relative standard errors, fixed parameters, and what PhysicsParams lose."""
    params = model.report.get("params", {})
    return {
        "method": "trajectory simulation (output error, CMA-ES)",
        "values": {k: float(v) for k, v in model.values.items()},
        "rel_se": {k: params[k]["rel_se"] for k in params if params[k].get("rel_se") is not None},
        "fixed": {k: params[k]["fixed"] for k in params if params[k].get("fixed")},
        "not_in_physics_params": {
            "armature": "joint armature of the simulator [kg·m²], added to the load",
            "delay": "input delay [s]: not modelled by the actuator",
            "offset": "encoder offset [rad]: not modelled by the actuator",
            **(
                {
                    "coulomb_load": "load-dependent Coulomb friction: dropped",
                    "coulomb": "stick-slip in the fit; the actuator's friction is smoothed by friction_velocity",
                }
                if model.stick_slip
                else {}
            ),
        },
        "rollout_rmse_train": model.report.get("rmse"),
    }
