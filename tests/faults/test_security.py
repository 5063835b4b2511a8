"""Security checks as tests (issue 7): one suite, real parts only (the real CLI in
subprocesses, the session's Radicale with Basic auth, real files, a real TLS handshake).

- **No secret in any output.** Full `syncd --log-level debug` runs against Radicale with auth on
  both a CardDAV source and the CalDAV calendar, the password given as `password`,
  `password_env`, `password_command` and inside the URL in turn: `config check`, `contacts`,
  `sync`, a steady second `sync`, `status`; then a refused password (401) the same four ways and
  an unreachable server. caldav's own logger is put at DEBUG as well (`PYTHON_CALDAV_DEBUGMODE`;
  it pins itself to WARNING otherwise); niquests and urllib3-future, the HTTP stack under caldav
  (syncd/dav.py goes through `caldav.DAVClient`), log through the root logger the CLI sets to
  DEBUG, and the test checks that each of them did log. Looked for in stdout, stderr and every
  file syncd left behind (state file, WAL, calendar): the password (right and wrong), base64 of
  `user:password`, and an `Authorization` header with a value. "Token" is read as a credential:
  the RFC 6578 sync token is not a secret (it names a state of a collection, grants nothing,
  and the server hands it to anyone who may read the collection), so it may be logged and is.
  syncd has no log file: logs go to stderr (the journal under systemd).
- **Private files.** Under umask 022 and 000, the real CLI creates the state file, its cache
  file and their WAL and SHM 0600, the local calendar's `.ics` files 0600 (after a create and
  after an update), and every folder it creates on the way to either 0700.
- **No injection.** vCards whose FN, UID, EMAIL, CATEGORIES and NOTE (text, hashtags and a
  `received:` ledger line) hold CRLF, bare CR, bare LF, NEL, LS, `END:VTODO`, `BEGIN:VEVENT`,
  `END:VCALENDAR`, semicolons, commas, backslashes, lines of thousands of characters and non-BMP
  characters, escaped and raw, synced by the CLI to a local folder and to Radicale: each object
  (the file; the server's copy by GET) is one VCALENDAR with one VTODO and nothing else, in
  CRLF-terminated lines of at most 75 octets, and the text syncd read from the card (`contacts
  --json`, `plan --json`) comes back unchanged, but for the line breaks of a name or an email,
  which are spaces (a SUMMARY, and each line of the description, is one line). Hypothesis drives the same through the CLI
  in-process and through `render.render_with_hash` + `render.read` (with CR alone and control
  characters, which no vCard can carry), and a literal backslash-N.
- **TLS verification on by default.** A loopback HTTPS front with the throwaway self-signed
  certificate of `tests/data/tls/`, before Radicale: by default the sync fails, exit 1, with
  "certificate verify failed" naming the URL of the source and of the calendar, and nothing is
  written; `verify: false` gets through TLS, does the whole sync and warns naming both URLs.
- **systemd unit exposure ≤ 5.0**: `tests/test_systemd.py::test_exposure_is_at_most_5` runs the
  real `systemd-analyze security --offline=true` on both shipped services (1.9 each here); not
  repeated here.

Narrower checks of the same promises live next to the code they test and stay there: in-process
caplog checks of the DAV layers (`tests/test_targets.py::test_password_never_logged`,
`tests/test_carddav.py::test_wrong_password_is_a_source_error_with_401_and_no_secret`), a CLI
sync with `password_env` (`tests/test_sync_caldav.py::test_no_password_in_any_output`), masked
passwords in `config check` (`tests/test_config.py`), modes under the default umask
(`tests/test_cli.py`, `tests/test_state.py`, `tests/test_targets.py`), the renderer's own
injection case (`tests/test_render.py`) and `verify: false` warnings of both DAV clients.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import caldav
import icalendar
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sync_support import local_config

from syncd import render as syncd_render
from syncd.cli import main
from syncd.demo import free_port
from syncd.model import (
    REASONS, RECEIVED, Contact, Exchange, FollowUp, Idea, Introduction, Suggestion, followup_of,
)

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
    assert "syncd.cache.sqlite" in names  # the cache beside it (syncd.cache)
    assert set(names) <= {f"{file}{end}" for file in ("syncd.sqlite", "syncd.cache.sqlite")
                          for end in ("", "-wal", "-shm", "-journal")}, names
    assert {name: oct(mode(state / name)) for name in names} == {
        name: oct(0o600) for name in names}
    calendar = tmp_path / "data" / "deep" / "calendar"
    files = sorted(calendar.iterdir())
    # The follow-ups and syncd's marker of the folder (private too); no temp file.
    assert sorted(path.name for path in files if path.suffix != ".ics") == [".syncd-target"]
    assert len(files) == created + 1
    assert {path.name: oct(mode(path)) for path in files} == {
        path.name: oct(0o600) for path in files}
    created = [tmp_path / "st", state, tmp_path / "data", tmp_path / "data" / "deep", calendar]
    assert {str(path): oct(mode(path)) for path in created} == {
        str(path): oct(0o700) for path in created}


def test_the_daemon_creates_its_files_private_under_umask_000(tmp_path):
    shutil.copytree(SAMPLES, tmp_path / "contacts")
    write_config(tmp_path, local_config("""\
        state: st/deeper/syncd.sqlite
        """))
    environ = {**os.environ, "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "xdg")}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "syncd", "--config", str(tmp_path / "config.yaml"), "run"],
        cwd=tmp_path, env=environ, umask=0, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "calendar").is_dir() or not any((tmp_path / "calendar").glob("*.ics")):
            assert daemon.poll() is None and time.monotonic() < deadline, daemon.stderr.read()
            time.sleep(0.05)
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
    state = tmp_path / "st" / "deeper"
    files = sorted(state.iterdir())
    assert {path.name for path in files} >= {"syncd.sqlite", "syncd.sqlite.lock"}
    assert {path.name: oct(mode(path)) for path in files} == {
        path.name: oct(0o600) for path in files}
    created = [tmp_path / "st", state, tmp_path / "calendar"]
    assert {str(path): oct(mode(path)) for path in created} == {
        str(path): oct(0o700) for path in created}

# -- no injection through vCard text ---------------------------------------------------------------

BREAKS = ["\r\n", "\r", "\n", "\u0085", "\u2028"]  # the last two: str.splitlines() breaks there
PAYLOAD = "END:VTODO{0}BEGIN:VEVENT{0}SUMMARY:pwned{0}END:VEVENT{0}END:VCALENDAR{0}BEGIN:VTODO"
# Fixed hostile values for one card each: (FN, UID, EMAIL, CATEGORY, NOTE text, received item).
HOSTILE = [
    ("Laura\r\nEND:VTODO\r\nBEGIN:VEVENT\r\nSUMMARY:pwned\r\nEND:VEVENT",
     "uid\r\nEND:VTODO\r\nBEGIN:VEVENT", "x@example.org\r\nEND:VCALENDAR",
     "close\r\nEND:VTODO", "Note\r\nEND:VTODO\r\nBEGIN:VEVENT\r\nEND:VCALENDAR",
     "Book END:VTODO BEGIN:VEVENT END:VCALENDAR"),
    ("Bare\rCR\rEND:VTODO\rBEGIN:VEVENT", "cr\rEND:VCALENDAR", "cr\r@example.org",
     "a\rEND:VTODO", "bare CR\rEND:VTODO\rBEGIN:VEVENT", "CR END:VTODO"),
    ("Bare\nLF\nEND:VTODO\nBEGIN:VEVENT\nEND:VCALENDAR", "lf\nBEGIN:VEVENT",
     "lf\n@example.org", "b\nEND:VCALENDAR", "bare LF\nEND:VTODO\nBEGIN:VEVENT", "LF item"),
    ("Rossi; Mario, Jr. \\ C:\\Users\\mario \\n \\; \\, ;;,,", "semi;colon,comma\\back",
     "o'brien;x,y\\z@example.org", "a;b,c\\d", "x;y,z \\ \\\\ \\n", "A; B, C \\ D"),
    ("Unicode 😀 𝔘𝔫𝔦 𐍈 \u0085 NEL \u2028 LS " + PAYLOAD.format("\u2028"), "uid-😀-𝔘",
     "😀@example.org", "𝔘nicode", "🎉 " + PAYLOAD.format("\u0085"), "Livre 😀 𝔘 ‹ › ‘’"),
    ("Long " + "ä😀x;,\\" * 2000, "long-" + "u" * 3000, "long" + "e" * 3000 + "@example.org",
     "c" * 5000, "n" * 12000 + " END:VTODO", "Item " + "é😀" * 1500),
]


def vcard_escape(text: str) -> str:
    """RFC 6350 §3.4 escaping. vCard text has one escape for a line break, `\\n`: a CR, alone or
    not, can only reach syncd as that (a raw CR ends the line: see RAW_CARDS)."""
    return (text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            .replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n"))


def hostile_card(fn: str, uid: str, email: str, category: str, note: str, item: str,
                 raw: bool = False) -> str:
    """A card holding the hostile values, escaped as vCard text (or, `raw`, not at all)."""
    esc = (lambda text: text) if raw else vcard_escape
    note = f"{esc(note)}\\nreceived: book \"{esc(item)}\" 2026-11-01"
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{esc(uid)}", f"FN:{esc(fn)}",
             f"EMAIL:{esc(email)}", f"CATEGORIES:{esc(category)},friends", f"NOTE:{note}",
             "END:VCARD", ""]
    return "\r\n".join(lines)


def one_todo(text: str, name: str = "VTODO") -> icalendar.cal.Component:
    """Exactly one VCALENDAR holding exactly one VTODO (or `name`) and nothing else, by
    icalendar and by the content lines themselves: CRLF line ends, no CR or LF inside a line,
    lines of at most 75 octets, one BEGIN and one END of each."""
    calendar = icalendar.Calendar.from_ical(text)
    assert [component.name for component in calendar.walk()] == ["VCALENDAR", name]
    lines = text.split("\r\n")
    assert lines[-1] == "" and not any("\r" in line or "\n" in line for line in lines)
    assert max(len(line.encode("utf-8")) for line in lines) <= 75
    unfolded = re.sub(r"\r\n[ \t]", "", text).split("\r\n")
    assert [line for line in unfolded if re.match(r"(BEGIN|END)[;:]", line, re.I)] == [
        "BEGIN:VCALENDAR", f"BEGIN:{name}", f"END:{name}", "END:VCALENDAR"]
    [main] = calendar.subcomponents
    return main


def one_line(text: str) -> str:
    """A name, a phone or an email as a SUMMARY and the description's lines hold it: each run of
    line breaks (every one str.splitlines() knows) one space."""
    return re.sub("[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+", " ", text)


def ical_text(text: str) -> str:
    """What iCalendar TEXT can carry of `text`: every line break as one LF, no other control
    character but tab (RFC 5545 §3.3.11), and no byte order mark (which means nothing inside a
    value)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub("[\x00-\x08\x0b-\x1f\x7f\ufeff]", "", text)


def check_objects(texts: list[str], contacts: list[dict], plan: list[dict]) -> int:
    """Every written object is one VTODO whose text carries what syncd read from the card."""
    by_uid = {followup["uid"]: followup for followup in plan}
    people = {contact["uid"]: contact for contact in contacts}
    seen = set()
    for text in texts:
        todo = one_todo(text)
        stored = syncd_render.read(text)
        followup = by_uid[followup_of(str(todo["UID"]))]
        seen.add(followup["uid"])
        person = people[followup["contact_uid"]]
        assert stored.is_ours and stored.untouched
        assert stored.contact_uid == ical_text(person["uid"])
        assert str(todo["SUMMARY"]) == ical_text(followup["summary"])
        # A name is one line in the SUMMARY and the description: its line breaks are spaces.
        assert ical_text(one_line(person["name"])) in str(todo["SUMMARY"])
        description = str(todo["DESCRIPTION"])
        assert ical_text(one_line(person["name"])) in description
        if person["emails"]:  # as a mailto: link, else as text; on one line either way
            assert "Email: " in description
            assert ical_text(one_line(person["emails"][0]).strip()) in description
        for tag in person["interests"]:
            assert f"#{ical_text(tag)}" in description
    assert seen == set(by_uid)
    return len(seen)


def sync_cards(home: Path, cards: dict[str, str], calendar: str, in_process: bool = False,
               env: dict[str, str] | None = None) -> tuple[list, list, str]:
    """Write the cards, run the real `contacts`, `plan` and `sync` (in a subprocess, or
    `in_process` through click's runner: the same command, without the start-up time);
    (contacts, plan, stderr)."""
    (home / "contacts").mkdir(exist_ok=True)
    for name, card in cards.items():
        (home / "contacts" / name).write_bytes(card.encode("utf-8"))
    write_config(home, f"""\
        contacts:
          - type: vdir
            path: contacts
        {calendar}
        state: state.sqlite
        """)

    def cli(*args: str) -> tuple[str, str]:
        if not in_process:
            done = run_syncd(home, *args, env=env)
            assert done.returncode == 0, done.stderr[-3000:]
            return done.stdout, done.stderr
        result = CliRunner().invoke(main, ["--config", str(home / "config.yaml"), *args])
        assert result.exit_code == 0, (result.stderr[-3000:], result.exception)
        return result.stdout, result.stderr

    contacts, plan = cli("contacts", "--json")[0], cli("plan", "--json", "--today", TODAY)[0]
    out, err = cli("sync", "--today", TODAY)
    assert out.startswith(f"{len(json.loads(plan))} created"), out
    return json.loads(contacts), json.loads(plan), err


def server_objects(radicale, calendar_name: str) -> list[str]:
    """The server's own copy of every object of the calendar, as sent by GET."""
    client = caldav.DAVClient(radicale.url, username=radicale.username,
                              password=radicale.password)
    [calendar] = [c for c in client.principal().calendars()
                  if c.get_display_name() == calendar_name]
    texts = []
    for todo in calendar.todos(include_completed=True):
        response = client.request(str(todo.url), "GET")
        assert response.status == 200
        texts.append(response._raw_body.decode("utf-8"))
    return texts


HOSTILE_CARDS = {f"hostile-{number}.vcf": hostile_card(*values)
                 for number, values in enumerate(HOSTILE)}
# The same values written into the card file without any escaping: line breaks inside a value
# then end it, and what follows is read as more (unknown) properties, or skipped.
RAW_CARDS = {f"raw-{number}.vcf": hostile_card(values[0], f"raw-{number}-{values[1]}",
                                                *values[2:], raw=True)
             for number, values in enumerate(HOSTILE)}


def test_hostile_card_text_is_read_exactly():
    """The premise of the tests below: the escaped cards really carry the hostile text into
    syncd (stripped at the ends, CR only as a line break since vCard cannot escape it)."""
    from syncd.sources.vcard import parse_cards

    for (fn, uid, email, category, note, item), card in zip(HOSTILE, HOSTILE_CARDS.values()):
        [contact] = parse_cards(card, "card.vcf")
        assert contact.name == ical_text(fn)
        assert contact.uid == ical_text(uid)
        assert contact.emails == (ical_text(email),)
        assert contact.categories[0] == ical_text(category)
        assert contact.note.startswith(ical_text(note) + "\n")
        assert f'received: book "{item}" 2026-11-01' in contact.note


def test_hostile_cards_cannot_inject_into_the_local_calendar(tmp_path):
    contacts, plan, _ = sync_cards(tmp_path, {**HOSTILE_CARDS, **RAW_CARDS},
                                   "calendar: {type: local, path: calendar}")
    assert len(contacts) == 2 * len(HOSTILE)
    texts = [path.read_bytes().decode("utf-8") for path in (tmp_path / "calendar").glob("*.ics")]
    assert check_objects(texts, contacts, plan) == len(texts) >= len(HOSTILE)
    give_backs = [text for text in texts if "X-SYNCD-REASON:give-back" in text]
    descriptions = "\n".join(str(one_todo(text)["DESCRIPTION"]) for text in give_backs)
    for fn, uid, email, category, note, item in HOSTILE:
        assert f"book “{item}” on November 1, 2026" in descriptions  # the NOTE's item, exact


def test_hostile_cards_cannot_inject_into_the_caldav_calendar(tmp_path, radicale,
                                                              calendar_name):
    calendar = ("calendar: {type: caldav, url: '%s', calendar: '%s', username: %s, "
                "password_env: SYNCD_SECRET}" % (radicale.url, calendar_name, radicale.username))
    contacts, plan, _ = sync_cards(tmp_path, HOSTILE_CARDS, calendar,
                                   env={"SYNCD_SECRET": radicale.password})
    texts = server_objects(radicale, calendar_name)
    assert check_objects(texts, contacts, plan) == len(texts) == len(HOSTILE)
    again = run_syncd(tmp_path, "sync", "--today", TODAY, env={"SYNCD_SECRET": radicale.password})
    assert again.returncode == 0 and again.stdout.startswith("0 created, 0 updated, 0 deleted")


# -- the renderer itself, with text no vCard can carry (a CR alone, control characters) --------

NOW = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.timezone.utc)


def hostile_followup(uid: str, name: str, email: str, tag: str, item: str, other: str,
                     reason: str = "give-back") -> FollowUp:
    contact = Contact(uid=uid, name=name, source="s.vcf", emails=(email,), interests=(tag,),
                      note=other)
    idea = Idea(id=other, kind="book", title=other, by=name, tags=(tag,), language="en")
    return FollowUp(
        contact, reason, other, dt.date(2026, 12, 1), common_ground=(tag,),
        ideas=(Suggestion(idea, f"#{tag}", 1.0),),
        introductions=(Introduction(other, other, (tag,)),), questions=(other,),
        balance=2.0, received=(Exchange(uid, RECEIVED, "book", item, dt.date(2026, 11, 1), 2.0,
                                        "note"),))


def check_rendered(followup: FollowUp, component: str, language: str) -> None:
    """One object, every text in it as given (up to what iCalendar TEXT can carry), the marks
    and the hash read back as written."""
    text, digest, _ = syncd_render.render_with_hash(followup, language=language,
                                                    component=component, now=NOW)
    text.encode("utf-8")  # whole characters only: no lone surrogate, no split sequence
    main = one_todo(text, "VTODO" if component == "todo" else "VEVENT")
    contact = followup.contact
    assert str(main["SUMMARY"]) == ical_text(syncd_render.summary(followup, language))
    description = str(main["DESCRIPTION"])
    for part in (one_line(contact.name), one_line(contact.emails[0]).strip(),
                 f"#{contact.interests[0]}",
                 followup.received[0].item, followup.questions[0], followup.ideas[0].idea.title):
        assert ical_text(part) in description
    stored = syncd_render.read(text)
    assert (stored.contact_uid, stored.reason, stored.cycle, stored.idea) == (
        ical_text(contact.uid), followup.reason, ical_text(followup.cycle),
        ical_text(followup.ideas[0].idea.id))
    assert stored.uid == followup.uid and stored.is_ours
    assert stored.written_hash == stored.hash == digest  # untouched, as syncd wrote it


@pytest.mark.parametrize("component", ["todo", "event"])
@pytest.mark.parametrize("values", HOSTILE, ids=[f"hostile-{n}" for n in range(len(HOSTILE))])
def test_hostile_text_renders_to_one_component_and_reads_back(values, component):
    fn, uid, email, category, note, item = values
    check_rendered(hostile_followup(uid, fn, email, category, item, note), component, "en")


def test_every_line_break_and_control_character_stays_text():
    for number, brk in enumerate([*BREAKS, "\x00", "\x0b", "\x0c", "\x1c", "\x1e", "\x7f"]):
        evil = "Anna" + PAYLOAD.format(brk) + brk
        followup = hostile_followup(evil + "uid", evil, evil, evil, evil, evil + str(number))
        for component in ("todo", "event"):
            check_rendered(followup, component, "it")


FRAGMENTS = [*BREAKS, "END:VTODO", "BEGIN:VEVENT", "END:VCALENDAR", "BEGIN:VCALENDAR",
             "END:VEVENT", ";", ",", "\\", ":", '"', "\t", " ", "=", "😀", "𝔘", "é", "\x00",
             "\x07", "x" * 80, "ü" * 40]
hostile_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)),
                        max_size=25).map("".join).filter(lambda text: "\\N" not in text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(uid=hostile_text, name=hostile_text, email=hostile_text, tag=hostile_text,
       item=hostile_text, other=hostile_text, reason=st.sampled_from(REASONS),
       component=st.sampled_from(["todo", "event"]), language=st.sampled_from(["en", "it"]))
# Found by this test: a CR, a NUL and an LF are two line breaks, not one CRLF once the NUL is gone.
@example(uid="", name="", email="", tag="", item="", other="\r\x00\n\r", reason="give-back",
         component="todo", language="en")
def test_any_text_renders_to_one_component_and_reads_back(uid, name, email, tag, item, other,
                                                         reason, component, language):
    followup = hostile_followup(uid, name, email, tag, item, other, reason)
    check_rendered(followup, component, language)


def test_a_literal_backslash_capital_n_round_trips():
    check_rendered(hostile_followup("C:\\Nadia", "C:\\Nadia", "n@x", "t", "i\\N", "o"),
                   "todo", "en")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(*[hostile_text] * 5), min_size=1, max_size=8))
def test_any_card_text_cannot_inject_through_a_real_sync(cards):
    """Cards of Hypothesis' text through the real CLI into a local calendar: whatever syncd read
    from each card comes back from its object, and nothing else is in it."""
    files = {}
    for number, (fn, uid, email, category, note) in enumerate(cards):
        item = re.sub(r'["“”«»\s]', "x", note)[:40] or "x"  # a NOTE ledger line's item
        files[f"h{number}.vcf"] = hostile_card(fn, f"h{number}-{uid}", email, category, note,
                                               item)
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        contacts, plan, _ = sync_cards(home, files, "calendar: {type: local, path: calendar}",
                                       in_process=True)
        assert len(contacts) == len(cards)
        texts = [path.read_bytes().decode("utf-8") for path in (home / "calendar").glob("*.ics")]
        # A card left with no name at all (no FN, email...) gets no follow-up (planner.kept_out).
        named = [c for c in contacts if c["name"].strip()]
        assert check_objects(texts, contacts, plan) == len(texts) == len(named)


# -- TLS verification on by default ------------------------------------------------------------


class TLSFront:
    """HTTPS on 127.0.0.1 with the throwaway self-signed certificate of tests/data/tls,
    passing the decrypted bytes on to a plain HTTP server (Radicale). `refused` holds the
    handshakes the client broke off, `served` counts those that went through."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self.listener.getsockname()[1]}/"
        self.refused: list[str] = []
        self.served = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(20)
        try:
            tls = self.context.wrap_socket(connection, server_side=True)
        except (ssl.SSLError, OSError) as error:
            self.refused.append(str(error))
            connection.close()
            return
        self.served += 1
        with tls, socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
            while True:
                ready = [tls] if tls.pending() else select.select([tls, upstream], [], [], 20)[0]
                if not ready:
                    return
                for side in ready:
                    try:
                        data = side.recv(65536)
                    except ssl.SSLWantReadError:
                        continue
                    except OSError:
                        return
                    if not data:
                        return
                    (upstream if side is tls else tls).sendall(data)


@pytest.fixture
def https(radicale):
    front = TLSFront(radicale.port)
    yield front
    front.close()


def tls_config(home: Path, radicale, https: TLSFront, book_url: str, calendar: str,
               verify: str = "") -> None:
    """A CardDAV source and a CalDAV calendar, both through the HTTPS front; `verify` is
    written as is (nothing: the default)."""
    book = book_url.replace(radicale.url, https.url)
    write_config(home, f"""\
        contacts:
          - type: carddav
            url: {book}
            username: {radicale.username}
            password_env: SYNCD_SECRET
            {verify}
        calendar:
          type: caldav
          url: {https.url}
          calendar: {calendar}
          username: {radicale.username}
          password_env: SYNCD_SECRET
          {verify}
        me:
          interests: [sailing, leadership]
        state: state.sqlite
        """)


def test_an_untrusted_certificate_fails_the_sync_naming_the_url(https, radicale, filled_book,
                                                                calendar_name, tmp_path):
    tls_config(tmp_path, radicale, https, filled_book.url, calendar_name)
    env = {"SYNCD_SECRET": radicale.password}
    check = run_syncd(tmp_path, "config", "check", env=env)
    assert check.returncode == 0, check.stderr
    assert check.stdout.count("verify: true") == 2  # the default, for the source and calendar

    done = run_syncd(tmp_path, "sync", "--today", TODAY, env=env)
    assert done.returncode == 1
    book = filled_book.url.replace(radicale.url, https.url)
    certificate = r"[^\n]*certificate verify failed: self[- ]signed certificate"
    assert re.search(rf"{re.escape(book)}: cannot connect:{certificate}", done.stderr), \
        done.stderr[-3000:]
    assert re.search(rf"syncd: error: {re.escape(https.url)}\S*: cannot connect:{certificate}",
                     done.stderr), done.stderr[-3000:]
    assert https.served == 0 and https.refused  # the client broke off every handshake
    assert "retrying" not in done.stderr  # a bad certificate stays bad: one handshake per URL
    # ... because it did not trust the certificate (not for any other reason)
    assert all(re.search("unknown ca|bad certificate", reason, re.I) for reason in https.refused)
    client = caldav.DAVClient(radicale.url, username=radicale.username,
                              password=radicale.password)
    assert calendar_name not in [c.get_display_name() for c in client.principal().calendars()]
    assert leaks(done.stdout + done.stderr, [radicale.password]) == []


def test_verify_false_gets_through_tls_and_warns(https, radicale, filled_book, calendar_name,
                                                tmp_path):
    tls_config(tmp_path, radicale, https, filled_book.url, calendar_name, "verify: false")
    done = run_syncd(tmp_path, "sync", "--today", TODAY, env={"SYNCD_SECRET": radicale.password})
    assert done.returncode == 0, done.stderr[-3000:]
    created = int(done.stdout.split()[0])
    assert created >= 5  # every sample card read over TLS, every follow-up written over it
    book = filled_book.url.replace(radicale.url, https.url)
    assert f"WARNING: {book}: TLS certificates are NOT verified" in done.stderr
    assert f"WARNING: {https.url}: TLS certificates are NOT verified" in done.stderr
    assert https.served >= 2 and https.refused == []
    assert len(server_objects(radicale, calendar_name)) == created
