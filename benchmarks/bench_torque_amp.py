"""Torque-aware AMP evidence (issue 15 item 4): does the discriminator's torque term make a policy's torques match?

Stages, each in its own process (one Isaac Lab simulation per process), every file under ``--workdir``:

1. Reference profiles: PPO on the GRU-PD flat task (starter actuator model) for ``--ref_minutes``, then
   ``scripts/play_policy.py`` records them (skipped with ``--reference DIR``).
2. ``scripts/train_torque_amp.py`` on the GRU-PD AMP task with ``--torque_weight 1`` and with ``0`` (ordinary AMP),
   ``--minutes`` of wall time each (a checkpoint every iteration; the run is stopped at the deadline).
3. For the first (iteration 0) and the last checkpoint of each arm: play and record, then per-joint torque
   Wasserstein-1 (``scipy.stats.wasserstein_distance``, all frames of all envs pooled) against the reference, the
   mean over joints, and the mean style reward the AMP algorithm logged (``Loss/amp_style_reward``) at those
   iterations.

Figures are printed as a table and written as JSON to ``--out`` (atomically; an existing file is refused). The
machine may be shared, so the load average is recorded. Usage (CPU)::

    python benchmarks/bench_torque_amp.py --out logs/bench_torque_amp.json [--minutes 30] [--ref_minutes 30]
        [--num_envs 16] [--play_steps 500] [--disc_batch 4096] [--reference DIR] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REF_TASK = "LearnedActuators-Velocity-Flat-UnitreeGo2-GRUPD-Offline"
AMP_TASK = "LearnedActuators-Velocity-Flat-UnitreeGo2-GRUPD-AMP-Offline"
WEIGHTS = (1.0, 0.0)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True, help="JSON results file (must not exist)")
    p.add_argument("--minutes", type=float, default=30.0, help="wall time of each AMP training arm (default 30)")
    p.add_argument("--ref_minutes", type=float, default=30.0, help="wall time of the reference PPO run")
    p.add_argument("--reference", type=Path, default=None, help="folder of reference profiles (skips stage 1)")
    p.add_argument("--num_envs", type=int, default=16)
    p.add_argument("--play_steps", type=int, default=500, help="policy steps recorded per play")
    p.add_argument("--disc_batch", type=int, default=None, help="discriminator batch size (default: the cfg's)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--workdir", type=Path, default=None, help="default: logs/bench_torque_amp/<time>")
    args = p.parse_args(argv)
    if args.out.exists():
        p.error(f"--out {args.out} exists; runs never overwrite earlier runs")
    if args.reference is not None and not args.reference.is_dir():
        p.error(f"--reference {args.reference}: no such folder")
    return args


def _run(cmd: list[str], cwd: Path, log: Path, minutes: float | None = None) -> float:
    """Run ``cmd`` in ``cwd`` (its ``logs/`` land there), output to ``log``; stop it after ``minutes``. -> seconds."""
    cwd.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = proc.wait(timeout=None if minutes is None else minutes * 60.0)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            return time.monotonic() - start
    if rc != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {rc}; see {log}")
    return time.monotonic() - start


def _checkpoints(cwd: Path) -> list[Path]:
    """Loadable ``model_<it>.pt`` under ``cwd/logs`` by iteration (one cut by the stop is dropped)."""
    import torch

    found = sorted(cwd.glob("logs/rsl_rl/*/*/model_*.pt"), key=lambda f: int(re.findall(r"\d+", f.stem)[-1]))
    good = []
    for f in found:
        try:
            torch.load(f, map_location="cpu", weights_only=False)
            good.append(f)
        except Exception:  # a checkpoint half written when the run was stopped
            print(f"skipping unreadable checkpoint {f}")
    if not good:
        raise RuntimeError(f"no checkpoint under {cwd / 'logs'}")
    return good


def _iteration(ckpt: Path) -> int:
    return int(re.findall(r"\d+", ckpt.stem)[-1])


def _train_cmd(args: argparse.Namespace, script: str, task: str, extra: list[str]) -> list[str]:
    return [
        sys.executable, str(ROOT / "scripts" / script), "--task", task, "--num_envs", str(args.num_envs),
        "--max_iterations", "100000", "--device", args.device, "agent.save_interval=1", *extra,
    ]  # fmt: skip


def _play(args, task: str, ckpt: Path, out_dir: Path, log: Path, extra: list[str]) -> Path:
    cmd = [
        sys.executable, str(ROOT / "scripts" / "play_policy.py"), "--task", task, "--num_envs", str(args.num_envs),
        "--device", args.device, "--checkpoint", str(ckpt), "--num_steps", str(args.play_steps),
        "--record_dir", str(out_dir), "--no_export", *extra,
    ]  # fmt: skip
    _run(cmd, out_dir.parent, log)
    return out_dir


def _torques(folder: Path, names: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """All frames of all NPZ profiles in ``folder``: (frames, joints) torques, columns ordered as ``names``."""
    files = sorted(folder.glob("*.npz"))
    if not files:
        raise RuntimeError(f"no torque profile in {folder}")
    chunks = []
    for f in files:
        with np.load(f) as data:
            own = [str(n) for n in data["dof_names"]]
            names = names or own
            chunks.append(data["joint_torques"][:, [own.index(n) for n in names]])
    return np.concatenate(chunks), names


def _w1(policy: np.ndarray, reference: np.ndarray) -> np.ndarray:
    from scipy.stats import wasserstein_distance

    return np.array([wasserstein_distance(policy[:, j], reference[:, j]) for j in range(reference.shape[1])])


def _style_rewards(cwd: Path) -> dict[int, float]:
    """Iteration -> mean style reward logged by the AMP algorithm (tensorboard)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    values: dict[int, float] = {}
    for events in cwd.glob("logs/rsl_rl/*/*/events.out.tfevents.*"):
        acc = EventAccumulator(str(events), size_guidance={"scalars": 0})
        acc.Reload()
        for tag in (t for t in acc.Tags()["scalars"] if t.endswith("amp_style_reward")):
            values.update({e.step: e.value for e in acc.Scalars(tag)})
    return values


def _reference(args: argparse.Namespace, work: Path) -> tuple[Path, dict]:
    if args.reference is not None:
        return args.reference.resolve(), {"reference": str(args.reference)}
    cwd = work / "reference"
    secs = _run(_train_cmd(args, "train_policy.py", REF_TASK, []), cwd, work / "reference_train.log", args.ref_minutes)
    ckpt = _checkpoints(cwd)[-1]
    folder = _play(args, REF_TASK, ckpt, cwd / "profiles", work / "reference_play.log", [])
    return folder, {"reference_checkpoint": str(ckpt), "reference_iterations": _iteration(ckpt) + 1,
                    "reference_train_s": round(secs, 1)}  # fmt: skip


def _arm(args: argparse.Namespace, work: Path, weight: float, ref: Path, ref_tau: np.ndarray, names) -> dict:
    from learned_actuators.amp.cli import amp_overrides

    amp = amp_overrides(argparse.Namespace(torque_motion_files=[ref], torque_weight=weight, style_reward_weight=None))
    if args.disc_batch is not None:
        amp.append(f"agent.algorithm.discriminator_batch_size={args.disc_batch}")
    cwd = work / f"amp_w{weight:g}"
    ours = ["--torque_motion_files", str(ref), "--torque_weight", f"{weight:g}", *amp[2:]]
    cmd = _train_cmd(args, "train_torque_amp.py", AMP_TASK, ours)
    secs = _run(cmd, cwd, work / f"amp_w{weight:g}_train.log", args.minutes)
    ckpts = _checkpoints(cwd)
    style = _style_rewards(cwd)
    result = {"torque_weight": weight, "train_s": round(secs, 1), "iterations": _iteration(ckpts[-1]) + 1}
    for label, ckpt in (("start", ckpts[0]), ("end", ckpts[-1])):
        log = work / f"amp_w{weight:g}_play_{label}.log"
        tau, _ = _torques(_play(args, AMP_TASK, ckpt, cwd / f"play_{label}", log, amp), names)
        w1 = _w1(tau, ref_tau)
        per_joint = dict(zip(names, w1.round(4).tolist(), strict=True))
        result[label] = {"iteration": _iteration(ckpt), "w1_per_joint": per_joint,
                         "w1_mean": float(w1.mean()), "style_reward": style.get(_iteration(ckpt))}  # fmt: skip
    return result


def _table(results: dict) -> str:
    rows = [f"{'torque_weight':>13} {'iters':>5} {'W1 start':>9} {'W1 end':>9} {'change':>8} {'style start':>11} "
            f"{'style end':>9}"]  # fmt: skip
    for arm in results["arms"]:
        s, e = arm["start"], arm["end"]
        fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
        rows.append(f"{arm['torque_weight']:>13g} {arm['iterations']:>5d} {s['w1_mean']:>9.3f} {e['w1_mean']:>9.3f} "
                    f"{100 * (e['w1_mean'] / s['w1_mean'] - 1):>+7.1f}% {fmt(s['style_reward']):>11} "
                    f"{fmt(e['style_reward']):>9}")  # fmt: skip
    rows.append("W1: per-joint torque Wasserstein-1 [N·m] vs the reference, mean over the 12 joints")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    from learned_actuators.atomic_io import atomic_write_json

    work = (args.workdir or ROOT / "logs" / "bench_torque_amp" / time.strftime("%Y-%m-%d_%H-%M-%S")).resolve()
    work.mkdir(parents=True, exist_ok=args.workdir is not None)
    ref, info = _reference(args, work)
    ref_tau, names = _torques(ref)
    results = {"settings": {k: str(v) for k, v in vars(args).items()}, "workdir": str(work), **info,
               "reference_frames": int(ref_tau.shape[0]), "arms": []}  # fmt: skip
    for weight in WEIGHTS:
        results["arms"].append(_arm(args, work, weight, ref, ref_tau, names))
    results["load_average"] = os.getloadavg()
    print(_table(results))
    print(f"load average {results['load_average']}; work files in {work}")
    atomic_write_json(args.out, results, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
