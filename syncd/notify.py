"""systemd's notify protocol, without a dependency: one datagram per message to $NOTIFY_SOCKET.

Written by hand because the `sdnotify` package (last release 2017) encodes latin-1 and silently
drops a STATUS holding characters such as `–` (measured here); this sends UTF-8, to path and
abstract (`@name`) sockets alike. Without $NOTIFY_SOCKET every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, address: str | None = None):
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET")
        self.address = address or None
        self._socket: socket.socket | None = None
        watchdog = os.environ.get("WATCHDOG_USEC")
        watchdog_pid = os.environ.get("WATCHDOG_PID")
        usable = bool(watchdog) and (not watchdog_pid or watchdog_pid == str(os.getpid()))
        # Ping at half the interval systemd waits for, as sd_watchdog_enabled(3) advises.
        self.watchdog_interval = (int(watchdog) / 2e6 if watchdog and usable and watchdog.isdigit()
                                  else None)

    def send(self, **fields: str | int) -> bool:
        """`send(READY=1, STATUS="3 created")` → `READY=1\\nSTATUS=3 created`."""
        if not self.address:
            return False
        text = "\n".join(f"{key}={str(value).replace(chr(10), ' ')}"
                         for key, value in fields.items())
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX,
                                             socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._socket.sendto(text.encode("utf-8"), target)
            return True
        except OSError as error:
            log.debug("systemd notify to %s failed: %s", self.address, error)
            return False

    def ready(self, status: str) -> bool:
        return self.send(READY=1, STATUS=status)

    def status(self, status: str) -> bool:
        return self.send(STATUS=status)

    def watchdog(self) -> bool:
        return self.send(WATCHDOG=1)

    def stopping(self) -> bool:
        return self.send(STOPPING=1)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
