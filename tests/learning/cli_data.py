"""Small synthetic bench-CSV data sets and presets for command-line tests (two inertia groups, seconds to train)."""

from __future__ import annotations

import json
from pathlib import Path

from learned_actuators.config import shipped_file
from learned_actuators.data.synthetic import write_bench_csv
from tests.learning.conftest import make_runs

QUICK_TRAIN = {
    "physics": {"kp": 3.0, "fit": False},
    "max_epochs": 3,
    "progress": False,
    "tensorboard": False,
    "plots": False,
    "seq_len_s": 0.25,
    "batch_size": 4,
    "rollout_loss": {"enabled": False},
    "gru": {"hidden_size": 8},
}


def write_bench_data(root: Path, duration: float = 1.0) -> Path:
    """Bench CSV folder ``root/bench`` with groups ``light`` and ``heavy`` (two runs each); returns it."""
    for k, (group, inertia) in enumerate((("light", 0.01), ("heavy", 0.02))):
        runs = make_runs(kps=(3.0, 3.0), duration=duration, inertia=inertia, mass=0.0, seed=k, keep_qdd=True)
        for i, log in enumerate(runs):
            write_bench_csv(log, root / "bench" / group / f"run{i}.csv")
    return root / "bench"


def write_preset(root: Path, data: Path, name: str = "preset.json", **train) -> Path:
    """A preset JSON (recipe_gru_pd + the bench data + :data:`QUICK_TRAIN` + ``train``) at ``root/name``."""
    preset = {
        "extends": str(shipped_file("presets", "recipe_gru_pd")),
        "data": {
            "reader": "bench_csv",
            "path": str(data),
            "bench": {"group_inertia": {"light": 0.01, "heavy": 0.02}},
        },
        "train": {**QUICK_TRAIN, **train},
    }
    path = root / name
    path.write_text(json.dumps(preset, indent=1))
    return path
