"""Bad motor logs through ``load_data``: every case exits non-zero, names the file and the column (and the row where
there is one) and changes no input file.

``scripts/train_actuator.py`` is being reworked elsewhere, so the command line here is a tiny local ``main(argv)``
that turns ``key=value`` arguments into a :class:`DataCfg` and calls :func:`load_data`, as the script does. Kinds
(see ``harness.py``) were assigned by running each case against the readers before the fixes of issue 10, item 6.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from learned_actuators.learning.data_cfg import DataCfg
from learned_actuators.learning.data_loading import load_data
from tests.bad_input.harness import assert_refused, assert_unchanged, case, run_main, snapshot

pytestmark = pytest.mark.unit

RATE = 200.0
N = 400


def main(argv: list[str]) -> int:
    """``key=value`` pairs (values parse as JSON when they can) -> ``DataCfg`` -> ``load_data``."""
    kwargs = {}
    for item in argv:
        key, _, text = item.partition("=")
        try:
            kwargs[key] = json.loads(text)
        except json.JSONDecodeError:
            kwargs[key] = text
    logs = load_data(DataCfg(**kwargs))
    print(f"{len(logs)} run(s) loaded")
    return 0


# ------------------------------------------------------------------------------------------------------ signals


def signals(n: int = N, rate: float = RATE) -> dict[str, np.ndarray]:
    """A smooth single-joint run in SI units: t [s], q, qt [rad], qd [rad/s], tau [N·m]."""
    t = np.arange(n) / rate
    w1, w2 = 2 * np.pi * 1.0, 2 * np.pi * 2.3
    q = 0.15 * np.sin(w1 * t) + 0.05 * np.sin(w2 * t)
    qd = 0.15 * w1 * np.cos(w1 * t) + 0.05 * w2 * np.cos(w2 * t)
    qt = 0.18 * np.sin(w1 * (t + 0.03)) + 0.06 * np.sin(w2 * (t + 0.03))
    return {"t": t, "q": q, "qt": qt, "qd": qd, "tau": 0.4 * (qt - q) - 0.02 * qd}


Builder = Callable[[Path], tuple[list[str], list[str]]]
"""Writes the inputs under a folder; returns the ``main`` arguments and the names the error must contain."""

# ------------------------------------------------------------------------------------------- column map: CSV

CSV_MAP = {
    "name": "test_csv",
    "format": "csv",
    "file_glob": "*.csv",
    "time": {"column": "t_ms", "unit": "ms"},
    "position": {"column": "pos", "unit": "rad"},
    "target": {"column": "cmd", "unit": "rad"},
    "velocity": {"column": "vel", "unit": "rad/s"},
    "torque": {"column": "tau", "unit": "N·m"},
}


def csv_frame(rate: float = RATE, n: int = N) -> pd.DataFrame:
    s = signals(n, rate)
    return pd.DataFrame({"t_ms": s["t"] * 1e3, "pos": s["q"], "cmd": s["qt"], "vel": s["qd"], "tau": s["tau"]})


def csv_case(
    change: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    names: tuple[str, ...] = (),
    map_change: dict | None = None,
    extra: tuple[str, ...] = (),
) -> Builder:
    """One CSV run ``logs/run.csv`` (changed by ``change``) read with ``CSV_MAP`` (updated by ``map_change``)."""

    def build(tmp: Path):
        folder = tmp / "logs"
        folder.mkdir()
        df = csv_frame()
        if change is not None:
            df = change(df)
        path = folder / "run.csv"
        df.to_csv(path, index=False)
        map_path = tmp / "map.json"
        map_path.write_text(json.dumps({**CSV_MAP, **(map_change or {})}))
        return ["reader=column_map", f"path={folder}", f"column_map={map_path}", *extra], [str(path), *names]

    return build


def set_cell(column: str, row: int, value) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df = df.astype({column: object}) if isinstance(value, str) else df
        df.loc[row, column] = value
        return df

    return change


def scale(column: str, factor: float) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda df: df.assign(**{column: df[column] * factor})


DEG = 180.0 / np.pi


def header_only(tmp: Path):
    folder = tmp / "logs"
    folder.mkdir()
    path = folder / "run.csv"
    path.write_text("t_ms,pos,cmd,vel,tau\n")
    (tmp / "map.json").write_text(json.dumps(CSV_MAP))
    return ["reader=column_map", f"path={folder}", f"column_map={tmp / 'map.json'}"], [str(path), "no data rows"]


def empty_csv(tmp: Path):
    folder = tmp / "logs"
    folder.mkdir()
    path = folder / "run.csv"
    path.write_text("")
    (tmp / "map.json").write_text(json.dumps(CSV_MAP))
    return ["reader=column_map", f"path={folder}", f"column_map={tmp / 'map.json'}"], [str(path), "CSV"]


def csv_rates(tmp: Path):
    folder = tmp / "logs"
    folder.mkdir()
    for name, rate in (("a", RATE), ("b", RATE), ("c", RATE / 2)):
        csv_frame(rate).to_csv(folder / f"{name}.csv", index=False)
    (tmp / "map.json").write_text(json.dumps(CSV_MAP))
    argv = ["reader=column_map", f"path={folder}", f"column_map={tmp / 'map.json'}"]
    return argv, [str(folder / "c.csv"), "100 Hz", "'t'", "data.accept=['rate_mismatch']"]


def csv_config(*extra: str, names: tuple[str, ...], with_map: bool = True) -> Builder:
    def build(tmp: Path):
        folder = tmp / "logs"
        folder.mkdir()
        csv_frame().to_csv(folder / "run.csv", index=False)
        (tmp / "map.json").write_text(json.dumps(CSV_MAP))
        argv = [f"path={folder}", *extra]
        if with_map:
            argv.append(f"column_map={tmp / 'map.json'}")
        return argv, list(names)

    return build


def missing_path(tmp: Path):
    return ["reader=column_map", f"path={tmp / 'no_such_folder'}", "column_map=bam_json"], [str(tmp / "no_such_folder")]


W = "data.accept=['{}']"

CSV_CASES = [
    case(
        "silent",
        "csv-degrees-declared-rad",
        csv_case(scale("pos", DEG), ("'pos'", "at row", W.format("degrees_as_radians"))),
    ),
    case(
        "silent",
        "csv-deg-per-s-declared-rad-per-s",
        csv_case(scale("vel", DEG), ("'vel'", "'pos'", "row", W.format("velocity_unit"))),
    ),
    case(
        "silent",
        "csv-rad-per-s-declared-deg-per-s",
        csv_case(
            None, ("'vel'", "deg/s", "row", W.format("velocity_unit")), {"velocity": {"column": "vel", "unit": "deg/s"}}
        ),
    ),
    case(
        "silent",
        "csv-radians-declared-deg",
        csv_case(
            None,
            ("'vel'", "'pos'", "declared deg", W.format("velocity_unit")),
            {"position": {"column": "pos", "unit": "deg"}},
        ),
    ),
    case(
        "silent",
        "csv-target-radians-declared-deg",
        csv_case(
            None, ("'cmd'", "'pos'", "row", W.format("target_unit")), {"target": {"column": "cmd", "unit": "deg"}}
        ),
    ),
    case(
        "silent",
        "csv-time-ms-declared-s",
        csv_case(
            None,
            ("'t_ms'", "declared in s", "rows 0-1", W.format("time_unit")),
            {"time": {"column": "t_ms", "unit": "s"}},
        ),
    ),
    case(
        "silent", "csv-time-s-declared-ms", csv_case(scale("t_ms", 1e-3), ("'t_ms'", "rows 0-1", W.format("time_unit")))
    ),
    case(
        "silent", "csv-time-us-declared-ms", csv_case(scale("t_ms", 1e3), ("'t_ms'", "rows 0-1", W.format("time_unit")))
    ),
    case("silent", "csv-position-1e30", csv_case(set_cell("pos", 37, 1e30), ("'pos'", "row 37", W.format("outlier")))),
    case(
        "silent",
        "csv-velocity-minus-1e30",
        csv_case(set_cell("vel", 120, -1e30), ("'vel'", "row 120", W.format("outlier"))),
    ),
    case("silent", "csv-torque-1e30", csv_case(set_cell("tau", 250, 1e30), ("'tau'", "row 250", W.format("outlier")))),
    case("silent", "csv-target-1e6", csv_case(set_cell("cmd", 5, 1e6), ("'cmd'", "row 5", W.format("outlier")))),
    case(
        "silent",
        "csv-last-time-stamp-absurd",
        csv_case(set_cell("t_ms", N - 1, 1e12), ("'t_ms'", f"row {N - 1}", W.format("outlier"))),
    ),
    case("crash", "csv-header-only", header_only),
    case("clear", "csv-empty-file", empty_csv),
    case("clear", "csv-non-numeric-cell", csv_case(set_cell("vel", 4, "n/a"), ("'vel'", "row 4"))),
    case("clear", "csv-missing-column", csv_case(lambda df: df.drop(columns=["cmd"]), ("'cmd'",))),
    case("clear", "csv-nan-cell", csv_case(set_cell("pos", 9, "nan"), ("'pos'", "row 9"))),
    case("clear", "csv-duplicated-time-stamp", csv_case(set_cell("t_ms", 6, 25.0), ("'t_ms'", "row 6"))),
    case("clear", "csv-too-few-rows", csv_case(lambda df: df.iloc[:5], ("5 samples",))),
    case("silent", "csv-run-at-another-rate", csv_rates),
    case(
        "silent",
        "csv-unknown-accept-name",
        csv_config("reader=column_map", 'accept=["outliers"]', names=("data.accept", "'outliers'")),
    ),
    case(
        "crash",
        "csv-reader-without-column-map",
        csv_config("reader=column_map", names=("data.column_map",), with_map=False),
    ),
    case("crash", "csv-unknown-reader", csv_config("reader=xlsx", names=("data.reader", "xlsx"))),
    case("clear", "csv-data-path-missing", missing_path),
]

# ------------------------------------------------------------------------------------ column map: JSON (BAM)


def bam_entries(n: int = N) -> list[dict]:
    s = signals(n)
    keys = {"timestamp": "t", "position": "q", "speed": "qd", "goal_position": "qt"}
    return [{**{k: float(s[v][i]) for k, v in keys.items()}, "torque_enable": True} for i in range(n)]


BAM_META = {"mass": 0.49, "length": 0.1, "kp": 100, "vin": 7.4, "motor": "xl330", "trajectory": "sin"}


def bam_case(change: Callable[[list[dict]], object], names: tuple[str, ...]) -> Builder:
    """One BAM JSON log (``entries`` changed by ``change``), read with the shipped map ``bam_json``."""

    def build(tmp: Path):
        folder = tmp / "bam"
        folder.mkdir()
        entries = bam_entries()
        entries = change(entries) or entries
        path = folder / "2026-01-15_10h28m10.json"
        path.write_text(json.dumps({**BAM_META, "entries": entries}))
        return ["reader=column_map", f"path={folder}", "column_map=bam_json"], [str(path), *names]

    return build


def entries_scale(key: str, factor: float):
    def change(entries):
        for e in entries:
            e[key] *= factor

    return change


def entries_set(key: str, row: int, value):
    def change(entries):
        entries[row][key] = value

    return change


def entries_drop(key: str, row: int):
    def change(entries):
        del entries[row][key]

    return change


def entries_as_columns(short: str, by: int):
    def change(entries):
        columns = {k: [e[k] for e in entries] for k in entries[0]}
        columns[short] = columns[short][:-by]
        return columns

    return change


def invalid_json(tmp: Path):
    folder = tmp / "bam"
    folder.mkdir()
    path = folder / "run.json"
    path.write_text(json.dumps({**BAM_META, "entries": bam_entries()})[:5000])
    return ["reader=column_map", f"path={folder}", "column_map=bam_json"], [str(path), "JSON"]


JSON_CASES = [
    case(
        "silent",
        "json-speed-in-deg-per-s",
        bam_case(entries_scale("speed", DEG), ("'speed'", "'position'", "row", W.format("velocity_unit"))),
    ),
    case(
        "crash",
        "json-timestamp-in-ms",
        bam_case(entries_scale("timestamp", 1e3), ("'timestamp'", "rows 0-1", W.format("time_unit"))),
    ),
    case(
        "silent",
        "json-position-1e30",
        bam_case(entries_set("position", 100, 1e30), ("'position'", "row 100", W.format("outlier"))),
    ),
    case(
        "silent",
        "json-goal-in-degrees",
        bam_case(
            entries_scale("goal_position", 3 * DEG), ("'goal_position'", "at row", W.format("degrees_as_radians"))
        ),
    ),
    case(
        "crash", "json-record-lacks-key", bam_case(entries_drop("goal_position", 50), ("'goal_position'", "record 50"))
    ),
    case("crash", "json-first-record-lacks-key", bam_case(entries_drop("speed", 0), ("'speed'", "record 0"))),
    case(
        "crash",
        "json-target-column-shorter",
        bam_case(entries_as_columns("goal_position", 10), ("'goal_position'", f"{N - 10} rows")),
    ),
    case("clear", "json-truncated", invalid_json),
    case("clear", "json-non-numeric-position", bam_case(entries_set("position", 3, "abc"), ("'position'", "row 3"))),
]

# ------------------------------------------------------------------------------------------- column map: NPZ

NPZ_MAP = {
    "name": "test_npz",
    "format": "npz",
    "file_glob": "*.npz",
    "time": {"column": "time_s", "unit": "s"},
    "position": {"column": "q", "unit": "rad"},
    "target": {"column": "qt", "unit": "rad"},
    "velocity": {"column": "qd", "unit": "rad/s"},
    "torque": {"column": "tau", "unit": "N·m"},
}


def npz_arrays() -> dict[str, np.ndarray]:
    s = signals()
    return {"time_s": s["t"], "q": s["q"], "qt": s["qt"], "qd": s["qd"], "tau": s["tau"]}


def npz_case(change: Callable[[dict], dict | None] | None, names: tuple[str, ...], raw: bytes | None = None) -> Builder:
    def build(tmp: Path):
        folder = tmp / "logs"
        folder.mkdir()
        path = folder / "run.npz"
        arrays = npz_arrays()
        if change is not None:
            arrays = change(arrays) or arrays
        np.savez(path, **arrays)
        if raw is not None:
            path.write_bytes(raw if raw != b"TRUNCATE" else path.read_bytes()[: len(path.read_bytes()) // 2])
        (tmp / "map.json").write_text(json.dumps(NPZ_MAP))
        return ["reader=column_map", f"path={folder}", f"column_map={tmp / 'map.json'}"], [str(path), *names]

    return build


def arr_set(key: str, row: int, value: float):
    def change(arrays):
        arrays[key][row] = value

    return change


def arr_cut(key: str, by: int):
    def change(arrays):
        arrays[key] = arrays[key][:-by]

    return change


def arr_scale(key: str, factor: float):
    def change(arrays):
        arrays[key] = arrays[key] * factor

    return change


def single_array(tmp: Path):
    folder = tmp / "logs"
    folder.mkdir()
    path = folder / "run.npz"
    with path.open("wb") as f:
        np.save(f, np.zeros(10))
    (tmp / "map.json").write_text(json.dumps(NPZ_MAP))
    return ["reader=column_map", f"path={folder}", f"column_map={tmp / 'map.json'}"], [str(path), "NPZ"]


NPZ_CASES = [
    case("crash", "npz-truncated", npz_case(None, ("NPZ",), raw=b"TRUNCATE")),
    case("crash", "npz-target-shorter", npz_case(arr_cut("qt", 10), ("'qt'", f"{N - 10} rows"))),
    case("crash", "npz-time-shorter", npz_case(arr_cut("time_s", 10), ("'time_s'", f"{N - 10} rows"))),
    case("crash", "npz-empty-arrays", npz_case(lambda a: {k: v[:0] for k, v in a.items()}, ("'q'", "no rows"))),
    case("crash", "npz-single-array", single_array),
    case(
        "silent",
        "npz-velocity-in-deg-per-s",
        npz_case(arr_scale("qd", DEG), ("'qd'", "'q'", "row", W.format("velocity_unit"))),
    ),
    case("silent", "npz-torque-1e30", npz_case(arr_set("tau", 222, 1e30), ("'tau'", "row 222", W.format("outlier")))),
    case("clear", "npz-not-a-zip", npz_case(None, ("NPZ",), raw=b"not an npz archive at all")),
    case("clear", "npz-missing-array", npz_case(lambda a: {k: v for k, v in a.items() if k != "qt"}, ("'qt'",))),
]

# ------------------------------------------------------------------------------------------------ bench CSV


@functools.cache
def bench_frame(dt: float = 0.002) -> pd.DataFrame:
    from learned_actuators.data.synthetic import simulate_reference_actuator, write_bench_csv
    from learned_actuators.physics import PhysicsParams

    log = simulate_reference_actuator(
        PhysicsParams(kp=3.0, kd=0.05, stall_torque=1.2, no_load_speed=12.0), 0.01, duration=2.0, dt=dt
    )
    with tempfile.TemporaryDirectory() as tmp:
        return pd.read_csv(write_bench_csv(log, Path(tmp) / "run.csv", radius=0.05))


def bench_case(change=None, names: tuple[str, ...] = (), bench: dict | None = None, config: bool = False) -> Builder:
    """One bench run ``bench/light/run1.csv``; ``config``: the error is about ``data.bench``, not the file."""

    def build(tmp: Path):
        root = tmp / "bench"
        (root / "light").mkdir(parents=True)
        df = bench_frame().copy()
        if change is not None:
            df = change(df)
        path = root / "light" / "run1.csv"
        df.to_csv(path, index=False)
        cfg = {"group_inertia": {"light": 0.01}, **(bench or {})}
        return ["reader=bench_csv", f"path={root}", f"bench={json.dumps(cfg)}"], [
            *([] if config else [str(path)]),
            *names,
        ]

    return build


def bench_header_only(tmp: Path):
    root = tmp / "bench"
    (root / "light").mkdir(parents=True)
    path = root / "light" / "run1.csv"
    path.write_text(",".join(bench_frame().columns) + "\n")
    argv = ["reader=bench_csv", f"path={root}", 'bench={"group_inertia": {"light": 0.01}}']
    return argv, [str(path), "sample"]


def bench_rates(tmp: Path):
    root = tmp / "bench"
    for group, dt in (("light", 0.002), ("medium", 0.002), ("heavy", 0.004)):
        (root / group).mkdir(parents=True)
        bench_frame(dt).to_csv(root / group / "run1.csv", index=False)
    cfg = {"group_inertia": {"light": 0.01, "medium": 0.02, "heavy": 0.03}}
    argv = ["reader=bench_csv", f"path={root}", f"bench={json.dumps(cfg)}"]
    return argv, [str(root / "heavy" / "run1.csv"), "250 Hz", W.format("rate_mismatch")]


def bench_no_inertia(tmp: Path):
    root = tmp / "bench"
    (root / "light").mkdir(parents=True)
    bench_frame().to_csv(root / "light" / "run1.csv", index=False)
    return ["reader=bench_csv", f"path={root}"], [str(root / "light"), "group_inertia"]


BENCH_CASES = [
    case(
        "silent",
        "bench-encoder-in-radians",
        bench_case(scale("Encoder_Angle", 1 / DEG), ("'Gyro_Z'", "'Encoder_Angle'", "row", W.format("velocity_unit"))),
    ),
    case(
        "silent",
        "bench-gyro-in-rad-per-s",
        bench_case(scale("Gyro_Z", 1 / DEG), ("'Gyro_Z'", "'Encoder_Angle'", "row", W.format("velocity_unit"))),
    ),
    case(
        "silent",
        "bench-time-in-seconds",
        bench_case(scale("Time_ms", 1e-3), ("'Time_ms'", "rows 0-1", W.format("time_unit"))),
    ),
    case("clear", "bench-header-only", bench_header_only),
    case(
        "silent",
        "bench-acceleration-1e30",
        bench_case(set_cell("Acc_Y", 300, 1e30), ("'Acc_Y'", "row 300", W.format("outlier"))),
    ),
    case(
        "silent",
        "bench-encoder-1e30",
        bench_case(set_cell("Encoder_Angle", 12, 1e30), ("'Encoder_Angle'", "row 12", W.format("outlier"))),
    ),
    case(
        "silent",
        "bench-encoder-in-centidegrees",
        bench_case(scale("Encoder_Angle", 100.0), ("'Encoder_Angle'", "at row", W.format("degrees_as_radians"))),
    ),
    case("silent", "bench-group-at-another-rate", bench_rates),
    case(
        "crash", "bench-unknown-cfg-key", bench_case(None, ("data.bench", "gyro_axes"), {"gyro_axes": "Z"}, config=True)
    ),
    case(
        "crash",
        "bench-bad-gyro-axis",
        bench_case(None, ("data.bench.gyro_axis", "'W'"), {"gyro_axis": "W"}, config=True),
    ),
    case("clear", "bench-non-numeric-cell", bench_case(set_cell("Gyro_Z", 7, "abc"), ("'Gyro_Z'", "row 7"))),
    case("clear", "bench-group-without-inertia", bench_no_inertia),
]

# ---------------------------------------------------------------------------------------------- history NPZ


def history_arrays(n: int = 300, h: int = 3) -> dict[str, np.ndarray]:
    s = signals(n + h, 50.0)
    e, v = s["qt"] - s["q"], s["qd"]
    pos = np.stack([e[h - 1 - k : h - 1 - k + n] for k in range(h)], axis=1)
    vel = np.stack([v[h - 1 - k : h - 1 - k + n] for k in range(h)], axis=1)
    return {"pos_err": pos, "vel": vel, "effort": 3.0 * pos[:, 0] - 0.1 * vel[:, 0], "dt": np.array(0.02)}


def history_case(change=None, names: tuple[str, ...] = (), raw: bytes | None = None, extra=()) -> Builder:
    def build(tmp: Path):
        folder = tmp / "hist"
        folder.mkdir()
        path = folder / "h.npz"
        arrays = history_arrays()
        if change is not None:
            arrays = change(arrays) or arrays
        np.savez(path, **arrays)
        if raw is not None:
            path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
        return ["reader=history_npz", f"path={folder}", *extra], [str(path), *names]

    return build


def history_scale_vel(factor: float):
    def change(arrays):
        arrays["vel"] = arrays["vel"] * factor

    return change


def history_without_npz(tmp: Path):
    folder = tmp / "hist"
    folder.mkdir()
    (folder / "README.txt").write_text("histories go here")
    return ["reader=history_npz", f"path={folder}"], [str(folder), "*.npz"]


HISTORY_CASES = [
    case("clear", "history-effort-shorter", history_case(arr_cut("effort", 7), ("effort", "(293,)"))),
    case("crash", "history-truncated", history_case(None, ("NPZ",), raw=b"TRUNCATE")),
    case(
        "silent",
        "history-dt-in-ms",
        history_case(lambda a: {**a, "dt": np.array(20.0)}, ("'dt'", "rows 0-1", W.format("time_unit"))),
    ),
    case(
        "silent",
        "history-effort-1e30",
        history_case(arr_set("effort", 150, 1e30), ("'effort'", "row 150", W.format("outlier"))),
    ),
    case(
        "silent",
        "history-velocity-in-deg-per-s",
        history_case(history_scale_vel(200 * DEG), ("'vel'", "at row", W.format("degrees_as_radians"))),
    ),
    case("clear", "history-no-time-step", history_case(lambda a: {k: v for k, v in a.items() if k != "dt"}, ("dt",))),
    case("crash", "history-folder-without-npz", history_without_npz),
]

# ----------------------------------------------------------------------------------- torque profiles (NPZ/CSV)

DOFS = ("hip", "knee")
FPS = 50.0


def profile_arrays(fps: float = FPS, frames: int = 200) -> dict[str, np.ndarray]:
    s = signals(frames, fps)
    q = np.stack([s["q"], 0.5 * s["q"] - 0.8], axis=1)
    qd = np.stack([s["qd"], 0.5 * s["qd"]], axis=1)
    qt = np.stack([s["qt"], 0.5 * s["qt"] - 0.8], axis=1)
    quat = np.zeros((frames, 1, 4))
    quat[..., 0] = 1.0
    return {
        "fps": np.array(fps),
        "dof_names": np.array(DOFS),
        "body_names": np.array(["base"]),
        "joint_torques": 20.0 * (qt - q) - 0.5 * qd,
        "dof_positions": q,
        "dof_velocities": qd,
        "dof_position_targets": qt,
        "body_positions": np.zeros((frames, 1, 3)),
        "body_rotations": quat,
        "body_linear_velocities": np.zeros((frames, 1, 3)),
        "body_angular_velocities": np.zeros((frames, 1, 3)),
    }


def profile_case(change=None, names: tuple[str, ...] = (), raw: bytes | None = None) -> Builder:
    """``profiles/env_0000.npz`` (flat, so the readers before the fixes, which did not search sub-folders, saw it)."""

    def build(tmp: Path):
        root = tmp / "profiles"
        path = root / "env_0000.npz"
        path.parent.mkdir(parents=True)
        arrays = profile_arrays()
        if change is not None:
            arrays = change(arrays) or arrays
        np.savez(path, **arrays)
        if raw is not None:
            path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
        return ["reader=torque_profile", f"path={root}"], [str(path), *names]

    return build


def arr_set_2d(key: str, row: int, j: int, value: float):
    def change(arrays):
        arrays[key] = arrays[key].copy()
        arrays[key][row, j] = value

    return change


def profile_rates(tmp: Path):
    root = tmp / "profiles"
    root.mkdir()
    for name, fps in (("env_0000", FPS), ("env_0001", FPS), ("env_0002", 4 * FPS)):
        np.savez(root / f"{name}.npz", **profile_arrays(fps))
    return ["reader=torque_profile", f"path={root}"], [str(root / "env_0002.npz"), "200 Hz", W.format("rate_mismatch")]


def profile_csv_case(change=None, names: tuple[str, ...] = (), text: Callable[[str], str] | None = None) -> Builder:
    """A torque-profile CSV (written by the recording package) read as training data."""

    def build(tmp: Path):
        from learned_actuators.recording import validate_profile, write_csv

        root = tmp / "profiles"
        arrays = profile_arrays()
        if change is not None:
            arrays = change(arrays) or arrays
        path = write_csv(validate_profile(arrays, "test"), root / "run_a" / "env_0000.csv")
        if text is not None:
            path.write_text(text(path.read_text()))
        return ["reader=torque_profile", f"path={root}"], [str(path), *names]

    return build


def csv_header_only(text: str) -> str:
    return "\n".join(text.splitlines()[:4]) + "\n"


def csv_bad_cell(text: str) -> str:
    lines = text.splitlines()
    j = lines[3].split(",").index("dof_pos/knee")
    row = lines[3 + 1 + 20].split(",")
    row[j] = "oops"
    lines[3 + 1 + 20] = ",".join(row)
    return "\n".join(lines) + "\n"


PROFILE_CASES = [
    case(
        "crash",
        "profile-target-shorter",
        profile_case(arr_cut("dof_position_targets", 10), ("'dof_position_targets'",)),
    ),
    case("crash", "profile-truncated", profile_case(None, ("NPZ",), raw=b"TRUNCATE")),
    case(
        "silent",
        "profile-fps-given-as-period",
        profile_case(lambda a: {**a, "fps": np.array(1 / FPS)}, ("'fps'", "rows 0-1", W.format("time_unit"))),
    ),
    case(
        "silent",
        "profile-velocities-in-deg-per-s",
        profile_case(
            arr_scale("dof_velocities", DEG),
            ("'dof_velocities[:, 0] (hip)'", "dof_positions", "row", W.format("velocity_unit")),
        ),
    ),
    case(
        "silent",
        "profile-torque-1e30",
        profile_case(
            arr_set_2d("joint_torques", 77, 1, 1e30), ("'joint_torques[:, 1] (knee)'", "row 77", W.format("outlier"))
        ),
    ),
    case(
        "silent",
        "profile-positions-in-degrees",
        profile_case(
            arr_scale("dof_positions", 4 * DEG),
            ("'dof_positions[:, 0] (hip)'", "at row", W.format("degrees_as_radians")),
        ),
    ),
    case("silent", "profile-run-at-another-rate", profile_rates),
    case(
        "crash",
        "profile-time-shorter",
        profile_case(lambda a: {**a, "time": np.arange(190) / FPS}, ("'time'", "190 rows")),
    ),
    case(
        "clear",
        "profile-missing-velocities",
        profile_case(lambda a: {k: v for k, v in a.items() if k != "dof_velocities"}, ("'dof_velocities'",)),
    ),
    case(
        "silent",
        "profile-targets-in-degrees",
        profile_case(arr_scale("dof_position_targets", DEG), ("dof_position_targets", "row", "data.accept=[")),
    ),
    case(
        "crash",
        "profile-csv-velocities-in-deg-per-s",
        profile_csv_case(arr_scale("dof_velocities", DEG), ("'dof_vel/hip'", "dof_pos/hip", W.format("velocity_unit"))),
    ),
    case(
        "crash",
        "profile-csv-torque-1e30",
        profile_csv_case(
            arr_set_2d("joint_torques", 40, 1, 1e30), ("'joint_torque/knee'", "row 40", W.format("outlier"))
        ),
    ),
    case("crash", "profile-csv-header-only", profile_csv_case(None, ("no frames",), text=csv_header_only)),
    case("crash", "profile-csv-bad-cell", profile_csv_case(None, ("'dof_pos/knee'", "line 25"), text=csv_bad_cell)),
]

# --------------------------------------------------- column map: multi-joint CSV without time column + side file


def ankle_case(side: dict | None, names: tuple[str, ...], declared_rate: float = 100.0, side_named: bool = True):
    """The four-joint ankle CSV of ``tests/data/ankle_log.py`` with its side file ``ankles.meta.json`` (or ``side``).

    The error must name the side file (``side_named``) or else the CSV.
    """
    from tests.data.ankle_log import write_ankle_log

    def build(tmp: Path):
        csv, map_path = write_ankle_log(tmp, duration=3.0, declared_rate=declared_rate, side=side)
        named = str(csv.parent / "ankles.meta.json") if side_named else str(csv)
        return ["reader=column_map", f"path={csv.parent}", f"column_map={map_path}"], [named, *names]

    return build


ANKLE_CASES = [
    case(
        "clear",
        "ankle-kp-list-too-short",
        ankle_case({"rate_hz": 100, "joint_constants": {"kp": [35, 30, 25]}}, ("'joint_constants.kp'", "3 values")),
    ),
    case(
        "clear",
        "ankle-kp-for-unknown-joint",
        ankle_case({"rate_hz": 100, "joint_constants": {"kp": {"ankle": 35}}}, ("'joint_constants.kp'", "'ankle'")),
    ),
    case("clear", "ankle-side-file-unknown-key", ankle_case({"rate_hz": 100, "kp": 35}, ("unknown keys", "'kp'"))),
    case("clear", "ankle-no-rate", ankle_case({}, ("'rate_hz'", "'time'", "ankles.meta.json"), side_named=False)),
    case(
        "silent",
        "ankle-declared-50hz-for-100hz",
        ankle_case(
            None,
            ("'vel_0'", "ankles.meta.json", "50 Hz", "about 100 Hz", W.format("declared_rate")),
            declared_rate=50.0,
            side_named=False,
        ),
    ),
]

CASES = CSV_CASES + JSON_CASES + NPZ_CASES + BENCH_CASES + HISTORY_CASES + PROFILE_CASES + ANKLE_CASES


@pytest.mark.parametrize("build", CASES)
def test_bad_data_is_refused(build, tmp_path, capsys):
    argv, names = build(tmp_path)
    before = snapshot(tmp_path)
    outcome = run_main(main, argv, capsys)
    assert_refused(outcome, *names)
    assert_unchanged(before, tmp_path)
