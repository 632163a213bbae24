"""Benchmark: validation with one replay per model against one replay per actuator cfg, on the main job's folds.

Trains the main job's nets (the demo preset on all four folds; ``--quick``: one fold, two epochs), then validates every
fold's nets on its held-out runs twice in the same run, in the main job's sub-folds (one per gain of the per-gain
LSTM and MLP): with ``ValidationCfg.group_replays`` (the default: a model's nets of every fold and gain side by side
in one replay, :class:`~learned_actuators.validation.env_groups.EnvGroupsActuator`) and without (one replay per
actuator cfg, the way before), in that order: the first also pays the simulator's one-time start (about 12 s on a
2-core CPU), so the ratio is conservative. Printed: wall time and replays of each, the ratio, and per model the largest
difference of a run's rollout position RMSE and of its simulated angle between the two (the simulator's batch size
changes float32 rounding, which a stiff model amplifies). JSON to ``--out``.

    python benchmarks/bench_validation.py [--quick] [--out runs/bench_validation]
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from learned_actuators.atomic_io import atomic_write_json
from learned_actuators.learning.outputs import check_out_dir


def _validate(specs: list, grouped: bool) -> tuple[object, float, Counter]:
    """``run_validation_folds`` on ``specs`` with ``group_replays=grouped``: result, time [s], replays by model."""
    from isaaclab.utils import replace

    from learned_actuators.validation import validate

    replays: Counter = Counter()
    replay = validate.replay

    def counted(batch, actuator_cfg, cfg, name="model", gains=None):
        replays[name] += 1
        return replay(batch, actuator_cfg, cfg, name, gains)

    validate.replay = counted
    try:
        specs = [dataclasses.replace(s, cfg=replace(s.cfg, group_replays=grouped, show_progress=False)) for s in specs]
        t0 = time.perf_counter()
        result = validate.run_validation_folds(specs)
        return result, time.perf_counter() - t0, replays
    finally:
        validate.replay = replay


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one fold, two epochs per model (the quick main job)")
    ap.add_argument("--out", type=Path, default=Path("runs/bench_validation"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from learned_actuators.data.demo import load_demo_logs
    from learned_actuators.demo.training import run_demo
    from learned_actuators.demo.validation import GROUP_KEY, _fold_specs

    out = check_out_dir(args.out)  # a new folder: an earlier run is never overwritten
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    trained = run_demo(out / "train", quick=args.quick, all_folds=True)
    print(f"training: {time.perf_counter() - t0:.0f} s, folds {list(trained.folds)}", flush=True)
    logs = load_demo_logs()
    specs = [spec for fold, nets in trained.folds.items() for spec, _ in _fold_specs(fold, nets, logs, GROUP_KEY)]
    runs = {name: _validate(specs, grouped) for name, grouped in (("grouped", True), ("per_cfg", False))}
    (grouped, t_grouped, n_grouped), (per_cfg, t_per_cfg, n_per_cfg) = runs["grouped"], runs["per_cfg"]
    print(f"\nvalidation of {len(specs)} (sub-)folds, {grouped.batch.num_envs} runs:")
    print(f"  one replay per model: {t_grouped:6.1f} s, {sum(n_grouped.values())} replays {dict(n_grouped)}")
    print(f"  one replay per cfg:   {t_per_cfg:6.1f} s, {sum(n_per_cfg.values())} replays {dict(n_per_cfg)}")
    print(f"  ratio {t_grouped / t_per_cfg:.2f} x (one replay per model / one per cfg)")
    models = {}
    print(f"\n{'model':18s} {'mean RMSE':>10s} {'max |d run RMSE| rel':>22s} {'max |d q| [rad]':>16s}")
    for m in grouped.models:
        other = per_cfg.model(m.name)
        a, b = np.asarray(m.rollout["pos_rmse_per_traj"]), np.asarray(other.rollout["pos_rmse_per_traj"])
        rel = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-9)))
        dq = float(np.nanmax(np.abs(m.q_sim - other.q_sim)[grouped.batch.mask]))  # on the frames that count
        models[m.name] = {
            "mean_rmse": float(a.mean()),
            "mean_rmse_per_cfg": float(b.mean()),
            "max_rel": rel,
            "max_dq": dq,
        }
        print(f"{m.name:18s} {a.mean():10.4f} {rel:22.2e} {dq:16.2e}")
    atomic_write_json(
        out / "bench_validation.json",
        {
            "quick": args.quick,
            "seconds": {"grouped": t_grouped, "per_cfg": t_per_cfg},
            "ratio": t_grouped / t_per_cfg,
            "replays": {"grouped": dict(n_grouped), "per_cfg": dict(n_per_cfg)},
            "models": models,
        },
    )
    print(f"\nresults in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
