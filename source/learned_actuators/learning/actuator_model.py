"""A trained actuator net with everything needed to run it: features, normalisation, physics, dt.

:class:`ActuatorModel` predicts torque on logged runs (teacher-forced, whole sequences), steps through rollouts
(:meth:`ActuatorModel.stepper`), and builds the deploy modules that :mod:`learned_actuators.learning.export` writes.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..data.joint_log import JointLog
from ..data.normalization import Normalizer
from ..physics import PhysicsParams
from .features import run_command, step_command, tau_phys
from .kinds import MODEL_TYPES, ModelKind, kind_of
from .models_cfg import PhysicsCfg
from .rollout import held_by_friction

__all__ = ["MODEL_TYPES", "ActuatorModel", "Stepper", "build_net"]


def build_net(model_type: str, model_cfg) -> torch.nn.Module:
    """Fresh (untrained) net for a model type and its cfg (:meth:`ModelKind.build_net`)."""
    return kind_of(model_type).build_net(model_cfg)


@dataclass
class ActuatorModel:
    """A net plus its input/output normalisation, physics and time step; its :attr:`kind` says how to run it."""

    model_type: str
    net: torch.nn.Module
    model_cfg: Any
    """The architecture cfg of the kind (:attr:`ModelKind.cfg_class`)."""
    physics: PhysicsCfg
    dt: float
    """Time step [s] of one recurrent step / history slot."""
    input_norm: Normalizer
    output_norm: Normalizer
    info: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------------------------------------ features
    @property
    def kind(self) -> ModelKind:
        """The model kind (:func:`~learned_actuators.learning.kinds.kind_of` of :attr:`model_type`)."""
        return kind_of(self.model_type)

    @property
    def residual(self) -> bool:
        """Whether the net output is added to the physical torque."""
        return self.kind.residual(self.model_cfg)

    def run_params(self, log: JointLog) -> PhysicsParams:
        """Physics parameters of one run (its kp; the median of a per-step logged gain)."""
        return run_command(log, self.physics)[0]

    def run_command(self, log: JointLog) -> tuple[PhysicsParams, float | np.ndarray, dict[str, np.ndarray]]:
        """The run's physics parameters, gain and logged command terms (:func:`~.features.run_command`)."""
        return run_command(log, self.physics)

    def raw_inputs(self, log: JointLog) -> np.ndarray:
        """Un-normalised inputs (T, F) of a single-joint run."""
        return self.kind.raw_inputs(self, log)

    def base_torque(self, log: JointLog) -> np.ndarray:
        """The physical torque the residual is added to (zeros unless residual), shape (T,)."""
        if not self.residual:
            return np.zeros(len(log))
        p, kp, extras = self.run_command(log)
        return tau_phys(log.q[:, 0], log.qd[:, 0], log.q_target[:, 0], kp, p, **extras)

    def target(self, log: JointLog) -> np.ndarray:
        """What the net learns (T,) [N·m]: the torque, minus the physical torque in residual mode."""
        return log.tau[:, 0] - self.base_torque(log)

    # ----------------------------------------------------------------------------------------------- prediction
    def forward_normalized(self, x: torch.Tensor) -> torch.Tensor:
        """Net output for normalised inputs (N, T, F) from a zero state, normalised units (N, T)."""
        out = self.net(x)
        return out[0] if isinstance(out, tuple) else out

    @torch.no_grad()
    def net_outputs(self, raw: np.ndarray) -> np.ndarray:
        """Net output [N·m] (N, T) for raw inputs (N, T, F), each row from a zero state (the residual in residual mode).

        The trainer's computation: normalisation in float64, the net in float32, denormalisation in float64.
        """
        self.net.eval()
        x = torch.as_tensor(self.input_norm.apply(np.asarray(raw, dtype=np.float64)), dtype=torch.float32)
        y = self.forward_normalized(x).double().numpy()
        return self.output_norm.invert(y[..., None])[..., 0]

    def predict(self, log: JointLog) -> np.ndarray:
        """Teacher-forced torque [N·m] (T,) on a logged single-joint run, recurrent state from zero at frame 0."""
        return self.net_outputs(self.raw_inputs(log)[None])[0] + self.base_torque(log)

    def joint_torque(self, log: JointLog) -> np.ndarray:
        """Teacher-forced torque [N·m] (T,) the joint receives; what the metrics score.

        :meth:`predict` with the physics' Coulomb friction holding the joint against the run's load
        (:func:`~.rollout.held_by_friction`).
        """
        tau = self.predict(log)
        return held_by_friction(tau, log, self.run_command(log)) if self.residual else tau

    def representative_inputs(self, logs: list[JointLog], rows: int = 4, length: int = 50) -> np.ndarray:
        """Raw inputs (N, T, F) of up to ``rows`` windows of ``length`` frames from ``logs``.

        The windows are the middle of runs spread over the list: what an export stores with the trainer's outputs
        (:meth:`examples`).
        """
        picks = np.unique(np.linspace(0, len(logs) - 1, min(rows, len(logs))).round().astype(int))
        width = min(length, *(len(logs[i]) for i in picks))
        windows = []
        for i in picks:
            raw = self.raw_inputs(logs[i])
            start = (len(raw) - width) // 2
            windows.append(raw[start : start + width])
        return np.stack(windows)

    def examples(self) -> dict:
        """The ``examples`` record of the network file: stored inputs, the trainer's outputs, the torque scale."""
        raw = self.info.get("representative_inputs")
        if raw is None:
            return {}
        raw = np.asarray(raw, dtype=np.float64)
        return {
            "inputs": raw.tolist(),
            "outputs": self.net_outputs(raw).tolist(),
            "torque_scale": float(self.info.get("torque_scale", 1.0)),
        }

    def stepper(self, kp: np.ndarray | None = None) -> Stepper:
        """Per-step torque predictor for ``len(kp)`` joints (batched rollouts); ``kp`` [N·m/rad] per row."""
        return Stepper(self, kp)

    def stepper_for(self, logs: list[JointLog]) -> Stepper:
        """Per-step predictor for one row per run in ``logs`` (each with its own kp)."""
        return Stepper(self, np.array([self.run_params(log).kp for log in logs]))

    # ----------------------------------------------------------------------------------------------------- export
    def deploy_module(self) -> torch.nn.Module:
        """The module with the network-file contract of its model type, normalisation baked in (float32, eval)."""
        args = (
            self.input_norm.mean,
            self.input_norm.std,
            float(self.output_norm.mean[0]),
            float(self.output_norm.std[0]),
        )
        module = self.kind.deploy_class(
            copy.deepcopy(self.net), *args
        )  # a copy: callers may cast it without touching the model
        return module.float().eval()

    def physics_params(self, kp: float | None = None) -> PhysicsParams:
        """Physics parameters for deployment at gain ``kp`` [N·m/rad] (default: the cfg's kp)."""
        k = kp if kp is not None else (self.physics.kp if self.physics.kp is not None else 0.0)
        return self.physics.at_gain(k)

    # ------------------------------------------------------------------------------------------------ persistence
    def to_checkpoint(self) -> dict:
        """Plain-data form (``torch.save``-able) that :meth:`from_checkpoint` restores."""
        return {
            "model_type": self.model_type,
            "state_dict": self.net.state_dict(),
            "model_cfg": dataclasses.asdict(self.model_cfg),
            "physics": dataclasses.asdict(self.physics),
            "dt": self.dt,
            "input_norm": self.input_norm.to_dict(),
            "output_norm": self.output_norm.to_dict(),
            "info": self.info,
        }

    @classmethod
    def from_checkpoint(cls, data: dict) -> ActuatorModel:
        """Inverse of :meth:`to_checkpoint`."""
        kind = kind_of(data["model_type"])
        model_cfg = kind.cfg_class(**data["model_cfg"])
        net = kind.build_net(model_cfg)
        net.load_state_dict(data["state_dict"])
        net.eval()
        return cls(
            data["model_type"],
            net,
            model_cfg,
            PhysicsCfg(**data["physics"]),
            data["dt"],
            Normalizer.from_dict(data["input_norm"]),
            Normalizer.from_dict(data["output_norm"]),
            data.get("info", {}),
        )


class Stepper:
    """Runs an :class:`ActuatorModel` one time step at a time for N joints, as an actuator in a simulator would.

    Uses the deploy module (normalisation baked in), so rollouts exercise exactly what gets exported; the kind
    steps it (:meth:`ModelKind.step`).
    """

    def __init__(self, model: ActuatorModel, kp: np.ndarray | None):
        self.model = model
        self.module = model.deploy_module().double()
        self.kp_raw = None if kp is None else torch.as_tensor(np.asarray(kp, dtype=np.float64))
        self.state = None

    def reset(self, n: int) -> None:
        """Zero the recurrent state / history of ``n`` joints."""
        self.state = self.model.kind.zero_state(self.model.model_cfg, n)

    @torch.no_grad()
    def step(self, q: torch.Tensor, qd: torch.Tensor, q_target: torch.Tensor, command=None) -> torch.Tensor:
        """Torque [N·m] (N,) for joint angle, velocity and target (N,) (float64).

        ``command``: the step's logged command terms (:func:`~learned_actuators.learning.features.step_command`).
        """
        m = self.model
        kp, extras = step_command(command, self.kp_raw, m.physics.kd, m.physics)
        tau, self.state = m.kind.step(m, self.module, self.state, kp, q, qd, q_target, **extras)
        return tau
