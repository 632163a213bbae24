"""The demo's training: GRU-PD, LSTM and MLP on the built-in BAM logs, per fold, exported, kept for the validation.

The recipe is the shipped preset ``demo`` (one fold: ``up_and_down`` held out; ``scripts/train_actuator.py --demo``)
or ``demo_all_folds`` (leave-one-trajectory-out over the four trajectory families; ``scripts/demo.py``), both in the
Hydra config group ``preset`` (``learned_actuators/config/preset/``, their comments say why each value). ``quick``
(``scripts/demo.py --quick``, for CI) runs the one-fold recipe with :data:`QUICK_OVERRIDES`.

Exports: ``export/<model>.pt`` and ``.onnx`` are the nets of the last fold, ``up_and_down`` (trained on the other
three trajectory families); ``export/folds/<fold>/<model>.pt`` holds the net of every fold (TorchScript with
metadata; its ``source`` names the held-out fold, the training runs and, for the GRU-PD, the fitted gain scale
``kp_scale``). A model trained with ``train.per_gain`` (one net per logged gain, :mod:`~..learning.per_gain`)
exports one file per gain instead, ``<model>_kp<gain>.pt`` (:func:`~..learning.per_gain.gain_tag`; its ``source``
names the gain and the training runs of that gain), in both places. :func:`run_demo` also returns every fold's files
(:class:`FoldNets`), which the validation uses; the baselines' physics is fitted there, on each fold's training runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ..learning.cfg_checks import model_types
from ..learning.data_loading import load_data, splits_of
from ..learning.evaluation import results_text
from ..learning.pipeline import run_preset
from ..learning.presets import build_cfg, compose_preset

__all__ = ["ALL_FOLDS_PRESET", "PRESET", "QUICK_OVERRIDES", "DemoRun", "FoldNets", "demo_preset", "run_demo"]

PRESET = "demo"
"""Shipped preset of the one-fold demo (``up_and_down`` held out)."""
ALL_FOLDS_PRESET = "demo_all_folds"
"""Shipped preset of the main job: every trajectory family held out in turn, a shorter recipe per model."""
QUICK_OVERRIDES = ("train.max_epochs=2", "train.physics.fit_generations=6", "train.progress=false")
"""The CI check of the demo: the same three models, data, split, exports and outputs, two epochs each and six CMA-ES
generations per trajectory fit (results are not meaningful; the code path is the one of the full demo)."""


@dataclass
class FoldNets:
    """What one fold's training left for its validation."""

    networks: dict[str, Path] = field(default_factory=dict)
    """Model kind -> the fold's TorchScript file (``export/folds/<fold>/<model>.pt``), for models of one net."""
    per_gain: dict[str, dict[float, Path]] = field(default_factory=dict)
    """Model kind -> logged gain (raw ``meta["kp"]``, :func:`~..learning.per_gain.gain_of`) -> the fold's
    TorchScript file of the net trained at that gain (``export/folds/<fold>/<model>_kp<gain>.pt``), for models
    trained with ``train.per_gain``; a held-out run is validated with the file of its gain."""


class DemoRun(NamedTuple):
    """Result of :func:`run_demo`."""

    rows: list[dict]
    """Result rows (models and baselines, pooled over the folds)."""
    table: str
    """The markdown table (torque RMSE [N·m], R², rollout RMSE [rad] held out and on the training runs, training
    time [s]), the generalisation notes (:func:`~..learning.evaluation.generalisation_notes`) and the wall time."""
    folds: dict[str, FoldNets]
    """Held-out fold -> its nets and physics, folds sorted by name."""


def demo_preset(all_folds: bool = False, quick: bool = False, overrides: Sequence[str] = ()) -> dict:
    """The resolved demo preset (``demo_all_folds`` with ``all_folds`` unless ``quick``), with ``overrides``."""
    name = ALL_FOLDS_PRESET if all_folds and not quick else PRESET
    return compose_preset(name, [*overrides, *(QUICK_OVERRIDES if quick else ())], label=f"preset {name}: ")


def _collect_folds(out_dir: Path, shipped_fold: str, folds: dict[str, FoldNets]):
    """``on_split`` callback: export every fold's net (TorchScript) and the shipped fold's nets (also ONNX).

    A :class:`~..learning.per_gain.PerGainModel` exports each gain's net (``<model>_kp<gain>``), kept in
    :attr:`FoldNets.per_gain`.
    """
    from ..learning.export import export_model
    from ..learning.per_gain import PerGainModel

    def on_split(model_type, split_name, model, split, metrics):
        if model_type not in model_types():
            return
        source = {
            "preset_split": split_name,
            "held_out_group": split_name,
            "data": "built-in BAM XL330 demo logs",
            "train_runs": [log.name for log in split.train + split.val],
        }
        fold = folds.setdefault(split_name, FoldNets())
        fold_dir = out_dir / "export" / "folds" / split_name
        if isinstance(model, PerGainModel):  # one file per gain: <model>_kp<gain>, its own gain's training runs
            runs = split.train + split.val
            paths = model.export(fold_dir, model_type, source, onnx=False, train_runs=runs)
            fold.per_gain[model_type] = {gain: p["torchscript"] for gain, p in paths.items()}
            if split_name == shipped_fold:
                model.export(out_dir / "export", model_type, source, train_runs=runs)
            return
        if model.kind.uses_physics:
            source["kp_scale"] = float(model.physics.kp_scale) if model.physics.kp is None else None
        paths = export_model(model, fold_dir, model_type, source=source, onnx=False)
        fold.networks[model_type] = paths["torchscript"]
        if split_name == shipped_fold:
            export_model(model, out_dir / "export", model_type, source=source)

    return on_split


def run_demo(
    out_dir: str | Path = "runs/demo",
    overrides: Sequence[str] = (),
    quick: bool = False,
    all_folds: bool = False,
    models: list[str] | None = None,
    baseline: bool = True,
) -> DemoRun:
    """Train the models on the demo logs, evaluate on the held-out runs, export.

    Args:
        out_dir: Run folder (the caller checks it is new; see :mod:`learned_actuators.learning.outputs`).
        overrides: Hydra overrides of the demo preset (e.g. ``["train.max_epochs=5"]``).
        quick: Apply :data:`QUICK_OVERRIDES` (two epochs per model, one fold) on top.
        all_folds: Hold out each trajectory family in turn (preset ``demo_all_folds``); else ``up_and_down`` only.
        models: Model types to train (default: GRU-PD, LSTM and MLP).
        baseline: Add the least-squares PD + friction baseline and the physics identified by trajectory simulation
            (``traj_physics``), both fitted on each fold's training runs, to the table.

    Returns:
        The result rows, the table and every fold's exported nets with the GRU-PD's physics (:class:`DemoRun`).
    """
    out_dir = Path(out_dir)
    preset = demo_preset(all_folds, quick, overrides)
    t0 = time.perf_counter()
    data_cfg, _ = build_cfg(preset)
    logs = load_data(data_cfg)
    shipped = splits_of(logs, data_cfg)[-1][0]  # as run_preset's own export: the last fold (up_and_down)
    folds: dict[str, FoldNets] = {}
    rows = run_preset(
        preset,
        out_dir,
        models=models,
        export=False,
        baseline=baseline,
        on_split=_collect_folds(out_dir, shipped, folds),
        logs=logs,
        trajectory_baseline=baseline,
    )
    wall = f"\n\nTotal wall time: {time.perf_counter() - t0:.0f} s; exports in {out_dir / 'export'}"
    ordered = {
        k: FoldNets(dict(sorted(folds[k].networks.items())), dict(sorted(folds[k].per_gain.items())))
        for k in sorted(folds)
    }
    return DemoRun(rows, results_text(rows) + wall, ordered)
