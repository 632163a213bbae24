import numpy as np
import pytest

from learned_actuators.data.synthetic import simulate_reference_actuator
from learned_actuators.learning import PhysicsCfg, TrainCfg
from learned_actuators.physics import PhysicsParams

REF_KD, REF_STALL, REF_NLS, COULOMB = 0.05, 1.0, 12.0, 0.03


def make_runs(kps=(2.0, 4.0), duration=1.5, dt=0.005, inertia=0.01, mass=0.3, length=0.1, seed=0, keep_qdd=False):
    """Pendulum runs of the reference actuator at several gains (meta kp in N·m/rad)."""
    runs = []
    for i, kp in enumerate(kps):
        p = PhysicsParams(kp=kp, kd=REF_KD, stall_torque=REF_STALL, no_load_speed=REF_NLS)
        log = simulate_reference_actuator(
            p, inertia, mass, length, duration=duration, dt=dt, coulomb=COULOMB, name=f"kp{kp:g}_{i}", seed=seed + i
        )
        if not keep_qdd:
            log.meta.pop("qdd")
        runs.append(log)
    return runs


@pytest.fixture(scope="session")
def runs():
    return make_runs()


def quick_cfg(model_type, **kw) -> TrainCfg:
    cfg = TrainCfg(
        model_type=model_type,
        progress=False,
        tensorboard=False,
        plots=False,
        val_ratio=0.0,
        max_epochs=3,
        patience=100,
        seq_len_s=0.25,
        batch_size=4,
        seed=0,
    )
    cfg.physics = PhysicsCfg(kd=0.0, stall_torque=REF_STALL, no_load_speed=REF_NLS)
    cfg.gru.hidden_size = 16
    cfg.lstm.hidden_size, cfg.lstm.num_layers = 16, 2
    cfg.mlp.hidden = [32, 32]
    for k, v in kw.items():
        setattr(cfg, k, v)
    return cfg


def tiny_preset(**train) -> dict:
    """A two-group preset for run_preset on make_runs data (meta 'group'): a small GRU-PD over the reference physics."""
    base = {
        "model_type": "gru_pd",
        "physics": {"kp_scale": 1.0, "kd": 0.0, "friction": 0.0, "stall_torque": REF_STALL, "no_load_speed": REF_NLS},
        "max_epochs": 2,
        "progress": False,
        "tensorboard": False,
        "plots": False,
        "seq_len_s": 0.25,
        "batch_size": 4,
        "val_ratio": 0.0,
        "gru": {"hidden_size": 8},
    }
    return {"data": {"reader": "demo", "split": "groups", "group_key": "group"}, "train": {**base, **train}}


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))
