"""The Go2 GRU-PD starter model: a GRU-PD trained to reproduce the walk-these-ways Unitree Go1 actuator net.

No public Go2 motor log with measured torque exists, so the starter model learns the walk-these-ways Go1 actuator
net (an MLP trained on real Go1 motor data, ``tau_est``; the Go2 uses the same motor family) instead:

* **Inputs**: joint sequences at the net's own 50 Hz: the real Go2 deployment logs of a walk-these-ways policy
  (``q``, ``q*``, ``qd``; no torque) and, to cover the net's input range beyond walking, excitation runs of a 1-DOF
  load driven by the Go1 net itself (random targets, loads and inertias; :func:`excitation_logs`).
* **Labels**: the Go1 net's torque on those sequences (:func:`go1_torque`: input ``[e_t, e_t-1, e_t-2, v_t, v_t-1,
  v_t-2]``, ``e = q - q*``, history at 50 Hz, zero before the first sample as after a reset).
* **Model**: the package's GRU-PD (:func:`~learned_actuators.learning.trainer.train`), PD gains fitted by least
  squares, the PD saturated by the hip/thigh motor curve (23.7 N·m, 30.1 rad/s), GRU residual on ``[q* - q, qd]``.
  The calf's 1.92:1 is not in the file: the Go2 preset gives the calf its own PD curve and clip (45.43 N·m,
  15.70 rad/s; :func:`learned_actuators.models.go2_starter_pd_curve`), so the same motor model reaches the calf's
  joint-side stall torque, while the residual (the net's extra damping and velocity-dependent limit) is the same.
* **Agreement** with the Go1 net is measured on held-out sequences (a whole Go2 log and excitation runs with their
  own seed), per joint type, with each joint's PD curve and final clip (:func:`agreement`).

Pure PyTorch/NumPy (no simulator). ``scripts/make_go2_starter.py`` runs it and writes the package data.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import torch

from ..data.joint_log import JointLog
from ..data.splits import split_joints
from ..models import GO2_JOINT_LIMITS, GO2_STARTER_NAME
from ..physics import clip_to_torque_speed_curve
from .actuator_model import ActuatorModel
from .metrics import torque_metrics
from .models_cfg import GRUModelCfg, PhysicsCfg
from .trainer import train
from .trainer_cfg import TrainCfg

__all__ = [
    "GO1_NET_DT",
    "JOINT_TYPES",
    "agreement",
    "excitation_logs",
    "file_sha256",
    "go1_torque",
    "label_logs",
    "load_go1_net",
    "starter_train_cfg",
    "train_starter",
]

GO1_NET_DT = 0.02
"""Time step [s] of the walk-these-ways Go1 net's history (its policy rate, 50 Hz)."""

JOINT_TYPES = {"hip": ".*_hip_joint", "thigh": ".*_thigh_joint", "calf": ".*_calf_joint"}
"""Go2 joint types and their pattern in :data:`~learned_actuators.models.GO2_JOINT_LIMITS`."""

HIP_CLASS = GO2_JOINT_LIMITS[".*_hip_joint"]
"""(stall [N·m], no-load speed [rad/s]) of the motor the file models (the Go2 hip and thigh)."""

PHYSICS_DT = 0.005
"""Physics step [s] of the excitation simulation (the Go2 tasks' sim dt); the net's torque is held 4 steps."""

STOP_ANGLE, STOP_STIFFNESS = 2.5, 300.0
"""Joint stop of the excitation load: beyond ±2.5 rad a 300 N·m/rad spring pushes back (a leg's joint range)."""


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_go1_net(path: str | Path) -> torch.jit.ScriptModule:
    """The walk-these-ways Go1 net (saved with CUDA tensors: loaded with ``map_location="cpu"``), in eval mode."""
    return torch.jit.load(str(path), map_location="cpu").eval()


@torch.no_grad()
def go1_torque(net, q: np.ndarray, q_target: np.ndarray, qd: np.ndarray) -> np.ndarray:
    """The Go1 net's torque [N·m] on 50 Hz sequences of shape (T, J) (or (T,)): same shape, float64.

    Input rows ``[e_t, e_t-1, e_t-2, v_t, v_t-1, v_t-2]`` with ``e = q - q*``; samples before the first are zero
    (a reset history, as Isaac Lab's ``ActuatorNetMLP`` and our ``MLPActuatorNet`` keep it).
    """
    e, v = np.asarray(q) - np.asarray(q_target), np.asarray(qd)
    shape = e.shape

    def lagged(a: np.ndarray, k: int) -> np.ndarray:
        out = np.zeros_like(a)
        out[k:] = a[: len(a) - k]
        return out

    x = np.stack([lagged(e, 0), lagged(e, 1), lagged(e, 2), lagged(v, 0), lagged(v, 1), lagged(v, 2)], axis=-1)
    y = net(torch.as_tensor(x.reshape(-1, 6), dtype=torch.float32))
    return y.double().numpy().reshape(shape)


def label_logs(net, logs: list[JointLog]) -> list[JointLog]:
    """Copies of ``logs`` (50 Hz) with the Go1 net's torque as the label ``tau``."""
    out = []
    for log in logs:
        if abs(log.dt - GO1_NET_DT) > 1e-3:
            raise ValueError(f"{log.source}: sampled every {log.dt:.4g} s; the Go1 net needs {GO1_NET_DT} s.")
        tau = go1_torque(net, log.q, log.q_target, log.qd)
        out.append(dataclasses.replace(log, tau=tau, meta={**log.meta, "label": "walk-these-ways Go1 net"}))
    return out


def _targets(rng: np.random.Generator, n: int, steps: int) -> np.ndarray:
    """Position targets (steps, n) at 50 Hz: held steps and sine segments of random amplitude, hold and center."""
    out = np.zeros((steps, n))
    for j in range(n):
        t, center = 0, rng.uniform(-0.5, 0.5)
        while t < steps:
            length = min(int(rng.integers(5, 40)), steps - t)  # 0.1-0.8 s
            amp = rng.uniform(0.05, 1.5)
            if rng.random() < 0.6:
                out[t : t + length, j] = center + rng.uniform(-amp, amp)
            else:
                phase = np.arange(length) * GO1_NET_DT * 2 * np.pi * rng.uniform(0.3, 4.0)
                out[t : t + length, j] = center + amp * np.sin(phase + rng.uniform(0, 2 * np.pi))
            t += length
    return out


def _loads(rng: np.random.Generator, n: int, steps: int) -> np.ndarray:
    """External torques (steps, n) [N·m] at 50 Hz: piecewise-constant loads (contacts, gravity) and short pushes."""
    out = np.zeros((steps, n))
    for j in range(n):
        t = 0
        while t < steps:
            length = min(int(rng.integers(10, 60)), steps - t)
            out[t : t + length, j] = rng.uniform(-10.0, 10.0) * (rng.random() < 0.7)
            t += length
        pushes = rng.random(steps) < 0.02
        out[pushes, j] += rng.uniform(-30.0, 30.0, pushes.sum())
    return out


@torch.no_grad()
def excitation_logs(net, num_runs: int, seconds: float, seed: int) -> list[JointLog]:
    """1-DOF excitation runs driven by the Go1 net, sampled at 50 Hz (``q``, ``q*``, ``qd``; label with the net).

    Each run is a load of inertia U(0.02, 0.2) kg·m², viscous damping 0.05 N·m·s/rad, a joint stop at ±2.5 rad
    and an external torque (:func:`_loads`), stepped at 5 ms (semi-implicit Euler) with the Go1 net's torque held
    between its 50 Hz steps, tracking random targets (:func:`_targets`). This reaches errors beyond 1 rad,
    saturated torques and tens of rad/s, which walking alone does not.
    """
    rng = np.random.default_rng(seed)
    steps, sub = round(seconds / GO1_NET_DT), round(GO1_NET_DT / PHYSICS_DT)
    inertia = rng.uniform(0.02, 0.2, num_runs)
    targets, loads = _targets(rng, num_runs, steps), _loads(rng, num_runs, steps)
    q, qd = rng.uniform(-0.3, 0.3, num_runs), np.zeros(num_runs)
    history = np.zeros((num_runs, 6))  # [e_t, e_t-1, e_t-2, v_t, v_t-1, v_t-2]
    qs, qds = np.zeros((steps, num_runs)), np.zeros((steps, num_runs))
    for t in range(steps):
        qs[t], qds[t] = q, qd
        history[:, [1, 2, 4, 5]] = history[:, [0, 1, 3, 4]]
        history[:, 0], history[:, 3] = q - targets[t], qd
        tau = net(torch.as_tensor(history, dtype=torch.float32))[:, 0].double().numpy()
        for _ in range(sub):
            stop = -STOP_STIFFNESS * (np.abs(q) - STOP_ANGLE).clip(min=0.0) * np.sign(q)
            qd = qd + PHYSICS_DT * (tau + loads[t] + stop - 0.05 * qd) / inertia
            q = q + PHYSICS_DT * qd
    time = np.arange(steps) * GO1_NET_DT
    return [
        JointLog(
            name=f"excitation_s{seed}_{j:03d}",
            source=f"go2_starter.excitation_logs(seed={seed})",
            t=time,
            q=qs[:, j],
            q_target=targets[:, j],
            qd=qds[:, j],
            meta={"inertia": float(inertia[j]), "kp": 20.0},
        )
        for j in range(num_runs)
    ]


def starter_train_cfg(max_epochs: int = 150, hidden_size: int = 32, seed: int = 0) -> TrainCfg:
    """The training cfg of the starter model (GRU-PD; PD gains fitted by least squares, hip/thigh motor curve)."""
    stall, no_load = HIP_CLASS
    return TrainCfg(
        model_type="gru_pd",
        gru=GRUModelCfg(features=["pos_error", "qd"], hidden_size=hidden_size),
        physics=PhysicsCfg(
            kp=20.0, kd=0.5, stall_torque=stall, no_load_speed=no_load, fit=True, fit_params=["kp", "kd"]
        ),
        seq_len_s=2.0,
        burn_in_s=0.06,
        lr=3e-3,
        lr_schedule="cosine",
        max_epochs=max_epochs,
        patience=40,
        val_ratio=0.15,
        seed=seed,
        num_threads=2,
        progress=False,
        tensorboard=False,
        plots=False,
    )


def train_starter(cfg: TrainCfg, train_logs: list[JointLog]) -> ActuatorModel:
    """Train the starter model on labelled 50 Hz runs (whole runs held out for early stopping)."""
    return train(cfg, train_logs).model


def _joint_type(name: str) -> str:
    for kind in JOINT_TYPES:
        if name.endswith(f"_{kind}_joint"):
            return kind
    return "hip"  # single-joint excitation runs model the hip/thigh motor


def predict_as_joint(model: ActuatorModel, log: JointLog, kind: str) -> np.ndarray:
    """The starter model's applied torque (T,) on a single-joint run as joint type ``kind`` of the Go2 preset.

    The PD curve and the final asymmetric clip use that joint's limits (as the Go2 preset's cfg gives them).
    """
    stall, no_load = GO2_JOINT_LIMITS[JOINT_TYPES[kind]]
    as_joint = dataclasses.replace(
        model, physics=dataclasses.replace(model.physics, stall_torque=stall, no_load_speed=no_load)
    )
    tau = torch.as_tensor(as_joint.predict(log))
    return clip_to_torque_speed_curve(tau, torch.as_tensor(log.qd[:, 0]), stall, no_load).numpy()


def agreement(model: ActuatorModel, logs: list[JointLog]) -> dict[str, dict[str, float]]:
    """Torque agreement [N·m] with the labels (the Go1 net's torque) per joint type, over all frames.

    Keys: the joint types present (``hip``, ``thigh``, ``calf``; single-joint runs count as ``hip``) and ``all``.
    Each value has ``rmse``, ``mae``, ``max_abs_err``, ``frames`` and ``label_abs_max`` (largest |label| [N·m]),
    ``pred_abs_max``; the calf also ``rmse_in_net_range`` (frames where the unsaturated PD torque is within the
    hip/thigh stall torque, i.e. where the Go1 net's own range applies).
    """
    preds: dict[str, list] = {}
    for log in split_joints(logs):
        kind = _joint_type(log.joint_names[0])
        pred = predict_as_joint(model, log, kind)
        p = model.run_params(log)
        pd = p.kp * (log.q_target[:, 0] - log.q[:, 0]) - p.kd * log.qd[:, 0]
        preds.setdefault(kind, []).append((pred, log.tau[:, 0], np.abs(pd) <= HIP_CLASS[0]))
    out = {}
    for kind, parts in [*preds.items(), ("all", [x for v in preds.values() for x in v])]:
        pred, true, in_range = (np.concatenate([x[i] for x in parts]) for i in range(3))
        m = torque_metrics(pred, true)
        row = {
            "rmse": float(m["rmse"]),
            "mae": float(np.mean(np.abs(pred - true))),
            "max_abs_err": float(np.max(np.abs(pred - true))),
            "frames": len(true),
            "label_abs_max": float(np.max(np.abs(true))),
            "pred_abs_max": float(np.max(np.abs(pred))),
        }
        if kind == "calf":
            row["rmse_in_net_range"] = float(np.sqrt(np.mean((pred - true)[in_range] ** 2)))
        out[kind] = row
    return out


def input_coverage(logs: list[JointLog]) -> dict[str, float]:
    """Ranges of the net inputs in ``logs``: 99.5th percentile and max of |q - q*| [rad] and |qd| [rad/s]."""
    e = np.concatenate([np.abs(g.q - g.q_target).ravel() for g in logs])
    v = np.concatenate([np.abs(g.qd).ravel() for g in logs])
    return {
        "pos_error_p995_rad": float(np.percentile(e, 99.5)),
        "pos_error_max_rad": float(e.max()),
        "vel_p995_rad_s": float(np.percentile(v, 99.5)),
        "vel_max_rad_s": float(v.max()),
        "frames": int(e.size),
    }


GO1_NET_ORIGIN = (
    "Improbable-AI/walk-these-ways resources/actuator_nets/unitree_go1.pt @ 0e7236bd (MIT, MIT Improbable AI Lab)"
)
GO2_LOGS_ORIGIN = "Teddy-Liao/walk-these-ways-go2 logs/example_experiment @ 83bd4b9e (MIT, Liao Dengting)"
HELD_OUT_GO2_LOG = "11_22_05_0"
"""The Go2 log (run name) kept out of training: the agreement is measured on it."""
EXCITATION = {"train_runs": 96, "test_runs": 16, "seconds": 10.0, "train_seed": 1, "test_seed": 2}


def build_starter(net, go2_logs: list[JointLog], cfg: TrainCfg) -> tuple[ActuatorModel, dict]:
    """Train the starter model and measure it; returns the model and the provenance record (without file hashes).

    Training runs: the Go2 logs except :data:`HELD_OUT_GO2_LOG`, and :data:`EXCITATION` ``train_runs`` excitation
    runs; held out: that Go2 log and ``test_runs`` excitation runs with another seed.
    """
    test_go2 = [g for g in go2_logs if g.name == HELD_OUT_GO2_LOG]
    train_go2 = [g for g in go2_logs if g.name != HELD_OUT_GO2_LOG]
    if not test_go2 or not train_go2:
        raise ValueError(f"the Go2 logs must include run {HELD_OUT_GO2_LOG!r} and at least one other run.")
    ex = EXCITATION
    exc_train = excitation_logs(net, ex["train_runs"], ex["seconds"], ex["train_seed"])
    exc_test = excitation_logs(net, ex["test_runs"], ex["seconds"], ex["test_seed"])
    model = train_starter(cfg, label_logs(net, train_go2 + exc_train))
    record = {
        "name": "go2_starter_gru_pd",
        "what": "GRU-PD trained to reproduce the walk-these-ways Unitree Go1 actuator net (real Go1 motor data) at "
        "its 50 Hz; hip/thigh motor curve in the file, the Go2 preset gives the calf its 1.92:1 limits",
        "label_net": GO1_NET_ORIGIN,
        "input_sequences": {
            "go2_logs": GO2_LOGS_ORIGIN,
            "train_runs": [g.name for g in train_go2],
            "held_out_run": HELD_OUT_GO2_LOG,
            "excitation": {**ex, "inertia_kg_m2": [0.02, 0.2], "physics_dt_s": PHYSICS_DT},
        },
        "input_coverage_train": input_coverage(train_go2 + exc_train),
        "fitted_physics": {"kp": model.physics.kp, "kd": model.physics.kd},
        "train_cfg": {"epochs": cfg.max_epochs, "best_epoch": model.info.get("best_epoch"), "seed": cfg.seed},
        "agreement_Nm": {
            "held_out_go2_log": agreement(model, label_logs(net, test_go2)),
            "held_out_excitation": agreement(model, label_logs(net, exc_test))["all"],
        },
    }
    return model, record


def _row(name: str, m: dict) -> str:
    extra = f" (in the net's range: {m['rmse_in_net_range']:.2f})" if "rmse_in_net_range" in m else ""
    return (
        f"| {name} | {m['rmse']:.2f}{extra} | {m['mae']:.2f} | {m['max_abs_err']:.2f} | {m['label_abs_max']:.1f} | "
        f"{m['pred_abs_max']:.1f} | {m['frames']} |"
    )


def provenance_markdown(record: dict) -> str:
    """The ``PROVENANCE.md`` text of a :func:`build_starter` record (with ``files`` and ``commit`` added)."""
    go2 = record["agreement_Nm"]["held_out_go2_log"]
    rows = [_row(f"Go2 log {HELD_OUT_GO2_LOG}, {k}", v) for k, v in go2.items()]
    rows.append(_row("excitation runs (hip/thigh motor)", record["agreement_Nm"]["held_out_excitation"]))
    files = "\n".join(f"* `{name}`: sha256 `{sha}`" for name, sha in record["files"].items())
    phys, cov = record["fitted_physics"], record["input_coverage_train"]
    return f"""# Go2 GRU-PD starter model (`{GO2_STARTER_NAME}`)

A Go2-scale actuator model to start with, **not** a model of a measured Go2: no public Go2 motor log with torque
exists. It is a GRU-PD (the package's `CombinedGRUAndPDActuator`) trained to reproduce the walk-these-ways Unitree Go1
actuator net, an MLP trained on real Go1 motor data (`tau_est`), run at that net's own 50 Hz (dt 0.02 s; the actuator
holds the GRU output between net steps inside the Go2's 0.005 s physics).

* Label net: {record["label_net"]}.
* Input sequences (q, q*, qd at 50 Hz; the net's torque on them is the label): real Go2 deployment logs of a
  walk-these-ways policy, {record["input_sequences"]["go2_logs"]}, runs {record["input_sequences"]["train_runs"]};
  plus {EXCITATION["train_runs"]} excitation runs of {EXCITATION["seconds"]:g} s (a 1-DOF load of random inertia
  driven by the Go1 net, random targets, loads and pushes; `learning/go2_starter.py`) to cover the net's input range
  beyond walking: |q - q*| up to {cov["pos_error_p995_rad"]:.2f} rad and |qd| up to {cov["vel_p995_rad_s"]:.1f} rad/s
  (99.5th percentiles).
* Model: PD `kp` {phys["kp"]:.2f} N·m/rad, `kd` {phys["kd"]:.3f} N·m·s/rad (least squares on the labels), PD
  saturated by the Go2 hip/thigh motor curve (23.7 N·m stall, 30.1 rad/s no-load), GRU residual on `[q* - q, qd]`.
* Calf (1.92:1): the file models the hip/thigh motor. The Go2 starter preset
  (`GO2_STARTER_GRU_PD_ACTUATOR_CFG`, the GRU-PD tasks' default) sets `pd_stall_torque`/`pd_no_load_speed` per joint,
  so the calf's PD saturates at its own joint-side 45.43 N·m / 15.70 rad/s and the final clip uses the same limits;
  the learned residual (extra damping, velocity-dependent limit) is the same on every joint. The Go1 net itself
  saturates near 24 N·m on every joint, so on the calf the two differ where the PD torque exceeds 23.7 N·m.
* Built by `scripts/make_go2_starter.py` at commit `{record["commit"]}`; source files:
{files}

## Agreement with the Go1 net on held-out sequences [N·m]

Each joint with its Go2 PD curve and final clip; the Go1 net unclipped. The Go2 log {HELD_OUT_GO2_LOG} and the
excitation runs (seed {EXCITATION["test_seed"]}) were not used in training.

| sequences | RMSE | MAE | max abs err | max abs Go1 net | max abs model | frames |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

## Licence

The model is derived from the walk-these-ways Go1 net and the walk-these-ways-go2 logs, both MIT; their notices are
in `LICENSE` beside this file.
"""
