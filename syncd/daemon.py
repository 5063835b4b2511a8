"""`syncd run`: one process that schedules the same cycle `syncd sync` runs once.

It only schedules: a changed contact file (watchdog) starts a cycle after a short debounce, the
servers are polled every `poll`, the plan is redone when the local day changes, and a failing
server is retried with exponential backoff and jitter. One cycle at a time, in the main thread;
signals only set flags, so a write and its state transaction are never cut in half.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from syncd import clock, cycle
from syncd.config import Config, load_config
from syncd.errors import ConfigError, ServerError, SyncdError, TargetError
from syncd.notify import Notifier
from syncd.passwords import forget_passwords
from syncd.state import State, create_private_folders
from syncd.targets import Target

log = logging.getLogger(__name__)

WATCHED_EVENTS = frozenset({"created", "modified", "moved", "deleted", "closed"})
MAX_BACKOFF = 15 * 60.0
MAX_DEBOUNCE = 60.0
UNHEALTHY = 10  # failed cycles in a row after which the watchdog pings stop: systemd acts


@dataclass
class Timing:
    poll: float = 300.0
    debounce: float = 1.0
    timezone: str | None = None  # None: the system's local time

    @classmethod
    def of(cls, config: Config) -> Timing:
        return cls(config.daemon.poll.total_seconds(), config.daemon.debounce.total_seconds(),
                   config.timezone)


@dataclass
class Health:
    """What the daemon tells systemd and `syncd status`."""

    last_summary: str = "starting"
    failures: int = 0  # consecutive failed cycles
    blocked: str | None = None  # an authentication failure: no cycle until the config changes
    errors: dict[str, str] = field(default_factory=dict)


class StateLock:
    """One daemon per state file: an exclusive flock on `<state>.lock`, holding the pid."""

    def __init__(self, state_path: Path):
        self.path = Path(f"{state_path}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        create_private_folders(self.path.parent)  # 0700 whatever the umask, like the state's
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise SyncdError(f"another syncd is already running with {self.path.with_suffix('')}"
                             f" (pid {pid}); stop it first") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @staticmethod
    def holder(state_path: Path) -> int | None:
        """The pid of the running daemon, or None when none holds the lock."""
        path = Path(f"{state_path}.lock")
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        except BlockingIOError:
            text = os.read(fd, 32).decode(errors="replace").strip()
            return int(text) if text.isdigit() else -1
        finally:
            os.close(fd)


class _Changes(FileSystemEventHandler):
    """Wakes the daemon when a contact file changes. Atomic replaces arrive as moved events
    (temp → final), so the destination counts too; dotfiles and `*.tmp` never do."""

    def __init__(self, wanted: Callable[[Path], bool], poke: Callable[[], None]):
        self.wanted = wanted
        self.poke = poke

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in WATCHED_EVENTS or event.is_directory:
            return
        paths = [event.src_path, getattr(event, "dest_path", "")]
        if any(p and self.wanted(Path(os.fsdecode(p))) for p in paths):
            self.poke()


class _Appears(FileSystemEventHandler):
    """On the nearest existing folder above a contacts folder (or the folder of an export): a
    folder created, moved or deleted on the way to it, so that a folder made, swapped or
    re-mounted after the start is watched at once (`Daemon._watch` re-arms)."""

    def __init__(self, folder: Path, above: Path, changed: Callable[[], None]):
        self.folder = folder
        self.above = above  # the folder watched
        self.changed = changed

    def on_any_event(self, event: FileSystemEvent) -> None:
        # Not "modified": the watched folder itself is modified by every file written in it
        # (the state file's, say), which is no folder appearing.
        if not event.is_directory or event.event_type not in ("created", "moved", "deleted"):
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            path = Path(os.fsdecode(raw)) if raw else None
            if (path is not None and path != self.above
                    and (path == self.folder or path in self.folder.parents)):
                self.changed()
                return


def _existing_above(folder: Path) -> Path | None:
    for parent in folder.parents:
        if parent.is_dir():
            return parent
    return None


def _contact_file(path: Path) -> bool:
    name = path.name
    return not name.startswith(".") and not name.endswith(".tmp")


def _the_file(wanted: Path) -> Callable[[Path], bool]:
    return lambda path: path.resolve() == wanted


class Daemon:
    def __init__(self, config_path: Path | None, notifier: Notifier | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.config_path = config_path
        self.config: Config = load_config(config_path)
        self.timing = Timing.of(self.config)
        # One target for the daemon's life (until a reload): its discovery requests and its
        # connection are paid once, so an idle poll costs one request.
        self._target: Target | None = None
        self.notifier = notifier or Notifier()
        self.clock = clock
        self.health = Health()
        self._wake = threading.Event()
        self._stop = False
        self._reload = False
        self._dirty_since: float | None = None  # the last change of a contact file
        self._first_change: float | None = None  # the first since the last cycle
        self._context = cycle.RunContext(self.config)  # the run's caches, until a reload
        self._observer: Any = None
        self._next_alive = 0.0  # the next watchdog ping due inside a cycle
        self._lock: StateLock | None = None  # on the state file in use, while running
        self._rewatch = False  # a contacts folder appeared or went: `_watch` again

    # --- signals and events ------------------------------------------------------------------

    def _folders_changed(self) -> None:
        """A contacts folder (or one above it) appeared, moved or went: watch again, and read."""
        self._rewatch = True
        self.poke()

    def poke(self) -> None:
        """A contact file changed: a cycle runs once they have been quiet for the debounce (an
        export rewritten card by card is read when it is done), or at the latest
        MAX_DEBOUNCE after the first change of a file that never stops changing."""
        now = self.clock()
        if self._first_change is None:
            self._first_change = now
        self._dirty_since = now
        self._wake.set()

    def _debounced(self, now: float) -> bool:
        if self._dirty_since is None or self._first_change is None:
            return False
        return (now - self._dirty_since >= self.timing.debounce
                or now - self._first_change >= max(MAX_DEBOUNCE, self.timing.debounce))

    def _on_signal(self, number: int, _frame: object) -> None:
        if number == signal.SIGHUP:
            self._reload = True
        else:
            self._stop = True
        self._wake.set()

    def _watch(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
        observer = Observer()
        for source in self.config.contacts:
            path = source.path
            if source.type not in ("vdir", "vcf") or path is None:
                continue
            folder = path if source.type == "vdir" else path.parent
            if above := _existing_above(folder):
                observer.schedule(_Appears(folder, above, self._folders_changed), str(above))
            if source.type == "vdir" and path.is_dir():
                observer.schedule(_Changes(_contact_file, self.poke), str(path))
            elif source.type == "vcf" and path.parent.is_dir():
                observer.schedule(_Changes(_the_file(path.resolve()), self.poke), str(path.parent))
        observer.daemon = True
        observer.start()
        self._observer = observer

    def _reload_config(self) -> None:
        try:
            config = load_config(self.config_path)
        except ConfigError as error:
            log.error("the new configuration is invalid; keeping the running one:\n%s", error)
            return
        if Path(config.state) != Path(self.config.state):
            # Another state file: its lock moves with it, or the reload is refused.
            moved = StateLock(config.state)
            try:
                moved.acquire()
            except SyncdError as error:
                log.error("%s; keeping the running configuration", error)
                return
            if self._lock is not None:
                self._lock.release()
            self._lock = moved
        self.config = config
        self._context = cycle.RunContext(config)  # an edited catalog file is read again
        forget_passwords()
        self.timing = Timing.of(config)
        self._target = None
        self.health.blocked = None
        log.info("configuration reloaded from %s", config.path)
        self._watch()
        self.poke()

    # --- the loop ----------------------------------------------------------------------------

    def today(self) -> dt.date:
        return clock.today(self.timing.timezone)

    def run(self) -> int:
        self._lock = StateLock(self.config.state)
        self._lock.acquire()
        previous = {n: signal.signal(n, self._on_signal)
                    for n in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            self._watch()
            self._loop()
        finally:
            self.notifier.stopping()
            if self._observer is not None:
                self._observer.stop()
                self._observer.join()
            for number, handler in previous.items():
                signal.signal(number, handler)
            if self._lock is not None:
                self._lock.release()
            log.info("stopped")
        return 0

    def _loop(self) -> None:
        started = dt.datetime.now(dt.UTC)
        next_poll = self.clock()  # the first cycle runs at once
        next_ping = self.clock()
        day = None
        # Ready as soon as the daemon is up, not after its first cycle: a first sync of
        # thousands of objects took 315-461 s here, past systemd's 90 s start timeout.
        self.notifier.ready("started; first cycle running")
        while not self._stop:
            now = self.clock()
            if self._reload:
                self._reload = False
                self._reload_config()
            if self._rewatch:
                self._rewatch = False
                self._watch()
            debounced = self._debounced(now)
            due = now >= next_poll or debounced or self.today() != day
            if self.health.blocked is None and due:
                self._dirty_since = self._first_change = None
                day = self.today()
                delay = self.cycle(day)
                next_poll = self.clock() + delay
                self.notifier.status(self.status_line())
                self.save_status(started)
            interval = self.notifier.watchdog_interval
            if interval and self.clock() >= next_ping and self.health.failures < UNHEALTHY:
                self.notifier.watchdog()
                next_ping = self.clock() + interval
            wait = next_poll - self.clock()
            if self.health.blocked is not None:
                wait = MAX_BACKOFF  # nothing runs until a reload; signals wake the loop
            elif self._dirty_since is not None and self._first_change is not None:
                wait = min(wait, self._dirty_since + self.timing.debounce - self.clock(),
                           self._first_change + MAX_DEBOUNCE - self.clock())
            if interval and self.health.failures < UNHEALTHY:
                wait = min(wait, next_ping - self.clock())
            wait = min(wait, self._seconds_to_midnight())
            self._wake.wait(max(0.0, wait))
            self._wake.clear()

    def _seconds_to_midnight(self) -> float:
        now = clock.now_in(self.timing.timezone)
        midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), now.tzinfo)
        return max(1.0, (midnight - now).total_seconds())

    def cycle(self, today: dt.date) -> float:  # noqa: PLR0911 (a return per kind of failure)
        """Run one cycle; returns the seconds until the next poll (the backoff after a failure)."""
        try:
            if self._target is None:
                self._target = cycle.make_target(self.config.calendar)
            target = self._target
            target.failure = None  # the last failure worth a backoff
            with State(self.config.state) as state:
                # A server that fails one request (unreachable, stalled, 5xx, 429) would fail
                # the next ones too, or make each wait the whole timeout: stop, back off.
                report = cycle.sync(self.config, state, target, today,
                                    dt.datetime.now(dt.UTC), context=self._context,
                                    stop=lambda: (self._keep_alive() or self._stop
                                                  or target.failure is not None))
        except TargetError as error:
            return self._failed(error)
        except SyncdError as error:
            self.health.failures += 1
            self.health.last_summary = f"failed: {error}"
            log.error("%s", error)
            return min(self.timing.poll, 60.0)
        except Exception as error:  # a bug met by some input: this cycle fails, the daemon goes on
            self.health.failures += 1
            self.health.last_summary = f"failed: unexpected {type(error).__name__}: {error}"
            self.health.errors["cycle"] = self.health.last_summary
            log.error("cycle failed: unexpected %s: %s (the traceback at --log-level debug)",
                      type(error).__name__, error)
            log.debug("traceback", exc_info=True)
            return backoff(self.health.failures, None)
        self.health.errors.clear()
        self.health.last_summary = report.summary()
        for failure in report.source_failures:
            self.health.errors[str(failure).split(": ", 1)[0]] = str(failure)
            if failure.auth:
                return self._failed(failure)
        cut_short = target.failure
        if cut_short is not None:
            log.info("cycle, cut short: %s", report.summary())
            return self._failed(cut_short)
        transient = [f for f in report.source_failures if f.transient]
        if transient:
            return self._failed(transient[0])
        if report.errors:
            self.health.errors["cycle"] = report.errors[-1]
        self.health.failures = 0
        log.info("cycle: %s", report.summary())
        return self.timing.poll

    def _keep_alive(self) -> bool:
        """Between the actions of a long cycle: the watchdog ping systemd expects (at most one
        per half interval). Never asks to stop."""
        interval = self.notifier.watchdog_interval
        if interval and self.health.failures < UNHEALTHY and self.clock() >= self._next_alive:
            self.notifier.watchdog()
            self._next_alive = self.clock() + interval
        return False

    def _failed(self, error: ServerError) -> float:
        self.health.failures += 1
        if isinstance(error, TargetError):
            calendar = self.config.calendar.url or str(self.config.calendar.path)
            self.health.errors[calendar] = str(error)
        if error.auth:
            self.health.blocked = f"{error}; fix the configuration, then reload (SIGHUP)"
            self.health.last_summary = f"stopped writing: {self.health.blocked}"
            log.error("%s", self.health.last_summary)
            return self.timing.poll
        self.health.last_summary = f"failed: {error}"
        delay = backoff(self.health.failures, error.retry_after)
        log.warning("%s; retrying in %.0f s", error, delay)
        return delay

    def status_line(self) -> str:
        return self.health.last_summary  # when blocked, it says so and why

    def save_status(self, started: dt.datetime) -> None:
        """What `syncd status` shows, written after every cycle."""
        more = {"pid": str(os.getpid()), "started": started.isoformat(timespec="seconds"),
                "failures": str(self.health.failures)}
        try:
            with State(self.config.state) as state:
                ok = not self.health.failures and not self.health.errors
                cycle.record_outcome(state, self.status_line(), self.health.errors, more,
                                     kind=cycle.DAEMON, ok=ok)
        except SyncdError as error:
            log.error("cannot record the status: %s", error)


def backoff(failures: int, retry_after: float | None,
            rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff from 2 s with jitter (half fixed, half random), capped at 15 min, and
    never shorter than the server's Retry-After."""
    ceiling = min(MAX_BACKOFF, 2.0 ** min(failures, 30))  # 2 s, 4 s, 8 s, …; no overflow
    delay = ceiling / 2 + rand() * ceiling / 2
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
