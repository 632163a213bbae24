"""Ranges of the per-env actuator randomisation (:mod:`.randomization`), checked before anything is drawn."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from isaaclab.utils import configclass

from ..errors import UserInputError

__all__ = ["ActuatorRandomizationCfg"]

_SCALES = ("kp_scale_range", "kd_scale_range", "torque_scale_range")


@configclass
class ActuatorRandomizationCfg:
    """Ranges ``(low, high)`` of the per-env, per-joint actuator randomisation (uniform; ``None``: off)."""

    kp_scale_range: tuple[float, float] | None = None
    """Factor on the GRU-PD prior's stiffness ``kp`` (positive). GRU-PD only: the LSTM/MLP nets have no prior."""

    kd_scale_range: tuple[float, float] | None = None
    """Factor on the GRU-PD prior's damping ``kd`` (positive). GRU-PD only."""

    torque_scale_range: tuple[float, float] | None = None
    """Motor strength: factor on the actuator's clipped torque (positive)."""

    friction_range: tuple[float, float] | None = None
    """Extra Coulomb friction ``f`` [N·m] of the term ``-f tanh(qd / friction_velocity)`` (non-negative)."""

    friction_velocity: float = 0.05
    """Velocity ``v_c`` [rad/s] of that term's tanh (as :class:`~learned_actuators.physics.PhysicsParams`)."""

    delay_range: tuple[int, int] | None = None
    """Input delay of the position targets in physics steps, integers ``0 <= low <= high`` (both included)."""

    ensemble_member: bool = False
    """Per-env sampling of an ensemble member: each env's GRU-PD applies the torque of one member of an ensemble
    network file (:mod:`learned_actuators.learning.ensemble`), drawn uniformly at reset, instead of the members' mean,
    so the policy trains against the model's own uncertainty. Needs an ensemble file; runs on Isaac Lab's Python
    actuator path and on the native drive's CPU (torch) backend; the native drive's Warp kernels (CUDA) refuse it."""

    def check(self) -> None:
        """Raise :class:`UserInputError` naming the field for a value the randomisation cannot run with."""
        where = "ActuatorRandomizationCfg"
        for name in (*_SCALES, "friction_range", "delay_range"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, Sequence) or len(value) != 2 or any(isinstance(v, bool) for v in value):
                raise UserInputError(f"{where}: field '{name}' must be None or a (low, high) pair; got {value!r}.")
            low, high = value
            if name == "delay_range":
                ok = all(isinstance(v, int | np.integer) for v in value) and 0 <= low <= high
                rule = "integers with 0 <= low <= high (physics steps)"
            else:
                ok = all(isinstance(v, int | float) and math.isfinite(v) for v in value) and low <= high
                ok = ok and (low >= 0 if name == "friction_range" else low > 0)
                rule = "finite numbers with 0 <= low <= high" if name == "friction_range" else "0 < low <= high"
            if not ok:
                raise UserInputError(f"{where}: field '{name}' must be {rule}; got {value!r}.")
        if not (isinstance(self.friction_velocity, int | float) and self.friction_velocity > 0):
            raise UserInputError(
                f"{where}: field 'friction_velocity' must be a positive number [rad/s]; got {self.friction_velocity!r}."
            )
        if not isinstance(self.ensemble_member, bool):
            raise UserInputError(
                f"{where}: field 'ensemble_member' must be True or False; got {self.ensemble_member!r}."
            )
