"""Model kinds are types found in one registry: a new kind touches only its own module and the registry.

The toy kind below (a linear map of ``[q* - q, qd]``, trained on frames) is all a test adds: it trains, exports a
network file that loads back and replays its stored examples, restores from its checkpoint and steps a rollout,
without any change to the trainer, the exporter or the loaders.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import torch
from torch import nn

from learned_actuators.errors import UserInputError
from learned_actuators.learning import ActuatorModel, export_model, train
from learned_actuators.learning.kinds import KINDS, MODEL_TYPES, ModelKind, kind_of, register
from learned_actuators.learning.rollout import rollout
from learned_actuators.network_examples import check_examples
from learned_actuators.network_file import load_network
from tests.learning.conftest import quick_cfg

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[2] / "source" / "learned_actuators"


@dataclass
class ToyCfg:
    """The toy's architecture: nothing to choose but a bias."""

    bias: bool = True


class ToyNet(nn.Module):
    def __init__(self, bias: bool):
        super().__init__()
        self.linear = nn.Linear(2, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).squeeze(-1)


class ToyDeploy(nn.Module):
    """``forward(x (N, 2) raw) -> tau (N,) [N·m]``, normalisation baked in."""

    def __init__(self, net: ToyNet, input_mean, input_std, output_mean: float, output_std: float):
        super().__init__()
        self.linear = net.linear
        for name, values in (("input_mean", input_mean), ("input_std", input_std)):
            self.register_buffer(name, torch.as_tensor(values, dtype=torch.float32).reshape(-1))
        self.register_buffer("output_mean", torch.tensor([output_mean], dtype=torch.float32))
        self.register_buffer("output_std", torch.tensor([output_std], dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = (x - self.input_mean) / self.input_std
        return self.linear(z).reshape(-1) * self.output_std + self.output_mean


class ToyKind(ModelKind):
    name: ClassVar[str] = "toy_linear"
    cfg_class: ClassVar[type] = ToyCfg
    deploy_class: ClassVar[type] = ToyDeploy
    recurrent: ClassVar[bool] = False
    actuator: ClassVar[str] = "tests.learning.test_kinds:ToyDeploy"
    actuator_cfg: ClassVar[str] = "tests.learning.test_kinds:ToyCfg"

    def build_net(self, cfg):
        return ToyNet(cfg.bias)

    def input_names(self, cfg):
        return ["pos_error", "qd"]

    def contract(self, cfg):
        return {"features": ["pos_error", "qd"]}

    def raw_inputs(self, model, log):
        return np.stack([log.q_target[:, 0] - log.q[:, 0], log.qd[:, 0]], axis=-1)

    def zero_state(self, cfg, n):
        return None

    def step(self, model, module, state, kp, q, qd, q_target):
        return module(torch.stack([q_target - q, qd], dim=-1)), state

    def example_inputs(self, model, batch, generator):
        return (torch.randn(batch, 2, generator=generator),)


@pytest.fixture
def toy():
    kind = register(ToyKind())
    try:
        yield kind
    finally:
        del KINDS[kind.name]


def test_a_new_kind_trains_exports_and_loads_back(toy, runs, tmp_path):
    cfg = quick_cfg(toy.name, max_epochs=4, lr=1e-2)
    result = train(cfg, runs, run_dir=tmp_path / "run")
    model = result.model
    assert model.kind is toy and isinstance(model.net, ToyNet)
    assert len(result.history["train_loss"]) == 4 and result.history["train_loss"][-1] < result.history["train_loss"][0]
    paths = export_model(model, tmp_path / "export", source={"test": "toy"})
    assert sorted(paths) == ["onnx", "torchscript"]  # no Newton drive for this kind
    net, meta = load_network(paths["torchscript"])
    assert meta.model_type == "toy_linear" and meta.features == ["pos_error", "qd"] and meta.examples
    assert check_examples(net, meta, str(paths["torchscript"])) <= 1e-4 * meta.examples["torque_scale"]
    x = torch.as_tensor(meta.examples["inputs"][0], dtype=torch.float32)
    with torch.no_grad():
        np.testing.assert_allclose(net(x).numpy(), model.net_outputs(x.double().numpy()[None])[0], atol=1e-5)
    restored = ActuatorModel.from_checkpoint(torch.load(tmp_path / "run" / "best.pt", weights_only=False))
    assert restored.kind is toy and isinstance(restored.model_cfg, ToyCfg)
    np.testing.assert_array_equal(restored.predict(runs[0]), model.predict(runs[0]))
    assert np.isfinite(rollout(model, runs).rmse).all()


def test_a_new_kind_is_refused_before_it_is_registered(runs):
    with pytest.raises(UserInputError, match=r"train\.model_type 'toy_linear'; expected one of \('gru_pd', 'lstm'"):
        train(quick_cfg("toy_linear"), runs)


def test_the_registry_names_the_choices_and_refuses_a_second_kind_of_a_name():
    assert MODEL_TYPES == ("gru_pd", "lstm", "mlp") and tuple(KINDS)[:3] == MODEL_TYPES
    assert [kind_of(name).name for name in MODEL_TYPES] == list(MODEL_TYPES)
    with pytest.raises(UserInputError, match=r"model type 'gru'; expected one of \('gru_pd', 'lstm', 'mlp'\)"):
        kind_of("gru")
    with pytest.raises(ValueError, match="already registered"):
        register(KINDS["lstm"].__class__())


def test_each_kind_says_what_the_trainer_used_to_branch_on():
    gru, lstm, mlp = (KINDS[name] for name in MODEL_TYPES)
    assert gru.uses_physics and not lstm.uses_physics and not mlp.uses_physics
    assert gru.recurrent and lstm.recurrent and not mlp.recurrent
    cfg = quick_cfg("mlp", batch_size=7, frames_per_batch=99)
    assert (gru.batch_size(cfg), mlp.batch_size(cfg)) == (7, 99)
    assert [k.newton_drive for k in (gru, lstm, mlp)] == [None, "DriveNeuralLSTM", "DriveNeuralMLP"]


KIND_STRING_BRANCH = re.compile(
    r"""(==|!=|\bin)\s*\(?\s*["'](gru_pd|lstm|mlp)["']|\{\s*["'](gru_pd|lstm|mlp)["']\s*:"""
)
"""A comparison with a model-kind name, or a dict keyed by one: a branch on the ``model_type`` string."""

NOT_A_MODEL_KIND = {
    "actuators/fused_recurrent.py": "the torch recurrent cell type ('lstm' or 'gru'), not a model kind",
    "actuators/recurrent_actuator.py": "the torch recurrent cell type of Isaac Lab's LSTM contract",
    "validation/third_party.py": "third-party file formats (walk-these-ways MLP, Isaac Lab LSTM), not our kinds",
    "validation/validate.py": "a usage example in the module docstring",
    "newton_drives/schema.py": "the USD schema token of each of our Newton drive classes (keyed by their model_type)",
    "demo/validation.py": "the demo names the net it validates",
}
"""Modules whose matches are not branches on our model kinds (with the reason); kinds/ holds the registry itself."""

SCANNED = sorted(
    str(p.relative_to(PACKAGE))
    for p in PACKAGE.rglob("*.py")
    if "kinds" not in p.parts and str(p.relative_to(PACKAGE)) not in NOT_A_MODEL_KIND
)


@pytest.mark.parametrize("module", SCANNED)
def test_no_branching_on_model_kind_strings(module):
    text = (PACKAGE / module).read_text(encoding="utf-8")
    hits = [line.strip() for line in text.splitlines() if KIND_STRING_BRANCH.search(line)]
    assert not hits, f"{module} branches on model-kind strings: {hits}"
