"""The shipped Go2 GRU-PD starter model: provenance, agreement with the walk-these-ways Go1 net, the Go1 preset, and
the load-time scale check (cfg objects and actuator classes on the CPU, no simulator)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from isaaclab.utils import replace

from learned_actuators.actuators import ActuatorCfgError, CombinedGRUAndPDActuator, MLPActuatorNet
from learned_actuators.assets.unitree_go2_actuators import (
    GO2_GRU_PD_ACTUATOR_CFG,
    GO2_STARTER_GRU_PD_ACTUATOR_CFG,
    GO2_WTW_GO1_MLP_ACTUATOR_CFG,
)
from learned_actuators.data.column_map import read_mapped_folder
from learned_actuators.learning.go2_starter import HELD_OUT_GO2_LOG, file_sha256, go1_torque, load_go1_net
from learned_actuators.models import go2_starter_path
from learned_actuators.network_file import load_network
from tests.actuators.helpers import constant_gru, save, shared_nets, step

pytestmark = pytest.mark.unit

GO2_JOINTS = [f"{leg}_{part}_joint" for leg in ("FL", "FR", "RL", "RR") for part in ("hip", "thigh", "calf")]
"""The joint order of the walk-these-ways Go2 logs (column map ``wtw_go2_pickle``)."""
WIDE = {"saturation_effort": 1e4, "actuator_effort_limit": 1e4, "actuator_velocity_limit": 1e4}
SCALE_LOGGER = "learned_actuators.actuators.scale_check"


def build(cfg, num_envs: int = 1, **kwargs):
    cfg = replace(cfg, **kwargs)
    return cfg.class_type(cfg, joint_names=GO2_JOINTS, joint_ids=slice(None), num_envs=num_envs, device="cpu")


def held_out_log(shared_data):
    logs = read_mapped_folder(shared_data / "go2_logs", "wtw_go2_pickle")
    (log,) = [g for g in logs if g.name == HELD_OUT_GO2_LOG]
    assert log.joint_names == GO2_JOINTS
    return log


def run(actuator, log) -> np.ndarray:
    """Applied efforts (T, 12) of ``actuator`` stepped once per 50 Hz sample of ``log``."""
    out = []
    for t in range(len(log)):
        q, qd, qt = (torch.as_tensor(a[t : t + 1], dtype=torch.float32) for a in (log.q, log.qd, log.q_target))
        out.append(step(actuator, q, qd, qt).clone())
    return torch.cat(out).double().numpy()


def test_starter_file_is_small_50hz_gru_pd_with_provenance_and_licence(shared_data):
    path = go2_starter_path()
    _, meta = load_network(path)
    assert meta.model_type == "gru_pd" and meta.dt == pytest.approx(0.02) and meta.mode == "residual"
    assert Path(path).stat().st_size < 1_000_000
    source = meta.source
    # the recorded source files are the ones in the shared data, byte for byte
    assert source["files"]["nets/unitree_go1.pt"] == file_sha256(shared_nets() / "unitree_go1.pt")
    go2_files = {k: v for k, v in source["files"].items() if k.startswith("go2_logs/")}
    assert len(go2_files) == 4
    for rel, sha in go2_files.items():
        assert file_sha256(shared_data / rel) == sha, rel
    assert source["input_sequences"]["held_out_run"] == HELD_OUT_GO2_LOG
    assert HELD_OUT_GO2_LOG not in source["input_sequences"]["train_runs"]
    assert len(source["commit"]) >= 40
    folder = Path(path).parent
    licence = (folder / "LICENSE").read_text(encoding="utf-8")
    assert "MIT Improbable AI Lab" in licence and "Liao Dengting" in licence
    provenance = (folder / "PROVENANCE.md").read_text(encoding="utf-8")
    calf = source["agreement_Nm"]["held_out_go2_log"]["calf"]
    assert f"{calf['rmse']:.2f}" in provenance


def test_go1_preset_gives_the_go1_nets_torque_on_go2_joints(shared_data):
    """The documented preset reproduces the walk-these-ways conventions (e = q - q*, 3 slots at 50 Hz)."""
    log = held_out_log(shared_data)
    net_file = str(shared_nets() / "unitree_go1.pt")
    actuator = build(GO2_WTW_GO1_MLP_ACTUATOR_CFG, network_file=net_file, physics_dt=0.02, **WIDE)
    assert isinstance(actuator, MLPActuatorNet) and actuator.steps_per_network_step == 1
    expected = go1_torque(load_go1_net(net_file), log.q, log.q_target, log.qd)
    np.testing.assert_allclose(run(actuator, log), expected, atol=2e-4, rtol=1e-4)
    # at the Go2's 5 ms physics the net steps every 4th physics step (its 50 Hz), not every step
    assert build(GO2_WTW_GO1_MLP_ACTUATOR_CFG, network_file=net_file, physics_dt=0.005).steps_per_network_step == 4


def test_starter_agrees_with_the_go1_net_on_the_held_out_go2_log_as_stated(shared_data):
    """In CombinedGRUAndPDActuator (the Go2 starter preset) the error per joint type is the one the file states."""
    log = held_out_log(shared_data)
    starter = build(GO2_STARTER_GRU_PD_ACTUATOR_CFG, physics_dt=0.02)
    assert isinstance(starter, CombinedGRUAndPDActuator)
    calf = torch.tensor(["calf" in n for n in GO2_JOINTS])
    torch.testing.assert_close(starter.pd_stall_torque[0, calf], torch.full((4,), 45.43))
    torch.testing.assert_close(starter.pd_stall_torque[0, ~calf], torch.full((8,), 23.7))
    ours = run(starter, log)
    reference = go1_torque(load_go1_net(shared_nets() / "unitree_go1.pt"), log.q, log.q_target, log.qd)
    stated = load_network(go2_starter_path())[1].source["agreement_Nm"]["held_out_go2_log"]
    for kind in ("hip", "thigh", "calf"):
        cols = [i for i, n in enumerate(GO2_JOINTS) if f"_{kind}_" in n]
        err = ours[:, cols] - reference[:, cols]
        rmse, worst = float(np.sqrt(np.mean(err**2))), float(np.abs(err).max())
        assert rmse == pytest.approx(stated[kind]["rmse"], abs=0.02), kind
        assert worst <= stated[kind]["max_abs_err"] + 0.05, kind
        assert rmse < 1.5, kind  # and the stated agreement is a good one (the torques reach about 20 N·m)
    assert np.abs(ours).max() > 15.0  # Go2 scale, not a servo's


def test_scale_check_warns_for_a_servo_net_at_go2_limits_and_not_for_the_starter(tmp_path, caplog):
    servo = save(
        tmp_path,
        "servo.pt",
        constant_gru(0.0),
        model_type="gru_pd",
        dt=0.02,
        features=["q", "q_target", "qd"],
        hidden_size=4,
        num_layers=1,
        physics={"kp": 0.53, "kd": 0.046, "stall_torque": 0.39, "no_load_speed": 7.0},
    )
    with caplog.at_level(logging.WARNING, logger=SCALE_LOGGER):
        build(GO2_GRU_PD_ACTUATOR_CFG, network_file=servo, physics_dt=0.005)
    (record,) = [r for r in caplog.records if r.name == SCALE_LOGGER]
    text = record.getMessage()
    assert servo in text and "physics.stall_torque" in text and "physics.kp" in text
    assert "0.39" in text and "0.53" in text and "FL_calf_joint 45.43 N·m" in text and "FL_hip_joint 23.7" in text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=SCALE_LOGGER):
        build(GO2_STARTER_GRU_PD_ACTUATOR_CFG, physics_dt=0.005)
        build(GO2_GRU_PD_ACTUATOR_CFG, network_file=servo, physics_dt=0.005, scale_check="ignore")
    assert not [r for r in caplog.records if r.name == SCALE_LOGGER]
    with pytest.raises(ActuatorCfgError, match=r"servo\.pt.*physics\.stall_torque.*scale_check='raise'"):
        build(GO2_GRU_PD_ACTUATOR_CFG, network_file=servo, physics_dt=0.005, scale_check="raise")
    with pytest.raises(ActuatorCfgError, match="cfg field 'scale_check' must be one of"):
        build(GO2_GRU_PD_ACTUATOR_CFG, network_file=servo, physics_dt=0.005, scale_check="maybe")


def test_scale_check_compares_with_each_joints_stall_torque():
    from learned_actuators.actuators.scale_check import scale_mismatches

    names = ["hip", "calf"]
    assert scale_mismatches({"kp": 20.0, "stall_torque": 23.7}, names, [23.7, 45.43]) == []
    # a stall torque of 300 N·m is 12.7x the hip's but 6.6x the calf's: only the hip is listed
    (found,) = scale_mismatches({"kp": 20.0, "stall_torque": 300.0}, names, [23.7, 45.43])
    assert "hip 23.7 N·m (12.7x)" in found and "calf" not in found
    (found,) = scale_mismatches({"kp": 2.0, "stall_torque": None}, names, [23.7, 45.43])
    assert found.startswith("metadata 'physics.kp' = 2") and "calf 45.43 N·m (0.044x)" in found
