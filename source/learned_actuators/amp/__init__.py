"""Torque-aware adversarial motion priors (AMP) for rsl-rl PPO.

A discriminator learns to tell transitions of reference torque profiles (recorded by ``scripts/play_policy.py``)
from the policy's own transitions; its score becomes a style reward added to the task reward. The transition
features are joint positions, joint velocities, joint torques (scaled by ``torque_weight``; 0 gives ordinary
AMP) and, when used, the base's linear and angular velocities in its own frame.

* :mod:`.features`: the feature layout (one place), base-frame velocities, the reference-fitted normaliser.
* :mod:`.motion`: :class:`TorqueMotionDataset`, the reference files with their data checks and transition sampler.
* :mod:`.discriminator`: the discriminator network, its loss with gradient penalty, the style reward, the replay
  buffer of policy transitions.
* :mod:`.algorithm`: :class:`TorqueAmpPPO`, rsl-rl's PPO with the discriminator (an rsl-rl algorithm class).
* :mod:`.cli`: ``scripts/train_torque_amp.py``.

The rsl-rl pieces import lazily: :mod:`.features` and :mod:`.motion` need only torch and NumPy.
"""

from .features import AMP_OBS_GROUP, FeatureLayout, FeatureNormalizer, base_frame_velocities
from .motion import MotionDataError, TorqueMotionDataset

__all__ = [
    "AMP_OBS_GROUP",
    "FeatureLayout",
    "FeatureNormalizer",
    "MotionDataError",
    "TorqueMotionDataset",
    "base_frame_velocities",
]
