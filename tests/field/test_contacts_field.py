"""Address books read in part, in the field (issue 11): the real `syncd` CLI and `syncd run` as
subprocesses, real files, a local calendar folder, the session's Radicale on 127.0.0.1 (and the
fault proxy of `tests/loopback_proxy.py` before it, for a card a real server cannot spoil).

Each case is a setup that happens every week, and each failed on syncd before issue 11
(ea45d59), which deleted the follow-ups of everyone a read missed and re-created them later:

- a restore that copied 2 of 20 files (then the same 2 files for real, one poll later);
- an export cut at a card boundary;
- an export rewritten card by card over 3 s while `syncd run` watches it;
- one CardDAV card that cannot be read;
- `syncd sync` and `syncd run` under `timezone: Pacific/Kiritimati` on a machine whose zone is
  a day behind;
- a catalog file edited, then SIGHUP.

What is compared is the calendar folder itself: each follow-up's UID, contact and DUE date, so
that a follow-up deleted and re-created (on another day, or with another UID) shows, whatever
the summaries say. `FIGURES` collects the counts for docs/reliability.md (`-s` prints them).
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
from loopback_proxy import Fault, LoopbackProxy

from syncd.model import followup_of

TODAY = "2026-11-30"  # a Monday
KEYS = ("created", "updated", "deleted", "unchanged", "kept", "completed", "dismissed", "failed")
SUMMARY = re.compile(r"(\d+) created, (\d+) updated, (\d+) deleted, (\d+) unchanged, (\d+) kept, "
                     r"(\d+) completed, (\d+) dismissed, (\d+) failed")
FIGURES: dict[str, object] = {}


def card(uid: str, name: str, tag: str = "sailing", extra: str = "") -> str:
    return (f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\n{extra}"
            f"NOTE:#{tag}\r\nEND:VCARD\r\n")


# Twenty people, most of them sharing a tag, as in a real address book.
PEOPLE = {f"p{i:02}": card(f"p{i:02}", f"Person {i:02}", "sailing" if i % 3 else "chess")
          for i in range(1, 21)}


def environment(**more: str) -> dict[str, str]:
    """No proxy from the environment, ever: nothing may reach another address."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(more)
    return env


def syncd(home: Path, *args: str, env: dict[str, str] | None = None,
          code: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "syncd", "--log-level", "info", *args,
         "--config", str(home / "config.yaml")],
        capture_output=True, text=True, timeout=60, env=env or environment(), cwd=home)
    assert result.returncode == code, (args, result.stdout, result.stderr)
    return result


def counts(text: str) -> dict[str, int]:
    """The counts of the last summary in `text` (what `sync` prints, a daemon's `cycle:` line)."""
    found = SUMMARY.findall(text)
    assert found, text
    return dict(zip(KEYS, map(int, found[-1])))


def sync(home: Path, *args: str, env: dict[str, str] | None = None) -> tuple[dict[str, int], str]:
    result = syncd(home, "sync", *args, env=env)
    return counts(result.stdout), result.stderr


def writes(numbers: dict[str, int]) -> int:
    return numbers["created"] + numbers["updated"] + numbers["deleted"]


def calendar(home: Path) -> dict[str, tuple[str, str, str]]:
    """The follow-ups in the calendar folder: follow-up (its UID without the calendar's scope)
    → (contact, reason, DUE)."""
    objects = {}
    for path in sorted((home / "calendar").glob("*.ics")):
        for todo in icalendar.Calendar.from_ical(path.read_bytes()).walk("VTODO"):
            objects[followup_of(str(todo["UID"]))] = (str(todo["X-SYNCD-CONTACT"]),
                                         str(todo["X-SYNCD-REASON"]),
                                         todo.decoded("DUE").isoformat())
    return objects


def write_config(home: Path, contacts: str, more: str = "") -> None:
    (home / "config.yaml").write_text(
        "contacts:\n" + textwrap.indent(textwrap.dedent(contacts), "  ")
        + "calendar: {type: local, path: calendar}\n"
        + "me: {interests: [sailing]}\n"
        + "state: state.sqlite\n" + textwrap.dedent(more))


def write_folder(folder: Path, cards: dict[str, str]) -> None:
    folder.mkdir()
    for uid, text in cards.items():
        (folder / f"{uid}.vcf").write_text(text, encoding="utf-8")


class Daemon:
    """`syncd run` as a subprocess, its log (info) in a file of the home folder."""

    def __init__(self, home: Path, env: dict[str, str] | None = None, name: str = "daemon"):
        self.path = home / f"{name}.log"
        self.log = open(self.path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "syncd", "--log-level", "info", "run", "--config",
             str(home / "config.yaml")],
            stdout=self.log, stderr=subprocess.STDOUT, env=env or environment(), cwd=home)

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.path.read_text()

    def cycles(self) -> list[dict[str, int]]:
        return [counts(line) for line in self.output().splitlines() if "cycle: " in line]

    def wait_for(self, condition, timeout: float = 20.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            assert self.process.poll() is None, self.output()
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}:\n{self.output()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
        self.log.close()
        return self.process.returncode


@pytest.fixture
def daemons():
    running: list[Daemon] = []
    yield running
    for daemon in running:
        daemon.stop()


# -- 1. a restore that copied 2 of 20 files ------------------------------------------------------


def test_a_restore_of_2_of_20_files_deletes_nothing_until_it_is_read_again_a_poll_later(tmp_path):
    home, folder = tmp_path, tmp_path / "contacts"
    write_folder(folder, PEOPLE)
    write_config(home, "- {type: vdir, path: contacts}\n", "daemon: {poll: 2s}\n")
    first, _ = sync(home, "--today", TODAY)
    before = calendar(home)
    assert first["created"] == 20 and sorted(c for c, _, _ in before.values()) == sorted(PEOPLE)

    two = dict(list(PEOPLE.items())[:2])
    shutil.rmtree(folder)
    write_folder(folder, two)  # a restore stopped after two files
    cut, warnings = sync(home, "--today", TODAY)
    assert (cut["deleted"], cut["updated"], cut["kept"]) == (0, 0, 20)
    assert f"{folder}: read 2 cards, 20 at the last whole read" in warnings
    assert calendar(home) == before

    shutil.rmtree(folder)
    write_folder(folder, PEOPLE)  # the restore finished
    restored, _ = sync(home, "--today", TODAY)
    assert (restored["created"], restored["deleted"]) == (0, 0)
    assert calendar(home) == before  # the same UIDs on the same days: nothing re-created

    shutil.rmtree(folder)
    write_folder(folder, two)  # this time the person did remove 18 people
    again, _ = sync(home, "--today", TODAY)
    assert again["deleted"] == 0
    time.sleep(2.0)  # daemon.poll
    trusted, _ = sync(home, "--today", TODAY)
    assert trusted["deleted"] == 18
    assert calendar(home) == {uid: o for uid, o in before.items() if o[0] in two}
    FIGURES["2 of 20 files restored"] = {"cut": cut, "restored": restored,
                                         "same 2 files, 1 poll later": trusted}


# -- 2. an export cut at a card boundary ---------------------------------------------------------


def cut_after_cards(path: Path, cards: int) -> None:
    data = path.read_bytes()
    end = 0
    for _ in range(cards):
        end = data.index(b"END:VCARD\r\n", end) + len(b"END:VCARD\r\n")
    path.write_bytes(data[:end])


@pytest.fixture
def export_home(tmp_path) -> Path:
    (tmp_path / "export.vcf").write_text("".join(PEOPLE.values()), encoding="utf-8")
    write_config(tmp_path, "- {type: vcf, path: export.vcf}\n")
    return tmp_path


def test_an_export_cut_at_a_card_boundary_deletes_nothing(export_home):
    home, export = export_home, export_home / "export.vcf"
    full = export.read_bytes()
    first, _ = sync(home, "--today", TODAY)
    before = calendar(home)
    assert first["created"] == 20 and len(before) == 20

    cut_after_cards(export, 2)  # an export stopped right after its second END:VCARD
    cut, warnings = sync(home, "--today", TODAY)
    assert (cut["deleted"], cut["updated"], cut["kept"]) == (0, 0, 20)
    assert f"{export}: read 2 cards, 20 at the last whole read" in warnings
    assert calendar(home) == before

    export.write_bytes(full)
    restored, _ = sync(home, "--today", TODAY)
    assert (restored["created"], restored["deleted"]) == (0, 0)
    assert calendar(home) == before
    FIGURES["export cut at a card boundary"] = {"cut": cut, "restored": restored}


def test_a_suspect_read_rewrites_no_follow_up(export_home):
    """A read the source rule holds suspect decides nothing: not the deletes, and not the
    rewrite of the two follow-ups read either (their introductions name people the cut export
    lost), so that the export restored finds the calendar as it was and writes nothing."""
    home, export = export_home, export_home / "export.vcf"
    full = export.read_bytes()
    sync(home, "--today", TODAY)
    before = {p.name: p.read_bytes() for p in (home / "calendar").glob("*.ics")}
    cut_after_cards(export, 2)
    cut, _ = sync(home, "--today", TODAY)
    export.write_bytes(full)
    restored, _ = sync(home, "--today", TODAY)
    FIGURES["suspect read, writes"] = {"cut": writes(cut), "restored": writes(restored)}
    assert (writes(cut), writes(restored)) == (0, 0)
    assert {p.name: p.read_bytes() for p in (home / "calendar").glob("*.ics")} == before


# -- 3. an export rewritten card by card under `syncd run` ---------------------------------------


def test_an_export_rewritten_over_3_seconds_under_the_daemon_deletes_nothing(export_home,
                                                                           daemons):
    home, export = export_home, export_home / "export.vcf"
    daemon = Daemon(home)  # daemon.debounce: 1 s, the default
    daemons.append(daemon)
    daemon.wait_for(lambda: daemon.cycles(), what="the first cycle")
    assert daemon.cycles()[0]["created"] == 20
    before = calendar(home)

    newcomer = card("zoe", "Zoe Newcomer", "chess")
    with open(export, "w", encoding="utf-8", newline="") as out:  # in place, as exporters do
        for text in [*PEOPLE.values(), newcomer]:
            out.write(text)
            out.flush()
            time.sleep(0.15)
    written = len(daemon.output())
    daemon.wait_for(lambda: "cycle: " in daemon.output()[written:]
                    and any(c == "zoe" for c, _, _ in calendar(home).values()),
                    what="a cycle after the export was written")
    assert daemon.stop() == 0

    cycles = daemon.cycles()
    assert sum(c["deleted"] for c in cycles) == 0, daemon.output()
    assert sum(c["created"] for c in cycles) == 21  # the newcomer only: nothing re-created
    after = calendar(home)
    assert {uid: o for uid, o in after.items() if uid in before} == before
    plan = json.loads(syncd(home, "plan", "--json").stdout)
    assert {(f["uid"], f["contact_uid"], f["due"]) for f in plan} == {
        (uid, contact, due) for uid, (contact, _, due) in after.items()}
    FIGURES["export rewritten over 3 s under syncd run"] = {
        "cycles": len(cycles), "deleted": 0, "created after the first": 1,
        "follow-ups": len(after)}


# -- 4. an unreadable CardDAV card ---------------------------------------------------------------


def multiget(radicale, href: str) -> bytes:
    """Radicale's own answer to the addressbook-multiget syncd sends for one card."""
    parts = urlsplit(radicale.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    credentials = base64.b64encode(f"{radicale.username}:{radicale.password}".encode()).decode()
    connection.request("REPORT", href.rsplit("/", 1)[0] + "/", (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<C:addressbook-multiget xmlns:d="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">'
        f"<d:prop><d:getetag/><C:address-data/></d:prop><d:href>{href}</d:href>"
        "</C:addressbook-multiget>"), {"Depth": "1", "Authorization": f"Basic {credentials}",
                                       "Content-Type": "application/xml; charset=utf-8"})
    answer = connection.getresponse()
    body = answer.read()
    connection.close()
    assert answer.status == 207, (answer.status, body)
    return body


def test_an_unreadable_carddav_card_keeps_its_follow_ups(tmp_path, address_book, radicale):
    home = tmp_path
    people = {uid: PEOPLE[uid] for uid in list(PEOPLE)[:6]}
    for uid, text in people.items():
        address_book.put(f"{uid}.vcf", text)
    book = urlsplit(address_book.url).path
    with LoopbackProxy(radicale.url) as proxy:
        write_config(home, textwrap.dedent(f"""\
            - type: carddav
              url: {proxy.url.rstrip('/')}{book}
              username: {radicale.username}
              password_env: SYNCD_TEST_PASSWORD
            """))
        env = environment(SYNCD_TEST_PASSWORD=radicale.password)
        first, _ = sync(home, "--today", TODAY, env=env)
        before = calendar(home)
        assert first["created"] == 6 and len(before) == 6

        # p02 changes on the server, and its new version arrives unreadable (cut before its
        # END:VCARD): Radicale would not store such a card, so the proxy answers the
        # addressbook-multiget with Radicale's own answer, spoiled.
        address_book.put("p02.vcf", people["p02"].replace("END:VCARD",
                                                          "TITLE:Skipper\r\nEND:VCARD"))
        body = multiget(radicale, f"{book}p02.vcf")
        assert body.count(b"END:VCARD") == 1
        spoiled = body.replace(b"END:VCARD", b"")
        proxy.fault = lambda method, path: Fault(
            status=207, body=spoiled, content_type="application/xml; charset=utf-8",
            only_if_body=b"addressbook-multiget") if method == "REPORT" else None
        damaged, warnings = sync(home, "--today", TODAY, env=env)
        assert damaged["deleted"] == 0
        assert f"{proxy.url.rstrip('/')}{book}p02.vcf" in warnings
        assert calendar(home) == before
    FIGURES["unreadable CardDAV card"] = {"cards": 6, "sync": damaged}


# -- 5. the CLI and the daemon under timezone: Pacific/Kiritimati ---------------------------------


def test_cli_and_daemon_agree_on_today_in_kiritimati(tmp_path, daemons):
    """Kiritimati is UTC+14; the machine's zone here is UTC-12 (POSIX `<-12>12`, no tz database
    needed), so its day is always one or two days behind Kiritimati's (with UTC it would be only
    from 10:00 to 24:00 UTC). The birthday falls `lead + horizon` after Kiritimati's today: its
    follow-up is due on the horizon's last day there, and beyond the horizon on the machine's
    day, so a command taking today from the system zone would delete it and the daemon would
    write it again, every round."""
    home = tmp_path
    kiritimati = dt.datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    system = dt.datetime.now(dt.timezone(dt.timedelta(hours=-12))).date()
    assert system < kiritimati
    birthday = kiritimati + dt.timedelta(days=35)
    write_folder(home / "contacts", {"kai": card("kai", "Kai Tabai", extra=(
        f"BDAY:1984-{birthday:%m-%d}\r\n"))})
    write_config(home, "- {type: vdir, path: contacts}\n", """\
        timezone: Pacific/Kiritimati
        rules: {birthday: {lead: 7d}, horizon: 28d}
        """)
    env = environment(TZ="<-12>12")
    due = (kiritimati + dt.timedelta(days=28)).isoformat()
    rounds: list[dict[str, int]] = []
    first: dict[str, tuple[str, str, str]] = {}
    for turn in ("daemon", "sync", "daemon", "sync", "sync"):
        if turn == "sync":
            rounds.append(sync(home, env=env)[0])
        else:
            daemon = Daemon(home, env, name=f"daemon-{len(rounds)}")
            daemons.append(daemon)
            daemon.wait_for(lambda: daemon.cycles(), what="a cycle")
            assert daemon.stop() == 0
            rounds.append(daemon.cycles()[0])
        now = calendar(home)
        assert [o for o in now.values() if o[1] == "birthday"] == [("kai", "birthday", due)], (
            turn, rounds)
        first = first or now
        assert now == first, (turn, rounds)  # the same UIDs on the same days, every round
    assert rounds[0]["created"] == 2  # the birthday and the keep-in-touch
    assert [writes(r) for r in rounds[1:]] == [0, 0, 0, 0], rounds
    plan = json.loads(syncd(home, "plan", "--json", env=env).stdout)
    assert {(f["reason"], f["due"]) for f in plan} >= {("birthday", due)}
    FIGURES["CLI and daemon in Kiritimati"] = {"rounds": len(rounds),
                                               "writes after the first": 0}


# -- 6. SIGHUP after a catalog edit ----------------------------------------------------------------

CATALOG = """\
- id: mycelium-running
  kind: book
  title: Mycelium Running
  by: Paul Stamets
  tags: [mycology]
  language: en
  isbn13: "9781580085793"
"""
BEEKEEPING = """\
- id: the-beekeepers-handbook
  kind: book
  title: The Beekeeper's Handbook
  by: Diana Sammataro
  tags: [beekeeping]
  language: en
  isbn13: "9780801476945"
"""


def test_sighup_after_a_catalog_edit_uses_the_new_idea(tmp_path, daemons):
    home = tmp_path
    write_folder(home / "contacts", {"bea": card("bea", "Bea Keeper", "beekeeping")})
    (home / "ideas.yaml").write_text(CATALOG, encoding="utf-8")
    write_config(home, "- {type: vdir, path: contacts}\n", "catalog: [ideas.yaml]\n")
    daemon = Daemon(home)
    daemons.append(daemon)
    daemon.wait_for(lambda: daemon.cycles(), what="the first cycle")
    [path] = (home / "calendar").glob("*.ics")
    before = calendar(home)
    assert "the-beekeepers-handbook" not in path.read_text()

    (home / "ideas.yaml").write_text(CATALOG + BEEKEEPING, encoding="utf-8")
    daemon.process.send_signal(signal.SIGHUP)
    daemon.wait_for(lambda: "X-SYNCD-IDEA:the-beekeepers-handbook" in path.read_text(),
                    what="the new idea in the follow-up")
    [todo] = icalendar.Calendar.from_ical(path.read_bytes()).walk("VTODO")
    assert "The Beekeeper's Handbook" in str(todo["DESCRIPTION"])
    assert calendar(home) == before  # updated in place: same UID, same day
    assert daemon.stop() == 0
    FIGURES["SIGHUP after a catalog edit"] = {"cycles": len(daemon.cycles()),
                                              "last": daemon.cycles()[-1]}


def teardown_module() -> None:
    if FIGURES:
        print("\nfield figures (contacts):", json.dumps(FIGURES))
