"""What every server of the matrix gives the contract: a running server on 127.0.0.1 and a way
to make a fresh account on it, so that no two tests share a calendar home."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Account:
    """One user of a running server."""

    username: str
    password: str
    caldav_url: str  # what a user writes as `calendar.url`: the server's CalDAV root or
    #                  principal URL, from which syncd discovers the calendar home
    calendar_home: str  # the user's calendar home collection (absolute URL, ends with /)
    addressbook_url: str  # an existing address book collection of the user (absolute, ends with /)


class Server(Protocol):
    name: str  # "cyrus", "sogo", "davical", "sabre", "sabre-digest", "radicale", "xandikos"
    version: str  # as the package says, e.g. "3.6.1"
    auth: str  # "basic" or "digest": what the server accepts

    def new_account(self) -> Account:
        """A new user with its own empty calendar home and one empty address book."""
        ...

    def stop(self) -> None:
        ...


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        pass


def group_running(group: int) -> bool:
    """Whether a process of the group still runs. A zombie has ended: whoever inherited it
    reaps it, at once or later (or never, when pytest is PID 1 of a container)."""
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _parent, process_group = entry.read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, IndexError):
            continue
        if int(process_group) == group and state != "Z":
            return True
    return False


def http_status(port: int, method: str, path: str, headers: dict[str, str] | None = None,
                timeout: float = 10) -> int:
    """The status of one request to 127.0.0.1:`port`, its body read and dropped."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def stop_group(process: subprocess.Popen[bytes] | None) -> None:
    """Ends `process` and every process of its group (a server and the workers it forked):
    SIGTERM, then SIGKILL after 10 s; reaps `process` itself, init the orphans."""
    if process is None:
        return
    signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while True:
        process.poll()
        if not group_running(process.pid):
            return
        if time.monotonic() > deadline:
            signal_group(process.pid, signal.SIGKILL)
        time.sleep(0.02)
