"""Configurations of the actuator-net architectures (:mod:`learned_actuators.learning.models`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import UserInputError
from ..physics import PhysicsParams

__all__ = [
    "FIT_PARAMS",
    "FIT_PARAM_NAMES",
    "GRUModelCfg",
    "LSTMModelCfg",
    "MLPModelCfg",
    "PhysicsCfg",
    "checked_fit_params",
]

FIT_PARAMS = {"kp": 0.0, "kp_scale": 0.0, "kd": 0.0, "stall_torque": 1e-3, "no_load_speed": 1e-2, "friction": 0.0}
"""What the least-squares physics fit fits (``PhysicsCfg.fit_params`` names among these), with its lower bounds."""

FIT_PARAM_NAMES = (*FIT_PARAMS, "friction_load")
"""The names ``PhysicsCfg.fit_params`` takes: :data:`FIT_PARAMS` and ``friction_load`` (``fit="trajectory"`` only)."""


def checked_fit_params(cfg: PhysicsCfg) -> list[str] | None:
    """``cfg.fit_params`` (None: all), refused with the allowed names when one is not in :data:`FIT_PARAM_NAMES`."""
    unknown = set(cfg.fit_params or ()) - set(FIT_PARAM_NAMES)
    if unknown:
        expected = ", ".join(FIT_PARAM_NAMES)
        raise UserInputError(f"physics.fit_params has unknown names {sorted(unknown)}; expected some of {expected}.")
    return cfg.fit_params


@dataclass
class PhysicsCfg:
    """Analytic part of the GRU-PD model (:func:`learned_actuators.physics.physical_torque`), per run.

    The run's proportional gain is ``kp`` when set, else ``kp_scale * meta["kp"]`` (logs that store the servo's
    raw gain, e.g. Dynamixel firmware units). With ``fit`` the trainer fits ``kp_scale``, ``kd``, ``stall_torque``,
    ``no_load_speed`` and ``friction`` by least squares on the training runs (torque-enabled frames) before training
    the net.
    """

    kp: float | None = None
    """Proportional gain [N·m/rad] of every run; None: ``kp_scale * meta["kp"]``. Default None."""
    kp_scale: float = 1.0
    """Factor [N·m/rad per log unit] from the logged gain to N·m/rad. Default 1."""
    kd: float = 0.0
    """Derivative gain on the joint velocity [N·m·s/rad]. Default 0."""
    k_spring: float = 0.0
    """Spring coefficient [N·m/rad] of ``k_spring * (q - theta0)`` (restoring spring < 0). Default 0."""
    theta0: float = 0.0
    """Spring rest angle [rad]. Default 0."""
    stall_torque: float | None = None
    """Torque-speed curve: torque at zero speed [N·m]; None disables the curve. Default None."""
    no_load_speed: float | None = None
    """Torque-speed curve: speed at which no motoring torque is left [rad/s]. Default None."""
    friction: float | None = None
    """Coulomb friction ``tau_c`` [N·m] of ``-tau_c * tanh(qd / friction_velocity)``; None: no friction term (and
    none fitted). Default None."""
    friction_velocity: float = 0.05
    """Velocity [rad/s] over which the Coulomb friction changes sign. Default 0.05."""
    friction_load: float = 0.0
    """Load-dependent Coulomb friction [-]: the friction bound grows by this times the motor torque's magnitude (a
    geared servo's gearbox friction); identified by ``fit="trajectory"``. Default 0."""
    fit: bool | Literal["torque", "trajectory"] = False
    """Fit the physics on the training runs before training the net. ``True``/``"torque"``: kp_scale, kd,
    stall_torque, no_load_speed (when the curve is on) and friction (when not None) by least squares on the torque
    labels; ``"trajectory"``: by simulating the training runs from their logged commands (output error,
    :mod:`~learned_actuators.learning.sysid_fit`; needs the load in the run metadata), which also identifies
    delay, encoder offset and armature (recorded in ``identified``, not used by the actuator). Default False."""
    fit_params: list[str] | None = None
    """With ``fit``: only these parameters are fitted (names in :data:`FIT_PARAM_NAMES`; None = all of them); the
    others keep this cfg's values, e.g. a datasheet's ``stall_torque`` and ``no_load_speed``. With
    ``fit="trajectory"`` it limits both the least-squares start and the trajectory fit (``kp`` or ``kp_scale``: the
    gain; ``friction``: the Coulomb term; ``friction_load`` only there); the ``traj_physics`` baseline row fits all
    of its parameters regardless."""
    fit_generations: int = 60
    """CMA-ES generations of the first pass of every trajectory fit of a run (``fit="trajectory"`` and the
    ``traj_physics``/``traj_prior`` rows; a refit pass gets a third). 60: about 16 s per fold of 12 BAM runs on one
    core, 0.066 rad mean held-out rollout RMSE of ``traj_physics`` on the 16 runs; 40 are faster but worse (0.050 vs
    0.044 rad on the lift_and_drop fold). The main job's quick check uses 6 (its results are not meaningful).
    Default 60."""

    identified: dict[str, Any] | None = None
    """Set by ``fit="trajectory"``: every identified parameter, its relative standard error, what was fixed and
    what the actuator's physics cannot express; exported into the network file's ``source.identified``."""

    def at_gain(self, kp: float) -> PhysicsParams:
        """:class:`~learned_actuators.physics.PhysicsParams` of this cfg at gain ``kp`` [N·m/rad] (friction None: 0)."""
        return PhysicsParams(
            kp=float(kp),
            kd=float(self.kd),
            k_spring=float(self.k_spring),
            theta0=float(self.theta0),
            stall_torque=self.stall_torque,
            no_load_speed=self.no_load_speed,
            friction=float(self.friction or 0.0),
            friction_velocity=float(self.friction_velocity),
            friction_load=float(self.friction_load),
        )


@dataclass
class GRUModelCfg:
    """Stateful GRU, residual over the PD + spring + torque-speed physics or direct torque."""

    features: list[str] = field(default_factory=lambda: ["pos_error", "qd", "kp", "tau_pd", "tau_phys"])
    """Per-step inputs (names of :data:`learned_actuators.network_file.FEATURES`); ``tau_pd`` is the PD torque
    ``kp (q* - q) - kd qd`` [N·m], ``tau_phys`` the physics torque (saturated PD + spring + friction) [N·m],
    ``kp`` the gain [N·m/rad]. Default ``["pos_error", "qd", "kp", "tau_pd", "tau_phys"]``: on the BAM logs
    ``tau_phys`` lowered the held-out torque error and made it less seed-dependent."""
    mode: str = "residual"
    """``"residual"``: the net predicts ``tau - tau_phys``; ``"direct"``: the net predicts the torque."""
    residual_penalty: float = 0.0
    """Residual mode: weight of the residual's mean square (in units of its spread over the training runs) added to
    the torque loss. It keeps the model at its physics prior where the torque labels do not pay for a departure
    (on the BAM logs: long stalls, which the unpenalised residual holds off in a rollout). 0 = off. Default 0."""
    hidden_size: int = 32
    """GRU hidden units. Default 32."""
    num_layers: int = 1
    """GRU layers. Default 1."""
    dropout: float = 0.0
    """Dropout between GRU layers (only with num_layers > 1). Default 0."""


@dataclass
class LSTMModelCfg:
    """LSTM on ``[q* - q, qd]`` with Isaac Lab's ``ActuatorNetLSTM`` contract (defaults: the Go2 recipe, 2 × 64)."""

    hidden_size: int = 64
    """LSTM hidden units. Default 64."""
    num_layers: int = 2
    """LSTM layers. Default 2."""
    dropout: float = 0.1
    """Dropout between LSTM layers. Default 0.1."""
    gain_scaled_error: bool = False
    """Train one net on runs of several gains with the position error scaled by each run's gain, ``kp · (q* - q)``
    (``kp`` the run's gain as the physics cfg maps it, :func:`~learned_actuators.learning.features.run_command`), so
    the net sees which gain drives the motor. The row's model predicts each run at its own gain, and exports one file
    per gain of the training runs (``<model>_kp<gain>.pt``, as ``train.per_gain``) with that gain folded into the
    input normalisation: each file takes Isaac Lab's plain ``[q* - q, qd]``. A test run of a gain no training run has
    is refused. Not with ``train.per_gain``. Default False."""


@dataclass
class MLPModelCfg:
    """MLP on position-error/velocity histories with Isaac Lab's ``ActuatorNetMLP`` contract."""

    input_idx: list[int] = field(default_factory=lambda: [0, 1, 2])
    """History slots fed to the net (0 = now, k = k steps of ``dt`` ago); 2 inputs per slot. Default [0, 1, 2]."""
    hidden: list[int] = field(default_factory=lambda: [100, 100, 100])
    """Hidden layer widths. Default three layers of 100."""
    activation: str = "softsign"
    """``"softsign"``, ``"tanh"``, ``"elu"`` or ``"relu"``. Default softsign."""
