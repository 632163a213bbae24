import numpy as np
import pytest

from learned_actuators.data import JointLog, Normalizer, leave_one_group_out, split_blocks, split_runs
from learned_actuators.data.splits import block_spans, hold_out_spans, kfold_blocks, split_joints

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
    # constant feature: scaled by its magnitude, not by a floored spread that would amplify rounding
    assert norm.std[1] == 5.0 and norm.near_constant.tolist() == [False, True]
    np.testing.assert_allclose(norm.invert(z), x)
    again = Normalizer.from_dict(norm.to_dict())
    np.testing.assert_array_equal(again.mean, norm.mean)
    with pytest.raises(ValueError, match="zero finite samples"):
        Normalizer.fit(np.full((3, 2), np.nan))


def _frames(part):
    """Frame indices (in the parent run) of each piece, by parent run name."""
    out = {}
    for log in part:
        a, b = log.meta["span"]
        out.setdefault(log.meta["parent_run"], set()).update(range(a, b))
    return out


def _assert_leak_free(fold, n, gap):
    train, test = _frames(fold.train), _frames(fold.test)
    assert set(test) == set(train)  # every run has train and test frames
    for run in test:
        assert not train[run] & test[run]  # no frame in both
        dist = min(abs(i - j) for i in train[run] for j in (min(test[run]), max(test[run])))
        assert dist > gap  # the gap is in neither split
        assert len(train[run]) + len(test[run]) == n - sum(
            1 for i in range(n) if i not in test[run] and min(abs(i - j) for j in test[run]) <= gap
        )


def test_held_out_block_with_a_gap_shares_no_frames():
    logs = [_log("a", n=400), _log("b", n=400)]
    fold = hold_out_spans(logs, lambda log: [block_spans(len(log), 4)[1]], gap_s=0.1)
    assert [g.meta["span"] for g in fold.test] == [[100, 200], [100, 200]]
    assert [g.meta["span"] for g in fold.train] == [[0, 90], [210, 400]] * 2  # 10 frames (0.1 s) gap each side
    _assert_leak_free(fold, 400, 10)
    np.testing.assert_array_equal(fold.test[0].q, logs[0].q[100:200])


def test_kfold_over_blocks_tests_every_frame_once():
    log = _log("long", n=500)
    folds = kfold_blocks([log], 5, gap_s=0.05)
    assert [f.name for f in folds] == [f"block{k}" for k in range(5)]
    tested = [i for f in folds for i in sorted(_frames(f.test)["long"])]
    assert tested == list(range(500))  # each frame in exactly one test block
    for fold in folds:
        _assert_leak_free(fold, 500, 5)
    assert [f.name for f in kfold_blocks([log], 5, only=[4, 0])] == ["block4", "block0"]
    with pytest.raises(ValueError, match=r"block index\(es\) \[5\] outside 0..4"):
        kfold_blocks([log], 5, only=[5])


def test_split_options_through_the_pipeline():
    from learned_actuators.errors import UserInputError
    from learned_actuators.learning.data_cfg import DataCfg
    from learned_actuators.learning.data_loading import splits_of
    from learned_actuators.learning.presets import build_cfg

    logs = split_joints([_log("ankles", n=1000, joints=2)])
    chosen = splits_of(logs, DataCfg(split="blocks", blocks=4, test_blocks=[0, 2], gap_s=0.1))
    fold = chosen[0][1]
    assert sorted({tuple(g.meta["span"]) for g in fold.test}) == [(0, 250), (500, 750)]
    assert sorted({tuple(g.meta["span"]) for g in fold.train}) == [(260, 490), (760, 1000)]
    span = splits_of(logs, DataCfg(split="blocks", test_span_s=[2.0, 3.0], gap_s=0.5))[0][1]
    assert {tuple(g.meta["span"]) for g in span.test} == {(200, 300)}
    assert {tuple(g.meta["span"]) for g in span.train} == {(0, 150), (350, 1000)}
    folds = splits_of(logs, DataCfg(split="kfold", blocks=3, gap_s=0.2))
    assert [n for n, _ in folds] == ["block0", "block1", "block2"]
    for _, f in folds:
        assert {g.meta["joint"] for g in f.test} == {"j0", "j1"}  # every joint's same time block held out
        _assert_leak_free(f, 1000, 20)
    for data, message in (
        ({"split": "groups", "test_blocks": [0]}, "applies only with data.split=blocks or kfold"),
        ({"split": "blocks", "blocks": 4, "test_blocks": [4]}, r"expected block indices 0..3"),
        ({"split": "blocks", "test_span_s": [3, 1]}, "0 <= start < stop"),
        ({"split": "blocks", "test_blocks": [0], "test_span_s": [0, 1]}, "give one"),
        ({"split": "kfold", "blocks": 1}, "data.blocks"),
        ({"split": "kfold", "gap_s": -1}, "data.gap_s"),
    ):
        with pytest.raises(UserInputError, match=message):
            build_cfg({"data": data})
