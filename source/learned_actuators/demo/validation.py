"""The demo's validation, on CPU and offline: exported nets vs honest baselines on held-out runs, in the simulator.

Every fold (held-out trajectory family) is validated with the nets trained without it, on its own test runs; the
baselines of each fold are fitted on that fold's training runs only: ``fitted_pd``, and ``ideal_pd`` / ``dc_motor``
with the gain scale, damping and torque-speed curve of the demo physics fitted there by least squares on torque (the
trainer's 1-DOF ``ideal_pd`` fit; the GRU-PD takes its own from its file). ``fitted_pd_oracle`` is fitted on the
test runs themselves and labelled as an oracle: the verdict ignores it. The folds are merged into one report over all
their runs, with a one-line verdict and provenance. Models trained with one net per gain (``train.per_gain``)
validate each held-out run with the net of its gain: such a fold runs as one sub-fold per gain
(``"<fold> kp<gain>"``), all with the fold's baselines and training runs.

``python scripts/demo.py`` (all four folds) and ``python scripts/validate_actuator.py --demo [--network-file F]``
(the fold a file was trained for) run this; the same file and runs give the same numbers through either.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from ..data.demo import DEMO_DATA_DIR, load_demo_logs
from ..data.joint_log import JointLog
from ..errors import UserInputError
from ..network_file import load_network
from .training import FoldNets, demo_preset, run_demo

__all__ = ["GROUP_KEY", "validate_folds", "validate_network"]

logger = logging.getLogger(__name__)

GROUP_KEY = "trajectory"
"""Run metadata naming the demo's folds (trajectory families)."""


def _baseline_physics(train_logs: list[JointLog]) -> dict:
    """The baselines' physics of a fold: the demo recipe's fitted on ``train_logs`` by least squares on torque.

    The same fit as the trainer's 1-DOF ``ideal_pd`` row. Not the GRU-PD's prior: that is identified by trajectory
    simulation together with a friction that IdealPD and DCMotor do not have, and its gains hold the pendulum less
    well without it (main job, simulator: ideal PD 0.119 rad with the prior's gains).
    """
    from ..learning.baselines import fit_ideal_pd
    from ..learning.presets import build_cfg

    cfg = fit_ideal_pd(train_logs, build_cfg(demo_preset())[1].physics).physics
    return {
        "kp_scale": float(cfg.kp_scale),
        "kd": float(cfg.kd),
        "stall_torque": cfg.stall_torque,
        "no_load_speed": cfg.no_load_speed,
        "kp_scale_from": "demo physics fitted on the fold's training runs by least squares on torque",
    }


def _gain_files(fold: str, per_gain: dict[str, dict[float, Path]], test: list[JointLog]) -> dict[float, list]:
    """The fold's held-out runs by gain (ascending), each gain checked to have a file of every per-gain model.

    Raises:
        UserInputError: naming the run, when a per-gain model has no file of a held-out run's gain.
    """
    from ..learning.per_gain import require_gain

    why = "one net per gain: validate it on runs of those gains, or train a net at this gain"
    runs: dict[float, list[JointLog]] = {}
    for log in test:
        for name, files in per_gain.items():
            gain = require_gain(log, files, f"fold {fold!r}: {name} has files", why)
        runs.setdefault(gain, []).append(log)
    return dict(sorted(runs.items()))


def _fold_specs(fold: str, nets: FoldNets, logs: list[JointLog], group_key: str) -> list[tuple]:
    """The :class:`~learned_actuators.validation.validate.FoldSpec` of one fold and what to record about it.

    A fold with per-gain models (:attr:`FoldNets.per_gain`) is validated as one sub-fold per gain of its held-out
    runs (``"<fold> kp<gain>"``): that gain's runs, each per-gain model by its file of that gain (under its plain
    name) beside the fold's single-file models, the same baselines' physics and training runs (``fit_logs``).
    """
    from ..learning.per_gain import gain_tag
    from ..validation.model_physics import learned_model_cfg
    from ..validation.validate import FoldSpec
    from ..validation.validation_cfg import ValidationCfg

    test = [log for log in logs if str(log.meta.get(group_key)) == fold]
    train = [log for log in logs if str(log.meta.get(group_key)) != fold]
    if not test:
        groups = sorted({str(log.meta.get(group_key)) for log in logs})
        raise UserInputError(f"fold {fold!r}: no run has {group_key} = {fold!r}; the runs' groups are {groups}.")
    parts = {None: test} if not nets.per_gain else _gain_files(fold, nets.per_gain, test)
    physics = _baseline_physics(train)
    cfg = ValidationCfg(
        replica="bench",
        kp_scale=physics["kp_scale"],
        kd=physics["kd"],
        effort_limit=physics["stall_torque"],
        velocity_limit=physics["no_load_speed"],
    )
    made = []
    for gain, runs in parts.items():
        files = dict(nets.networks) | {name: by_gain[gain] for name, by_gain in nets.per_gain.items()}
        name = fold if gain is None else f"{fold} {gain_tag(gain)}"
        logger.info("fold %s: %d test runs, %d training runs, models %s", name, len(runs), len(train), list(files))
        spec = FoldSpec(name, runs, {model: learned_model_cfg(path) for model, path in files.items()}, cfg, train)
        record = {
            "physics": physics,
            "network_files": {model: str(path) for model, path in files.items()},
            "train_runs": [log.name for log in train],
        }
        if gain is not None:
            record |= {"fold": fold, "gain": gain, "test_runs": [log.name for log in runs]}
        made.append((spec, record))
    return made


def validate_folds(
    out_dir: str | Path,
    folds: dict[str, FoldNets],
    logs: list[JointLog] | None = None,
    group_key: str = GROUP_KEY,
    extra_settings: dict | None = None,
):
    """Validate the nets of every fold on its held-out runs, merge the folds, write ``report.html``/``metrics.json``.

    Args:
        out_dir: Where the report goes.
        folds: ``{fold (held-out group): FoldNets}`` (:func:`~.training.run_demo` returns them); a ``gru_pd`` net
            supplies the physics of the fold's ``ideal_pd``/``dc_motor`` baselines (else it is fitted on the fold's
            training runs). A fold with per-gain nets (:attr:`~.training.FoldNets.per_gain`) is validated as one
            sub-fold per gain of its held-out runs, ``"<fold> kp<gain>"`` (each run by the file of its gain; the
            baselines as for the whole fold); ``settings["per_gain_models"]`` lists those models.
        logs: All runs (default: the built-in demo logs); a fold's test runs are those whose ``meta[group_key]`` is
            the fold, its training runs all others.
        group_key: Run metadata naming the folds.
        extra_settings: Recorded under ``settings["demo"]``.

    Returns:
        ``(result, paths)``: the merged :class:`~learned_actuators.validation.results.ValidationResult` and the report
        files.
    """
    from ..validation.provenance import provenance
    from ..validation.report import write_report
    from ..validation.validate import run_validation_folds

    t0 = time.perf_counter()
    logs = load_demo_logs() if logs is None else logs
    made = [item for fold, nets in folds.items() for item in _fold_specs(fold, nets, logs, group_key)]
    merged = run_validation_folds([spec for spec, _ in made])
    for spec, record in made:
        (merged.settings["folds"][spec.name] if len(made) > 1 else merged.settings).update(record)
    per_gain = sorted({name for nets in folds.values() for name in nets.per_gain})
    if per_gain:
        merged.settings["per_gain_models"] = per_gain
    sources = sorted({log.source for log in logs})
    column_map = [DEMO_DATA_DIR / "column_map.json"] if logs and str(DEMO_DATA_DIR) in sources[0] else []
    files = [path for nets in folds.values() for path in nets.networks.values()]
    files += [path for nets in folds.values() for by_gain in nets.per_gain.values() for path in by_gain.values()]
    merged.provenance = provenance([*sources, *column_map, *files])
    merged.settings["demo"] = {
        "group_key": group_key,
        "folds": list(folds),
        "validation_time_s": time.perf_counter() - t0,
        **(extra_settings or {}),
    }
    paths = write_report(merged, out_dir, num_runs=made[0][0].cfg.plot_trajectories)
    logger.info("validation of %d folds done in %.0f s", len(folds), time.perf_counter() - t0)
    return merged, paths


def validate_network(
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
    out_dir = Path(out_dir)
    t0 = time.perf_counter()
    fold = demo_preset()["data"]["test_groups"][0]
    if network_file is None:
        overrides = [f"train.max_epochs={max_epochs}"] if max_epochs is not None else []
        run_demo(out_dir / "train", overrides=overrides, models=["gru_pd"], baseline=False)
        network_file = out_dir / "train" / "export" / "gru_pd.pt"
    else:
        _, meta = load_network(network_file)
        split = (meta.source or {}).get("preset_split") if meta is not None else None
        groups = {str(log.meta.get(GROUP_KEY)) for log in load_demo_logs()}
        fold = split if split in groups else fold
    nets = FoldNets({"gru_pd": Path(network_file), **{k: Path(v) for k, v in (extra_networks or {}).items()}})
    settings = {"network_file": str(network_file), "train_time_s": time.perf_counter() - t0}
    return validate_folds(out_dir, {fold: nets}, extra_settings=settings)
