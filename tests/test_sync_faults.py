"""Safety guards and lost races, against a real Radicale (issue 5, points 1, 2 and 5).

- A contact source that suddenly yields no cards (emptied or unmounted folder, a `.vcf` file cut
  short or emptied) deletes no follow-up and is an error; restored, the next syncs write nothing.
  One such source of two is enough to hold the deletes back.
- A missing folder is an error and deletes nothing.
- A card that fails to parse keeps its follow-ups and disturbs no one else's.
- A 412: another client changes, deletes or creates the object between syncd's listing and its
  write; syncd sends one request, does not force, decides again next cycle, and the person's
  change wins (an identical object from a second syncd is adopted instead).
- One bad object (invalid iCalendar, a mark given twice, a failing write) never blocks the
  others.

Several of these first failed (a bad card's follow-up was deleted, one emptied source of two
lost its follow-ups, an emptied source was only logged, a mark given twice aborted the cycle);
fixed in 5a77e31.

Each test uses its own calendar; "the person" is a second CalDAVTarget on it, with its own
connection and listing, as a phone would be.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sync_support import (
    START,
    Wrapper,
    card_text,
    edited,
    main_component,
    make_config,
    now_on,
    objects,
    parse,
    uid_of,
    write_card,
    write_counts,
)

from syncd import cycle, render
from syncd.config import SourceConfig
from syncd.errors import PreconditionFailed, TargetError
from syncd.state import OURS, PERSON, State

CARDS = {
    "ann": ("Ann Rossi", None, "sailing"),
    "bob": ("Bob Bianchi", dt.date(1980, 12, 3), "jazz"),
    "cat": ("Cat Verdi", None, "photography"),
}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    cards = tmp_path / "contacts"
    cards.mkdir()
    for uid, (name, birthday, interests) in CARDS.items():
        write_card(cards, uid, name, birthday, interests)
    return tmp_path


@pytest.fixture
def state(home: Path):
    with State(home / "state.sqlite") as opened:
        yield opened


@pytest.fixture
def target(caldav_target):
    return caldav_target()


@pytest.fixture
def other(caldav_target):
    """The person's phone: the same calendar through its own connection and listing."""
    return caldav_target()


def sync(config, state, target, today: dt.date = START) -> cycle.Report:
    return cycle.sync(config, state, target, today, now_on(today))


def by_contact(other) -> dict[str, tuple[str, str, str]]:
    """contact UID → (href, item, etag) of the one follow-up per contact these tests expect: the
    keep-in-touch, else the birthday it was said in (one follow-up a week per person)."""
    found: dict[str, tuple[str, str, str]] = {}
    birthdays: dict[str, tuple[str, str, str]] = {}
    for href, (item, etag) in objects(other).items():
        try:
            component = main_component(parse(item))
        except ValueError:
            continue  # an object made unreadable on purpose
        if render.MARK_CONTACT in component:
            contact = str(component[render.MARK_CONTACT])
            if str(component[render.MARK_REASON]) == "birthday":
                birthdays[contact] = (href, item, etag)
                continue
            assert contact not in found, f"two follow-ups for {contact}"
            found[contact] = (href, item, etag)
    return birthdays | found


def summary_of(item: str) -> str:
    return str(main_component(parse(item))["SUMMARY"])


def first_sync(config, state, target, other) -> dict[str, tuple[str, str]]:
    report = sync(config, state, target)
    assert report.errors == [] and report.counts["created"] >= len(CARDS)
    return objects(other)


def converges(config, state, target, other, expected: dict[str, tuple[str, str]]) -> None:
    """Two more syncs write nothing and leave the calendar exactly as `expected`."""
    for _ in range(2):
        report = sync(config, state, target)
        assert write_counts(report) == (0, 0, 0), report.summary()
    assert objects(other) == expected


# -- the empty-source guard ------------------------------------------------------------------------


def _one_vcf_file(home: Path) -> Path:
    """The same cards as one `.vcf` file (a phone export)."""
    file = home / "contacts.vcf"
    file.write_text("".join(card_text(uid, name, birthday, interests)
                            for uid, (name, birthday, interests) in CARDS.items()))
    return file


def _unmount(home: Path) -> None:
    """The folder is a mount point: unmounted, an empty folder is left in its place."""
    (home / "contacts").rename(home / "away")
    (home / "contacts").mkdir()


EMPTYINGS = {
    "vdir emptied": ("vdir", lambda home: [p.unlink() for p in (home / "contacts").iterdir()]),
    "vdir unmounted": ("vdir", _unmount),
    "vcf file emptied": ("vcf", lambda home: (home / "contacts.vcf").write_text("")),
    "vcf file cut short": ("vcf", lambda home: (home / "contacts.vcf").write_text(
        (home / "contacts.vcf").read_text()[:60])),
}


@pytest.mark.parametrize("how", EMPTYINGS)
def test_a_source_that_reads_empty_deletes_nothing_and_restored_converges(
        home, state, target, other, how):
    kind, empty = EMPTYINGS[how]
    path = home / "contacts" if kind == "vdir" else _one_vcf_file(home)
    config = make_config(home, SourceConfig(kind, path))
    before = first_sync(config, state, target, other)
    saved = home / "saved"
    shutil.copytree(home / "contacts", saved)
    if kind == "vcf":
        shutil.copy(path, home / "saved.vcf")

    empty(home)
    for _ in range(2):
        report = sync(config, state, target)
        assert write_counts(report) == (0, 0, 0)
        assert report.counts["kept"] == len(before)
    assert objects(other) == before

    if kind == "vdir":
        shutil.rmtree(path)
        shutil.copytree(saved, path)
    else:
        shutil.copy(home / "saved.vcf", path)
    converges(config, state, target, other, before)


def test_a_source_that_reads_empty_is_reported_as_an_error(home, state, target, other):
    config = make_config(home)
    first_sync(config, state, target, other)
    for card in (home / "contacts").iterdir():
        card.unlink()
    report = sync(config, state, target)
    assert report.errors and str(home / "contacts") in report.errors[0]


def test_one_emptied_source_of_two_deletes_nothing(home, state, target, other):
    work = home / "work"
    work.mkdir()
    (home / "contacts" / "cat.vcf").rename(work / "cat.vcf")
    config = make_config(home, home / "contacts", work)
    before = first_sync(config, state, target, other)
    (work / "cat.vcf").unlink()  # the work share is not mounted today
    report = sync(config, state, target)
    assert report.counts["deleted"] == 0
    assert objects(other) == before


def test_a_missing_folder_is_an_error_and_deletes_nothing(home, state, target, other):
    config = make_config(home)
    before = first_sync(config, state, target, other)
    (home / "contacts").rename(home / "away")
    report = sync(config, state, target)
    assert write_counts(report) == (0, 0, 0)
    assert len(report.errors) == 1
    assert str(home / "contacts") in report.errors[0] and "no such folder" in report.errors[0]
    assert objects(other) == before
    (home / "away").rename(home / "contacts")
    converges(config, state, target, other, before)


def test_a_missing_source_of_two_deletes_nothing(home, state, target, other):
    work = home / "work"
    work.mkdir()
    (home / "contacts" / "cat.vcf").rename(work / "cat.vcf")
    config = make_config(home, home / "contacts", work)
    before = first_sync(config, state, target, other)
    (home / "contacts" / "ann.vcf").unlink()  # would delete Ann's follow-up...
    work.rename(home / "away")  # ...but a source failed: nothing is deleted this cycle
    report = sync(config, state, target)
    assert write_counts(report) == (0, 0, 0) and len(report.errors) == 1
    assert objects(other) == before


# -- a card that fails to parse --------------------------------------------------------------------

BREAKINGS = {
    "cut before END:VCARD": lambda path: path.write_text(
        card_text("ann", "Ann Rossi", interests="sailing", complete=False)),
    "emptied": lambda path: path.write_bytes(b""),
    "garbage": lambda path: path.write_bytes(b"\x00\xff PK\x03\x04 not a card"),
}


@pytest.mark.parametrize("how", BREAKINGS)
def test_a_bad_card_disturbs_no_other_follow_up(home, state, target, other, how):
    config = make_config(home)
    first_sync(config, state, target, other)
    others = {uid: value for uid, value in by_contact(other).items() if uid != "ann"}
    BREAKINGS[how](home / "contacts" / "ann.vcf")
    report = sync(config, state, target)
    assert report.counts["created"] == report.counts["updated"] == 0
    after = by_contact(other)
    assert {uid: after[uid] for uid in others} == others


@pytest.mark.parametrize("how", BREAKINGS)
def test_a_bad_card_keeps_its_follow_up(home, state, target, other, how):
    config = make_config(home)
    before = first_sync(config, state, target, other)
    card = home / "contacts" / "ann.vcf"
    good = card.read_bytes()
    BREAKINGS[how](card)
    report = sync(config, state, target)
    assert report.counts["deleted"] == 0
    assert objects(other) == before
    card.write_bytes(good)
    converges(config, state, target, other, before)


# -- 412: another client was faster ----------------------------------------------------------------


def racing(target, before_write) -> Wrapper:
    """syncd's target, where `before_write(op, href, item)` runs just before syncd's request."""
    calls: list[tuple[str, str]] = []

    def hook(op, href, item, write):
        calls.append((op, href))
        before_write(op, href, item)
        return write()

    wrapper = Wrapper(target, hook)
    wrapper.calls = calls  # type: ignore[attr-defined]
    return wrapper


def test_an_edit_just_before_syncds_update_wins(home, state, target, other):
    config = make_config(home)
    first_sync(config, state, target, other)
    write_card(home / "contacts", "ann", "Ann Rossi-Bianchi", interests="sailing")
    href = by_contact(other)["ann"][0]

    def person_edits(op, at, item):
        assert (op, at) == ("update", href)
        current, etag = other.get(href)
        other.update(href, edited(current, "Lunch with Ann on Friday"), etag)

    wrapper = racing(target, person_edits)
    report = sync(config, state, wrapper)
    assert wrapper.calls == [("update", href)]  # one PUT, no retry, no force
    assert write_counts(report) == (0, 0, 0)
    assert report.counts["kept"] == 1 and report.errors == []
    assert summary_of(other.get(href)[0]) == "Lunch with Ann on Friday"

    person = objects(other)
    report = sync(config, state, target)  # decides again: the person's version wins
    assert write_counts(report) == (0, 0, 0) and report.counts["kept"] == 1
    assert state.written()[uid_of(person[href][0])].owner == PERSON
    converges(config, state, target, other, person)


def test_an_edit_just_before_syncds_delete_wins(home, state, target, other):
    config = make_config(home)
    first_sync(config, state, target, other)
    href = by_contact(other)["ann"][0]
    (home / "contacts" / "ann.vcf").unlink()

    def person_edits(op, at, item):
        current, etag = other.get(href)
        other.update(href, edited(current, "Call Ann about the boat"), etag)

    wrapper = racing(target, person_edits)
    report = sync(config, state, wrapper)
    assert wrapper.calls == [("delete", href)]
    assert write_counts(report) == (0, 0, 0) and report.counts["kept"] == 1
    person = objects(other)
    assert summary_of(person[href][0]) == "Call Ann about the boat"
    converges(config, state, target, other, person)


def test_a_deletion_just_before_syncds_update_is_a_dismissal(home, state, target, other):
    config = make_config(home)
    first_sync(config, state, target, other)
    write_card(home / "contacts", "ann", "Ann Rossi-Bianchi", interests="sailing")
    href = by_contact(other)["ann"][0]

    def person_deletes(op, at, item):
        other.delete(href, other.get(href)[1])

    report = sync(config, state, racing(target, person_deletes))
    assert write_counts(report) == (0, 0, 0) and report.counts["kept"] == 1
    report = sync(config, state, target)
    assert report.counts["dismissed"] == 1 and write_counts(report) == (0, 0, 0)
    assert href not in other.list()
    converges(config, state, target, other, objects(other))


@pytest.mark.parametrize("who", ["another syncd", "the person"])
def test_a_create_racing_another_create_of_the_same_href(home, state, target, other, who):
    """`If-None-Match: *`: whoever was first keeps the object; no duplicate, nothing forced."""
    config = make_config(home)
    first_sync(config, state, target, other)
    write_card(home / "contacts", "dan", "Dan Neri", interests="gardening")
    theirs = {}

    def other_creates(op, href, item):
        assert op == "create"  # Dan shares no interest: no one else's follow-up changes
        text = item if who == "another syncd" else edited(item, "Dan: drinks on Thursday")
        theirs["href"], theirs["etag"] = href, other.create(href, text)

    wrapper = racing(target, other_creates)
    report = sync(config, state, wrapper)
    assert len(wrapper.calls) == 1
    assert write_counts(report) == (0, 0, 0) and report.counts["kept"] == 1
    assert report.errors == []

    report = sync(config, state, target)  # decides again, on what is there now
    assert write_counts(report) == (0, 0, 0)
    now = objects(other)
    assert now[theirs["href"]][1] == theirs["etag"]
    uids = [uid_of(item) for item, _ in now.values()]
    assert len(uids) == len(set(uids))
    row = state.written().get(uid_of(now[theirs["href"]][0]))
    if who == "another syncd":
        assert row is not None and row.owner == OURS  # adopted: identical to what syncd wants
    else:
        assert row is None  # the person's object: left alone, never adopted
    converges(config, state, target, other, now)


def test_a_precondition_failure_is_never_retried_by_force(home, state, target, other):
    """The 412 reaches syncd as PreconditionFailed from the real server, and syncd stops there."""
    config = make_config(home)
    first_sync(config, state, target, other)
    href = by_contact(other)["ann"][0]
    item, etag = target.get(href)
    other.update(href, edited(item, "Mine now"), etag)
    with pytest.raises(PreconditionFailed):
        target.update(href, item, etag)
    with pytest.raises(PreconditionFailed):
        target.delete(href, etag)
    assert summary_of(other.get(href)[0]) == "Mine now"


# -- one bad object never blocks the others --------------------------------------------------------


def _replace_on_server(other, href: str, change) -> str:
    item, etag = other.get(href)
    return other.update(href, change(item), etag)


def _with(line: str):
    """Insert a content line into the main component (what a sloppy client saves)."""
    def change(item: str) -> str:
        head, sep, tail = item.partition("\r\nSUMMARY")
        return head + "\r\n" + line + sep + tail
    return change


def test_an_invalid_object_is_reported_and_the_others_go_on(home, state, target, other):
    """Radicale accepts `PRIORITY:high`, icalendar refuses it: syncd cannot read that object."""
    config = make_config(home)
    first_sync(config, state, target, other)
    href = by_contact(other)["ann"][0]
    bad_etag = _replace_on_server(other, href, _with("PRIORITY:high"))
    with pytest.raises(ValueError):
        render.read(other.get(href)[0])
    write_card(home / "contacts", "bob", "Bob Bianchi-Rossi", dt.date(1980, 12, 3), "jazz")
    write_card(home / "contacts", "cat", "Cat Verdi-Neri", interests="photography")

    report = sync(config, state, target)
    assert report.counts["updated"] >= 2  # Bob's and Cat's follow-ups
    assert report.counts["failed"] == 1 and len(report.errors) == 1
    assert href in report.errors[0]
    assert other.list()[href] == bad_etag
    after = by_contact(other)
    assert "Bob Bianchi-Rossi" in after["bob"][1] and "Cat Verdi-Neri" in after["cat"][1]

    (home / "contacts" / "ann.vcf").unlink()  # not even a deletion touches it
    report = sync(config, state, target)
    assert write_counts(report) == (0, 0, 0) and len(report.errors) == 1
    assert other.list()[href] == bad_etag


def test_a_failing_write_does_not_stop_the_cycle(home, state, target, other):
    config = make_config(home)
    failed = []

    def fail_once(op, href, item):
        if not failed:
            failed.append(href)
            raise TargetError(f"{href}: 503 Service Unavailable", status=503)

    report = sync(config, state, racing(target, fail_once))
    assert len(report.errors) == 1 and failed[0] in report.errors[0]
    assert report.counts["created"] >= len(CARDS) - 1
    assert failed[0] not in other.list()
    report = sync(config, state, target)  # the next cycle makes up for it
    assert write_counts(report) == (1, 0, 0) and report.errors == []
    converges(config, state, target, other, objects(other))


def test_an_object_with_a_mark_twice_does_not_stop_the_cycle(home, state, target, other):
    """Radicale accepts a syncd mark given twice (a sloppy client); icalendar reads it as a list.
    It was an AttributeError that aborted every cycle; now it is just the person's object."""
    config = make_config(home)
    first_sync(config, state, target, other)
    href = by_contact(other)["ann"][0]
    odd_etag = _replace_on_server(other, href, _with("X-SYNCD-CONTACT:someone-else"))
    write_card(home / "contacts", "bob", "Bob Bianchi-Rossi", dt.date(1980, 12, 3), "jazz")
    report = sync(config, state, target)
    assert report.counts["updated"] >= 1  # Bob's follow-ups
    assert "Bob Bianchi-Rossi" in by_contact(other)["bob"][1]
    assert other.list()[href] == odd_etag
    converges(config, state, target, other, objects(other))


@pytest.mark.parametrize("line", ["X-SYNCD-REASON:birthday", "COMPLETED:20261201T100000Z",
                                  "STATUS:COMPLETED", "UID:y", "PRIORITY:high"])
def test_the_reader_fails_only_with_value_error(line):
    """What cycle.sync relies on to skip one object: `render.read` returns or raises ValueError."""
    todo = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VTODO\r\nUID:x\r\n"
            "X-SYNCD-CONTACT:ann\r\nX-SYNCD-REASON:keep-in-touch\r\n"
            "COMPLETED:20261130T100000Z\r\nSUMMARY:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n")
    try:
        render.read(_with(line)(todo))
    except ValueError:
        pass


def test_a_bad_card_holds_back_only_the_deletes_of_contacts_not_read(home, state, target, other):
    """Bob's birthday leaves his card while Ann's file is broken and Cat's is gone: Bob's
    birthday follow-up is deleted as usual; Cat's stays, since her card may be the broken one."""
    config = make_config(home)
    first_sync(config, state, target, other)
    birthdays = [item for item, _ in objects(other).values() if "X-SYNCD-REASON:birthday" in item]
    assert len(birthdays) == 1 and "X-SYNCD-CONTACT:bob" in birthdays[0]
    kept = by_contact(other)
    BREAKINGS["garbage"](home / "contacts" / "ann.vcf")
    write_card(home / "contacts", "bob", "Bob Bianchi", None, "jazz")
    (home / "contacts" / "cat.vcf").unlink()
    report = sync(config, state, target)
    assert report.counts["deleted"] == 1 and report.counts["kept"] >= 1
    assert report.counts["created"] == 1  # Bob's keep-in-touch, no longer said in his birthday
    after = objects(other)
    assert not any("X-SYNCD-REASON:birthday" in item for item, _ in after.values())
    after_by_contact = by_contact(other)
    bob = after_by_contact.pop("bob")
    kept.pop("bob")  # his keep-in-touch was said in his birthday follow-up (the same week)
    assert after_by_contact == kept  # Ann's and Cat's follow-ups untouched
    assert "X-SYNCD-REASON:keep-in-touch" in bob[1]  # and now has one of its own
