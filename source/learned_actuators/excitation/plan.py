"""An excitation session as position targets at the control rate (:class:`ExcitationPlan`, from an ExcitationCfg).

The plan is what every backend sends: the simulator holds each target for ``decimation`` physics steps, the robot
backend for as many command cycles. It is computed, checked against the safe amplitudes and the joint limits and
clipped before anything moves; building it needs neither a simulator nor a robot.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import UserInputError
from .go2 import GO2_JOINT_NAMES, GO2_NOMINAL_POSE, GO2_POSITION_LIMITS, joint_part, resolve_groups
from .plan_cfg import ExcitationCfg, per_part
from .signals import chirp, envelope, random_targets, steps

__all__ = ["ExcitationPlan", "Segment", "build_plan", "joint_range"]


@dataclass
class Segment:
    """One signal on one group: rows ``start`` to ``stop`` (exclusive) of the plan."""

    name: str
    """``<group>/<signal>``, e.g. ``thighs/chirp`` (a one-joint group is named by its joint)."""
    kind: str
    """``chirp``, ``steps`` or ``random``."""
    joints: list[str]
    """The joints that move."""
    amplitude: float
    """Peak offset [rad] (after ``amplitude_scale``)."""
    start: int
    stop: int


@dataclass
class ExcitationPlan:
    """Position targets of the excited joints at the control rate, and what every joint holds."""

    joint_names: list[str]
    """Excited (and logged) joints, in the Go2's joint order."""
    dt: float
    """Control period [s]: target ``k`` holds from ``k * dt`` to ``(k + 1) * dt``."""
    q_target: np.ndarray
    """Targets [rad], shape (N, J)."""
    segment: np.ndarray
    """Segment index of each row (into :attr:`segments`), -1 while holding the nominal pose; shape (N,)."""
    segments: list[Segment]
    """The segments, in time order."""
    hold: dict[str, float]
    """Nominal position [rad] of every Go2 leg joint (the joints outside the plan hold it)."""
    kp: dict[str, float]
    """PD stiffness [N·m/rad] of every Go2 leg joint."""
    kd: dict[str, float]
    """PD damping [N·m·s/rad] of every Go2 leg joint."""
    limits: dict[str, tuple[float, float]]
    """Range [rad] every target of each excited joint stays in (joint limits less ``limit_margin``)."""

    @property
    def num_steps(self) -> int:
        """Number of control steps N."""
        return int(self.q_target.shape[0])

    @property
    def duration(self) -> float:
        """Length of the session [s]."""
        return self.num_steps * self.dt

    def index_at(self, t: float) -> int:
        """Row of the target in force at time ``t`` [s] (the last one after the end)."""
        return min(max(int(np.floor(t / self.dt + 1e-9)), 0), self.num_steps - 1)

    def all_targets(self, k: int) -> dict[str, float]:
        """Target [rad] of every Go2 leg joint at row ``k``: the plan's for excited joints, nominal for the rest."""
        out = dict(self.hold)
        out.update(zip(self.joint_names, map(float, self.q_target[k]), strict=True))
        return out

    def summary(self) -> dict:
        """Duration, segments and per-joint target ranges and peak command speed (for the session record)."""
        steps_ = np.abs(np.diff(self.q_target, axis=0))
        speed = steps_.max(axis=0) / self.dt if self.num_steps > 1 else np.zeros(len(self.joint_names))
        return {
            "duration_s": self.duration,
            "control_hz": 1.0 / self.dt,
            "segments": [asdict(s) | {"start_s": s.start * self.dt, "stop_s": s.stop * self.dt} for s in self.segments],
            "joints": {
                name: {
                    "nominal": self.hold[name],
                    "target_min": float(self.q_target[:, j].min()),
                    "target_max": float(self.q_target[:, j].max()),
                    "limits_with_margin": list(self.limits[name]),
                    "peak_command_speed": float(speed[j]),
                    "kp": self.kp[name],
                    "kd": self.kd[name],
                }
                for j, name in enumerate(self.joint_names)
            },
        }


def joint_range(joint: str, margin: float, limits: dict | None = None) -> tuple[float, float]:
    """Joint limits of ``joint`` less ``margin`` [rad] at both ends (``limits`` default: the Go2's)."""
    lower, upper = (limits or GO2_POSITION_LIMITS)[joint]
    return lower + margin, upper - margin


def _check_fit(joint: str, nominal: float, amplitude: float, lo: float, hi: float, cfg: ExcitationCfg) -> None:
    """Refuse an amplitude (or nominal position) that does not fit inside the joint limits with the margin."""
    if not lo <= nominal <= hi:
        raise UserInputError(
            f"ExcitationCfg.nominal: {joint} at {nominal:g} rad is outside its limits less limit_margin "
            f"{cfg.limit_margin:g} rad, [{lo:.4g}, {hi:.4g}] rad; expected a nominal position inside them."
        )
    if nominal - amplitude < lo - 1e-12 or nominal + amplitude > hi + 1e-12:
        fits = min(nominal - lo, hi - nominal)
        part = joint_part(joint)
        raise UserInputError(
            f"ExcitationCfg.amplitude.{part}: {amplitude:g} rad around {joint}'s nominal {nominal:g} rad needs "
            f"[{nominal - amplitude:.4g}, {nominal + amplitude:.4g}] rad, but its limits less limit_margin "
            f"{cfg.limit_margin:g} rad are [{lo:.4g}, {hi:.4g}] rad; expected an amplitude (times amplitude_scale) "
            f"of at most {fits:.4g} rad for this joint."
        )


def _offsets(kind: str, cfg: ExcitationCfg, amplitude: float, seed: int) -> np.ndarray:
    """The offsets [rad] of one segment at the control rate, ramped in and out."""
    rate = cfg.control_hz
    duration = {"chirp": cfg.chirp_duration_s, "steps": cfg.steps_duration_s, "random": cfg.random_duration_s}[kind]
    t = np.arange(max(round(duration * rate), 2)) / rate
    if kind == "chirp":
        x = chirp(t, duration, cfg.chirp_f0_hz, cfg.chirp_f1_hz, amplitude, cfg.max_command_speed, cfg.chirp_sweep)
    elif kind == "steps":
        x = steps(t, cfg.step_hold_s, amplitude * cfg.step_fraction, seed)
    else:
        x = random_targets(t, rate, cfg.random_bandwidth_hz, amplitude, cfg.max_command_speed, seed)
    return x * envelope(t, duration, cfg.ramp_s)


def build_plan(cfg: ExcitationCfg, limits: dict[str, tuple[float, float]] | None = None) -> ExcitationPlan:
    """The targets of a session (see :class:`~learned_actuators.excitation.plan_cfg.ExcitationCfg`).

    Args:
        cfg: The session's settings (validated here).
        limits: Joint position limits [rad] by joint name (default :data:`~learned_actuators.excitation.go2.
            GO2_POSITION_LIMITS`; the simulator backend passes the simulated robot's).

    Raises:
        UserInputError: a field out of range, an amplitude above the safe one, or one that does not fit inside the
            joint limits less ``limit_margin`` (the message says how much fits).
    """
    cfg.validate()
    groups = resolve_groups(cfg.groups)
    hold = {j: float(cfg.nominal.get(j, GO2_NOMINAL_POSE[j])) for j in GO2_JOINT_NAMES}
    joints = [j for j in GO2_JOINT_NAMES if any(j in g for g in groups)]
    ranges = {j: joint_range(j, cfg.limit_margin, limits) for j in joints}
    amplitude = {j: cfg.amplitude[joint_part(j)] * cfg.amplitude_scale for j in joints}
    for j in joints:
        _check_fit(j, hold[j], amplitude[j], *ranges[j], cfg)
    settle = np.full((round(cfg.settle_s * cfg.control_hz), len(joints)), [hold[j] for j in joints])
    blocks, labels, segments = [settle], [np.full(len(settle), -1)], []
    row = len(settle)
    for gi, group in enumerate(groups):
        for si, kind in enumerate(cfg.signals):
            amp = amplitude[group[0]]
            x = _offsets(kind, cfg, amp, seed=cfg.seed * 1000 + gi * 10 + si)
            block = np.tile([hold[j] for j in joints], (len(x), 1))
            cols = [joints.index(j) for j in group]
            block[:, cols] += x[:, None]
            name = f"{cfg.groups[gi]}/{kind}"
            segments.append(Segment(name, kind, list(group), amp, row, row + len(x)))
            blocks.append(block)
            labels.append(np.full(len(x), len(segments) - 1))
            row += len(x)
    blocks.append(settle)
    labels.append(np.full(len(settle), -1))
    q_target = np.concatenate(blocks)
    lo, hi = np.array([ranges[j][0] for j in joints]), np.array([ranges[j][1] for j in joints])
    q_target = np.clip(q_target, lo, hi)
    if not np.isfinite(q_target).all():  # a guard: no NaN target ever reaches a motor or the solver
        raise UserInputError("ExcitationCfg: the plan has non-finite targets; check the amplitudes and rates.")
    kp, kd = per_part(cfg, "kp"), per_part(cfg, "kd")
    return ExcitationPlan(
        joint_names=joints,
        dt=1.0 / cfg.control_hz,
        q_target=q_target,
        segment=np.concatenate(labels),
        segments=segments,
        hold=hold,
        kp={j: kp[joint_part(j)] for j in GO2_JOINT_NAMES},
        kd={j: kd[joint_part(j)] for j in GO2_JOINT_NAMES},
        limits=ranges,
    )
