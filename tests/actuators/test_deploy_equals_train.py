"""What you deploy is what you trained: a trained, exported net run in its actuator class reproduces the trainer's
held-out predictions (issue 17, item 1).

Each model kind is trained a few epochs on small synthetic logs, exported, loaded in its actuator class outside the
simulator and fed the held-out logged frames step by step at the net's rate; the torques must equal the trainer's
held-out predictions to 1e-4 of the torque scale, with the fused kernels and with the TorchScript module. Two data
sets: the issue's case (one gain in every training run, so the ``kp`` input is constant) and per-joint gains (two
joints with their own ``kp``) with a constant ``kd`` input.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg, LSTMActuatorNetCfg, MLPActuatorNetCfg
from learned_actuators.actuators.fused_nets import fused_example_error
from learned_actuators.learning import export_model, train
from learned_actuators.network_examples import stored_examples
from learned_actuators.network_file import load_network
from tests.actuators.helpers import make_actuator, step
from tests.learning.conftest import REF_KD, make_runs, quick_cfg

pytestmark = pytest.mark.unit

LIMITS = {"saturation_effort": 5.0, "actuator_effort_limit": 5.0, "actuator_velocity_limit": 20.0}
KINDS = {
    "gru_pd_residual": ("gru_pd", "residual"),
    "gru_pd_direct": ("gru_pd", "direct"),
    "lstm": ("lstm", None),
    "mlp": ("mlp", None),
}
DATA = {
    "constant_kp": ((20.0, 20.0), ["pos_error", "qd", "kp", "tau_pd", "tau_phys"]),
    "per_joint_kp": ((2.0, 4.0), ["pos_error", "qd", "kp", "kd", "tau_pd", "tau_phys"]),
}
"""Gains of the two training runs (= the two joints) and the GRU-PD features (the shipped recipe's; plus ``kd``,
constant in every run, for the per-joint case)."""
TOLERANCE = 1e-4
"""Of the torque scale (largest held-out torque)."""


def _train(kind: str, data: str, tmp_path_factory):
    model_type, mode = KINDS[kind]
    gains, features = DATA[data]
    cfg = quick_cfg(model_type, max_epochs=3)
    cfg.physics.kd = REF_KD
    if model_type == "gru_pd":
        cfg.gru.features, cfg.gru.mode = features, mode
    model = train(cfg, make_runs(kps=gains, duration=1.5, seed=0)).model
    out = tmp_path_factory.mktemp(f"{kind}_{data}")
    return model, str(export_model(model, out, kind, onnx=False)["torchscript"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return {(k, d): _train(k, d, tmp_path_factory) for k in KINDS for d in DATA}


def _actuator(kind: str, path: str, gains, fused: bool):
    model_type = KINDS[kind][0]
    common = {"joint_names_expr": [".*"], "network_file": path, "physics_dt": 0.005, "fused": fused, **LIMITS}
    if model_type == "gru_pd":
        cfg = CombinedGRUAndPDActuatorCfg(**common, stiffness={f"joint_{j}": g for j, g in enumerate(gains)})
    elif model_type == "lstm":
        cfg = LSTMActuatorNetCfg(**common)
    else:
        cfg = MLPActuatorNetCfg(**common, compile=False)
    return make_actuator(cfg, num_envs=1, num_joints=len(gains))


def _replay(actuator, held_out) -> np.ndarray:
    """Torques (joints, T) before the motor clip, one held-out run per joint, fed frame by frame."""
    q, qd, qt = (
        torch.tensor(np.stack([getattr(g, k)[:, 0] for g in held_out]), dtype=torch.float32).T
        for k in ("q", "qd", "q_target")
    )
    out = []
    for k in range(len(q)):
        step(actuator, q[k][None], qd[k][None], qt[k][None])
        out.append(actuator.computed_effort[0].double().numpy().copy())
    return np.stack(out, axis=-1)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "module"])
@pytest.mark.parametrize("data", list(DATA))
@pytest.mark.parametrize("kind", list(KINDS))
def test_actuator_reproduces_the_trainers_held_out_predictions(trained, kind, data, fused):
    model, path = trained[(kind, data)]
    gains = DATA[data][0]
    held_out = make_runs(kps=gains, duration=1.0, seed=10)  # runs the trainer never saw, one per joint
    actuator = _actuator(kind, path, gains, fused)
    assert actuator.uses_fused_kernels == fused
    got = _replay(actuator, held_out)
    want = np.stack([model.predict(g) for g in held_out])
    scale = max(float(np.abs(g.tau).max()) for g in held_out)
    error = float(np.abs(got - want).max())
    assert error <= TOLERANCE * scale, f"{kind} {data}: {error:.3g} N·m off (scale {scale:.3g} N·m)"


def test_constant_gain_is_scaled_by_its_magnitude_with_a_note(trained):
    model, path = trained[("gru_pd_residual", "constant_kp")]
    kp = model.model_cfg.features.index("kp")
    assert model.input_norm.near_constant.tolist() == [i == kp for i in range(len(model.model_cfg.features))]
    assert model.input_norm.std[kp] == pytest.approx(20.0)  # its magnitude, not a floored spread of 1e-6
    _, meta = load_network(path)
    assert meta.near_constant_inputs == [kp] and meta.input_std[kp] == pytest.approx(20.0)
    assert any("'kp' is near-constant" in note for note in meta.notes)
    inputs, outputs, scale = stored_examples(meta, path)
    assert inputs.shape[0] == 2 and inputs.shape[2] == len(model.model_cfg.features) and scale > 0
    np.testing.assert_allclose(outputs.numpy(), model.net_outputs(inputs.numpy()), atol=1e-9)


def test_file_with_an_amplified_constant_input_falls_back_to_the_module(trained, tmp_path, caplog):
    """The issue's file: ``kp`` constant and divided by a spread floored at 1e-6 (what the trainer used to write).

    Folding 1/1e-6 into the first layer makes float32 rounding an input error of order 1 in the fused kernels; random
    inputs did not show it. The stored representative inputs do: the actuator calls the module instead, and the
    torques still match the trainer's.
    """
    model, _ = trained[("gru_pd_residual", "constant_kp")]
    kp = model.model_cfg.features.index("kp")
    model.input_norm.std = model.input_norm.std.copy()
    model.input_norm.std[kp] = 1e-6  # the old floor: (20 - 20) / 1e-6 is still 0 in training
    model.input_norm.near_constant = np.zeros_like(model.input_norm.near_constant)
    try:
        path = str(export_model(model, tmp_path, "old", onnx=False)["torchscript"])
        net, meta = load_network(path)
        inputs, outputs, scale = stored_examples(meta, path)
        fused_error = fused_example_error(net, inputs, outputs, "cpu")
        assert fused_error > 10 * TOLERANCE * scale  # the bug: what the fused kernels would have run
        actuator = _actuator("gru_pd_residual", path, (20.0, 20.0), fused=True)
        assert not actuator.uses_fused_kernels
        assert "fused kernels differ from the outputs stored in the file" in caplog.text
        held_out = make_runs(kps=(20.0, 20.0), duration=1.0, seed=10)
        got = _replay(actuator, held_out)
        want = np.stack([model.predict(g) for g in held_out])
        assert float(np.abs(got - want).max()) <= TOLERANCE * max(float(np.abs(g.tau).max()) for g in held_out)
    finally:
        model.input_norm.std[kp] = 20.0
        model.input_norm.near_constant[kp] = True
