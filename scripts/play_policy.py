r"""Play a Go2 locomotion policy (rsl-rl checkpoint) and record torque profiles, one NPZ per env.

Same as ``isaaclab play --rl_library rsl_rl ...`` with this package's tasks loaded, for a bounded number of
steps, plus recording (see :mod:`learned_actuators.policy.play`). Runs as ``isaaclab.sh -p
scripts/play_policy.py ...`` or ``python scripts/play_policy.py ...``. Example (CPU)::

    TASK=LearnedActuators-Velocity-Flat-UnitreeGo2-GRUPD-Offline
    python scripts/play_policy.py --task $TASK --num_envs 16 --device cpu --num_steps 500 \
        --checkpoint logs/rsl_rl/go2_flat_gru_pd/<run>/model_1499.pt \
        env.scene.robot.actuators.base_legs.network_file=/path/to/go2_gru_pd.pt
    # -> logs/torque_profiles/go2_flat_gru_pd/<run>_model_1499/env_0000.npz ...

Recording options: ``--num_steps``, ``--record_dir``, ``--record_envs``, ``--no_record``, ``--no_export``.
"""

import sys

from learned_actuators.errors import run_cli
from learned_actuators.policy.play import play

if __name__ == "__main__":
    sys.exit(run_cli(play))
