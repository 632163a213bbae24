"""Checks and resolution of a learned actuator's cfg and network file: fields, motor limits, rate, normalisation.

Every error names the network file and the cfg field or metadata key (:class:`ActuatorCfgError` for cfg values,
:class:`~learned_actuators.network_file.NetworkFileError` for the file). :class:`ActuatorChecks` is a mixin of
:class:`~learned_actuators.actuators.LearnedActuatorBase`.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
import sys
from typing import TYPE_CHECKING

import torch

from isaaclab.actuators import resolve_joint_parameter

from ..errors import UserInputError
from ..network_examples import EXAMPLE_TOLERANCE, stored_examples
from ..network_file import NetworkFileError, check_metadata
from ..physics import MOTOR_CURVES
from .scale_check import SCALE_CHECK_OPTIONS

if TYPE_CHECKING:
    from .learned_actuator_cfg import LearnedActuatorBaseCfg

__all__ = [
    "CHECK_CHUNK",
    "CHECK_ROWS",
    "NONFINITE_OPTIONS",
    "ActuatorCfgError",
    "ActuatorChecks",
    "fused_error_ok",
    "resolve_cfg_joint_values",
]

logger = logging.getLogger(__name__)

_DT_TOLERANCE = 1e-6
"""Relative tolerance when testing that the network dt is a whole multiple of the physics dt."""

_FUSED_TOLERANCE = 1e-4
"""Relative (to the output magnitude) tolerance of the load-time check of the fused kernels."""

CHECK_ROWS, CHECK_CHUNK = 100, 32
"""Batch and chunk width of that check: several chunks and a partial one, so the chunking is checked too."""

NONFINITE_OPTIONS = ("guard", "raise")
"""Values of :attr:`~learned_actuators.actuators.LearnedActuatorBaseCfg.nonfinite`."""

_MOTOR_LIMITS = (
    ("saturation_effort", "positive and finite"),
    ("actuator_velocity_limit", "positive (inf: no velocity limit)"),
    ("actuator_effort_limit", "positive (inf: no continuous limit)"),
)
"""Motor-limit cfg fields checked per joint when an actuator is built, with what they must be."""


class ActuatorCfgError(UserInputError):
    """A learned actuator's cfg field has a value it cannot run with; the message names the network file and field."""


def fused_error_ok(error: float, scale: float) -> bool:
    """Whether a fused (or compiled) net's max error against its reference, at output magnitude ``scale``, passes."""
    return error <= _FUSED_TOLERANCE * max(1.0, scale)


def _positive_finite(value) -> bool:
    """Whether ``value`` is a real number (not a bool) that is positive and finite."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def resolve_cfg_joint_values(file, name: str, value, joint_names: list[str]) -> torch.Tensor:
    """A per-joint cfg value (number or joint-name-pattern dict) resolved for ``joint_names``, shape (num_joints,).

    Raises :class:`ActuatorCfgError` naming ``file`` and the field when Isaac Lab cannot resolve it.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real | dict):
        raise ActuatorCfgError(
            f"{file}: cfg field '{name}' must be a number or a dict of joint-name patterns to numbers; got {value!r}."
        )
    try:
        return resolve_joint_parameter(value, None, joint_names, 1, "cpu")[0]
    except (ValueError, TypeError) as err:
        raise ActuatorCfgError(
            f"{file}: cfg field '{name}' = {value!r} does not resolve for joints {joint_names}: {err}"
        ) from err


class ActuatorChecks:
    """Mixin: cfg checks, per-joint value checks, the net's rate, fused-kernel acceptance and normalisation.

    Uses the actuator's ``cfg``, ``metadata``, ``network``, ``model_type``, ``physics_dt``, ``_joint_names``,
    ``_device`` and the motor-limit tensors of Isaac Lab's ``DCMotor``.
    """

    @classmethod
    def _check_cfg_fields(cls, cfg: LearnedActuatorBaseCfg, joint_names: list[str]) -> None:
        """Check the cfg fields that need no file, before anything is built; raise :class:`ActuatorCfgError`."""
        file = cfg.network_file
        if not isinstance(file, str | os.PathLike) or not os.fspath(file):
            raise ActuatorCfgError(
                f"{cls.__name__}: cfg field 'network_file' must be the path of a TorchScript actuator net (.pt); "
                f"got {file!r}."
            )
        options = (
            ("nonfinite", NONFINITE_OPTIONS),
            ("torque_speed_curve", MOTOR_CURVES),
            ("scale_check", SCALE_CHECK_OPTIONS),
        )
        for name, allowed in options:
            if getattr(cfg, name) not in allowed:
                raise ActuatorCfgError(
                    f"{file}: cfg field '{name}' must be one of {allowed}; got {getattr(cfg, name)!r}."
                )
        for name in ("physics_dt", "network_dt"):
            value = getattr(cfg, name)
            if value is not None and not _positive_finite(value):
                raise ActuatorCfgError(
                    f"{file}: cfg field '{name}' must be a positive, finite time step in seconds (or None); "
                    f"got {value!r}."
                )
        if cfg.saturation_effort is None:
            raise ActuatorCfgError(f"{file}: cfg field 'saturation_effort' (stall torque [N·m]) must be set.")
        if cfg.actuator_velocity_limit is None and cfg.velocity_limit is None:
            raise ActuatorCfgError(f"{file}: cfg field 'actuator_velocity_limit' (no-load speed [rad/s]) must be set.")
        for name in ("saturation_effort", "actuator_velocity_limit", "actuator_effort_limit", "stiffness", "damping"):
            value = getattr(cfg, name, None)
            if value is not None:
                resolve_cfg_joint_values(file, name, value, joint_names)

    def _check_motor_limits(self) -> None:
        """Check the resolved per-joint motor limits (after Isaac Lab's alias handling)."""
        values = {
            "saturation_effort": self._saturation_effort,
            "actuator_velocity_limit": self.actuator_velocity_limit,
            "actuator_effort_limit": self.actuator_effort_limit,
        }
        for name, rule in _MOTOR_LIMITS:
            cfg_value = getattr(self.cfg, name, None)
            what = f"cfg field '{name}'" + ("" if cfg_value is not None else " (not set: the articulation's default)")
            self._check_joint_values(what, values[name][0], rule, cfg_value)

    def _check_joint_values(self, what: str, values: torch.Tensor, rule: str, cfg_value=None) -> None:
        """Raise a user error for the joints whose value in ``values`` (num_joints,) breaks ``rule``.

        :class:`ActuatorCfgError`, or :class:`NetworkFileError` when ``what`` names a "metadata ..." value.
        ``rule``: ``"positive and finite"``, ``"positive (...)"`` (inf allowed), ``"non-negative and finite"`` or
        ``"finite"``.
        """
        finite = torch.isfinite(values)
        if rule.startswith("positive and finite"):
            ok = finite & (values > 0)
        elif rule.startswith("positive"):
            ok = values > 0  # NaN compares False; +inf allowed
        elif rule.startswith("non-negative"):
            ok = finite & (values >= 0)
        else:
            ok = finite
        if bool(ok.all()):
            return
        bad = (~ok).nonzero().flatten().tolist()
        got = ", ".join(f"{self._joint_names[j]}={float(values[j])!r}" for j in bad)
        hint = ""
        if isinstance(cfg_value, dict) and any(float(values[j]) == 0.0 for j in bad):
            hint = " (joints that no pattern of the dict matches get 0)"
        error = NetworkFileError if what.startswith("metadata") else ActuatorCfgError
        raise error(f"{self.cfg.network_file}: {what} must be {rule} for every joint; got {got}{hint}.")

    def _check_metadata(self, expected: dict) -> None:
        """Compare the file's metadata with cfg values (None entries: don't care); raise naming the file."""
        if self.metadata is not None:
            check_metadata(self.metadata, expected, source=self.cfg.network_file)

    def _file_error(self, message: str) -> NetworkFileError:
        return NetworkFileError(f"{self.cfg.network_file}: {message}")

    def _resolve_physics_dt(self) -> float:
        if self.cfg.physics_dt is not None:
            return float(self.cfg.physics_dt)
        module = sys.modules.get("isaaclab.sim.simulation_context")
        context = module.SimulationContext.instance() if module is not None else None
        if context is None:
            raise ValueError(
                f"{type(self).__name__}: the physics dt is unknown (no SimulationContext is active); "
                "set the cfg field 'physics_dt' [s]."
            )
        return float(context.get_physics_dt())

    def _resolve_rate(self) -> tuple[float, int]:
        """Network dt [s] and the number of physics steps per network step."""
        file_dt = self.metadata.dt if self.metadata is not None else None
        cfg_dt = self.cfg.network_dt
        if file_dt is not None and cfg_dt is not None:
            self._check_metadata({"dt": float(cfg_dt)})
        net_dt = cfg_dt if cfg_dt is not None else file_dt
        if net_dt is None:
            logger.warning(
                "%s: %s has no metadata and the cfg sets no 'network_dt'; the net runs once per physics step "
                "(%.4g s), as Isaac Lab's stock actuator nets do. Set 'network_dt' to the rate it was trained at.",
                type(self).__name__,
                self.cfg.network_file,
                self.physics_dt,
            )
            return self.physics_dt, 1
        ratio = net_dt / self.physics_dt
        steps = round(ratio)
        if steps < 1 or not math.isclose(ratio, steps, rel_tol=_DT_TOLERANCE):
            raise self._file_error(
                f"the net was trained at dt={net_dt} s, which is not a whole multiple of the physics dt "
                f"{self.physics_dt} s; a recurrent/history net cannot run at another rate. Retrain at a multiple of "
                "the physics dt or change sim.dt."
            )
        return float(net_dt), int(steps)

    def _use_fused(self, fused, reference_error: float, scale: float) -> bool:
        """Decide whether to use the fused kernels.

        They must match the module on random inputs (``reference_error`` at output magnitude ``scale``) and, for a
        file that stores examples, its stored outputs on representative training inputs.
        """
        if fused is None:
            logger.info(
                "%s: net structure not recognised for fused kernels; calling the TorchScript module.",
                self.cfg.network_file,
            )
            return False
        examples = None if self.metadata is None else stored_examples(self.metadata, str(self.cfg.network_file))
        if examples is not None:
            from .fused_nets import fused_example_error

            error = fused_example_error(self.network, examples[0], examples[1], self._device)
            if error is None or error > EXAMPLE_TOLERANCE * examples[2]:
                logger.warning(
                    "%s: fused kernels differ from the outputs stored in the file by %s N·m on its representative "
                    "training inputs (tolerance %.3g N·m); calling the TorchScript module instead.",
                    self.cfg.network_file,
                    "an unknown amount" if error is None else f"{error:.3g}",
                    EXAMPLE_TOLERANCE * examples[2],
                )
                return False
        if not fused_error_ok(reference_error, scale):
            logger.warning(
                "%s: fused kernels differ from the TorchScript module by %.3g N·m on random inputs; "
                "calling the module instead.",
                self.cfg.network_file,
                reference_error,
            )
            return False
        return True

    def _normalization(self, width: int) -> tuple[torch.Tensor | None, torch.Tensor | None, float, float]:
        """Input map, input offset, output scale and output offset undoing the file's normalisation.

        With ``normalization_in_network`` false and statistics present, the net sees ``(x - input_mean) /
        input_std`` and its output ``y`` means ``y * output_std + output_mean``. Returns identity values for files
        without metadata or with the normalisation inside the net.
        """
        meta = self.metadata
        if meta is None or meta.normalization_in_network or not (meta.input_mean or meta.input_std):
            if meta is not None and not meta.normalization_in_network:
                return None, None, float(meta.output_std), float(meta.output_mean)
            return None, None, 1.0, 0.0
        if len(meta.input_mean) != width or len(meta.input_std) != width:
            raise self._file_error(
                f"metadata 'input_mean'/'input_std' have {len(meta.input_mean)}/{len(meta.input_std)} entries; the "
                f"net takes {width} inputs (metadata 'features' {meta.features}, 'input_idx' {meta.input_idx})."
            )
        std = torch.tensor(meta.input_std, dtype=torch.float32)
        if not bool((std > 0).all()):
            raise self._file_error(f"metadata 'input_std' must be positive, got {meta.input_std}.")
        mean = torch.tensor(meta.input_mean, dtype=torch.float32)
        return torch.diag(1.0 / std), -mean / std, float(meta.output_std), float(meta.output_mean)
