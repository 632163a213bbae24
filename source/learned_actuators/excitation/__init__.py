"""Collect actuator data on a suspended Go2: excitation plans, a simulator and a Unitree SDK backend, a logger.

* :class:`ExcitationCfg` -> :func:`build_plan` -> :class:`ExcitationPlan`: chirps, steps and smoothed random
  position targets per joint group around the nominal pose, within safe amplitudes and the joint limits, at the
  control rate and the gains the policy will use (pure NumPy/SciPy).
* Backends run a plan and return an :class:`ExcitationRecord`: :func:`~.sim_backend.run_sim_excitation` (our Go2
  task with its base fixed in the air; needs Isaac Lab) and :func:`~.robot_backend.run_robot_excitation` (a real
  Go2 through Unitree's ``unitree_sdk2py`` via :class:`~.unitree_sdk.UnitreeSdkChannel`, extra ``unitree``; soft
  limits, damping stop).
* :func:`write_session` writes the record as a CSV log with its side file and a column map that
  ``scripts/inspect_logs.py`` and ``scripts/train_actuator.py`` read unchanged, in a new folder per session.

Command line: ``scripts/excite_go2.py``.
"""

from .log_writer import column_map_for, new_session_dir, write_session
from .plan import ExcitationPlan, Segment, build_plan
from .plan_cfg import ExcitationCfg
from .record import ExcitationRecord, Recorder

__all__ = [
    "ExcitationCfg",
    "ExcitationPlan",
    "ExcitationRecord",
    "Recorder",
    "Segment",
    "build_plan",
    "column_map_for",
    "new_session_dir",
    "write_session",
]
