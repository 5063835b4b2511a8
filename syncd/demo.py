"""`syncd demo`, and the real Radicale on 127.0.0.1 that it and the tests run.

    with RadicaleServer(storage_dir, auth=True) as server:
        server.url, server.username, server.password

Radicale runs as a subprocess (`python -m radicale`) on a free port, with its storage and (when
`auth` is true) a plain-text htpasswd file inside `storage_dir`; `fsync=False` makes it skip
its fsync per write (tests that write hundreds of objects). No configuration file is read
(neither /etc/radicale/config nor the user's), so the server is the same on every machine.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

import icalendar

from syncd import cycle
from syncd.config import load_config
from syncd.errors import SyncdError
from syncd.state import State

log = logging.getLogger(__name__)

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# Radicale's entry point with its private option `storage._filesystem_fsync` off: no fsync per
# written item. Private options are refused on the command line and in configuration files, so
# it is set as Radicale sets its own defaults (a privileged update) right after loading. Only for
# throwaway servers in tests: it makes a PUT several times cheaper.
_NO_FSYNC = """\
from radicale import __main__ as main, config
load = config.load
def load_without_fsync(paths):
    configuration = load(paths)
    configuration.update({"storage": {"_filesystem_fsync": "False"}}, "syncd tests (no fsync)",
                         privileged=True)
    return configuration
config.load = load_without_fsync
main.run()
"""


class RadicaleError(RuntimeError):
    """Radicale did not start; the message carries its stderr."""


class RadicaleServer:
    def __init__(
        self,
        storage_dir: str | os.PathLike[str],
        auth: bool = True,
        username: str = "alice",
        password: str = "s3cret-pw",
        startup_timeout: float = 20.0,
        fsync: bool = True,
    ) -> None:
        self.storage_dir = Path(storage_dir)
        self.auth = auth
        self.username = username
        self.password = password if auth else None
        self.startup_timeout = startup_timeout
        self.fsync = fsync
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """The server root, e.g. http://127.0.0.1:PORT/ (the CalDAV context path)."""
        return f"http://{HOST}:{self.port}/"

    @property
    def user_url(self) -> str:
        """The user's principal collection, e.g. http://127.0.0.1:PORT/alice/."""
        return f"{self.url}{self.username}/"

    def _command(self) -> list[str]:
        # `-m radicale`, or the same entry point with fsync turned off (see _NO_FSYNC).
        start = ["-m", "radicale"] if self.fsync else ["-c", _NO_FSYNC]
        command = [
            sys.executable, *start,
            "--server-hosts", f"{HOST}:{self.port}",
            "--storage-filesystem-folder", str(self.storage_dir / "collections"),
            "--logging-level", "warning",
            "--auth-delay", "0",
        ]
        if self.auth:
            users = self.storage_dir / "htpasswd"
            users.write_text(f"{self.username}:{self.password}\n", encoding="utf-8")
            users.chmod(0o600)
            command += [
                "--auth-type", "htpasswd",
                "--auth-htpasswd-filename", str(users),
                "--auth-htpasswd-encryption", "plain",
            ]
        else:
            command += ["--auth-type", "none"]
        return command

    def start(self) -> RadicaleServer:
        self.storage_dir.mkdir(parents=True, exist_ok=True)
        last_error: RadicaleError | None = None
        for _ in range(3):  # another process may take the free port between probe and bind
            try:
                self._start_once()
                return self
            except RadicaleError as error:
                last_error = error
                self.port = 0
                if "address already in use" not in str(error).lower():
                    raise
        assert last_error is not None
        raise last_error

    def _start_once(self) -> None:
        # A restart keeps its port, so that clients see the same server come back.
        self.port = self.port or free_port()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (open while the server runs)
        env = dict(os.environ, RADICALE_CONFIG="")  # "" = no configuration files at all
        self._process = subprocess.Popen(
            self._command(), stdin=subprocess.DEVNULL, stdout=self._stderr,
            stderr=subprocess.STDOUT, env=env,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                output = self._output()
                self._cleanup()
                raise RadicaleError(
                    f"Radicale exited with status {self._process.returncode} before "
                    f"listening on {HOST}:{self.port}:\n{output}"
                )
            try:
                with socket.create_connection((HOST, self.port), timeout=0.2):
                    log.debug("Radicale listening on %s", self.url)
                    return
            except OSError:
                time.sleep(0.05)
        output = self._output()
        self.stop()
        raise RadicaleError(
            f"Radicale did not listen on {HOST}:{self.port} within {self.startup_timeout:g} s:\n"
            f"{output}"
        )

    def _output(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace").strip() or "(no output)"

    def _cleanup(self) -> None:
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self._cleanup()

    def __enter__(self) -> RadicaleServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


DEMO_CONFIG = """\
contacts:
  - type: vdir
    path: {samples}/contacts
  - type: vcf
    path: {samples}/example-export.vcf
calendar:
  type: caldav
  url: {url}
  calendar: Follow-ups
  username: {username}
  password_env: SYNCD_DEMO_PASSWORD
me:
  interests: [leadership, sailing]
  language: en
tags:
  synonyms: {{vela: sailing}}
state: {folder}/syncd.sqlite
"""


def run_demo(samples: Path, today: dt.date, echo: Callable[[str], None]) -> None:
    """Start a throwaway Radicale, sync the sample contacts into it twice, show what it holds."""
    if not (samples / "contacts").is_dir():
        raise SyncdError(f"{samples / 'contacts'}: no sample contacts here; run the demo from "
                         "the syncd source folder or pass --samples")
    with tempfile.TemporaryDirectory(prefix="syncd-demo-") as folder:
        server = RadicaleServer(Path(folder) / "radicale", password=secrets.token_urlsafe(12))
        with server:
            echo(f"Radicale is running at {server.url} (storage in {folder})")
            os.environ["SYNCD_DEMO_PASSWORD"] = server.password or ""
            config_path = Path(folder) / "config.yaml"
            config_path.write_text(DEMO_CONFIG.format(
                samples=samples.resolve(), url=server.url, username=server.username,
                folder=folder,
            ))
            config = load_config(config_path)
            people = cycle.read_contacts(config).contacts
            echo(f"Read {len(people)} contacts from {samples.resolve()}:")
            for person in people:
                echo(f"  {person.name:<16} " + " ".join(f"#{t}" for t in person.interests))
            target = cycle.make_target(config.calendar)
            now = dt.datetime.now(dt.UTC)
            with State(config.state) as state:
                echo(f"\nsyncd sync --today {today}: "
                     + cycle.sync(config, state, target, today, now).summary())
                echo(f"\nThe calendar 'Follow-ups' on {server.url} now holds:")
                todos = [
                    next(iter(icalendar.Calendar.from_ical(target.get(href)[0]).walk("VTODO")))
                    for href in target.list()
                ]
                for todo in sorted(todos, key=lambda t: (t.decoded("DUE"), str(t["SUMMARY"]))):
                    echo(f"\n  {todo.decoded('DUE')}  {todo['SUMMARY']}")
                    for line in str(todo["DESCRIPTION"]).splitlines():
                        echo(f"      {line}")
                again = cycle.sync(config, state, target, today, now)
                echo("\nsyncd sync again: " + again.summary())
        echo("Radicale stopped; the temporary folder is gone.")
