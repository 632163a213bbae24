"""Benchmark (not a test): streaming training of logs larger than memory against the in-memory path.

1. Writes ``--hours`` of synthetic 1 kHz, 12-joint logs (60 s run files in the torque-profile NPZ format, float32)
   into a temporary folder (removed afterwards): the vectorised reference actuator of
   :func:`~learned_actuators.data.synthetic.simulate_reference_runs` on a 1-DOF pendulum per joint.
2. In a subprocess, streaming training (``data.streaming=true``): reads the folder lazily, builds the window store on
   disk and runs ``--steps`` optimiser steps of the trainer's epoch loop. Prints its peak RSS (``ru_maxrss``; goal
   <= 2 GB), the index and store-build times and windows/s.
3. In another subprocess, the in-memory path on ``--memory-minutes`` of the same data: windows/s and peak RSS, and
   the ratio of the two (goal: streaming within 20 % of in-memory).

A table is printed and the figures written to ``--out`` (JSON). The free disk is checked first.

    python benchmarks/bench_streaming.py --out runs/bench_streaming.json --model lstm   # 10 h (~35 GB of disk)
    python benchmarks/bench_streaming.py --hours 1 --model gru_pd                       # GRU-PD (~15 min)
    python benchmarks/bench_streaming.py --hours 0.1 --memory-minutes 3 --steps 5       # a quick look
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tqdm.auto import tqdm

JOINTS, RUN_S, RATE_HZ = 12, 60.0, 1000.0
STORE_BYTES_PER_FRAME = 8 * (5 + 5) + 8 * (5 + 3) // 10  # train frames (F <= 5 inputs), validation rows (<10 %)
FILE_BYTES_PER_FRAME = 4 * 4  # q, qd, q*, tau as float32


def _write_files(folder: Path, files: int, chunk: int = 50) -> float:
    """``files`` run files of 60 s x 12 joints at 1 kHz; returns the seconds taken."""
    from learned_actuators.data.synthetic import simulate_reference_runs, write_profile_npz

    t0 = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"joint_{j:02d}" for j in range(JOINTS)]
    for first in tqdm(range(0, files, chunk), desc="write run files", unit="chunk"):
        count = min(chunk, files - first)
        runs = simulate_reference_runs(count * JOINTS, duration=RUN_S, dt=1 / RATE_HZ, seed=first, name="bench")
        for f in range(count):
            write_profile_npz(runs[f * JOINTS : (f + 1) * JOINTS], folder / f"run_{first + f:05d}.npz", names)
        del runs
    return time.perf_counter() - t0


def _cfg(model: str, val_ratio: float):
    from learned_actuators.learning import PhysicsCfg, TrainCfg

    cfg = TrainCfg(model_type=model, progress=False, tensorboard=False, plots=False, val_ratio=val_ratio, seed=0)
    cfg.physics = PhysicsCfg(kp=5.0, kd=0.2, stall_torque=3.0, no_load_speed=6.0, fit=True)  # GRU-PD's prior
    return cfg


class _Steps:
    """The training windows seen as ``steps`` batches of random windows (the trainer's epoch loop runs on it)."""

    def __init__(self, data, steps: int, batch: int):
        self.data, self.size = data, steps * batch

    def __len__(self) -> int:
        return self.size

    def batch(self, idx):
        return self.data.batch(idx % len(self.data))


def child(args) -> None:
    """One measured run (``--child streaming`` or ``--child memory``): JSON of its figures to ``--result``."""
    import torch

    from learned_actuators.learning.data_cfg import DataCfg
    from learned_actuators.learning.data_loading import load_data
    from learned_actuators.learning.trainer import _train_epoch, prepare_training

    streaming = args.child == "streaming"
    t0 = time.perf_counter()
    runs = load_data(DataCfg(reader="torque_profile", path=args.data, streaming=streaming, split="runs"))
    t_load = time.perf_counter() - t0
    cfg = _cfg(args.model, args.val_ratio)
    torch.manual_seed(cfg.seed)
    with tempfile.TemporaryDirectory(dir=args.work) as run_dir:
        t0 = time.perf_counter()
        setup = prepare_training(cfg, runs, None, Path(run_dir))
        t_build = time.perf_counter() - t0
        store = sum(p.stat().st_size for p in Path(run_dir).rglob("*") if p.is_file())
        model, batch = setup.model, setup.model.kind.batch_size(setup.cfg)
        opt = torch.optim.AdamW(model.net.parameters(), lr=cfg.lr)
        gen = torch.Generator().manual_seed(0)
        _train_epoch(model, setup.cfg, _Steps(setup.data, 3, batch), opt, gen, 0)  # warm-up
        t0 = time.perf_counter()
        _train_epoch(model, setup.cfg, _Steps(setup.data, args.steps, batch), opt, gen, 1)
        t_steps = time.perf_counter() - t0
        t0 = time.perf_counter()
        val = setup.scored.metrics(model) if setup.scored else {}
        t_val = time.perf_counter() - t0
        setup.close()
    frames = sum(i.length for i in runs.infos) if streaming else sum(len(g) for g in runs)
    out = {
        "mode": args.child,
        "model": args.model,
        "joint_runs": len(runs),
        "hours_per_joint": frames / RATE_HZ / 3600 / JOINTS,
        "frames": frames,
        "windows": len(setup.data),
        "load_s": t_load,
        "build_s": t_build,
        "store_gb": store / 1e9,
        "steps": args.steps,
        "batch": batch,
        "windows_per_s": args.steps * batch / t_steps,
        "val_runs": len(setup.val_logs),
        "val_score_s": t_val,
        "val_rmse": val.get("rmse"),
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
    }
    Path(args.result).write_text(json.dumps(out, indent=1))


def _run_child(mode: str, args, data: Path, work: Path) -> dict:
    result = work / f"{mode}.json"
    cmd = [sys.executable, __file__, "--child", mode, "--data", str(data), "--work", str(work), "--result", str(result)]
    cmd += [
        "--steps",
        str(args.steps),
        "--memory-minutes",
        str(args.memory_minutes),
        "--val-ratio",
        str(args.val_ratio),
        "--model",
        args.model,
    ]
    print(f"[{mode}] training in a subprocess ...", flush=True)
    subprocess.run(cmd, check=True)
    return json.loads(result.read_text())


def _check_disk(work: Path, files: int, frames_of: int) -> None:
    """Refuse when the disk cannot hold ``files`` new run files and the store of ``frames_of`` files."""
    frames = frames_of * RUN_S * RATE_HZ * JOINTS
    need = (files / max(frames_of, 1) * frames * FILE_BYTES_PER_FRAME + frames * STORE_BYTES_PER_FRAME) * 1.1
    free = shutil.disk_usage(work).free
    if free < need:
        raise SystemExit(
            f"bench_streaming: {free / 1e9:.1f} GB free under {work}, {need / 1e9:.1f} GB needed for {files} run files "
            "and the training store; free disk, give --work on a larger disk, or fewer --hours."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=10.0, help="hours of 12-joint logs for streaming (default 10)")
    parser.add_argument("--memory-minutes", type=int, default=20, help="minutes of logs for the in-memory run")
    parser.add_argument("--steps", type=int, default=40, help="optimiser steps measured per run (default 40)")
    parser.add_argument(
        "--model",
        default="gru_pd",
        choices=("gru_pd", "lstm", "mlp"),
        help="net kind (default gru_pd; its physics features cost ~7 us per frame to build the store, lstm ~0)",
    )
    parser.add_argument("--val-ratio", type=float, default=0.01, help="validation share (whole runs)")
    parser.add_argument("--work", default=None, help="folder for the temporary data (default: system temp)")
    parser.add_argument("--out", default=None, help="JSON of the results")
    parser.add_argument("--logs", default=None, help="use this folder of run files (kept) instead of writing them")
    parser.add_argument("--child", choices=("streaming", "memory"), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    files = max(1, round(args.hours * 3600 / RUN_S))
    args.memory_minutes = min(args.memory_minutes, files)
    base = Path(args.work or tempfile.gettempdir())
    _check_disk(base, 0 if args.logs else files, files)
    work = Path(tempfile.mkdtemp(prefix="bench_streaming_", dir=base))
    try:
        if args.logs:  # run files written by an earlier call (kept; not counted in the generation time)
            (work / "logs").symlink_to(Path(args.logs).resolve())
            gen_s = 0.0
        else:
            gen_s = _write_files(work / "logs", files)
        (work / "memory_logs").mkdir()
        for f in sorted((work / "logs").glob("*.npz"))[: args.memory_minutes]:  # one minute per file
            (work / "memory_logs" / f.name).symlink_to(f)
        rows = [_run_child("streaming", args, work / "logs", work)]
        rows.append(_run_child("memory", args, work / "memory_logs", work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = rows[0]["windows_per_s"] / rows[1]["windows_per_s"]
    _print(rows, ratio, gen_s)
    if args.out:
        from learned_actuators.atomic_io import atomic_write_json

        atomic_write_json(args.out, {"generate_s": gen_s, "runs": rows, "windows_per_s_ratio": ratio})


def _print(rows: list[dict], ratio: float, gen_s: float) -> None:
    print(f"\nrun files written in {gen_s:.0f} s")
    print("| mode | hours/joint | windows | index [s] | store build [s] | store [GB] | windows/s | peak RSS [GB] |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['mode']} | {r['hours_per_joint']:.2f} | {r['windows']} | {r['load_s']:.0f} | {r['build_s']:.0f} | "
            f"{r['store_gb']:.2f} | {r['windows_per_s']:.1f} | {r['peak_rss_gb']:.2f} |"
        )
    print(f"streaming windows/s / in-memory windows/s = {ratio:.2f} (goal >= 0.8); peak RSS goal <= 2 GB")


if __name__ == "__main__":
    main()
