"""Benchmark: a GRU-PD ensemble against a single model (issue 13 item 4): error, calibration, actuator cost.

On the synthetic 1-DOF bench (:func:`~learned_actuators.data.synthetic.simulate_reference_runs`: torque lag,
stiction and label noise the physics prior cannot express; whole runs split 70/15/15), ``--members`` GRU-PD models
are trained with seeds 0..K-1 (the ``recipe_gru_pd`` preset, ``--epochs``). Printed:

* held-out torque RMSE [N·m] and mean rollout RMSE [rad] of member 0 alone (the single model), of every member, and
  of the ensemble's mean;
* the calibration of the members' spread on the held-out frames: share of errors within 1 and 2 standard
  deviations (a calibrated Gaussian spread: 0.683 / 0.954) and the mean spread, alone and with a label-noise term
  fitted on the validation runs (:func:`~learned_actuators.learning.ensemble.noise_std`);
* the cost in the actuator (Isaac Lab's Python path, CPU, ``--envs`` x 12 joints, fused kernels): ms per
  ``compute()`` of the exported single file and of the exported ensemble file, and their ratio;
* the same in the native Newton drive's Warp kernels (what runs on CUDA; here on the CPU device), with the ensemble's
  recurrent product run member by member (as shipped) and as one dense product (the reference: ``K²`` cost).

    python benchmarks/bench_ensemble.py [--members 3] [--runs 200] [--epochs 30] [--out runs/bench_ensemble]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from learned_actuators.atomic_io import atomic_write_json
from learned_actuators.data.synthetic import simulate_reference_runs
from learned_actuators.learning import export_model
from learned_actuators.learning.ensemble import calibration, noise_std, train_ensemble
from learned_actuators.learning.evaluation import evaluate
from learned_actuators.learning.presets import apply_overrides, build_cfg, load_preset
from learned_actuators.learning.rollout import rollout

JOINTS = 12


def _scores(model, logs) -> dict:
    return {
        "torque_rmse": float(evaluate(model, logs, with_rollout=False)["rmse"]),
        "rollout_rmse": rollout(model, logs).mean_rmse,
    }


def _actuator_ms(path: Path, envs: int, steps: int = 50) -> float:
    """Mean ms per compute() of the exported file in CombinedGRUAndPDActuator (Python path, CPU, fused)."""
    from isaaclab.utils.types import ArticulationActions

    from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg

    limits = {"saturation_effort": 3.0, "actuator_effort_limit": 3.0, "actuator_velocity_limit": 6.0}
    cfg = CombinedGRUAndPDActuatorCfg(
        joint_names_expr=[".*"], network_file=str(path), physics_dt=0.01, stiffness=5.0, **limits
    )
    names = [f"joint_{j}" for j in range(JOINTS)]
    actuator = cfg.class_type(cfg, joint_names=names, joint_ids=slice(None), num_envs=envs, device="cpu")
    gen = torch.Generator().manual_seed(0)
    q, qd, qt = (0.3 * torch.randn(envs, JOINTS, generator=gen) for _ in range(3))
    zeros = torch.zeros(envs, JOINTS)
    times = []
    for k in range(steps + 5):
        action = ArticulationActions(joint_positions=qt.clone(), joint_velocities=zeros, joint_efforts=zeros.clone())
        t0 = time.perf_counter()
        actuator.compute(action, q, qd)
        if k >= 5:
            times.append(time.perf_counter() - t0)
    return 1e3 * float(np.mean(times))


def _warp_ms(path: Path, envs: int, dense: bool = False, steps: int = 10) -> float:
    """Mean ms per call of the native DriveGRUPD on its Warp kernels (CPU device), net every physics step.

    ``dense``: the recurrent product as one dense block whatever the file (the reference an ensemble is measured
    against).
    """
    import warp as wp

    from learned_actuators.newton_drives import DriveGRUPD

    n, device = envs * JOINTS, wp.get_device("cpu")
    limits = {"saturation_effort": 3.0, "velocity_limit": 6.0, "max_motor_effort": 3.0}
    drive = DriveGRUPD(
        str(path), compute_backend="warp", **{k: wp.full(n, v, dtype=wp.float32) for k, v in limits.items()}
    )
    if dense:
        drive.recurrent_blocks = 1
    drive.finalize(device, n)
    rng = np.random.default_rng(0)
    q, qd, qt = (wp.array((0.3 * rng.standard_normal(n)).astype(np.float32), device=device) for _ in range(3))
    zeros, forces = wp.zeros(n, dtype=wp.float32), wp.zeros(n, dtype=wp.float32)
    indices = wp.array(np.arange(n, dtype=np.uint32), device=device)
    states = [drive.state(n, device), drive.state(n, device)]
    times = []
    for k in range(steps + 2):
        wp.synchronize()
        t0 = time.perf_counter()
        drive.compute(q, qd, qt, zeros, None, *([indices] * 4), forces, states[0], 0.01, device)
        drive.update_state(states[0], states[1])
        wp.synchronize()
        states.reverse()
        if k >= 2:
            times.append(time.perf_counter() - t0)
    return 1e3 * float(np.mean(times))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/bench_ensemble"))
    ap.add_argument("--members", type=int, default=3)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--envs", type=int, default=1024, help="envs of the actuator timing (x 12 joints)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    logs = simulate_reference_runs(args.runs, 6.0, 0.01, 0)
    order = np.random.default_rng(0).permutation(len(logs))
    n_train, n_val = round(0.7 * len(logs)), round(0.15 * len(logs))
    train_logs = [logs[i] for i in order[:n_train]]
    val_logs = [logs[i] for i in order[n_train : n_train + n_val]]
    test_logs = [logs[i] for i in order[n_train + n_val :]]
    extra = ["train.progress=false", "train.tensorboard=false", "train.plots=false", f"train.max_epochs={args.epochs}"]
    _, cfg = build_cfg(apply_overrides(load_preset("recipe_gru_pd"), extra))
    print(f"{len(logs)} runs ({n_train}/{n_val}/{len(test_logs)}); training {args.members} members ...", flush=True)
    ensemble = train_ensemble(cfg, train_logs, val_logs, members=args.members)
    print(f"  trained in {(time.perf_counter() - t0) / 60:.1f} min", flush=True)
    members = [_scores(m, test_logs) for m in ensemble.members]
    mean = _scores(ensemble, test_logs)
    calib = calibration(ensemble, test_logs)
    noise = noise_std(ensemble, val_logs)  # fitted on the validation runs, which the members did not train on
    with_noise = calibration(ensemble, test_logs, noise)
    with tempfile.TemporaryDirectory() as tmp:
        single = export_model(ensemble.members[0], tmp, "single", onnx=False)["torchscript"]
        combined = export_model(ensemble.combined(), tmp, "ensemble", onnx=False)["torchscript"]
        cost = {"single_ms": _actuator_ms(single, args.envs), "ensemble_ms": _actuator_ms(combined, args.envs)}
        cost.update(
            warp_single_ms=_warp_ms(single, args.envs),
            warp_ensemble_ms=_warp_ms(combined, args.envs),
            warp_ensemble_dense_ms=_warp_ms(combined, args.envs, dense=True),
        )
    spread = {k: float(np.std([m[k] for m in members])) for k in ("torque_rmse", "rollout_rmse")}
    print(f"\nheld-out ({len(test_logs)} runs)        torque RMSE [N·m]  rollout RMSE [rad]")
    print(f"single model (member 0)          {members[0]['torque_rmse']:>10.4f} {members[0]['rollout_rmse']:>18.4f}")
    for k, m in enumerate(members[1:], 1):
        print(f"member {k}                         {m['torque_rmse']:>10.4f} {m['rollout_rmse']:>18.4f}")
    print(f"ensemble mean ({args.members} members)        {mean['torque_rmse']:>10.4f} {mean['rollout_rmse']:>18.4f}")
    ratio = mean["torque_rmse"] / members[0]["torque_rmse"]
    print(f"ensemble / single torque RMSE: {ratio:.3f}")
    print(
        f"calibration: {100 * calib['within_1sigma']:.1f} % of errors within 1 sigma (Gaussian 68.3 %), "
        f"{100 * calib['within_2sigma']:.1f} % within 2 sigma (95.4 %); mean sigma {calib['mean_std']:.4f} N·m"
    )
    print(
        f"with a label-noise term fitted on the validation runs ({noise:.4f} N·m): "
        f"{100 * with_noise['within_1sigma']:.1f} % within 1 sigma, {100 * with_noise['within_2sigma']:.1f} % within "
        f"2 sigma; mean sigma {with_noise['mean_std']:.4f} N·m"
    )
    print(
        f"actuator compute() at {args.envs} envs x {JOINTS} joints (CPU, 1 thread): single {cost['single_ms']:.2f} ms, "
        f"ensemble {cost['ensemble_ms']:.2f} ms ({cost['ensemble_ms'] / cost['single_ms']:.2f}x)"
    )
    print(
        f"native drive, Warp kernels on the CPU device, same envs: single {cost['warp_single_ms']:.2f} ms, ensemble "
        f"{cost['warp_ensemble_ms']:.2f} ms ({cost['warp_ensemble_ms'] / cost['warp_single_ms']:.2f}x; one dense "
        f"recurrent product {cost['warp_ensemble_dense_ms']:.2f} ms, "
        f"{cost['warp_ensemble_dense_ms'] / cost['warp_single_ms']:.2f}x)"
    )
    print(f"total {(time.perf_counter() - t0) / 60:.1f} min")
    args.out.mkdir(parents=True, exist_ok=True)
    payload = dict(members=members, ensemble=mean, calibration=calib, cost=cost, member_spread=spread, runs=args.runs)
    atomic_write_json(args.out / "ensemble.json", payload, indent=2)
    print(f"wrote {args.out / 'ensemble.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
