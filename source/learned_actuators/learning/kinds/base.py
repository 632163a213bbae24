"""The model-kind interface: everything that differs between kinds of actuator net, in one class per kind.

The trainer, the exporters and the loaders ask a :class:`ModelKind` (found by name with
:func:`~learned_actuators.learning.kinds.kind_of`) instead of branching on the ``model_type`` string. A kind says

- **network**: its architecture cfg class and where :class:`~learned_actuators.learning.TrainCfg` keeps it, how to
  build the net, the deploy module (network-file contract) and the contract's metadata fields;
- **features**: the raw per-frame inputs of a logged run, and how a rollout steps it one frame at a time;
- **training**: recurrent (windows of runs with a state) or frames, the batch size, whether it has the physics
  prior (per-run gain, physics fit, rollout loss);
- **export**: example inputs, ONNX tensor names, and the Newton drive that runs it (if any);
- **runtime**: the Isaac Lab actuator cfg that runs its network files, and what its Newton-native drive is given.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..newton_onnx import NewtonExportError

if TYPE_CHECKING:
    from ...data.joint_log import JointLog
    from ...network_file import NetworkMetadata
    from ..actuator_model import ActuatorModel
    from ..trainer_cfg import TrainCfg

__all__ = ["ModelKind"]


def resolve(reference: str) -> Any:
    """The object named by ``"module:qualname"`` (imported on first use, as Isaac Lab's ``class_type`` strings)."""
    module, _, qualname = reference.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class ModelKind:
    """One kind of actuator net. Subclasses set the class attributes and implement the methods that raise here."""

    name: ClassVar[str]
    """The kind's ``model_type``: its key in the registry, in ``TrainCfg.model_type`` and in the network file."""
    cfg_class: ClassVar[type]
    """Dataclass of the architecture (e.g. :class:`~learned_actuators.learning.models_cfg.GRUModelCfg`)."""
    cfg_field: ClassVar[str | None] = None
    """Field of :class:`~learned_actuators.learning.TrainCfg` holding the architecture; None: ``cfg_class()``."""
    deploy_class: ClassVar[type[nn.Module]]
    """Deploy module: the trained net with the normalisation baked in and the network-file contract's signature."""
    recurrent: ClassVar[bool] = True
    """True: trained on windows of whole runs with a recurrent state; False: on single frames."""
    uses_physics: ClassVar[bool] = False
    """Has the analytic physics prior: per-run gain, physics fit, rollout loss, physics and gain scale in the file."""
    onnx_inputs: ClassVar[tuple[str, ...]] = ("x",)
    """ONNX input tensor names, in the deploy module's (flattened) argument order."""
    onnx_outputs: ClassVar[tuple[str, ...]] = ("tau",)
    """ONNX output tensor names."""
    actuator: ClassVar[str]
    """``module:Class`` of the Isaac Lab actuator that runs the kind's network files."""
    actuator_cfg: ClassVar[str]
    """``module:Class`` of that actuator's cfg."""
    native_conventions: ClassVar[tuple[str, ...]] = ()
    """Actuator attributes (input conventions) the Newton-native drive is given besides the limits."""
    ensembles: ClassVar[bool] = False
    """Members of the kind can be combined into one ensemble file (:mod:`~learned_actuators.learning.ensemble`)."""
    newton_drive: ClassVar[str | None] = None
    """Newton's own drive (name in ``newton.actuators``) for ``.newton.onnx`` files; None: the kind has none."""

    # ------------------------------------------------------------------------------------------------ network
    def model_cfg(self, train_cfg: TrainCfg):
        """The architecture cfg of a training cfg."""
        return getattr(train_cfg, self.cfg_field) if self.cfg_field else self.cfg_class()

    def build_net(self, cfg) -> nn.Module:
        """A fresh (untrained) net for the architecture ``cfg``."""
        raise NotImplementedError

    def input_names(self, cfg) -> list[str]:
        """One name per net input (notes on near-constant inputs name them)."""
        raise NotImplementedError

    def contract(self, cfg) -> dict[str, Any]:
        """The kind's :class:`~learned_actuators.network_file.NetworkMetadata` fields (features, sizes, conventions)."""
        raise NotImplementedError

    def residual(self, cfg) -> bool:
        """Whether the net output is added to the physical torque."""
        return False

    def scales_by_gain(self, cfg) -> bool:
        """Whether the net trains on gain-scaled inputs, to be folded per gain before use (:meth:`at_gain`)."""
        return False

    def at_gain(self, model: ActuatorModel, kp: float) -> ActuatorModel:
        """The model of a gain-scaled net (:meth:`scales_by_gain`) at gain ``kp``, taking the kind's plain inputs."""
        raise NotImplementedError(f"model type {self.name!r} does not scale its inputs by the gain.")

    # ----------------------------------------------------------------------------------------------- features
    def raw_inputs(self, model: ActuatorModel, log: JointLog) -> np.ndarray:
        """Un-normalised inputs (T, F) of a single-joint run."""
        raise NotImplementedError

    def zero_state(self, cfg, n: int):
        """Recurrent state (or input history) of ``n`` joints after a reset, float64."""
        raise NotImplementedError

    def step(
        self, model: ActuatorModel, module: nn.Module, state, kp, q, qd, q_target, **command
    ) -> tuple[torch.Tensor, Any]:
        """One frame of the deploy ``module`` (float64) for N joints: ``(torque [N·m] (N,), new state)``.

        ``command``: the step's ``qd_target``/``tau_ff``/``kd`` terms (:func:`~..features.step_command`); kinds whose
        nets have fixed inputs (LSTM, MLP) ignore them.
        """
        raise NotImplementedError

    # ----------------------------------------------------------------------------------------------- training
    def batch_size(self, train_cfg: TrainCfg) -> int:
        """Windows (recurrent) or frames per optimiser step."""
        return train_cfg.batch_size if self.recurrent else train_cfg.frames_per_batch

    def window_steps(self, train_cfg: TrainCfg, dt: float) -> int:
        """Training window length in steps (the deploy summary's ``sequence_length_steps``); 1 for frames."""
        return max(2, round(train_cfg.seq_len_s / dt)) if self.recurrent else 1

    def rollout_loss(self, train_cfg: TrainCfg) -> bool:
        """Whether training adds the multi-step rollout loss (asked for, and the kind has the physics prior)."""
        return bool(train_cfg.rollout_loss.enabled) and self.uses_physics

    def rollout_torque(self, model: ActuatorModel, state, kp, params, q, qd, q_target, norm, **command) -> tuple:
        """Differentiable torque of one rollout-loss step (kinds with the physics prior): ``(tau, state)``."""
        raise NotImplementedError(f"model type {self.name!r} has no rollout loss.")

    # ------------------------------------------------------------------------------------------------- export
    def example_inputs(self, model: ActuatorModel, batch: int, generator: torch.Generator) -> tuple:
        """Random per-step inputs in the deploy module's signature (float32)."""
        raise NotImplementedError

    def onnx_module(self, module: nn.Module, inputs: tuple) -> tuple[nn.Module, tuple]:
        """The deploy module and inputs as the ONNX exporter takes them (flat tensor arguments)."""
        return module, inputs

    def onnx_names(self) -> dict[str, str]:
        """Tensor names written into the ONNX file's metadata besides the network metadata."""
        return {}

    def newton_module(self, deploy: nn.Module, meta: NetworkMetadata, where: str) -> nn.Module:
        """The deploy module in the layout of :attr:`newton_drive`, normalisation folded (float32, eval)."""
        raise NewtonExportError(
            f"{where}: model_type {self.name!r}: Newton 1.6.1 has no drive for it; run it with our DriveGRUPD "
            "(newton_drives), which keeps the physics prior."
        )

    def newton_fields(self, meta: NetworkMetadata) -> dict[str, Any]:
        """What :attr:`newton_drive` reads from the file's metadata besides the scales and ``sample_dt_s``."""
        return {}

    def newton_onnx(self, module: nn.Module, meta: NetworkMetadata) -> tuple[Any, tuple]:
        """``(ONNX proto, example inputs)`` of :meth:`newton_module`'s graph in the drive's layout."""
        raise NotImplementedError

    def newton_reference(self, deploy: nn.Module, inputs: tuple) -> list[np.ndarray]:
        """The deploy module's outputs for Newton-layout ``inputs``, in the drive's output layout."""
        raise NotImplementedError

    # ------------------------------------------------------------------------------------------------ runtime
    def actuator_class(self) -> type:
        """The Isaac Lab actuator class that runs the kind's network files (imports Isaac Lab)."""
        return resolve(self.actuator)

    def actuator_cfg_class(self) -> type:
        """The cfg class of :meth:`actuator_class` (imports Isaac Lab)."""
        return resolve(self.actuator_cfg)

    def __repr__(self) -> str:
        return f"<model kind {self.name!r}>"
