"""Unitree Go2 facts the excitation tool needs: joint names, groups, limits, nominal pose, gains, safe amplitudes.

Pure Python (no Isaac Lab, no SDK): the real-robot backend runs on a machine without the simulator. The numbers are
those of Isaac Lab's stock ``UNITREE_GO2_CFG`` and of the Go2 model it spawns (Unitree's MJCF/URDF joint ranges,
BSD-3-Clause); unit tests compare them with Isaac Lab's cfg, an integration test with the simulated robot.
"""

from __future__ import annotations

import re

from ..errors import UserInputError

__all__ = [
    "GO2_GROUPS",
    "GO2_JOINT_NAMES",
    "GO2_MOTOR_LIMITS",
    "GO2_NOMINAL_POSE",
    "GO2_POSITION_LIMITS",
    "GO2_SAFE_AMPLITUDE",
    "GO2_TASK_GAINS",
    "GO2_UNITREE_MOTOR_ORDER",
    "PARTS",
    "joint_leg",
    "joint_part",
    "resolve_groups",
]

LEGS = ("FL", "FR", "RL", "RR")
PARTS = ("hip", "thigh", "calf")
"""Joint kinds of a Go2 leg; per-part settings (amplitudes, gains, limits) are keyed by these names."""

GO2_JOINT_NAMES = [f"{leg}_{part}_joint" for leg in LEGS for part in PARTS]
"""The 12 leg joints (Isaac Lab / Unitree naming), leg by leg."""

GO2_UNITREE_MOTOR_ORDER = [f"{leg}_{part}_joint" for leg in ("FR", "FL", "RR", "RL") for part in PARTS]
"""Joint name of each index of Unitree's ``LowCmd.motor_cmd`` / ``LowState.motor_state`` (FR_0..2, FL, RR, RL)."""

GO2_POSITION_LIMITS = {
    **{f"{leg}_hip_joint": (-1.0472, 1.0472) for leg in LEGS},
    **{f"{leg}_thigh_joint": (-1.5708, 3.4907) for leg in ("FL", "FR")},
    **{f"{leg}_thigh_joint": (-0.5236, 4.5379) for leg in ("RL", "RR")},
    **{f"{leg}_calf_joint": (-2.7227, -0.83776) for leg in LEGS},
}
"""Joint position limits [rad] (lower, upper) of the Go2 model (Unitree's ranges; the simulated robot's)."""

GO2_NOMINAL_POSE = {
    **{f"{leg}_hip_joint": (0.1 if leg.endswith("L") else -0.1) for leg in LEGS},
    **{f"{leg}_thigh_joint": (0.8 if leg.startswith("F") else 1.0) for leg in LEGS},
    **{f"{leg}_calf_joint": -1.5 for leg in LEGS},
}
"""Nominal joint positions [rad]: the standing pose of Isaac Lab's Go2 cfg (``init_state.joint_pos``), which is
also the default joint position the Go2 task's actions are offsets from."""

GO2_TASK_GAINS = (25.0, 0.5)
"""(kp [N·m/rad], kd [N·m·s/rad]) of the Go2 velocity task's DC motors: the gains its policy runs at."""

GO2_MOTOR_LIMITS = {"hip": (23.7, 30.1), "thigh": (23.7, 30.1), "calf": (45.43, 15.70)}
"""Joint-side (stall torque [N·m], no-load speed [rad/s]) per part (Isaac Lab's Go2 cfg; calf behind 1.92:1)."""

GO2_SAFE_AMPLITUDE = {"hip": 0.4, "thigh": 0.8, "calf": 0.6}
"""Largest excitation amplitude [rad] around the nominal pose accepted per part on a suspended Go2.

Chosen so that a whole group moving together (the same command on its four joints) cannot bring two legs into
contact with each other or with the body: hips abduct/adduct both sides the same way by at most 0.4 rad, thighs
swing all legs fore/aft in parallel, calves fold within their range. Joint limits (with a margin) may allow less.
"""

GO2_GROUPS = {
    group: [f"{leg}_{part}_joint" for leg in LEGS]
    for group, part in (("hips", "hip"), ("thighs", "thigh"), ("calves", "calf"))
}
"""Named joint groups: ``hips``, ``thighs``, ``calves`` (the four joints of each kind)."""


def joint_part(name: str) -> str:
    """``hip``, ``thigh`` or ``calf`` of a Go2 joint name."""
    match = re.fullmatch(r"(FL|FR|RL|RR)_(hip|thigh|calf)_joint", name)
    if match is None:
        raise UserInputError(f"joint {name!r} is not a Go2 leg joint; expected one of {GO2_JOINT_NAMES}.")
    return match.group(2)


def joint_leg(name: str) -> str:
    """``FL``, ``FR``, ``RL`` or ``RR`` of a Go2 joint name."""
    joint_part(name)
    return name.split("_", 1)[0]


def resolve_groups(groups: list[str] | tuple[str, ...], where: str = "ExcitationCfg.groups") -> list[list[str]]:
    """The joints of each group: a named group (:data:`GO2_GROUPS`) or one Go2 joint name (a one-joint group).

    Raises:
        UserInputError: an unknown name, an empty list, or a joint in two groups.
    """
    if not groups:
        raise UserInputError(f"{where} is empty; expected names from {list(GO2_GROUPS)} or Go2 joint names.")
    out, seen = [], set()
    for group in groups:
        if group in GO2_GROUPS:
            joints = list(GO2_GROUPS[group])
        elif group in GO2_JOINT_NAMES:
            joints = [group]
        else:
            raise UserInputError(
                f"{where} has {group!r}; expected a group ({', '.join(GO2_GROUPS)}) or a Go2 joint name "
                f"({', '.join(GO2_JOINT_NAMES)})."
            )
        twice = [j for j in joints if j in seen]
        if twice:
            raise UserInputError(f"{where}: joint(s) {twice} appear in more than one group; list each joint once.")
        seen.update(joints)
        out.append(joints)
    return out
