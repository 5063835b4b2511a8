"""The calendar in the field (issue 11): setups that happen every week, run as a person runs them.

Each test drives the real `syncd` command as a subprocess (`python -m syncd --config FILE ...`,
with HOME and the XDG folders inside tmp_path) against real files and the session's Radicale on
127.0.0.1, and looks at what a person would look at: the exit status and the one line on stderr,
the counts `sync` prints, `plan --json`, `ledger export`, `status`, the state file's rows, and
the server's objects as a fresh client reads them.

- a local calendar folder gone for one cycle (moved away, or an empty mount point) and back;
- `calendar.calendar` renamed (and then `calendar.url` spelled another way);
- the calendar collection deleted on the server after a first sync;
- two syncd instances (two state files, different `me.interests`) on one calendar, 10 cycles;
- `calendar.url` naming a calendar collection, as the README allows.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import icalendar
from lxml import etree

from sync_support import local_config, write_card
from syncd.model import followup_of

TODAY = "2026-11-30"  # a Monday
SAMPLE_CONTACTS = Path(__file__).resolve().parents[2] / "config" / "contacts"
COUNTS = ("created", "updated", "deleted", "unchanged", "kept", "completed", "dismissed",
          "failed")
WRITES = ("created", "updated", "deleted")


# -- running syncd as a person does ------------------------------------------------------------


def person_env(home: Path) -> dict[str, str]:
    """HOME and the XDG folders inside the test's folder; no proxy from the environment, so that
    nothing can reach any address but 127.0.0.1."""
    env = {k: v for k, v in os.environ.items()
           if "proxy" not in k.lower() and not k.startswith(("XDG_", "SYNCD_CONFIG"))}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["HOME"] = str(home / "home")
    for name, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_STATE_HOME", ".local/state"),
                      ("XDG_CACHE_HOME", ".cache"), ("XDG_DATA_HOME", ".local/share")):
        env[name] = str(home / "home" / sub)
    return env


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def counts(self) -> dict[str, int]:
        """The counts of `sync`'s summary line."""
        found = dict((key, int(n)) for n, key in re.findall(r"(\d+) ([a-z]+)", self.out))
        assert set(COUNTS) <= set(found), f"no summary in {self.out!r} (stderr {self.err!r})"
        return {key: found[key] for key in COUNTS}

    @property
    def writes(self) -> dict[str, int]:
        return {key: self.counts[key] for key in WRITES}


class Syncd:
    """One person's syncd: a configuration file and the environment it runs in."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.config = config
        self.env = env

    def __call__(self, *args: str, code: int | None = 0) -> Run:
        done = subprocess.run(
            [sys.executable, "-m", "syncd", "--config", str(self.config), *args],
            capture_output=True, text=True, env=self.env, cwd=self.config.parent, timeout=120)
        run = Run(done.returncode, done.stdout, done.stderr)
        if code is not None:
            assert run.code == code, (args, run)
        return run

    def sync(self, *args: str, code: int | None = 0) -> Run:
        return self("sync", "--today", TODAY, *args, code=code)

    def plan(self) -> list[dict]:
        return json.loads(self("plan", "--json", "--today", TODAY).out)

    def status(self) -> str:
        return self("status", "--today", TODAY).out

    def status_json(self) -> dict:
        return json.loads(self("status", "--json", "--today", TODAY).out)

    def ledger(self) -> str:
        return self("ledger", "export").out


def together(*reads):
    """Commands that only read, run side by side (each is a process of its own)."""
    with ThreadPoolExecutor(len(reads)) as pool:
        return [future.result() for future in [pool.submit(read) for read in reads]]


# -- the state file, read as it is on disk -------------------------------------------------------


def _query(state: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def written_rows(state: Path) -> list[tuple]:
    return sorted(_query(state, "SELECT * FROM written"), key=repr)


def events(state: Path) -> list[tuple]:
    return sorted(_query(state, "SELECT * FROM events"), key=repr)


def dismissals(state: Path) -> int:
    return _query(state, "SELECT count(*) FROM events WHERE what = 'dismissed'")[0][0]


def instance_of(state: Path) -> str:
    return _query(state, "SELECT value FROM meta WHERE key = 'instance'")[0][0]


def exchanges(state: Path) -> list[tuple]:
    return sorted(_query(state, "SELECT * FROM exchanges"), key=repr)


def recorded(state: Path) -> tuple:
    """Everything a cycle could record about the person: what syncd wrote where, the events
    (dismissals, completions) and the ledger's exchanges."""
    return written_rows(state), events(state), exchanges(state)


# -- the server, as a fresh client reads it ------------------------------------------------------

DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
_DISPLAYNAMES = ('<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>'
                 "<D:displayname/></D:prop></D:propfind>")
_MKCALENDAR = ('<?xml version="1.0" encoding="utf-8"?>'
               '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set>'
               "<D:prop><D:displayname>{name}</D:displayname></D:prop></D:set></C:mkcalendar>")
_QUERY = ('<?xml version="1.0" encoding="utf-8"?>'
          '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
          "<D:prop><D:getetag/><C:calendar-data/></D:prop>"
          '<C:filter><C:comp-filter name="VCALENDAR"/></C:filter></C:calendar-query>')


@dataclass(frozen=True)
class Stored:
    href: str
    etag: str
    uid: str
    instance: str  # X-SYNCD-INSTANCE
    text: str


class Server:
    """The session's Radicale read and written by a new connection per request, without syncd."""

    def __init__(self, radicale) -> None:
        self.radicale = radicale
        self.user = urlsplit(radicale.user_url).path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.radicale.port}{path}"

    def request(self, method: str, path: str, body: str = "",
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.radicale.port, timeout=60)
        login = f"{self.radicale.username}:{self.radicale.password}".encode()
        try:
            connection.request(method, path, body=body.encode("utf-8"), headers={
                "Authorization": "Basic " + base64.b64encode(login).decode(),
                "Content-Type": "application/xml", **(headers or {})})
            answer = connection.getresponse()
            return answer.status, answer.read()
        finally:
            connection.close()

    def collections(self) -> dict[str, str | None]:
        """The user's collections: path → display name."""
        code, body = self.request("PROPFIND", self.user, _DISPLAYNAMES, {"Depth": "1"})
        assert code == 207, code
        found = {unquote(r.findtext(f"{DAV}href") or ""): r.findtext(f".//{DAV}displayname")
                 for r in etree.fromstring(body).iter(f"{DAV}response")}
        found.pop(self.user, None)
        return found

    def find(self, name: str) -> str | None:
        """The path of the calendar with this display name; None when there is none."""
        found = [path for path, shown in self.collections().items() if shown == name]
        assert len(found) <= 1, found
        return found[0] if found else None

    def objects(self, path: str) -> list[Stored]:
        code, body = self.request("REPORT", path, _QUERY, {"Depth": "1"})
        assert code == 207, code
        found = []
        for response in etree.fromstring(body).iter(f"{DAV}response"):
            text = response.findtext(f".//{CALDAV}calendar-data")
            if not text:
                continue
            component = next(c for c in icalendar.Calendar.from_ical(text).walk()
                             if c.name in ("VTODO", "VEVENT"))
            found.append(Stored(unquote(response.findtext(f"{DAV}href") or ""),
                                response.findtext(f".//{DAV}getetag") or "",
                                followup_of(str(component["UID"])), str(component.get("X-SYNCD-INSTANCE", "")),
                                text))
        return sorted(found, key=lambda o: o.href)

    def uids(self, path: str) -> Counter[str]:
        return Counter(o.uid for o in self.objects(path))

    def make(self, path: str, name: str) -> None:
        code, _ = self.request("MKCALENDAR", path, _MKCALENDAR.format(name=name))
        assert code == 201, code

    def delete(self, path: str) -> None:
        code, _ = self.request("DELETE", path)
        assert code in (200, 204), code


def caldav_config(home: Path, radicale, *, calendar: str | None, url: str | None = None,
                  contacts: Path | None = None, interests: str = "[sailing, leadership]") -> Path:
    config = home / "config.yaml"
    lines = ["contacts:", "  - type: vdir", f"    path: {contacts or home / 'contacts'}",
             "calendar:", "  type: caldav", f"  url: {url or radicale.url}",
             *([f"  calendar: {calendar}"] if calendar else []),
             f"  username: {radicale.username}", "  password_env: SYNCD_TEST_PASSWORD",
             "me:", f"  interests: {interests}", "state: state.sqlite"]
    config.write_text("\n".join(lines) + "\n")
    return config


def one_error_line(run: Run) -> str:
    """A failed cycle says what failed in one line, and prints no summary of work done."""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("syncd: error: "), run.err
    assert run.out == "", run.out
    return lines[0]


# -- 1. a local calendar folder gone for one cycle, and back -------------------------------------

PEOPLE = [("Ada Lovelace", "mathematics"), ("Bruno Neri", "sailing"), ("Carla Russo", "chess"),
          ("Dario Fo", "theatre"), ("Elena Conti", "running"), ("Fabio Galli", "cooking"),
          ("Gina Marino", "photography"), ("Hugo Pratt", "literature")]


def test_local_folder_gone_for_one_cycle_and_back(tmp_path):
    """An unmounted disk or a moved folder: an error naming the folder, nothing recorded; back,
    nothing to do; everything really removed: recorded once, only when the person says so."""
    contacts = tmp_path / "contacts"
    contacts.mkdir()
    for number, (name, tag) in enumerate(PEOPLE):
        write_card(contacts, f"field-{number}", name, interests=tag)
    config = tmp_path / "config.yaml"
    config.write_text(local_config("""\
        me:
          interests: [sailing, literature]
        state: state/syncd.sqlite
        """))
    person = Syncd(config, person_env(tmp_path))
    state, calendar = tmp_path / "state/syncd.sqlite", tmp_path / "calendar"

    first = person.sync()
    plan, ledger = together(person.plan, person.ledger)
    assert first.counts["created"] == len(plan) == len(PEOPLE)
    files = {p.name: p.read_bytes() for p in calendar.glob("*.ics")}
    assert len(files) == len(PEOPLE)
    before = recorded(state)
    assert dismissals(state) == 0

    # Moved away, as an unmount hides it.
    calendar.rename(tmp_path / "calendar.unmounted")
    gone = person.sync(code=1)
    assert str(calendar) in one_error_line(gone)
    assert recorded(state) == before
    assert not calendar.exists()  # not made again, empty, in its place

    # An empty folder at the path: the mount point of a disk not mounted.
    calendar.mkdir()
    empty = person.sync(code=1)
    assert str(calendar) in one_error_line(empty)
    assert recorded(state) == before
    assert list(calendar.iterdir()) == []  # nothing written into the mount point
    calendar.rmdir()

    # Back: nothing to do, nothing frozen as kept, the plan and the ledger as they were.
    (tmp_path / "calendar.unmounted").rename(calendar)
    back = person.sync()
    assert back.counts == {**dict.fromkeys(COUNTS, 0), "unchanged": len(PEOPLE)}
    assert together(person.plan, person.ledger) == [plan, ledger]
    assert recorded(state) == before
    assert {p.name: p.read_bytes() for p in calendar.glob("*.ics")} == files

    # The person removed every follow-up: refused, as a replaced folder would be ...
    for file in calendar.glob("*.ics"):
        file.unlink()
    emptied = person.sync(code=1)
    assert str(calendar) in one_error_line(emptied)
    assert "--accept-dismissals" in emptied.err
    assert recorded(state) == before
    # ... until they say so; then recorded once, and nothing comes back.
    accepted = person.sync("--accept-dismissals")
    assert accepted.counts == {**dict.fromkeys(COUNTS, 0), "dismissed": len(PEOPLE)}
    assert dismissals(state) == len(PEOPLE)
    after = person.sync()
    assert after.counts["dismissed"] == 0 and after.writes == dict.fromkeys(WRITES, 0)
    assert dismissals(state) == len(PEOPLE)
    assert list(calendar.glob("*.ics")) == []


# -- 2. calendar.calendar renamed; calendar.url spelled another way ------------------------------


def test_renamed_calendar_is_a_new_calendar_and_the_old_one_is_left_alone(
        tmp_path, radicale, calendar_name, monkeypatch):
    monkeypatch.setenv("SYNCD_TEST_PASSWORD", radicale.password)
    shutil.copytree(SAMPLE_CONTACTS, tmp_path / "contacts")
    server, state = Server(radicale), tmp_path / "state.sqlite"
    person = Syncd(caldav_config(tmp_path, radicale, calendar=calendar_name),
                   person_env(tmp_path))

    first = person.sync()
    path_a = server.find(calendar_name)
    assert path_a
    planned = server.uids(path_a)
    assert first.counts["created"] == sum(planned.values()) == len(planned) >= 5
    objects_a = server.objects(path_a)

    renamed = f"{calendar_name}-B"
    caldav_config(tmp_path, radicale, calendar=renamed)
    moved = person.sync()
    assert moved.counts["dismissed"] == 0 and moved.counts["deleted"] == 0
    assert moved.counts["created"] == len(planned)
    assert dismissals(state) == 0
    path_b = server.find(renamed)
    assert path_b and path_b != path_a
    assert server.uids(path_b) == planned  # the plan, each UID once: the same UIDs as A's
    assert server.objects(path_a) == objects_a  # A untouched
    as_json, text = together(person.status_json, person.status)
    assert as_json["calendar"] == server.url(path_b)
    assert as_json["earlier_calendars"] == {server.url(path_a): len(planned)}
    [line] = [line for line in text.splitlines() if server.url(path_a) in line]
    assert line.startswith("earlier calendar") and "delete them there" in line

    # calendar.url spelled as the principal instead of the server's root: the same calendar,
    # so nothing to write and nothing new in status.
    caldav_config(tmp_path, radicale, calendar=renamed, url=radicale.user_url)
    again = person.sync()
    assert again.writes == dict.fromkeys(WRITES, 0)
    assert again.counts["unchanged"] == len(planned) and again.counts["dismissed"] == 0
    assert server.objects(path_a) == objects_a
    assert server.uids(path_b) == planned
    assert person.status_json()["earlier_calendars"] == {server.url(path_a): len(planned)}


# -- 3. the collection deleted on the server -----------------------------------------------------


def test_calendar_deleted_on_the_server_is_an_error_then_made_again(
        tmp_path, radicale, calendar_name, monkeypatch):
    monkeypatch.setenv("SYNCD_TEST_PASSWORD", radicale.password)
    shutil.copytree(SAMPLE_CONTACTS, tmp_path / "contacts")
    server, state = Server(radicale), tmp_path / "state.sqlite"
    person = Syncd(caldav_config(tmp_path, radicale, calendar=calendar_name),
                   person_env(tmp_path))

    first = person.sync()
    path = server.find(calendar_name)
    assert path
    planned = server.uids(path)
    assert first.counts["created"] == len(planned) >= 5
    before = recorded(state)

    server.delete(path)
    assert server.find(calendar_name) is None
    gone = person.sync(code=1)
    assert server.url(path).rstrip("/") in one_error_line(gone)
    assert recorded(state) == before
    assert server.find(calendar_name) is None  # the failed cycle made nothing

    remade = person.sync()
    assert remade.counts["created"] == len(planned)
    assert remade.counts["dismissed"] == 0 and remade.counts["unchanged"] == 0
    path = server.find(calendar_name)
    assert path and server.uids(path) == planned
    third = person.sync()
    assert third.writes == dict.fromkeys(WRITES, 0)
    assert third.counts["unchanged"] == len(planned)
    assert server.uids(path) == planned  # "N unchanged" only while the server holds N
    assert dismissals(state) == 0
    assert {f["uid"] for f in person.plan()} == set(planned)


# -- 4. two syncd instances on one calendar ------------------------------------------------------


def test_two_instances_on_one_calendar_for_ten_cycles(tmp_path, radicale, calendar_name,
                                                      monkeypatch):
    """Two laptops of one person: same contacts, same calendar, two state files, different
    interests (so each renders every follow-up differently). Neither touches the other's
    objects: no PUT back and forth, no dismissal nobody made."""
    monkeypatch.setenv("SYNCD_TEST_PASSWORD", radicale.password)
    contacts = tmp_path / "contacts"
    shutil.copytree(SAMPLE_CONTACTS, contacts)
    server = Server(radicale)
    homes = {name: tmp_path / name for name in ("a", "b")}
    for home in homes.values():
        home.mkdir()
    a = Syncd(caldav_config(homes["a"], radicale, calendar=calendar_name, contacts=contacts,
                            interests="[sailing, leadership]"), person_env(homes["a"]))
    b = Syncd(caldav_config(homes["b"], radicale, calendar=calendar_name, contacts=contacts,
                            interests="[literature, history]"), person_env(homes["b"]))
    states = {name: home / "state.sqlite" for name, home in homes.items()}
    host = socket.gethostname()

    a_first = a.sync()
    path = server.find(calendar_name)
    assert path
    planned = set(server.uids(path))
    assert a_first.counts["created"] == len(planned) >= 5
    # A card that reaches the shared folder after A's cycle, so B writes its follow-up first
    # (a tag nobody else has: A's other follow-ups stay as they are).
    write_card(contacts, "field-late", "Nadia Late", interests="beekeeping")
    b_first = b.sync()
    assert b_first.writes == {"created": 1, "updated": 0, "deleted": 0}
    assert b_first.counts["dismissed"] == 0
    assert f"also holds {len(planned)} follow-ups written by syncd on {host}" in b_first.err
    late = set(server.uids(path)) - planned
    assert len(late) == 1

    runs: dict[str, list[Run]] = {"a": [], "b": []}
    for _ in range(9):
        runs["a"].append(a.sync())
        runs["b"].append(b.sync())
    for name, done in runs.items():
        assert [r.writes for r in done] == [dict.fromkeys(WRITES, 0)] * 9, name
        assert [r.counts["dismissed"] + r.counts["failed"] for r in done] == [0] * 9, name
    assert f"also holds 1 follow-ups written by syncd on {host}" in runs["a"][0].err

    assert [dismissals(s) for s in states.values()] == [0, 0]
    assert [events(s) + exchanges(s) for s in states.values()] == [[], []]
    held = server.uids(path)
    assert held == Counter(planned | late)  # every planned UID exactly once
    plan_a, plan_b, text_a, text_b = together(a.plan, b.plan, a.status, b.status)
    assert {f["uid"] for f in plan_a} == {f["uid"] for f in plan_b} == set(held)
    writers = {o.uid: o.instance for o in server.objects(path)}
    assert {uid for uid, w in writers.items() if w == instance_of(states["b"])} == late
    assert {uid for uid, w in writers.items() if w == instance_of(states["a"])} == planned
    assert (f"also in this calendar: 1 follow-ups written by syncd on {host} (another state "
            "file)") in text_a
    assert (f"also in this calendar: {len(planned)} follow-ups written by syncd on {host} "
            "(another state file)") in text_b


# -- 5. calendar.url naming a calendar collection ------------------------------------------------


def test_calendar_url_naming_a_collection_is_the_calendar_written_to(
        tmp_path, radicale, calendar_name, monkeypatch):
    """README: `calendar.url` is "the CalDAV server (or calendar collection) URL". A URL naming a
    collection (one another app made, with its own display name) is the calendar the follow-ups
    go into; no calendar is made elsewhere by the name `calendar.calendar` defaults to."""
    monkeypatch.setenv("SYNCD_TEST_PASSWORD", radicale.password)
    shutil.copytree(SAMPLE_CONTACTS, tmp_path / "contacts")
    server = Server(radicale)
    path = f"{server.user}{calendar_name.lower()}/"
    server.make(path, f"{calendar_name} (made by another app)")
    before = server.collections()
    person = Syncd(caldav_config(tmp_path, radicale, calendar=None, url=server.url(path)),
                   person_env(tmp_path))
    try:
        done = person.sync()
        made = {p: shown for p, shown in server.collections().items() if p not in before}
        assert made == {}, f"follow-ups written into {made}, not into {path}"
        assert len(server.uids(path)) == done.counts["created"] >= 5
    finally:
        for made_elsewhere in set(server.collections()) - set(before):
            server.delete(made_elsewhere)  # so that no later test meets it
