"""`syncd run` as a real subprocess: a temp vdir, a real Radicale, signals, systemd notify."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import caldav
import pytest

from syncd.demo import RadicaleServer

CARD = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nNOTE:#sailing\r\nEND:VCARD\r\n"


def write_atomically(path, text):
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    os.replace(temp, path)


class Daemon:
    def __init__(self, home, env=None):
        self.home = home
        self.log = open(home / "daemon.log", "w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "syncd", "--log-level", "debug", "run", "--config",
             str(home / "config.yaml")],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
        )

    def output(self):
        self.log.flush()
        return (self.home / "daemon.log").read_text()

    def wait_for(self, condition, timeout=10.0, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return time.monotonic()
            assert self.process.poll() is None, self.output()
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}:\n{self.output()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
        self.log.close()
        return self.process.returncode


@pytest.fixture
def server(tmp_path):
    with RadicaleServer(tmp_path / "radicale", password="pw-" + os.urandom(6).hex()) as radicale:
        yield radicale


@pytest.fixture
def home(tmp_path, server, request):
    poll = getattr(request, "param", "1s")  # a test may ask for another poll (indirect)
    (tmp_path / "contacts").mkdir()
    write_atomically(tmp_path / "contacts" / "laura.vcf", CARD.format(uid="laura", name="Laura"))
    (tmp_path / "config.yaml").write_text(textwrap.dedent(f"""\
        contacts: [{{type: vdir, path: contacts}}]
        calendar:
          type: caldav
          url: {server.url}
          calendar: Follow-ups
          username: {server.username}
          password_env: SYNCD_TEST_PASSWORD
        daemon: {{poll: {poll}, debounce: 1s}}
        state: state.sqlite
        """))
    return tmp_path


def summaries(server):
    client = caldav.DAVClient(server.url, username=server.username, password=server.password)
    calendars = [c for c in client.principal().calendars() if c.get_display_name() == "Follow-ups"]
    if not calendars:
        return []
    return sorted(str(t.icalendar_component["SUMMARY"]) for t in calendars[0].todos())


@pytest.fixture
def daemon(home, server):
    running = Daemon(home, {"SYNCD_TEST_PASSWORD": server.password})
    yield running
    running.stop()


@pytest.mark.parametrize("home", ["1h"], indirect=True)
def test_card_changes_reach_the_server_by_the_watch_not_the_poll(daemon, home, server):
    """With an hourly poll, a card written and a card removed each reach the server at once,
    one cycle each: the folder watch started them. (How fast is bench/daemon.py's figure; the
    timeouts here only guard against a hang.)"""
    daemon.wait_for(lambda: summaries(server) == ["Get in touch with Laura"], what="first cycle")
    write_atomically(home / "contacts" / "marco.vcf", CARD.format(uid="marco", name="Marco"))
    daemon.wait_for(lambda: "Get in touch with Marco" in summaries(server), timeout=60, what="Marco")
    (home / "contacts" / "marco.vcf").unlink()
    daemon.wait_for(lambda: summaries(server) == ["Get in touch with Laura"], timeout=60,
                    what="removal")
    daemon.wait_for(lambda: daemon.output().count("cycle: ") >= 3, what="the third cycle's line")
    assert daemon.output().count("cycle: ") == 3, daemon.output()
    assert server.password not in daemon.output()
    assert daemon.stop() == 0


def test_second_instance_is_refused(daemon, home, server):
    daemon.wait_for(lambda: summaries(server), what="first cycle")
    second = subprocess.run(
        [sys.executable, "-m", "syncd", "run", "--config", str(home / "config.yaml")],
        capture_output=True, text=True, timeout=30,
        env={**os.environ, "SYNCD_TEST_PASSWORD": server.password},
    )
    assert second.returncode == 1
    assert f"another syncd is already running with {home / 'state.sqlite'} (pid {daemon.process.pid})" in second.stderr
    status = subprocess.run(
        [sys.executable, "-m", "syncd", "status", "--json", "--config", str(home / "config.yaml")],
        capture_output=True, text=True, timeout=30,
    )
    assert f'"pid": {daemon.process.pid}' in status.stdout and '"running": true' in status.stdout


def test_sighup_with_a_bad_config_keeps_the_old_one(daemon, home, server):
    daemon.wait_for(lambda: summaries(server), what="first cycle")
    good = (home / "config.yaml").read_text()
    (home / "config.yaml").write_text(good + "rules: {weekly_caps: 3}\n")
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_for(lambda: "rules.weekly_caps: unknown key" in daemon.output(), what="rejection")
    assert "keeping the running one" in daemon.output()
    write_atomically(home / "contacts" / "marco.vcf", CARD.format(uid="marco", name="Marco"))
    daemon.wait_for(lambda: "Get in touch with Marco" in summaries(server), what="still syncing")
    assert daemon.stop() == 0


def test_sigterm_exits_zero_with_a_consistent_state(daemon, home, server):
    daemon.wait_for(lambda: summaries(server), what="first cycle")
    assert daemon.stop() == 0
    import sqlite3

    db = sqlite3.connect(home / "state.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT count(*) FROM written").fetchone()[0] == 1


def test_server_down_and_back_recovers_without_duplicates(daemon, home, server):
    daemon.wait_for(lambda: summaries(server), what="first cycle")
    server.stop()
    write_atomically(home / "contacts" / "marco.vcf", CARD.format(uid="marco", name="Marco"))
    daemon.wait_for(lambda: "retrying in" in daemon.output(), what="a failed cycle")
    server.start()
    daemon.wait_for(lambda: len(summaries(server)) == 2, timeout=30, what="recovery")
    time.sleep(1.5)
    assert summaries(server) == ["Get in touch with Laura", "Get in touch with Marco"]
    assert daemon.process.poll() is None


def test_notify_socket_gets_ready_and_watchdog(home, server, tmp_path):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    address = str(tmp_path / "notify.sock")
    listener.bind(address)
    listener.settimeout(15)
    running = Daemon(home, {"SYNCD_TEST_PASSWORD": server.password, "NOTIFY_SOCKET": address,
                            "WATCHDOG_USEC": "400000"})
    try:
        messages = []
        while not any(m.startswith("READY=1") for m in messages) or "WATCHDOG=1" not in messages:
            messages.append(listener.recv(4096).decode("utf-8"))
        ready = next(m for m in messages if m.startswith("READY=1"))
        assert "STATUS=started" in ready  # ready once up, before the first cycle ends
        while not any("STATUS=1 created" in m for m in messages):
            messages.append(listener.recv(4096).decode("utf-8"))
        assert running.stop() == 0
        while "STOPPING=1" not in messages:
            messages.append(listener.recv(4096).decode("utf-8"))
    finally:
        running.stop()
        listener.close()


def test_a_refused_password_stops_the_cycles_and_says_so(home, server):
    running = Daemon(home, {"SYNCD_TEST_PASSWORD": "wrong-" + server.password})
    try:
        running.wait_for(lambda: "stopped writing" in running.output(), what="the 401")
        status = subprocess.run(
            [sys.executable, "-m", "syncd", "status", "--json", "--config",
             str(home / "config.yaml")], capture_output=True, text=True, timeout=30)
        assert "stopped writing" in status.stdout and "401" in status.stdout
        time.sleep(2.5)  # polls every second: no new attempt while blocked
        assert running.output().count("authentication failed") == 1
        assert summaries(server) == []
        assert "wrong-" + server.password not in running.output() + status.stdout
    finally:
        assert running.stop() == 0
