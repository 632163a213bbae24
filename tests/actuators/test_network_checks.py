from types import SimpleNamespace

import pytest
import torch

from learned_actuators.actuators import (
    CombinedGRUAndPDActuatorCfg,
    LSTMActuatorNetCfg,
    MLPActuatorNetCfg,
    NewtonActuatorPathError,
)
from learned_actuators.network_file import NetworkFileError
from tests.actuators.helpers import GRUNet, LSTMNet, linear_mlp, make_actuator, save

pytestmark = pytest.mark.unit

LIMITS = {"saturation_effort": 20.0, "actuator_effort_limit": 20.0, "actuator_velocity_limit": 20.0}
FEATURES = ["q", "q_target", "qd"]


def gru_file(tmp_path, **meta):
    fields = {
        "model_type": "gru_pd",
        "dt": 0.005,
        "features": FEATURES,
        "hidden_size": 4,
        "num_layers": 1,
        "physics": {"kp": 20.0, "kd": 0.5},
    }
    return save(tmp_path, "gru.pt", GRUNet(3, 4, 1), **{**fields, **meta})


def gru_cfg(path, **kwargs):
    return CombinedGRUAndPDActuatorCfg(
        joint_names_expr=[".*"], network_file=path, **{"physics_dt": 0.005, **LIMITS, **kwargs}
    )


@pytest.mark.parametrize(
    "cfg_field, value, message",
    [
        ("hidden_size", 8, "hidden_size=4, but the cfg expects 8"),
        ("num_layers", 2, "num_layers=1, but the cfg expects 2"),
        ("features", ["q", "qd", "q_target"], "'features'"),
        ("network_dt", 0.02, "'dt'"),
        ("mode", "direct", "'mode'"),
    ],
)
def test_cfg_that_disagrees_with_the_file_raises_naming_the_field(tmp_path, cfg_field, value, message):
    path = gru_file(tmp_path)
    with pytest.raises(NetworkFileError, match=message) as error:
        make_actuator(gru_cfg(path, **{cfg_field: value}))
    assert path in str(error.value)


def test_metadata_that_disagrees_with_the_net_raises(tmp_path):
    with pytest.raises(NetworkFileError, match="metadata 'hidden_size' is 16"):
        make_actuator(gru_cfg(gru_file(tmp_path, hidden_size=16)))
    with pytest.raises(NetworkFileError, match="takes 3 inputs per step"):
        make_actuator(gru_cfg(gru_file(tmp_path, features=["q", "qd"], hidden_size=4)))


def test_missing_file_raises(tmp_path):
    with pytest.raises(NetworkFileError, match="not found"):
        make_actuator(gru_cfg(str(tmp_path / "nope.pt")))


def test_file_that_is_not_torchscript_raises(tmp_path):
    path = tmp_path / "state_dict.pt"
    torch.save(GRUNet().state_dict(), path)  # a zip archive, but not TorchScript
    with pytest.raises(NetworkFileError, match="TorchScript"):
        make_actuator(gru_cfg(str(path)))
    text = tmp_path / "text.pt"
    text.write_text("not a net")
    with pytest.raises(NetworkFileError, match="not a TorchScript archive"):
        make_actuator(gru_cfg(str(text)))


def test_unavailable_device_raises(tmp_path):
    cfg = gru_cfg(gru_file(tmp_path))
    with pytest.raises(NetworkFileError, match="device"):
        cfg.class_type(cfg, joint_names=["a"], joint_ids=slice(None), num_envs=1, device="cuda:99")


def test_file_of_another_model_type_raises(tmp_path):
    path = save(tmp_path, "lstm.pt", LSTMNet(), model_type="lstm", dt=0.005)
    with pytest.raises(NetworkFileError, match="model_type' is 'lstm'"):
        make_actuator(gru_cfg(path))
    mlp = save(tmp_path, "mlp.pt", linear_mlp([1.0, 0.0]), model_type="mlp", dt=0.005, input_idx=[0])
    with pytest.raises(NetworkFileError, match="runs 'lstm' nets"):
        make_actuator(LSTMActuatorNetCfg(joint_names_expr=[".*"], network_file=mlp, physics_dt=0.005, **LIMITS))


def test_mlp_without_metadata_needs_its_conventions_in_the_cfg(tmp_path):
    path = str(tmp_path / "bare.pt")
    torch.jit.save(torch.jit.script(linear_mlp([1.0, 0.0])), path)
    cfg = MLPActuatorNetCfg(joint_names_expr=[".*"], network_file=path, physics_dt=0.005, **LIMITS)
    with pytest.raises(NetworkFileError, match="set the cfg field 'pos_scale'"):
        make_actuator(cfg)


def test_mlp_cfg_scale_that_disagrees_with_metadata_raises(tmp_path):
    path = save(
        tmp_path, "mlp.pt", linear_mlp([1.0, 0.0]), model_type="mlp", dt=0.005, input_idx=[0], pos_error_sign=-1
    )
    cfg = MLPActuatorNetCfg(joint_names_expr=[".*"], network_file=path, physics_dt=0.005, pos_scale=1.0, **LIMITS)
    with pytest.raises(NetworkFileError, match=r"pos_scale=-1\.0"):
        make_actuator(cfg)


def test_unknown_physics_dt_without_simulation_raises(tmp_path):
    cfg = gru_cfg(gru_file(tmp_path), physics_dt=None)
    with pytest.raises(ValueError, match="physics_dt"):
        make_actuator(cfg)


def test_newton_actuator_path_error_names_the_setting(tmp_path, monkeypatch):
    """Subclasses of our classes run only on the Python path (ours run natively: test_isaaclab_native)."""
    from isaaclab.sim import SimulationContext
    from isaaclab.sim.schemas.schemas_actuators import validate_newton_native_actuator_cfgs

    from learned_actuators.actuators import LSTMActuatorNet

    class CustomLSTM(LSTMActuatorNet):  # a subclass may change the model: Python path only
        pass

    path = save(tmp_path, "lstm.pt", LSTMNet(), model_type="lstm", dt=0.005)
    cfg = LSTMActuatorNetCfg(
        joint_names_expr=[".*"], network_file=path, physics_dt=0.005, class_type=CustomLSTM, **LIMITS
    )
    monkeypatch.setattr(
        SimulationContext,
        "instance",
        classmethod(lambda cls: SimpleNamespace(cfg=SimpleNamespace(use_newton_actuators=True))),
    )
    with pytest.raises(NewtonActuatorPathError, match=r"not subclasses\) run natively.*= False"):
        validate_newton_native_actuator_cfgs({"legs": cfg})
    validate_newton_native_actuator_cfgs({"legs": gru_cfg(gru_file(tmp_path))})  # accepted
    monkeypatch.setattr(
        SimulationContext,
        "instance",
        classmethod(lambda cls: SimpleNamespace(cfg=SimpleNamespace(use_newton_actuators=False))),
    )
    assert cfg.class_type.is_implicit_model is False
