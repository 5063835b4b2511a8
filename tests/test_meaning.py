"""An object still means what syncd wrote after the rewrites servers and clients are measured to
make (FIELD-NOTES.md, and the server matrix in tests/servers/ live), and a person's edit still
shows. Each shape below is what that server or library does to a stored object; the vobject one
is vobject itself (Radicale stores through it)."""

import datetime as dt
import re

import pytest
import vobject

from syncd import render
from syncd.model import Contact, FollowUp, Idea, Suggestion
from syncd.reconcile import (
    ADOPT, COMPLETED, PERSON_EDITED, REFRESH, SKIP, UPDATE, Desired, reconcile,
)
from syncd.state import OURS, Written

NOW = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.timezone.utc)
LATER = dt.datetime(2026, 11, 28, 18, 0, tzinfo=dt.timezone.utc)


def followup(name="Laura Bianchi, PhD; sailor – Zoë’s friend ☀☀☀") -> FollowUp:
    contact = Contact("laura-1", name, "s", interests=("sailing", "history"),
                      emails=("laura@example.org",))
    idea = Idea("book-master-and-commander", "book", "Master and Commander", "Patrick O'Brian",
                ("sailing",), "en")
    return FollowUp(contact, "keep-in-touch", "new", dt.date(2026, 12, 1),
                    ideas=(Suggestion(idea, "matches #sailing, and a long line " * 3, 1.0),))


def written_text(component="todo") -> str:
    return render.render(followup(), language="en", component=component, now=NOW)


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def refold(lines: list[str], width: int) -> str:
    out = []
    for line in lines:
        while len(line.encode()) > width:
            cut = width
            while (line.encode()[cut] & 0xC0) == 0x80:
                cut -= 1
            head = line.encode()[:cut].decode()
            out.append(head)
            line = " " + line[len(head):]
        out.append(line)
    return "\r\n".join(out)


def cyrus(text: str) -> str:
    """Cyrus 3.6 (libical inside): one CATEGORIES line per value, a new DTSTAMP, its PRODID."""
    lines = []
    for line in unfold(text):
        if line.startswith("CATEGORIES:"):
            lines += [f"CATEGORIES:{value}" for value in line[11:].split(",")]
        elif line.startswith("DTSTAMP:"):
            lines.append("DTSTAMP:20261128T180000Z")
        elif line.startswith("PRODID:"):
            lines.append("PRODID:-//CyrusIMAP.org/Cyrus 3.6.1//EN")
        else:
            lines.append(line)
    return refold(lines, 75)


def sogo(text: str) -> str:
    """SOGo 5.8: CLASS:PUBLIC added to the component, LAST-MODIFIED and CREATED set."""
    return text.replace("BEGIN:VTODO\r\n", "BEGIN:VTODO\r\nCLASS:PUBLIC\r\n"
                        "CREATED:20261128T180000Z\r\nLAST-MODIFIED:20261128T180000Z\r\n").replace(
        "BEGIN:VEVENT\r\n", "BEGIN:VEVENT\r\nCLASS:PUBLIC\r\n")


def libical(text: str) -> str:
    """libical 3.0 (Evolution): split CATEGORIES, `\\N` for a line break, LF line ends."""
    split = cyrus(text)
    return "\n".join(line.replace("\\n", "\\N") for line in split.split("\r\n"))


def icaljs(text: str) -> str:
    """ical.js 2.2 (Thunderbird, Nextcloud) saving it unchanged: folds at 76 octets, the
    component's properties in its own order, a new SEQUENCE and Thunderbird's save counter."""
    lines = unfold(text)
    start = next(i for i, line in enumerate(lines) if line in ("BEGIN:VTODO", "BEGIN:VEVENT"))
    end = next(i for i, line in enumerate(lines) if line in ("END:VTODO", "END:VEVENT"))
    body = sorted(lines[start + 1:end], reverse=True) + ["SEQUENCE:1", "X-MOZ-GENERATION:2"]
    return refold(lines[:start + 1] + body + lines[end:], 76)


def radicale(text: str) -> str:
    """Radicale 3 stores what vobject serialises."""
    return vobject.readOne(text).serialize()


REWRITES = [cyrus, sogo, libical, icaljs, radicale]


@pytest.mark.parametrize("component", ["todo", "event"])
@pytest.mark.parametrize("rewrite", REWRITES, ids=lambda f: f.__name__)
def test_a_rewrite_that_changes_no_value_leaves_the_object_syncds(rewrite, component):
    text = written_text(component)
    rewritten = rewrite(text)
    assert rewritten != text  # the shape is a real change of the text
    before, after = render.read(text), render.read(rewritten)
    assert after.hash == before.hash and after.untouched and after.is_ours


@pytest.mark.parametrize("rewrite", REWRITES, ids=lambda f: f.__name__)
def test_an_edit_after_a_rewrite_still_shows(rewrite):
    text = rewrite(written_text())
    for edited in (text.replace("Get in touch", "Call"),  # the summary
                   text.replace("DUE;VALUE=DATE:20261201", "DUE;VALUE=DATE:20261203"),
                   text.replace("NEEDS-ACTION", "IN-PROCESS"),
                   re.sub(r"CATEGORIES:keep-in-touch\r?\n", "", text)
                   if "CATEGORIES:keep-in-touch" in text else text.replace(",keep-in-touch", ""),
                   text.replace("END:VTODO", "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:x\r\n"
                                "TRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VTODO"),
                   text.replace("END:VTODO", "PRIORITY:1\r\nEND:VTODO"),
                   text.replace("END:VTODO", "CLASS:PRIVATE\r\nEND:VTODO")):
        assert edited != text
        assert not render.read(edited).untouched, edited


def test_objects_of_syncd_before_0_2_stay_syncds_and_cyrus_splits_are_undone():
    """Before 0.2 the embedded hash was the content-line hash: an object written then, as it was
    or as Cyrus and SOGo rewrote it, is still syncd's."""
    text, digest, legacy = render.render_with_hash(followup(), language="en", component="todo",
                                                   now=NOW)
    old = text.replace(f"X-SYNCD-HASH:{digest}", f"X-SYNCD-HASH:{legacy}")
    for shape in (old, cyrus(old), sogo(old), sogo(cyrus(old))):
        stored = render.read(shape)
        assert stored.untouched and stored.means(legacy) and stored.hash == digest
    assert not render.read(old.replace("Get in touch", "Call")).untouched


def _desired(**kw) -> Desired:
    item, digest, legacy = render.render_with_hash(followup(**kw), language="en",
                                                   component="todo", now=NOW)
    f = followup(**kw)
    return Desired(f, f"{f.uid}.ics", item, digest, legacy)


def _row(want: Desired, hash_: str, etag: str = '"1"') -> Written:
    f = want.followup
    return Written(f.uid, want.href, etag, hash_, f.contact.uid, f.reason, f.cycle, f.due, OURS)


def test_a_row_with_the_legacy_hash_is_given_the_new_one_without_a_write():
    want = _desired()
    [action] = reconcile({want.uid: want}, {want.href: '"1"'},
                         {want.uid: _row(want, want.legacy_hash)}, {})
    assert (action.kind, action.hash) == (REFRESH, want.hash)
    changed = _desired(name="Laura")
    [action] = reconcile({want.uid: changed}, {want.href: '"1"'},
                         {want.uid: _row(want, want.legacy_hash)}, {})
    assert action.kind == UPDATE


@pytest.mark.parametrize("rewrite", REWRITES, ids=lambda f: f.__name__)
def test_a_resave_with_a_new_etag_is_a_refresh_and_a_lost_state_adopts(rewrite):
    want = _desired()
    stored = render.read(rewrite(want.item))
    [action] = reconcile({want.uid: want}, {want.href: '"2"'}, {want.uid: _row(want, want.hash)},
                         {want.href: stored})
    assert (action.kind, action.etag) == (REFRESH, '"2"')
    [action] = reconcile({want.uid: want}, {want.href: '"2"'}, {}, {want.href: stored})
    assert action.kind == ADOPT
    edited = render.read(rewrite(want.item).replace("Get in touch", "Call"))
    [action] = reconcile({want.uid: want}, {want.href: '"3"'}, {want.uid: _row(want, want.hash)},
                         {want.href: edited})
    assert action.kind == PERSON_EDITED


def test_a_follow_up_ticked_off_before_syncd_learnt_it_wrote_it_is_a_completion():
    """A crash right after the PUT, then the person ticks the to-do off (or the state file was
    lost after they did): the object is syncd's but for the completion, so it is recorded as
    completed, not left alone as the person's."""
    want = _desired()
    ticked = want.item.replace("STATUS:NEEDS-ACTION", "STATUS:COMPLETED\r\n"
                               "COMPLETED:20261129T100000Z\r\nPERCENT-COMPLETE:100")
    for shape in (ticked, cyrus(ticked), icaljs(ticked)):
        [action] = reconcile({want.uid: want}, {want.href: '"2"'}, {},
                             {want.href: render.read(shape)})
        assert action.kind == COMPLETED
    edited = ticked.replace("Get in touch", "Call")
    [action] = reconcile({want.uid: want}, {want.href: '"2"'}, {},
                         {want.href: render.read(edited)})
    assert action.kind == SKIP
