"""Per-compute() cost of the learned actuators vs their bare nets and Isaac Lab's stock actuator nets (CPU).

Robust to a loaded machine: every round times each variant once (``--calls`` calls), in a shuffled order, so
slow periods hit all variants alike; the figures are medians over ``--repeats`` rounds and the ratios are
medians of the per-round ratios (ours / reference measured in the same round). Prints the load average at the
start and the end. The issue's targets: our compute() <= 1.15x the bare TorchScript forward of the same net at
the same batch, and our MLP/LSTM <= 0.5x the stock ActuatorNetMLP/ActuatorNetLSTM on the same nets. At 4096 x 12
rows our MLP compiles its fused net by default (``compile=None``, auto); the ``compile=False`` variant shows the
eager fused kernels. The compile itself happens while the actuators are built, before any timing.

    python benchmarks/bench_actuators.py --threads 1 2 [--envs 4096] [--repeats 30] [--calls 3]

On a machine whose cores are shared with other jobs, prefer ``--threads 1``: with more intra-op threads than
free cores every kernel launch is an OpenMP fork/join that waits for a preempted thread, so the timings measure
the scheduler, and variants with more launches (ours: chunks, in-place clip) lose regardless of their work.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import torch

from isaaclab.actuators import ActuatorNetLSTMCfg, ActuatorNetMLPCfg
from isaaclab.utils.types import ArticulationActions

from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg, LSTMActuatorNetCfg, MLPActuatorNetCfg, fused_nets
from learned_actuators.learning.models import GRUNet
from learned_actuators.network_file import NetworkMetadata, save_network

SHARED = Path(os.environ.get("LEARNED_ACTUATORS_SHARED", Path(__file__).resolve().parents[1] / ".." / "shared"))
NETS = SHARED / "data" / "nets"
JOINTS = 12
PHYSICS_DT = 0.005


def _gru_file(directory: str, hidden: int, layers: int) -> str:
    torch.manual_seed(0)
    path = os.path.join(directory, "gru_pd.pt")
    meta = NetworkMetadata(
        model_type="gru_pd",
        dt=PHYSICS_DT,
        features=["q", "q_target", "qd"],
        hidden_size=hidden,
        num_layers=layers,
        input_mean=[0.0, 0.0, 0.0],
        input_std=[0.5, 0.5, 5.0],
        output_std=2.0,
        physics={"kp": 25.0, "kd": 0.5, "stall_torque": 23.7, "no_load_speed": 30.1},
    )
    save_network(GRUNet(3, hidden, layers).eval(), path, meta)
    return path


def _make(cfg, envs: int):
    names = [f"joint_{i}" for i in range(JOINTS)]
    return cfg.class_type(cfg, joint_names=names, joint_ids=slice(None), num_envs=envs, device="cpu")


def _timer(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e3


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _interleaved(cases: dict, repeats: int, calls: int, seed: int = 0) -> dict[str, list[float]]:
    """Per-call times [ms], one sample per case and round; the order of the cases is shuffled every round."""
    samples = {name: [] for name in cases}
    order = list(cases)
    shuffle = random.Random(seed).shuffle
    for _ in range(repeats):
        shuffle(order)
        for name in order:
            samples[name].append(_timer(cases[name], calls))
    return samples


def _ratio(samples: dict[str, list[float]], ours: str, reference: str) -> tuple[float, float, float]:
    """Median and quartiles of the per-round ratios ours / reference."""
    ratios = [a / b for a, b in zip(samples[ours], samples[reference], strict=True)]
    if len(ratios) == 1:
        return ratios[0], ratios[0], ratios[0]
    low, _, high = statistics.quantiles(ratios, n=4)
    return statistics.median(ratios), low, high


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[2],
        help="torch.set_num_threads value(s); one full measurement per value (stated in the output)",
    )
    parser.add_argument("--envs", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=30, help="interleaved rounds")
    parser.add_argument("--calls", type=int, default=3, help="calls per variant and round")
    parser.add_argument("--gru-hidden", type=int, default=32)
    parser.add_argument("--gru-layers", type=int, default=1)
    parser.add_argument(
        "--chunk-bytes",
        type=int,
        default=fused_nets.CHUNK_BYTES,
        help="scratch size per column chunk of the fused nets [bytes]",
    )
    args = parser.parse_args()
    fused_nets.CHUNK_BYTES = args.chunk_bytes
    for threads in args.threads:
        _measure(args, threads)


def _measure(args, threads: int) -> None:
    """Build the actuators and nets with ``threads`` intra-op threads (the fused chunking depends on it), time them."""
    torch.set_num_threads(threads)
    load_start = _load()
    generator = torch.Generator().manual_seed(0)
    state = _joint_state(args.envs, generator)
    actuators = _actuators(args)
    cases = _cases(actuators, state, args, generator)
    for fn in cases.values():  # warm-up
        _timer(fn, 3)
    samples = _interleaved(cases, args.repeats, args.calls)
    _print_samples(samples, actuators, args, threads, load_start)
    _print_ratios(samples)


def _joint_state(envs: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Joint positions, velocities and position targets drawn from ``generator``, and a zero tensor."""
    q = 0.3 * torch.randn(envs, JOINTS, generator=generator)
    qd = 3.0 * torch.randn(envs, JOINTS, generator=generator)
    q_target = q + 0.1 * torch.randn(envs, JOINTS, generator=generator)
    return {"q": q, "qd": qd, "q_target": q_target, "zeros": torch.zeros(envs, JOINTS)}


def _actuators(args) -> dict:
    """Our MLP (auto and ``compile=False``), LSTM and GRU-PD actuators and Isaac Lab's stock MLP and LSTM nets."""
    envs = args.envs
    limits = {"saturation_effort": 23.7, "actuator_effort_limit": 23.7, "actuator_velocity_limit": 30.1}
    mlp = {
        "joint_names_expr": [".*"],
        "network_file": str(NETS / "unitree_go1.pt"),
        "pos_scale": -1.0,
        "vel_scale": 1.0,
        "torque_scale": 1.0,
        "input_order": "pos_vel",
        "input_idx": [0, 1, 2],
        **limits,
    }
    lstm = {"joint_names_expr": [".*"], "network_file": str(NETS / "anydrive_v3_lstm.pt"), **limits}
    with tempfile.TemporaryDirectory() as tmp:
        gru_path = _gru_file(tmp, args.gru_hidden, args.gru_layers)
        return {
            "ours_mlp": _make(MLPActuatorNetCfg(**mlp, physics_dt=PHYSICS_DT, network_dt=PHYSICS_DT), envs),
            "ours_mlp_eager": _make(
                MLPActuatorNetCfg(**mlp, physics_dt=PHYSICS_DT, network_dt=PHYSICS_DT, compile=False), envs
            ),
            "ours_lstm": _make(LSTMActuatorNetCfg(**lstm, physics_dt=PHYSICS_DT, network_dt=PHYSICS_DT), envs),
            "ours_gru": _make(
                CombinedGRUAndPDActuatorCfg(
                    joint_names_expr=[".*"], network_file=gru_path, physics_dt=PHYSICS_DT, **limits
                ),
                envs,
            ),
            "stock_mlp": _make(ActuatorNetMLPCfg(**mlp), envs),
            "stock_lstm": _make(ActuatorNetLSTMCfg(**lstm), envs),
        }


def _compute_case(actuator, state: dict[str, torch.Tensor]):
    q, qd, q_target, zeros = state["q"], state["qd"], state["q_target"], state["zeros"]

    def run():  # compute() clears the action's targets, so each call gets a fresh one (as in Isaac Lab)
        action = ArticulationActions(joint_positions=q_target, joint_velocities=zeros, joint_efforts=zeros)
        return actuator.compute(action, q, qd)

    return run


def _bare_case(net, *inputs):
    def run():
        with torch.inference_mode():
            net(*inputs)

    return run


def _cases(actuators: dict, state: dict[str, torch.Tensor], args, generator: torch.Generator) -> dict:
    """The timed variants: compute() of every actuator, the bare TorchScript nets and our fused nets alone."""
    rows = args.envs * JOINTS
    mlp_in = torch.randn(rows, 6, generator=generator)
    lstm_in = torch.randn(rows, 1, 2, generator=generator)
    gru_in = torch.randn(rows, 1, 3, generator=generator)
    h_lstm = (torch.zeros(2, rows, 8), torch.zeros(2, rows, 8))
    h_gru = torch.zeros(args.gru_layers, rows, args.gru_hidden)
    out_row = torch.empty(1, rows)
    mlp_window = torch.randn(6, rows, generator=generator)
    ours_mlp, ours_lstm, ours_gru = actuators["ours_mlp"], actuators["ours_lstm"], actuators["ours_gru"]
    return {
        "ours MLP compute": _compute_case(ours_mlp, state),
        "ours MLP compute, compile=False": _compute_case(actuators["ours_mlp_eager"], state),
        "stock ActuatorNetMLP compute": _compute_case(actuators["stock_mlp"], state),
        "bare TorchScript MLP forward": _bare_case(ours_mlp.network, mlp_in),
        "our fused MLP forward": lambda: ours_mlp._forward(mlp_window, out_row),
        "ours LSTM compute": _compute_case(ours_lstm, state),
        "stock ActuatorNetLSTM compute": _compute_case(actuators["stock_lstm"], state),
        "bare TorchScript LSTM forward": _bare_case(ours_lstm.network, lstm_in, h_lstm),
        "our fused LSTM step": lambda: ours_lstm._step(ours_lstm._input, out_row),
        "ours GRU-PD compute": _compute_case(ours_gru, state),
        "bare TorchScript GRU forward": _bare_case(ours_gru.network, gru_in, h_gru),
        "our fused GRU step": lambda: ours_gru._step(ours_gru._input, out_row),
    }


def _print_samples(samples: dict[str, list[float]], actuators: dict, args, threads: int, load_start: str) -> None:
    """The setup line, the load average, the fused-kernel flags and the median time [ms] (IQR) of every variant."""
    ours_mlp, ours_mlp_eager = actuators["ours_mlp"], actuators["ours_mlp_eager"]
    median = {name: statistics.median(values) for name, values in samples.items()}
    print(
        f"\n{args.envs} envs x {JOINTS} joints, CPU, torch.set_num_threads({threads}), torch {torch.__version__}; "
        f"median of {args.repeats} interleaved rounds x {args.calls} calls"
    )
    print(f"load average (1, 5, 15 min): start {load_start}, end {_load()}")
    print(
        f"fused kernels in use: MLP {ours_mlp.uses_fused_kernels} (compiled: {ours_mlp.uses_compiled_kernels}; "
        f"compile=False variant: {ours_mlp_eager.uses_compiled_kernels}), "
        f"LSTM {actuators['ours_lstm'].uses_fused_kernels}, "
        f"GRU-PD {actuators['ours_gru'].uses_fused_kernels} (GRU {args.gru_layers} x {args.gru_hidden}); chunk bytes "
        f"{fused_nets.CHUNK_BYTES}"
    )
    for name, value in median.items():
        spread = statistics.quantiles(samples[name], n=4) if len(samples[name]) > 1 else [value, value, value]
        print(f"  {name:34s} {value:7.3f} ms   (IQR {spread[0]:.3f}-{spread[2]:.3f})")


def _ratio_rows() -> list[tuple[str, str, str, float | None]]:
    """(label, ours, reference, target or None) of every printed ratio."""
    rows_out = []
    for model, stock_name in (("MLP", "stock ActuatorNetMLP compute"), ("LSTM", "stock ActuatorNetLSTM compute")):
        rows_out.append(
            (
                f"ours {model} / bare TorchScript {model}",
                f"ours {model} compute",
                f"bare TorchScript {model} forward",
                1.15,
            )
        )
        rows_out.append((f"ours {model} / stock", f"ours {model} compute", stock_name, 0.50))
    eager = "ours MLP compute, compile=False"
    rows_out.append(("ours MLP, compile=False / stock", eager, "stock ActuatorNetMLP compute", 0.50))
    rows_out.append(("ours MLP, compile=False / bare TorchScript MLP", eager, "bare TorchScript MLP forward", 1.15))
    rows_out.append(("ours GRU-PD / bare TorchScript GRU", "ours GRU-PD compute", "bare TorchScript GRU forward", 1.15))
    for model, step in (
        ("MLP", "our fused MLP forward"),
        ("LSTM", "our fused LSTM step"),
        ("GRU-PD", "our fused GRU step"),
    ):
        rows_out.append((f"ours {model} compute / its fused net alone", f"ours {model} compute", step, None))
    return rows_out


def _print_ratios(samples: dict[str, list[float]]) -> None:
    print("median of per-round ratios (IQR) [target]:")
    for label, ours, reference, target in _ratio_rows():
        ratio, low, high = _ratio(samples, ours, reference)
        verdict = "" if target is None else f"[<= {target:.2f}: {'met' if ratio <= target else 'NOT met'}]"
        print(f"  {label:44s} {ratio:5.2f} ({low:.2f}-{high:.2f}) {verdict}")


if __name__ == "__main__":
    main()
