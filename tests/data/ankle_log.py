"""A small multi-joint log as a new user brings it: four ankle motors, one continuous 100 Hz CSV without a time
column, per-joint gains in a metadata side file (kp 35/30/25/25 N·m/rad, kd 2 N·m·s/rad)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from learned_actuators.data.synthetic import chirp_command, simulate_reference_actuator
from learned_actuators.physics import PhysicsParams

JOINTS = ["l_ankle_pitch", "l_ankle_roll", "r_ankle_pitch", "r_ankle_roll"]
KP = [35.0, 30.0, 25.0, 25.0]
KD = 2.0
RATE = 100.0

ANKLE_MAP = {
    "name": "biped_ankles",
    "format": "csv",
    "file_glob": "*.csv",
    "position": {"column": [f"pos_{j}" for j in range(4)], "unit": "rad"},
    "target": {"column": [f"cmd_{j}" for j in range(4)], "unit": "rad"},
    "velocity": {"column": [f"vel_{j}" for j in range(4)], "unit": "rad/s"},
    "torque": {"column": [f"tau_est_{j}" for j in range(4)], "unit": "N·m"},
    "channels": {"tau_cmd": {"column": [f"tau_pd_{j}" for j in range(4)], "unit": "N·m"}},
}


def ankle_frame(duration: float = 20.0, rate: float = RATE) -> pd.DataFrame:
    """Columns pos/cmd/vel/tau_est/tau_pd _0.._3, one row per sample at ``rate`` (no time column)."""
    n = round(duration * rate)
    cols = {}
    for j, kp in enumerate(KP):
        params = PhysicsParams(kp=kp, kd=KD, stall_torque=12.0, no_load_speed=15.0)
        t = np.arange(n) / rate
        cmd = chirp_command(t, amplitude=0.3, f0=0.2, f1=2.0, seed=j)
        log = simulate_reference_actuator(
            params, inertia=0.02, duration=duration, dt=1.0 / rate, command=cmd, seed=j, name=JOINTS[j]
        )
        q, qd, qt = log.q[:, 0], log.qd[:, 0], log.q_target[:, 0]
        cols |= {f"pos_{j}": q, f"cmd_{j}": qt, f"vel_{j}": qd, f"tau_est_{j}": log.tau[:, 0]}
        cols[f"tau_pd_{j}"] = kp * (qt - q) - KD * qd
    order = [f"{k}_{j}" for j in range(4) for k in ("pos", "cmd", "vel", "tau_est", "tau_pd")]
    return pd.DataFrame(cols)[order]


def write_ankle_log(
    folder: Path,
    duration: float = 20.0,
    declared_rate: float = RATE,
    header: bool = True,
    side: dict | None = None,
    cmap: dict | None = None,
) -> tuple[Path, Path]:
    """Write ``folder/logs/ankles.csv`` (+ ``ankles.meta.json``) and ``folder/ankle_map.json``; return both paths."""
    logs = folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    df = ankle_frame(duration)
    csv = logs / "ankles.csv"
    df.to_csv(csv, index=False, header=header)
    meta = {"rate_hz": declared_rate, "joint_names": JOINTS, "joint_constants": {"kp": KP, "kd": KD}}
    (logs / "ankles.meta.json").write_text(json.dumps(meta if side is None else side))
    cmap = dict(ANKLE_MAP if cmap is None else cmap)
    if not header:
        cmap["csv_columns"] = list(df.columns)
    map_path = folder / "ankle_map.json"
    map_path.write_text(json.dumps(cmap))
    return csv, map_path
