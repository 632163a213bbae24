"""LeRobot datasets, MCAP files (JSON messages) and ROS 2 bags through column maps; the tests write their own files."""

import json

import numpy as np
import pandas as pd
import pytest

from learned_actuators.data.column_map import read_mapped_folder, read_mapped_log
from learned_actuators.data.joint_log import LogFormatError
from learned_actuators.learning.data_cfg import DataCfg
from learned_actuators.learning.data_loading import load_data

pytestmark = pytest.mark.unit

NAMES = ["shoulder_pan.pos", "elbow_flex.pos"]
RATE = 50.0


def _motion(n, phase=0.0):
    t = np.arange(n) / RATE
    q = np.stack([20 * np.sin(2 * np.pi * 0.7 * t + phase), 10 * np.cos(2 * np.pi * 0.4 * t + phase)], axis=1)
    return t, q, q + 3 * np.sin(2 * np.pi * 1.1 * t)[:, None]  # degrees; target leads the state


def _lerobot(root, episodes=(120, 90)):
    (root / "meta").mkdir(parents=True)
    features = {
        "observation.state": {"dtype": "float32", "shape": [2], "names": NAMES},
        "action": {"dtype": "float32", "shape": [2], "names": NAMES},
        "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    }
    info = {"codebase_version": "v3.0", "fps": RATE, "robot_type": "so101_follower", "features": features}
    (root / "meta" / "info.json").write_text(json.dumps(info))
    frames = []
    for e, n in enumerate(episodes):
        t, q, target = _motion(n, phase=e)
        frames.append(
            pd.DataFrame(
                {
                    "observation.state": list(q.astype(np.float32)),
                    "action": list(target.astype(np.float32)),
                    "timestamp": t.astype(np.float32),
                    "frame_index": np.arange(n),
                    "episode_index": np.full(n, e),
                }
            ).iloc[::-1]  # stored out of order: the reader sorts by frame_index
        )
    (root / "data" / "chunk-000").mkdir(parents=True)
    pd.concat(frames).to_parquet(root / "data" / "chunk-000" / "file-000.parquet")
    return root


LEROBOT_MAP = {
    "name": "so101_lerobot",
    "format": "lerobot",
    "time": {"column": "timestamp", "unit": "s"},
    "position": {"column": "observation.state", "unit": "deg"},
    "target": {"column": "action", "unit": "deg"},
    "meta": {"robot": "robot_type", "episode": "episode_index", "fps": "fps"},
}


def test_lerobot_dataset_gives_one_run_per_episode(tmp_path):
    root = _lerobot(tmp_path / "ds")
    logs = read_mapped_folder(root, LEROBOT_MAP)
    assert [g.name for g in logs] == ["episode_000000", "episode_000001"]
    assert [len(g) for g in logs] == [120, 90]
    t, q, target = _motion(90, phase=1)
    second = logs[1]
    assert second.joint_names == NAMES
    np.testing.assert_allclose(second.q, np.deg2rad(q.astype(np.float32)), rtol=1e-6)
    np.testing.assert_allclose(second.q_target, np.deg2rad(target.astype(np.float32)), rtol=1e-6)
    np.testing.assert_allclose(second.t, t, atol=1e-5)
    assert second.meta["robot"] == "so101_follower" and second.meta["episode"] == 1
    assert second.meta["fps"] == RATE
    cfg = DataCfg(reader="column_map", path=str(root), column_map=str(_write(tmp_path / "m.json", LEROBOT_MAP)))
    assert len(load_data(cfg)) == 4  # two episodes, two joints each


def test_lerobot_errors_name_the_problem(tmp_path):
    root = _lerobot(tmp_path / "ds")
    with pytest.raises(LogFormatError, match="holds 2 LeRobot episodes"):
        read_mapped_log(root / "data" / "chunk-000" / "file-000.parquet", LEROBOT_MAP)
    with pytest.raises(LogFormatError, match=r"expects column 'observation\.effort'"):
        read_mapped_folder(root, {**LEROBOT_MAP, "torque": "observation.effort"})
    with pytest.raises(LogFormatError, match="no parquet files"):
        read_mapped_folder(tmp_path, LEROBOT_MAP)


def _write(path, data):
    path.write_text(json.dumps(data))
    return path


def _mcap(path, encoding="json"):
    from mcap.writer import Writer

    t, q, target = _motion(200)
    with path.open("wb") as f:
        w = Writer(f)
        w.start()
        schema = w.register_schema(name="JointState", encoding="jsonschema", data=b"{}")
        states = w.register_channel(topic="/joint_states", message_encoding=encoding, schema_id=schema)
        command = w.register_channel(topic="/command", message_encoding="json", schema_id=schema)
        w.add_metadata(name="bench", data={"motor": "sts3215"})
        t0 = 1_700_000_000_000_000_000
        for k in range(len(t)):
            stamp = t0 + round(t[k] * 1e9)
            msg = {"name": ["a", "b"], "position": q[k].tolist(), "effort": [0.1 * k, -0.1 * k]}
            w.add_message(states, stamp, json.dumps(msg).encode(), stamp)
            if k % 2 == 1:  # commands at half the rate, starting one state later
                w.add_message(command, stamp + 1000, json.dumps({"data": {"q": target[k].tolist()}}).encode(), stamp)
        w.finish()
    return t, q, target


MESSAGE_MAP = {
    "name": "bench_mcap",
    "format": "mcap",
    "time": {"column": "/joint_states:log_time", "unit": "ns"},
    "position": {"column": "/joint_states:position", "unit": "deg"},
    "target": {"column": "/command:data.q", "unit": "deg"},
    "torque": {"column": "/joint_states:effort", "unit": "N·m"},
    "meta": {"motor": "bench.motor"},
}


def test_mcap_json_messages_sampled_and_held_on_the_state_topic(tmp_path):
    t, q, target = _mcap(tmp_path / "run.mcap")
    log = read_mapped_log(tmp_path / "run.mcap", MESSAGE_MAP)
    # rows: state messages from the first command on (state 1 is before its command); the command is held
    rows = np.arange(2, 200)
    assert len(log) == len(rows) and log.joint_names == ["a", "b"]
    np.testing.assert_allclose(log.q, np.deg2rad(q[rows]))
    held = np.where((rows - 1) % 2 == 1, rows - 1, rows - 2)  # the latest command sent before the row
    np.testing.assert_allclose(log.q_target, np.deg2rad(target[held]))
    np.testing.assert_allclose(log.tau[:, 0], 0.1 * rows)
    np.testing.assert_allclose(log.t, t[rows] - t[rows[0]], atol=1e-9)
    assert log.meta["motor"] == "sts3215"
    assert len(read_mapped_folder(tmp_path, {**MESSAGE_MAP, "file_glob": "*.mcap"})) == 1


def test_mcap_errors_name_topic_field_and_encoding(tmp_path):
    _mcap(tmp_path / "run.mcap")
    with pytest.raises(LogFormatError, match=r"no field 'data\.qq'.*\['q'\]"):
        read_mapped_log(tmp_path / "run.mcap", {**MESSAGE_MAP, "target": "/command:data.qq"})
    with pytest.raises(LogFormatError, match=r"no messages on topic '/cmd'"):
        read_mapped_log(tmp_path / "run.mcap", {**MESSAGE_MAP, "target": "/cmd:q"})
    with pytest.raises(LogFormatError, match=r"must look like '<topic>:<field>'"):
        read_mapped_log(tmp_path / "run.mcap", {**MESSAGE_MAP, "target": "q"})
    _mcap(tmp_path / "cdr.mcap", encoding="cdr")
    with pytest.raises(LogFormatError, match=r"message encoding 'cdr'.*ros2_bag"):
        read_mapped_log(tmp_path / "cdr.mcap", MESSAGE_MAP)


def test_ros2_bag_joint_states(tmp_path):
    from rosbags.rosbag2 import Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.LATEST)
    joint_state, header, stamp_type = (
        store.types[n] for n in ("sensor_msgs/msg/JointState", "std_msgs/msg/Header", "builtin_interfaces/msg/Time")
    )
    float64 = store.types["std_msgs/msg/Float64MultiArray"]
    layout = store.types["std_msgs/msg/MultiArrayLayout"]
    t, q, target = _motion(100)
    with Writer(tmp_path / "bag", version=9) as w:
        states = w.add_connection("/joint_states", joint_state.__msgtype__, typestore=store)
        command = w.add_connection("/command", float64.__msgtype__, typestore=store)
        for k in range(len(t)):
            ns = 1_000_000_000 + round(t[k] * 1e9)
            msg = joint_state(
                header(stamp_type(sec=ns // 10**9, nanosec=ns % 10**9), frame_id=""),
                name=["a", "b"],
                position=np.deg2rad(q[k]),
                velocity=np.zeros(2),
                effort=np.array([0.5, -0.5]),
            )
            w.write(
                command,
                ns - 10,
                store.serialize_cdr(float64(layout([], 0), np.deg2rad(target[k])), float64.__msgtype__),
            )
            w.write(states, ns, store.serialize_cdr(msg, joint_state.__msgtype__))
    cmap = {
        "name": "ros2",
        "format": "ros2_bag",
        "time": {"column": "/joint_states:log_time", "unit": "ns"},
        "position": "/joint_states:position",
        "target": "/command:data",
        "torque": "/joint_states:effort",
    }
    log = read_mapped_log(tmp_path / "bag", cmap)
    assert len(log) == 100 and log.joint_names == ["a", "b"]
    np.testing.assert_allclose(log.q, np.deg2rad(q))
    np.testing.assert_allclose(log.q_target, np.deg2rad(target))
    np.testing.assert_allclose(log.tau, np.tile([0.5, -0.5], (100, 1)))
    np.testing.assert_allclose(log.t, t, atol=1e-9)
    assert len(read_mapped_folder(tmp_path, cmap)) == 1
