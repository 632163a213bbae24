"""The main job on the built-in data (CPU, offline, no user data): train, export, validate in the simulator, report.

- :mod:`.training`: the demo recipe (the shipped presets ``demo`` and ``demo_all_folds``, Hydra config group
  ``preset``), :func:`~.training.run_demo` (train GRU-PD, LSTM and MLP per fold, export every fold's nets and keep
  them, with the GRU-PD's fitted physics, in memory for the validation);
- :mod:`.validation`: :func:`~.validation.validate_folds` (every fold's nets on its held-out runs in the simulator,
  baselines fitted on its training runs) and :func:`~.validation.validate_network` (``validate_actuator.py --demo``);
- :mod:`.job`: the command line of ``scripts/demo.py`` (``./run.sh demo``).

The built-in data set itself is read by :mod:`learned_actuators.data.demo`. Submodules import on first use, so
``import learned_actuators.demo`` needs neither torch nor Isaac Lab.
"""

from __future__ import annotations

import importlib

__all__ = ["job", "training", "validation"]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
