"""Train, evaluate and export actuator nets from motor logs: ``--demo``, ``--preset NAME|FILE``, Hydra overrides.

Examples::

    python scripts/train_actuator.py --demo --out runs/demo_short train.max_epochs=5
    python scripts/train_actuator.py --preset bam_xl330 --out runs/bam
    python scripts/train_actuator.py --demo --multirun train.seed=0,1,2 --out runs/seeds
    python scripts/train_actuator.py --resume runs/bam

The command line is :mod:`learned_actuators.learning.train_cli` (``--help`` shows all of it).
"""

from __future__ import annotations

import sys

from learned_actuators.errors import run_cli
from learned_actuators.learning.outputs import exit_on_sigterm
from learned_actuators.learning.train_cli import main

__all__ = ["main"]

if __name__ == "__main__":
    exit_on_sigterm()
    sys.exit(run_cli(main))
