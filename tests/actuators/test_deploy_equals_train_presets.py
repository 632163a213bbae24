"""Deploy = train for every shipped preset's recipe (issue 17, item 1): each model of each preset, trained one epoch on
a few runs of its data, exported and run in its actuator class on a held-out run, gives the trainer's predictions to
1e-4 of the torque scale (fused kernels and TorchScript module).

The seed recipes (``recipe_*``) have no data of their own and run on the built-in BAM demo logs; ``bam_xl330`` and
``so101`` read the shared data (these tests fail, not skip, without it).
"""

from __future__ import annotations

import numpy as np
import pytest

from learned_actuators.learning import export_model, train
from learned_actuators.learning.data_loading import load_data
from learned_actuators.learning.presets import build_cfg, load_preset, merge_presets
from tests.actuators.helpers import make_actuator
from tests.actuators.test_deploy_equals_train import TOLERANCE, _replay
from tests.conftest import shared_data_dir

pytestmark = pytest.mark.integration

PRESETS = {
    "recipe_gru_pd": {"data": {"reader": "demo"}},
    "recipe_lstm": {"data": {"reader": "demo"}},
    "recipe_mlp": {"data": {"reader": "demo"}},
    "bam_xl330": {},
    "so101": {},
}
"""Preset name and what the test changes in it (data for the seed recipes)."""
SHORT = {"max_epochs": 1, "patience": 1, "progress": False, "tensorboard": False, "plots": False}


def _models(name: str) -> list[tuple[str, dict]]:
    preset = merge_presets(load_preset(name), PRESETS[name])
    models = preset.get("models") or {preset["train"].get("model_type", "gru_pd"): {}}
    return [(m, merge_presets(preset, {"train": {"model_type": m, **over, **SHORT}})) for m, over in models.items()]


CASES = [(name, model, preset) for name in PRESETS for model, preset in _models(name)]


def _actuator_cfg(model, path: str, kp: float, fused: bool):
    from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg, LSTMActuatorNetCfg, MLPActuatorNetCfg

    stall = model.physics.stall_torque or 1.0
    limits = {"saturation_effort": stall, "actuator_effort_limit": 1e3, "actuator_velocity_limit": 1e3}
    common = {"joint_names_expr": [".*"], "network_file": path, "physics_dt": model.dt, "fused": fused, **limits}
    if model.model_type == "gru_pd":
        return CombinedGRUAndPDActuatorCfg(**common, stiffness=kp)
    if model.model_type == "lstm":
        return LSTMActuatorNetCfg(**common)
    return MLPActuatorNetCfg(**common, compile=False)


@pytest.fixture(scope="module")
def data():
    assert shared_data_dir().is_dir(), f"shared data not found at {shared_data_dir()}; set LEARNED_ACTUATORS_SHARED"
    return {}


@pytest.mark.parametrize("name, model_type, preset", CASES, ids=[f"{n}-{m}" for n, m, _ in CASES])
def test_preset_recipe_deploys_as_trained(data, name, model_type, preset, tmp_path):
    data_cfg, cfg = build_cfg(preset)
    key = (data_cfg.reader, data_cfg.path)
    if key not in data:
        data[key] = load_data(data_cfg)
    logs = data[key]
    picks = np.linspace(0, len(logs) - 1, 4).round().astype(int)
    train_logs, held_out = [logs[i] for i in picks[:3]], logs[picks[3]]
    model = train(cfg, train_logs).model
    if model.kind.scales_by_gain(model.model_cfg):  # a gain-scaled net deploys at the held-out run's gain
        model = model.kind.at_gain(model, float(model.run_params(held_out).kp))
    path = str(export_model(model, tmp_path, model_type, onnx=False)["torchscript"])
    want = model.predict(held_out)
    scale = float(np.abs(held_out.tau).max())
    kp = model.run_params(held_out).kp if model_type == "gru_pd" else 0.0
    for fused in (True, False):
        actuator = make_actuator(_actuator_cfg(model, path, kp, fused), num_envs=1, num_joints=1)
        assert actuator.uses_fused_kernels == fused
        got = _replay(actuator, [held_out])[0]
        error = float(np.abs(got - want).max())
        assert error <= TOLERANCE * scale, f"{name} {model_type} fused={fused}: {error:.3g} N·m (scale {scale:.3g})"
