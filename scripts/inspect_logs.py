r"""Inspect motor logs before training: an interactive page and a JSON summary of what the training readers see.

Examples::

    python scripts/inspect_logs.py --demo                                         # the built-in demo data
    python scripts/inspect_logs.py ../shared/data/bam/sts3250_raw --column-map bam_sts3250
    python scripts/inspect_logs.py logs/ --column-map my_map.json --out runs/inspect/mine
    python scripts/inspect_logs.py --preset bam_xl330                            # the preset's data and split
    python scripts/inspect_logs.py logs/ data.reader=bench_csv                   # any reader, data.* overrides

Writes ``inspection.html`` (self-contained, opens offline: per-run table, signals per run, coverage of (position
error, velocity), gains, torque vs speed, the split the preset would make, the first rows of each run) and
``inspection.json`` (the same figures) into ``--out`` (default ``runs/inspect/<name>``). Each finding says what to
change, usually a column-map key (``resample_hz``, ``glitches``, ``velocity.lag_s``, ``valid``). The runs are read
as ``scripts/train_actuator.py`` reads them (same readers, cleaning and ``data.*`` settings); logs that training
could not read are listed with the reader's error. An earlier inspection in ``--out`` is kept unless ``--overwrite``.
"""

import sys

from learned_actuators.errors import run_cli
from learned_actuators.inspection.cli import main
from learned_actuators.learning.outputs import exit_on_sigterm

if __name__ == "__main__":
    exit_on_sigterm()
    sys.exit(run_cli(lambda argv: main(argv, __doc__)))
