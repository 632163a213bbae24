"""Benchmark: what knowing the whole low-level command is worth (issue 13 item 3).

A synthetic bench driven like a Unitree low-level controller drives its motors: target angle, target velocity
``qd* = dq*/dt``, feed-forward torque (gravity compensation plus a random sine) and a gain that steps up mid-run
(:func:`~learned_actuators.data.synthetic.simulate_reference_runs` with ``full_command=True``; torque lag, stiction
and label noise as in the other synthetic benches). Whole runs are split 70/15/15 into train/val/test. Each model is
fitted on the training runs only and scored on the test runs twice: given the logged command (``seen``), and on the
same runs with the command channels removed, as a position-only log would give them (``blind``; the run's median
gain as its ``kp``):

* ``physics``: the recipe's physics prior fitted by least squares (no net);
* ``pd_lsq``: the least-squares PD + friction baseline;
* ``gru_pd``: the ``recipe_gru_pd`` preset (``--epochs``), with ``qd_target`` and ``tau_ff`` among its features when
  it sees the command.

Printed per model: held-out torque RMSE [N·m] and mean 1-DOF rollout position RMSE [rad] (every run driven from its
first frame by its logged command), and the ratio blind / seen. JSON to ``--out``.

    python benchmarks/bench_whole_command.py [--runs 200] [--epochs 30] [--out runs/bench_whole_command]
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from pathlib import Path

import numpy as np

from learned_actuators.atomic_io import atomic_write_json
from learned_actuators.data.synthetic import simulate_reference_runs
from learned_actuators.learning import train
from learned_actuators.learning.baselines import fit_pd_friction, fit_physics
from learned_actuators.learning.evaluation import evaluate
from learned_actuators.learning.features import run_command, tau_phys
from learned_actuators.learning.presets import apply_overrides, build_cfg, load_preset
from learned_actuators.learning.rollout import rollout

COMMAND = ("qd_target", "tau_ff", "kp", "kd")


def _blind(logs):
    """The runs without their command channels: what a log of the target angle alone gives."""
    return [
        dataclasses.replace(g, channels={}, meta={**g.meta, "kp": float(np.median(g.channels["kp"]))}) for g in logs
    ]


class _PhysicsOnly:
    """The fitted physics prior as a model (``predict`` and ``stepper_for``) for :func:`evaluate`/:func:`rollout`."""

    def __init__(self, cfg):
        self.cfg = cfg

    def predict(self, log):
        p, kp, extras = run_command(log, self.cfg)
        return tau_phys(log.q[:, 0], log.qd[:, 0], log.q_target[:, 0], kp, p, **extras)


def _scores(model, logs) -> dict:
    out = {"torque_rmse": float(evaluate(model, logs, with_rollout=False)["rmse"])}
    if hasattr(model, "stepper_for"):
        res = rollout(model, logs)
        out |= {"rollout_rmse": res.mean_rmse, "diverged": int(res.diverged.sum())}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("runs/bench_whole_command"))
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--duration", type=float, default=6.0, help="seconds per run")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()
    logs = simulate_reference_runs(args.runs, args.duration, 0.01, args.seed, full_command=True)
    order = np.random.default_rng(args.seed).permutation(len(logs))
    n_train, n_val = round(0.7 * len(logs)), round(0.15 * len(logs))
    train_logs = [logs[i] for i in order[:n_train]]
    val_logs = [logs[i] for i in order[n_train : n_train + n_val]]
    test_logs = [logs[i] for i in order[n_train + n_val :]]
    print(f"simulated {len(logs)} runs x {args.duration:g} s at 100 Hz ({n_train}/{n_val}/{len(test_logs)})")
    extra = ["train.progress=false", "train.tensorboard=false", "train.plots=false", f"train.max_epochs={args.epochs}"]
    preset = apply_overrides(load_preset("recipe_gru_pd"), extra)
    _, cfg = build_cfg(preset)
    seen_features = [*cfg.gru.features, "qd_target", "tau_ff"]
    results: dict[str, dict] = {}
    for view, (fit_on, val_on, test_on) in {
        "seen": (train_logs, val_logs, test_logs),
        "blind": (_blind(train_logs), _blind(val_logs), _blind(test_logs)),
    }.items():
        t1 = time.perf_counter()
        physics = _PhysicsOnly(fit_physics(fit_on, cfg.physics))
        pd = fit_pd_friction(fit_on)
        run_cfg = dataclasses.replace(cfg, gru=dataclasses.replace(cfg.gru, features=seen_features))
        net = train(run_cfg if view == "seen" else cfg, fit_on, val_on).model
        for name, model in (("physics", physics), ("pd_lsq", pd), ("gru_pd", net)):
            results.setdefault(name, {})[view] = _scores(model, test_on)
        print(f"  {view}: fitted and scored in {(time.perf_counter() - t1) / 60:.1f} min", flush=True)
    print(f"\nheld-out ({len(test_logs)} runs); seen = the model knows q̇*, τ_ff and the per-step gains")
    print(f"{'model':<8} {'torque seen':>11} {'blind':>8} {'ratio':>6} {'rollout seen':>12} {'blind':>8} {'ratio':>6}")
    for name, r in results.items():
        s, b = r["seen"], r["blind"]
        roll = (
            f"{s['rollout_rmse']:>12.4f} {b['rollout_rmse']:>8.4f} {b['rollout_rmse'] / s['rollout_rmse']:>6.2f}"
            if "rollout_rmse" in s
            else f"{'-':>12} {'-':>8} {'-':>6}"
        )
        ratio = b["torque_rmse"] / s["torque_rmse"]
        print(f"{name:<8} {s['torque_rmse']:>11.4f} {b['torque_rmse']:>8.4f} {ratio:>6.2f} {roll}")
    print(f"total {(time.perf_counter() - t0) / 60:.1f} min")
    args.out.mkdir(parents=True, exist_ok=True)
    payload = dict(runs=args.runs, duration_s=args.duration, epochs=args.epochs, seed=args.seed, results=results)
    atomic_write_json(args.out / "whole_command.json", payload, indent=2)
    print(f"wrote {args.out / 'whole_command.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
