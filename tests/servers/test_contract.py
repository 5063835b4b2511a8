"""One contract, every server of the matrix (conftest.SERVERS): what a person does with syncd
and their calendar app, run as they would run it (`syncd sync` in a process of its own, on a
fresh account of the server), with a counting proxy on loopback before the server.

The checks: first sync, no-op resync in one listing request, one card edit = one PUT,
completion, dismissal, the person's edit kept, events, a component switch in the same calendar,
a second calendar of the same account, a lost state file (syncd's objects adopted), a client
re-saving every object unchanged (and then the state file lost too), the CardDAV source equal to
the folder, and a dry run that sends no write."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import caldav
import icalendar
import pytest

from loopback_proxy import LoopbackProxy

from .base import Account, Server

TODAY = "2026-11-30"
SAMPLES = Path(__file__).resolve().parents[2] / "config" / "contacts"
COUNTS = ("created", "updated", "deleted", "unchanged", "kept", "completed", "dismissed",
          "failed")
WRITES = {"PUT", "DELETE", "MKCALENDAR", "MKCOL", "PROPPATCH"}
DAV = "{DAV:}"
PROPFIND = ('<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop>'
            "<d:getetag/><d:resourcetype/></d:prop></d:propfind>")


class Person:
    """One person's setup: the sample contacts in a folder, a configuration pointing at their
    account through a counting proxy, a state file."""

    def __init__(self, home: Path, server: Server, account: Account, calendar: str) -> None:
        self.home, self.server, self.account, self.calendar = home, server, account, calendar
        self.contacts = home / "contacts"
        shutil.copytree(SAMPLES, self.contacts)
        origin = urlsplit(account.caldav_url)
        self.proxy = LoopbackProxy(f"{origin.scheme}://{origin.netloc}/").__enter__()
        self.component = "todo"
        self.source = "folder"
        self.url = account.caldav_url  # what the configuration names as calendar.url
        self.write_config()

    def via_proxy(self, url: str) -> str:
        parts = urlsplit(url)
        return f"{self.proxy.url.rstrip('/')}{parts.path}"

    def write_config(self) -> None:
        account = self.account
        login = (f"  username: {account.username}\n  password_env: SYNCD_TEST_PASSWORD\n"
                 if account.username else "")
        if self.source == "folder":
            contacts = "contacts: [{type: vdir, path: contacts}]"
        else:
            contacts = (f"contacts:\n  - type: carddav\n    url: "
                        f"{self.via_proxy(account.addressbook_url)}\n"
                        + (f"    username: {account.username}\n"
                           "    password_env: SYNCD_TEST_PASSWORD\n" if account.username else ""))
        (self.home / "config.yaml").write_text(
            f"{contacts}\n"
            f"calendar:\n  type: caldav\n  url: {self.via_proxy(self.url)}\n"
            f"  calendar: {self.calendar}\n  component: {self.component}\n{login}"
            f"  timeout: 20s\n"
            "rules: {weekly_cap: 1000, working_days: [mon, tue, wed, thu, fri, sat, sun]}\n"
            "state: state.sqlite\n", encoding="utf-8")

    def syncd(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
                   SYNCD_TEST_PASSWORD=self.account.password)
        return subprocess.run([sys.executable, "-m", "syncd", *args, "--config",
                               str(self.home / "config.yaml")], capture_output=True, text=True,
                              env=env, timeout=300, cwd=self.home)

    def sync(self, *flags: str, ok: bool = True) -> dict[str, int]:
        """One `syncd sync`: its counts, and the requests it sent (by method, in `requests`)."""
        before = len(self.proxy.requests)
        done = self.syncd("sync", "--today", TODAY, *flags)
        self.output = done.stdout + done.stderr
        self.sent = [method for method, _ in self.proxy.requests[before:]]
        if ok:
            assert done.returncode == 0, self.output
            assert "Traceback" not in self.output, self.output
        found = dict.fromkeys(COUNTS, 0)
        for number, what in re.findall(r"(\d+) (\w+)", done.stdout.splitlines()[-1]
                                       if done.stdout.strip() else ""):
            if what in found:
                found[what] = int(number)
        return found

    # -- the calendar, as the person's calendar app sees it ------------------------------------

    def client(self) -> caldav.DAVClient:
        account = self.account
        return caldav.DAVClient(url=account.caldav_url, username=account.username or None,
                                password=account.password or None,
                                auth_type=None if self.server.auth == "digest" or not
                                account.username else "basic")

    def calendar_url(self, name: str | None = None) -> str:
        principal = self.client().principal()
        [found] = [c for c in principal.calendars() if c.get_display_name() == (name or
                                                                               self.calendar)]
        return str(found.url)

    def objects(self, name: str | None = None) -> dict[str, tuple[str, str]]:
        """href -> (etag, text) of every object in the calendar."""
        client, url = self.client(), self.calendar_url(name)
        response = client.request(url, "PROPFIND", PROPFIND, {"Depth": "1",
                                                              "Content-Type": "application/xml"})
        tree = response.tree
        assert tree is not None and tree.tag == f"{DAV}multistatus", response.status
        found = {}
        own = urlsplit(url).path.rstrip("/")
        for member in tree.iter(f"{DAV}response"):
            href = member.findtext(f"{DAV}href") or ""
            if urlsplit(href).path.rstrip("/") == own or href.endswith("/"):
                continue
            etag = member.findtext(f".//{DAV}getetag") or ""
            text = client.request(urljoin(url, href), "GET").raw
            found[href] = (etag, text)
        return found

    def put(self, href: str, text: str, etag: str) -> int:
        client = self.client()
        url = urljoin(self.calendar_url(), href)
        return client.request(url, "PUT", text, {"If-Match": etag,
                                                 "Content-Type": "text/calendar"}).status

    def delete(self, href: str, etag: str) -> int:
        return self.client().request(urljoin(self.calendar_url(), href), "DELETE", "",
                                     {"If-Match": etag}).status

    def close(self) -> None:
        self.proxy.__exit__(None, None, None)


def urljoin(base: str, href: str) -> str:
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}{urlsplit(href).path}"


def component_of(text: str) -> icalendar.cal.Component:
    return next(c for c in icalendar.Calendar.from_ical(text).walk()
                if c.name in ("VTODO", "VEVENT"))


@pytest.fixture
def person(server: Server, tmp_path: Path):
    account = server.new_account()
    someone = Person(tmp_path, server, account, f"Follow-ups {uuid.uuid4().hex[:6]}")
    yield someone
    someone.close()


def first_sync(person: Person) -> int:
    counts = person.sync()
    assert counts["created"] >= 5 and counts["failed"] == 0, person.output
    assert len(person.objects()) == counts["created"]
    return counts["created"]


def test_first_sync_then_a_resync_in_one_listing_request(person):
    created = first_sync(person)
    again = person.sync()
    assert again["unchanged"] == created and sum(again[k] for k in COUNTS if k != "unchanged") == 0
    assert not WRITES & set(person.sent), person.sent
    # One REPORT (sync-collection), or one PROPFIND where the server has no sync-collection;
    # with Digest, first the Basic attempt and the challenge.
    assert len(person.sent) == (3 if person.server.auth == "digest" else 1), person.sent
    assert person.sent[-1] in ("REPORT", "PROPFIND") and "syncd: WARNING" not in person.output


def test_one_card_edit_is_one_put(person):
    first_sync(person)
    card = person.contacts / "sam-okafor.vcf"
    card.write_text(card.read_text().replace("sam@example.org", "sam@okafor.example"))
    counts = person.sync()
    assert counts["updated"] == 1 and person.sent.count("PUT") == 1, (counts, person.sent)
    [text] = [t for _, t in person.objects().values() if "sam@okafor.example" in t]
    assert "Okafor" in str(component_of(text)["SUMMARY"])


def test_completion_and_dismissal_are_recorded_and_not_undone(person):
    first_sync(person)
    objects = sorted(person.objects().items())
    (done_href, (done_etag, done_text)), (gone_href, (gone_etag, _)) = objects[0], objects[1]
    assert person.put(done_href, done_text.replace("STATUS:NEEDS-ACTION", "STATUS:COMPLETED"),
                      done_etag) in (200, 201, 204)
    assert person.delete(gone_href, gone_etag) in (200, 204)
    counts = person.sync()
    assert (counts["completed"], counts["dismissed"], counts["created"]) == (1, 1, 0), counts
    again = person.sync()
    assert again["created"] == again["dismissed"] == again["completed"] == 0, again
    assert gone_href not in person.objects()


def test_the_persons_edit_is_kept(person):
    first_sync(person)
    href, (etag, text) = sorted(person.objects().items())[0]
    edited = text.replace("SUMMARY:", "SUMMARY:Call first. ", 1)
    assert person.put(href, edited, etag) in (200, 201, 204)
    counts = person.sync()
    assert counts["kept"] == 1 and counts["updated"] == 0, counts
    assert "Call first." in person.objects()[href][1]


def test_events_and_a_switch_of_component_in_the_same_calendar(person):
    created = first_sync(person)
    person.component = "event"
    person.write_config()
    counts = person.sync()
    assert counts["failed"] == 0, person.output
    kinds = {component_of(text).name for _, text in person.objects().values()}
    assert kinds == {"VEVENT"} and len(person.objects()) == created, kinds


def test_a_second_calendar_of_the_same_account(person):
    created = first_sync(person)
    first = person.calendar
    person.calendar = f"{first} (work)"
    person.write_config()
    counts = person.sync()
    assert counts["created"] == created and counts["failed"] == 0, person.output
    assert len(person.objects(first)) == created  # the first calendar is left as it was


def test_a_lost_state_file_refuses_then_adopts_syncds_objects(person):
    """No backup (the first sync changed no ledger): the sync refuses with one line and sends no
    write; with `--new-ledger` the objects are adopted, none written again."""
    created = first_sync(person)
    (person.home / "state.sqlite").unlink()
    person.sync(ok=False)
    assert f"holds {created} follow-ups this syncd wrote" in person.output, person.output
    assert not {"PUT", "DELETE"} & set(person.sent) and "Traceback" not in person.output
    counts = person.sync("--new-ledger")
    assert counts["unchanged"] == created, person.output
    assert len(person.objects()) == created


def test_a_client_resaving_every_object_unchanged(person):
    """Cyrus and SOGo give a re-saved object a new ETag (and rewrite it as they store it): still
    syncd's, after the re-save and after a lost state file; a card edit still updates."""
    created = first_sync(person)
    for href, (etag, text) in person.objects().items():
        assert person.put(href, text, etag) in (200, 201, 204)
    counts = person.sync()
    assert counts["kept"] == counts["created"] == counts["updated"] == 0, counts
    (person.home / "state.sqlite").unlink()
    counts = person.sync("--new-ledger")
    assert counts["kept"] == counts["created"] == 0, counts
    card = person.contacts / "chen-wei.vcf"
    card.write_text(card.read_text().replace("chen.wei@example.org", "wei@chen.example"))
    counts = person.sync()
    assert counts["updated"] == 1 and counts["kept"] == 0, counts
    assert len(person.objects()) == created


def test_the_carddav_source_plans_what_the_folder_plans(person):
    """The address book read over CardDAV plans what a folder of the same cards plans: the
    cards as the server serves them (Radicale re-serialises cards through vobject, which cuts
    text at commas: that is the server's doing, not the reader's)."""
    account, client = person.account, person.client()
    served = person.home / "served"
    served.mkdir()
    for card in sorted(SAMPLES.glob("*.vcf")):
        url = f"{account.addressbook_url}{card.stem}.vcf"
        response = client.request(url, "PUT", card.read_text(),
                                  {"Content-Type": "text/vcard", "If-None-Match": "*"})
        assert response.status in (201, 204), (card.name, response.status)
        got = client.request(url, "GET", "", {"Accept": "text/vcard"})
        assert got.status == 200, (url, got.status)
        (served / card.name).write_bytes(got._raw_body)
    shutil.rmtree(person.contacts)
    served.rename(person.contacts)
    from_folder = person.syncd("plan", "--today", TODAY, "--json")
    person.source = "carddav"
    person.write_config()
    from_book = person.syncd("plan", "--today", TODAY, "--json")
    assert from_folder.returncode == from_book.returncode == 0, from_book.stderr
    assert json.loads(from_book.stdout) == json.loads(from_folder.stdout), from_book.stderr
    assert len(json.loads(from_book.stdout)) >= 5


def test_a_dry_run_sends_no_write(person):
    counts = person.sync("--dry-run")
    assert counts["created"] >= 5, person.output
    assert not WRITES & set(person.sent), person.sent
    assert re.search(r"would create the calendar", person.output), person.output
    names = [c.get_display_name() for c in person.client().principal().calendars()]
    assert person.calendar not in names


@pytest.mark.parametrize("server", ["cyrus", "sogo"], indirect=True)
def test_discovery_follows_the_well_known_redirect(person):
    """Cyrus and SOGo answer `/.well-known/caldav` with a 301; syncd discovers from where it
    leads (the caldav library alone made the calendar under the well-known URL: 403)."""
    root = urlsplit(person.account.caldav_url)
    person.url = f"{root.scheme}://{root.netloc}/.well-known/caldav"
    person.write_config()
    first_sync(person)
    assert "/.well-known/" not in person.calendar_url()
