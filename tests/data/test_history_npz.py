import numpy as np
import pytest

from learned_actuators.data import LogFormatError, read_history_npz, read_torque_profile_npz

pytestmark = pytest.mark.unit


def _history(n=50, h=3):
    e = np.sin(np.arange(n + h) * 0.1)
    v = np.cos(np.arange(n + h) * 0.1)
    pos = np.stack([e[h - 1 - k : h - 1 - k + n] for k in range(h)], axis=1)
    vel = np.stack([v[h - 1 - k : h - 1 - k + n] for k in range(h)], axis=1)
    return e, v, pos, vel, 2.0 * pos[:, 0] - 0.1 * vel[:, 0]


def test_history_npz_becomes_a_time_series(tmp_path):
    e, v, pos, vel, effort = _history()
    path = tmp_path / "hist.npz"
    np.savez(path, pos_err=pos, vel=vel, effort=effort, dt=0.02)
    log = read_history_npz(path, pos_error_sign=-1)
    assert len(log) == 52  # 2 leading frames from the first row's history: nothing lost
    np.testing.assert_allclose(log.q_target[:, 0] - log.q[:, 0], -e[:52])
    np.testing.assert_allclose(log.qd[:, 0], v[:52])
    np.testing.assert_allclose(log.tau[2:, 0], effort)
    assert not log.valid[:2].any() and log.valid[2:].all()
    assert log.dt == pytest.approx(0.02)


def test_shuffled_history_rows_are_rejected(tmp_path):
    _, _, pos, vel, effort = _history()
    order = np.random.default_rng(0).permutation(len(pos))
    path = tmp_path / "shuffled.npz"
    np.savez(path, pos_err=pos[order], vel=vel[order], effort=effort[order])
    with pytest.raises(LogFormatError, match="expected consecutive time steps"):
        read_history_npz(path, dt=0.02)


def test_history_npz_missing_field_and_dt(tmp_path):
    _, _, pos, vel, _ = _history()
    path = tmp_path / "bad.npz"
    np.savez(path, pos_err=pos, vel=vel)
    with pytest.raises(LogFormatError, match="missing array 'effort'"):
        read_history_npz(path, dt=0.02)
    np.savez(path, pos_err=pos, vel=vel, effort=pos[:, 0])
    with pytest.raises(LogFormatError, match="no positive time step"):
        read_history_npz(path)


def test_torque_profile_npz(tmp_path):
    t = 100
    rng = np.random.default_rng(0)
    data = {
        "fps": np.array(50.0),
        "dof_names": np.array(["hip", "knee"]),
        "joint_torques": rng.normal(size=(t, 2)),
        "dof_positions": rng.normal(size=(t, 2)),
        "dof_velocities": rng.normal(size=(t, 2)),
        "body_positions": rng.normal(size=(t, 3, 3)),
    }
    path = tmp_path / "profile.npz"
    np.savez(path, **data)
    log = read_torque_profile_npz(path)
    assert log.joint_names == ["hip", "knee"] and log.dt == pytest.approx(0.02)
    np.testing.assert_array_equal(log.tau, data["joint_torques"])
    assert not log.meta["has_target"] and np.isnan(log.q_target).all()
    np.savez(path, **data, dof_position_targets=data["dof_positions"] + 0.1)
    assert read_torque_profile_npz(path).meta["has_target"]
    data.pop("dof_velocities")
    np.savez(path, **data)
    with pytest.raises(LogFormatError, match="missing array 'dof_velocities'"):
        read_torque_profile_npz(path)
    with pytest.raises(LogFormatError, match="file not found"):
        read_torque_profile_npz(tmp_path / "none.npz")
