import numpy as np
import pytest
import torch

from learned_actuators.learning import GRUNet, LSTMNet, MLPNet, train
from learned_actuators.learning.features import mlp_history
from tests.learning.conftest import quick_cfg, rmse

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("model_type", "epochs", "lr"), [("gru_pd", 60, 1e-2), ("lstm", 60, 1e-2), ("mlp", 400, 5e-3)])
def test_each_model_overfits_a_tiny_set(runs, model_type, epochs, lr):
    cfg = quick_cfg(model_type, max_epochs=epochs, lr=lr, lr_schedule="cosine")
    result = train(cfg, runs[:1])
    log = runs[0]
    err = rmse(result.model.predict(log), log.tau[:, 0])
    assert err < 0.12 * log.tau.std(), f"{model_type} did not fit: RMSE {err:.4f}, label std {log.tau.std():.4f}"
    assert result.history["train_loss"][-1] < 0.2 * result.history["train_loss"][0]


def test_module_shapes():
    y, h = GRUNet(4, 8, 2)(torch.zeros(3, 5, 4))
    assert y.shape == (3, 5) and h.shape == (2, 3, 8)
    y, (h, c) = LSTMNet(8, 2)(torch.zeros(3, 5, 2))
    assert y.shape == (3, 5) and h.shape == c.shape == (2, 3, 8)
    assert MLPNet(6, [10, 10])(torch.zeros(3, 6)).shape == (3,)
    with pytest.raises(ValueError, match="activation 'sigmoidish'"):
        MLPNet(6, [10], "sigmoidish")


def test_mlp_history_orders_lags_and_zero_pads():
    e, v = np.arange(1.0, 5.0), -np.arange(1.0, 5.0)
    h = mlp_history(e, v, [0, 1, 2])
    np.testing.assert_array_equal(h[3], [4, 3, 2, -4, -3, -2])
    np.testing.assert_array_equal(h[0], [1, 0, 0, -1, 0, 0])


def test_gru_features_follow_the_network_file_contract():
    from learned_actuators.learning.features import gru_step_features
    from learned_actuators.physics import PhysicsParams

    p = PhysicsParams(kp=0.0, kd=0.1, k_spring=-0.5, stall_torque=0.2, no_load_speed=5.0)
    q, qd, qt = torch.tensor([0.1, -0.2]), torch.tensor([3.0, -1.0]), torch.tensor([1.0, 0.5])
    kp = torch.tensor([2.0, 4.0])
    names = ["q", "q_target", "qd", "pos_error", "tau_pd", "tau_phys", "kp", "kd"]
    x = gru_step_features(names, q, qd, qt, kp, p)
    pd = kp * (qt - q) - 0.1 * qd  # plain PD: no torque-speed curve, no spring (network_file.FEATURES)
    # tau_phys: pd = [1.5, 2.9]; joint 0 pushes along its motion (qd = 3): limit 0.2 (1 - 3/5) = 0.08; joint 1
    # brakes (qd = -1): limit 0.2; then the spring -0.5 q
    phys = torch.tensor([0.08, 0.2]) - 0.5 * q
    torch.testing.assert_close(x, torch.stack([q, qt, qd, qt - q, pd, phys, kp, torch.full_like(q, 0.1)], dim=-1))
