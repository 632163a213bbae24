r"""Collect actuator data on a suspended Go2: chirps, steps and random targets per joint group, logged for training.

Examples::

    python scripts/excite_go2.py --dry-run                                   # print the plan, move nothing
    python scripts/excite_go2.py --groups thighs calves                      # simulator (offline Go2 task, DC motors)
    python scripts/excite_go2.py --task LearnedActuators-Velocity-Flat-UnitreeGo2-GRUPD-Offline --groups calves
    python scripts/excite_go2.py --backend robot --interface eth0 --groups calves --amplitude-scale 0.25
    python scripts/excite_go2.py amplitude.calf=0.3 chirp_f1_hz=3 kp=30 kp.calf=35 kd=0.8 signals=[chirp,steps]
    python scripts/excite_go2.py --backend robot --dry-run robot.limits.position_margin=0.08 nominal.FL_calf_joint=-1.4

``key=value`` overrides use Hydra's grammar, as ``scripts/train_actuator.py`` does (lists ``[a,b]``, ``null``,
quoted text): the ``ExcitationCfg`` fields, ``sim.<field>`` or ``robot.<field>`` for the chosen backend, one entry
of a mapping (``amplitude.calf``; ``kp=30`` sets every part, ``kp.calf=35`` one). Every value is type-checked before
anything moves.
Every session is written to a new folder under ``--out`` (default ``runs/excitation``), never over an earlier one:
the CSV log, its metadata side file, ``column_map.json`` (read it with ``scripts/inspect_logs.py FOLDER
--column-map FOLDER/column_map.json`` and ``scripts/train_actuator.py data.reader=column_map data.path=FOLDER
data.column_map=FOLDER/column_map.json``) and ``session.json``. The simulator backend fixes the Go2's base in the
air; the robot backend (extra ``pip install "learned_actuators[unitree]"``) sends Unitree LowCmd at 500 Hz,
enforces soft limits (position margin, speed, torque estimate) and switches to damping on any violation or Ctrl-C.
Exit status: 0 completed, 1 stopped early (the log is still written), 2 a mistake in the arguments.
"""

import sys

from learned_actuators.errors import run_cli
from learned_actuators.excitation.cli import main

if __name__ == "__main__":
    sys.exit(run_cli(lambda argv: main(argv, __doc__)))
