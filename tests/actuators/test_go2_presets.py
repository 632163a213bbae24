import pytest
import torch

from tests.actuators.helpers import GRUNet, save

pytestmark = pytest.mark.unit

GO2_JOINTS = [f"{leg}_{part}_joint" for part in ("hip", "thigh", "calf") for leg in ("FL", "FR", "RL", "RR")]


def test_go2_presets_put_learned_actuators_on_the_leg_joints_with_calf_reduction_limits(tmp_path):
    from isaaclab.utils import replace

    from learned_actuators.actuators import CombinedGRUAndPDActuator, LSTMActuatorNetCfg, MLPActuatorNetCfg
    from learned_actuators.assets.unitree_go2_actuators import (
        UNITREE_GO2_GRU_PD_CFG,
        UNITREE_GO2_LSTM_CFG,
        UNITREE_GO2_MLP_CFG,
    )

    assert isinstance(UNITREE_GO2_LSTM_CFG.actuators["base_legs"], LSTMActuatorNetCfg)
    assert isinstance(UNITREE_GO2_MLP_CFG.actuators["base_legs"], MLPActuatorNetCfg)
    path = save(
        tmp_path,
        "gru.pt",
        GRUNet(3, 4, 1),
        model_type="gru_pd",
        dt=0.005,
        features=["q", "q_target", "qd"],
        physics={"kp": 25.0, "kd": 0.5},
    )
    cfg = replace(UNITREE_GO2_GRU_PD_CFG.actuators["base_legs"], network_file=path, physics_dt=0.005)
    actuator = cfg.class_type(cfg, joint_names=GO2_JOINTS, joint_ids=slice(None), num_envs=1, device="cpu")
    assert isinstance(actuator, CombinedGRUAndPDActuator)
    calf = torch.tensor(["calf" in name for name in GO2_JOINTS])
    torch.testing.assert_close(actuator.actuator_velocity_limit[0, calf], torch.full((4,), 15.70))
    torch.testing.assert_close(actuator.actuator_velocity_limit[0, ~calf], torch.full((8,), 30.1))
    torch.testing.assert_close(actuator.actuator_effort_limit[0, calf], torch.full((4,), 45.43))
    torch.testing.assert_close(actuator.stiffness, torch.full((1, 12), 25.0))  # training gains from the file
    assert UNITREE_GO2_GRU_PD_CFG.spawn.usd_path == UNITREE_GO2_LSTM_CFG.spawn.usd_path
