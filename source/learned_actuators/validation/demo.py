"""The README main job's validation, on CPU and offline: exported nets vs honest baselines on held-out runs.

Every fold (held-out trajectory family) is validated with the nets trained without it, on its own test runs; the
baselines of each fold are fitted on that fold's training runs only (``fitted_pd``) or take the gain scale, damping
and torque-speed curve of the fold's GRU-PD file (``ideal_pd``, ``dc_motor``; that physics was fitted on the same
training runs). ``fitted_pd_oracle`` is fitted on the test runs themselves and labelled as an oracle: the verdict
ignores it. The folds are merged into one report over all their runs, with a one-line verdict and provenance.

``python scripts/demo.py`` (all four folds) and ``python scripts/validate_actuator.py --demo [--network-file F]``
(the fold a file was trained for) run this; the same file and runs give the same numbers through either.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from learned_actuators.data.demo import DEMO_DATA_DIR, load_demo_logs
from learned_actuators.data.joint_log import JointLog
from learned_actuators.errors import UserInputError
from learned_actuators.network_file import load_network

from .model_physics import OPEN_LIMITS, learned_model_cfg, network_physics

__all__ = ["GROUP_KEY", "OPEN_LIMITS", "network_physics", "run", "validate_folds"]

logger = logging.getLogger(__name__)

GROUP_KEY = "trajectory"
"""Run metadata naming the demo's folds (trajectory families)."""


def _fitted_physics(train_logs: list[JointLog]) -> dict:
    """The demo recipe's physics fitted on ``train_logs`` (for a fold without a GRU-PD file)."""
    from learned_actuators.learning.baselines import fit_physics
    from learned_actuators.learning.demo import DEMO_PRESET
    from learned_actuators.learning.models_cfg import PhysicsCfg

    cfg = fit_physics(train_logs, PhysicsCfg(**{k: v for k, v in DEMO_PRESET["train"]["physics"].items()}))
    return {
        "kp_scale": float(cfg.kp_scale),
        "kd": float(cfg.kd),
        "stall_torque": cfg.stall_torque,
        "no_load_speed": cfg.no_load_speed,
        "kp_scale_from": "demo physics fitted on the fold's training runs",
    }


def validate_folds(
    out_dir: str | Path,
    fold_networks: dict[str, dict[str, str | Path]],
    logs: list[JointLog] | None = None,
    group_key: str = GROUP_KEY,
    extra_settings: dict | None = None,
):
    """Validate the nets of every fold on its held-out runs, merge the folds, write ``report.html``/``metrics.json``.

    Args:
        out_dir: Where the report goes.
        fold_networks: ``{fold (held-out group): {model name: network file}}``; a ``gru_pd`` file supplies the
            physics of the fold's ``ideal_pd``/``dc_motor`` baselines (else it is fitted on the fold's training runs).
        logs: All runs (default: the built-in demo logs); a fold's test runs are those whose ``meta[group_key]`` is
            the fold, its training runs all others.
        group_key: Run metadata naming the folds.
        extra_settings: Recorded under ``settings["demo"]``.

    Returns:
        ``(result, paths)``: the merged :class:`~learned_actuators.validation.results.ValidationResult` and the report
        files.
    """
    from .provenance import provenance
    from .report import write_report
    from .validate import FoldSpec, run_validation_folds
    from .validation_cfg import ValidationCfg

    t0 = time.perf_counter()
    logs = load_demo_logs() if logs is None else logs
    specs, extra, files = [], {}, []
    for fold, nets in fold_networks.items():
        test = [log for log in logs if str(log.meta.get(group_key)) == fold]
        train = [log for log in logs if str(log.meta.get(group_key)) != fold]
        if not test:
            groups = sorted({str(log.meta.get(group_key)) for log in logs})
            raise UserInputError(f"fold {fold!r}: no run has {group_key} = {fold!r}; the runs' groups are {groups}.")
        nets = {name: Path(path) for name, path in nets.items()}
        physics = network_physics(nets["gru_pd"], train) if "gru_pd" in nets else _fitted_physics(train)
        cfg = ValidationCfg(
            replica="bench",
            kp_scale=physics["kp_scale"],
            kd=physics["kd"],
            effort_limit=physics["stall_torque"],
            velocity_limit=physics["no_load_speed"],
        )
        logger.info("fold %s: %d test runs, %d training runs, models %s", fold, len(test), len(train), list(nets))
        specs.append(FoldSpec(fold, test, {name: learned_model_cfg(path) for name, path in nets.items()}, cfg, train))
        extra[fold] = {
            "physics": physics,
            "network_files": {name: str(path) for name, path in nets.items()},
            "train_runs": [log.name for log in train],
        }
        files += list(nets.values())
    merged = run_validation_folds(specs)
    for fold, settings in extra.items():
        (merged.settings["folds"][fold] if len(specs) > 1 else merged.settings).update(settings)
    folds = list(fold_networks)
    sources = sorted({log.source for log in logs})
    column_map = [DEMO_DATA_DIR / "column_map.json"] if logs and str(DEMO_DATA_DIR) in sources[0] else []
    merged.provenance = provenance([*sources, *column_map, *files])
    merged.settings["demo"] = {
        "group_key": group_key,
        "folds": folds,
        "validation_time_s": time.perf_counter() - t0,
        **(extra_settings or {}),
    }
    paths = write_report(merged, out_dir, num_runs=specs[0].cfg.plot_trajectories)
    logger.info("validation of %d folds done in %.0f s", len(folds), time.perf_counter() - t0)
    return merged, paths


def run(
    out_dir: str | Path = "runs/validation_demo",
    network_file: str | Path | None = None,
    max_epochs: int | None = None,
    extra_networks: dict[str, str | Path] | None = None,
):
    """Validate a GRU-PD on the fold it was trained for (training one first unless ``network_file`` is given).

    Args:
        out_dir: Output folder (training runs in ``out_dir/train``).
        network_file: An exported GRU-PD file to validate instead of training one; its held-out fold is the
            ``source.preset_split`` it was exported with (the demo's ``up_and_down`` when absent), its baselines use
            its own physics.
        max_epochs: Override of the demo recipe's training epochs (for quick checks).
        extra_networks: Exported LSTM / MLP files of the same fold to validate beside the GRU-PD, by name.

    Returns:
        ``(result, paths)``: the :class:`~learned_actuators.validation.results.ValidationResult` and the report files.
    """
    from learned_actuators.learning.demo import DEMO_PRESET, run_demo

    out_dir = Path(out_dir)
    t0 = time.perf_counter()
    fold = DEMO_PRESET["data"]["test_groups"][0]
    if network_file is None:
        overrides = {"train": {"max_epochs": max_epochs}} if max_epochs is not None else {}
        run_demo(out_dir / "train", overrides=overrides, models=["gru_pd"], baseline=False)
        network_file = out_dir / "train" / "export" / "gru_pd.pt"
    else:
        _, meta = load_network(network_file)
        split = (meta.source or {}).get("preset_split") if meta is not None else None
        groups = {str(log.meta.get(GROUP_KEY)) for log in load_demo_logs()}
        fold = split if split in groups else fold
    train_s = time.perf_counter() - t0
    nets = {"gru_pd": network_file, **(extra_networks or {})}
    return validate_folds(
        out_dir, {fold: nets}, extra_settings={"network_file": str(network_file), "train_time_s": train_s}
    )
