"""Load-time check that a network file's gains and stall torque fit the robot's motor limits.

A GRU-PD file carries the PD gains and the stall torque it was trained with (metadata ``physics``). Used on a robot
whose motors are an order of magnitude stronger or weaker (e.g. a servo net from a small test bench on the Go2:
kp 0.53 N·m/rad and a 0.39 N·m stall against 23.7 N·m motors), the actuator runs but its joints never leave the
file's torque scale, silently. :func:`check_network_scale` compares, per joint:

* the file's ``physics.stall_torque`` with the cfg's ``saturation_effort`` (stall torque) [N·m];
* the file's ``physics.kp`` times one radian (the PD torque at a 1 rad error) with the same stall torque.

A ratio of :data:`SCALE_FACTOR` (10) or more either way is reported according to the cfg's ``scale_check``:
``"warn"`` (default) logs a warning naming the file, the field and the values; ``"raise"`` raises
:class:`~learned_actuators.actuators.ActuatorCfgError`; ``"ignore"`` accepts the file silently. Both execution paths
run it: the Python actuator classes when they load the file, the Newton-native GRU-PD drive through the same class,
which Isaac Lab's prim authoring builds to resolve the cfg (:mod:`learned_actuators.actuators.isaaclab_native`).
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Sequence

logger = logging.getLogger(__name__)

__all__ = ["SCALE_CHECK_OPTIONS", "SCALE_FACTOR", "check_network_scale", "scale_mismatches"]

SCALE_FACTOR = 10.0
"""A file value this many times above or below the robot's stall torque is reported."""

SCALE_CHECK_OPTIONS = ("warn", "raise", "ignore")
"""Values of the actuator cfg's ``scale_check``."""


def _number(value) -> float | None:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    return float(value) if ok else None


def scale_mismatches(physics: dict, joint_names: Sequence[str], stall: Sequence[float]) -> list[str]:
    """Descriptions of the file values ≥ :data:`SCALE_FACTOR` away from the joints' stall torques (empty: fine).

    Args:
        physics: The file's metadata ``physics`` record (``kp`` [N·m/rad], ``stall_torque`` [N·m] or None).
        joint_names: The actuator's joints.
        stall: Their stall torques [N·m] (cfg ``saturation_effort``), one per joint.
    """
    checks = (
        ("physics.stall_torque", _number(physics.get("stall_torque")), "N·m", 1.0),
        ("physics.kp", _number(physics.get("kp")), "N·m/rad (PD torque at a 1 rad error)", 1.0),
    )
    found = []
    for field, value, unit, reference_error in checks:
        if value is None:
            continue
        bad = {}
        for name, limit in zip(joint_names, stall, strict=True):
            ratio = value * reference_error / float(limit) if limit > 0 else math.inf
            if ratio >= SCALE_FACTOR or ratio <= 1.0 / SCALE_FACTOR:
                bad[name] = (float(limit), ratio)
        if bad:
            listed = ", ".join(f"{name} {limit:g} N·m ({ratio:.3g}x)" for name, (limit, ratio) in bad.items())
            versus = "vs the cfg's stall torque 'saturation_effort'"
            found.append(f"metadata '{field}' = {value:.4g} {unit} {versus}: {listed}")
    return found


def check_network_scale(
    file, physics: dict | None, joint_names: Sequence[str], stall: Sequence[float], action: str = "warn"
) -> list[str]:
    """Report the network file's gains or stall torque that are an order of magnitude off the robot's limits.

    ``action`` is the cfg's ``scale_check`` (``"warn"``, ``"raise"``, ``"ignore"``). Returns the mismatches found
    (also with ``"ignore"``).

    Raises:
        ActuatorCfgError: With ``action="raise"`` and a mismatch; the message names the file, fields and values.
    """
    from .actuator_checks import ActuatorCfgError

    if not isinstance(physics, dict) or not physics:
        return []
    found = scale_mismatches(physics, joint_names, stall)
    if not found or action == "ignore":
        return found
    message = (
        f"{file}: the network's scale is {SCALE_FACTOR:g}x or more away from this robot's motors: "
        + "; ".join(found)
        + ". The net was trained for other motors: its joints will stay at its own torque scale. Use a network "
        "trained for these motors (for the Go2: learned_actuators.models.go2_starter_path()), or set the actuator "
        "cfg's scale_check='ignore' to accept it."
    )
    if action == "raise":
        raise ActuatorCfgError(message + " (cfg scale_check='raise')")
    logger.warning("%s", message)
    return found
