"""Inspect motor logs before training: per-run and data-set statistics, findings with fixes, an interactive page.

:func:`~learned_actuators.inspection.inspect.inspect_data` reads the runs as training does and returns a JSON-ready
summary; :func:`~learned_actuators.inspection.page.render_page` turns it into one self-contained HTML page (plotly,
bundled, opens offline). ``scripts/inspect_logs.py`` is the command line (:mod:`~learned_actuators.inspection.cli`).
"""

from .inspect import inspect_data, load_for_inspection
from .page import render_page

__all__ = ["inspect_data", "load_for_inspection", "render_page"]
