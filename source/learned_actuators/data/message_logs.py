"""Message logs as column-mapped logs: MCAP files with JSON messages and ROS 2 bags.

Columns are ``"<topic>:<field>"``: ``"/joint_states:position"`` is the ``position`` field of each message on
``/joint_states`` (a dotted path reaches nested fields, ``"/cmd:data.q"``); a list-valued field is one column per
joint (its joint names come from a ``name`` list beside the field, as in ``sensor_msgs/JointState``), and
``"<topic>:log_time"`` is the message's receive time [ns] since the first row (declare ``"unit": "ns"``). The rows
are the messages on the position column's topic; every other topic is sampled and held (its latest message at or
before each row's receive time), and rows before the first message of any topic the map reads are dropped.

* ``"format": "mcap"``: an MCAP file whose channels use JSON message encoding (``mcap`` package). The file's
  metadata records are the run's metadata (``meta`` entries of the map name them ``"<record>.<key>"``).
* ``"format": "ros2_bag"``: a rosbag2 folder (``metadata.yaml`` with SQLite ``.db3`` or MCAP storage, CDR messages
  of the standard ROS 2 message types) read by the pure-Python ``rosbags`` package; no ROS installation needed.

Both need the ``formats`` extra (``pip install learned_actuators[formats]``).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from .joint_log import LogFormatError

__all__ = ["MessageTable", "read_mcap", "read_ros2_bag", "split_column"]

TIME_FIELD = "log_time"


@dataclasses.dataclass
class MessageTable:
    """Columns (name -> array), metadata and joint names per column of one message log."""

    columns: dict[str, np.ndarray]
    meta: dict[str, Any]
    names: dict[str, list[str]]


def split_column(column: str, source: str) -> tuple[str, str]:
    """``"topic:field"`` -> ``(topic, field)``; a clear error otherwise."""
    topic, sep, name = column.rpartition(":")
    if not sep or not topic or not name:
        raise LogFormatError(
            f"{source}: column '{column}' must look like '<topic>:<field>' (e.g. /joint_states:position)."
        )
    return topic, name


def _field(message: dict, name: str, topic: str, source: str) -> tuple[Any, list[str] | None]:
    node: Any = message
    parent: Any = None
    for part in name.split("."):
        if not isinstance(node, dict) or part not in node:
            keys = sorted(node) if isinstance(node, dict) else type(node).__name__
            raise LogFormatError(f"{source}: messages on '{topic}' have no field '{name}' (fields there: {keys}).")
        parent, node = node, node[part]
    names = parent.get("name") if isinstance(parent, dict) else None
    ok = isinstance(names, list | tuple) and all(isinstance(n, str) for n in names)
    return node, list(names) if ok else None


def _table(messages: dict[str, list[tuple[int, dict]]], used: list[str], meta: dict, source: str) -> MessageTable:
    """Rows on the first used column's topic; other topics sampled and held (module docstring)."""
    wanted = [split_column(c, source) for c in used]
    for topic, _ in wanted:
        if not messages.get(topic):
            raise LogFormatError(f"{source}: no messages on topic '{topic}' (topics: {sorted(messages)}).")
    base = wanted[0][0]
    times = {t: np.array([m[0] for m in messages[t]], dtype=np.int64) for t, _ in wanted}
    rows = times[base][times[base] >= max(times[t][0] for t, _ in wanted)]
    if rows.size == 0:
        raise LogFormatError(f"{source}: topic '{base}' has no message after the first one of every other topic.")
    columns, names = {}, {}
    for column, (topic, name) in zip(used, wanted, strict=True):
        idx = np.searchsorted(times[topic], rows, side="right") - 1
        if name == TIME_FIELD:
            columns[column] = (times[topic][idx] - rows[0]).astype(np.float64)  # exact in float64 from row 0
            continue
        values = []
        for i in idx:
            value, joint_names = _field(messages[topic][i][1], name, topic, source)
            values.append(value)
        try:
            columns[column] = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise LogFormatError(
                f"{source}: field '{name}' on '{topic}' is not numeric or changes length between messages ({err})."
            ) from err
        if joint_names is not None and columns[column].ndim == 2 and len(joint_names) == columns[column].shape[1]:
            names[column] = joint_names
    return MessageTable(columns, meta, names)


def read_mcap(path: Path, used: list[str]) -> MessageTable:
    """The columns ``used`` (``"topic:field"``, the position column first) of an MCAP file with JSON messages."""
    try:
        from mcap.exceptions import McapError
        from mcap.reader import make_reader
    except ImportError as err:
        raise LogFormatError(f"{path}: reading MCAP files needs the mcap package (pip install mcap).") from err
    topics = {split_column(c, str(path))[0] for c in used}
    messages: dict[str, list[tuple[int, dict]]] = {}
    try:
        with path.open("rb") as f:
            reader = make_reader(f)
            meta = {m.name: dict(m.metadata) for m in reader.iter_metadata()}
            for _, channel, message in reader.iter_messages(topics=sorted(topics), log_time_order=True):
                if channel.message_encoding != "json":
                    raise LogFormatError(
                        f"{path}: topic '{channel.topic}' uses message encoding '{channel.message_encoding}'; the "
                        "mcap format reads JSON messages (a ROS 2 bag in MCAP storage: use format 'ros2_bag')."
                    )
                messages.setdefault(channel.topic, []).append((message.log_time, json.loads(message.data)))
    except (McapError, json.JSONDecodeError, UnicodeDecodeError, EOFError, ValueError) as err:
        raise LogFormatError(
            f"{path}: not a readable MCAP file with JSON messages ({type(err).__name__}: {err})."
        ) from err
    return _table(messages, used, meta, str(path))


def _plain(value: Any) -> Any:
    """A deserialised ROS message as dicts, lists and numbers."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def read_ros2_bag(path: Path, used: list[str]) -> MessageTable:
    """The columns ``used`` (``"topic:field"``, the position column first) of a rosbag2 folder (``rosbags``)."""
    try:
        from rosbags.highlevel import AnyReader, AnyReaderError
        from rosbags.typesys import Stores, get_typestore
    except ImportError as err:
        raise LogFormatError(f"{path}: reading ROS 2 bags needs the rosbags package (pip install rosbags).") from err
    topics = {split_column(c, str(path))[0] for c in used}
    messages: dict[str, list[tuple[int, dict]]] = {}
    try:
        with AnyReader([path], default_typestore=get_typestore(Stores.LATEST)) as reader:
            conns = [c for c in reader.connections if c.topic in topics]
            for conn, stamp, raw in reader.messages(connections=conns):
                messages.setdefault(conn.topic, []).append((stamp, _plain(reader.deserialize(raw, conn.msgtype))))
    except AnyReaderError as err:
        raise LogFormatError(f"{path}: not a readable ROS 2 bag ({err}).") from err
    for items in messages.values():
        items.sort(key=lambda m: m[0])
    return _table(messages, used, {}, str(path))
