"""GRU-PD ensembles: members' mean and spread, one combined net that exports and runs in the actuator, calibration."""

import numpy as np
import pytest
import torch

from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg
from learned_actuators.errors import UserInputError
from learned_actuators.learning import export_model
from learned_actuators.learning.ensemble import Ensemble, calibration, noise_std, train_ensemble
from tests.actuators.helpers import make_actuator, step
from tests.learning.conftest import REF_KD, make_runs, quick_cfg

pytestmark = pytest.mark.unit

LIMITS = {"saturation_effort": 5.0, "actuator_effort_limit": 5.0, "actuator_velocity_limit": 20.0}
GAINS = (2.0, 4.0)


@pytest.fixture(scope="module")
def ensemble():
    cfg = quick_cfg("gru_pd", max_epochs=3)
    cfg.physics.kd = REF_KD
    cfg.gru.num_layers = 2  # the block structure of a deeper GRU too
    return train_ensemble(cfg, make_runs(kps=GAINS, duration=1.5, seed=0), members=3)


@pytest.fixture(scope="module")
def held_out():
    return make_runs(kps=GAINS, duration=1.0, seed=10)


def test_members_differ_and_the_ensemble_predicts_their_mean(ensemble, held_out):
    log = held_out[0]
    members = np.stack([m.predict(log) for m in ensemble.members])
    assert np.ptp(members, axis=0).max() > 1e-3  # seeds give different nets
    np.testing.assert_allclose(ensemble.predict(log), members.mean(axis=0))
    np.testing.assert_allclose(ensemble.predict_std(log), members.std(axis=0))


def test_the_combined_net_is_the_members_mean_and_carries_their_heads(ensemble, held_out):
    combined = ensemble.combined()
    assert combined.model_cfg.hidden_size == 3 * ensemble.members[0].model_cfg.hidden_size
    scale = max(float(np.abs(g.tau).max()) for g in held_out)
    for log in held_out:
        assert np.abs(combined.predict(log) - ensemble.predict(log)).max() <= 1e-4 * scale
    # step by step, the deploy module's member heads give each member's own output
    deploy = combined.deploy_module().double()
    members = [m.deploy_module().double() for m in ensemble.members]
    log = held_out[1]
    kind, feats = combined.kind, torch.as_tensor(combined.raw_inputs(log))
    h = kind.zero_state(combined.model_cfg, 1)
    hs = [kind.zero_state(m.model_cfg, 1) for m in ensemble.members]
    for t in range(0, 60):
        with torch.no_grad():
            y, h = deploy(feats[None, t : t + 1], h)
        outs = []
        for i, member in enumerate(members):
            x = torch.as_tensor(ensemble.members[i].raw_inputs(log)[None, t : t + 1])
            with torch.no_grad():
                out, hs[i] = member(x, hs[i])
            outs.append(float(out[0]))
        heads = deploy.member_head_weight.double() @ h[-1, 0] + deploy.member_head_bias.double()
        np.testing.assert_allclose(heads.numpy(), outs, atol=1e-4 * scale)
        assert float(y[0]) == pytest.approx(np.mean(outs), abs=1e-4 * scale)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "module"])
def test_the_exported_ensemble_runs_the_mean_and_exposes_the_spread_in_the_actuator(
    ensemble, held_out, fused, tmp_path
):
    ensemble = Ensemble(ensemble.members, noise=0.02)  # with a label-noise term, which the file carries
    path = export_model(ensemble.combined(), tmp_path, "ensemble", onnx=False)["torchscript"]
    stiffness = {f"joint_{j}": g for j, g in enumerate(GAINS)}
    cfg = CombinedGRUAndPDActuatorCfg(
        joint_names_expr=[".*"], network_file=str(path), physics_dt=0.005, fused=fused, stiffness=stiffness, **LIMITS
    )
    actuator = make_actuator(cfg, num_envs=1, num_joints=len(GAINS))
    assert actuator.uses_fused_kernels == fused and actuator.ensemble_std.shape == (1, len(GAINS))
    assert not fused or actuator._fused.blocks == ensemble.size  # the members' recurrent products one by one
    q, qd, qt = (
        torch.tensor(np.stack([getattr(g, k)[:, 0] for g in held_out]), dtype=torch.float32).T
        for k in ("q", "qd", "q_target")
    )
    efforts, spreads = [], []
    for k in range(len(q)):
        step(actuator, q[k][None], qd[k][None], qt[k][None])
        efforts.append(actuator.computed_effort[0].double().numpy().copy())
        spreads.append(actuator.ensemble_std[0].double().numpy().copy())
    scale = max(float(np.abs(g.tau).max()) for g in held_out)
    want = np.stack([ensemble.predict(g) for g in held_out])
    assert np.abs(np.stack(efforts, axis=-1) - want).max() <= 1e-4 * scale
    want_std = np.stack([ensemble.predict_std(g) for g in held_out])
    assert np.abs(np.stack(spreads, axis=-1) - want_std).max() <= 1e-4 * scale
    assert want_std.max() > 0.02 + 1e-3  # the members disagree beyond the noise term somewhere


def test_a_single_model_file_has_no_spread(ensemble, tmp_path):
    path = export_model(ensemble.members[0], tmp_path, "single", onnx=False)["torchscript"]
    cfg = CombinedGRUAndPDActuatorCfg(joint_names_expr=[".*"], network_file=str(path), physics_dt=0.005, **LIMITS)
    assert make_actuator(cfg, num_envs=1, num_joints=1).ensemble_std is None


def test_each_env_applies_its_drawn_member_and_a_single_model_refuses_member_sampling(ensemble, held_out, tmp_path):
    from learned_actuators.actuators.randomization import ActuatorRandomization, ActuatorRandomizationCfg

    path = export_model(ensemble.combined(), tmp_path, "ensemble", onnx=False)["torchscript"]
    envs = 6
    cfg = CombinedGRUAndPDActuatorCfg(
        joint_names_expr=[".*"], network_file=str(path), physics_dt=0.005, stiffness=GAINS[0], **LIMITS
    )
    actuator = make_actuator(cfg, num_envs=envs, num_joints=1)
    sampling = ActuatorRandomizationCfg(ensemble_member=True)
    slot_map = torch.arange(envs).view(envs, 1)
    actuator.randomization = ActuatorRandomization(sampling, slot_map, None, "test", actuator.ensemble_members)
    torch.manual_seed(1)
    actuator.randomization.draw(None)
    member = actuator.randomization.parameters()["member"][:, 0]
    assert len(set(member.tolist())) > 1  # envs draw different members
    log = held_out[0]
    q, qd, qt = (torch.tensor(getattr(log, k)[:, 0], dtype=torch.float32) for k in ("q", "qd", "q_target"))
    efforts = []
    for k in range(len(q)):
        step(actuator, q[k].expand(envs, 1), qd[k].expand(envs, 1), qt[k].expand(envs, 1))
        efforts.append(actuator.computed_effort[:, 0].double().numpy().copy())
    members = np.stack([m.predict(log) for m in ensemble.members])  # (K, T)
    scale = float(np.abs(log.tau).max())
    assert np.abs(np.stack(efforts, axis=1) - members[member.numpy()]).max() <= 1e-4 * scale
    single = export_model(ensemble.members[0], tmp_path, "single", onnx=False)["torchscript"]
    one = make_actuator(CombinedGRUAndPDActuatorCfg(**{**cfg.__dict__, "network_file": str(single)}), envs, 1)
    with pytest.raises(UserInputError, match=r"'ensemble_member'.*single model"):
        ActuatorRandomization(sampling, slot_map, None, "test", one.ensemble_members)


class _Fixed(Ensemble):
    """An ensemble whose members' joint torques are given (calibration's arithmetic)."""

    def __init__(self, preds):
        self.preds = preds

    def joint_torque_members(self, log):
        return self.preds


def test_calibration_counts_errors_within_one_and_two_sigma():
    log = make_runs(kps=(2.0,), duration=0.1)[0]
    n = len(log)
    tau = log.tau[:, 0]
    spread = np.full(n, 0.1)  # members at mean ± 0.1: std 0.1
    offsets = np.where(np.arange(n) % 4 == 0, 0.05, np.where(np.arange(n) % 4 == 1, 0.15, 0.3))  # 1/4, 1/4, 1/2
    mean = tau + offsets
    preds = np.stack([mean - spread, mean + spread])
    got = calibration(_Fixed(preds), [log])
    assert got["frames"] == n
    assert got["within_1sigma"] == pytest.approx(np.mean(offsets <= 0.1))
    assert got["within_2sigma"] == pytest.approx(np.mean(offsets <= 0.2))
    assert got["mean_std"] == pytest.approx(0.1)
    wide = calibration(_Fixed(preds), [log], noise=0.1)  # spread sqrt(0.1² + 0.1²) = 0.141
    assert wide["within_1sigma"] == pytest.approx(np.mean(offsets <= 0.1 * np.sqrt(2)))
    want = np.sqrt(np.mean(offsets**2) - 0.1**2)  # the error the members' spread does not cover
    assert noise_std(_Fixed(preds), [log]) == pytest.approx(want)


class _ByRun(Ensemble):
    """An ensemble whose members' joint torques are given per run."""

    def __init__(self, preds):
        self.preds = preds

    def joint_torque_members(self, log):
        return self.preds[log.name]


def test_the_label_noise_term_out_of_bag_uses_only_the_members_that_did_not_draw_a_run():
    a, b = make_runs(kps=(2.0, 3.0), duration=0.1)
    n = len(a)
    assert a.valid is None and len(b) == n  # every frame counts
    rng = np.random.default_rng(0)
    preds = {log.name: log.tau[:, 0] + rng.normal(0.0, 0.2, (3, n)) for log in (a, b)}
    member_runs = [[a, a], [a], [b]]  # run a: member 2 alone; run b: members 0 and 1
    oob = {a.name: preds[a.name][[2]], b.name: preds[b.name][[0, 1]]}
    err = np.concatenate([np.abs(log.tau[:, 0] - oob[log.name].mean(0)) for log in (a, b)])
    std = np.concatenate([oob[log.name].std(0) for log in (a, b)])
    want = np.sqrt(np.mean(err**2) - np.mean(std**2))
    assert noise_std(_ByRun(preds), [a, b], member_runs) == pytest.approx(want)
    assert noise_std(_ByRun(preds), [a, b], member_runs) != pytest.approx(noise_std(_ByRun(preds), [a, b]))
    assert noise_std(_ByRun(preds), [a], [[a], [a], [a]]) == 0.0  # every member drew it: nothing out of bag


def test_members_must_share_architecture_and_physics(ensemble):
    other = ensemble.members[1]
    other_cfg = other.model_cfg
    try:
        other.model_cfg = type(other_cfg)(**{**other_cfg.__dict__, "hidden_size": other_cfg.hidden_size + 1})
        with pytest.raises(UserInputError, match="member 1 differs from member 0"):
            Ensemble(list(ensemble.members))
    finally:
        other.model_cfg = other_cfg
