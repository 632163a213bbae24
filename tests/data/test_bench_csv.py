import json

import numpy as np
import pandas as pd
import pytest

from learned_actuators.data import BenchCsvCfg, LogFormatError, read_bench_csv, read_bench_folder
from learned_actuators.data.synthetic import simulate_reference_actuator, write_bench_csv
from learned_actuators.physics import PhysicsParams

pytestmark = pytest.mark.unit

REF = PhysicsParams(kp=3.0, kd=0.05, stall_torque=1.2, no_load_speed=12.0)
INERTIAS = {"light": 0.004, "medium": 0.01, "heavy": 0.03}


@pytest.fixture
def bench(tmp_path):
    refs = {}
    for group, inertia in INERTIAS.items():
        log = simulate_reference_actuator(REF, inertia, duration=2.0, dt=0.002, coulomb=0.02, name=group)
        write_bench_csv(log, tmp_path / group / "run1.csv", radius=0.05)
        refs[group] = log
    return tmp_path, refs


def test_bench_folder_recovers_reference_torque_at_every_inertia(bench):
    root, refs = bench
    cfg = BenchCsvCfg(group_inertia=INERTIAS, radius=0.05, filter_cutoff_hz=None)
    logs = read_bench_folder(root, cfg)
    assert sorted(log.meta["group"] for log in logs) == sorted(INERTIAS)
    for log in logs:
        ref = refs[log.meta["group"]]
        np.testing.assert_allclose(log.tau[:, 0], ref.tau[:, 0], atol=1e-6 * np.abs(ref.tau).max() + 1e-9)
        np.testing.assert_allclose(log.q, ref.q, atol=1e-9)
        np.testing.assert_allclose(log.qd, ref.qd, atol=1e-9)
        assert log.meta["inertia"] == INERTIAS[log.meta["group"]]


def test_filtered_torque_stays_close_to_reference(bench):
    root, refs = bench
    logs = read_bench_folder(root, BenchCsvCfg(group_inertia=INERTIAS, radius=0.05, filter_cutoff_hz=40.0))
    for log in logs:
        ref = refs[log.meta["group"]].tau[:, 0]
        rel = np.sqrt(np.mean((log.tau[:, 0] - ref) ** 2)) / ref.std()
        assert rel < 0.15
        assert not np.allclose(log.tau[:, 0], ref)  # the filter did something


def test_wrong_radius_changes_torque(bench):
    root, refs = bench
    logs = read_bench_folder(root, BenchCsvCfg(group_inertia=INERTIAS, radius=0.1, filter_cutoff_hz=None))
    ref = refs[logs[0].meta["group"]].tau[:, 0]
    np.testing.assert_allclose(logs[0].tau[:, 0], ref / 2, rtol=1e-6, atol=1e-9)


def test_group_json_gives_inertia(bench):
    root, _ = bench
    (root / "light" / "group.json").write_text(json.dumps({"inertia": 0.008}))
    logs = read_bench_folder(root, BenchCsvCfg(group_inertia={"medium": 0.01, "heavy": 0.03}))
    assert [log.meta["inertia"] for log in logs if log.meta["group"] == "light"] == [0.008]


def test_missing_inertia_is_an_error(bench):
    root, _ = bench
    with pytest.raises(LogFormatError, match="no inertia for group 'heavy'"):
        read_bench_folder(root, BenchCsvCfg(group_inertia={"light": 1.0, "medium": 1.0}))


def test_missing_folder_and_empty_group(tmp_path):
    with pytest.raises(LogFormatError, match="folder not found"):
        read_bench_folder(tmp_path / "nope")
    (tmp_path / "empty_group").mkdir()
    with pytest.raises(LogFormatError, match="'empty_group' is empty"):
        read_bench_folder(tmp_path)


def _csv(tmp_path, **changes):
    log = simulate_reference_actuator(REF, 0.01, duration=0.5, dt=0.002)
    path = write_bench_csv(log, tmp_path / "run.csv")
    df = pd.read_csv(path)
    for fn in changes.values():
        df = fn(df)
    df.to_csv(path, index=False)
    return path


def _set(col, row, value):
    def fn(df):
        df[col] = df[col].astype(object)
        df.loc[row, col] = value
        return df

    return fn


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda df: df.drop(columns=["Gyro_Z"]), "missing column 'Gyro_Z'"),
        (lambda df: df.rename(columns={"Encoder_Angle": "Encoder"}), "missing column 'Encoder_Angle'"),
        (_set("Acc_Y", 7, "abc"), "'Acc_Y' has a non-numeric value 'abc' at row 7"),
        (_set("Commanded_Angle", 3, "nan"), "'Commanded_Angle' has 1 NaN/inf"),
        (_set("Commanded_Angle", 3, ""), "'Commanded_Angle' has an empty cell at row 3"),
        (_set("Gyro_Z", 3, np.inf), "'Gyro_Z' has 1 NaN/inf"),
        (_set("Time_ms", 5, 0.0), "not monotonic at row 5"),
        (
            lambda df: df.assign(Time_ms=np.r_[df.Time_ms[:6], df.Time_ms[5], df.Time_ms[7:]]),
            "duplicated time stamp at row 6",
        ),
        (
            lambda df: df.assign(Time_ms=np.r_[np.arange(120) * 2.0, 240 + np.arange(len(df) - 120) * 5.0]),
            "mixes sampling rates",
        ),
        (lambda df: df.iloc[:5], "run has 5 samples"),
        (lambda df: df.drop(columns=["Time_ms"]), "missing column 'Time_ms' and no fallback"),
    ],
)
def test_bad_bench_csv(tmp_path, change, message):
    path = _csv(tmp_path, change=change)
    with pytest.raises(LogFormatError, match=message) as err:
        read_bench_csv(path, 0.01)
    assert str(path) in str(err.value)


def test_fallback_rate_when_time_missing(tmp_path):
    path = _csv(tmp_path, change=lambda df: df.drop(columns=["Time_ms"]))
    with pytest.warns(UserWarning, match="fallback rate 500"):
        log = read_bench_csv(path, 0.01, BenchCsvCfg(fallback_rate_hz=500.0))
    assert log.dt == pytest.approx(0.002)


def test_implausible_angle_is_an_error_unless_accepted(tmp_path):
    path = _csv(tmp_path, change=lambda df: df.assign(Encoder_Angle=np.rad2deg(df.Encoder_Angle) * 3))
    with pytest.raises(LogFormatError, match=r"'Encoder_Angle' reaches .* data.accept=\['degrees_as_radians'\]"):
        read_bench_csv(path, 0.01)
    log = read_bench_csv(path, 0.01, accept=["degrees_as_radians", "velocity_unit"])
    assert np.ptp(log.q) > 4 * np.pi


def test_missing_file(tmp_path):
    with pytest.raises(LogFormatError, match="file not found"):
        read_bench_csv(tmp_path / "x.csv", 0.01)
