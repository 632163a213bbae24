"""Configuration of an in-simulator validation run (:func:`~learned_actuators.validation.validate.run_validation`).

:func:`validation_overrides` turns ``key=value`` command-line overrides (Hydra's grammar, primary config
``learned_actuators/config/validate_actuator.yaml``) into checked :class:`ValidationCfg` values.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Literal

from isaaclab.utils import configclass

__all__ = ["ValidationCfg", "validation_overrides"]


@configclass
class ValidationCfg:
    """How logs are replayed in the simulator and which baselines run beside the models under test."""

    replica: Literal["auto", "bench", "joints", "go2"] = "auto"
    """Simulated setup: ``"bench"`` (one-joint bench/pendulum, :mod:`~learned_actuators.validation.bench`),
    ``"joints"`` (one independent joint per logged joint, named as logged, each with its own load from its
    per-joint constants: :func:`~learned_actuators.validation.bench.joint_benches`), ``"go2"`` (Unitree Go2 with a
    fixed base, hanging in the air), or ``"auto"`` (the Go2 when every logged joint is a Go2 joint, the bench for
    one-joint logs, else ``"joints"``). Default ``"auto"``."""

    inertia: float | None = None
    """Bench: total inertia about the joint axis [kg·m²] (``"joints"``: of every joint). None: from the log meta
    (``inertia``, or ``mass·length² + armature``; per joint for ``"joints"``). Default None."""
    mass: float | None = None
    """Bench: pendulum mass [kg]. None: log meta ``mass`` (0 if absent). Default None."""
    length: float | None = None
    """Bench: pendulum arm length [m]. None: log meta ``length`` (0 if absent). Default None."""
    benches: tuple[dict[str, float], ...] = ()
    """Bench geometries every run is replayed on, all in one simulation (one env per run and geometry): each a
    mapping with any of ``mass`` [kg], ``length`` [m], ``inertia`` [kg·m²] (total about the axis) and ``armature``
    [kg·m²] (the motor-side part of it), e.g. ``({"mass": 0.5, "length": 0.1}, {"mass": 1.0, "length": 0.15})``.
    Keys left out keep the run's own values; a new mass or length without ``inertia`` keeps the run's motor-side
    armature (its inertia less its ``m·l²``). Results are given per geometry. Empty: every run on its logged bench
    (runs with different logged benches run side by side too). Default ()."""
    gravity: bool = True
    """Whether gravity acts (-9.81 m/s² along -z). Default True."""

    decimation: int | None = None
    """Physics steps per log sample; the physics step is ``log dt / decimation`` [s]. None (automatic): the smallest
    integer that brings the step to at most :attr:`max_physics_dt` and divides the ``dt`` of every learned model
    under test (its file's rate), see :func:`~learned_actuators.validation.rates.resolve_decimation`. Default None."""
    max_physics_dt: float = 0.01
    """Largest physics step the replay accepts [s] (larger steps make the explicit actuator loop
    inaccurate); a slower log needs a larger :attr:`decimation` (chosen automatically). Default 0.01."""
    min_physics_dt: float = 1e-5
    """Smallest physics step the replay accepts [s]. Default 1e-5."""
    device: str = "cpu"
    """Simulation and actuator device. Default ``"cpu"``."""
    use_newton_actuators: bool = False
    """Run stock actuator cfgs natively in Newton (True) or through Isaac Lab's ``ActuatorBase.compute()``
    (False, required for custom classes and used by the single-step metric). Default False."""
    group_replays: bool = True
    """A model with several actuator cfgs over the folds (each fold's net, each gain's net of a per-gain model) is
    replayed once over all their runs, its cfgs side by side as the members of one
    :class:`~learned_actuators.validation.env_groups.EnvGroupsActuator`, where they can (Isaac Lab's actuator path,
    the same joint properties). False: one replay per cfg (slower; the same per-run results up to the simulator's
    batch-size rounding). Default True."""

    baselines: tuple[str, ...] = ("ideal_pd", "dc_motor", "fitted_pd", "fitted_pd_oracle")
    """Analytic baselines run beside the models: ``"ideal_pd"`` and ``"dc_motor"`` with the log's gains,
    ``"fitted_pd"`` with gains fitted by least squares on the torque labels of the training runs only (the
    ``fit_logs`` of :func:`~learned_actuators.validation.validate.run_validation`; skipped without them), and
    ``"fitted_pd_oracle"``, the same fit on the validated runs themselves (in-sample: kind ``"oracle"``, shown as an
    optimistic reference and never in the verdict). Default all four."""
    kp: float | None = None
    """Log's proportional gain [N·m/rad] for the baselines. None: log meta ``kp``. Default None."""
    kp_scale: float | None = None
    """Factor [N·m/rad per log unit] from a logged ``meta["kp"]`` to N·m/rad (logs storing a servo's raw gain,
    e.g. Dynamixel firmware units) for the baselines. None: the first GRU-PD model's file (its ``source.kp_scale``,
    or ``physics.kp`` over the median logged gain of the training runs), else 1. A GRU-PD model always uses its
    own file's scale. Default None."""
    gains_from_log: bool = True
    """Set the PD gains (``stiffness``/``damping`` of the actuator object) of every model per run from the log
    (:attr:`kp` or scale · ``meta["kp"]``), when the log has a gain and the model has PD gains: a GRU-PD model with
    its own file's gain scale and damping, other models with the baselines' (:attr:`kp_scale`, :attr:`kd`).
    Default True."""
    kd: float | None = None
    """Derivative gain [N·m·s/rad] of the baselines. None: the first GRU-PD model's file (``physics.kd``), else
    log meta ``kd`` (0 if absent). Default None."""
    effort_limit: float | None = None
    """Stall torque [N·m] of the DC-motor baseline. None: the first GRU-PD model's file (``physics.stall_torque``),
    else log meta ``stall_torque`` or ``effort_limit``. Clips learned models only with :attr:`clip_models`.
    Default None."""
    velocity_limit: float | None = None
    """No-load speed [rad/s] of the DC-motor baseline. None: the first GRU-PD model's file
    (``physics.no_load_speed``), else log meta ``no_load_speed`` or ``velocity_limit``. Clips learned models only
    with :attr:`clip_models`. Default None."""
    clip_models: bool = False
    """Clip the learned models (cfgs with a ``network_file``) with the resolved :attr:`effort_limit` /
    :attr:`velocity_limit` too (their final clip; otherwise their cfg's own). Default False."""

    growth_bins: int = 20
    """Log-spaced horizon bins of the error-growth curve. Default 20."""
    plot_trajectories: int = 6
    """Runs shown as traces in the report (the first ones; with several folds the first runs of every fold in
    turn). Default 6."""
    show_progress: bool = True
    """Show tqdm progress bars while replaying. Default True."""


@functools.cache
def _schema() -> type:
    """The structured schema of :class:`ValidationCfg`, registered for Hydra as ``validate_actuator_schema``."""
    from hydra.core.config_store import ConfigStore

    from learned_actuators.learning.cfg_schema import schema_of

    schema = schema_of(ValidationCfg)
    ConfigStore.instance().store(name="validate_actuator_schema", node=schema)
    return schema


def validation_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``key=value`` overrides of :class:`ValidationCfg` fields, composed by Hydra and checked; only the given keys.

    Every value is type-checked against its field (structured config), then range- and choice-checked
    (:data:`~learned_actuators.learning.cfg_checks.FIELD_CHECKS`), before any work. Lists are ``[a,b]``
    (``baselines=[ideal_pd,dc_motor]``, ``benches=[{mass:0.5,length:0.1}]``).

    Raises:
        UserInputError: one line naming the key, the value and what is expected (unknown keys too).
    """
    from learned_actuators.learning.cfg_checks import check_values
    from learned_actuators.learning.cfg_schema import set_values, to_dataclass
    from learned_actuators.learning.presets import compose_config, parse_overrides

    _schema()
    cfg, shown = compose_config("validate_actuator", items, ValidationCfg, top="ValidationCfg")
    keys = {o.key_or_group.split(".")[0] for o in parse_overrides(items)}
    values = {k: v for k, v in set_values(cfg).items() if k in keys}
    check_values(ValidationCfg, values, "", shown)
    typed = to_dataclass(ValidationCfg, values)
    return {k: getattr(typed, k) for k in values}
