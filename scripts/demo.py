"""The main job on the built-in data (CPU, offline, no user data): ``./run.sh demo`` runs this.

Trains GRU-PD, LSTM and MLP in four leave-one-trajectory-out folds on the shipped BAM pendulum logs, validates every
fold's nets in the simulator against baselines fitted on its training runs, and writes ``report.html`` and
``metrics.json``. ``--quick`` (CI): the same steps on one fold, two epochs per model. See
:mod:`learned_actuators.demo.job` (``--help``).
"""

from __future__ import annotations

import sys

from learned_actuators.demo.job import main
from learned_actuators.errors import run_cli
from learned_actuators.learning.outputs import exit_on_sigterm

__all__ = ["main"]

if __name__ == "__main__":
    exit_on_sigterm()
    sys.exit(run_cli(main))
