"""Settings of an excitation session on a suspended Go2 (:class:`ExcitationCfg`, built by :mod:`.plan`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from ..errors import UserInputError
from .go2 import GO2_JOINT_NAMES, GO2_SAFE_AMPLITUDE, GO2_TASK_GAINS, PARTS, resolve_groups

__all__ = ["SIGNALS", "ExcitationCfg"]

SIGNALS = ("chirp", "steps", "random")
"""Signal kinds, in the order a group runs them by default."""


@dataclass
class ExcitationCfg:
    """What to excite, how hard and at which gains (:func:`~learned_actuators.excitation.plan.build_plan`).

    A session holds the nominal pose for ``settle_s``, then runs every signal of ``signals`` on every group of
    ``groups`` in turn (group by group; the joints of a group get the same offset from their nominal position, so
    the four legs move in parallel), each segment ramped in from and out to the nominal pose, then holds again.
    Joints outside the moving group hold their nominal position at the same gains.
    """

    groups: list[str] = field(default_factory=lambda: ["hips", "thighs", "calves"])
    """Joint groups, excited one after the other: ``hips``, ``thighs``, ``calves`` or single Go2 joint names
    (e.g. ``FL_calf_joint``). Only the joints of these groups are logged."""
    signals: list[Literal["chirp", "steps", "random"]] = field(default_factory=lambda: list(SIGNALS))
    """Signals run on each group, in this order."""
    control_hz: float = 50.0
    """Rate [Hz] at which a new position target is computed and held (zero-order hold), as a policy would: the Go2
    task's policy rate (physics 200 Hz, decimation 4)."""
    kp: float | dict[str, float] = GO2_TASK_GAINS[0]
    """PD stiffness [N·m/rad] sent with every target: one number or one per part (``hip``/``thigh``/``calf``).
    Default: the Go2 task's DC-motor gain (the gain its policy runs at)."""
    kd: float | dict[str, float] = GO2_TASK_GAINS[1]
    """PD damping [N·m·s/rad], like ``kp``. Default: the Go2 task's."""
    amplitude: dict[str, float] = field(default_factory=lambda: {"hip": 0.2, "thigh": 0.4, "calf": 0.4})
    """Peak offset [rad] from the nominal position per part, at most :data:`~learned_actuators.excitation.go2.
    GO2_SAFE_AMPLITUDE` (hip 0.4, thigh 0.8, calf 0.6) and such that nominal ± amplitude stays ``limit_margin``
    inside the joint limits (else an error says how much fits)."""
    amplitude_scale: float = 1.0
    """Factor on every amplitude (e.g. 0.25 for the first run on a real robot)."""
    nominal: dict[str, float] = field(default_factory=dict)
    """Nominal positions [rad] by joint name overriding the Go2's standing pose (the task's default joint pos)."""
    limit_margin: float = 0.1
    """Distance [rad] every target keeps from the joint limits; targets are clipped to it as a last guard."""
    ramp_s: float = 0.5
    """Raised-cosine ramp [s] at the start and end of each segment (from and back to the nominal pose)."""
    settle_s: float = 1.0
    """Hold [s] at the nominal pose before the first and after the last segment."""
    chirp_duration_s: float = 10.0
    """Length [s] of a chirp segment."""
    chirp_f0_hz: float = 0.2
    """Start frequency [Hz] of the chirp."""
    chirp_f1_hz: float = 4.0
    """End frequency [Hz] of the chirp (below half of ``control_hz``)."""
    chirp_sweep: Literal["log", "linear"] = "log"
    """Frequency sweep: ``log`` (equal time per octave) or ``linear``."""
    steps_duration_s: float = 6.0
    """Length [s] of a steps segment."""
    step_hold_s: float = 0.75
    """Time [s] each step level is held."""
    step_fraction: float = 0.5
    """Step levels are ±¼, ±½, ±1 times ``step_fraction`` × amplitude (a step of the full amplitude is harsh)."""
    random_duration_s: float = 10.0
    """Length [s] of a random-targets segment."""
    random_bandwidth_hz: float = 2.0
    """Cut-off [Hz] of the low-pass filter smoothing the random targets."""
    max_command_speed: float = 6.0
    """Largest commanded speed [rad/s] of chirps and random targets (the chirp's amplitude falls as 1/f above
    it; steps are steps)."""
    seed: int = 0
    """Seed of the step order and the random targets: the same seed gives the same session."""

    def validate(self) -> None:
        """Check every field (types, ranges, names); errors name ``ExcitationCfg.<field>`` and what is expected."""
        resolve_groups(self.groups)
        bad = [s for s in self.signals if s not in SIGNALS]
        if not self.signals or bad:
            raise UserInputError(f"ExcitationCfg.signals={self.signals!r}: expected a non-empty list from {SIGNALS}.")
        positive = ("control_hz", "chirp_duration_s", "chirp_f0_hz", "chirp_f1_hz", "steps_duration_s")
        positive += ("step_hold_s", "random_duration_s", "random_bandwidth_hz", "max_command_speed")
        positive += ("amplitude_scale", "step_fraction")
        for name in positive:
            _check_number(name, getattr(self, name), lambda v: v > 0, "a number > 0")
        for name in ("limit_margin", "ramp_s", "settle_s"):
            _check_number(name, getattr(self, name), lambda v: v >= 0, "a number >= 0")
        _check_number("step_fraction", self.step_fraction, lambda v: v <= 1, "a number in (0, 1]")
        if self.chirp_f1_hz >= 0.5 * self.control_hz:
            raise UserInputError(
                f"ExcitationCfg.chirp_f1_hz={self.chirp_f1_hz:g}: expected below half the control rate "
                f"(control_hz={self.control_hz:g} Hz: < {0.5 * self.control_hz:g} Hz)."
            )
        if self.chirp_sweep not in ("log", "linear"):
            raise UserInputError(f"ExcitationCfg.chirp_sweep={self.chirp_sweep!r}: expected 'log' or 'linear'.")
        for name in ("kp", "kd"):
            per_part(self, name)
        self._check_amplitudes()
        unknown = sorted(set(self.nominal) - set(GO2_JOINT_NAMES))
        if unknown:
            raise UserInputError(f"ExcitationCfg.nominal has {unknown}; expected Go2 joint names {GO2_JOINT_NAMES}.")
        for joint, value in self.nominal.items():
            _check_number(f"nominal.{joint}", value, lambda v: True, "a number [rad]")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise UserInputError(f"ExcitationCfg.seed={self.seed!r}: expected an integer.")

    def _check_amplitudes(self) -> None:
        if not isinstance(self.amplitude, dict) or set(self.amplitude) - set(PARTS):
            raise UserInputError(
                f"ExcitationCfg.amplitude={self.amplitude!r}: expected an object with keys from {PARTS} [rad]."
            )
        for part in PARTS:
            value = self.amplitude.get(part)
            if value is None:
                raise UserInputError(f"ExcitationCfg.amplitude lacks '{part}'; expected one amplitude per part.")
            _check_number(f"amplitude.{part}", value, lambda v: v >= 0, "a number >= 0 [rad]")
            scaled = value * self.amplitude_scale
            if scaled > GO2_SAFE_AMPLITUDE[part] + 1e-12:
                raise UserInputError(
                    f"ExcitationCfg.amplitude.{part}={value:g} rad (x amplitude_scale {self.amplitude_scale:g} = "
                    f"{scaled:g} rad) is above the safe amplitude of a suspended Go2's {part} joints, "
                    f"{GO2_SAFE_AMPLITUDE[part]:g} rad; expected at most that."
                )


def _check_number(name: str, value, ok, expected: str) -> None:
    number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not number or not ok(value):
        raise UserInputError(f"ExcitationCfg.{name}={value!r}: expected {expected}.")


def per_part(cfg: ExcitationCfg, name: str) -> dict[str, float]:
    """``cfg.kp`` or ``cfg.kd`` as one value per part (``hip``, ``thigh``, ``calf``), checked (>= 0)."""
    value = getattr(cfg, name)
    values = dict.fromkeys(PARTS, value) if not isinstance(value, dict) else dict(value)
    if set(values) != set(PARTS):
        raise UserInputError(f"ExcitationCfg.{name}={value!r}: expected a number or an object with keys {list(PARTS)}.")
    for part, v in values.items():
        _check_number(f"{name}.{part}" if isinstance(value, dict) else name, v, lambda x: x >= 0, "a number >= 0")
    return {p: float(v) for p, v in values.items()}
