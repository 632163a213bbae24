"""The Unitree SDK channel against a stand-in for the SDK (the robot side), and the error without the SDK."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest

from learned_actuators.errors import run_cli
from learned_actuators.excitation.cli import main
from learned_actuators.excitation.unitree_sdk import POS_STOP, MissingSdkError, UnitreeSdkChannel, import_sdk

pytestmark = pytest.mark.unit


class _Endpoint:
    def __init__(self, log, name, type_):
        self.log, self.name, self.type = log, name, type_
        self.handler = None
        self.closed = False

    def Init(self, handler=None, queue_len=0):  # noqa: N802 - the SDK's names
        self.handler = handler
        self.log.setdefault("init", []).append((self.name, queue_len))

    def Write(self, msg):  # noqa: N802
        motors = [(m.mode, m.q, m.dq, m.kp, m.kd, m.tau) for m in msg.motor_cmd]
        self.log.setdefault("written", []).append(
            {"head": list(msg.head), "level_flag": msg.level_flag, "crc": msg.crc, "motors": motors}
        )

    def Close(self):  # noqa: N802
        self.closed = True


def _fake_sdk():
    log = {"endpoints": {}}

    def endpoint(name, type_):
        log["endpoints"][name] = _Endpoint(log, name, type_)
        return log["endpoints"][name]

    def new_low_cmd():
        motor = dict(mode=0, q=0.0, dq=0.0, tau=0.0, kp=0.0, kd=0.0)
        return SimpleNamespace(
            head=[0, 0], level_flag=0, gpio=1, motor_cmd=[SimpleNamespace(**motor) for _ in range(20)], crc=0
        )

    class Crc:
        def Crc(self, msg):  # noqa: N802
            return int(sum(m.q * 1000 + m.kp for m in msg.motor_cmd[:12])) & 0xFFFFFFFF

    sdk = SimpleNamespace(
        ChannelFactoryInitialize=lambda domain, iface: log.setdefault("factory", (domain, iface)),
        ChannelPublisher=endpoint,
        ChannelSubscriber=endpoint,
        new_low_cmd=new_low_cmd,
        LowCmd_="LowCmd_",
        LowState_="LowState_",
        CRC=Crc,
    )
    return sdk, log


def test_the_channel_publishes_low_cmd_in_unitree_order_and_reads_low_state():
    sdk, log = _fake_sdk()
    channel = UnitreeSdkChannel("enp3s0", domain_id=0, sdk=sdk)
    assert log["factory"] == (0, "enp3s0")
    assert log["endpoints"]["rt/lowcmd"].type == "LowCmd_" and log["endpoints"]["rt/lowstate"].type == "LowState_"
    assert channel.read() is None
    q = np.linspace(-1, 1, 12)
    channel.send(q, np.zeros(12), np.full(12, 25.0), np.full(12, 0.5), np.zeros(12))
    (msg,) = log["written"]
    assert msg["head"] == [0xFE, 0xEF] and msg["level_flag"] == 0xFF
    assert [m[1] for m in msg["motors"][:12]] == pytest.approx(q)
    assert all(m[0] == 0x01 and m[3] == 25.0 and m[4] == 0.5 for m in msg["motors"][:12])
    assert all(m[1] == POS_STOP and m[3] == 0.0 and m[4] == 0.0 for m in msg["motors"][12:])  # unused motors off
    assert msg["crc"] == int(sum(q * 1000 + 25.0)) & 0xFFFFFFFF
    state = SimpleNamespace(motor_state=[SimpleNamespace(q=0.1 * i, dq=-i, tau_est=2.0 * i) for i in range(20)])
    handler = log["endpoints"]["rt/lowstate"].handler
    handler(state)
    first = channel.read()
    np.testing.assert_allclose(first.q, 0.1 * np.arange(12))
    np.testing.assert_allclose(first.tau_est, 2.0 * np.arange(12))
    handler(state)
    assert channel.read().seq == first.seq + 1
    with pytest.raises(ValueError, match="LowCmd field q"):
        channel.send(np.full(12, np.nan), np.zeros(12), np.zeros(12), np.zeros(12), np.zeros(12))
    assert len(log["written"]) == 1  # the non-finite command was not sent
    channel.close()
    assert all(e.closed for e in log["endpoints"].values())


def test_without_the_sdk_the_error_names_the_extra_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "unitree_sdk2py", None)  # importing it raises ImportError
    with pytest.raises(MissingSdkError) as err:
        import_sdk()
    assert 'pip install "learned_actuators[unitree]"' in str(err.value) and "unitree-sdk2" in str(err.value)
    argv = ["--backend", "robot", "--yes", "--groups", "calves", "chirp_duration_s=1"]
    assert run_cli(lambda a: main(a), argv) == 2
    assert "learned_actuators[unitree]" in capsys.readouterr().err
