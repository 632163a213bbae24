"""Folds share a replay where a model is the same in them (:func:`validate._simulate`): the simulator replaced by a
stand-in that records its calls, so the grouping and the order of the joined runs are checked without Isaac Lab."""

from types import SimpleNamespace

import numpy as np
import pytest

from learned_actuators.data.joint_log import JointLog
from learned_actuators.validation import validate
from learned_actuators.validation.trajectories import TrajectoryBatch
from learned_actuators.validation.validation_cfg import ValidationCfg

pytestmark = pytest.mark.unit

SIM_KEY = ("bench", 1, True, "cpu", False)


def _batch(fold: str, num_runs: int, num_steps: int) -> TrajectoryBatch:
    logs = []
    for e in range(num_runs):
        t = np.arange(num_steps - e) * 0.005
        q = np.sin(t + len(fold) + e)[:, None]
        logs.append(
            JointLog(name=f"{fold}{e}", source=f"{fold}{e}.json", t=t, q=q, q_target=q, qd=q, joint_names=["j"])
        )
    return TrajectoryBatch.from_logs(logs)


@pytest.fixture
def calls(monkeypatch):
    """The replays run: ``(cfg, run names, gains)``; the stand-in's position is the logged one, torque the cfg."""
    made = []

    def fake_replay(batch, actuator_cfg, cfg, name, gains):
        made.append((actuator_cfg, list(batch.names), gains))
        return SimpleNamespace(q=batch.q + 0.0, qd=batch.qd + 0.0)

    def fake_torque(batch, actuator_cfg, cfg, name, gains):
        return np.full_like(batch.q, actuator_cfg)

    monkeypatch.setattr(validate, "replay", fake_replay)
    monkeypatch.setattr(validate, "single_step_torque", fake_torque)
    return made


def _parts(sim_keys=None, group_replays=True):
    batches = [_batch("a", 2, 30), _batch("b", 1, 50), _batch("c", 2, 20), _batch("d", 1, 40)]
    keys = sim_keys or [SIM_KEY] * len(batches)
    cfg = ValidationCfg(show_progress=False, group_replays=group_replays)
    parts = [{"name": b.names[0][0], "batch": b, "cfg": cfg, "sim_key": k} for b, k in zip(batches, keys, strict=True)]
    return parts, TrajectoryBatch.concat(batches)


def _check_order(out, joined, cfg_per_part, parts):
    q, qd, tau = out
    assert q.shape == qd.shape == joined.q.shape == tau.shape
    np.testing.assert_array_equal(q, joined.q)  # every run's own rows, in the joined order
    np.testing.assert_array_equal(qd, joined.qd)
    rows = [c for c, p in zip(cfg_per_part, parts, strict=True) for _ in range(p["batch"].num_envs)]
    np.testing.assert_array_equal(tau[:, 0, 0], rows)


def test_parts_with_the_same_cfg_share_a_replay_in_the_joined_order(calls):
    parts, joined = _parts()
    cfgs = [1.0, 2.0, 1.0, 2.0]  # e.g. two folds' nets, each in two sub-folds
    gains = [
        (np.full((p["batch"].num_envs, 1), k + 1.0), np.zeros((p["batch"].num_envs, 1))) for k, p in enumerate(parts)
    ]
    entries = [("model", c, g, {}) for c, g in zip(cfgs, gains, strict=True)]
    out = validate._simulate("m", parts, entries, joined)
    assert [(c, names) for c, names, _ in calls] == [(1.0, ["a0", "a1", "c0", "c1"]), (2.0, ["b0", "d0"])]
    np.testing.assert_array_equal(calls[0][2][0][:, 0], [1, 1, 3, 3])  # each run's own gains, constant per run
    assert calls[0][2][0].shape == (4, 1)
    _check_order(out, joined, cfgs, parts)


def test_one_cfg_everywhere_is_one_replay_on_the_joined_batch(calls):
    parts, joined = _parts()
    entries = [("baseline", 5.0, None, {})] * 4
    out = validate._simulate("ideal_pd", parts, entries, joined)
    assert len(calls) == 1 and calls[0][1] == joined.names and calls[0][2] is None
    _check_order(out, joined, [5.0] * 4, parts)


def test_other_sim_or_gains_presence_or_cfg_split_the_replays(calls):
    parts, joined = _parts([SIM_KEY, SIM_KEY, ("bench", 2, True, "cpu", False), SIM_KEY])
    gain = (np.ones((1, 1)), np.zeros((1, 1)))
    entries = [("model", 1.0, None, {}), ("model", 1.0, gain, {}), ("model", 1.0, None, {}), ("model", 1.0, None, {})]
    out = validate._simulate("m", parts, entries, joined)
    assert [names for _, names, _ in calls] == [["a0", "a1", "d0"], ["b0"], ["c0", "c1"]]
    _check_order(out, joined, [1.0] * 4, parts)
    calls.clear()
    parts, joined = _parts()
    out = validate._simulate("m", parts, [("model", float(k), None, {}) for k in range(4)], joined)
    assert [names for _, names, _ in calls] == [p["batch"].names for p in parts]  # one per fold, as before
    _check_order(out, joined, [0.0, 1.0, 2.0, 3.0], parts)


def test_different_explicit_cfgs_share_one_replay_as_env_groups(calls, monkeypatch):
    from isaaclab.actuators import DCMotorCfg, IdealPDActuatorCfg

    from learned_actuators.validation.env_groups import EnvGroupsActuatorCfg

    parts, joined = _parts()
    pd = IdealPDActuatorCfg(joint_names_expr=[".*"], stiffness=1.0, damping=0.0)
    dc = DCMotorCfg(joint_names_expr=[".*"], stiffness=1.0, damping=0.0, saturation_effort=0.5)
    gains = [
        (np.full((p["batch"].num_envs, 1), k + 1.0), np.zeros((p["batch"].num_envs, 1))) for k, p in enumerate(parts)
    ]
    entries = [("model", c, g, {}) for c, g in zip([pd, dc, pd, dc], gains, strict=True)]
    monkeypatch.setattr(validate, "single_step_torque", lambda batch, *_: np.zeros_like(batch.q))  # cfgs, not numbers
    out = validate._simulate("m", parts, entries, joined)
    assert len(calls) == 1
    cfg, names, run_gains = calls[0]
    assert isinstance(cfg, EnvGroupsActuatorCfg) and cfg.members == [pd, dc] and cfg.env_counts == [4, 2]
    assert names == ["a0", "a1", "c0", "c1", "b0", "d0"]  # the groups' runs in group order, each member's together
    np.testing.assert_array_equal(run_gains[0][:, 0], [1, 1, 3, 3, 2, 4])  # every run keeps its own gains
    np.testing.assert_array_equal(out[0], joined.q)  # and every fold its own rows back, in the joined order
    calls.clear()
    native = [("bench", 1, True, "cpu", True)] * 4  # Isaac Lab 3's native path builds drives, not this wrapper
    for parts, joined in (_parts(native), _parts(group_replays=False)):  # or the cfg asks for one replay per cfg
        calls.clear()
        validate._simulate("m", parts, [("model", c, None, {}) for c in (pd, dc, pd, dc)], joined)
        assert [names for _, names, _ in calls] == [["a0", "a1", "c0", "c1"], ["b0", "d0"]]
