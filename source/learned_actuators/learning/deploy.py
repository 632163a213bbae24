"""The deploy contract of a trained model, written once: the network file's metadata and the run's deploy summary.

:func:`network_metadata` is what :mod:`.export` embeds in the files; :func:`deploy_summary` (the run directory's
``deploy_summary.json``) is the same contract's fields an actuator cfg needs, plus the training window length.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import __version__
from ..data.joint_log import JointLog
from ..network_file import NetworkMetadata
from .actuator_model import ActuatorModel
from .features import loss_mask

__all__ = ["deploy_info", "deploy_physics", "deploy_summary", "network_metadata"]


def _identified(model: ActuatorModel) -> dict:
    """``{"identified": ...}``: the physics identified by trajectory simulation (``physics.fit="trajectory"``)."""
    found = getattr(model.physics, "identified", None) if model.kind.uses_physics else None
    return {"identified": found} if found else {}


def _gain_scale(model: ActuatorModel) -> dict:
    """``{"kp_scale": ...}`` of a physics model whose gains are ``kp_scale`` times the logged gain, else ``{}``.

    The gain the trainer used for every run (features ``kp``/``tau_pd``/``tau_phys`` and the residual's base torque):
    validation and comparison on a log give the actuator ``kp_scale`` times each joint's logged gain from it
    (:func:`learned_actuators.validation.model_physics.network_physics`). Without it they fell back to a scale of 1,
    and a fitted scale (e.g. 0.9993) became a feature and base-torque error larger than the net's held-out error.
    """
    if not model.kind.uses_physics or model.physics.kp is not None:
        return {}
    return {"kp_scale": float(model.physics.kp_scale)}


def deploy_physics(model: ActuatorModel) -> dict[str, Any]:
    """The physics a deployed physics-kind model runs with; ``{}`` for kinds without the physics prior.

    The gain is the cfg's ``kp``, else the median training gain.
    """
    if not model.kind.uses_physics:
        return {}
    train_kp = model.info.get("train_kp")
    kp = model.physics.kp if model.physics.kp is not None else (float(np.median(train_kp)) if train_kp else 0.0)
    return model.physics_params(kp).to_dict()


def network_metadata(model: ActuatorModel, source: dict | None = None) -> NetworkMetadata:
    """The :class:`NetworkMetadata` of a trained model (normalisation in the network)."""
    source = {**_gain_scale(model), **_identified(model), **(source or {})}
    physics = deploy_physics(model)
    return NetworkMetadata(
        model_type=model.model_type,
        dt=float(model.dt),
        **model.kind.contract(model.model_cfg),
        **({"physics": physics} if physics else {}),
        input_mean=[float(v) for v in model.input_norm.mean],
        input_std=[float(v) for v in model.input_norm.std],
        output_mean=float(model.output_norm.mean[0]),
        output_std=float(model.output_norm.std[0]),
        normalization_in_network=True,
        source={"package": "learned_actuators", "version": __version__, **source},
        near_constant_inputs=[int(i) for i in np.flatnonzero(model.input_norm.near_constant)],
        notes=[str(n) for n in model.info.get("notes", [])],
        examples=model.examples(),
    )


def deploy_summary(model: ActuatorModel, train_cfg) -> dict[str, Any]:
    """Fields an actuator cfg needs to run the net as trained.

    The network contract (:meth:`ModelKind.contract`, as in :func:`network_metadata`), ``dt``, the deploy physics
    (:func:`deploy_physics`) and the training window in steps.
    """
    return {
        "model_type": model.model_type,
        "dt": model.dt,
        "sequence_length_steps": model.kind.window_steps(train_cfg, model.dt),
        "physics": deploy_physics(model),
        **model.kind.contract(model.model_cfg),
    }


def deploy_info(model: ActuatorModel, train_logs: list[JointLog]) -> dict[str, Any]:
    """What an export stores to check itself and deploy.

    Representative training inputs, the torque scale [N·m] and (physics kinds) each training run's gain
    ``train_kp`` [N·m/rad].
    """
    torque = np.concatenate([g.tau[loss_mask(g), 0] for g in train_logs])
    info = {
        "representative_inputs": model.representative_inputs(train_logs).tolist(),
        "torque_scale": float(np.abs(torque).max()),
    }
    if model.kind.uses_physics:
        info["train_kp"] = [model.run_params(g).kp for g in train_logs]
    return info
