"""Small run files (torque-profile NPZ, several joints per file) for the streaming-training tests."""

from __future__ import annotations

from pathlib import Path

from learned_actuators.data.synthetic import simulate_reference_runs, write_profile_npz
from learned_actuators.learning import PhysicsCfg
from learned_actuators.learning.data_cfg import DataCfg
from tests.learning.conftest import quick_cfg


def write_profiles(folder: Path, files: int = 3, joints: int = 2, duration: float = 1.5, dt: float = 0.005, seed=0):
    """``files`` torque-profile NPZ files of ``joints`` joints each (runs of the synthetic reference actuator)."""
    folder.mkdir(parents=True, exist_ok=True)
    runs = simulate_reference_runs(files * joints, duration=duration, dt=dt, seed=seed)
    for f in range(files):
        write_profile_npz(runs[f * joints : (f + 1) * joints], folder / f"run_{f:03d}.npz")
    return folder


def data_cfg(folder: Path, streaming: bool, **kw) -> DataCfg:
    return DataCfg(reader="torque_profile", path=str(folder), streaming=streaming, split="runs", **kw)


def stream_cfg(model_type: str = "gru_pd", **kw):
    """The quick trainer cfg with a fixed gain (torque profiles carry no ``kp``)."""
    cfg = quick_cfg(model_type, **kw)
    cfg.physics = PhysicsCfg(kp=4.0, kd=0.1, stall_torque=3.0, no_load_speed=6.0)
    return cfg
