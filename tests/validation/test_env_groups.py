"""One actuator running another actuator model per group of envs (:mod:`learned_actuators.validation.env_groups`):
built outside the simulator, it must give each env what its member alone gives, keep each member's state and clips,
and hand written gains on to the members."""

import pytest
import torch

from isaaclab.actuators import DCMotorCfg, DelayedPDActuatorCfg, IdealPDActuatorCfg, ImplicitActuatorCfg
from isaaclab.utils import ArticulationActions, instantiate

from learned_actuators.validation.env_groups import EnvGroupsActuatorCfg, can_group

pytestmark = pytest.mark.unit

JOINTS = ["a", "b"]


def _build(cfg, num_envs: int):
    return instantiate(
        cfg, joint_names=JOINTS, joint_ids=slice(None), num_envs=num_envs, device="cpu", stiffness=0.0, damping=0.0
    )


def _step(actuator, q, qd, target):
    action = ArticulationActions(
        joint_positions=target.clone(), joint_velocities=torch.zeros_like(q), joint_efforts=0.1 * target
    )
    return actuator.compute(action, joint_pos=q, joint_vel=qd)


def _states(gen, n):
    return tuple(torch.randn(n, len(JOINTS), generator=gen) for _ in range(3))


def test_each_env_gets_its_members_effort_clip_and_delay_state_through_a_reset():
    first = DelayedPDActuatorCfg(joint_names_expr=[".*"], stiffness=3.0, damping=0.2, min_delay=2, max_delay=2)
    second = DCMotorCfg(
        joint_names_expr=[".*"],
        stiffness=3.0,
        damping=0.2,
        saturation_effort=0.8,
        actuator_effort_limit=0.6,
        actuator_velocity_limit=4.0,
    )
    group = _build(EnvGroupsActuatorCfg.of([second, first], [2, 3]), 5)
    alone = [_build(second, 2), _build(first, 3)]
    group.reset(None)
    for member in alone:
        member.reset(None)
    gen = torch.Generator().manual_seed(0)
    for step in range(6):
        q, qd, target = _states(gen, 5)
        if step == 3:  # env 3, the delayed member's second: its delay buffer starts again, the others' do not
            group.reset(torch.tensor([3]))
            alone[1].reset([1])
        out = _step(group, q, qd, target)
        want = [_step(alone[0], q[:2], qd[:2], target[:2]), _step(alone[1], q[2:], qd[2:], target[2:])]
        torch.testing.assert_close(out.joint_efforts, torch.cat([w.joint_efforts for w in want]))
        torch.testing.assert_close(group.applied_effort, torch.cat([m.applied_effort for m in alone]))
        torch.testing.assert_close(group.computed_effort, torch.cat([m.computed_effort for m in alone]))
        assert out.joint_positions is None and out.joint_velocities is None  # explicit models: efforts only
    assert group.applied_effort[:2].abs().max() <= 0.6 + 1e-6  # the DC motor's own clip on its envs
    assert group.applied_effort[2:].abs().max() > 0.6  # not on the delayed PD's
    torch.testing.assert_close(group.actuator_effort_limit[:2], torch.full((2, 2), 0.6))
    assert torch.isinf(group.actuator_effort_limit[2:]).all()


def test_gains_written_into_the_group_reach_every_member():
    pd = IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=1.0, damping=0.0)
    group = _build(EnvGroupsActuatorCfg.of([pd, pd], [1, 2]), 3)
    group.stiffness[:] = torch.tensor([[1.0], [2.0], [3.0]])  # per-run gains, as the validation writes them
    q, target = torch.zeros(3, 2), torch.ones(3, 2)
    out = _step(group, q, torch.zeros(3, 2), target)
    torch.testing.assert_close(out.joint_efforts, torch.tensor([[1.1] * 2, [2.1] * 2, [3.1] * 2]))
    torch.testing.assert_close(group.members[1].stiffness, torch.tensor([[2.0] * 2, [3.0] * 2]))


def test_members_that_differ_in_joint_properties_or_are_implicit_cannot_group():
    pd = IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=1.0, damping=0.0)
    assert can_group(
        [pd, IdealPDActuatorCfg(joint_names_expr=["a"], stiffness=1.0, damping=0.0)]
    )  # joints: the group's
    assert can_group([pd, DCMotorCfg(joint_names_expr=[".*"], stiffness=1.0, damping=0.0, saturation_effort=2.0)])
    assert not can_group([pd, IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=1.0, damping=0.0, armature=0.01)])
    assert not can_group([pd, IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=2.0, damping=0.0)])
    assert not can_group([pd, ImplicitActuatorCfg(joint_names_expr=[".*"], stiffness=1.0, damping=0.0)])
    assert not can_group([pd, 1.0])
    assert not can_group([])
    with pytest.raises(ValueError, match="agree on"):
        EnvGroupsActuatorCfg.of([pd, IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=2.0, damping=0.0)], [1, 1])


def test_env_counts_that_do_not_cover_the_envs_are_refused():
    pd = IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=1.0, damping=0.0)
    with pytest.raises(ValueError, match="add up to the articulation's 4 envs"):
        _build(EnvGroupsActuatorCfg.of([pd, pd], [1, 2]), 4)
    with pytest.raises(ValueError, match="at least one env"):
        _build(EnvGroupsActuatorCfg.of([pd, pd], [3, 0]), 3)


def test_learned_gru_pd_members_keep_their_own_nets_and_recurrent_state(tmp_path):
    from learned_actuators.actuators import CombinedGRUAndPDActuatorCfg
    from tests.actuators.helpers import GRUNet, save

    files = []
    for seed in (0, 1):  # two nets: two folds' (or two gains') exports
        torch.manual_seed(seed)
        meta = dict(model_type="gru_pd", dt=0.005, features=["q", "q_target", "qd"], mode="residual", hidden_size=4)
        meta.update(num_layers=1, input_mean=[0.0] * 3, input_std=[1.0] * 3, output_std=0.5, output_mean=0.0)
        files.append(save(tmp_path, f"net{seed}.pt", GRUNet(), **meta, physics={"kp": 5.0, "kd": 0.1}))
    limits = dict(saturation_effort=10.0, actuator_velocity_limit=20.0)
    cfgs = [CombinedGRUAndPDActuatorCfg(joint_names_expr=[".*"], network_file=f, **limits) for f in files]
    group = _build(EnvGroupsActuatorCfg.of(cfgs, [3, 2]).replace(physics_dt=0.005), 5)
    alone = [_build(cfgs[0].replace(physics_dt=0.005), 3), _build(cfgs[1].replace(physics_dt=0.005), 2)]
    gen = torch.Generator().manual_seed(1)
    for k in range(8):
        q, qd, target = _states(gen, 5)
        if k == 4:  # env 4 (the second net's second env) starts again from a zero hidden state
            group.reset([4])
            alone[1].reset([1])
        out = _step(group, q, qd, target).joint_efforts
        want = torch.cat(
            [
                _step(alone[0], q[:3], qd[:3], target[:3]).joint_efforts,
                _step(alone[1], q[3:], qd[3:], target[3:]).joint_efforts,
            ]
        )
        torch.testing.assert_close(out, want)
    other = _step(_build(cfgs[0].replace(physics_dt=0.005), 2), q[3:], qd[3:], target[3:]).joint_efforts
    assert not torch.allclose(out[3:], other)  # the second group's envs do not run the first net
