"""Physics, gains and limits of the models under test from their network files, and the baselines' from the cfg.

A GRU-PD file carries the physics it was trained with (``physics``: ``kp`` at the median training gain, ``kd``,
``stall_torque``, ``no_load_speed``; ``source.kp_scale``: N·m/rad per logged gain unit). A validation takes a GRU-PD
model's per-run gains from its own file, and the baselines' gain scale, damping and torque-speed curve from the cfg or,
where the cfg leaves them None, from the first GRU-PD model's file (fitted on the training runs, so the baselines stay
honest), else from the log. The motor limits clip the learned models only with ``ValidationCfg.clip_models``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from learned_actuators.errors import UserInputError
from learned_actuators.learning.kinds import KINDS, GRUPDKind, kind_of
from learned_actuators.network_file import load_network

__all__ = [
    "OPEN_LIMITS",
    "baseline_cfg",
    "clip_model",
    "file_physics",
    "learned_model_cfg",
    "model_gain_cfg",
    "network_physics",
    "stated_physics",
]

OPEN_LIMITS = {"saturation_effort": 1e6, "actuator_effort_limit": 1e6, "actuator_velocity_limit": 1e6}
"""Final clip of the learned models: open. The fitted torque-speed curve is part of the GRU-PD model (its file carries
it and saturates the PD with it); the motor's own joint-side envelope is not known from these logs (as in the
trainer's rollout evaluation). The DCMotor baseline uses the fitted curve as its envelope."""


def _has_physics(meta) -> bool:
    """Whether a file's metadata is of a kind with the physics prior, and carries that physics."""
    kind = KINDS.get(meta.model_type) if meta is not None else None
    return kind is not None and kind.uses_physics and bool(meta.physics)


def _metas(train_logs) -> list[dict]:
    if train_logs is None:
        return []
    if hasattr(train_logs, "metas"):  # a TrajectoryBatch
        return list(train_logs.metas)
    return [log.meta for log in train_logs]


def network_physics(network_file: str | Path, train_logs=None) -> dict:
    """Gain scale, damping and torque-speed curve of a GRU-PD network file (what the baselines of its fold use).

    ``kp_scale`` [N·m/rad per logged gain unit] is the file's ``source.kp_scale`` (written by the demo's export);
    for older files it is the file's ``physics.kp`` (the gain at the median training gain) over the median logged
    gain of ``train_logs`` (JointLogs or a TrajectoryBatch), the runs the file was trained on.

    Raises:
        UserInputError: when the file is not a GRU-PD file with physics, or the gain scale cannot be recovered.
    """
    _, meta = load_network(network_file)
    if not _has_physics(meta):
        raise UserInputError(f"{network_file}: not a GRU-PD network file with physics metadata.")
    phys = dict(meta.physics)
    out = stated_physics(phys, network_file)
    scale = (meta.source or {}).get("kp_scale")
    if isinstance(scale, int | float):
        out.update(kp_scale=float(scale), kp_scale_from="network file (source.kp_scale)")
        return out
    raws = [m.get("kp") for m in _metas(train_logs)]
    raws = [float(g) for g in raws if isinstance(g, int | float) and not isinstance(g, bool)]
    if not raws or not phys.get("kp"):
        raise UserInputError(
            f"{network_file}: the file has no source.kp_scale and no training runs with a logged gain were given; "
            "set ValidationCfg.kp_scale."
        )
    out.update(
        kp_scale=float(phys["kp"]) / float(np.median(raws)),
        kp_scale_from="network file physics.kp / median logged gain of its training runs",
    )
    return out


def stated_physics(phys: dict, network_file=None) -> dict:
    """Damping, torque-speed curve, friction and gain of a GRU-PD file's ``physics`` record (+ the file's path)."""
    out = {
        "kd": float(phys.get("kd", 0.0)),
        "stall_torque": phys.get("stall_torque"),
        "no_load_speed": phys.get("no_load_speed"),
        "friction": phys.get("friction", 0.0),
        "friction_load": phys.get("friction_load", 0.0),
        "kp_at_median_train_gain": phys.get("kp"),
    }
    return out if network_file is None else {**out, "network_file": str(network_file)}


def file_physics(actuator_cfg, train_logs=None) -> dict | None:
    """:func:`network_physics` of a GRU-PD model's file (``kp_scale`` None when it cannot be recovered), else None."""
    path = getattr(actuator_cfg, "network_file", None)
    if not path or not hasattr(actuator_cfg, "network_dt"):
        return None
    _, meta = load_network(path)
    if not _has_physics(meta):
        return None
    try:
        return network_physics(path, train_logs)
    except UserInputError as err:
        return {**stated_physics(dict(meta.physics), path), "kp_scale": None, "kp_scale_missing": str(err)}


def baseline_cfg(cfg, physics: dict | None):
    """``cfg`` with the baselines' ``kp_scale``/``kd``/``effort_limit``/``velocity_limit`` resolved.

    Each is the cfg's value, else ``physics``'s (the first GRU-PD model's file), else the log's (None; ``kp_scale`` 1).
    """
    from isaaclab.utils import replace

    physics = physics or {}
    from_file = {
        "kp_scale": physics.get("kp_scale"),
        "kd": physics.get("kd"),
        "effort_limit": physics.get("stall_torque"),
        "velocity_limit": physics.get("no_load_speed"),
    }
    values = {k: getattr(cfg, k) if getattr(cfg, k) is not None else v for k, v in from_file.items()}
    values["kp_scale"] = 1.0 if values["kp_scale"] is None else values["kp_scale"]
    return replace(cfg, **values)


def model_gain_cfg(cfg, base, physics: dict | None, name: str, needs_scale: bool):
    """The cfg whose ``kp_scale``/``kd`` set a model's per-run gains.

    A GRU-PD model's own file's, else ``base`` (the baselines' resolved cfg; ``cfg`` is the user's).

    Raises:
        UserInputError: when a GRU-PD model's gain scale is unknown, the log's gains are in raw units and
            ``ValidationCfg.kp_scale`` is not set either.
    """
    from isaaclab.utils import replace

    if physics is None:
        return base
    scale = physics.get("kp_scale")
    if scale is None:
        if needs_scale and cfg.kp is None and cfg.kp_scale is None:
            raise UserInputError(f"model {name!r}: {physics['kp_scale_missing']}")
        scale = base.kp_scale
    return replace(base, kp_scale=scale, kd=physics["kd"])


def clip_model(actuator_cfg, base, name: str):
    """A learned model's cfg with its final clip at the baselines' ``effort_limit``/``velocity_limit``.

    Raises:
        UserInputError: when neither limit is known.
    """
    from isaaclab.utils import replace

    if base.effort_limit is None and base.velocity_limit is None:
        raise UserInputError(
            f"ValidationCfg.clip_models: model {name!r} cannot be clipped, no effort_limit or velocity_limit is known "
            "(set them, or give a GRU-PD file or log meta with stall_torque / no_load_speed)."
        )
    limits = {}
    if base.effort_limit is not None:
        limits.update(saturation_effort=base.effort_limit, actuator_effort_limit=base.effort_limit)
    if base.velocity_limit is not None:
        limits["actuator_velocity_limit"] = base.velocity_limit
    return replace(actuator_cfg, **limits)


def learned_model_cfg(path: str | Path, **limits):
    """The actuator cfg of a learned network file (GRU-PD, LSTM or MLP by its metadata) with open final limits.

    The load-time scale check (file gains vs the cfg's stall torque) is off: the open clip is no motor to compare with.
    """
    _, meta = load_network(path)
    cls = kind_of(meta.model_type if meta is not None else GRUPDKind.name).actuator_cfg_class()
    quiet = {"scale_check": "ignore"} if "scale_check" in {f.name for f in dataclasses.fields(cls)} else {}
    return cls(joint_names_expr=[".*"], network_file=str(path), **{**OPEN_LIMITS, **quiet, **limits})
