"""Cleaning in the column map: glitch removal, uniform resampling, their record, side files, numeric groups."""

import json

import numpy as np
import pandas as pd
import pytest

from learned_actuators.data.cleaning import cleaning_record, remove_glitches, resample_uniform
from learned_actuators.data.column_map import read_mapped_folder, read_mapped_log
from learned_actuators.data.joint_log import LogFormatError
from learned_actuators.learning.data_cfg import DataCfg
from learned_actuators.learning.data_loading import load_data, splits_of

pytestmark = pytest.mark.unit

MAP = {
    "name": "irregular",
    "format": "csv",
    "time": {"column": "t", "unit": "s"},
    "position": "q",
    "target": "q_cmd",
    "velocity": "qd",
    "valid": "on",
}


def _irregular_csv(path, seed=0, n=400, glitch_rows=(50, 200), gap_at=None):
    """A 1 Hz sine sampled at 9-15 ms (irregular), optional 60 ms gap, one-sample glitches to -pi."""
    rng = np.random.default_rng(seed)
    dt = rng.choice([0.009, 0.010, 0.011, 0.015], size=n - 1, p=[0.3, 0.3, 0.2, 0.2])
    if gap_at is not None:
        dt[gap_at] = 0.06
    t = np.concatenate([[0.0], np.cumsum(dt)])
    q = 0.5 * np.sin(2 * np.pi * t)
    clean = q.copy()
    for r in glitch_rows:
        q[r] = -np.pi
    qd = np.pi * np.cos(2 * np.pi * t)
    on = np.ones(n, dtype=int)
    on[-20:] = 0
    pd.DataFrame({"t": t, "q": q, "q_cmd": clean, "qd": qd, "on": on}).to_csv(path, index=False)
    return t, clean


def test_glitch_rule_replaces_one_sample_spikes_only():
    t = np.arange(10) * 0.01
    x = np.zeros(10)
    x[3] = -np.pi  # one-sample glitch: back next sample
    x[6:8] = 2.0  # two-sample excursion: not a glitch by the rule
    out, count = remove_glitches(t, x, 0.5)
    assert count == 1
    assert out[3] == 0.0
    np.testing.assert_array_equal(out[6:8], [2.0, 2.0])
    _, none = remove_glitches(t, np.sin(t), 0.5)
    assert none == 0


def test_resampling_is_uniform_linear_and_marks_gaps_invalid():
    t = np.array([0.0, 0.01, 0.02, 0.1, 0.11, 0.12])
    x = 2.0 * t
    valid = np.ones(6, dtype=bool)
    tn, sig, ok, info = resample_uniform(t, {"x": x, "none": None}, valid, 100.0, None, "f.csv")
    np.testing.assert_allclose(np.diff(tn), 0.01)
    np.testing.assert_allclose(sig["x"], 2.0 * tn)  # linear data stays exact
    assert sig["none"] is None
    assert info["frames_in_gaps"] == 7 and not ok[3:10].any() and ok[:3].all() and ok[10:].all()
    with pytest.raises(LogFormatError, match="resample_hz"):
        resample_uniform(t, {"x": x}, valid, 5000.0, None, "f.csv")


def test_column_map_cleaning_loads_an_irregular_glitchy_log(tmp_path):
    t, clean = _irregular_csv(tmp_path / "run.csv")
    with pytest.raises(LogFormatError, match='set "resample_hz"'):
        read_mapped_log(tmp_path / "run.csv", MAP)
    log = read_mapped_log(tmp_path / "run.csv", {**MAP, "resample_hz": 100, "glitches": {"position": 0.5}})
    np.testing.assert_allclose(np.diff(log.t), 0.01)
    assert log.meta["cleaning"]["glitches_replaced"] == {"position": 2}
    assert log.meta["cleaning"]["resample_hz"] == 100.0
    np.testing.assert_allclose(log.q[:, 0], np.interp(log.t, t, clean), atol=1e-3)  # glitches gone
    assert log.valid is not None and not log.valid[-15:].any()  # torque-off tail stays invalid
    assert cleaning_record([log]) == {log.name: log.meta["cleaning"]}


def test_side_file_sets_cleaning_per_log(tmp_path):
    _irregular_csv(tmp_path / "a.csv", gap_at=100)
    (tmp_path / "a.meta.json").write_text(json.dumps({"resample_hz": 100, "resample_max_gap_s": 0.03}))
    log = read_mapped_log(tmp_path / "a.csv", MAP)
    assert log.meta["cleaning"]["frames_in_gaps"] >= 4
    (tmp_path / "a.meta.json").write_text(json.dumps({"glitches": {"speed": 1}}))
    with pytest.raises(LogFormatError, match=r"glitches\.speed"):
        read_mapped_log(tmp_path / "a.csv", MAP)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"resample_hz": -5}, "resample_hz"),
        ({"glitches": {"position": 0}}, "glitches.position"),
        ({"resample_max_gap_s": 0.1}, "only with 'resample_hz'"),
        ({"glitches": 0.5}, "field 'glitches'"),
    ],
)
def test_bad_cleaning_keys_name_the_field(tmp_path, bad, match):
    _irregular_csv(tmp_path / "run.csv")
    with pytest.raises(LogFormatError, match=match):
        read_mapped_log(tmp_path / "run.csv", {**MAP, **bad})


def test_group_by_numeric_metadata(tmp_path):
    for i, mass in enumerate([0.5, 0.5, 1.25]):
        _irregular_csv(tmp_path / f"r{i}.csv", seed=i)
        (tmp_path / f"r{i}.meta.json").write_text(json.dumps({"constants": {"mass": mass}}))
    cmap = tmp_path / "map.json"
    cmap.write_text(json.dumps({**MAP, "file_glob": "*.csv", "resample_hz": 100, "glitches": {"position": 0.5}}))
    assert len(read_mapped_folder(tmp_path, cmap)) == 3
    cfg = DataCfg(reader="column_map", path=str(tmp_path), column_map=str(cmap), group_key="mass")
    logs = load_data(cfg)
    folds = dict(splits_of(logs, cfg))
    assert sorted(folds) == ["0.5", "1.25"]
    assert [g.meta["mass"] for g in folds["1.25"].test] == [1.25]
    cfg.test_groups = ["1.25"]
    assert [n for n, _ in splits_of(logs, cfg)] == ["1.25"]
