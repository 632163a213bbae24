"""Unitree's Python SDK (``unitree_sdk2py``, package ``unitree-sdk2``) as a :class:`~.robot_backend.LowLevelChannel`.

Publishes ``LowCmd`` on ``rt/lowcmd`` and subscribes to ``LowState`` on ``rt/lowstate`` (DDS, Go2 message types).
The SDK is imported only when a channel is created; without it :func:`import_sdk` raises :class:`MissingSdkError`
naming the extra to install (``pip install "learned_actuators[unitree]"``; its ``cyclonedds==0.10.2`` has wheels
up to Python 3.10 only, later Pythons build it against the CycloneDDS C library named by ``CYCLONEDDS_HOME``).
The robot must be in low-level mode (Unitree's sport mode released, e.g. in the app) and hanging with its feet off
the ground.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np

from ..errors import UserInputError
from .robot_backend import MotorState

__all__ = ["SDK_EXTRA", "MissingSdkError", "UnitreeSdkChannel", "fill_low_cmd", "import_sdk", "init_low_cmd"]

SDK_EXTRA = "unitree"
"""Optional extra of this package that installs the SDK (``unitree-sdk2``)."""

NUM_LEG_MOTORS = 12
POS_STOP = 2.146e9
"""Unitree's "no position target" value for motors that are not commanded."""
VEL_STOP = 16000.0
"""Unitree's "no velocity target" value."""
MOTOR_MODE_SERVO = 0x01
"""``MotorCmd.mode`` enabling a motor's PD (servo) control."""


class MissingSdkError(UserInputError):
    """Unitree's SDK is not installed; the message names the extra to install."""


def import_sdk() -> SimpleNamespace:
    """The SDK names this backend uses (imported now).

    Raises:
        MissingSdkError: ``unitree_sdk2py`` (or its DDS library) cannot be imported.
    """
    try:
        from unitree_sdk2py.core.channel import ChannelFactoryInitialize, ChannelPublisher, ChannelSubscriber
        from unitree_sdk2py.idl.default import unitree_go_msg_dds__LowCmd_
        from unitree_sdk2py.idl.unitree_go.msg.dds_ import LowCmd_, LowState_
        from unitree_sdk2py.utils.crc import CRC
    except ImportError as err:
        raise MissingSdkError(
            f"the real-robot backend needs Unitree's Python SDK (module unitree_sdk2py, package unitree-sdk2), "
            f'which cannot be imported ({err}). Install the optional extra: pip install "learned_actuators'
            f'[{SDK_EXTRA}]" (or pip install unitree-sdk2), or use --backend sim.'
        ) from err
    return SimpleNamespace(
        ChannelFactoryInitialize=ChannelFactoryInitialize,
        ChannelPublisher=ChannelPublisher,
        ChannelSubscriber=ChannelSubscriber,
        new_low_cmd=unitree_go_msg_dds__LowCmd_,
        LowCmd_=LowCmd_,
        LowState_=LowState_,
        CRC=CRC,
    )


def init_low_cmd(cmd) -> None:
    """Header of a Go2 ``LowCmd`` for low-level control, every motor (20) without a target and with zero gains."""
    cmd.head[0], cmd.head[1] = 0xFE, 0xEF
    cmd.level_flag = 0xFF
    cmd.gpio = 0
    for motor in cmd.motor_cmd:
        motor.mode = MOTOR_MODE_SERVO
        motor.q, motor.dq = POS_STOP, VEL_STOP
        motor.kp = motor.kd = motor.tau = 0.0


def fill_low_cmd(cmd, q: np.ndarray, dq: np.ndarray, kp: np.ndarray, kd: np.ndarray, tau: np.ndarray) -> None:
    """Write the 12 leg motors' command (Unitree's motor order) into ``cmd``; refuses non-finite values."""
    arrays = {"q": q, "dq": dq, "kp": kp, "kd": kd, "tau": tau}
    for name, values in arrays.items():
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (NUM_LEG_MOTORS,) or not np.isfinite(values).all():
            raise ValueError(f"LowCmd field {name}: expected {NUM_LEG_MOTORS} finite values, got {values!r}.")
    for i in range(NUM_LEG_MOTORS):
        motor = cmd.motor_cmd[i]
        motor.mode = MOTOR_MODE_SERVO
        motor.q, motor.dq = float(q[i]), float(dq[i])
        motor.kp, motor.kd, motor.tau = float(kp[i]), float(kd[i]), float(tau[i])


class UnitreeSdkChannel:
    """Low-level channel to a Go2 through ``unitree_sdk2py`` (see the module docstring).

    Args:
        network_interface: Interface connected to the robot (``eth0``, ...).
        domain_id: DDS domain (0 on the robot).
        sdk: The SDK names (default: :func:`import_sdk`); tests pass a stand-in for the robot side.
    """

    def __init__(self, network_interface: str, domain_id: int = 0, sdk: SimpleNamespace | None = None):
        sdk = sdk or import_sdk()
        sdk.ChannelFactoryInitialize(domain_id, network_interface)
        self._lock = threading.Lock()
        self._state: MotorState | None = None
        self._cmd = sdk.new_low_cmd()
        init_low_cmd(self._cmd)
        self._crc = sdk.CRC()
        self._pub = sdk.ChannelPublisher("rt/lowcmd", sdk.LowCmd_)
        self._pub.Init()
        self._sub = sdk.ChannelSubscriber("rt/lowstate", sdk.LowState_)
        self._sub.Init(self._on_state, 10)

    def _on_state(self, msg) -> None:
        motors = msg.motor_state
        q = np.array([motors[i].q for i in range(NUM_LEG_MOTORS)], dtype=np.float64)
        dq = np.array([motors[i].dq for i in range(NUM_LEG_MOTORS)], dtype=np.float64)
        tau = np.array([motors[i].tau_est for i in range(NUM_LEG_MOTORS)], dtype=np.float64)
        with self._lock:
            seq = self._state.seq + 1 if self._state is not None else 1
            self._state = MotorState(q, dq, tau, seq)

    def read(self) -> MotorState | None:
        """The newest motor state (None before the first ``LowState``)."""
        with self._lock:
            return self._state

    def send(self, q: np.ndarray, dq: np.ndarray, kp: np.ndarray, kd: np.ndarray, tau: np.ndarray) -> None:
        """Publish one ``LowCmd`` for the 12 leg motors (Unitree's order), with its CRC."""
        fill_low_cmd(self._cmd, q, dq, kp, kd, tau)
        self._cmd.crc = self._crc.Crc(self._cmd)
        self._pub.Write(self._cmd)

    def close(self) -> None:
        """Close the subscriber and the publisher."""
        self._sub.Close()
        self._pub.Close()
