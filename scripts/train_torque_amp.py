r"""Train a Go2 policy with torque-aware AMP: rsl-rl PPO plus a discriminator over joint and torque transitions.

Runs as ``isaaclab.sh -p scripts/train_torque_amp.py ...`` or ``python scripts/train_torque_amp.py ...``; logic in
:mod:`learned_actuators.amp`. Example (CPU)::

    python scripts/train_torque_amp.py --task LearnedActuators-Velocity-Flat-UnitreeGo2-AMP-Offline \
        --torque_motion_files logs/torque_profiles/go2_flat_offline/<run>_model_1499 \
        --torque_weight 1.0 --num_envs 64 --max_iterations 300 --device cpu

``--torque_weight 0`` gives ordinary AMP; ``agent.algorithm.<field>=...`` sets any other AMP field.
"""

import sys

from learned_actuators.amp.cli import main

if __name__ == "__main__":
    sys.exit(main())
