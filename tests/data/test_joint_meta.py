"""Multi-joint logs with per-joint gains and a metadata side file; the declared-rate check (issue 17 items 2, 6)."""

import json

import numpy as np
import pytest

from learned_actuators.data import LogFormatError, read_mapped_folder, read_mapped_log
from learned_actuators.data.checks import ImplausibleDataError
from learned_actuators.learning.data_cfg import DataCfg
from learned_actuators.learning.data_loading import load_data
from learned_actuators.learning.features import run_physics
from learned_actuators.learning.models_cfg import PhysicsCfg
from tests.data.ankle_log import ANKLE_MAP, JOINTS, KD, KP, ankle_frame, write_ankle_log

pytestmark = pytest.mark.unit


def _load(csv, map_path, **kw):
    return load_data(DataCfg(reader="column_map", path=str(csv.parent), column_map=str(map_path), **kw))


def test_four_joint_csv_without_time_column_gives_four_runs_with_their_gains(tmp_path):
    csv, map_path = write_ankle_log(tmp_path, duration=5.0)
    logs = _load(csv, map_path)
    assert [g.meta["joint"] for g in logs] == JOINTS  # the side file is not read as a run
    assert [g.meta["kp"] for g in logs] == KP and all(g.meta["kd"] == KD for g in logs)
    assert [run_physics(g, PhysicsCfg()).kp for g in logs] == KP  # what the GRU-PD trainer uses per run
    df = ankle_frame(5.0)
    for j, g in enumerate(logs):
        assert g.joint_names == [JOINTS[j]] and "joints" not in g.meta
        np.testing.assert_allclose(np.diff(g.t), 0.01, atol=1e-12)  # rate_hz of the side file
        np.testing.assert_array_equal(g.q[:, 0], df[f"pos_{j}"])
        np.testing.assert_array_equal(g.tau[:, 0], df[f"tau_est_{j}"])
        pd_torque = KP[j] * (g.q_target - g.q) - KD * g.qd
        np.testing.assert_allclose(g.channels["tau_cmd"], pd_torque, atol=1e-9)  # the logged PD torque, per joint


def test_headerless_csv_and_gains_keyed_by_joint_in_the_map(tmp_path):
    cmap = {
        **ANKLE_MAP,
        "joint_names": JOINTS,
        "rate_hz": 100,
        "joint_constants": {"kp": dict(zip(JOINTS, KP, strict=True))},
    }
    csv, map_path = write_ankle_log(
        tmp_path, duration=5.0, header=False, side={"joint_constants": {"kd": KD}}, cmap=cmap
    )
    log = read_mapped_log(csv, map_path)
    assert log.num_joints == 4 and log.meta["kd"] == KD
    assert {n: v["kp"] for n, v in log.meta["joints"].items()} == dict(zip(JOINTS, KP, strict=True))
    np.testing.assert_array_equal(log.q[:, 2], ankle_frame(5.0)["pos_2"])


def test_a_constant_gain_column_sets_the_joint_gain(tmp_path):
    df = ankle_frame(2.0)
    for j, kp in enumerate(KP):
        df[f"kp_{j}"] = kp
    cmap = {**ANKLE_MAP, "rate_hz": 100, "channels": {"kp": {"column": [f"kp_{j}" for j in range(4)]}}}
    (tmp_path / "a.csv").write_text(df.to_csv(index=False))
    log = read_mapped_log(tmp_path / "a.csv", cmap)
    np.testing.assert_array_equal(log.channels["kp"][0], KP)
    assert [log.meta["joints"][f"joint_{j}"]["kp"] for j in range(4)] == KP


@pytest.mark.parametrize(
    ("side", "cmap_change", "where", "message"),
    [
        ({"rate_hz": 100, "joint_constants": {"kp": [35, 30, 25]}}, {}, "side", r"'joint_constants.kp' has 3 values"),
        (
            {"rate_hz": 100, "joint_names": JOINTS, "joint_constants": {"kp": {"l_ankle_pitch": 35}}},
            {},
            "side",
            r"'joint_constants.kp' is keyed by joint name; missing \['l_ankle_roll'",
        ),
        ({"rate_hz": 100, "joint_constants": {"kp": [35, 30, 25, "x"]}}, {}, "side", "for joint 'joint_3' is 'x'"),
        ({"rate_hz": 100, "gains": [1]}, {}, "side", r"unknown keys \['gains'\]"),
        ({"rate_hz": -5}, {}, "side", "field 'rate_hz' is -5"),
        ({}, {}, "side", "no 'time' column and no 'rate_hz'"),
        ({"rate_hz": 100}, {"joint_constants": {"kd": [2, 2]}}, "map", r"'joint_constants.kd' has 2 values"),
        ({"rate_hz": 100}, {"channels": {"tau_command": "x"}}, "map", "'channels' must map names"),
    ],
)
def test_bad_per_joint_metadata_names_the_file_and_field(tmp_path, side, cmap_change, where, message):
    csv, map_path = write_ankle_log(tmp_path, duration=2.0, side=side, cmap={**ANKLE_MAP, **cmap_change})
    with pytest.raises(LogFormatError, match=message) as err:
        read_mapped_folder(csv.parent, map_path)
    named = csv.parent / "ankles.meta.json" if where == "side" else map_path
    assert str(named) in str(err.value)


def test_headerless_csv_with_wrong_column_count(tmp_path):
    csv, map_path = write_ankle_log(tmp_path, duration=2.0, header=False)
    cmap = json.loads(map_path.read_text())
    cmap["csv_columns"] = cmap["csv_columns"][:-1]
    with pytest.raises(LogFormatError, match="has 20 columns per row; the column map's 'csv_columns' names 19") as err:
        read_mapped_log(csv, cmap)
    assert str(csv) in str(err.value)


@pytest.mark.parametrize(("declared", "looks"), [(50, "100"), (200, "100"), (25, "100")])
def test_a_declared_rate_off_by_a_factor_is_refused(tmp_path, declared, looks):
    csv, map_path = write_ankle_log(tmp_path, duration=5.0, declared_rate=declared)
    with pytest.raises(ImplausibleDataError, match=f"looks sampled at about {looks}") as err:
        _load(csv, map_path)
    text = str(err.value)
    assert err.value.check == "declared_rate" and str(csv) in text and "'vel_0'" in text and "ankles.meta.json" in text
    assert f"{100 / declared:.3g}x as far" in text and "data.accept=['declared_rate']" in text
    assert len(_load(csv, map_path, accept=["declared_rate"])) == 4  # waivable


def test_the_right_rate_passes_with_a_noisy_lagging_velocity(tmp_path):
    df = ankle_frame(5.0)
    rng = np.random.default_rng(0)
    for j in range(4):
        vel = df[f"vel_{j}"].to_numpy()
        lagged = np.r_[np.repeat(vel[0], 3), vel[:-3]]  # 30 ms late
        df[f"vel_{j}"] = lagged + rng.normal(0.0, 0.3 * vel.std(), len(vel))
    (tmp_path / "b.csv").write_text(df.to_csv(index=False))
    log = read_mapped_log(tmp_path / "b.csv", {**ANKLE_MAP, "rate_hz": 100})
    assert log.num_joints == 4
    with pytest.raises(ImplausibleDataError, match="declared_rate"):
        read_mapped_log(tmp_path / "b.csv", {**ANKLE_MAP, "rate_hz": 50})
