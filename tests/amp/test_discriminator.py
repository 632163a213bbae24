"""The discriminator separates reference from policy transitions and rewards the reference; the replay buffer."""

from __future__ import annotations

import pytest
import torch

from learned_actuators.amp import FeatureLayout, FeatureNormalizer
from learned_actuators.amp.discriminator import Discriminator, TransitionReplayBuffer

pytestmark = pytest.mark.unit


def _transitions(n, torque_mean, generator):
    layout = FeatureLayout(2, use_base_velocities=False)
    x = torch.randn(n, layout.size, generator=generator)
    x[:, layout.torque_slice] += torque_mean  # differ in the torques only
    return x, x + 0.01


@pytest.mark.parametrize(("torque_weight", "separates"), [(1.0, True), (0.0, False)])
def test_discriminator_sees_torque_differences_only_with_a_torque_weight(torque_weight, separates):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    layout = FeatureLayout(2, use_base_velocities=False)
    normalizer = FeatureNormalizer(layout, torque_weight)
    normalizer.fit(_transitions(2000, 0.0, g)[0])
    disc = Discriminator(normalizer, [32, 32])
    opt = torch.optim.Adam(disc.net.parameters(), lr=3e-3)
    for _ in range(300):
        losses = disc.loss(_transitions(256, 0.0, g), _transitions(256, 3.0, g), grad_penalty=0.1)
        opt.zero_grad()
        losses["total"].backward()
        opt.step()
    ref_reward = disc.style_reward(*_transitions(1000, 0.0, g)).mean()
    pol_reward = disc.style_reward(*_transitions(1000, 3.0, g)).mean()
    assert 0.0 <= pol_reward <= 1.0 and 0.0 <= ref_reward <= 1.0
    if separates:
        assert ref_reward - pol_reward > 0.5
    else:
        assert abs(ref_reward - pol_reward) < 0.05  # torques are invisible at weight 0: ordinary AMP


def test_replay_buffer_keeps_the_newest_transitions_and_samples_only_filled_slots():
    buffer = TransitionReplayBuffer(feature_size=1, capacity=5)
    with pytest.raises(RuntimeError, match="empty"):
        buffer.sample(1)
    buffer.insert(torch.arange(3.0)[:, None], torch.arange(3.0)[:, None] + 100)
    now, nxt = buffer.sample(200)
    assert set(now[:, 0].tolist()) == {0.0, 1.0, 2.0}
    torch.testing.assert_close(nxt - now, torch.full_like(now, 100.0))
    buffer.insert(torch.arange(3.0, 9.0)[:, None], torch.arange(3.0, 9.0)[:, None] + 100)
    now, _ = buffer.sample(500)
    assert buffer.size == 5 and set(now[:, 0].tolist()) == {4.0, 5.0, 6.0, 7.0, 8.0}
