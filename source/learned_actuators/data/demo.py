"""The built-in demo data set: Rhoban BAM XL330 pendulum logs (Apache-2.0), shipped with the package."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from .column_map import load_column_map, read_mapped_folder
from .joint_log import JointLog

__all__ = ["DEMO_DATA_DIR", "load_demo_logs"]

DEMO_DATA_DIR = Path(str(resources.files("learned_actuators") / "demo_data" / "bam_xl330"))
"""Folder of the demo logs, their column map, LICENSE and NOTICE."""


def load_demo_logs(accept: Iterable[str] = ()) -> list[JointLog]:
    """The 16 BAM XL330 pendulum runs (200 Hz, 6 s each, kp 100-800, 4 trajectories) as joint logs.

    Torque labels come from inverse dynamics (pendulum m = 0.49 kg, l = 0.10 m, rotor inertia 0.002 kg·m²), the
    logged speed is advanced by its 20 ms lag, torque-disabled frames are invalid; ``meta["group"]`` is the
    trajectory (for leave-one-trajectory-out splits) and ``meta["kp"]`` the servo gain. See ``NOTICE`` there.
    ``accept`` names plausibility checks to waive (none is needed for these logs).
    """
    return read_mapped_folder(DEMO_DATA_DIR, load_column_map(DEMO_DATA_DIR / "column_map.json"), accept)
