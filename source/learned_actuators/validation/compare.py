"""Compare any mix of actuator models on the same held-out frames of a log: our files, third-party nets, stock cfgs.

.. code-block:: python

    from learned_actuators.validation.compare import compare_models, held_out
    from learned_actuators.validation.third_party import parse_model_spec

    test, train, how = held_out(logs, blocks=5, test_block=4, gap_s=0.5)  # the trainer's data.blocks/test_blocks
    specs = [
        parse_model_spec(s)
        for s in ("ours:gru_pd.pt", "mlp:go1.pt,pos_scale=-1,input_idx=0,1,2,dt=0.02", "isaaclab:IdealPD")
    ]
    comparison = compare_models(test, specs)
    print(format_comparison(comparison))

Every model is fed the same logged frames. The **single-step** torque error needs no simulator: each actuator is built
outside it (:func:`~learned_actuators.validation.replay.single_step_torque`) and stepped with the logged state at one
physics step for all (the log period over the decimation that suits every net's rate). The **rollout** error runs
only where a plant is known: the one-joint bench, the Go2, or the generic replica of independent joints
(:func:`~learned_actuators.validation.bench.joint_benches`) when every joint's load is known; otherwise the table has
single-step errors only and a note says what is missing. Stock PD cfgs without ``kp``/``kd`` take each joint's logged
gains as they are (``ValidationCfg.kp_scale``/``kd`` override); a GRU-PD file takes them with its own gain scale
(``source.kp_scale``) and damping, the gains its trainer used, so its single-step error on the trainer's held-out
frames is the trainer's held-out torque RMSE (both teacher-forced, recurrent state from zero at the block's start).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from learned_actuators.data.joint_log import JointLog, LogFormatError
from learned_actuators.errors import UserInputError

from .metrics import torque_errors
from .rates import network_dt, resolve_decimation
from .results import ValidationResult
from .third_party import ModelSpec
from .trajectories import TrajectoryBatch
from .validation_cfg import ValidationCfg

__all__ = ["Comparison", "compare_models", "format_comparison", "held_out"]

logger = logging.getLogger(__name__)

NET_KINDS = ("ours", "mlp", "onnx", "lstm")
"""Spec kinds that are learned nets (rows of kind ``"model"``; stock cfgs are ``"baseline"``)."""


@dataclass
class Comparison:
    """Every model's errors on the same held-out frames."""

    batch: TrajectoryBatch
    """The held-out runs (their ``mask`` marks the frames every model is scored on)."""
    rows: list[dict]
    """One row per model: ``model``, ``spec``, ``frames``, ``torque_rmse``, ``torque_r2``, ``torque_rmse_per_joint``
    ({joint: N·m}) and, with rollouts, ``pos_rmse`` [rad], ``vel_rmse`` [rad/s], ``pos_rmse_run_max`` [rad]."""
    tau: dict[str, np.ndarray]
    """Single-step torque [N·m] of each model, (E, T, J)."""
    validation: ValidationResult | None = None
    """The rollouts (report, plots) when a plant is known, else None."""
    notes: list[str] = field(default_factory=list)
    """What was not measured and why, how the frames were chosen."""
    settings: dict = field(default_factory=dict)
    """Physics step, decimation, replica, the specs."""

    def to_json_dict(self) -> dict:
        """JSON-ready summary (no per-frame arrays)."""
        return {
            "rows": self.rows,
            "notes": self.notes,
            "settings": self.settings,
            "joint_names": self.batch.joint_names,
            "runs": [
                {"name": n, "source": s, "counted_frames": int(m.sum())}
                for n, s, m in zip(self.batch.names, self.batch.sources, self.batch.mask, strict=True)
            ],
        }


def held_out(
    logs: list[JointLog], blocks: int | None = None, test_block: int | None = None, gap_s: float = 0.0
) -> tuple[list[JointLog], list[JointLog], str]:
    """The held-out runs to compare on, the training runs left, and a line saying how they were chosen.

    Without ``blocks`` every run is held out (a folder of test logs). With ``blocks``, block ``test_block`` (default:
    the last) of every run is held out and the rest, minus ``gap_s`` [s] on each side, is training data: the same
    frames as the trainer's ``data.split=kfold data.blocks=<blocks> data.test_blocks=[<test_block>]
    data.gap_s=<gap_s>``.

    Raises:
        UserInputError: for fewer than 2 blocks or a block index outside the run.
    """
    if blocks is None:
        if test_block is not None or gap_s:
            raise UserInputError("--test-block and --gap-s need --blocks (the number of time blocks per run).")
        return list(logs), [], f"every run of the data held out ({len(logs)} runs)"
    from learned_actuators.data.splits import kfold_blocks

    block = blocks - 1 if test_block is None else test_block
    try:
        (fold,) = kfold_blocks(logs, blocks, gap_s, only=[block])
    except ValueError as err:
        raise UserInputError(f"--blocks {blocks} --test-block {block}: {err}") from None
    return fold.test, fold.train, f"block {block} of {blocks} of every run held out (gap {gap_s:g} s)"


def _gains(spec: ModelSpec, batch: TrajectoryBatch, cfg: ValidationCfg, base) -> tuple | None:
    """Per-run PD gains of a model: a stock cfg's fixed or logged gains, a GRU-PD file's logged gains, else None."""
    from .baselines import has_logged_gain, log_gains
    from .model_physics import file_physics, model_gain_cfg

    if spec.kind == "isaaclab":
        if spec.gains is not None:
            return tuple(np.full((batch.num_envs, len(batch.joint_names)), g) for g in spec.gains)
        gains = log_gains(batch, cfg)  # the logged gains as they are (the user's kp_scale/kd overrides only)
        if gains is None:
            raise UserInputError(
                f"--model {spec.text!r}: the log has no gain for every joint (meta or side file 'kp'); "
                "give kp= and kd=."
            )
        return gains
    physics = file_physics(spec.cfg)
    if physics is None:
        return None  # nets without PD gains
    gains = log_gains(batch, model_gain_cfg(cfg, base, physics, spec.name, has_logged_gain(batch)))
    if gains is None:
        raise UserInputError(f"--model {spec.text!r}: a GRU-PD model needs each joint's logged gain (meta 'kp').")
    return gains


def _stock_gain_note(cfg: ValidationCfg) -> str:
    """Which gains the stock PD cfgs without ``kp=``/``kd=`` get: each joint's logged gains (or the overrides)."""
    kp = "logged kp" if cfg.kp_scale is None else f"logged kp x kp_scale {cfg.kp_scale:g}"
    kd = "logged kd" if cfg.kd is None else f"kd {cfg.kd:g}"
    if cfg.kp is not None:
        kp = f"kp {cfg.kp:g}"
    return f"stock PD cfgs without kp=/kd=: each joint's {kp}, {kd} (not a GRU-PD file's fitted gain scale and kd)"


def _plant_note(batch: TrajectoryBatch, cfg: ValidationCfg) -> str | None:
    """None when a rollout plant is known for ``batch``, else why not (naming the missing field)."""
    from .bench import joint_benches, run_benches
    from .replay import resolve_replica

    try:
        replica = resolve_replica(batch, cfg)
        if replica == "bench":
            run_benches(batch, cfg)
        elif replica == "joints":
            joint_benches(batch, cfg)
    except (LogFormatError, ValueError) as err:
        return (
            f"no rollout: the load is not known ({err}); single-step errors only. Give each joint's 'inertia' (or "
            "'mass', 'length', 'armature') in the side file's joint_constants, or a default load with inertia=<kg·m²>."
        )
    return None


def _row(spec: ModelSpec, batch: TrajectoryBatch, tau: np.ndarray) -> dict:
    row = {"model": spec.name, "spec": spec.text, "frames": int(batch.mask.sum()) * len(batch.joint_names)}
    if batch.tau is None:
        return row | {"torque_rmse": None, "torque_r2": None, "torque_rmse_per_joint": {}}
    errs = torque_errors(tau, batch.tau, batch.mask)
    per_joint = {
        name: torque_errors(tau[..., j : j + 1], batch.tau[..., j : j + 1], batch.mask)["torque_rmse"]
        for j, name in enumerate(batch.joint_names)
    }
    row.update(torque_rmse=errs["torque_rmse"], torque_r2=errs["torque_r2"], torque_rmse_per_joint=per_joint)
    return row


def compare_models(
    logs: list[JointLog] | TrajectoryBatch,
    specs: list[ModelSpec],
    cfg: ValidationCfg | None = None,
    rollout: bool = True,
    warmup_s: float = 0.0,
) -> Comparison:
    """Single-step (and, where a plant is known and ``rollout``, rollout) errors of every model on the same frames.

    Args:
        logs: The held-out runs (see :func:`held_out`).
        specs: The models (:func:`~learned_actuators.validation.third_party.parse_model_spec`).
        cfg: Replay settings (decimation, device, default load ``inertia``/``mass``/``length``, ``kp_scale``).
        rollout: Also replay the runs in the simulator when the plant is known.
        warmup_s: Leading seconds of every run left out of every model's metrics (every model starts from a reset
            state; the frames stay in the replay).

    Raises:
        UserInputError: for duplicate model names, a PD model without gains, or logs that cannot be replayed.
    """
    from isaaclab.utils import replace

    from .model_physics import baseline_cfg, file_physics
    from .replay import held_joint_torque, single_step_torque

    cfg = cfg or ValidationCfg(show_progress=False)
    names = [s.name for s in specs]
    if not specs or len(set(names)) != len(names):
        raise UserInputError(f"--model: give at least one model, each with its own name (name=...); got {names}.")
    batch = logs if isinstance(logs, TrajectoryBatch) else TrajectoryBatch.from_logs(list(logs))
    if warmup_s > 0:
        batch = batch.take(range(batch.num_envs))
        batch.mask[:, : round(warmup_s / batch.dt)] = False
    decimation = resolve_decimation(batch.dt, cfg, [network_dt(s.cfg) for s in specs], batch.sources[0])
    sim_cfg = replace(cfg, decimation=decimation)
    physics = next((p for p in (file_physics(s.cfg) for s in specs) if p is not None), None)
    base = baseline_cfg(sim_cfg, physics)
    notes = [] if batch.tau is not None else ["the log has no torque label: no single-step errors"]
    if any(s.kind == "isaaclab" and s.gains is None for s in specs):
        notes.append(_stock_gain_note(cfg))
    gains, tau, rows = {}, {}, []
    for spec in specs:
        gains[spec.name] = _gains(spec, batch, cfg, base)
        single = single_step_torque(batch, spec.cfg, sim_cfg, spec.name, gains[spec.name])
        tau[spec.name] = held_joint_torque(batch, spec.cfg, sim_cfg, gains[spec.name], single)
        rows.append(_row(spec, batch, tau[spec.name]))
    settings = {"log_dt": batch.dt, "decimation": decimation, "physics_dt": batch.dt / decimation}
    settings["models"] = {s.name: s.text for s in specs}
    validation = None
    note = _plant_note(batch, sim_cfg) if rollout else "no rollout (not asked for)"
    if note is None:
        validation = _rollouts(batch, specs, sim_cfg, gains, tau)
        settings["replica"] = validation.replica
        for row, model in zip(rows, validation.models, strict=True):
            summary = model.summary()
            row.update({k: summary[k] for k in ("pos_rmse", "vel_rmse", "pos_rmse_run_max")})
    else:
        notes.append(note)
    return Comparison(batch=batch, rows=rows, tau=tau, validation=validation, notes=notes, settings=settings)


def _rollouts(batch, specs, sim_cfg, gains, tau) -> ValidationResult:
    """Replay every model open loop on the known plant (one simulation per model); a ValidationResult."""
    from .replay import replay, resolve_replica
    from .results import evaluate_model

    models = []
    for spec in specs:
        sim = replay(batch, spec.cfg, sim_cfg, spec.name, gains[spec.name])
        kind = "model" if spec.kind in NET_KINDS else "baseline"
        models.append(evaluate_model(spec.name, kind, batch, sim.q, sim.qd, tau[spec.name], params={"spec": spec.text}))
    return ValidationResult(
        batch=batch,
        models=models,
        replica=resolve_replica(batch, sim_cfg),
        physics_dt=batch.dt / sim_cfg.decimation,
        settings={"models": {s.name: s.text for s in specs}},
        decimation=sim_cfg.decimation,
    )


def format_comparison(comparison: Comparison) -> str:
    """The comparison as an aligned text table (one row per model; per-joint single-step RMSE columns)."""
    from .report import _fmt

    joints = comparison.batch.joint_names
    rollout = comparison.validation is not None
    headers = ["model", "frames", "1-step τ RMSE [N·m]", "1-step τ R²"]
    headers += [f"τ RMSE {j}" for j in joints] if len(joints) > 1 else []
    headers += ["rollout pos RMSE [rad]", "worst run [rad]"] if rollout else []
    lines = []
    for row in comparison.rows:
        cells = [row["model"], str(row["frames"]), _fmt(row["torque_rmse"]), _fmt(row["torque_r2"])]
        cells += [_fmt(row["torque_rmse_per_joint"].get(j)) for j in joints] if len(joints) > 1 else []
        cells += [_fmt(row.get("pos_rmse")), _fmt(row.get("pos_rmse_run_max"))] if rollout else []
        lines.append(cells)
    widths = [max(len(h), *(len(r[i]) for r in lines)) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in lines]
    return "\n".join(out + [f"note: {n}" for n in comparison.notes])
