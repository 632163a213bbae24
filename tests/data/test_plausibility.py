"""Plausibility checks of the readers: real logs pass, each implausible case fails naming its waiver, waivers work."""

import json

import numpy as np
import pandas as pd
import pytest

from learned_actuators.data import (
    PLAUSIBILITY_CHECKS,
    ImplausibleDataError,
    check_rates_consistent,
    load_demo_logs,
    read_mapped_folder,
    read_mapped_log,
)
from learned_actuators.data.checks import check_velocity_scale, validate_accept
from learned_actuators.data.run_files import read_run_files
from learned_actuators.data.torque_profile import read_torque_profile
from learned_actuators.errors import UserInputError
from learned_actuators.learning.data_cfg import DataCfg
from learned_actuators.learning.data_loading import load_data
from learned_actuators.recording import save_npz, validate_profile, write_csv

pytestmark = pytest.mark.unit

DEG = 180.0 / np.pi
CSV_MAP = {
    "name": "test_csv",
    "format": "csv",
    "time": {"column": "t_ms", "unit": "ms"},
    "position": {"column": "pos", "unit": "rad"},
    "target": {"column": "cmd", "unit": "rad"},
    "velocity": {"column": "vel", "unit": "rad/s"},
    "torque": {"column": "tau", "unit": "N·m"},
}


def _frame(rate=200.0, n=400, lag_s=0.0):
    t = np.arange(n) / rate
    w1, w2 = 2 * np.pi, 2 * np.pi * 2.3
    q = 0.15 * np.sin(w1 * t) + 0.05 * np.sin(w2 * t)
    tl = t - lag_s
    qd = 0.15 * w1 * np.cos(w1 * tl) + 0.05 * w2 * np.cos(w2 * tl)
    qt = 0.18 * np.sin(w1 * (t + 0.03)) + 0.06 * np.sin(w2 * (t + 0.03))
    return pd.DataFrame({"t_ms": t * 1e3, "pos": q, "cmd": qt, "vel": qd, "tau": 0.4 * (qt - q)})


def test_check_names_are_defined_once_and_every_error_names_its_waiver():
    assert set(PLAUSIBILITY_CHECKS) == {
        "outlier",
        "degrees_as_radians",
        "velocity_unit",
        "target_unit",
        "time_unit",
        "rate_mismatch",
        "declared_rate",
    }
    for name in PLAUSIBILITY_CHECKS:
        assert f"data.accept=['{name}']" in str(ImplausibleDataError(name, "x: bad."))
    with pytest.raises(UserInputError, match=r"data.accept: unknown plausibility check\(s\) \['outliers'\]"):
        validate_accept(["outliers"])
    assert validate_accept("outlier") == {"outlier"}


def test_demo_logs_pass_every_check_without_waivers():
    logs = load_demo_logs()
    assert len(logs) == 16
    check_rates_consistent(logs)
    assert len(load_data(DataCfg())) == 16


@pytest.mark.parametrize(
    ("change", "map_change", "check", "names"),
    [
        (lambda df: df.assign(pos=df.pos * DEG), {}, "degrees_as_radians", ["'pos'", "at row"]),
        (lambda df: df.assign(vel=df.vel * DEG), {}, "velocity_unit", ["'vel'", "'pos'", "row"]),
        (None, {"velocity": {"column": "vel", "unit": "deg/s"}}, "velocity_unit", ["'vel'", "declared deg/s"]),
        (None, {"position": {"column": "pos", "unit": "deg"}}, "velocity_unit", ["'vel'", "declared deg)"]),
        (None, {"target": {"column": "cmd", "unit": "deg"}}, "target_unit", ["'cmd'", "'pos'"]),
        (None, {"time": {"column": "t_ms", "unit": "s"}}, "time_unit", ["'t_ms'", "declared in s"]),
        (lambda df: df.assign(t_ms=df.t_ms * 1e-3), {}, "time_unit", ["'t_ms'", "coarser unit"]),
        (lambda df: df.assign(tau=np.where(df.index == 250, 1e30, df.tau)), {}, "outlier", ["'tau'", "row 250"]),
        (lambda df: df.assign(t_ms=np.where(df.index == 399, 1e12, df.t_ms)), {}, "outlier", ["'t_ms'", "row 399"]),
    ],
)
def test_implausible_column_map_data_fails_unless_accepted(tmp_path, change, map_change, check, names):
    df = _frame()
    path = tmp_path / "run.csv"
    (change(df) if change else df).to_csv(path, index=False)
    cmap = {**CSV_MAP, **map_change}
    with pytest.raises(ImplausibleDataError) as err:
        read_mapped_log(path, cmap)
    assert err.value.check == check
    for name in [str(path), *names, f"data.accept=['{check}']"]:
        assert name in str(err.value)
    others = [c for c in PLAUSIBILITY_CHECKS if c != check]
    with pytest.raises(ImplausibleDataError, match=check):  # only its own name waives a check
        read_mapped_log(path, cmap, accept=others)
    try:  # waived, the check is quiet (another may still object: degrees also break velocity vs d/dt)
        read_mapped_log(path, cmap, accept=[check])
    except ImplausibleDataError as other:
        assert other.check != check
    assert len(read_mapped_log(path, cmap, accept=list(PLAUSIBILITY_CHECKS))) == len(df)


def test_lagging_velocity_passes_and_is_compared_by_scale(tmp_path):
    df = _frame(lag_s=0.02)  # BAM: the logged speed lags d(position)/dt by 20 ms
    t, q, qd = df.t_ms.to_numpy() * 1e-3, df.pos.to_numpy(), df.vel.to_numpy()
    check_velocity_scale(t, q, qd, "f", "pos", "vel")
    check_velocity_scale(t, q, 2.5 * qd, "f", "pos", "vel")  # a gear ratio or scale error is not a unit error
    for factor in (DEG, 1 / DEG):
        with pytest.raises(ImplausibleDataError, match="velocity_unit"):
            check_velocity_scale(t, q, factor * qd, "f", "pos", "vel")
    rng = np.random.default_rng(0)  # unrelated signals at the degree ratio never trigger the check
    check_velocity_scale(t, rng.normal(size=len(t)), rng.normal(size=len(t)) * 0.03, "f", "pos", "vel")


def test_rates_consistent_between_train_and_test(tmp_path):
    for name, rate in (("a", 200.0), ("b", 200.0), ("c", 100.0)):
        _frame(rate).to_csv(tmp_path / f"{name}.csv", index=False)
    logs = read_mapped_folder(tmp_path, {**CSV_MAP, "file_glob": "*.csv"})
    check_rates_consistent(logs[:1], logs[1:2])
    with pytest.raises(ImplausibleDataError, match=r"c\.csv: run 'c' is sampled at 100 Hz.*200 Hz") as err:
        check_rates_consistent(logs[:2], logs[2:])
    assert "data.accept=['rate_mismatch']" in str(err.value)
    check_rates_consistent(logs[:2], logs[2:], accept=["rate_mismatch"])
    cfg = {"reader": "column_map", "path": str(tmp_path), "column_map": {**CSV_MAP, "file_glob": "*.csv"}}
    with pytest.raises(ImplausibleDataError, match="rate_mismatch"):
        load_data(DataCfg(**cfg))
    assert len(load_data(DataCfg(**cfg, accept=["rate_mismatch"]))) == 3


def _profile(fps=50.0, frames=200):
    t = np.arange(frames) / fps
    q = np.stack([0.3 * np.sin(2 * np.pi * t), 0.2 * np.cos(2 * np.pi * t)], axis=1)
    qd = np.stack([0.6 * np.pi * np.cos(2 * np.pi * t), -0.4 * np.pi * np.sin(2 * np.pi * t)], axis=1)
    quat = np.zeros((frames, 1, 4))
    quat[..., 0] = 1.0
    zeros = np.zeros((frames, 1, 3))
    arrays = {
        "fps": np.array(fps),
        "dof_names": np.array(["hip", "knee"]),
        "body_names": np.array(["base"]),
        "joint_torques": -5.0 * q,
        "dof_positions": q,
        "dof_velocities": qd,
        "dof_position_targets": 1.1 * q,
        "body_positions": zeros,
        "body_rotations": quat,
        "body_linear_velocities": zeros,
        "body_angular_velocities": zeros,
    }
    return validate_profile(arrays, "test")


def test_torque_profiles_found_in_the_play_policy_layout_npz_or_csv(tmp_path):
    root = tmp_path / "torque_profiles" / "go2_flat"
    for run in ("run_a_model_10", "run_b_model_20"):
        save_npz(_profile(), root / run / "env_0000.npz")
    write_csv(_profile(), root / "run_a_model_10" / "env_0000.csv")  # a converted copy: not read twice
    write_csv(_profile(), root / "run_c_model_30" / "env_0000.csv")
    logs = read_run_files(tmp_path, ("*.npz", "*.csv"), read_torque_profile)
    assert [log.name for log in logs] == [
        f"torque_profiles/go2_flat/{run}/env_0000" for run in ("run_a_model_10", "run_b_model_20", "run_c_model_30")
    ]
    assert [log.meta["format"] for log in logs] == ["torque_profile_npz"] * 2 + ["torque_profile_csv"]
    np.testing.assert_allclose(logs[2].q, logs[0].q, rtol=1e-6)
    data = load_data(DataCfg(reader="torque_profile", path=str(tmp_path)))
    assert len(data) == 6 and len({g.meta["group"] for g in data}) == 3


def test_truncated_npz_is_a_format_error(tmp_path):
    from learned_actuators.data import LogFormatError, read_torque_profile_npz

    path = save_npz(_profile(), tmp_path / "p.npz")
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(LogFormatError, match=r"p\.npz: not a readable NPZ file"):
        read_torque_profile_npz(path)


@pytest.mark.integration
def test_shared_real_logs_pass_without_waivers(shared_data):
    """BAM (processed, 200 Hz) and walk-these-ways Go2 logs load with no waiver (SO-101, 11 s, was checked by hand)."""
    bam = read_mapped_folder(shared_data / "bam" / "xl330_processed_200hz", "bam_json")
    go2 = read_mapped_folder(shared_data / "go2_logs", "wtw_go2_pickle")
    assert len(bam) == 16 and len(go2) == 4
    check_rates_consistent(bam)
    check_rates_consistent(go2)
    assert json.loads(json.dumps(sorted(PLAUSIBILITY_CHECKS)))  # the names are plain strings (config values)
