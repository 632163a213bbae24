"""The ensemble heads of a network file: the spread formula both GRU-PD execution paths and the trainer share."""

import numpy as np
import pytest
import torch

from learned_actuators.network_file import EnsembleHeads, member_spread

pytestmark = pytest.mark.unit


def test_member_spread_is_the_scaled_population_std_with_the_noise_in_quadrature():
    members = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    expected = np.sqrt((2.5 * members.numpy().std(axis=1, ddof=0)) ** 2 + 0.3**2)
    np.testing.assert_allclose(member_spread(members, -2.5, 0.3).numpy(), expected, rtol=1e-12)
    out = torch.empty(5, dtype=torch.float64)
    member_spread(members, -2.5, 0.3, out=out)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(member_spread(members, 1.0, 0.0).numpy(), members.numpy().std(axis=1), rtol=1e-12)


def test_ensemble_heads_run_the_members_on_the_hidden_rows_and_sample_one_per_row():
    gen = torch.Generator().manual_seed(1)
    weight, bias, hidden = (
        torch.randn(3, 8, generator=gen),
        torch.randn(3, generator=gen),
        torch.randn(4, 8, generator=gen),
    )
    heads = EnsembleHeads(weight, bias, noise=0.1, scale=2.0, offset=-0.5, rows=4)
    std = torch.empty(4)
    heads.update(hidden, std)
    members = hidden @ weight.t() + bias  # (rows, K), normalised units
    torch.testing.assert_close(heads.out, members)
    torch.testing.assert_close(std, torch.sqrt((2.0 * members.std(dim=1, correction=0)) ** 2 + 0.01))
    drawn, out = torch.tensor([2, 0, 1, 2]), torch.empty(4)
    heads.sample(drawn, out)
    torch.testing.assert_close(out, 2.0 * members[torch.arange(4), drawn] - 0.5)
    assert heads.members == 3
