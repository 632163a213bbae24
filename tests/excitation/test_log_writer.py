"""The session logger: our multi-joint CSV format read back by the training readers, new folders, atomic writes."""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest

from learned_actuators import atomic_io
from learned_actuators.data import read_mapped_folder, split_joints
from learned_actuators.errors import DiskFullError, UserInputError
from learned_actuators.excitation import ExcitationRecord, column_map_for, write_session
from learned_actuators.excitation.log_writer import COLUMN_MAP_FILE, SESSION_FILE
from learned_actuators.excitation.robot_backend import RobotBackendCfg, run_robot_excitation
from tests.excitation.fake_go2 import FakeGo2
from tests.excitation.test_robot_backend import _plan

pytestmark = pytest.mark.unit

JOINTS = ["FL_thigh_joint", "FL_calf_joint", "RR_calf_joint"]


def _record(n: int = 400, rate: float = 200.0) -> ExcitationRecord:
    t = np.arange(n) / rate
    rng = np.random.default_rng(0)
    q_target = -1.0 + 0.3 * np.sin(2 * np.pi * 1.3 * t)[:, None] + np.array([1.8, 0.0, 0.0])
    q = q_target - 0.02 * np.cos(2 * np.pi * 1.3 * t)[:, None]
    qd = np.gradient(q, t, axis=0)
    kp, kd = np.full((n, 3), 25.0), np.full((n, 3), 0.5)
    tau = kp * (q_target - q) - kd * qd + rng.normal(0, 0.01, (n, 3))
    info = {"backend": "sim", "actuator": "base_legs: DCMotorCfg", "stop_reason": "completed"}
    return ExcitationRecord(JOINTS, t, q, qd, tau, q_target, kp, kd, np.zeros((n, 3)), np.zeros(n, int), info)


def test_the_written_log_reads_back_through_its_column_map_as_per_joint_runs(tmp_path):
    rec = _record()
    folder = write_session(rec, tmp_path / "sessions", {"excitation": {"seed": 0}}, stamp="20260101-000000")
    assert folder.name == "go2_sim_20260101-000000"
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted([f"{folder.name}.csv", f"{folder.name}.meta.json", COLUMN_MAP_FILE, SESSION_FILE])
    (log,) = read_mapped_folder(folder, folder / COLUMN_MAP_FILE)
    assert log.joint_names == JOINTS
    np.testing.assert_allclose(log.t, rec.t, atol=1e-9)
    for name in ("q", "qd", "q_target", "tau"):
        np.testing.assert_allclose(getattr(log, name), getattr(rec, name), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(log.channels["tau_cmd"], rec.tau_pd, rtol=1e-8, atol=1e-9)
    for name in ("kp", "kd", "tau_ff"):  # the whole command, for the trainers and baselines
        np.testing.assert_allclose(log.channels[name], getattr(rec, name), rtol=1e-8, atol=1e-9)
    runs = split_joints([log])
    assert [r.name for r in runs] == [f"{folder.name}/{j}" for j in JOINTS]
    for run in runs:
        joint = run.meta["joint"]
        assert run.meta["kp"] == 25.0 and run.meta["kd"] == 0.5
        assert run.meta["group"] == joint[:2] and run.meta["part"] == joint.split("_")[1]
        assert run.meta["robot"] == "unitree_go2" and run.meta["backend"] == "sim"
    session = json.loads((folder / SESSION_FILE).read_text())
    assert session["record"]["rows"] == 400 and session["record"]["stop_reason"] == "completed"
    assert session["excitation"] == {"seed": 0}


def test_a_robot_session_log_with_jittery_time_stamps_reads_back_resampled(tmp_path):
    robot = FakeGo2()
    rec = run_robot_excitation(
        _plan(), RobotBackendCfg(approach_s=0.2, damping_s=0.01), robot, robot.clock, robot.sleep
    )
    rng = np.random.default_rng(1)
    rec.t = rec.t + rng.choice([0.0, 0.0009], size=len(rec.t), p=[0.85, 0.15])  # late cycles
    folder = write_session(rec, tmp_path, {}, resample_hz=500.0)
    side = json.loads((folder / f"{folder.name}.meta.json").read_text())
    assert side["resample_hz"] == 500.0
    (log,) = read_mapped_folder(folder, folder / COLUMN_MAP_FILE)
    np.testing.assert_allclose(np.diff(log.t), 0.002, rtol=1e-9)
    assert log.meta["cleaning"] and log.joint_names == rec.joint_names


def test_sessions_never_overwrite_each_other(tmp_path):
    first = write_session(_record(), tmp_path, {}, stamp="20260101-000000")
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    second = write_session(_record(300), tmp_path, {}, stamp="20260101-000000")
    assert second.name == "go2_sim_20260101-000000-2" and second != first
    assert {p.name: p.read_bytes() for p in first.iterdir()} == before


def test_a_failed_write_leaves_no_half_written_session(tmp_path, monkeypatch):
    calls = []

    def full_disk(fd):
        calls.append(fd)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic_io.os, "fsync", full_disk)
    with pytest.raises(DiskFullError, match="disk is full"):
        write_session(_record(), tmp_path, {}, stamp="20260101-000000")
    assert calls and list(tmp_path.iterdir()) == []


def test_an_empty_or_non_finite_record_is_refused_and_nothing_is_written(tmp_path):
    rec = _record()
    rec.q[10, 1] = np.nan
    with pytest.raises(UserInputError, match="non-finite"):
        write_session(rec, tmp_path, {})
    full = _record()
    one = ExcitationRecord(
        JOINTS, *(getattr(full, f)[:1] for f in ("t", "q", "qd", "tau", "q_target", "kp", "kd", "tau_ff", "segment"))
    )
    with pytest.raises(UserInputError, match="logged 1 row"):
        write_session(one, tmp_path, {})
    assert list(tmp_path.iterdir()) == []


def test_the_column_map_names_every_column_of_each_joint():
    cmap = column_map_for(["FL_calf_joint"])
    assert cmap["position"]["column"] == ["q_FL_calf_joint"] and cmap["torque"]["column"] == ["tau_est_FL_calf_joint"]
    assert cmap["channels"]["kp"]["column"] == ["kp_FL_calf_joint"] and cmap["time"] == {"column": "t", "unit": "s"}
