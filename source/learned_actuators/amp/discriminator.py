"""The AMP discriminator over transitions, its loss, the style reward, and a replay buffer of policy transitions.

Loss (least-squares GAN, as in Peng et al. 2021, "AMP: Adversarial Motion Priors"): ``(D(reference) - 1)^2 +
(D(policy) + 1)^2``, plus ``grad_penalty * |dD/dx|^2`` on the reference inputs. Style reward of a transition:
``max(0, 1 - 0.25 (D - 1)^2)``, in [0, 1].
"""

from __future__ import annotations

import torch
from torch import nn

from .features import FeatureNormalizer

__all__ = ["Discriminator", "TransitionReplayBuffer"]


class Discriminator(nn.Module):
    """MLP scoring a transition (normalised, torque-weighted features of a state and the next), higher = reference."""

    def __init__(self, normalizer: FeatureNormalizer, hidden_dims: list[int]):
        super().__init__()
        self.normalizer = normalizer
        layers: list[nn.Module] = []
        size = 2 * normalizer.layout.size
        for hidden in hidden_dims:
            layers += [nn.Linear(size, hidden), nn.ReLU()]
            size = hidden
        layers.append(nn.Linear(size, 1))
        self.net = nn.Sequential(*layers)

    def inputs(self, now: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
        """Discriminator inputs of transitions (raw features, (N, size) each), shape (N, 2 size)."""
        return torch.cat((self.normalizer(now), self.normalizer(nxt)), dim=-1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Scores of prepared inputs (:meth:`inputs`), shape (N,)."""
        return self.net(inputs).squeeze(-1)

    @torch.no_grad()
    def style_reward(self, now: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
        """Style reward in [0, 1] of transitions (raw features), shape (N,)."""
        score = self(self.inputs(now, nxt))
        return (1.0 - 0.25 * (score - 1.0).square()).clamp(min=0.0)

    def loss(
        self,
        reference: tuple[torch.Tensor, torch.Tensor],
        policy: tuple[torch.Tensor, torch.Tensor],
        grad_penalty: float,
    ) -> dict[str, torch.Tensor]:
        """Least-squares loss with gradient penalty on the reference inputs; also the mean scores (for logs)."""
        ref_in = self.inputs(*reference).requires_grad_(True)
        ref_score, pol_score = self(ref_in), self(self.inputs(*policy))
        adversarial = (ref_score - 1.0).square().mean() + (pol_score + 1.0).square().mean()
        (grad,) = torch.autograd.grad(ref_score.sum(), ref_in, create_graph=True)
        penalty = grad.square().sum(dim=-1).mean()
        return {
            "total": adversarial + grad_penalty * penalty,
            "adversarial": adversarial.detach(),
            "grad_penalty": penalty.detach(),
            "reference_score": ref_score.detach().mean(),
            "policy_score": pol_score.detach().mean(),
        }


class TransitionReplayBuffer:
    """Fixed-size ring buffer of the policy's transitions (raw features of a state and the next)."""

    def __init__(self, feature_size: int, capacity: int, device: str | torch.device = "cpu"):
        if capacity < 1:
            raise ValueError(f"The replay buffer needs a capacity of at least 1, got {capacity}.")
        self.capacity = int(capacity)
        self.now = torch.zeros(self.capacity, feature_size, device=device)
        self.next = torch.zeros(self.capacity, feature_size, device=device)
        self.size = 0
        self._head = 0

    def insert(self, now: torch.Tensor, nxt: torch.Tensor) -> None:
        """Add transitions, shape (N, size) each; the oldest are overwritten when full."""
        count = now.shape[0]
        if count == 0:
            return
        if count > self.capacity:
            now, nxt, count = now[-self.capacity :], nxt[-self.capacity :], self.capacity
        index = (self._head + torch.arange(count, device=self.now.device)) % self.capacity
        self.now[index] = now.to(self.now.device, self.now.dtype)
        self.next[index] = nxt.to(self.next.device, self.next.dtype)
        self._head = (self._head + count) % self.capacity
        self.size = min(self.size + count, self.capacity)

    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw transitions uniformly (with replacement), shape (N, size) each."""
        if self.size == 0:
            raise RuntimeError("The replay buffer is empty: insert policy transitions before sampling.")
        index = torch.randint(0, self.size, (num_samples,), device=self.now.device, generator=generator)
        return self.now[index], self.next[index]
