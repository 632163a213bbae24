"""Make every outgoing connection and DNS lookup of this process fail, and record the attempts."""

from __future__ import annotations

import socket

ATTEMPTS: list[str] = []


def _blocked(kind):
    def fail(*args, **kwargs):
        ATTEMPTS.append(f"{kind}{args[:2]!r}")
        raise OSError(f"network access blocked by the test ({kind})")

    return fail


def install() -> None:
    """Patch DNS resolution and socket connects to raise ``OSError`` and log into :data:`ATTEMPTS`."""
    socket.getaddrinfo = _blocked("getaddrinfo")
    socket.gethostbyname = _blocked("gethostbyname")
    socket.create_connection = _blocked("create_connection")
    socket.socket.connect = _blocked("connect")
    socket.socket.connect_ex = _blocked("connect_ex")
