"""Gym task registrations, loaded by Isaac Lab through the ``isaaclab.tasks`` entry point.

Importing this package registers every task; the cfg modules themselves are imported lazily (string
entry points). It also registers our USD schema plugin and Newton actuator component
(:mod:`learned_actuators.newton_drives`) and the native-path hooks (:mod:`learned_actuators.actuators`): USD must
know the schema before the first stage of the process is opened, and Isaac Lab loads this entry point first.
"""

from .. import actuators  # registers the USD schema plugin (before any stage) and the native-path hooks
from .locomotion import go2
