"""The daemon against a failing server (issue 7, the fault suite).

`syncd run` as a real subprocess, writing into the session's Radicale through the fault proxy
of `tests/loopback_proxy.py` on loopback, with `calendar.timeout: 2s` and `daemon.poll: 1s`.
Each case: the daemon syncs 12 contacts; then the fault is switched on and the cards change
(3 added, 1 renamed, 1 removed: creates, an update and a delete to do); for `WINDOW` seconds

- the daemon stays up and backs off: at most `MAX_RATE` requests a second reach the proxy, and
  its failed cycles follow the exponential backoff (at most 3 in the window, where a poll of
  1 s without backoff would fail 4 or 5 times); after a 429 or a 503 with Retry-After no request
  comes sooner than that; after a 401 none comes at all until SIGHUP;
- `syncd status --json` and `syncd status` name the calendar's URL and the status or error;

then the fault is lifted (and one more card written, which wakes the daemon at once), and the
server holds exactly the planned set (`syncd plan --json`): every UID once, nothing missing,
nothing extra, and `syncd status` is healthy again.

Faults that are not failures are checked as such: a 412 on a PUT is a lost race decided again
in the next cycle (the PUT is sent again after a full listing), and a sync token the server
refuses (403 or 409 with DAV:valid-sync-token) makes the daemon list the calendar with PROPFIND
and go on writing, with a healthy status, during the fault.
"""

from __future__ import annotations

import re
import signal
import subprocess
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fault_support import (
    ServerCalendar,
    check_calendar,
    loopback_env,
    planned,
    status,
    syncd_command,
    write_card,
)
from loopback_proxy import Fault, LoopbackProxy

from syncd.demo import RadicaleServer

WINDOW = 5.0  # seconds each fault lasts
MAX_RATE = 3.0  # requests a second while it lasts
MAX_FAILED_CYCLES = 3  # backoff from 1–2 s, doubling: cycles at 0, ≥1, ≥3, then ≥7 s
RETRY_AFTER = 3
TOKEN_REFUSED = (b'<?xml version="1.0" encoding="utf-8"?>'
                 b'<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>')
INJECTED: dict[str, int] = {}  # faults answered by the proxy, per case (the report's figures)
MESSAGES: dict[str, str] = {}  # what `syncd status` said, per case


@dataclass
class Case:
    """One kind of fault: the proxy's answer for a (method, path), or `refuse` (no proxy)."""

    fault: Fault | None = None
    methods: tuple[str, ...] = ()  # only these methods; () for all
    once_per_path: bool = False
    refuse: bool = False
    error: str = ""  # what `syncd status` must say (a regex), besides the URL
    failing: bool = True  # False: not a failure, the daemon goes on working during the fault
    retry_after: float | None = None
    blocks: bool = False  # 401: no cycle until SIGHUP
    seen: set[str] = field(default_factory=set)

    def answer(self, method: str, path: str) -> Fault | None:
        if self.fault is None or (self.methods and method not in self.methods):
            return None
        if self.once_per_path:
            if path in self.seen:
                return None
            self.seen.add(path)
        return self.fault


def _xml(status: int) -> Fault:
    return Fault(status=status, body=TOKEN_REFUSED, content_type="application/xml; charset=utf-8",
                 only_if_body=b"/ns/sync/")


CASES: dict[str, Callable[[], Case]] = {
    "refused": lambda: Case(refuse=True, error=r"cannot connect: Connection refused"),
    "stall-30s": lambda: Case(Fault(delay=30, reset=True),
                                error=r"no answer within 2 s \(the timeout\)"),
    "500": lambda: Case(Fault(status=500), error=r"500 Internal Server Error"),
    "502": lambda: Case(Fault(status=502), error=r"502 Bad Gateway"),
    "503": lambda: Case(Fault(status=503), error=r"503 Service Unavailable"),
    "503-retry-after": lambda: Case(Fault(status=503, retry_after=RETRY_AFTER),
                                    error=r"503 Service Unavailable \(retry after 3 s\)",
                                    retry_after=RETRY_AFTER),
    "429-retry-after": lambda: Case(Fault(status=429, retry_after=RETRY_AFTER),
                                    error=r"429 rate limited by the server \(retry after 3 s\)",
                                    retry_after=RETRY_AFTER),
    "401": lambda: Case(Fault(status=401), error=r"401 Unauthorized: authentication failed",
                        blocks=True),
    "412-put": lambda: Case(Fault(status=412), methods=("PUT",), once_per_path=True,
                            failing=False),
    "reset-before-write": lambda: Case(Fault(reset=True), methods=("PUT", "DELETE"),
                                       error=r"the connection was dropped before an answer"),
    "reset-after-write": lambda: Case(Fault(reset=True, forward=True), methods=("PUT", "DELETE"),
                                      error=r"the connection was dropped before an answer"),
    "sync-token-403": lambda: Case(_xml(403), methods=("REPORT",), failing=False),
    "sync-token-409": lambda: Case(_xml(409), methods=("REPORT",), failing=False),
    "not-xml-200": lambda: Case(Fault(status=200, body=b"<html><body>Welcome to nginx!",
                                      content_type="text/html"),
                                methods=("PROPFIND", "REPORT"),
                                error=r"200 OK instead of 207 Multi-Status: an HTML page, not a WebDAV multistatus"),
    "not-xml-207": lambda: Case(Fault(status=207, body=b"<?xml version='1.0'?><D:multistatus xm",
                                      content_type="application/xml"),
                                methods=("PROPFIND", "REPORT"), error=r"the server sent malformed XML"),
}


class Daemon:
    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.log_path = home / "daemon.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            syncd_command(home / "config.yaml", "--log-level", "info", "run"),
            stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def output(self) -> str:
        return self.log_path.read_text()

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_for(self, condition: Callable[[], object], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            assert self.alive(), self.output()[-3000:]
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}:\n{self.output()[-4000:]}")

    def failed_cycles(self) -> int:
        """Cycles that failed and were given a backoff (`...; retrying in N s`)."""
        return len(re.findall(r"; retrying in \d+ s$", self.output(), re.MULTILINE))

    def stop(self) -> int | None:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        self.log.close()
        return self.process.returncode


@pytest.fixture(scope="module", autouse=True)
def report_injected() -> Iterator[None]:
    """Prints how many faults the proxy answered, per case, once the module is done."""
    yield
    for name, message in MESSAGES.items():
        print(f"\n{name}: {message}", end="")
    if INJECTED:
        print("\nfaults injected: " + ", ".join(f"{k} {v}" for k, v in INJECTED.items())
              + f"; total {sum(INJECTED.values())}")


@pytest.fixture
def home(tmp_path: Path, radicale: RadicaleServer) -> Iterator[tuple[Path, str]]:
    (tmp_path / "contacts").mkdir()
    for i in range(12):
        write_card(tmp_path / "contacts", f"c{i:02d}", f"Person {i}")
    yield tmp_path, f"faults-{uuid.uuid4().hex[:8]}"


def _write_config(home: Path, url: str, calendar: str, radicale: RadicaleServer) -> None:
    (home / "config.yaml").write_text(textwrap.dedent(f"""\
        contacts: [{{type: vdir, path: contacts}}]
        calendar:
          type: caldav
          url: {url}
          calendar: {calendar}
          username: {radicale.username}
          password_env: SYNCD_TEST_PASSWORD
          timeout: 2s
        rules: {{weekly_cap: 1000, working_days: [mon, tue, wed, thu, fri, sat, sun]}}
        daemon: {{poll: 1s, debounce: 1s}}
        state: state.sqlite
        """))


def _settled(config: Path, env: dict[str, str], calendar: ServerCalendar, count: int) -> bool:
    """The server holds exactly the plan (`count` follow-ups) and the status is healthy."""
    objects = calendar.objects()
    if len(objects) != count:  # not yet: spare the three CLI runs below
        return False
    try:
        check_calendar(objects, set(planned(config, env)))
    except AssertionError:
        return False
    recorded, _ = status(config, env)
    return not recorded["errors"] and not (recorded["last_result"] or "failed").startswith(
        ("failed", "stopped"))


@pytest.mark.parametrize("name", list(CASES))
def test_the_daemon_rides_out_a_fault(name, home, radicale):
    case = CASES[name]()
    folder, calendar_name = home
    cards = folder / "contacts"
    config = folder / "config.yaml"
    env = loopback_env(SYNCD_TEST_PASSWORD=radicale.password or "")
    calendar = ServerCalendar(radicale, calendar_name)
    proxy = LoopbackProxy(radicale.url).__enter__()
    _write_config(folder, proxy.url, calendar_name, radicale)
    daemon = Daemon(folder, env)
    injected = 0
    try:
        daemon.wait_for(lambda: _settled(config, env, calendar, 12), 30, "the first cycle")

        def answer(method: str, path: str) -> Fault | None:
            nonlocal injected
            fault = case.answer(method, path)
            injected += fault is not None
            return fault

        # The fault, and work for the daemon to do while it lasts.
        failed_before = daemon.failed_cycles()
        if case.refuse:
            port = proxy.port
            proxy.__exit__()
        else:
            proxy.fault = answer
        begun = time.monotonic()
        requests_before = len(proxy.requests)
        for i in range(12, 15):
            write_card(cards, f"c{i:02d}", f"Person {i}")
        write_card(cards, "c03", "Person 3 Renamed")
        (cards / "c05.vcf").unlink()

        if case.failing:
            url = proxy.url
            daemon.wait_for(lambda: url in status(config, env)[0]["errors"], WINDOW,
                            "the failure in syncd status")
            recorded, text = status(config, env)
            message = MESSAGES[name] = recorded["errors"][url]
            assert re.search(case.error, message), message
            assert url in message or case.blocks, message
            assert re.search(case.error, recorded["last_result"]), recorded["last_result"]
            assert f"last error at {url}: " in text and re.search(case.error, text), text
            assert recorded["running"] is True
        time.sleep(max(0.0, begun + WINDOW - time.monotonic()))

        # While it lasted: up, backing off, never faster than the server asked.
        assert daemon.alive(), daemon.output()[-3000:]
        elapsed = time.monotonic() - begun
        during = proxy.times[requests_before:]
        if case.failing:
            assert len(during) <= MAX_RATE * elapsed, f"{len(during)} requests in {elapsed:.1f} s"
        if case.failing and not case.blocks:
            assert 1 <= daemon.failed_cycles() - failed_before <= MAX_FAILED_CYCLES, daemon.output()
        if case.retry_after:
            gaps = [b - a for a, b in zip(during, during[1:])]
            assert during and min(gaps, default=RETRY_AFTER) >= case.retry_after - 0.1, gaps
        if case.blocks:
            assert len(during) == 1, proxy.requests[requests_before:]
            assert "stopped writing" in status(config, env)[0]["last_result"]
        if not case.failing:  # the daemon kept working: the new cards are on the server
            objects = calendar.objects()
            assert len({o.contact for o in objects} & {"c12", "c13", "c14"}) == 3
            recorded, _ = status(config, env)
            assert recorded["errors"] == {}, recorded
            assert re.match(r"\d+ created, ", recorded["last_result"]), recorded
        if name.startswith("sync-token"):
            assert injected >= 1
            listings = [p for m, p in proxy.requests[requests_before:] if m == "PROPFIND"]
            assert calendar.path() in listings, proxy.requests[requests_before:]
        if name == "412-put":
            puts = [p for m, p in proxy.requests[requests_before:] if m == "PUT"]
            assert injected >= 4 and all(puts.count(p) == 2 for p in case.seen), puts

        # The fault lifted: everything as planned, the status healthy.
        if case.refuse:
            proxy = LoopbackProxy(radicale.url, port=port).__enter__()
        proxy.fault = None
        if case.blocks:
            daemon.process.send_signal(signal.SIGHUP)
        write_card(cards, "c15", "Person 15")
        daemon.wait_for(lambda: _settled(config, env, calendar, 15), 30, "recovery")
        figures = check_calendar(calendar.objects(), set(planned(config, env)))
        assert figures["open"] == 15
        assert daemon.alive()
    finally:
        INJECTED[name] = injected if not case.refuse else max(1, daemon.failed_cycles())
        returncode = daemon.stop()
        proxy.__exit__()
    assert returncode == 0, daemon.output()[-3000:]
    assert radicale.password not in daemon.output()
