import io
import json
import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from learned_actuators.config import shipped_file
from learned_actuators.data import LogFormatError, load_column_map, read_mapped_folder, read_mapped_log
from learned_actuators.data.column_map import available_column_maps
from learned_actuators.data.synthetic import simulate_reference_actuator
from learned_actuators.physics import PhysicsParams, physical_torque

pytestmark = pytest.mark.unit

REF = PhysicsParams(kp=4.0, kd=0.08, stall_torque=0.8, no_load_speed=10.0)
CSV_MAP = {
    "name": "test_csv",
    "format": "csv",
    "time": {"column": "t_ms", "unit": "ms"},
    "position": {"column": "pos", "unit": "deg"},
    "target": {"column": "cmd", "unit": "deg"},
    "velocity": {"column": "vel", "unit": "deg/s"},
    "torque": {"column": "cur", "unit": "A", "scale": 0.5},
}


def _pendulum(duration=2.0):
    t = np.arange(round(duration / 0.005)) * 0.005
    cmd = 0.8 * np.sin(2 * np.pi * (0.5 * t + 0.3 * t**2))  # smooth: the 15 Hz label filter keeps its content
    return simulate_reference_actuator(
        REF, inertia=0.007, mass=0.49, length=0.1, duration=duration, dt=0.005, command=cmd
    )


def _csv(tmp_path, log, name="run.csv"):
    df = pd.DataFrame(
        {
            "t_ms": log.t * 1e3,
            "pos": np.rad2deg(log.q[:, 0]),
            "cmd": np.rad2deg(log.q_target[:, 0]),
            "vel": np.rad2deg(log.qd[:, 0]),
            "cur": log.tau[:, 0] / 0.5,
        }
    )
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def test_reference_actuator_matches_shared_physics():
    q, qd, qt = np.array([0.1, -0.3, 0.0]), np.array([2.0, -9.0, 12.0]), np.array([0.5, 0.2, -0.1])
    from learned_actuators.data.synthetic import _reference_torque

    ref = physical_torque(
        torch.tensor(q),
        torch.tensor(qd),
        torch.tensor(qt),
        REF.kp,
        REF.kd,
        stall_torque=REF.stall_torque,
        no_load_speed=REF.no_load_speed,
    ).numpy()
    np.testing.assert_allclose([_reference_torque(*a, REF) for a in zip(q, qd, qt, strict=True)], ref)


def test_csv_units_and_scale(tmp_path):
    log = _pendulum()
    out = read_mapped_log(_csv(tmp_path, log), CSV_MAP)
    np.testing.assert_allclose(out.q, log.q, atol=1e-9)
    np.testing.assert_allclose(out.qd, log.qd, atol=1e-9)
    np.testing.assert_allclose(out.tau, log.tau, atol=1e-9)
    np.testing.assert_allclose(out.t, log.t, atol=1e-9)


def test_the_whole_command_reads_as_channels_in_si_units(tmp_path):
    log = _pendulum()
    path = _csv(tmp_path, log)
    df = pd.read_csv(path)
    df["vt"], df["ff"], df["gain"] = np.rad2deg(np.gradient(log.q_target[:, 0], 0.005)), 0.1, 20.0
    df["current"] = 1000.0 * log.tau[:, 0] / 0.4  # motor current [mA] of a 0.4 N·m/A motor
    df.to_csv(path, index=False)
    channels = {
        "qd_target": {"column": "vt", "unit": "deg/s"},
        "tau_ff": {"column": "ff", "unit": "N·m"},
        "kp": {"column": "gain", "unit": "N·m/rad"},
        "tau_motor": {"column": "current", "unit": "mA", "scale": 0.4},  # the torque constant [N·m/A]
    }
    out = read_mapped_log(path, {**CSV_MAP, "channels": channels})
    np.testing.assert_allclose(out.channels["qd_target"][:, 0], np.gradient(log.q_target[:, 0], 0.005), atol=1e-9)
    assert (out.channels["tau_ff"] == 0.1).all() and out.meta["kp"] == 20.0  # a constant gain column sets meta kp
    np.testing.assert_allclose(out.channels["tau_motor"], log.tau, atol=1e-9)


def test_a_signed_register_read_as_unsigned_is_decoded_or_refused(tmp_path):
    """``signed_bits``: a current logged as raw 16-bit register values (negative ones wrapped to 65535 ...)."""
    log = _pendulum()
    path = _csv(tmp_path, log)
    df = pd.read_csv(path)
    milliamps = np.round(1000.0 * log.tau[:, 0] / 0.4)  # a 0.4 N·m/A motor, 1 mA per count
    assert (milliamps < 0).any() and (milliamps > 0).any()
    df["current"] = np.where(milliamps < 0, milliamps + 65536, milliamps)
    df.to_csv(path, index=False)
    current = {"column": "current", "unit": "mA", "scale": 0.4, "signed_bits": 16}
    out = read_mapped_log(path, {**CSV_MAP, "channels": {"tau_motor": current}})
    np.testing.assert_allclose(out.channels["tau_motor"][:, 0], 0.4e-3 * milliamps, atol=1e-12)
    df.loc[3, "current"] = 70000.0  # not a 16-bit value: the column is not what the map says
    df.to_csv(path, index=False)
    message = r"run.csv: column 'current' \(channel 'tau_motor'\): value 70000 is not an unsigned 16-bit"
    with pytest.raises(LogFormatError, match=message):
        read_mapped_log(path, {**CSV_MAP, "channels": {"tau_motor": current}})
    with pytest.raises(LogFormatError, match="signed_bits 12; expected 8, 16 or 32"):
        read_mapped_log(path, {**CSV_MAP, "channels": {"tau_motor": {**current, "signed_bits": 12}}})


def test_json_records_valid_lag_and_inverse_dynamics(tmp_path):
    log = _pendulum(3.0)
    lag = 4
    speed = np.r_[np.zeros(lag), log.qd[:-lag, 0]]  # logged speed lags the motion by 4 samples
    enabled = np.arange(len(log)) < 400
    entries = [
        {
            "timestamp": float(t),
            "position": float(q),
            "speed": float(s),
            "goal_position": float(g),
            "torque_enable": bool(e),
        }
        for t, q, s, g, e in zip(log.t, log.q[:, 0], speed, log.q_target[:, 0], enabled, strict=True)
    ]
    path = tmp_path / "bam.json"
    path.write_text(
        json.dumps(
            {
                "mass": 0.49,
                "length": 0.1,
                "kp": 100,
                "vin": 7.4,
                "motor": "x",
                "trajectory": "chirp",
                "entries": entries,
            }
        )
    )
    cmap = json.loads(shipped_file("column_maps", "bam_json").read_text())
    cmap["inverse_dynamics"]["armature"] = 0.007 - 0.49 * 0.1**2
    out = read_mapped_log(path, cmap)
    assert out.meta["group"] == "chirp" and out.meta["kp"] == 100
    np.testing.assert_allclose(out.qd[:-lag], log.qd[:-lag], atol=1e-12)
    assert out.valid is not None and not out.valid[-lag:].any()  # no source sample: marked, not dropped
    assert len(out) == len(log)
    np.testing.assert_array_equal(out.valid[:-lag], enabled[:-lag])
    inner = slice(20, 380)  # away from the filter edges and the torque step
    err = out.tau[inner, 0] - log.tau[inner, 0]
    assert np.sqrt(np.mean(err**2)) < 0.1 * log.tau[inner, 0].std()


def test_npz_with_constants_gives_inverse_dynamics(tmp_path):
    log = _pendulum()
    path = tmp_path / "run.npz"
    np.savez(path, t=log.t, q=log.q[:, 0], qt=log.q_target[:, 0], qd=log.qd[:, 0])
    cmap = {
        "name": "npz",
        "format": "npz",
        "time": "t",
        "position": {"column": "q", "unit": "rad"},
        "target": {"column": "qt", "unit": "rad"},
        "velocity": {"column": "qd", "unit": "rad/s"},
        "constants": {"inertia": 0.007, "mass": 0.49, "length": 0.1},
        "inverse_dynamics": {"cutoff_hz": 30.0},
    }
    cmap["time"] = {"column": "t", "unit": "s"}
    out = read_mapped_log(path, cmap)
    inner = slice(20, -20)
    err = out.tau[inner, 0] - log.tau[inner, 0]
    assert np.sqrt(np.mean(err**2)) < 0.1 * log.tau[inner, 0].std()
    without = read_mapped_log(path, {**cmap, "constants": {}})
    assert without.tau is None


def test_wtw_pickle_with_tensors(tmp_path):
    steps = [
        {
            "joint_pos": torch.full((1, 2), 0.1 * i),
            "joint_pos_target": torch.full((1, 2), 0.2 * i),
            "joint_vel": torch.full((1, 2), 1.0),
            "time": 0.02 * i,
            "observation": {"obs": 0},
        }
        for i in range(20)
    ]
    path = tmp_path / "exp" / "log.pkl"
    path.parent.mkdir()
    buf = io.BytesIO()
    pickle.dump(
        {
            "hardware_closed_loop": [
                {"control": {"stiffness": {"joint": 20.0}, "damping": {"joint": 0.5}, "decimation": 4}},
                steps,
            ]
        },
        buf,
    )
    path.write_bytes(buf.getvalue())
    cmap = load_column_map("wtw_go2_pickle")
    cmap.joint_names = ["a", "b"]
    out = read_mapped_folder(tmp_path, cmap)[0]
    assert out.q.shape == (20, 2) and out.meta["kp"] == 20.0 and out.name == "exp"
    np.testing.assert_allclose(out.q_target[:, 1], 0.2 * np.arange(20), atol=1e-6)


def test_sage_folder(tmp_path):
    folder = tmp_path / "chirp"
    folder.mkdir()
    t = np.arange(30) * 20000.0
    lists = lambda a: [json.dumps([float(x), float(-x)]) for x in a]  # noqa: E731
    pd.DataFrame({"type": "CONTROL", "timestamp": t, "positions": lists(np.arange(30) * 0.01)}).to_csv(
        folder / "control.csv", index=False
    )
    pd.DataFrame(
        {
            "type": "STATE_MOTOR",
            "timestamp": t,
            "positions": lists(np.arange(30) * 0.009),
            "velocities": lists(np.ones(30) * 0.45),
            "torques": lists(np.ones(30)),
        }
    ).to_csv(folder / "state_motor.csv", index=False)
    (folder / "joint_list.txt").write_text("A\nB\n")
    out = read_mapped_folder(tmp_path, "so101_sage")[0]
    assert out.joint_names == ["A", "B"] and out.meta["group"] == "chirp"
    np.testing.assert_allclose(out.q_target[:, 1], -np.arange(30) * 0.01)
    assert out.dt == pytest.approx(0.02)


def test_shipped_maps_load():
    assert {"bam_json", "so101_sage", "wtw_go2_pickle"} <= set(available_column_maps())
    for name in available_column_maps():
        assert load_column_map(name).name == name


def test_map_not_matching_file(tmp_path):
    path = _csv(tmp_path, _pendulum(0.5))
    with pytest.raises(LogFormatError, match="expects column 'position_deg' for position") as err:
        read_mapped_log(path, {**CSV_MAP, "position": {"column": "position_deg", "unit": "deg"}})
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("cmap", "message"),
    [
        ({**CSV_MAP, "colour": 1}, "unknown keys \\['colour'\\]"),
        ({**CSV_MAP, "format": "xlsx"}, "format 'xlsx'"),
        ({k: v for k, v in CSV_MAP.items() if k != "target"}, "lacks required key 'target'"),
        ({**CSV_MAP, "position": {"column": "pos", "unit": "furlong"}}, "unit 'furlong'"),
        ({**CSV_MAP, "channels": {"current": "cur"}}, "'channels' must map names"),
    ],
)
def test_bad_column_maps(cmap, message):
    with pytest.raises(LogFormatError, match=message):
        load_column_map(cmap)


def test_map_without_time_or_rate_is_refused_when_reading(tmp_path):
    path = _csv(tmp_path, _pendulum(0.5))
    with pytest.raises(LogFormatError, match="no 'time' column and no 'rate_hz'") as err:
        read_mapped_log(path, {**CSV_MAP, "time": None})
    assert str(path) in str(err.value) and "run.meta.json" in str(err.value)  # where a side file would be


def test_unknown_map_name():
    with pytest.raises(LogFormatError, match="neither a file nor a shipped map"):
        load_column_map("no_such_map")


def test_degrees_declared_as_radians_is_an_error_unless_accepted(tmp_path):
    path = _csv(tmp_path, _pendulum(1.0))
    df = pd.read_csv(path)
    df["pos"] = df["pos"] * 5 + 100  # degrees with a big swing
    df.to_csv(path, index=False)
    cmap = {**CSV_MAP, "position": {"column": "pos", "unit": "rad"}}
    with pytest.raises(LogFormatError, match=r"'pos' reaches .* at row \d+.*data.accept=\['degrees_as_radians'\]"):
        read_mapped_log(path, cmap)
    log = read_mapped_log(path, cmap, accept=["degrees_as_radians", "velocity_unit", "target_unit"])
    assert log.q.max() > 100


def test_non_numeric_cell_and_empty_folder(tmp_path):
    path = _csv(tmp_path, _pendulum(0.5))
    df = pd.read_csv(path).astype(object)
    df.loc[4, "vel"] = "n/a"
    df.to_csv(path, index=False)
    with pytest.raises(LogFormatError, match="'vel' has a non-numeric value 'n/a' at row 4"):
        read_mapped_log(path, CSV_MAP)
    (tmp_path / "empty").mkdir()
    with pytest.raises(LogFormatError, match="no runs match"):
        read_mapped_folder(tmp_path / "empty", {**CSV_MAP, "file_glob": "*.csv"})
