"""The robot side for the robot backend's tests: a Go2 whose 12 motors are PD servos on simple loads.

Stands in for Unitree's LowCmd/LowState transport (the :class:`~learned_actuators.excitation.robot_backend.
LowLevelChannel` methods) and for the wall clock: ``sleep`` advances simulated time, integrating every motor
(``I q'' = kp (q* - q) + kd (dq* - dq) + tau_ff - b dq``) at 1 kHz and publishing a new state every 2 ms. Faults
(a bad reading, a frozen state stream, Ctrl-C, a failing send) are injected at chosen times.
"""

from __future__ import annotations

import numpy as np

from learned_actuators.excitation.go2 import GO2_NOMINAL_POSE, GO2_UNITREE_MOTOR_ORDER
from learned_actuators.excitation.robot_backend import MotorState

HANGING_POSE = np.array([GO2_NOMINAL_POSE[j] + 0.05 for j in GO2_UNITREE_MOTOR_ORDER])
"""Where the fake robot's legs start (near the nominal pose, as a hung robot might be)."""


class FakeGo2:
    def __init__(self, q0: np.ndarray = HANGING_POSE, inertia: float = 0.02, friction: float = 0.1):
        self.now = 0.0
        self.q = np.array(q0, dtype=float)
        self.dq = np.zeros(12)
        self.tau = np.zeros(12)
        self.inertia, self.friction = inertia, friction
        self.command = None  # (q, dq, kp, kd, tau) in force
        self.sent: list[tuple[float, tuple[np.ndarray, ...]]] = []
        self.reads: list[MotorState] = []
        self.seq = 0
        self._next_publish = 0.0
        self.started = True
        self.reading_fault = None  # (time, function(state) -> state)
        self.freeze_at = None  # time after which no new state is published
        self.interrupt_at = None  # time from which read() raises KeyboardInterrupt (once)
        self.send_fails_at = None  # time from which send() raises OSError
        self.oversleep = None  # (time, seconds): one sleep overshoots by that much
        self.closed = False

    # ---- clock -----------------------------------------------------------------------------------------------
    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if self.oversleep is not None and self.now >= self.oversleep[0]:
            seconds += self.oversleep[1]
            self.oversleep = None
        end = self.now + max(seconds, 0.0)
        while self.now < end - 1e-12:
            h = min(1e-3, end - self.now)
            self._integrate(h)
            self.now += h
            if self.now >= self._next_publish - 1e-12 and (self.freeze_at is None or self.now < self.freeze_at):
                self.seq += 1
                self._next_publish += 2e-3
        self.now = max(self.now, end)

    def _integrate(self, h: float) -> None:
        if self.command is None:
            self.tau = np.zeros(12)
        else:
            q_cmd, dq_cmd, kp, kd, tau_ff = self.command
            self.tau = kp * (q_cmd - self.q) + kd * (dq_cmd - self.dq) + tau_ff
        acc = (self.tau - self.friction * self.dq) / self.inertia
        self.dq = self.dq + h * acc
        self.q = self.q + h * self.dq

    # ---- channel ---------------------------------------------------------------------------------------------
    def read(self) -> MotorState | None:
        if self.interrupt_at is not None and self.now >= self.interrupt_at:
            self.interrupt_at = None
            raise KeyboardInterrupt
        if not self.started or self.seq == 0:
            return None
        state = MotorState(self.q.copy(), self.dq.copy(), self.tau.copy(), self.seq)
        if self.reading_fault is not None and self.now >= self.reading_fault[0]:
            state = self.reading_fault[1](state)
        self.reads.append(state)
        return state

    def send(self, q, dq, kp, kd, tau) -> None:
        if self.send_fails_at is not None and self.now >= self.send_fails_at:
            raise OSError("network unreachable")
        cmd = tuple(np.array(x, dtype=float) for x in (q, dq, kp, kd, tau))
        self.command = cmd
        self.sent.append((self.now, cmd))

    def close(self) -> None:
        self.closed = True

    # ---- what the tests look at --------------------------------------------------------------------------------
    def sent_after(self, t: float) -> list[tuple[np.ndarray, ...]]:
        return [cmd for when, cmd in self.sent if when >= t]
