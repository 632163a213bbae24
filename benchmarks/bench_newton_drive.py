"""Per-call cost of the native GRU-PD drive (CPU torch backend, Warp kernels) vs our Python-path actuator (CPU).

All at ``--envs`` x 12 joints, measured in the same run: every round times each variant once (a whole number of
rate cycles of ``k`` calls each, so the net runs once per ``k`` calls in every variant), in a shuffled order; the
figures are medians over ``--repeats`` rounds and the ratios medians of the per-round ratios. Variants:

* ``native GRU-PD (torch)``: :class:`~learned_actuators.newton_drives.DriveGRUPD` ``compute()`` +
  ``update_state()`` (Newton's double buffer, swapped after every call, as ``Actuator.step`` and Isaac Lab's
  adapter do) with its CPU default, the torch backend (fused torch kernels on zero-copy views of the Warp arrays);
* ``native GRU-PD (Warp)``: the same drive forced to its Warp kernels (``compute_backend="warp"``; what runs on
  CUDA, graphable);
* ``Python-path GRU-PD``: :class:`~learned_actuators.actuators.CombinedGRUAndPDActuator` ``compute()`` on the same
  file (``sim.use_newton_actuators=False``; fused kernels, ``torch.set_num_threads(--threads)``);
* ``native LSTM`` / ``native MLP`` and ``Python-path LSTM`` / ``MLP``: our :class:`DriveLSTM` / :class:`DriveMLP`
  (our actuator classes run inside Newton's step on zero-copy views) vs the same classes on the Python path, on the
  trainer's default shapes (LSTM 2 x 64, MLP 6-100-100-100-1 softsign, history slots 0-2), net every ``k`` steps;
* ``Newton DrivePD``: ``newton.actuators.DrivePD.compute()``, and ``+ ClampingDCMotor``: that plus the DC-motor
  clamp (what Isaac Lab authors for its ``DCMotorCfg``: the stock DC motor on the native path).

The net is the seed recipe's shape (``recipe_gru_pd``: GRU 1 x 32 on ``[pos_error, qd, kp, tau_pd, tau_phys]``,
residual, PD torque-speed curve, Coulomb friction). Warp runs its CPU kernels on one thread, serially over the
slots (so the GRU step is not vectorised across slots as torch's GEMM is); torch uses ``--threads``.

    python benchmarks/bench_newton_drive.py [--envs 4096] [--rates 1 4] [--threads 1] [--repeats 10]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time

import numpy as np
import torch
import warp as wp

from isaaclab.utils.types import ArticulationActions

from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg, LSTMActuatorNetCfg, MLPActuatorNetCfg
from learned_actuators.learning.models import GRUNet, LSTMDeploy, LSTMNet, MLPDeploy, MLPNet
from learned_actuators.network_file import NetworkMetadata, save_network
from learned_actuators.newton_drives import DriveGRUPD, DriveLSTM, DriveMLP

JOINTS = 12
PHYSICS_DT = 0.005
FEATURES = ["pos_error", "qd", "kp", "tau_pd", "tau_phys"]
PHYSICS = {
    "kp": 25.0,
    "kd": 0.5,
    "stall_torque": 23.7,
    "no_load_speed": 30.1,
    "friction": 0.2,
    "friction_velocity": 0.5,
}
LIMITS = {"saturation_effort": 23.7, "actuator_velocity_limit": 30.1, "actuator_effort_limit": 23.7}


def _net_file(directory: str, hidden: int, layers: int, steps: int) -> str:
    torch.manual_seed(0)
    path = os.path.join(directory, f"gru_pd_k{steps}.pt")
    meta = NetworkMetadata(
        model_type="gru_pd",
        dt=PHYSICS_DT * steps,
        features=FEATURES,
        mode="residual",
        hidden_size=hidden,
        num_layers=layers,
        input_mean=[0.0] * len(FEATURES),
        input_std=[0.5, 5.0, 10.0, 10.0, 10.0],
        output_std=2.0,
        physics=PHYSICS,
    )
    save_network(GRUNet(len(FEATURES), hidden, layers).eval(), path, meta)
    return path


def _net_files(directory: str, steps: int) -> dict[str, str]:
    """LSTM and MLP files of the trainer's default shapes (random weights), net dt ``steps`` physics steps."""
    torch.manual_seed(0)
    common = {"dt": PHYSICS_DT * steps, "features": ["pos_error", "qd"], "normalization_in_network": True}
    stats = {"input_mean": [0.0, 0.0], "input_std": [0.2, 5.0], "output_mean": 0.0, "output_std": 5.0}
    paths = {"lstm": os.path.join(directory, f"lstm_k{steps}.pt"), "mlp": os.path.join(directory, f"mlp_k{steps}.pt")}
    lstm = LSTMDeploy(LSTMNet(64, 2, 0.0), **stats).eval()
    save_network(lstm, paths["lstm"], NetworkMetadata("lstm", hidden_size=64, num_layers=2, **common, **stats))
    mlp_stats = {**stats, "input_mean": [0.0] * 6, "input_std": [0.2] * 3 + [5.0] * 3}
    mlp = MLPDeploy(MLPNet(6, (100, 100, 100), "softsign"), **mlp_stats).eval()
    save_network(mlp, paths["mlp"], NetworkMetadata("mlp", input_idx=[0, 1, 2], **common, **mlp_stats))
    return paths


def _net_cases(paths: dict[str, str], envs: int, arrays: dict, device) -> dict:
    """Our native DriveLSTM/DriveMLP (Newton's double buffer) and the same nets on the Python path."""
    n = envs * JOINTS
    cases = {}
    for kind, drive_class, cfg_class in (("LSTM", DriveLSTM, LSTMActuatorNetCfg), ("MLP", DriveMLP, MLPActuatorNetCfg)):
        path = paths[kind.lower()]
        limits = [wp.full(n, LIMITS[k], dtype=wp.float32, device=device) for k in LIMITS]
        drive = drive_class(path, *limits)
        drive.finalize(device, n)
        states = [drive.state(n, device), drive.state(n, device)]

        def run(drive=drive, states=states):
            a = arrays
            drive.compute(a["q"], a["qd"], a["qt"], a["zeros"], None, *([a["i"]] * 4), a["f"], states[0], PHYSICS_DT)
            drive.update_state(states[0], states[1])
            states.reverse()

        cfg = cfg_class(joint_names_expr=[".*"], network_file=path, physics_dt=PHYSICS_DT, **LIMITS)
        names = [f"joint_{i}" for i in range(JOINTS)]
        act = cfg.class_type(cfg, joint_names=names, joint_ids=slice(None), num_envs=envs, device="cpu")
        tq, tqd, tqt = (wp.to_torch(arrays[k]).view(envs, JOINTS) for k in ("q", "qd", "qt"))
        tzeros = torch.zeros(envs, JOINTS)

        def run_python(act=act, tq=tq, tqd=tqd, tqt=tqt, tzeros=tzeros):
            action = ArticulationActions(joint_positions=tqt.clone(), joint_velocities=tzeros, joint_efforts=tzeros)
            act.compute(action, tq, tqd)

        cases[f"native {kind}"], cases[f"Python-path {kind}"] = run, run_python
    return cases


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _timer(fn, calls: int) -> float:
    wp.synchronize()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    wp.synchronize()
    return (time.perf_counter() - start) / calls * 1e3


def _native_gru_pd(path: str, backend: str, arrays: dict, device):
    """Our native DriveGRUPD on ``backend``, stepped on Newton's double buffer: the drive and one call."""
    n = arrays["q"].shape[0]
    full = {
        "saturation_effort": LIMITS["saturation_effort"],
        "velocity_limit": LIMITS["actuator_velocity_limit"],
        "max_motor_effort": LIMITS["actuator_effort_limit"],
    }
    limits = {k: wp.full(n, v, dtype=wp.float32, device=device) for k, v in full.items()}
    drive = DriveGRUPD(path, compute_backend=backend, **limits)
    drive.finalize(device, n)
    assert drive.backend == backend
    states = [drive.state(n, device), drive.state(n, device)]
    a = arrays

    def run():
        drive.compute(
            a["q"], a["qd"], a["qt"], a["zeros"], None, *([a["i"]] * 4), a["f"], states[0], PHYSICS_DT, device
        )
        drive.update_state(states[0], states[1])
        states.reverse()

    return drive, run


def _python_gru_pd(path: str, envs: int, host: dict[str, np.ndarray]):
    """Our CombinedGRUAndPDActuator on the Python path (torch views of ``host``): the actuator and one call."""
    cfg = CombinedGRUAndPDActuatorCfg(joint_names_expr=[".*"], network_file=path, physics_dt=PHYSICS_DT, **LIMITS)
    names = [f"joint_{i}" for i in range(JOINTS)]
    torch_act = cfg.class_type(cfg, joint_names=names, joint_ids=slice(None), num_envs=envs, device="cpu")
    tq, tqd, tqt = (torch.from_numpy(host[k]).view(envs, JOINTS) for k in ("q", "qd", "qt"))
    tzeros = torch.zeros(envs, JOINTS)

    def run_torch():  # compute() clears the action's targets, so each call gets a fresh one (as in Isaac Lab)
        action = ArticulationActions(joint_positions=tqt, joint_velocities=tzeros, joint_efforts=tzeros)
        torch_act.compute(action, tq, tqd)

    return torch_act, run_torch


def _newton_pd_cases(arrays: dict, device) -> dict:
    """Newton's stock DrivePD, alone and followed by the ClampingDCMotor clamp."""
    from newton.actuators import ClampingDCMotor, DrivePD

    n = arrays["q"].shape[0]
    positions, velocities, targets, zeros = arrays["q"], arrays["qd"], arrays["qt"], arrays["zeros"]
    indices, forces = arrays["i"], arrays["f"]
    pd = DrivePD(
        kp=wp.full(n, 25.0, dtype=wp.float32, device=device), kd=wp.full(n, 0.5, dtype=wp.float32, device=device)
    )
    pd.finalize(device, n)
    clamp = ClampingDCMotor(
        saturation_effort=wp.full(n, LIMITS["saturation_effort"], dtype=wp.float32, device=device),
        velocity_limit=wp.full(n, LIMITS["actuator_velocity_limit"], dtype=wp.float32, device=device),
        max_motor_effort=wp.full(n, LIMITS["actuator_effort_limit"], dtype=wp.float32, device=device),
    )
    clamp.finalize(device, n)
    clamped = wp.zeros(n, dtype=wp.float32, device=device)

    def run_pd():
        pd.compute(positions, velocities, targets, zeros, None, *([indices] * 4), forces, None, PHYSICS_DT, device)

    def run_pd_dc():
        run_pd()
        clamp.modify_forces(forces, clamped, positions, velocities, indices, indices, device=device)

    return {"Newton DrivePD": run_pd, "Newton DrivePD + ClampingDCMotor": run_pd_dc}


def _cases(path: str, envs: int, device, steps: int) -> dict:
    n = envs * JOINTS
    rng = np.random.default_rng(0)
    q = (0.3 * rng.standard_normal(n)).astype(np.float32)
    qd = (3.0 * rng.standard_normal(n)).astype(np.float32)
    qt = (q + 0.1 * rng.standard_normal(n)).astype(np.float32)

    # native Warp drive on Newton's double buffer
    positions, velocities, targets = (wp.array(x, dtype=wp.float32, device=device) for x in (q, qd, qt))
    zeros = wp.zeros(n, dtype=wp.float32, device=device)
    forces = wp.zeros(n, dtype=wp.float32, device=device)
    indices = wp.array(np.arange(n, dtype=np.uint32), device=device)
    arrays = {"q": positions, "qd": velocities, "qt": targets, "zeros": zeros, "i": indices, "f": forces}
    native, run_native = _native_gru_pd(path, "torch", arrays, device)
    _, run_native_warp = _native_gru_pd(path, "warp", arrays, device)
    torch_act, run_torch = _python_gru_pd(path, envs, {"q": q, "qd": qd, "qt": qt})
    pd_cases = _newton_pd_cases(arrays, device)
    nets = _net_cases(_net_files(os.path.dirname(path), steps), envs, arrays, device)
    info = {
        "fused": torch_act.uses_fused_kernels,
        "k": native.steps_per_network_step or torch_act.steps_per_network_step,
    }
    return {
        "native GRU-PD (torch)": run_native,
        "native GRU-PD (Warp)": run_native_warp,
        "Python-path GRU-PD": run_torch,
        **pd_cases,
        **nets,
    }, info


def _measure(path: str, steps: int, args, device) -> None:
    cases, info = _cases(path, args.envs, device, steps)
    calls = steps * args.cycles
    for fn in cases.values():  # warm-up: kernel compilation/loading, a first net step everywhere
        _timer(fn, steps)
    samples = {name: [] for name in cases}
    order = list(cases)
    shuffle = random.Random(0).shuffle
    load_start = _load()
    for _ in range(args.repeats):
        shuffle(order)
        for name in order:
            samples[name].append(_timer(cases[name], calls))
    print(
        f"\n{args.envs} envs x {JOINTS} joints = {args.envs * JOINTS} slots, net every k={steps} physics steps "
        f"(per-call figures averaged over {calls} calls = {args.cycles} rate cycles; median of {args.repeats} "
        f"interleaved rounds); torch threads {torch.get_num_threads()}, torch fused kernels {info['fused']}, "
        f"Warp {wp.__version__} on {device}; load average start {load_start}, end {_load()}"
    )
    print(f"  {'variant':34s} {'ms per call':>12s} {'IQR':>17s} {'ratio to native (torch)':>24s}")
    for name, values in samples.items():
        median = statistics.median(values)
        low, _, high = statistics.quantiles(values, n=4)
        ratios = [a / b for a, b in zip(values, samples["native GRU-PD (torch)"], strict=True)]
        print(f"  {name:34s} {median:12.3f} {low:8.3f}-{high:8.3f} {statistics.median(ratios):24.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=4096)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--rates", type=int, nargs="+", default=[1, 4], help="physics steps per net step (k)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (Warp CPU uses one thread)")
    parser.add_argument("--repeats", type=int, default=10, help="interleaved rounds")
    parser.add_argument("--cycles", type=int, default=2, help="rate cycles of k calls per variant and round")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    wp.init()
    device = wp.get_device("cpu")
    print(f"GRU {args.layers} x {args.hidden} on {FEATURES}, residual, PD curve + friction; final asymmetric clip")
    with tempfile.TemporaryDirectory() as tmp:
        for steps in args.rates:
            _measure(_net_file(tmp, args.hidden, args.layers, steps), steps, args, device)


if __name__ == "__main__":
    main()
