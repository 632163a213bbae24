"""The Warp forms of the physics formulas (``kernels``' ``@wp.func``) agree with :mod:`learned_actuators.physics`."""

import numpy as np
import pytest
import torch
import warp as wp

from learned_actuators import physics
from learned_actuators.newton_drives import kernels

pytestmark = pytest.mark.unit

N = 2048
COLUMNS = ("q", "qd", "q_target", "kp", "kd", "k_spring", "theta0", "stall", "v0", "friction", "sat", "v_lim", "limit")
COLUMNS += ("friction_load",)


@wp.kernel(enable_backward=False)
def _evaluate(
    x: wp.array2d[float],
    use_curve: int,
    friction_velocity: float,
    clip_kind: int,
    tau: wp.array[float],
    lower: wp.array[float],
    upper: wp.array[float],
):
    i = wp.tid()
    q = x[0, i]
    qd = x[1, i]
    fv = friction_velocity
    load = x[13, i]  # the load-dependent friction, after the (zero) velocity target and feed-forward
    tau[i] = kernels.physical_torque(
        q, qd, x[2, i], x[3, i], x[4, i], x[5, i], x[6, i], x[7, i], x[8, i], use_curve, x[9, i], fv, 0.0, 0.0, load
    )
    lo, up = kernels.motor_limits(qd, clip_kind, x[10, i], x[11, i], x[12, i])
    lower[i] = lo
    upper[i] = up


def _columns(seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)

    def uniform(low, high):
        return low + (high - low) * torch.rand(N, generator=g)

    cols = {"q": torch.randn(N, generator=g), "qd": 30.0 * torch.randn(N, generator=g)}
    cols["qd"][:32] = 0.0
    cols |= {"q_target": torch.randn(N, generator=g), "kp": uniform(0.0, 40.0), "kd": uniform(0.0, 2.0)}
    cols |= {"k_spring": uniform(-3.0, 3.0), "theta0": uniform(-0.5, 0.5), "stall": uniform(1.0, 30.0)}
    cols |= {"v0": uniform(5.0, 40.0), "friction": uniform(0.0, 0.5), "sat": uniform(1.0, 30.0)}
    cols |= {"v_lim": uniform(5.0, 40.0), "limit": uniform(0.5, 35.0)}
    cols["friction"][: N // 2] = 0.0
    cols["friction_load"] = uniform(0.0, 0.4)
    cols["friction_load"][N // 4 : 3 * N // 4] = 0.0  # every mix of constant and load-dependent friction, and neither
    cols["limit"][:16] = float("inf")  # no continuous limit (an infinite DC-motor corner velocity)
    return cols


@pytest.mark.parametrize("use_curve", [0, 1])
@pytest.mark.parametrize("clip", ["asymmetric", "dc_motor"])
def test_warp_physics_funcs_match_the_torch_formulas(use_curve, clip):
    cols = _columns(seed=use_curve)
    x = wp.array(torch.stack([cols[name] for name in COLUMNS]).numpy(), dtype=wp.float32, device="cpu")
    tau, lower, upper = (wp.zeros(N, dtype=wp.float32, device="cpu") for _ in range(3))
    clip_kind = kernels.CLIP_ASYMMETRIC if clip == "asymmetric" else kernels.CLIP_DC_MOTOR
    wp.launch(_evaluate, dim=N, inputs=[x, use_curve, 0.4, clip_kind, tau, lower, upper], device="cpu")
    c = cols
    curve = (c["stall"], c["v0"]) if use_curve else (None, None)
    args = (c["q"], c["qd"], c["q_target"], c["kp"], c["kd"], c["k_spring"], c["theta0"], *curve, c["friction"], 0.4)
    expected = physics.physical_torque(*args, friction_load=c["friction_load"])
    expected_limits = physics.motor_limits(c["qd"], clip, c["sat"], c["v_lim"], c["limit"])
    np.testing.assert_allclose(tau.numpy(), expected.numpy(), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(lower.numpy(), expected_limits[0].numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(upper.numpy(), expected_limits[1].numpy(), rtol=1e-5, atol=1e-5)
    saturated = physics.pd_torque(c["q"], c["qd"], c["q_target"], c["kp"], c["kd"]).abs() > c["stall"]
    assert bool(saturated.any())  # the PD torque exceeds the curve somewhere: the saturation is exercised
    load_term = (expected - physics.physical_torque(*args)).abs()  # what a kernel ignoring friction_load would miss
    assert float(load_term.max()) > 1.0 and float(load_term[cols["friction"] == 0].max()) > 1.0
