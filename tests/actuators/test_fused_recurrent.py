"""Fused GRU by blocks (ensemble files): the members' recurrent products one by one give the module's outputs."""

import pytest
import torch

from learned_actuators.actuators.fused_recurrent import FusedRecurrentNet, recurrent_blocks
from tests.actuators.helpers import GRUNet

pytestmark = pytest.mark.unit

MEMBERS, UNITS = 3, 4


def block_diagonal_gru(layers: int) -> GRUNet:
    """A GRU of MEMBERS x UNITS hidden units whose recurrent weights are block-diagonal (as an ensemble file's),
    with the ``member_head_bias`` buffer that marks an ensemble file."""
    torch.manual_seed(5)
    net = GRUNet(3, MEMBERS * UNITS, layers)
    own = torch.block_diag(*[torch.ones(UNITS, UNITS)] * MEMBERS).repeat(3, 1)
    with torch.no_grad():
        for k in range(layers):
            getattr(net.gru, f"weight_hh_l{k}").mul_(own)
    net.register_buffer("member_head_bias", torch.zeros(MEMBERS))
    return net


def module_outputs(net: GRUNet, xs: torch.Tensor) -> torch.Tensor:
    """The module stepped frame by frame: (T, N) outputs for inputs (T, N, F)."""
    h = torch.zeros(net.gru.num_layers, xs.shape[1], MEMBERS * UNITS)
    out = []
    with torch.no_grad():
        for x in xs:
            y, h = net(x[:, None, :], h)
            out.append(y)
    return torch.stack(out)


@pytest.mark.parametrize("layers", [1, 2])
def test_a_block_diagonal_gru_runs_by_blocks_and_matches_the_module(layers, rng):
    net = block_diagonal_gru(layers)
    batch, chunk = 150, 64  # several chunks and a partial one
    fused = FusedRecurrentNet.from_module(net, "gru", batch, "cpu", chunk=chunk)
    assert fused.blocks == MEMBERS
    xs = torch.randn(6, batch, 3, generator=rng)
    out = torch.empty(1, batch)
    got = torch.stack([fused(x.t().contiguous(), out)[0].clone() for x in xs])
    torch.testing.assert_close(got, module_outputs(net, xs), atol=2e-6, rtol=1e-5)


def test_a_dense_recurrent_weight_or_a_single_model_runs_whole():
    net = block_diagonal_gru(1)
    state = {k: v.detach() for k, v in net.gru.state_dict().items()}
    assert recurrent_blocks(state, 1, MEMBERS * UNITS, MEMBERS) == MEMBERS
    assert recurrent_blocks(state, 1, MEMBERS * UNITS, 1) == 1
    assert recurrent_blocks(state, 1, MEMBERS * UNITS, 5) == 1  # 12 units are not 5 equal blocks
    state["weight_hh_l0"] = state["weight_hh_l0"].clone()
    state["weight_hh_l0"][0, -1] = 0.1  # member 0's reset gate reads member 2's state
    assert recurrent_blocks(state, 1, MEMBERS * UNITS, MEMBERS) == 1
    del net.member_head_bias
    assert FusedRecurrentNet.from_module(net, "gru", 8, "cpu").blocks == 1
