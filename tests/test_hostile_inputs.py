"""Inputs that must never block, crash or leave a traceback: special files where vCards are
expected, file names that are not UTF-8, out-of-range values in the configuration and on the
command line, a user name without any password source. Real files, real FIFOs, the real CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from syncd.sources import files
from syncd.sources.files import NotRegularFile, VdirSource

TODAY = "2026-11-30"
CARD = "BEGIN:VCARD\r\nVERSION:3.0\r\n{uid}FN:{name}\r\nEND:VCARD\r\n"
LATIN1_NAME = b"caf\xe9.vcf"  # "café.vcf" written by a Latin-1 system: not UTF-8
SHOWN_NAME = "caf\\xe9.vcf"  # how syncd prints it


def card(name: str, uid: str | None = None) -> str:
    return CARD.format(uid=f"UID:{uid}\r\n" if uid else "", name=name)


def write_config(home: Path, contacts: str, calendar: str = "type: local\n  path: calendar") -> Path:
    config = home / "config.yaml"
    config.write_text(f"contacts:\n{textwrap.indent(contacts, '  ')}\ncalendar:\n  {calendar}\n"
                      "state: state/syncd.sqlite\n")
    return config


def syncd(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m syncd ARGS --config CONFIG`; the timeout only turns a hang into a failure."""
    return subprocess.run(
        [sys.executable, "-m", "syncd", *args, "--config", str(config)],
        capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})},
    )


def assert_clean(done: subprocess.CompletedProcess[str], code: int = 0) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, (done.stdout, done.stderr)


# --- special files ----------------------------------------------------------------------------


def test_a_fifo_as_vcf_source_fails_that_source_without_blocking(tmp_path):
    fifo = tmp_path / "export.vcf"
    os.mkfifo(fifo)
    config = write_config(tmp_path, f"- type: vcf\n  path: {fifo}")
    done = syncd(config, "sync", "--today", TODAY)
    assert_clean(done, 1)
    assert f"{fifo}: cannot read contacts: not a regular file (a FIFO)" in done.stderr


def test_a_fifo_socket_and_device_in_a_vdir_are_skipped_with_one_warning_each(tmp_path):
    contacts = tmp_path / "contacts"
    contacts.mkdir()
    (contacts / "anna.vcf").write_text(card("Anna Neri", "anna"))
    os.mkfifo(contacts / "pipe.vcf")
    os.symlink("/dev/null", contacts / "null.vcf")
    listener = socket.socket(socket.AF_UNIX)
    try:
        listener.bind(str(contacts / "sock.vcf"))
        config = write_config(tmp_path, f"- type: vdir\n  path: {contacts}")
        done = syncd(config, "contacts", "--json")
    finally:
        listener.close()
    assert_clean(done)
    assert [person["uid"] for person in json.loads(done.stdout)] == ["anna"]
    for name, kind in [("pipe.vcf", "a FIFO"), ("null.vcf", "a character device"),
                       ("sock.vcf", "a socket")]:
        lines = [line for line in done.stderr.splitlines() if name in line]
        assert len(lines) == 1, done.stderr
        assert f"{contacts / name}: skipped: not a regular file ({kind})" in lines[0]


def test_a_vdir_with_a_fifo_is_not_complete_so_it_decides_no_deletion(tmp_path):
    (tmp_path / "anna.vcf").write_text(card("Anna Neri", "anna"))
    os.mkfifo(tmp_path / "pipe.vcf")
    source = VdirSource(tmp_path)
    assert [c.uid for c in source.read()] == ["anna"]
    assert source.damaged == [f"{tmp_path / 'pipe.vcf'}: skipped: not a regular file (a FIFO)"]
    assert not source.complete


def test_a_file_swapped_for_a_fifo_after_it_was_checked_is_refused_without_blocking(tmp_path):
    # The open itself must not wait for a writer: it is non-blocking and checked once open.
    fifo = tmp_path / "swapped.vcf"
    os.mkfifo(fifo)
    outcome: list[BaseException | bytes] = []

    def read() -> None:
        try:
            outcome.append(files._read_regular(fifo))
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            outcome.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(60)
    if reader.is_alive():  # unblock the thread before failing
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    assert isinstance(outcome[0], NotRegularFile), outcome
    assert "not a regular file (a FIFO)" in str(outcome[0])


# --- file names that are not UTF-8 ------------------------------------------------------------


@pytest.fixture
def latin1_home(tmp_path):
    contacts = tmp_path / "contacts"
    contacts.mkdir()
    # No UID: its id is derived from the source path and the name, the file name included.
    with open(os.fsencode(contacts) + b"/" + LATIN1_NAME, "w") as handle:
        handle.write(card("Zoe Caffè"))
    (contacts / "anna.vcf").write_text(card("Anna Neri", "anna"))
    return tmp_path, write_config(tmp_path, f"- type: vdir\n  path: {contacts}")


@pytest.mark.parametrize("command", [("contacts",), ("contacts", "--json"), ("plan", "--today", TODAY),
                                     ("plan", "--json", "--today", TODAY), ("balance",),
                                     ("balance", "--json")])
def test_a_file_name_that_is_not_utf8_is_read_and_printed_safely(latin1_home, command):
    home, config = latin1_home
    done = syncd(config, *command, env={"LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"})
    assert_clean(done)
    if command[0] != "balance":
        assert "Zoe Caff" in done.stdout
    if command == ("contacts",):
        assert f"{home / 'contacts' / SHOWN_NAME}:1" in done.stdout


def test_sync_of_a_file_name_that_is_not_utf8_is_stable(latin1_home):
    home, config = latin1_home
    first = syncd(config, "sync", "--today", TODAY)
    assert_clean(first)
    assert first.stdout.startswith("2 created,"), first.stdout
    again = syncd(config, "sync", "--today", TODAY)
    assert_clean(again)
    assert again.stdout.startswith("0 created, 0 updated, 0 deleted, 2 unchanged"), again.stdout
    assert sum("Zoe Caff" in p.read_text() for p in (home / "calendar").glob("*.ics")) == 1


def test_the_daemon_syncs_a_file_name_that_is_not_utf8(latin1_home):
    home, config = latin1_home
    log = home / "daemon.log"
    with open(log, "w") as output:
        daemon = subprocess.Popen([sys.executable, "-m", "syncd", "--log-level", "debug", "run",
                                   "--config", str(config)], stdout=output, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120  # a guard against a hang, not a measurement
            while len(list((home / "calendar").glob("*.ics"))) < 2 and time.monotonic() < deadline:
                assert daemon.poll() is None, log.read_text()
                time.sleep(0.1)
        finally:
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=60)
    text = log.read_text()
    assert "Traceback" not in text, text
    assert code == 0, text
    assert sum("Zoe Caff" in p.read_text() for p in (home / "calendar").glob("*.ics")) == 1


# --- out-of-range values ----------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_a_calendar_url_port_out_of_range_is_a_config_error_with_line_and_key(tmp_path, port):
    url = f"http://127.0.0.1:{port}/dav/"
    config = write_config(tmp_path, f"- type: vdir\n  path: {tmp_path}",
                          f"type: caldav\n  url: {url}")
    expected = f"{config}:6: calendar.url: '{url}' has a port that is not a number from 1 to 65535"
    for command in (("config", "check"), ("sync", "--today", TODAY)):
        done = syncd(config, *command)
        assert_clean(done, 2)
        assert done.stderr.strip().splitlines() == [expected]


def test_a_source_url_port_out_of_range_is_a_config_error_with_line_and_key(tmp_path):
    config = write_config(tmp_path, "- type: carddav\n  url: https://me:secret@dav.example.com:99999/")
    done = syncd(config, "config", "check")
    assert_clean(done, 2)
    assert done.stderr.strip().splitlines() == [
        f"{config}:3: contacts[0].url: has a port that is not a number from 1 to 65535"]
    assert "secret" not in done.stderr


@pytest.mark.parametrize("command", ["plan", "sync", "balance", "status"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "9001-01-01"])
def test_today_out_of_the_supported_range_is_a_usage_error(tmp_path, command, day):
    config = write_config(tmp_path, f"- type: vdir\n  path: {tmp_path}")
    done = syncd(config, command, "--today", day)
    assert_clean(done, 2)
    assert (f"Invalid value for '--today': {day} is not a day syncd plans from: give one from "
            "1900-01-01 to 9000-12-31") in done.stderr


LONGEST_RULES = """\
rules:
  keep_in_touch: {default: 36500d, categories: {far: 36500d}}
  birthday: {lead: 36500d}
  horizon: 36500d
  give_back: {window: 36500d, after: 36500d}
"""


@pytest.mark.parametrize("day", ["1900-01-01", "9000-12-31"])
def test_the_ends_of_the_range_plan_and_sync_with_the_longest_rules(tmp_path, day):
    contacts = tmp_path / "contacts"
    contacts.mkdir()
    (contacts / "bea.vcf").write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bea\r\nFN:Bea Riva\r\n"
                                      "BDAY:1904-02-29\r\nCATEGORIES:far\r\nEND:VCARD\r\n")
    config = write_config(tmp_path, f"- type: vdir\n  path: {contacts}")
    config.write_text(config.read_text() + LONGEST_RULES)
    log = syncd(config, "log", "received", "bea", "book", "Atlas", "--date", "1900-01-01")
    assert_clean(log)
    for command in ("plan", "sync", "balance"):
        done = syncd(config, command, "--today", day)
        assert_clean(done)
    assert list((tmp_path / "calendar").glob("*.ics"))


def test_a_rule_longer_than_100_years_is_a_config_error(tmp_path):
    config = write_config(tmp_path, f"- type: vdir\n  path: {tmp_path}")
    config.write_text(config.read_text() + "rules:\n  horizon: 36501d\n")
    done = syncd(config, "config", "check")
    assert_clean(done, 2)
    assert done.stderr.strip().splitlines() == [
        f"{config}:9: rules.horizon: '36501d' is too long: at most 36500d (100 years)"]


# --- a user name without a password ---------------------------------------------------------

NO_PASSWORD = ("a user name without a password: add password_command, password_env or password "
               "(or install the `keyring` package and store the password there)")


@pytest.mark.parametrize("command", [("config", "check"), ("sync",), ("plan",), ("contacts",),
                                     ("status",), ("run",)])
def test_a_calendar_user_name_without_password_or_keyring_is_a_config_error(tmp_path, command):
    assert not _installed("keyring"), "this test is about a machine without the keyring package"
    config = write_config(tmp_path, f"- type: vdir\n  path: {tmp_path}",
                          "type: caldav\n  url: https://dav.example.com/\n  username: anna")
    done = syncd(config, *command)
    assert_clean(done, 2)
    assert done.stderr.strip().splitlines() == [f"{config}:7: calendar.username: {NO_PASSWORD}"]


def test_a_source_user_name_in_the_url_without_password_is_a_config_error(tmp_path):
    assert not _installed("keyring"), "this test is about a machine without the keyring package"
    config = write_config(tmp_path, "- type: carddav\n  url: https://anna@dav.example.com/book/")
    done = syncd(config, "config", "check")
    assert_clean(done, 2)
    assert done.stderr.strip().splitlines() == [f"{config}:3: contacts[0].url: {NO_PASSWORD}"]


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def fake_keyring(folder: Path, password: str | None) -> dict[str, str]:
    """A `keyring` package on PYTHONPATH (a real module, imported by the real syncd) answering
    `password` and writing down who asked; the environment that makes it importable."""
    package = folder / "keyring"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(f"""\
        def get_password(service, name):
            with open({str(folder / 'asked')!r}, "a") as asked:
                asked.write(f"{{service}} {{name}}\\n")
            return {password!r}
        """))
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))}


def test_with_the_keyring_installed_a_user_name_alone_asks_it(tmp_path, radicale, calendar_name):
    env = fake_keyring(tmp_path / "site", radicale.password)
    (tmp_path / "contacts").mkdir()
    (tmp_path / "contacts" / "anna.vcf").write_text(card("Anna Neri", "anna"))
    config = write_config(tmp_path, f"- type: vdir\n  path: {tmp_path / 'contacts'}",
                          f"type: caldav\n  url: {radicale.url}\n  calendar: {calendar_name}\n"
                          f"  username: {radicale.username}")
    assert_clean(syncd(config, "config", "check", env=env))
    done = syncd(config, "sync", "--today", TODAY, env=env)
    assert_clean(done)
    assert done.stdout.startswith("1 created,"), done.stdout
    assert (tmp_path / "site" / "asked").read_text().splitlines() == [f"syncd {radicale.url}"]

