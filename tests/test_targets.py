"""Every target keeps the same contract (TargetContract); then what is particular to each."""

from __future__ import annotations

import base64
import datetime as dt
import errno
import logging
import os
import stat
import types
from pathlib import Path

import caldav
import icalendar
import pytest
from privileges import NOBODY, as_nobody, unprivileged
from syncd.demo import free_port

from syncd import cycle, dav
from syncd.config import load_config
from syncd.errors import PreconditionFailed, TargetError, TargetMissing
from syncd.state import State
from syncd.targets import MemoryTarget
from syncd.targets.caldav import CalDAVTarget, normalize_href
from syncd.targets.local import MARKER, LocalTarget


def make_item(uid: str, summary: str = "Call Ada", due: dt.date = dt.date(2026, 12, 1)) -> str:
    todo = icalendar.Todo()
    todo.add("uid", uid)
    todo.add("dtstamp", dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.timezone.utc))
    todo.add("summary", summary)
    todo.add("due", due)  # a date: DUE;VALUE=DATE
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//syncd//tests//EN")
    calendar.add("version", "2.0")
    calendar.add_component(todo)
    text = calendar.to_ical().decode("utf-8")
    assert "DUE;VALUE=DATE:" in text
    return text


def parsed(item: str) -> tuple[str, str, dt.date]:
    todo = icalendar.Calendar.from_ical(item).walk("VTODO")[0]
    return str(todo["UID"]), str(todo["SUMMARY"]), todo["DUE"].dt


class TargetContract:
    """The Target contract; each subclass provides a fresh, empty `target`."""

    @pytest.fixture
    def target(self):  # pragma: no cover - always overridden
        raise NotImplementedError

    def test_starts_empty(self, target):
        assert target.list() == {}

    def test_create_then_list_and_get(self, target):
        href = target.href_for("uid-1")
        etag = target.create(href, make_item("uid-1", "Call Ada"))
        assert etag
        assert target.list() == {href: etag}
        item, got_etag = target.get(href)
        assert got_etag == etag
        assert parsed(item) == ("uid-1", "Call Ada", dt.date(2026, 12, 1))

    def test_href_for_is_stable_and_listed_as_is(self, target):
        for uid in ("ada@example.org", "a+b=c_d-e.f", "with space/and slash", "Ünïcode"):
            href = target.href_for(uid)
            assert href == target.href_for(uid)
            target.create(href, make_item(uid))
        listing = target.list()
        assert sorted(listing) == sorted(
            target.href_for(uid)
            for uid in ("ada@example.org", "a+b=c_d-e.f", "with space/and slash", "Ünïcode"))
        for href in listing:
            item, _ = target.get(href)
            assert parsed(item)[0] in ("ada@example.org", "a+b=c_d-e.f",
                                       "with space/and slash", "Ünïcode")

    def test_create_twice_fails_and_keeps_the_first(self, target):
        href = target.href_for("uid-1")
        etag = target.create(href, make_item("uid-1", "First"))
        with pytest.raises(PreconditionFailed):
            target.create(href, make_item("uid-1", "Second"))
        item, got_etag = target.get(href)
        assert parsed(item)[1] == "First"
        assert got_etag == etag
        assert target.list() == {href: etag}

    def test_update_with_current_etag(self, target):
        href = target.href_for("uid-1")
        etag = target.create(href, make_item("uid-1", "Before"))
        new = target.update(href, make_item("uid-1", "After", dt.date(2027, 1, 2)), etag)
        assert new and new != etag
        assert target.list() == {href: new}
        item, got_etag = target.get(href)
        assert got_etag == new
        assert parsed(item) == ("uid-1", "After", dt.date(2027, 1, 2))

    def test_update_with_stale_etag_fails_and_keeps_the_item(self, target):
        href = target.href_for("uid-1")
        stale = target.create(href, make_item("uid-1", "One"))
        current = target.update(href, make_item("uid-1", "Two"), stale)
        with pytest.raises(PreconditionFailed):
            target.update(href, make_item("uid-1", "Three"), stale)
        item, etag = target.get(href)
        assert parsed(item)[1] == "Two"
        assert etag == current

    def test_delete_with_stale_etag_fails_and_keeps_the_item(self, target):
        href = target.href_for("uid-1")
        stale = target.create(href, make_item("uid-1", "One"))
        current = target.update(href, make_item("uid-1", "Two"), stale)
        with pytest.raises(PreconditionFailed):
            target.delete(href, stale)
        assert target.list() == {href: current}
        assert parsed(target.get(href)[0])[1] == "Two"

    def test_delete(self, target):
        keep = target.href_for("keep")
        keep_etag = target.create(keep, make_item("keep"))
        href = target.href_for("uid-1")
        etag = target.create(href, make_item("uid-1"))
        target.delete(href, etag)
        assert target.list() == {keep: keep_etag}
        with pytest.raises(TargetError):
            target.get(href)

    def test_update_or_delete_of_a_missing_item_fails(self, target):
        href = target.href_for("gone")
        etag = target.create(href, make_item("gone"))
        target.delete(href, etag)
        with pytest.raises(PreconditionFailed):
            target.update(href, make_item("gone"), etag)
        with pytest.raises(PreconditionFailed):
            target.delete(href, etag)
        assert target.list() == {}

    def test_get_of_a_missing_item_fails(self, target):
        with pytest.raises(TargetError):
            target.get(target.href_for("never-written"))


class TestMemoryTarget(TargetContract):
    @pytest.fixture
    def target(self):
        return MemoryTarget()


class TestLocalTarget(TargetContract):
    @pytest.fixture
    def target(self, tmp_path):
        target = LocalTarget(tmp_path / "calendar")
        target.claim()  # as the cycle does before its first listing
        return target

    def test_hrefs_are_file_names(self, target):
        assert target.href_for("abc-123@example.org") == "abc-123@example.org.ics"
        for uid in ("a/b", "../x", ".hidden", "x" * 300, "tab\there", ""):
            href = target.href_for(uid)
            assert "/" not in href and not href.startswith(".") and href.endswith(".ics")
            assert len(href) < 100

    def test_folder_and_files_are_private(self, tmp_path):
        target = LocalTarget(tmp_path / "deep" / "er" / "calendar")
        href = target.href_for("uid-1")
        etag = target.create(href, make_item("uid-1"))
        for folder in (tmp_path / "deep", tmp_path / "deep" / "er", target.path):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        assert stat.S_IMODE((target.path / href).stat().st_mode) == 0o600
        etag = target.update(href, make_item("uid-1", "Again"), etag)
        assert stat.S_IMODE((target.path / href).stat().st_mode) == 0o600
        assert sorted(os.listdir(target.path)) == [href]  # no temporary file left behind

    def test_existing_folder_keeps_its_mode(self, tmp_path):
        folder = tmp_path / "shared"
        folder.mkdir(mode=0o755)
        os.chmod(folder, 0o755)
        LocalTarget(folder).create("a.ics", make_item("a"))
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755

    def test_list_ignores_other_files(self, target):
        href = target.href_for("uid-1")
        etag = target.create(href, make_item("uid-1"))
        (target.path / ".hidden.ics").write_text(make_item("hidden"))
        (target.path / ".x.ics.1234.tmp").write_text(make_item("tmp"))
        (target.path / "y.ics.tmp").write_text(make_item("tmp"))
        (target.path / "notes.txt").write_text("hello")
        (target.path / "sub.ics").mkdir()
        assert target.list() == {href: etag}

    def test_a_persons_edit_changes_the_etag(self, target):
        href = target.href_for("uid-1")
        etag = target.create(href, make_item("uid-1", "Mine"))
        file = target.path / href
        file.write_text(make_item("uid-1", "Edited by hand"))
        new = target.list()[href]
        assert new != etag
        with pytest.raises(PreconditionFailed):
            target.update(href, make_item("uid-1", "Mine again"), etag)
        assert parsed(file.read_text())[1] == "Edited by hand"
        assert target.get(href) == (file.read_bytes().decode(), new)

    def test_missing_folder_is_missing_not_empty(self, tmp_path):
        target = LocalTarget(tmp_path / "nope")
        with pytest.raises(TargetMissing, match="nope: the calendar folder is not there"):
            target.list()
        assert target.identity() is None and "does not exist" in target.absence

    def test_identity_is_the_folder_and_its_marker(self, tmp_path):
        folder = tmp_path / "cal"
        folder.mkdir()
        target = LocalTarget(folder)
        assert target.identity() is None and ".syncd-target" in target.absence
        claimed = target.claim()
        assert claimed.startswith(f"local:{folder.resolve()}#") and len(claimed) > len(
            f"local:{folder.resolve()}#")
        assert LocalTarget(folder).identity() == claimed  # stable across processes
        assert target.list() == {}  # the marker is not a calendar object
        assert stat.S_IMODE((folder / ".syncd-target").stat().st_mode) == 0o600
        (folder / ".syncd-target").unlink()
        assert target.claim() != claimed  # a new marker is a new target

    def test_a_file_where_the_folder_should_be_is_missing(self, tmp_path):
        (tmp_path / "cal").write_text("not a folder")
        with pytest.raises(TargetMissing, match="not a folder"):
            LocalTarget(tmp_path / "cal").identity()

    def test_bad_href_is_refused(self, target):
        for href in ("../x.ics", "a/b.ics", ".x.ics", "x.txt", ""):
            with pytest.raises(TargetError):
                target.get(href)

    def test_disk_full_names_the_path_and_leaves_nothing(self, target, monkeypatch):
        href = target.href_for("uid-1")
        etag = target.create(href, make_item("uid-1", "Kept"))

        def full(fd):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr("syncd.targets.local.os.fsync", full)
        with pytest.raises(TargetError) as caught:
            target.update(href, make_item("uid-1", "Lost"), etag)
        assert str(target.path / href) in str(caught.value)
        assert "No space left on device" in str(caught.value)
        with pytest.raises(TargetError):
            target.create(target.href_for("uid-2"), make_item("uid-2"))
        monkeypatch.undo()
        assert sorted(os.listdir(target.path)) == [MARKER, href]  # nothing half-written
        assert target.get(href) == ((target.path / href).read_bytes().decode(), etag)
        assert parsed(target.get(href)[0])[1] == "Kept"

    def test_path_that_is_a_file(self, tmp_path):
        (tmp_path / "file").write_text("x")
        with pytest.raises(TargetError) as caught:
            LocalTarget(tmp_path / "file").create("a.ics", make_item("a"))
        assert str(tmp_path / "file") in str(caught.value)

    def test_os_error_names_the_path(self):
        with unprivileged() as base:
            folder = base / "calendar"
            folder.mkdir(mode=0o755)
            if os.geteuid() == 0:
                os.chown(folder, NOBODY, NOBODY)
            target = LocalTarget(folder)
            first, second = make_item("a"), make_item("b")
            with as_nobody():
                target.create("a.ics", first)
                os.chmod(folder, 0o500)
                try:
                    with pytest.raises(TargetError) as caught:
                        target.create("b.ics", second)
                finally:
                    os.chmod(folder, 0o700)
        assert str(folder / "b.ics") in str(caught.value)
        assert "ermission denied" in str(caught.value)
        assert not isinstance(caught.value, PreconditionFailed)


class TestCalDAVTarget(TargetContract):
    @pytest.fixture
    def target(self, caldav_target):
        return caldav_target()

    def _calendars(self, radicale, name):
        client = caldav.DAVClient(url=radicale.url, username=radicale.username,
                                  password=radicale.password, auth_type="basic")
        calendars = client.get_principal().get_calendars()
        return [c for c in calendars if c.get_display_name() == name]

    def test_calendar_is_created_once_and_found_again(self, caldav_target, radicale,
                                                      calendar_name):
        first = caldav_target()
        assert self._calendars(radicale, calendar_name) == []
        href = first.href_for("uid-1")
        etag = first.create(href, make_item("uid-1"))
        found = self._calendars(radicale, calendar_name)
        assert len(found) == 1
        assert normalize_href(str(found[0].url.path)) + "uid-1.ics" == href
        second = caldav_target()
        assert second.list() == {href: etag}
        assert len(self._calendars(radicale, calendar_name)) == 1

    def test_renamed_calendar_is_found_by_its_id(self, caldav_target, radicale,
                                                 calendar_name):
        first = caldav_target()
        href = first.href_for("uid-1")
        etag = first.create(href, make_item("uid-1"))
        self._calendars(radicale, calendar_name)[0].set_properties(
            [caldav.elements.dav.DisplayName("Renamed in an app")])
        again = caldav_target()
        assert again.list() == {href: etag}
        assert self._calendars(radicale, calendar_name) == []

    def test_created_calendar_holds_both_components(self, caldav_target, radicale, calendar_name):
        """Both, so that `calendar.component` can change later: Cyrus and sabre/dav refuse a
        VEVENT in a calendar made for VTODOs (the server matrix shows it live)."""
        caldav_target().list()
        calendar = self._calendars(radicale, calendar_name)[0]
        assert sorted(calendar.get_supported_components()) == ["VEVENT", "VTODO"]

    def test_calendar_url_without_name(self, caldav_target, radicale):
        named = caldav_target()
        href = named.href_for("uid-1")
        etag = named.create(href, make_item("uid-1"))
        direct = CalDAVTarget(radicale.url.rstrip("/") + href.rsplit("/", 1)[0] + "/", None,
                              radicale.username, radicale.password)
        assert direct.href_for("uid-1") == href
        assert direct.list() == {href: etag}
        assert direct.requests == 1

    def test_request_counts(self, caldav_target):
        target = caldav_target()
        target.list()  # setup: principal, calendars, creation
        setup = target.requests
        assert setup <= 9  # with redirects followed and the component set checked
        href = target.href_for("uid-1")
        before = target.requests
        etag = target.create(href, make_item("uid-1"))
        target.list()
        target.get(href)
        etag = target.update(href, make_item("uid-1", "Two"), etag)
        target.delete(href, etag)
        assert target.requests - before == 5
        before = target.requests
        target.list()
        assert target.requests - before == 1
        found = caldav_target()
        found.list()
        # is the URL a calendar (or a redirect), principal, home, calendars, the component set,
        # listing: once per state file
        assert found.requests == 6

    def test_wrong_password(self, caldav_target, radicale):
        target = caldav_target(password="not-the-password")
        with pytest.raises(TargetError) as caught:
            target.list()
        message = str(caught.value)
        assert "401" in message and "authentication failed" in message
        assert "not-the-password" not in message
        assert radicale.url in message

    def test_wrong_password_on_a_calendar_url(self, radicale):
        url = f"{radicale.user_url}some-calendar/"
        target = CalDAVTarget(url, None, radicale.username, "bad-pw-123")
        with pytest.raises(TargetError) as caught:
            target.list()
        assert "401" in str(caught.value) and "bad-pw-123" not in str(caught.value)
        assert url in str(caught.value)

    def test_refused_connection_names_the_url(self):
        url = f"http://127.0.0.1:{free_port()}/alice/cal/"
        target = CalDAVTarget(url, None, "alice", "s3cret-pw", timeout=5)
        target.retry_delays = (0.0, 0.0, 0.0)
        with pytest.raises(TargetError) as caught:
            target.list()
        assert url in str(caught.value) and "s3cret-pw" not in str(caught.value)
        assert target.requests == 4  # a read is retried three times
        with pytest.raises(TargetError) as caught:
            target.create(target.href_for("x"), make_item("x"))
        assert target.requests == 5  # a write never is
        assert url + "x.ics" in str(caught.value)

    def test_credentials_in_the_url_never_reach_messages(self):
        url = f"http://alice:url-secret@127.0.0.1:{free_port()}/alice/cal/"
        target = CalDAVTarget(url, None, None, None, timeout=5)
        target.retry_delays = ()
        with pytest.raises(TargetError) as caught:
            target.list()
        assert "url-secret" not in str(caught.value) and "url-secret" not in target.description
        assert "127.0.0.1" in str(caught.value)

    def test_other_status_names_url_and_status(self, caldav_target, radicale):
        target = caldav_target()
        target.list()
        collection = target.href_for("x").rsplit("/", 2)[0] + "/"
        with pytest.raises(TargetError) as caught:
            target.get(collection + "not-a-calendar/x.ics")
        assert "404 Not Found" in str(caught.value)
        assert radicale.url.rstrip("/") + collection in str(caught.value)

    def test_password_never_logged(self, caldav_target, radicale, caplog):
        caplog.set_level(logging.DEBUG)
        caplog.set_level(logging.DEBUG, logger="caldav")  # caldav pins itself to WARNING
        target = caldav_target()
        href = target.href_for("uid-1")
        etag = target.create(href, make_item("uid-1"))
        target.list()
        target.get(href)
        etag = target.update(href, make_item("uid-1", "Two"), etag)
        with pytest.raises(PreconditionFailed):
            target.delete(href, '"stale"')
        target.delete(href, etag)
        with pytest.raises(TargetError):
            caldav_target(password="wrong-pw-456").list()
        assert "sending request" in caplog.text  # caldav's own debug lines were captured
        token = base64.b64encode(f"alice:{radicale.password}".encode()).decode()
        for secret in (radicale.password, token, "wrong-pw-456", "Authorization"):
            assert secret not in caplog.text

    def test_event_component(self, caldav_target, radicale, calendar_name):
        target = caldav_target(component="event")
        target.list()
        assert sorted(self._calendars(radicale, calendar_name)[0].get_supported_components()) \
            == ["VEVENT", "VTODO"]

    def test_a_calendar_that_refuses_the_component_is_named_at_discovery(
            self, caldav_target, radicale, calendar_name):
        client = caldav.DAVClient(radicale.url, username=radicale.username,
                                  password=radicale.password)
        client.principal().make_calendar(name=calendar_name, cal_id=f"only-todos-{calendar_name}",
                                         supported_calendar_component_set=["VTODO"])
        assert caldav_target().list() == {}
        with pytest.raises(TargetError) as raised:
            caldav_target(component="event").list()
        message = str(raised.value)
        assert f"{calendar_name!r} accepts only VTODO objects, not VEVENT" in message

    def test_not_a_url(self):
        with pytest.raises(TargetError):
            CalDAVTarget("dav.example.org", "x", None, None)


def test_normalize_href():
    assert normalize_href("/a/b%40c.ics") == "/a/b@c.ics"
    assert normalize_href("/a/b@c.ics") == "/a/b@c.ics"
    assert normalize_href("http://h:1/a/%2Bx%2Fy.ics") == "/a/+x%2Fy.ics"
    assert normalize_href("/a b/ü.ics") == "/a%20b/%C3%BC.ics"


def test_local_target_accepts_str(tmp_path: Path):
    target = LocalTarget(str(tmp_path))
    assert target.path == tmp_path


# -- incremental listing: sync-collection (RFC 6578) with the state file ------------------------


@pytest.fixture
def state(tmp_path):
    with State(tmp_path / "state.sqlite") as opened:
        yield opened


def other_client(radicale):
    """Another CalDAV client (a phone, Thunderbird) writing to the same calendar."""
    return caldav.DAVClient(url=radicale.url, username=radicale.username,
                            password=radicale.password, auth_type="basic")


def _put(radicale, href, item, **headers):
    response = other_client(radicale).request(
        radicale.url.rstrip("/") + href, "PUT", item,
        {"Content-Type": "text/calendar; charset=utf-8", **headers})
    assert response.status in (201, 204)


def _collection(target):
    return target.description  # the calendar collection's URL, once found


def test_list_is_one_report_and_sees_what_other_clients_did(caldav_target, radicale, state,
                                                            wire):
    target = caldav_target(cache=state)
    a, b = target.href_for("a"), target.href_for("b")
    etag_a = target.create(a, make_item("a"))
    target.create(b, make_item("b"))
    target.list()
    c = target.href_for("c")
    _put(radicale, a, make_item("a", "Edited on a phone"))
    assert other_client(radicale).request(radicale.url.rstrip("/") + b, "DELETE").status in (
        200, 204)
    _put(radicale, c, make_item("c", "Added on a phone"))

    again = caldav_target(cache=state)  # a new process: the calendar's URL is remembered too
    wire.clear()
    listing = again.list()
    assert [(method, "<d:sync-collection" in body) for method, _, body in wire] == [
        ("REPORT", True)]
    assert again.requests == 1
    assert set(listing) == {a, c} and listing[a] != etag_a
    assert listing == again._propfind_listing(_collection(again))
    wire.clear()
    assert again.list() == listing
    assert len(wire) == 1


def test_own_writes_update_the_cached_listing(caldav_target, state):
    target = caldav_target(cache=state)
    target.list()
    href = target.href_for("a")
    etag = target.create(href, make_item("a"))
    assert state.load_listing(_collection(target))[1] == {href: (etag, "")}
    etag = target.update(href, make_item("a", "Two"), etag)
    assert state.load_listing(_collection(target))[1] == {href: (etag, "")}
    target.delete(href, etag)
    assert state.load_listing(_collection(target))[1] == {}
    assert target.list() == {}


def test_a_412_drops_the_token_and_the_next_list_is_full_and_right(caldav_target, radicale,
                                                                    state, wire):
    target = caldav_target(cache=state)
    href = target.href_for("a")
    etag = target.create(href, make_item("a"))
    target.list()
    _put(radicale, href, make_item("a", "Edited on a phone"))
    with pytest.raises(PreconditionFailed):
        target.update(href, make_item("a", "Mine"), etag)
    assert state.load_listing(_collection(target))[0] is None
    wire.clear()
    listing = target.list()
    assert len(wire) == 1 and listing[href] != etag
    assert parsed(target.get(href)[0])[1] == "Edited on a phone"
    assert state.load_listing(_collection(target))[0].startswith("http://radicale.org/ns/sync/")


def test_a_rejected_token_falls_back_to_propfind_once_logged(caldav_target, radicale, state,
                                                             wire, caplog):
    target = caldav_target(cache=state)
    keep = target.href_for("keep")
    target.create(keep, make_item("keep"))
    target.list()
    state.db.execute("UPDATE collections SET token = 'http://radicale.org/ns/sync/garbage'")
    gone = target.href_for("gone")
    _put(radicale, gone, make_item("gone"))
    caplog.set_level(logging.WARNING)
    wire.clear()
    listing = target.list()
    assert [method for method, _, _ in wire] == ["REPORT", "PROPFIND"]
    assert set(listing) == {keep, gone}
    assert "refused the sync token (403)" in caplog.text
    caplog.clear()
    for _ in range(2):
        wire.clear()
        assert target.list() == listing
        assert [method for method, _, _ in wire] == ["REPORT"]
    state.db.execute("UPDATE collections SET token = 'http://radicale.org/ns/sync/again'")
    assert target.list() == listing
    assert caplog.text == ""  # once per process, not every cycle


def test_a_server_without_sync_collection_is_listed_with_propfind(caldav_target, monkeypatch,
                                                                  wire, caplog):
    send = dav.DavSession.send  # the recording one

    def no_sync(self, method, url, body="", headers=None):
        if "<d:sync-collection" in body:
            wire.append((method, url, body))
            return types.SimpleNamespace(status=501, reason="Not Implemented", tree=None,
                                         headers={})
        return send(self, method, url, body, headers)

    monkeypatch.setattr(dav.DavSession, "send", no_sync)
    monkeypatch.setattr(dav, "_unsupported", set())
    caplog.set_level(logging.WARNING)
    target = caldav_target()
    href = target.href_for("a")
    etag = target.create(href, make_item("a"))
    wire.clear()
    assert target.list() == {href: etag}
    assert [method for method, _, _ in wire] == ["REPORT", "PROPFIND"]
    wire.clear()
    assert target.list() == {href: etag}
    assert [method for method, _, _ in wire] == ["PROPFIND"]  # not asked again in this process
    assert caplog.text.count("does not support incremental reads") == 1


def test_a_deleted_calendar_is_looked_up_again(caldav_target, radicale, calendar_name, state):
    first = caldav_target(cache=state)
    first.create(first.href_for("a"), make_item("a"))
    [calendar] = [c for c in other_client(radicale).get_principal().get_calendars()
                  if c.get_display_name() == calendar_name]
    calendar.delete()
    with pytest.raises(TargetError) as caught:
        caldav_target(cache=state).list()
    assert "404" in str(caught.value) and "looked up again" in str(caught.value)
    again = caldav_target(cache=state)
    assert again.list() == {}  # found by name, or created again
    assert again.requests > 1


def test_the_collection_url_in_the_state_file_carries_no_credentials(radicale, calendar_name,
                                                                     state):
    url = radicale.url.replace("://", f"://{radicale.username}:{radicale.password}@")
    target = CalDAVTarget(url, calendar_name, None, None, cache=state)
    target.list()
    rows = state.db.execute("SELECT key, url FROM discovered UNION ALL "
                            "SELECT url, token FROM collections").fetchall()
    assert rows and radicale.password not in repr(rows)


def test_verify_false_warns_naming_the_url(caplog):
    url = f"https://dav.example.org:{free_port()}/"
    caplog.set_level(logging.WARNING)
    CalDAVTarget(url, "x", None, None, verify=False)
    assert f"{url}: TLS certificates are NOT verified" in caplog.text


def test_statuses_reach_the_error_for_the_daemon(caldav_target):
    with pytest.raises(TargetError) as caught:
        caldav_target(password="not-the-password").list()
    assert caught.value.status == 401 and caught.value.auth
    url = f"http://127.0.0.1:{free_port()}/alice/cal/"
    target = CalDAVTarget(url, None, "alice", "pw", timeout=5)
    target.retry_delays = ()
    with pytest.raises(TargetError) as caught:
        target.list()
    assert caught.value.connection and caught.value.transient


# -- whole cycles with the incremental listing --------------------------------------------------

TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def home(caldav_home):
    return caldav_home


def run_sync(home, today=TODAY):
    """One cycle as the daemon runs it: a new target, the state file."""
    config = load_config(home / "config.yaml")
    target = cycle.make_target(config.calendar)
    with State(config.state) as opened:
        report = cycle.sync(config, opened, target, today, dt.datetime.now(dt.timezone.utc))
    assert report.errors == []
    return report, target


def server_listing(home):
    """The calendar as the server lists it now, read by a target without the state file."""
    return cycle.make_target(load_config(home / "config.yaml").calendar).list()


def writes(report):
    return report.counts["created"], report.counts["updated"], report.counts["deleted"]


def test_a_steady_sync_is_one_request_and_no_write(home, wire):
    first, _ = run_sync(home)
    assert first.counts["created"] >= 5
    wire.clear()
    report, target = run_sync(home)
    assert writes(report) == (0, 0, 0) and report.counts["unchanged"] == first.counts["created"]
    assert target.requests == 1  # no discovery either: the calendar's URL is in the state file
    assert [(method, "<d:sync-collection" in body) for method, _, body in wire] == [
        ("REPORT", True)]


def test_a_change_by_another_client_between_syncs_is_seen(home, radicale):
    run_sync(home)
    href = sorted(server_listing(home))[0]
    other_client(radicale).request(radicale.url.rstrip("/") + href, "DELETE")
    report, _ = run_sync(home)
    assert report.counts["dismissed"] == 1 and writes(report) == (0, 0, 0)
    report, _ = run_sync(home)
    assert writes(report) == (0, 0, 0) and report.counts["dismissed"] == 0


def test_a_corrupt_token_falls_back_and_the_sync_still_converges(home, radicale, wire):
    run_sync(home)
    href = sorted(server_listing(home))[0]
    other_client(radicale).request(radicale.url.rstrip("/") + href, "DELETE")
    with State(home / "state.sqlite") as opened:
        opened.db.execute("UPDATE collections SET token = 'http://radicale.org/ns/sync/bad'")
    wire.clear()
    report, _ = run_sync(home)
    # The refused token, the listing it falls back to, and (the dismissal restarted a clock)
    # the listing of the second planning pass, from the fresh token.
    assert [method for method, _, _ in wire] == ["REPORT", "PROPFIND", "REPORT"]
    assert report.counts["dismissed"] == 1 and writes(report) == (0, 0, 0)
    for _ in range(2):
        wire.clear()
        report, _ = run_sync(home)
        assert writes(report) == (0, 0, 0) and [m for m, _, _ in wire] == ["REPORT"]


def test_a_stale_cached_listing_never_overwrites_a_persons_edit(home, radicale):
    """The worst a cached listing can be: an old etag under a newer token (say, a write of
    another process saved after a person's edit). The If-Match write fails, nothing is
    overwritten, the token is dropped and the next cycle sees the edit."""
    run_sync(home)
    config = load_config(home / "config.yaml")
    with State(config.state) as opened:
        [row] = [w for w in opened.written().values()
                 if w.contact_uid == "sample-chen-wei" and w.reason == "keep-in-touch"]
    edited = other_client(radicale).request(radicale.url.rstrip("/") + row.href, "GET")
    text = edited._raw_body.decode().replace("SUMMARY:", "SUMMARY:Lunch! ", 1)
    _put(radicale, row.href, text)
    target = cycle.make_target(config.calendar)
    with State(config.state) as opened:
        target.use_cache(opened)
        assert target.list()[row.href] != row.etag  # the listing saw the edit ...
        collection = _collection(target)
        opened.update_listing(collection, row.href, row.etag)  # ... and is made stale
    card = home / "contacts" / "chen-wei.vcf"
    card.write_text(card.read_text().replace("#investing", "#investing #fintech"))
    report, _ = run_sync(home)
    assert report.counts["updated"] == 0 and report.counts["kept"] == 1
    with State(config.state) as opened:
        assert opened.load_listing(collection)[0] is None
    report, _ = run_sync(home)
    assert writes(report) == (0, 0, 0) and report.counts["kept"] >= 1
    served = other_client(radicale).request(radicale.url.rstrip("/") + row.href, "GET")
    assert "SUMMARY:Lunch! " in served._raw_body.decode()
    with State(config.state) as opened:
        assert opened.written()[row.uid].owner == "person"
