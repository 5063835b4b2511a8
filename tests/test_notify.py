import os
import socket

import pytest

from syncd.notify import Notifier


@pytest.fixture(params=["path", "abstract"])
def listener(request, tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if request.param == "path":
        address = str(tmp_path / "notify")
        sock.bind(address)
    else:
        name = f"syncd-test-{os.getpid()}-{id(sock)}"
        sock.bind("\0" + name)
        address = "@" + name
    sock.settimeout(2)
    yield address, sock
    sock.close()


def test_ready_status_watchdog_stopping_in_utf8(listener):
    address, sock = listener
    notifier = Notifier(address)
    assert notifier.ready("3 created – all well, città")
    assert sock.recv(4096).decode("utf-8") == "READY=1\nSTATUS=3 created – all well, città"
    notifier.watchdog()
    assert sock.recv(4096) == b"WATCHDOG=1"
    notifier.status("line one\nline two")
    assert sock.recv(4096) == b"STATUS=line one line two"
    notifier.stopping()
    assert sock.recv(4096) == b"STOPPING=1"
    notifier.close()


def test_without_socket_nothing_is_sent(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert Notifier().ready("x") is False


def test_watchdog_interval_is_half_of_watchdog_usec(monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert Notifier("@x").watchdog_interval == 15.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))  # meant for another process
    assert Notifier("@x").watchdog_interval is None
