"""Gym task registrations, loaded by Isaac Lab through the ``isaaclab.tasks`` entry point.

Importing this package registers every task; the cfg modules themselves are imported lazily (string
entry points), so registration is cheap.
"""

from .locomotion import go2
