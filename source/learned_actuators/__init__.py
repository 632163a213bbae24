"""Learned actuator models for Isaac Lab 3.0: from motor logs to a walking Go2 policy.

Importing this package never imports Isaac Lab: the training side (``learned_actuators.data``,
``learned_actuators.learning``, :mod:`learned_actuators.physics`, :mod:`learned_actuators.network_file`)
runs with PyTorch alone. The simulator side (``learned_actuators.actuators``, ``.assets``, ``.tasks``,
``.validation``) needs Isaac Lab 3.0 and is imported only when used.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("learned_actuators")
except PackageNotFoundError:  # running from a source tree that was not pip-installed
    __version__ = "0.0.0+unknown"
