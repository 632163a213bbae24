"""Configuration of an in-simulator validation run (:func:`~learned_actuators.validation.validate.run_validation`)."""

from __future__ import annotations

from typing import Literal

from isaaclab.utils import configclass

__all__ = ["ValidationCfg"]


@configclass
class ValidationCfg:
    """How logs are replayed in the simulator and which baselines run beside the models under test."""

    replica: Literal["auto", "bench", "go2"] = "auto"
    """Simulated setup: ``"bench"`` (one-joint bench/pendulum, :mod:`~learned_actuators.validation.bench`),
    ``"go2"`` (Unitree Go2 with a fixed base, hanging in the air), or ``"auto"`` (the Go2 when every logged
    joint is a Go2 joint, the bench for one-joint logs). Default ``"auto"``."""

    inertia: float | None = None
    """Bench: total inertia about the joint axis [kg·m²]. None: from the log meta (``inertia``, or
    ``mass·length² + armature``). Default None."""
    mass: float | None = None
    """Bench: pendulum mass [kg]. None: log meta ``mass`` (0 if absent). Default None."""
    length: float | None = None
    """Bench: pendulum arm length [m]. None: log meta ``length`` (0 if absent). Default None."""
    gravity: bool = True
    """Whether gravity acts (-9.81 m/s² along -z). Default True."""

    decimation: int = 1
    """Physics steps per log sample; the physics step is ``log dt / decimation`` [s]. Default 1."""
    max_physics_dt: float = 0.01
    """Largest physics step the replay accepts [s] (larger steps make the explicit actuator loop
    inaccurate); a slower log needs a larger :attr:`decimation`. Default 0.01."""
    min_physics_dt: float = 1e-5
    """Smallest physics step the replay accepts [s]. Default 1e-5."""
    device: str = "cpu"
    """Simulation and actuator device. Default ``"cpu"``."""
    use_newton_actuators: bool = False
    """Run stock actuator cfgs natively in Newton (True) or through Isaac Lab's ``ActuatorBase.compute()``
    (False, required for custom classes and used by the single-step metric). Default False."""

    baselines: tuple[str, ...] = ("ideal_pd", "dc_motor", "fitted_pd", "fitted_pd_oracle")
    """Analytic baselines run beside the models: ``"ideal_pd"`` and ``"dc_motor"`` with the log's gains,
    ``"fitted_pd"`` with gains fitted by least squares on the torque labels of the training runs only (the
    ``fit_logs`` of :func:`~learned_actuators.validation.validate.run_validation`; skipped without them), and
    ``"fitted_pd_oracle"``, the same fit on the validated runs themselves (in-sample: kind ``"oracle"``, shown as an
    optimistic reference and never in the verdict). Default all four."""
    kp: float | None = None
    """Log's proportional gain [N·m/rad] for the baselines. None: log meta ``kp``. Default None."""
    kp_scale: float = 1.0
    """Factor [N·m/rad per log unit] from a logged ``meta["kp"]`` to N·m/rad (logs storing a servo's raw gain,
    e.g. Dynamixel firmware units). Default 1."""
    gains_from_log: bool = True
    """Set the PD gains (``stiffness``/``damping`` of the actuator object) of every model per run from the log
    (:attr:`kp` or ``kp_scale · meta["kp"]``, :attr:`kd` or ``meta["kd"]``), when the log has a gain and the model
    has PD gains. Default True."""
    kd: float | None = None
    """Log's derivative gain [N·m·s/rad] for the baselines. None: log meta ``kd`` (0 if absent). Default None."""
    effort_limit: float | None = None
    """Stall torque [N·m] of the DC-motor baseline. None: log meta ``stall_torque`` or ``effort_limit``.
    Default None."""
    velocity_limit: float | None = None
    """No-load speed [rad/s] of the DC-motor baseline. None: log meta ``no_load_speed`` or ``velocity_limit``.
    Default None."""

    growth_bins: int = 20
    """Log-spaced horizon bins of the error-growth curve. Default 20."""
    plot_trajectories: int = 6
    """Runs shown as traces in the report (the first ones; with several folds the first runs of every fold in
    turn). Default 6."""
    show_progress: bool = True
    """Show tqdm progress bars while replaying. Default True."""
