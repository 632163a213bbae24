"""The physics formulas with ``out=`` buffers (the actuators' hot path) give the values of the allocating calls."""

import pytest
import torch

from learned_actuators.physics import motor_limits, physical_torque, torque_speed_limits

pytestmark = pytest.mark.unit

N = 4096


def _inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    q, q_target = torch.randn(N, generator=g), torch.randn(N, generator=g)
    qd = 25.0 * torch.randn(N, generator=g)
    qd[:64] = 0.0  # at rest both directions get the stall torque
    return q, qd, q_target


def _full(value):
    return torch.full((N,), float(value))


@pytest.mark.parametrize("curve", [False, True])
@pytest.mark.parametrize("friction", [0.0, 0.3])
@pytest.mark.parametrize("friction_load", [0.0, 0.4])
def test_in_place_physical_torque_matches_the_allocating_call_and_fills_the_limit_buffers(
    curve, friction, friction_load
):
    q, qd, q_target = _inputs()
    params = [_full(20.0), _full(0.5), _full(-2.0), _full(0.1)]
    params += [_full(10.0), _full(15.0)] if curve else [None, None]
    load = {"friction_load": _full(friction_load)}
    expected = physical_torque(q, qd, q_target, *params, _full(friction), 0.5, **load)
    out, scratch, lower, upper = (torch.full((N,), float("nan")) for _ in range(4))
    got = physical_torque(
        q, qd, q_target, *params, _full(friction), 0.5, out=out, scratch=scratch, limits=(lower, upper), **load
    )
    assert got is out
    torch.testing.assert_close(out, expected, rtol=1e-6, atol=1e-5)  # fused multiply-adds round differently
    if curve:  # the limits buffers hold the curve at qd, for the final clip to reuse
        want_lower, want_upper = torque_speed_limits(qd, 10.0, 15.0)
        torch.testing.assert_close((lower, upper), (want_lower, want_upper))


def test_torque_speed_limits_motoring_side_falls_to_zero_at_the_no_load_speed():
    qd = torch.tensor([-20.0, -10.0, -5.0, 0.0, 5.0, 10.0, 20.0])
    lower, upper = torque_speed_limits(qd, 10.0, 10.0)
    torch.testing.assert_close(upper, torch.tensor([10.0, 10.0, 10.0, 10.0, 5.0, 0.0, 0.0]))
    torch.testing.assert_close(lower, torch.tensor([-0.0, -0.0, -5.0, -10.0, -10.0, -10.0, -10.0]))
    flat_lower, flat_upper = torque_speed_limits(qd, torch.full((7,), 10.0), torch.full((7,), float("inf")))
    torch.testing.assert_close((flat_lower, flat_upper), (torch.full((7,), -10.0), torch.full((7,), 10.0)))


@pytest.mark.parametrize("curve", ["asymmetric", "dc_motor"])
def test_in_place_motor_limits_match_the_allocating_call(curve):
    _, qd, _ = _inputs(1)
    sat, v0, limit = _full(10.0), _full(15.0), _full(7.0)
    expected = motor_limits(qd, curve, sat, v0, limit)
    buffers = (torch.empty(N), torch.empty(N))
    got = motor_limits(qd, curve, sat, v0, limit, out=buffers, scratch=torch.empty(N))
    assert got[0] is buffers[0] and got[1] is buffers[1]
    torch.testing.assert_close(got, expected)
    assert bool((expected[1] <= 7.0).all()) and bool((expected[0] >= -7.0).all())


def test_dc_motor_limits_are_isaac_labs_four_quadrant_curve():
    """At the corner velocity v0 (1 + limit / sat) the curve reaches the effort limit; past it, it stays there."""
    sat, v0, limit = torch.tensor(10.0), torch.tensor(20.0), torch.tensor(5.0)
    qd = torch.tensor([-40.0, -30.0, 0.0, 10.0, 30.0, 40.0])  # corner 20 * 1.5 = 30 rad/s
    lower, upper = motor_limits(qd, "dc_motor", sat, v0, limit)
    v = torch.clamp(qd, -30.0, 30.0) / 20.0
    torch.testing.assert_close(upper, torch.minimum(10.0 * (1 - v), limit))
    torch.testing.assert_close(lower, -torch.minimum(10.0 * (1 + v), limit))
    assert float(upper[-1]) == float(upper[-2]) == -5.0


@pytest.mark.parametrize("curve", [False, True])
def test_load_dependent_friction_bound_grows_with_the_saturated_pd_torque(curve):
    """``-(tau_c + mu_c |sat(tau_pd)|) tanh(qd / v_c)``: the spring is not part of the load, the curve's clip is."""
    q, qd, q_target = _inputs()
    kp, kd, k_spring, theta0, v_c = 20.0, 0.5, -2.0, 0.1, 0.5
    stall, v0 = (10.0, 15.0) if curve else (None, None)
    pd = kp * (q_target - q) - kd * qd
    if curve:
        lower, upper = torque_speed_limits(qd, stall, v0)
        pd = torch.clamp(pd, lower, upper)
    bound = 0.3 + 0.4 * pd.abs()
    want = pd + k_spring * (q - theta0) - bound * torch.tanh(qd / v_c)
    got = physical_torque(q, qd, q_target, kp, kd, k_spring, theta0, stall, v0, 0.3, v_c, friction_load=0.4)
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-5)
    without = physical_torque(q, qd, q_target, kp, kd, k_spring, theta0, stall, v0, 0.3, v_c)
    assert float((got - without).abs().max()) > 1.0  # the load term changes the torque where the PD torque is large
