"""One-call validation: replay a data set with each model and the analytic baselines, compute every metric.

.. code-block:: python

    from learned_actuators.validation import ValidationCfg, run_validation, write_report

    result = run_validation(logs, {"gru_pd": learned_model_cfg("gru_pd.pt")}, ValidationCfg(), fit_logs=train_logs)
    write_report(result, "outputs/validation")

Nothing is copied by hand: the decimation is chosen for the log's rate and the nets' (:mod:`.rates`), a GRU-PD model's
gains come from its own file, and the baselines' gain scale, damping and torque-speed curve from the cfg where set,
else from the first GRU-PD file (:mod:`.model_physics`). ``ValidationCfg.benches`` replays every run on several bench
geometries side by side in one simulation. The same net and runs give the same numbers through this call and through
``scripts/validate_actuator.py``, which calls it.

Baselines (:mod:`.baselines`) are honest: ``fitted_pd`` is fitted on ``fit_logs`` (the training runs) only, never on
the runs it is validated on; ``ideal_pd`` and ``dc_motor`` take their gains and torque-speed curve from the cfg or the
GRU-PD file's physics, itself fitted on the training runs. ``fitted_pd_oracle`` is the same PD fitted on the
validated runs themselves: an in-sample, optimistic reference (kind ``"oracle"``) that the verdict ignores.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from isaaclab.actuators import ActuatorBaseCfg
from isaaclab.utils import replace

from learned_actuators.data.joint_log import JointLog

from .baselines import BASELINES, ORACLES, baseline_models, has_logged_gain, log_gains
from .bench import expand_benches, joint_benches, run_benches
from .env_groups import EnvGroupsActuatorCfg, can_group
from .model_physics import baseline_cfg, clip_model, file_physics, model_gain_cfg
from .rates import network_dt, resolve_decimation
from .replay import Gains, held_joint_torque, per_step, replay, resolve_replica, single_step_torque
from .results import ValidationResult, evaluate_model
from .trajectories import TrajectoryBatch, pad_steps
from .validation_cfg import ValidationCfg

__all__ = [
    "BASELINES",
    "FoldSpec",
    "baseline_models",
    "has_logged_gain",
    "log_gains",
    "run_validation",
    "run_validation_folds",
]

logger = logging.getLogger(__name__)


def run_validation(
    logs: list[JointLog] | TrajectoryBatch,
    models: dict[str, ActuatorBaseCfg],
    cfg: ValidationCfg | None = None,
    fit_logs: list[JointLog] | TrajectoryBatch | None = None,
) -> ValidationResult:
    """Validate ``models`` (and the baselines of ``cfg``) on the logged runs in the simulator.

    Each model is replayed open loop on every run in parallel (one env per run) and fed the logged state for
    the single-step metric; the baselines run the same way in the same call.

    Args:
        logs: The runs (or a prepared batch).
        models: Actuator cfgs under test by name (any explicit Isaac Lab actuator cfg, ours included).
        cfg: Validation settings. Defaults to :class:`ValidationCfg`.
        fit_logs: Training runs (never the validated ones) that ``fitted_pd`` is fitted on; without them only the
            in-sample ``fitted_pd_oracle`` runs.

    Raises:
        LogFormatError: for logs that cannot be replayed (names the file and the field).
        ValueError: for a rate the simulator cannot reach, or a model name clashing with a baseline.
    """
    return run_validation_folds([FoldSpec("", logs, models, cfg or ValidationCfg(), fit_logs)])


@dataclass
class FoldSpec:
    """One fold of a cross-validation: its held-out runs, the models trained without them, the training runs."""

    name: str
    """Fold name (e.g. the held-out group); ``""`` for a single validation without folds."""
    logs: list[JointLog] | TrajectoryBatch
    """The fold's held-out runs."""
    models: dict[str, ActuatorBaseCfg]
    """Actuator cfgs under test by name (the same names in every fold)."""
    cfg: ValidationCfg
    """Validation settings of the fold (its baselines' gains and limits)."""
    fit_logs: list[JointLog] | TrajectoryBatch | None = None
    """The fold's training runs (``fitted_pd`` is fitted on them)."""


def _as_batch(logs) -> TrajectoryBatch:
    return logs if isinstance(logs, TrajectoryBatch) else TrajectoryBatch.from_logs(list(logs))


def _fit_batch(fold: FoldSpec, batch: TrajectoryBatch) -> TrajectoryBatch | None:
    """The fold's training runs as a batch (None without), checked to share no run with the validated ones."""
    if fold.fit_logs is None or len(fold.fit_logs) == 0:
        return None
    fit_batch = _as_batch(fold.fit_logs)
    runs = set(zip(batch.names, batch.sources, strict=True))
    overlap = set(zip(fit_batch.names, fit_batch.sources, strict=True)) & runs
    if overlap:
        raise ValueError(
            f"fit_logs share runs with the validated logs ({sorted(overlap)[:3]}...): baselines are fitted on "
            "training runs only."
        )
    return fit_batch


def _replica_batch(batch: TrajectoryBatch, cfg: ValidationCfg, replica: str) -> tuple[TrajectoryBatch, dict]:
    """The batch to replay (one env per run and bench geometry) with every env's bench in its meta, and settings."""
    if replica != "bench":
        if cfg.benches:
            raise ValueError(f"ValidationCfg.benches applies to the one-joint bench; the replica is {replica!r}.")
        if replica == "joints":  # every joint's own load, checked before the simulator starts
            loads = [{b.joint_name: asdict(b) for b in row} for row in joint_benches(batch, cfg)]
            return batch, {"joint_loads": dict(zip(batch.names, loads, strict=True))}
        return batch, {}
    batch = expand_benches(batch, cfg) if cfg.benches else batch.take(range(batch.num_envs))  # own metas
    benches = run_benches(batch, cfg)
    for meta, bench in zip(batch.metas, benches, strict=True):
        meta.update(mass=bench.mass, length=bench.length, inertia=bench.inertia, bench=bench.label)
    return batch, {"benches": {b.label: asdict(b) for b in benches}}


def _prepare(fold: FoldSpec) -> dict:
    """Batch, sim settings and the models/baselines to replay of one fold."""
    cfg = fold.cfg
    batch = _as_batch(fold.logs)
    fit_batch = _fit_batch(fold, batch)
    net_dts = {name: network_dt(c) for name, c in fold.models.items()}
    decimation = resolve_decimation(batch.dt, cfg, net_dts.values(), batch.sources[0])
    replica = resolve_replica(batch, cfg)
    batch, bench_settings = _replica_batch(batch, cfg, replica)
    physics = {name: file_physics(c, fit_batch) for name, c in fold.models.items()}
    physics = {name: p for name, p in physics.items() if p is not None}
    # the sim cfg: the decimation chosen, every env's bench already in its meta, the baselines' physics resolved
    sim_cfg = replace(cfg, decimation=decimation, inertia=None, mass=None, length=None, benches=())
    base = baseline_cfg(sim_cfg, next(iter(physics.values()), None))
    settings = {
        "cfg": cfg.to_dict(),
        "replica": replica,
        "decimation": decimation,
        "decimation_from": "automatic" if cfg.decimation is None else "ValidationCfg.decimation",
        "network_dt": {n: d for n, d in net_dts.items() if d is not None},
        "baseline_physics": {k: getattr(base, k) for k in ("kp_scale", "kd", "effort_limit", "velocity_limit")},
        "model_physics": physics,
        "learned_models_clipped": cfg.clip_models,
        **bench_settings,
    }
    baselines, skipped = baseline_models(batch, base, fit_batch)
    clash = set(fold.models) & set(baselines)
    if clash:
        raise ValueError(f"model names {sorted(clash)} clash with baseline names; rename them.")
    needs_scale = has_logged_gain(batch)
    todo = {}
    for name, actuator_cfg in fold.models.items():
        gain_cfg = model_gain_cfg(cfg, base, physics.get(name), name, needs_scale)
        gains = log_gains(batch, gain_cfg) if cfg.gains_from_log else None
        if cfg.clip_models and getattr(actuator_cfg, "network_file", None):
            actuator_cfg = clip_model(actuator_cfg, base, name)
        todo[name] = ("model", actuator_cfg, gains, {})
    todo |= {name: ("oracle" if name in ORACLES else "baseline", c, g, p) for name, (c, g, p) in baselines.items()}
    sim_key = (replica, decimation, cfg.gravity, cfg.device, cfg.use_newton_actuators)
    return {
        "batch": batch,
        "dt": batch.dt / decimation,
        "cfg": sim_cfg,
        "replica": replica,
        "settings": settings,
        "skipped": skipped,
        "todo": todo,
        "sim_key": sim_key,
    }


def _per_run_gains(gains: Gains | None, num_envs: int, num_joints: int, num_steps: int) -> Gains | None:
    """Gains of one fold as (E, T, J) on the joined batch's ``num_steps`` (per-run gains held over the steps)."""
    if gains is None:
        return None
    if per_step(gains):
        return tuple(pad_steps(np.asarray(g, float), num_steps) for g in gains)
    shape = (num_envs, num_steps, num_joints)
    return tuple(np.broadcast_to(np.asarray(g, float).reshape(num_envs, 1, -1), shape) for g in gains)


def _replay_groups(parts: list[dict], entries: list[tuple]) -> list[list[int]]:
    """The parts (folds) that share one replay, as lists of part indices in order.

    Parts share a replay when their actuator cfg and simulated set-up (``sim_key``) are the same and gains are given
    in all or none of them (per-run gains differ freely).
    """
    groups: list[list[int]] = []
    for i, (part, entry) in enumerate(zip(parts, entries, strict=True)):
        for group in groups:
            first, head = parts[group[0]], entries[group[0]]
            if entry[1] == head[1] and part["sim_key"] == first["sim_key"] and (entry[2] is None) == (head[2] is None):
                group.append(i)
                break
        else:
            groups.append([i])
    return groups


def _group_gains(gains: list[Gains | None], parts: list[dict], num_joints: int, num_steps: int) -> Gains | None:
    """The gains of parts sharing a replay, joined along the envs on ``num_steps`` steps ((E, J) when constant)."""
    if gains[0] is None:
        return None
    per_fold = [
        _per_run_gains(g, p["batch"].num_envs, num_joints, num_steps) for g, p in zip(gains, parts, strict=True)
    ]
    joined = tuple(np.concatenate([g[i] for g in per_fold]) for i in range(2))
    if not any(per_step(g) for g in gains):  # constant per run: (E, J), no per-step writes
        joined = tuple(g[:, 0] for g in joined)
    return joined


def _merged_groups(parts: list[dict], entries: list[tuple], groups: list[list[int]]) -> list[list[list[int]]]:
    """The replays of a model: lists of :func:`_replay_groups` groups, each list one replay.

    Groups whose actuator cfgs differ (e.g. every fold's own net, or a per-gain model's net of each gain) share one
    replay through :class:`~.env_groups.EnvGroupsActuator` where they can: the same simulated set-up on Isaac Lab's
    actuator path, per-run gains in all of them or in none, and cfgs that :func:`~.env_groups.can_group` (explicit
    actuators with the same joint properties), unless ``ValidationCfg.group_replays`` is off. Otherwise every group is
    its own replay.
    """
    if len(groups) < 2:
        return [groups]
    asked = all(parts[g[0]]["cfg"].group_replays for g in groups)
    keys = {parts[g[0]]["sim_key"] for g in groups}
    native = any(key[4] for key in keys)  # sim_key: (replica, decimation, gravity, device, use_newton_actuators)
    gains = {entries[i][2] is None for g in groups for i in g}  # per-run gains in all groups or in none
    if asked and len(keys) == 1 and not native and len(gains) == 1 and can_group([entries[g[0]][1] for g in groups]):
        return [groups]
    return [[g] for g in groups]


def _simulate(name: str, parts: list[dict], entries: list[tuple], joined: TrajectoryBatch) -> tuple:
    """``(q, qd, tau_single)`` of one model over the runs of every fold, each (E, T, J) on ``joined``'s steps.

    Folds share one replay where the actuator cfg and the simulated set-up are the same (per-run gains differ
    freely; :func:`_replay_groups`): e.g. IdealPD baselines whose gains were fitted per fold, or one fold's GRU-PD in
    that fold's per-gain sub-folds. Groups with different cfgs (each fold's own net, each gain's net of a per-gain
    model) then share one replay as the members of an :class:`~.env_groups.EnvGroupsActuator` where
    :func:`_merged_groups` allows. A fold alone replays its own runs, as without folds.
    """
    num_joints = len(joined.joint_names)
    out: list[tuple | None] = [None] * len(parts)
    for replay_groups in _merged_groups(parts, entries, _replay_groups(parts, entries)):
        order = [i for group in replay_groups for i in group]
        members = [parts[i] for i in order]
        cfg = members[0]["cfg"]
        if len(order) == 1:
            batch, run_gains = members[0]["batch"], entries[order[0]][2]
            fold = members[0]["name"]
            logger.info("validating %s on %d runs%s", name, batch.num_envs, f" ({fold})" if fold else "")
        else:
            batch = (
                joined if order == list(range(len(parts))) else TrajectoryBatch.concat([p["batch"] for p in members])
            )
            run_gains = _group_gains([entries[i][2] for i in order], members, num_joints, batch.num_steps)
            logger.info("validating %s on %d runs of %d folds in one replay", name, batch.num_envs, len(order))
        if len(replay_groups) == 1:
            actuator_cfg = entries[order[0]][1]
        else:
            counts = [sum(parts[i]["batch"].num_envs for i in group) for group in replay_groups]
            actuator_cfg = EnvGroupsActuatorCfg.of([entries[group[0]][1] for group in replay_groups], counts)
            logger.info("(%d different actuator cfgs, each on its own runs)", len(replay_groups))
        tau = single_step_torque(batch, actuator_cfg, cfg, name, run_gains)
        rollout = replay(batch, actuator_cfg, cfg, name, run_gains)
        start = 0
        for i in order:
            envs = slice(start, start + parts[i]["batch"].num_envs)
            held = held_joint_torque(parts[i]["batch"], entries[i][1], parts[i]["cfg"], entries[i][2], tau[envs])
            out[i] = (rollout.q[envs], rollout.qd[envs], held)
            start = envs.stop
    steps = joined.num_steps
    return tuple(np.concatenate([pad_steps(o[k], steps) for o in out]) for k in range(3))


def _check_folds_alike(parts: list[dict]) -> list[tuple[str, str]]:
    """The (name, kind) of every model the folds validate; raises when the folds differ in them or in the sim."""
    first = parts[0]
    names = [(n, e[0]) for n, e in first["todo"].items()]
    for part in parts[1:]:
        if [(n, e[0]) for n, e in part["todo"].items()] != names:
            raise ValueError(
                f"fold {part['name']!r} validates {list(part['todo'])}, fold {first['name']!r} {list(first['todo'])}; "
                "every fold must validate the same models (and run the same baselines)."
            )
        same_step = math.isclose(part["dt"], first["dt"]) and part["sim_key"][1] == first["sim_key"][1]
        if part["replica"] != first["replica"] or not same_step:
            raise ValueError(f"fold {part['name']!r} needs another replica or physics step than {first['name']!r}.")
    return names


def _skipped_baselines(parts: list[dict]) -> dict[str, str]:
    """Why each baseline did not run (``"<name> (<fold>)"`` keys with several folds), each logged as a warning."""
    skipped = {}
    for part in parts:
        for name, reason in part["skipped"].items():
            logger.warning("baseline %s not run%s: %s", name, f" ({part['name']})" if part["name"] else "", reason)
            skipped[f"{name} ({part['name']})" if len(parts) > 1 else name] = reason
    return skipped


def run_validation_folds(folds: list[FoldSpec]) -> ValidationResult:
    """Validate every fold's models on its held-out runs (baselines fitted on its training runs); one result.

    The result holds the runs of all folds in order (:attr:`ValidationResult.folds` names the fold of each run when
    the folds are named) and every model's metrics over all of them; a model's parameters are kept per fold. Folds in
    which a model's actuator cfg is the same (e.g. the IdealPD baselines, or one net validated in several sub-folds)
    share one replay over their runs; folds with their own cfgs of it (each fold's net, each gain's net) run side by
    side in that replay where they can (:class:`~.env_groups.EnvGroupsActuator`), so a model is usually one replay.

    Raises:
        ValueError: when the folds validate different model names, or need different physics steps or replicas;
            the errors of :func:`run_validation` otherwise.
    """
    if not folds:
        raise ValueError("run_validation_folds needs at least one fold.")
    parts = []
    for fold in folds:
        part = _prepare(fold)
        part.update(name=fold.name)
        parts.append(part)
    first = parts[0]
    names = _check_folds_alike(parts)
    named = len(folds) > 1 or bool(folds[0].name)
    joined = TrajectoryBatch.concat([p["batch"] for p in parts]) if len(parts) > 1 else first["batch"]
    growth_bins = folds[0].cfg.growth_bins
    results = []
    for name, kind in names:
        entries = [p["todo"][name] for p in parts]
        q, qd, tau = _simulate(name, parts, entries, joined)
        params = {p["name"]: e[3] for p, e in zip(parts, entries, strict=True)} if named else entries[0][3]
        results.append(
            evaluate_model(
                name, kind, joined, q, qd, tau, growth_bins=growth_bins, params={"folds": params} if named else params
            )
        )
        if "diverged" in results[-1].params:
            warnings.warn(f"model {name!r}: the simulated rollout diverged (non-finite state).", stacklevel=2)
    skipped = _skipped_baselines(parts)
    settings = {"folds": {p["name"]: p["settings"] for p in parts}} if len(parts) > 1 else first["settings"]
    benches = [str(meta.get("bench")) for meta in joined.metas]
    return ValidationResult(
        batch=joined,
        models=results,
        replica=first["replica"],
        physics_dt=first["dt"],
        skipped=skipped,
        settings=settings,
        folds=[p["name"] for p in parts for _ in range(p["batch"].num_envs)] if named else [],
        decimation=first["settings"]["decimation"],
        benches=benches if len(set(benches)) > 1 else [],
    )
