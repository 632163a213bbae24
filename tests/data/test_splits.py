import numpy as np
import pytest

from learned_actuators.data import JointLog, Normalizer, leave_one_group_out, split_blocks, split_runs
from learned_actuators.data.splits import split_joints

pytestmark = pytest.mark.unit


def _log(name, n=100, group="g", joints=1):
    t = np.arange(n) * 0.01
    q = np.random.default_rng(abs(hash(name)) % 2**32).normal(size=(n, joints))
    return JointLog(
        name, f"{name}.csv", t, q, q, q, q, joint_names=[f"j{i}" for i in range(joints)], meta={"group": group}
    )


def test_split_runs_never_puts_a_run_in_two_splits():
    logs = [_log(f"r{i}", n=50 + 10 * i) for i in range(10)]
    split = split_runs(logs, (0.6, 0.2, 0.2), seed=3)
    names = [log.name for part in (split.train, split.val, split.test) for log in part]
    assert sorted(names) == sorted(log.name for log in logs)  # every run once, none dropped
    assert len(set(names)) == len(names)
    assert split.val and split.test
    total = sum(len(log) for log in logs)
    assert abs(sum(len(log) for log in split.train) / total - 0.6) < 0.15
    assert split_runs(logs, (0.6, 0.2, 0.2), seed=3).summary() == split.summary()  # seeded


def test_split_runs_errors():
    with pytest.raises(ValueError, match="2 runs cannot fill 3 splits"):
        split_runs([_log("a"), _log("b")])
    with pytest.raises(ValueError, match="summing to 1"):
        split_runs([_log("a")], (0.5, 0.2, 0.2))


def test_split_blocks_are_contiguous_and_disjoint_in_time():
    log = _log("run", n=200)
    split = split_blocks([log], (0.7, 0.15, 0.15), gap_s=0.05)
    tr, va, te = split.train[0], split.val[0], split.test[0]
    assert tr.t[-1] < va.t[0] and va.t[-1] < te.t[0]
    assert va.t[0] - tr.t[-1] >= 0.05
    for part in (tr, va, te):
        assert np.allclose(np.diff(part.t), 0.01)
        assert part.meta["parent_run"] == "run"
    np.testing.assert_array_equal(te.q, log.q[te.meta["span"][0] : te.meta["span"][1]])


def test_leave_one_group_out_folds():
    logs = [_log(f"{g}{i}", group=g) for g in ("light", "heavy", "mid") for i in range(3)]
    folds = leave_one_group_out(logs, val_ratio=0.2)
    assert [f.name for f in folds] == ["heavy", "light", "mid"]
    for fold in folds:
        assert {log.meta["group"] for log in fold.test} == {fold.name}
        assert fold.name not in {log.meta["group"] for log in fold.train + fold.val}
        assert len(fold.test) == 3 and len(fold.train) + len(fold.val) == 6 and fold.val
    with pytest.raises(ValueError, match="at least two 'group' groups"):
        leave_one_group_out(logs[:3])
    logs[0].meta.pop("group")
    with pytest.raises(ValueError, match="no metadata 'group'"):
        leave_one_group_out(logs)


def test_split_joints():
    parts = split_joints([_log("arm", joints=3)])
    assert [p.name for p in parts] == ["arm/j0", "arm/j1", "arm/j2"]
    assert all(p.num_joints == 1 for p in parts)


def test_normalizer_round_trip_and_floor():
    x = np.c_[np.random.default_rng(0).normal(3.0, 2.0, 1000), np.full(1000, 5.0)]
    norm = Normalizer.fit(x)
    z = norm.apply(x)
    np.testing.assert_allclose(z[:, 0].mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(z[:, 0].std(), 1.0, atol=1e-12)
    assert norm.std[1] == Normalizer.MIN_STD  # constant feature: floored, no division by zero
    np.testing.assert_allclose(norm.invert(z), x)
    again = Normalizer.from_dict(norm.to_dict())
    np.testing.assert_array_equal(again.mean, norm.mean)
    with pytest.raises(ValueError, match="zero finite samples"):
        Normalizer.fit(np.full((3, 2), np.nan))
