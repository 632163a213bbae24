"""Which execution path Isaac Lab 3.0 gives the learned actuators, and the error for a class that cannot take it.

Isaac Lab 3.0 runs its stock explicit actuators inside Newton by default (``SimulationCfg.use_newton_actuators
= True``) and rejects every other explicit actuator class while authoring the robot
(``isaaclab.sim.schemas.schemas_actuators.validate_newton_native_actuator_cfgs`` raises a ValueError that does
not say where the switch lives).

* Our three cfgs run there too: the joints of a :class:`~learned_actuators.actuators.CombinedGRUAndPDActuatorCfg`
  get our Newton drive :class:`~learned_actuators.newton_drives.DriveGRUPD` (Warp kernels), those of the LSTM and
  MLP cfgs :class:`~learned_actuators.newton_drives.DriveLSTM` / ``DriveMLP`` (our actuator classes run inside
  Newton's step; graph-safe on the CPU only). Same torques as the Python path; see
  :mod:`learned_actuators.actuators.isaaclab_native`, the one module that depends on Isaac Lab internals. With
  ``use_newton_actuators=False`` they run on Isaac Lab's Python actuator path (the fallback).
* A subclass of our cfgs is not run natively: with ``use_newton_actuators=True`` the first thing Isaac Lab asks of
  its actuator class (its ``is_implicit_model`` flag, read before that ValueError can be raised) raises
  :class:`NewtonActuatorPathError`, which names the exact setting. The flag is an ordinary ``False`` whenever no
  simulation with Newton actuators is active (unit tests, the Python actuator path), and for a class that runs
  natively.
"""

from __future__ import annotations

import sys
from abc import ABCMeta

__all__ = ["NewtonActuatorPathError", "newton_actuators_active"]


class NewtonActuatorPathError(RuntimeError):
    """A learned actuator was used while Isaac Lab runs actuators natively in Newton."""


def newton_actuators_active() -> bool:
    """Whether an Isaac Lab simulation context exists with ``use_newton_actuators=True``.

    Never imports Isaac Lab's simulation module: without it loaded there is no context.
    """
    module = sys.modules.get("isaaclab.sim.simulation_context")
    if module is None:
        return False
    context = module.SimulationContext.instance()
    return context is not None and bool(getattr(context.cfg, "use_newton_actuators", False))


class LabActuatorPathMeta(ABCMeta):
    """Metaclass whose ``is_implicit_model`` check explains the ``use_newton_actuators`` requirement."""

    @property
    def is_implicit_model(cls) -> bool:
        if newton_actuators_active() and not _runs_natively(cls):
            native = (
                "This package's Newton-native path is off for the installed Isaac Lab/Newton versions (see the "
                "warning of learned_actuators.actuators.isaaclab_native). "
                if cls.__dict__.get("newton_native_drive", False)
                else "Only the package's CombinedGRUAndPDActuator, LSTMActuatorNet and MLPActuatorNet classes (not "
                "subclasses) run natively in Newton. "
            )
            raise NewtonActuatorPathError(
                f"{cls.__module__}.{cls.__name__} is a custom explicit actuator and runs only on Isaac Lab's Python "
                "actuator path, but the simulation was configured with sim.use_newton_actuators=True (the Isaac "
                f"Lab 3.0 default). {native}Set `self.sim.use_newton_actuators = False` in your env cfg's "
                "__post_init__ (command line: `env.sim.use_newton_actuators=false`), or use a learned_actuators "
                "task, which sets it."
            )
        return False


def _runs_natively(cls) -> bool:
    """Whether ``cls`` itself (not a subclass of it) has a Newton drive and the native path is installed."""
    if not cls.__dict__.get("newton_native_drive", False):
        return False
    from .isaaclab_native import native_path_available

    return native_path_available()
