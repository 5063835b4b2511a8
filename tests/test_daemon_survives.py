"""An unexpected exception in a cycle (a bug some input meets) fails that cycle, not the daemon:
one line at error, the traceback at debug, a backoff, and the next cycle runs as usual. A bug
cannot be produced on demand by real parts, so this one is injected into `cycle.sync`."""

from __future__ import annotations

import datetime as dt
import logging
import textwrap

from sync_support import write_card

from syncd import cycle
from syncd.daemon import Daemon


def test_an_unexpected_exception_fails_one_cycle_and_the_next_one_runs(tmp_path, monkeypatch,
                                                                        caplog):
    (tmp_path / "contacts").mkdir()
    write_card(tmp_path / "contacts", "ann", "Ann Rossi", interests="sailing")
    config = tmp_path / "config.yaml"
    config.write_text(textwrap.dedent(f"""\
        contacts: [{{type: vdir, path: {tmp_path / 'contacts'}}}]
        calendar: {{type: local, path: {tmp_path / 'calendar'}}}
        state: {tmp_path / 'state.sqlite'}
        """))
    daemon = Daemon(config)
    real_sync = cycle.sync

    def buggy(*args, **kwargs):
        raise KeyError("a card no test foresaw")

    monkeypatch.setattr(cycle, "sync", buggy)
    with caplog.at_level(logging.DEBUG, logger="syncd"):
        delay = daemon.cycle(dt.date(2026, 11, 30))
    assert 0 < delay <= 2.0 and daemon.health.failures == 1
    assert "unexpected KeyError" in daemon.status_line()
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "cycle failed: unexpected KeyError" in line.getMessage() and line.exc_info is None
    assert any(r.exc_info for r in caplog.records if r.levelno == logging.DEBUG)

    monkeypatch.setattr(cycle, "sync", real_sync)
    assert daemon.cycle(dt.date(2026, 11, 30)) == daemon.timing.poll
    assert daemon.health.failures == 0 and "1 created" in daemon.status_line()


def test_ready_comes_before_a_long_first_cycle_and_the_watchdog_is_pinged_during_it(tmp_path):
    """systemd kills a unit that is not READY within its start timeout, or that misses a
    watchdog ping: a first sync of thousands of objects took minutes. READY is sent once the
    daemon is up, and the watchdog is pinged between the actions of a cycle."""
    import socket
    import subprocess
    import sys

    cards = tmp_path / "contacts"
    cards.mkdir()
    for n in range(400):
        write_card(cards, f"p{n:03d}", f"Person {n}", interests="sailing")
    config = tmp_path / "config.yaml"
    config.write_text(textwrap.dedent(f"""\
        contacts: [{{type: vdir, path: {cards}}}]
        calendar: {{type: local, path: {tmp_path / 'calendar'}}}
        rules: {{weekly_cap: 1000, working_days: [mon, tue, wed, thu, fri, sat, sun]}}
        state: {tmp_path / 'state.sqlite'}
        """))
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(tmp_path / "notify.sock"))
    listener.settimeout(60)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "syncd", "run", "--config", str(config)],
        env={"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "100000",
             "PATH": "/usr/bin:/bin"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        messages: list[str] = []
        while not any("created" in m for m in messages if m.startswith("STATUS=")):
            messages.append(listener.recv(4096).decode("utf-8"))
    finally:
        daemon.terminate()
        daemon.wait(30)
        listener.close()
    assert messages[0].startswith("READY=1\nSTATUS=started")
    first_status = next(i for i, m in enumerate(messages) if m.startswith("STATUS="))
    pings = messages[1:first_status].count("WATCHDOG=1")
    created = int(messages[first_status].split("STATUS=")[1].split(" created")[0])
    assert created >= 400 and pings >= 2, (created, messages[:first_status + 1])


def test_a_reload_with_another_state_file_moves_the_lock(tmp_path):
    """SIGHUP with a new `state:`: the daemon takes the new file's lock and lets the old one go,
    so that no second daemon can run on the state file in use (before: it kept the old lock)."""
    import signal
    import subprocess
    import sys
    import time

    (tmp_path / "contacts").mkdir()
    write_card(tmp_path / "contacts", "ann", "Ann Rossi", interests="sailing")

    def configure(path, state):
        path.write_text(textwrap.dedent(f"""\
            contacts: [{{type: vdir, path: {tmp_path / 'contacts'}}}]
            calendar: {{type: local, path: {tmp_path / 'calendar'}}}
            state: {tmp_path / state}
            """))
        return path

    def start(path, log):
        return subprocess.Popen([sys.executable, "-m", "syncd", "--log-level", "info", "run",
                                 "--config", str(path)], stdout=subprocess.DEVNULL,
                                stderr=log.open("w"))

    first = configure(tmp_path / "a.yaml", "one.sqlite")
    daemon = start(first, tmp_path / "a.log")
    try:
        for _ in range(600):
            if "cycle:" in (tmp_path / "a.log").read_text():
                break
            time.sleep(0.05)
        configure(first, "two.sqlite")
        daemon.send_signal(signal.SIGHUP)
        for _ in range(600):
            if "configuration reloaded" in (tmp_path / "a.log").read_text():
                break
            time.sleep(0.05)
        on_new = subprocess.run([sys.executable, "-m", "syncd", "run", "--config",
                                 str(configure(tmp_path / "b.yaml", "two.sqlite"))],
                                capture_output=True, text=True, timeout=60)
        assert on_new.returncode == 1 and "another syncd is already running" in on_new.stderr
        on_old = start(configure(tmp_path / "c.yaml", "one.sqlite"), tmp_path / "c.log")
        for _ in range(600):
            if "cycle:" in (tmp_path / "c.log").read_text() or on_old.poll() is not None:
                break
            time.sleep(0.05)
        assert on_old.poll() is None, (tmp_path / "c.log").read_text()  # the old lock is free
        on_old.terminate()
        assert on_old.wait(30) == 0
    finally:
        daemon.terminate()
        daemon.wait(30)


def test_a_contacts_folder_made_after_the_start_is_watched(tmp_path):
    """The folder is made (an unmounted disk mounted, a sync tool's first run) after `syncd run`
    started: its cards reach the calendar by the watch, not by the next poll (10 minutes here;
    before, nothing was watched until then)."""
    import subprocess
    import sys
    import time

    folder = tmp_path / "mnt" / "contacts"
    config = tmp_path / "config.yaml"
    config.write_text(textwrap.dedent(f"""\
        contacts: [{{type: vdir, path: {folder}}}]
        calendar: {{type: local, path: {tmp_path / 'calendar'}}}
        daemon: {{poll: 10m, debounce: 1s}}
        state: {tmp_path / 'state.sqlite'}
        """))
    log = tmp_path / "run.log"
    daemon = subprocess.Popen([sys.executable, "-m", "syncd", "--log-level", "info", "run",
                               "--config", str(config)], stdout=subprocess.DEVNULL,
                              stderr=log.open("w"))
    try:
        for _ in range(600):
            if "cycle" in log.read_text():
                break
            time.sleep(0.05)
        (tmp_path / "mnt").mkdir()  # two levels made, one after the other
        folder.mkdir()
        write_card(folder, "ann", "Ann Rossi", interests="sailing")
        for _ in range(1200):
            if "1 created" in log.read_text() or daemon.poll() is not None:
                break
            time.sleep(0.05)
        assert "1 created" in log.read_text(), log.read_text()
        assert len(list((tmp_path / "calendar").glob("*.ics"))) == 1
    finally:
        daemon.terminate()
        daemon.wait(30)
