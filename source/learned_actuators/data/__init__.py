"""Motor-log readers. Every reader returns :class:`JointLog` runs (pure NumPy/pandas, no simulator)."""

from .joint_log import JointLog, LogFormatError
