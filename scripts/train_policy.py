"""Train a Go2 locomotion policy with rsl-rl PPO.

Same as ``isaaclab train --rl_library rsl_rl ...`` with this package's tasks loaded; runs as
``isaaclab.sh -p scripts/train_policy.py ...`` or ``python scripts/train_policy.py ...``. Example (CPU)::

    TASK=LearnedActuators-Velocity-Flat-UnitreeGo2-Offline
    python scripts/train_policy.py --task $TASK --num_envs 64 --max_iterations 5 --device cpu
"""

import sys

from learned_actuators.policy.cli import train

if __name__ == "__main__":
    sys.exit(train())
