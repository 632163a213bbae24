import numpy as np
import pytest

from learned_actuators.data.joint_log import JointLog, LogFormatError
from learned_actuators.validation.trajectories import TrajectoryBatch

pytestmark = pytest.mark.unit


def _log(n, dt=0.01, name="run", joints=("joint",), tau=True, source=None, **kw):
    t = np.arange(n) * dt
    q = np.sin(t)[:, None].repeat(len(joints), 1)
    return JointLog(
        name=name,
        source=source or f"{name}.csv",
        t=t,
        q=q,
        q_target=q + 0.1,
        qd=np.cos(t)[:, None].repeat(len(joints), 1),
        tau=q * 2 if tau else None,
        joint_names=list(joints),
        **kw,
    )


def test_pads_with_last_sample_and_masks_padding_and_invalid_frames():
    valid = np.ones(5, dtype=bool)
    valid[1] = False
    batch = TrajectoryBatch.from_logs([_log(8, name="a"), _log(5, name="b", valid=valid)])
    assert batch.q.shape == (2, 8, 1)
    np.testing.assert_array_equal(batch.lengths, [8, 5])
    np.testing.assert_array_equal(batch.mask[1], [True, False, True, True, True, False, False, False])
    assert batch.mask[0].all()
    np.testing.assert_allclose(batch.q_target[1, 5:, 0], batch.q_target[1, 4, 0])
    assert batch.dt == pytest.approx(0.01)


def test_missing_commanded_positions_is_a_clear_error():
    log = _log(6, source="bad_cmd.csv")
    log.q_target = None
    with pytest.raises(LogFormatError, match=r"bad_cmd\.csv.*'q_target'.*missing"):
        TrajectoryBatch.from_logs([log])


def test_non_finite_commanded_positions_is_a_clear_error():
    log = _log(6, source="nan_cmd.csv")
    log.q_target[3] = np.nan
    with pytest.raises(LogFormatError, match=r"nan_cmd\.csv.*'q_target'.*not finite"):
        TrajectoryBatch.from_logs([log])


def test_joint_names_must_agree_between_runs():
    with pytest.raises(LogFormatError, match=r"b\.csv.*'joint_names'"):
        TrajectoryBatch.from_logs([_log(5, name="a"), _log(5, name="b", joints=("elbow",))])


def test_irregular_sampling_is_a_clear_error():
    log = _log(10, source="jitter.csv")
    log.t[5:] += 0.004
    with pytest.raises(LogFormatError, match=r"jitter\.csv.*'t' is not regularly sampled"):
        TrajectoryBatch.from_logs([log])


def test_runs_at_different_rates_are_rejected():
    with pytest.raises(LogFormatError, match="resample"):
        TrajectoryBatch.from_logs([_log(5, name="a"), _log(5, dt=0.02, name="b")])


def test_tau_dropped_only_when_a_run_lacks_it():
    assert TrajectoryBatch.from_logs([_log(5), _log(5, name="b", tau=False)]).tau is None
    with pytest.raises(LogFormatError, match="'tau'"):
        TrajectoryBatch.from_logs([_log(5, tau=False)], require_tau=True)


def test_logged_velocity_targets_and_feed_forward_travel_with_the_runs():
    a, b = _log(8, name="a"), _log(5, name="b")
    a.channels = {"qd_target": np.full((8, 1), 0.5), "tau_ff": np.arange(8.0)[:, None]}
    batch = TrajectoryBatch.from_logs([a, b])
    np.testing.assert_array_equal(batch.tau_ff[0, :, 0], np.arange(8.0))
    assert not batch.tau_ff[1].any() and not batch.qd_target[1].any()  # run b logs no command terms: zero
    assert TrajectoryBatch.from_logs([b]).tau_ff is None
    taken = batch.take([1, 0])
    np.testing.assert_array_equal(taken.qd_target[1], batch.qd_target[0])
    joined = TrajectoryBatch.concat([TrajectoryBatch.from_logs([b]), batch])
    assert joined.tau_ff.shape == (3, 8, 1) and not joined.tau_ff[0].any()
    np.testing.assert_array_equal(joined.tau_ff[1], batch.tau_ff[0])


def test_non_finite_logged_command_terms_are_a_clear_error():
    log = _log(6, source="ff.csv")
    log.channels = {"tau_ff": np.array([0.0, 1.0, np.nan, 0.0, 0.0, 0.0])[:, None]}
    with pytest.raises(LogFormatError, match=r"ff\.csv: channel 'tau_ff'.*not finite"):
        TrajectoryBatch.from_logs([log])


def test_logged_gains_per_step_travel_with_the_runs_and_become_the_replays_gains():
    from learned_actuators.validation.baselines import has_logged_gain, log_gains
    from learned_actuators.validation.replay import per_step
    from learned_actuators.validation.validation_cfg import ValidationCfg

    a, b = _log(8, name="a", meta={"kp": 2.0}), _log(5, name="b", meta={"kp": 3.0, "kd": 0.1})
    a.channels = {"kp": np.where(np.arange(8) < 4, 1.0, 5.0)[:, None]}
    batch = TrajectoryBatch.from_logs([a, b])
    assert np.isnan(batch.kp[1]).all() and batch.kd is None  # run b logs no gains: NaN, its constant applies
    kp, kd = log_gains(batch, ValidationCfg(kp_scale=0.5))
    assert per_step((kp, kd)) and kp.shape == kd.shape == (2, 8, 1)
    np.testing.assert_array_equal(kp[0, :, 0], 0.5 * np.where(np.arange(8) < 4, 1.0, 5.0))  # scaled, per step
    np.testing.assert_array_equal(kp[1, :, 0], np.full(8, 1.5))  # b: its constant gain at every step
    np.testing.assert_array_equal(kd[:, :, 0], [[0.0] * 8, [0.1] * 8])
    fixed = log_gains(batch, ValidationCfg(kp=4.0, kd=0.2))  # a cfg gain wins over the logged ones
    assert not per_step(fixed) and fixed[0].tolist() == [4.0, 4.0]
    del a.meta["kp"]  # no constant: the median of the logged gains stands in where the channel is absent
    a.channels["kp"][6:] = np.nan
    with pytest.raises(LogFormatError, match=r"a\.csv: channel 'kp'"):
        TrajectoryBatch.from_logs([a, b])
    a.channels["kp"][6:] = 5.0
    only_channel = TrajectoryBatch.from_logs([a])
    assert has_logged_gain(only_channel) and log_gains(only_channel, ValidationCfg())[0][0, 0, 0] == 1.0
    taken = batch.take([1, 0])
    np.testing.assert_array_equal(taken.kp[1], batch.kp[0])
    joined = TrajectoryBatch.concat([TrajectoryBatch.from_logs([b]), batch])
    assert joined.kp.shape == (3, 8, 1) and np.isnan(joined.kp[0]).all() and joined.kd is None
