"""An exported GRU-PD ensemble (block-diagonal GRU, mean head) runs natively in Newton as the members' mean, or per
slot as its drawn member (torch backend) as on the Python path, with the members' spread per slot."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from learned_actuators.actuators.randomization import ActuatorRandomization, ActuatorRandomizationCfg
from learned_actuators.errors import UserInputError
from learned_actuators.learning import export_model
from learned_actuators.learning.ensemble import train_ensemble
from learned_actuators.network_file import NetworkFileError
from learned_actuators.newton_drives import DriveGRUPD
from learned_actuators.newton_drives.net_kernel import gru_pd_net
from tests.actuators.helpers import GRUNet
from tests.learning.conftest import REF_KD, make_runs, quick_cfg
from tests.newton_drives.helpers import (
    PHYSICS_DT,
    DriveRunner,
    gru_file,
    torch_actuator,
    torch_step,
    trajectory,
)

pytestmark = pytest.mark.unit

ENVS, JOINTS, STEPS = 3, 2, 40
SEED, REDRAW_SEED, REDRAW_AT = 0, 1, 20
"""Draws that give every member somewhere and change a member of env 1 at the redraw (asserted in the test)."""
LABEL_NOISE = 0.01
"""Label-noise term [N·m] written into the test ensemble's file (added to the members' spread in quadrature)."""
MEMBER_GAP = 1e-3
"""Smallest effort difference [N·m] counted as "different" (the members of the test ensemble differ by more)."""


@pytest.fixture(scope="module")
def ensemble_file(tmp_path_factory):
    cfg = quick_cfg("gru_pd", max_epochs=2)
    cfg.physics.kd = REF_KD
    ensemble = train_ensemble(cfg, make_runs(kps=(2.0, 4.0), duration=1.0, dt=PHYSICS_DT), members=3)
    ensemble.noise = LABEL_NOISE
    return str(export_model(ensemble.combined(), tmp_path_factory.mktemp("ens"), "ens", onnx=False)["torchscript"])


@pytest.mark.usefixtures("drive_backend")
def test_native_drive_runs_the_ensemble_mean_as_the_python_path(ensemble_file):
    reference, ours = torch_actuator(ensemble_file, ENVS, JOINTS), DriveRunner(ensemble_file, ENVS, JOINTS)
    q, qd, qt = trajectory(STEPS, ENVS, JOINTS)
    error, spread = 0.0, 0.0
    for s in range(STEPS):
        expected = torch_step(reference, q[s], qd[s], qt[s])
        error = max(error, float(np.abs(ours.step(q[s], qd[s], qt[s]) - expected).max()))
        spread = max(spread, float(reference.ensemble_std.max()))
    assert error <= 1e-4, error
    assert spread > 0.0  # the Python path exposes the members' spread; the native drive runs their mean
    assert ours.drive.recurrent_blocks == 3  # the Warp kernels run each member's recurrent product alone


def test_warp_kernels_run_a_dense_product_when_members_straddle_their_vec4_blocks(tmp_path):
    """Members of 6 units: a vec4 block of units would straddle two members, so the kernels run one dense product (and
    still the members' mean); the kernel factory refuses such a member size."""
    cfg = quick_cfg("gru_pd", max_epochs=1)
    cfg.gru.hidden_size = 6
    ensemble = train_ensemble(cfg, make_runs(kps=(2.0, 4.0), duration=1.0, dt=PHYSICS_DT), members=2)
    path = str(export_model(ensemble.combined(), tmp_path, "ens6", onnx=False)["torchscript"])
    reference, ours = torch_actuator(path, ENVS, JOINTS), DriveRunner(path, ENVS, JOINTS, compute_backend="warp")
    assert ours.drive.ensemble_members == 2 and ours.drive.recurrent_blocks == 1
    q, qd, qt = trajectory(STEPS, ENVS, JOINTS)
    error = max(
        float(np.abs(ours.step(q[s], qd[s], qt[s]) - torch_step(reference, q[s], qd[s], qt[s])).max())
        for s in range(STEPS)
    )
    assert error <= 1e-4, error
    with pytest.raises(ValueError, match="multiple of 4"):
        gru_pd_net(4, 12, 1, member_units=6)


def test_native_drive_exposes_the_members_spread_per_slot_as_the_python_path(ensemble_file):
    """Torch backend: ``ensemble_std`` per slot equals the Python path's after every net step (the spread changes
    over the run, so a stale or constant value fails); the Warp kernels run the mean and expose none."""
    reference = torch_actuator(ensemble_file, ENVS, JOINTS)
    ours = DriveRunner(ensemble_file, ENVS, JOINTS, compute_backend="torch")
    assert DriveRunner(ensemble_file, ENVS, JOINTS, compute_backend="warp").drive.ensemble_std is None
    q, qd, qt = trajectory(STEPS, ENVS, JOINTS)
    error, seen = 0.0, []
    for s in range(STEPS):
        torch_step(reference, q[s], qd[s], qt[s])
        ours.step(q[s], qd[s], qt[s])
        expected = reference.ensemble_std.numpy().reshape(-1)
        seen.append(ours.drive.ensemble_std.numpy().copy())
        error = max(error, float(np.abs(seen[-1] - expected).max()))
    assert error <= 1e-5, error
    assert ours.drive._torch._net_args["blocks"] == 3  # the members' recurrent products one by one
    seen = np.stack(seen)
    assert (seen > LABEL_NOISE).all() and np.ptp(seen, axis=0).min() > 1e-6


def _member_sampling(owner: str, members: int) -> ActuatorRandomization:
    slot_map = torch.arange(ENVS * JOINTS).view(ENVS, JOINTS)
    return ActuatorRandomization(ActuatorRandomizationCfg(ensemble_member=True), slot_map, None, owner, members)


def _draw(randomizations, env_ids, seed) -> None:
    for randomization in randomizations:
        torch.manual_seed(seed)
        randomization.draw(env_ids)


def test_native_drive_applies_each_slots_drawn_member_as_the_python_path(ensemble_file):
    """Same draws on both paths: same effort per slot; members differ from the mean and from each other; a redraw of
    one env changes that env only."""
    reference = torch_actuator(ensemble_file, ENVS, JOINTS)
    ours, kept, mean = (DriveRunner(ensemble_file, ENVS, JOINTS, compute_backend="torch") for _ in range(3))
    assert ours.drive.ensemble_members == reference.ensemble_members == 3
    reference.randomization = _member_sampling("python path", 3)
    ours.drive.randomization, kept.drive.randomization = _member_sampling("drive", 3), _member_sampling("kept", 3)
    sampled = (reference.randomization, ours.drive.randomization, kept.drive.randomization)
    _draw(sampled, None, SEED)
    drawn = ours.drive.randomization.member.clone()
    assert set(drawn.tolist()) == {0, 1, 2}
    q, qd, qt = (np.repeat(x, ENVS, axis=1) for x in trajectory(STEPS, 1, JOINTS))  # every env sees the same inputs
    error, efforts, kept_efforts, mean_efforts = 0.0, [], [], []
    for s in range(STEPS):
        if s == REDRAW_AT:
            _draw(sampled[:2], [1], REDRAW_SEED)  # env 1 only, on both paths
        expected = torch_step(reference, q[s], qd[s], qt[s])
        efforts.append(ours.step(q[s], qd[s], qt[s]).reshape(-1))
        kept_efforts.append(kept.step(q[s], qd[s], qt[s]).reshape(-1))
        mean_efforts.append(mean.step(q[s], qd[s], qt[s]).reshape(-1))
        error = max(error, float(np.abs(efforts[-1] - expected.reshape(-1)).max()))
    assert error <= 1e-4, error
    efforts, kept_efforts, mean_efforts = np.stack(efforts), np.stack(kept_efforts), np.stack(mean_efforts)
    before, after = slice(0, REDRAW_AT), slice(REDRAW_AT, STEPS)
    gap = np.abs(efforts[before] - mean_efforts[before]).max(axis=0)
    assert (gap > MEMBER_GAP).all(), gap  # every slot applies a member, not the members' mean
    slot_member = drawn.view(ENVS, JOINTS)
    for joint in range(JOINTS):
        for a in range(ENVS):
            for b in range(a + 1, ENVS):
                one, two = efforts[before, a * JOINTS + joint], efforts[before, b * JOINTS + joint]
                if slot_member[a, joint] == slot_member[b, joint]:
                    np.testing.assert_allclose(one, two, rtol=0, atol=1e-6)
                else:  # same inputs, different members: different efforts
                    assert np.abs(one - two).max() > MEMBER_GAP, (joint, a, b)
    redrawn = ours.drive.randomization.member.view(ENVS, JOINTS)
    assert torch.equal(redrawn[[0, 2]], slot_member[[0, 2]]) and not torch.equal(redrawn[1], slot_member[1])
    np.testing.assert_array_equal(efforts[:, [0, 1, 4, 5]], kept_efforts[:, [0, 1, 4, 5]])  # envs 0 and 2 untouched
    changed = (redrawn[1] != slot_member[1]).nonzero().view(-1) + JOINTS  # env 1's slots whose member changed
    assert (np.abs(efforts[after][:, changed] - kept_efforts[after][:, changed]).max(axis=0) > MEMBER_GAP).all()


def test_member_heads_are_read_checked_and_member_sampling_is_attached_on_the_torch_backend_only(
    ensemble_file, tmp_path, monkeypatch
):
    from learned_actuators.actuators import randomization as module

    assert DriveRunner(gru_file(tmp_path), ENVS, JOINTS).drive.ensemble_members == 0
    net = GRUNet(3, 5, 2)
    net.register_buffer("member_head_weight", torch.zeros(3, 4))  # hidden size is 5
    net.register_buffer("member_head_bias", torch.zeros(3))
    bad = gru_file(tmp_path, name="bad_heads.pt", net=net)
    with pytest.raises(NetworkFileError, match=r"bad_heads\.pt.*'member_head_weight' \(3, 4\).*expected \(K, 5\)"):
        DriveGRUPD(bad)
    cfg = ActuatorRandomizationCfg(ensemble_member=True)
    monkeypatch.setattr(module, "_native_slot_map", lambda *_: torch.arange(ENVS * JOINTS).view(ENVS, JOINTS))
    native = DriveRunner(ensemble_file, ENVS, JOINTS, compute_backend="torch").drive
    randomization = module._attach(None, "legs", SimpleNamespace(drive=native, device="cpu"), cfg)
    assert native.randomization is randomization and randomization.members == 3
    warp = DriveRunner(ensemble_file, ENVS, JOINTS, compute_backend="warp").drive
    with pytest.raises(UserInputError, match=r"'ensemble_member'.*CPU devices.*use_newton_actuators=False"):
        module._attach(None, "legs", SimpleNamespace(drive=warp, device="cpu"), cfg)
    assert warp.randomization is None
    runner = DriveRunner(ensemble_file, ENVS, JOINTS, compute_backend="warp")
    runner.drive.randomization = _member_sampling("by hand", 3)  # attached by hand: refused at compute, not the mean
    with pytest.raises(ValueError, match="member sampling runs on the torch backend"):
        runner.step(*(x[0] for x in trajectory(1, ENVS, JOINTS)))
