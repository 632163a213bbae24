"""Real-robot backend: run a plan on a suspended Go2 over a low-level channel, with soft limits and a damping stop.

The loop is independent of the transport: it talks to a :class:`LowLevelChannel` (:class:`~learned_actuators.
excitation.unitree_sdk.UnitreeSdkChannel` on a robot; any object with the same three methods in a test). At a fixed
rate (``rate_hz``, default 500 Hz) every cycle

1. reads the newest motor state (q, dq, tau_est of the 12 leg motors, Unitree's motor order) and checks it: finite,
   every joint ``position_margin`` inside its limits, ``|dq|`` and ``|tau_est|`` under the per-part maxima, a new
   state within ``state_timeout_s``, the cycle not late by more than ``max_cycle_delay_s``;
2. sends the target: first a smooth move from the measured pose to the nominal pose (``approach_s``), then the
   plan's target in force (held between plan steps), with the plan's kp/kd, dq = 0 and tau = 0.

Any failed check, Ctrl-C (KeyboardInterrupt) or error (in the channel, say) stops the excitation: the motors get
damping commands (kp = 0, kd = ``damping_kd``) for ``damping_s``, and the rows logged so far are returned with the
reason in ``info["stop_reason"]``. Row k of the log holds the state read at cycle k, the command sent at cycle k and the
``tau_est`` read at cycle k + 1 (the motor's response to that command); the last row, which has no response,
is dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import NamedTuple, Protocol

import numpy as np

from ..errors import UserInputError
from .go2 import GO2_POSITION_LIMITS, GO2_UNITREE_MOTOR_ORDER, PARTS, joint_part
from .plan import ExcitationPlan
from .record import ExcitationRecord, Recorder

__all__ = [
    "LowLevelChannel",
    "MotorState",
    "RobotBackendCfg",
    "RobotSafetyError",
    "SoftLimits",
    "check_robot_cfg",
    "check_state",
    "needs_resampling",
    "run_robot_excitation",
]

logger = logging.getLogger(__name__)


class RobotSafetyError(UserInputError):
    """The robot is not in a state to start from (no state received, or a joint outside its soft limits)."""


class MotorState(NamedTuple):
    """Newest state of the 12 leg motors, in Unitree's motor order (:data:`GO2_UNITREE_MOTOR_ORDER`)."""

    q: np.ndarray
    """Positions [rad], shape (12,)."""
    dq: np.ndarray
    """Velocities [rad/s]."""
    tau_est: np.ndarray
    """The motors' torque estimates [N·m]."""
    seq: int
    """Increases with every state received (staleness check)."""


class LowLevelChannel(Protocol):
    """The robot side: the newest motor state, and one command for the 12 leg motors (Unitree's order)."""

    def read(self) -> MotorState | None:
        """The newest state, or None before the first one arrived."""

    def send(self, q: np.ndarray, dq: np.ndarray, kp: np.ndarray, kd: np.ndarray, tau: np.ndarray) -> None:
        """Send one command (arrays of shape (12,))."""

    def close(self) -> None:
        """Release the connection."""


@dataclass
class SoftLimits:
    """Limits that stop the excitation (damping mode) when the measured state leaves them."""

    position_margin: float = 0.05
    """Every joint must stay this far [rad] inside its joint limits (the plan keeps ``limit_margin``, 0.1 rad)."""
    max_velocity: dict[str, float] = field(default_factory=lambda: {"hip": 15.0, "thigh": 15.0, "calf": 12.0})
    """Largest ``|dq|`` [rad/s] per part (no-load speeds: 30.1, 30.1, 15.7 rad/s)."""
    max_torque: dict[str, float] = field(default_factory=lambda: {"hip": 15.0, "thigh": 15.0, "calf": 25.0})
    """Largest ``|tau_est|`` [N·m] per part (stall torques: 23.7, 23.7, 45.4 N·m)."""
    state_timeout_s: float = 0.05
    """Longest time [s] without a new motor state."""
    max_cycle_delay_s: float = 0.05
    """Longest delay [s] of a control cycle behind its schedule (a stalled loop)."""


@dataclass
class RobotBackendCfg:
    """How the real robot is driven (see the module docstring)."""

    network_interface: str = "eth0"
    """Network interface connected to the robot (Unitree's SDK; e.g. ``eth0``, ``enp3s0``)."""
    domain_id: int = 0
    """DDS domain id (0 on the robot; 1 for Unitree's MuJoCo simulator)."""
    rate_hz: float = 500.0
    """Command and logging rate [Hz] (a multiple of the plan's control rate is best)."""
    approach_s: float = 3.0
    """Time [s] to move from the measured pose to the nominal pose before the plan starts."""
    startup_timeout_s: float = 2.0
    """Longest wait [s] for the first motor state."""
    damping_kd: float = 1.0
    """kd [N·m·s/rad] of the damping commands sent when the excitation stops (kp = 0)."""
    damping_s: float = 1.0
    """Time [s] the damping commands are sent for before the connection is closed."""
    limits: SoftLimits = field(default_factory=SoftLimits)
    """Soft limits that stop the excitation."""


def check_robot_cfg(cfg: RobotBackendCfg) -> None:
    """Refuse settings that cannot run safely; errors name ``RobotBackendCfg.<field>``."""
    positive = {"rate_hz": cfg.rate_hz, "approach_s": cfg.approach_s, "startup_timeout_s": cfg.startup_timeout_s}
    positive |= {f"limits.{k}": getattr(cfg.limits, k) for k in ("state_timeout_s", "max_cycle_delay_s")}
    positive |= {f"limits.max_velocity.{p}": v for p, v in cfg.limits.max_velocity.items()}
    positive |= {f"limits.max_torque.{p}": v for p, v in cfg.limits.max_torque.items()}
    for name, value in positive.items():
        if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
            raise UserInputError(f"RobotBackendCfg.{name}={value!r}: expected a number > 0.")
    for name, value in (("damping_kd", cfg.damping_kd), ("damping_s", cfg.damping_s)):
        if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
            raise UserInputError(f"RobotBackendCfg.{name}={value!r}: expected a number >= 0.")
    if not 0 <= cfg.limits.position_margin < 0.5:
        raise UserInputError(
            f"RobotBackendCfg.limits.position_margin={cfg.limits.position_margin!r}: expected 0 to 0.5 rad."
        )
    for name in ("max_velocity", "max_torque"):
        if set(getattr(cfg.limits, name)) != set(PARTS):
            raise UserInputError(f"RobotBackendCfg.limits.{name}: expected one value for each of {list(PARTS)}.")


def check_state(q: np.ndarray, dq: np.ndarray, tau: np.ndarray, limits: SoftLimits) -> str | None:
    """Why a motor state (Unitree's order, (12,) each) violates the soft limits, or None when it is fine."""
    for name, values in (("q", q), ("dq", dq), ("tau_est", tau)):
        if not np.isfinite(values).all():
            return f"non-finite {name} from motor(s) {np.flatnonzero(~np.isfinite(values)).tolist()}"
    for i, joint in enumerate(GO2_UNITREE_MOTOR_ORDER):
        part = joint_part(joint)
        lo, hi = GO2_POSITION_LIMITS[joint]
        lo, hi = lo + limits.position_margin, hi - limits.position_margin
        if not lo <= q[i] <= hi:
            return f"{joint} position {q[i]:.4g} rad outside its soft limits [{lo:.4g}, {hi:.4g}] rad"
        if abs(dq[i]) > limits.max_velocity[part]:
            return f"{joint} speed {dq[i]:.4g} rad/s beyond SoftLimits.max_velocity {limits.max_velocity[part]:g}"
        if abs(tau[i]) > limits.max_torque[part]:
            return f"{joint} torque estimate {tau[i]:.4g} N·m beyond SoftLimits.max_torque {limits.max_torque[part]:g}"
    return None


def needs_resampling(t: np.ndarray, tolerance: float = 0.2, share: float = 0.02) -> bool:
    """Whether measured time stamps are irregular enough that the readers should resample them (``resample_hz``).

    True when more than ``share`` of the steps deviate from the median step by more than ``tolerance`` (relative),
    a stricter test than the readers' own (25 %, 5 %).
    """
    dt = np.diff(np.asarray(t, dtype=np.float64))
    if dt.size < 2:
        return False
    med = float(np.median(dt))
    return bool(np.mean(np.abs(dt - med) > tolerance * med) > share)


def _wait_first_state(channel: LowLevelChannel, cfg: RobotBackendCfg, clock, sleep) -> MotorState:
    deadline = clock() + cfg.startup_timeout_s
    while (state := channel.read()) is None:
        if clock() > deadline:
            raise RobotSafetyError(
                f"no motor state within RobotBackendCfg.startup_timeout_s={cfg.startup_timeout_s:g} s on "
                f"interface {cfg.network_interface!r}: is the robot on, the interface right (--interface), and "
                "Unitree's sport mode released (low-level control)?"
            )
        sleep(0.005)
    why = check_state(state.q, state.dq, state.tau_est, cfg.limits)
    if why is not None:
        raise RobotSafetyError(
            f"not starting: {why}. Bring the legs inside their soft limits by hand (robot hanging, motors off) "
            "or change SoftLimits; nothing was sent."
        )
    return state


class _Commands:
    """Per-motor arrays (Unitree's order) of a plan: gains, hold pose, and the plan joints' motor indices."""

    def __init__(self, plan: ExcitationPlan):
        order = GO2_UNITREE_MOTOR_ORDER
        self.kp = np.array([plan.kp[j] for j in order])
        self.kd = np.array([plan.kd[j] for j in order])
        self.hold = np.array([plan.hold[j] for j in order])
        self.idx = np.array([order.index(j) for j in plan.joint_names])
        self.zeros = np.zeros(len(order))

    def target(self, plan: ExcitationPlan, start_q: np.ndarray, t: float, approach_s: float) -> tuple[np.ndarray, int]:
        """Targets of all motors at ``t`` [s] from the start, and the plan segment (-1 while approaching/holding)."""
        if t < approach_s:
            x = t / approach_s
            s = x * x * (3.0 - 2.0 * x)  # smoothstep: zero speed at both ends
            return start_q + s * (self.hold - start_q), -1
        k = plan.index_at(t - approach_s)
        q = self.hold.copy()
        q[self.idx] = plan.q_target[k]
        return q, int(plan.segment[k])


def _damp(channel: LowLevelChannel, cfg: RobotBackendCfg, cmds: _Commands, clock, sleep) -> str | None:
    """Send damping commands for ``damping_s``; returns an error text if sending failed."""
    kd = np.full_like(cmds.kd, cfg.damping_kd)
    end, period = clock() + cfg.damping_s, 1.0 / cfg.rate_hz
    try:
        while True:
            channel.send(cmds.zeros, cmds.zeros, cmds.zeros, kd, cmds.zeros)
            if clock() >= end:
                return None
            sleep(period)
    except Exception as err:  # reported in the record; the log must still be written
        logger.error("damping commands failed: %s", err)
        return f"{type(err).__name__}: {err}"


def run_robot_excitation(
    plan: ExcitationPlan,
    cfg: RobotBackendCfg,
    channel: LowLevelChannel,
    clock: Callable[[], float] = time.perf_counter,
    sleep: Callable[[float], None] = time.sleep,
) -> ExcitationRecord:
    """Run ``plan`` on the robot behind ``channel`` (see the module docstring); returns what was logged.

    Raises:
        UserInputError: a setting out of range (nothing is sent then).
        RobotSafetyError: no first state within ``startup_timeout_s``, or a joint outside its soft limits at the
            start (nothing is sent then).
    """
    check_robot_cfg(cfg)
    cmds = _Commands(plan)
    first = _wait_first_state(channel, cfg, clock, sleep)
    period = 1.0 / cfg.rate_hz
    total = round((cfg.approach_s + plan.duration) * cfg.rate_hz)
    rec = Recorder(plan.joint_names, total)
    state = {"reason": "completed", "pending": False}
    try:
        _loop(plan, cfg, channel, cmds, first, rec, state, clock, sleep, period, total)
    except KeyboardInterrupt:
        state["reason"] = "interrupted (Ctrl-C)"
    except Exception as err:  # stop safely and keep the log; the reason names the error
        logger.exception("excitation loop failed")
        state["reason"] = f"error: {type(err).__name__}: {err}"
    finally:
        damping_error = _damp(channel, cfg, cmds, clock, sleep)
    if state["reason"] != "completed":
        logger.warning("excitation stopped: %s (damping mode)", state["reason"])
    info = {
        "backend": "robot",
        "actuator": "Unitree Go2 motors",
        "stop_reason": state["reason"],
        "damping_error": damping_error,
        "robot": asdict(cfg),
    }
    return rec.finish(info, drop_last=1 if state["pending"] else 0)


def _loop(plan, cfg, channel, cmds, first, rec, state, clock, sleep, period, total) -> None:
    start, last_seq = clock(), first.seq
    last_new = start
    for n in range(total):
        scheduled = start + n * period
        while (now := clock()) < scheduled - 1e-6:  # sleep until the cycle's time (within a microsecond)
            sleep(min(scheduled - now, period))
        if now - scheduled > cfg.limits.max_cycle_delay_s:
            state["reason"] = f"control loop late by {1e3 * (now - scheduled):.0f} ms at cycle {n}"
            return
        s = channel.read()
        if s is None:
            state["reason"] = "the motor state stream was lost"
            return
        if s.seq != last_seq:
            last_seq, last_new = s.seq, now
        elif now - last_new > cfg.limits.state_timeout_s:
            state["reason"] = f"no new motor state for {1e3 * (now - last_new):.0f} ms"
            return
        if state["pending"]:
            rec.set_last("tau", s.tau_est[cmds.idx])
            state["pending"] = False
        why = check_state(s.q, s.dq, s.tau_est, cfg.limits)
        if why is not None:
            state["reason"] = why
            return
        q_cmd, segment = cmds.target(plan, first.q, n * period, cfg.approach_s)
        channel.send(q_cmd, cmds.zeros, cmds.kp, cmds.kd, cmds.zeros)
        i = cmds.idx
        row = {"q": s.q[i], "qd": s.dq[i], "tau": cmds.zeros[i], "q_target": q_cmd[i]}
        rec.append(now, segment, kp=cmds.kp[i], kd=cmds.kd[i], tau_ff=cmds.zeros[i], **row)
        state["pending"] = True
