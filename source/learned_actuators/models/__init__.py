"""Actuator models shipped with the package (package data), and the Go2 joint limits they are built for.

* ``go2_starter/go2_starter_gru_pd.pt``: the Go2-scale GRU-PD starter model (:func:`go2_starter_path`). It is
  trained to reproduce the walk-these-ways Unitree Go1 actuator net (MIT; real Go1 motor data) on Go2 joint
  sequences; see ``go2_starter/PROVENANCE.md`` beside it (and its ``LICENSE``) for how it was made and how well it
  agrees with that net. It is built by ``scripts/make_go2_starter.py`` (:mod:`learned_actuators.learning.go2_starter`).

Pure Python: importable without Isaac Lab or torch.
"""

from __future__ import annotations

from importlib import resources

__all__ = ["GO2_JOINT_LIMITS", "GO2_STARTER_NAME", "go2_starter_path", "go2_starter_pd_curve"]

GO2_JOINT_LIMITS = {
    ".*_hip_joint": (23.7, 30.1),
    ".*_thigh_joint": (23.7, 30.1),
    ".*_calf_joint": (45.43, 15.70),
}
"""Go2 joint-side motor limits per joint pattern: (stall torque [N·m], no-load speed [rad/s]) (Isaac Lab's stock
Go2 cfg, matching ``go2.usd``). The calf uses the same motor behind an extra 1.92:1 knee reduction."""

GO2_STARTER_NAME = "go2_starter_gru_pd.pt"
"""File name of the Go2 starter model inside ``learned_actuators/models/go2_starter/``."""


def go2_starter_path() -> str:
    """Filesystem path of the shipped Go2 GRU-PD starter model (package data)."""
    return str(resources.files(__name__) / "go2_starter" / GO2_STARTER_NAME)


def go2_starter_pd_curve() -> dict[str, dict[str, float]]:
    """Per-joint ``pd_stall_torque`` / ``pd_no_load_speed`` cfg values applying the Go2 calf's 1.92:1 to the model.

    The starter file's PD saturation curve is the hip/thigh motor's (23.7 N·m, 30.1 rad/s); these cfg values give
    the calf its own curve (45.43 N·m, 15.70 rad/s), the hip and thigh the file's.
    """
    return {
        "pd_stall_torque": {k: v[0] for k, v in GO2_JOINT_LIMITS.items()},
        "pd_no_load_speed": {k: v[1] for k, v in GO2_JOINT_LIMITS.items()},
    }
