"""From a resolved preset to trained, evaluated and exported nets: per split, per model, plus the baselines.

:func:`run_preset` is the orchestration only. Its parts live in single-purpose modules: presets and overrides
(:mod:`~.presets`, Hydra), the data section and reading the runs (:mod:`~.data_cfg`, :mod:`~.data_loading`),
evaluation and the results table (:mod:`~.evaluation`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..atomic_io import atomic_write_json
from ..data.joint_log import JointLog
from ..data.splits import Split
from ..errors import UserInputError
from .baselines import fit_ideal_pd, fit_pd_friction
from .cfg_checks import model_types
from .checkpoints import finished_run
from .data_loading import load_data, splits_of
from .ensemble import Ensemble, calibration, member_plan, noise_std
from .evaluation import evaluate, fit_rollout, per_split_results, pool_results, test_weight
from .export import export_model
from .outputs import remove_partial_files
from .parallel_fits import fit_all, job_count
from .per_gain import PerGainModel, gain_tag, group_by_gain, require_gain
from .presets import build_cfg, model_train_cfg
from .run_passes import bounded_runs, frame_sample
from .trainer import train
from .trainer_cfg import TrainCfg

__all__ = ["run_preset"]

logger = logging.getLogger(__name__)

Fitter = Callable[[str, Split], tuple[Any, float | None]]
"""``fit(split_name, split) -> (model, train time [s] or None to measure it)``: one row of the results table."""


def _check_plan(model_type: str, cfg: TrainCfg) -> None:
    """Refuse ``train.per_gain``, ``train.ensemble`` and a gain-scaled net where they do not combine."""
    gain_scaled = cfg.kind.scales_by_gain(cfg.kind.model_cfg(cfg))
    clash = None
    if cfg.per_gain and gain_scaled:
        clash = "train.per_gain with a gain-scaled net (gain_scaled_error); use one of them."
    elif cfg.per_gain and cfg.ensemble > 1:
        clash = f"train.per_gain with train.ensemble = {cfg.ensemble}; use one of them."
    elif cfg.ensemble > 1 and not cfg.kind.ensembles:
        clash = f"train.ensemble = {cfg.ensemble}; ensembles are of gru_pd models, set train.ensemble to 1."
    if clash:
        raise UserInputError(f"models.{model_type}: {clash}")


def _trainer(model_type: str, cfg: TrainCfg, out_dir: Path, resume: bool) -> Fitter:
    """Train ``model_type`` per split in ``out_dir/<model>/<split>`` (a finished split of a resumed run is kept).

    With ``train.ensemble = K > 1`` the split's ``K`` members train in ``.../<split>/member_<k>`` and the row's
    model is their :class:`~.ensemble.Ensemble`; with ``train.per_gain`` one net per gain of the training runs
    trains in ``.../<split>/kp<gain>`` and the row's model is their :class:`~.per_gain.PerGainModel`.
    """
    _check_plan(model_type, cfg)  # when the trainer is built, before any model of the run trains

    def one(member_cfg: TrainCfg, runs, val, run_dir: Path):
        done = finished_run(run_dir) if resume else None
        if done is not None:  # finished before the interruption: its best model, as trained
            model, earlier = done
            return model, float(earlier.get("wall_time_s", 0.0))
        checkpoint = run_dir / "checkpoint.pt"
        resume_from = checkpoint if resume and checkpoint.is_file() else None
        return train(member_cfg, runs, val, run_dir=run_dir, resume=resume_from).model, None

    def fit(split_name: str, split: Split):
        run_dir = out_dir / model_type / split_name
        if cfg.per_gain:
            groups, val = group_by_gain(split.train), group_by_gain(split.val)
            for log in split.test:  # before any training: every test run needs a net of its gain
                require_gain(log, groups)
            fitted = {g: one(cfg, runs, val.get(g, []), run_dir / gain_tag(g)) for g, runs in groups.items()}
            model = PerGainModel({g: m for g, (m, _) in fitted.items()})
            times = [t for _, t in fitted.values()]
            return model, None if None in times else float(sum(times))
        if cfg.kind.scales_by_gain(cfg.kind.model_cfg(cfg)):  # one net, used per gain with that gain folded in
            groups = group_by_gain(split.train)
            for log in split.test:
                require_gain(log, groups, "a gain-scaled net is folded", "no training run has its gain")
            net, seconds = one(cfg, split.train, split.val, run_dir)
            by_gain = {g: cfg.kind.at_gain(net, float(net.run_params(runs[0]).kp)) for g, runs in groups.items()}
            return PerGainModel(by_gain), seconds
        if cfg.ensemble == 1:
            return one(cfg, split.train, split.val, run_dir)
        plan = member_plan(cfg, split.train, cfg.ensemble, cfg.ensemble_bootstrap)
        fitted = [one(c, runs, split.val, run_dir / f"member_{k}") for k, (c, runs) in enumerate(plan)]
        times = [t for _, t in fitted]
        ensemble = Ensemble([m for m, _ in fitted])
        if split.val:  # the label-noise term, on runs the members did not train on
            ensemble.noise = noise_std(ensemble, split.val)
        elif cfg.ensemble_bootstrap:  # out of bag: each training run, by the members that did not draw it
            ensemble.noise = noise_std(ensemble, split.train, [runs for _, runs in plan])
        else:
            logger.warning(
                "note: split %s: an ensemble without validation runs (train.val_ratio=0) or bootstrap members has no "
                "label-noise term, so its spread understates the error on new runs; set train.val_ratio > 0 or "
                "train.ensemble_bootstrap=true to fit one.",
                split_name,
            )
        return ensemble, None if None in times else float(sum(times))

    return fit


def _baselines(cfg: TrainCfg, logs: list[JointLog], trajectory: bool) -> dict[str, Fitter]:
    """Baseline fitters by row name, each fitted on a split's training runs only.

    ``pd_friction_lsq`` (least squares on torque) always; with ``trajectory``, when every run has a known load and a
    gain, ``ideal_pd`` (:class:`~.baselines.IdealPDBaseline`: the preset's ``train.physics`` fitted by least squares,
    as the GRU-PD's prior) and ``traj_physics`` (physics identified by trajectory simulation,
    :func:`~learned_actuators.learning.sysid_fit.fit_trajectory_model`, starting from the same physics), and when the
    GRU-PD's prior is trajectory-fitted (``physics.fit="trajectory"``) that prior alone (``traj_prior``: the same fit,
    no extra cost; what the net adds over its physics). They see at
    most ``train.fit_frames`` frames, as the trainer's own physics fit does (every k-th frame for least squares, the
    leading runs for the trajectory fit; all frames of data that small): lazily read runs (``data.streaming``) stay
    bounded in memory.
    """
    physics, budget = cfg.physics, cfg.fit_frames
    from .features import run_command
    from .sysid_fit import fit_trajectory_model, fit_trajectory_prior

    fitters: dict[str, Callable] = {"pd_friction_lsq": lambda runs: fit_pd_friction(frame_sample(runs, budget))}
    if trajectory:
        try:
            for log in logs:
                run_command(log, physics)
        except UserInputError:
            trajectory = False
    if trajectory and all("inertia" in log.meta for log in logs):
        fitters["ideal_pd"] = lambda runs: fit_ideal_pd(frame_sample(runs, budget), physics)
        fitters["traj_physics"] = lambda runs: fit_trajectory_model(bounded_runs(runs, budget), physics)
        if physics.fit == "trajectory":
            fitters["traj_prior"] = lambda runs: fit_trajectory_prior(bounded_runs(runs, budget), physics)
    return {name: (lambda _, split, f=f: (f(split.train + split.val), None)) for name, f in fitters.items()}


@dataclass
class _Fold:
    """One row fitted on one split and evaluated on its test runs (:func:`_fit_fold`)."""

    model: Any
    metrics: dict
    single: dict | None = None
    """An ensemble's first member alone, on the same test runs (what one model of the same recipe reaches)."""


def _fit_fold(fit: Fitter, split_name: str, split: Split) -> _Fold:
    """Fit one row on ``split`` and evaluate it on the split's test runs (in a worker process or here)."""
    t0 = time.perf_counter()
    model, train_time = fit(split_name, split)
    metrics = evaluate(model, split.test)
    if "rollout_rmse" in metrics:  # the same rollout on the runs it was fitted on
        metrics.update(fit_rollout(model, split.train + split.val))
    single = None
    if isinstance(model, Ensemble):  # the calibration of the members' spread on the test runs
        spread = calibration(model, split.test)
        metrics.update({k: spread[k] for k in ("within_1sigma", "within_2sigma")}, ensemble_std=spread["mean_std"])
        single = evaluate(model.members[0], split.test)
    metrics["train_time_s"] = time.perf_counter() - t0 if train_time is None else train_time
    return _Fold(model, metrics, single)


def _row(name: str, folds: list[_Fold], splits: list[tuple[str, Split]], on_split, export_dir: Path | None):
    """Pool the folds of ``name`` into one result row (after ``on_split`` and the export of the last split's model).

    An ensemble gets a second row, ``<name>_single``: its first member alone, on the same test runs.
    """
    weights = [test_weight(split.test) for _, split in splits]
    for (split_name, split), fold in zip(splits, folds, strict=True):
        if on_split is not None:
            on_split(name, split_name, fold.model, split, fold.metrics)
        if export_dir is not None and split_name == splits[-1][0]:
            if isinstance(fold.model, PerGainModel):
                fold.model.export(export_dir, name, source={"preset_split": split_name})
            else:
                exported = fold.model.combined() if isinstance(fold.model, Ensemble) else fold.model
                export_model(exported, export_dir, name, source={"preset_split": split_name})
    rows = [(name, [f.metrics for f in folds])]
    if folds and folds[0].single is not None:
        rows.append((f"{name}_single", [f.single for f in folds]))
    return [
        {
            "model": row,
            **pool_results(r, weights),
            "splits": [n for n, _ in splits],
            "per_split": per_split_results(splits, r),
        }
        for row, r in rows
    ]


def _fit_plan(names: list[str], cfgs: dict[str, TrainCfg], base: TrainCfg, n_splits: int) -> tuple[list, dict]:
    """The (row, split index) fits in order of preference, and which waits for which.

    The ``traj_prior`` row's fits come first: a model whose prior is that same identification (``physics`` equal to
    the preset's, ``fit: trajectory``) waits for its split's and reuses it (:mod:`.parallel_fits`). Then the models
    (``cfgs``), the longest fits, then the other baselines.
    """
    first = [n for n in names if n == "traj_prior"]
    order = first + [n for n in names if n in cfgs] + [n for n in names if n not in cfgs and n not in first]
    shared = [
        m
        for m, c in cfgs.items()
        if first and c.kind.uses_physics and c.physics.fit == "trajectory" and c.physics == base.physics
    ]
    tasks = [(n, i) for n in order for i in range(n_splits)]
    return tasks, {(m, i): ("traj_prior", i) for m in shared for i in range(n_splits)}


def run_preset(
    preset: dict,
    out_dir: str | Path,
    models: list[str] | None = None,
    export: bool = True,
    baseline: bool = True,
    on_split=None,
    logs: list[JointLog] | None = None,
    resume: bool = False,
    trajectory_baseline: bool = False,
) -> list[dict[str, Any]]:
    """Train (per split/fold), evaluate on the test runs and export; returns one result row per model.

    Args:
        preset: Resolved preset dict (``data``, ``train`` and optional ``models``: per-model ``train`` values).
        out_dir: Run directories go to ``out_dir/<model>/<split>``, exported nets to ``out_dir/export``.
        models: Model types to train (default: the preset's ``models`` keys, else ``train.model_type``).
        export: Export the model of the last split (TorchScript + ONNX).
        baseline: Add the least-squares PD + viscous + Coulomb baseline (one fit for all gains; training runs only).
        on_split: Optional ``callback(model_name, split_name, model, split, metrics)`` after each trained split (the
            benchmark uses it for error-vs-horizon curves and plots; the demo for its per-fold exports).
        logs: The runs, when already loaded (else ``load_data`` reads them).
        resume: Continue an interrupted run in ``out_dir``: a finished split (its ``metrics.json`` written) keeps
            its best model, a split with a ``checkpoint.pt`` continues from it, the others train from the start;
            the result is the one of an uninterrupted run.
        trajectory_baseline: With ``baseline``, also the physics baselines fitted on each split's training runs:
            the ideal PD (row ``ideal_pd``) and the physics identified by trajectory simulation (row
            ``traj_physics``; tens of seconds per split); runs with a known load and gain only.
    """
    out_dir = Path(out_dir)
    data_cfg, train_cfg = build_cfg(preset)
    logs = load_data(data_cfg) if logs is None else logs
    models = models or list(preset.get("models") or {}) or [train_cfg.model_type]
    unknown = [m for m in models if m not in model_types()]
    if unknown:
        raise UserInputError(f"--models {' '.join(unknown)}: unknown model type; expected {', '.join(model_types())}.")
    splits = splits_of(logs, data_cfg, train_cfg.seed)
    if resume:
        remove_partial_files(out_dir)
    baselines = _baselines(train_cfg, logs, trajectory_baseline) if baseline else {}
    cfgs = {m: model_train_cfg(preset, m) for m in models}
    tasks, after = _fit_plan([*models, *baselines], cfgs, train_cfg, len(splits))
    jobs = job_count(train_cfg.jobs, len(tasks))
    if jobs > 1:  # one progress bar over the fits instead of one per training
        cfgs = {m: dataclasses.replace(c, progress=False) for m, c in cfgs.items()}
    fitters = {**{m: _trainer(m, cfgs[m], out_dir, resume) for m in models}, **baselines}

    def done(task, fold: _Fold) -> None:
        shown = {k: v for k, v in fold.metrics.items() if k != "rollout_rmse_runs"}
        logger.info("%s %s: %s", task[0], splits[task[1]][0], shown)

    folds = fit_all(
        tasks,
        lambda task: _fit_fold(fitters[task[0]], *splits[task[1]]),
        jobs,
        after,
        done,
        progress=train_cfg.progress and jobs > 1,
    )
    export_dir = out_dir / "export" if export else None
    rows = [
        row
        for n in fitters
        for row in _row(
            n, [folds[(n, i)] for i in range(len(splits))], splits, on_split, export_dir if n in models else None
        )
    ]
    atomic_write_json(out_dir / "results.json", rows)
    return rows
