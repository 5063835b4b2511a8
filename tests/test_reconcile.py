"""One test per row of the reconciliation table, on pure values."""

import datetime as dt

from syncd import render
from syncd.model import Contact, FollowUp
from syncd.reconcile import (
    ADOPT, COMPLETED, CREATE, DELETE, DISMISS, FORGET, PERSON_EDITED, REFRESH, SKIP, UNCHANGED,
    UPDATE, Desired, reconcile, to_fetch,
)
from syncd.state import DISMISSED, OURS, PERSON, Written

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.timezone.utc)


def desired(name="Laura"):
    f = FollowUp(Contact("c1", name, "s"), "keep-in-touch", "new", dt.date(2026, 12, 1))
    item = render.render(f, language="en", component="todo", now=NOW)
    return Desired(f, f"{f.uid}.ics", item, render.content_hash(item))


def written(want, etag='"1"', owner=OURS, hash_=None):
    f = want.followup
    return Written(f.uid, want.href, etag, hash_ or want.hash, "c1", f.reason, f.cycle, f.due, owner)


def decide(want=None, listing=None, entry=None, fetched=None):
    uid = (want or entry).uid
    d = {uid: want} if want else {}
    w = {uid: entry} if entry else {}
    listing = listing or {}
    fetched = fetched or {}
    [action] = reconcile(d, listing, w, fetched)
    return action, to_fetch(d, listing, w)


def test_wanted_absent_never_written_is_created():
    want = desired()
    action, fetch = decide(want)
    assert action.kind == CREATE and fetch == set()


def test_wanted_unchanged_same_content_is_left():
    want = desired()
    action, fetch = decide(want, {want.href: '"1"'}, written(want))
    assert action.kind == UNCHANGED and fetch == set()


def test_wanted_unchanged_new_content_is_updated_with_if_match():
    old, new = desired("Laura"), desired("Laura Bianchi")
    action, _ = decide(new, {new.href: '"1"'}, written(old))
    assert (action.kind, action.etag) == (UPDATE, '"1"')


def test_changed_by_someone_else_is_left_and_theirs():
    want = desired()
    edited = want.item.replace("Get in touch", "Call")
    action, fetch = decide(want, {want.href: '"2"'}, written(want), {want.href: render.read(edited)})
    assert action.kind == PERSON_EDITED and fetch == {want.href}
    action, _ = decide(want, {want.href: '"2"'}, written(want, '"2"', PERSON))
    assert action.kind == SKIP


def test_etag_moved_but_same_content_is_not_an_edit():
    want = desired()
    action, _ = decide(want, {want.href: '"2"'}, written(want), {want.href: render.read(want.item)})
    assert (action.kind, action.etag) == (REFRESH, '"2"')


def test_unwanted_unchanged_is_deleted_with_if_match():
    want = desired()
    action, _ = decide(None, {want.href: '"1"'}, written(want))
    assert (action.kind, action.etag) == (DELETE, '"1"')


def test_unwanted_changed_by_someone_else_is_left():
    want = desired()
    edited = want.item.replace("Get in touch", "Call")
    action, _ = decide(None, {want.href: '"2"'}, written(want), {want.href: render.read(edited)})
    assert action.kind == PERSON_EDITED


def test_completed_is_recorded_never_rewritten():
    want = desired()
    done = want.item.replace("STATUS:NEEDS-ACTION", "STATUS:COMPLETED")
    action, _ = decide(want, {want.href: '"2"'}, written(want), {want.href: render.read(done)})
    assert action.kind == COMPLETED


def test_gone_after_written_is_a_dismissal_not_recreated():
    want = desired()
    action, _ = decide(want, {}, written(want))
    assert action.kind == DISMISS
    action, _ = decide(want, {}, written(want, owner=DISMISSED))
    assert action.kind == SKIP
    action, _ = decide(None, {}, written(want, owner=DISMISSED))
    assert action.kind == FORGET


def test_crash_after_put_is_adopted_not_duplicated():
    want = desired()
    action, fetch = decide(want, {want.href: '"9"'}, None, {want.href: render.read(want.item)})
    assert fetch == {want.href}
    assert (action.kind, action.etag) == (ADOPT, '"9"')


def test_crash_after_put_then_contact_changed_is_updated():
    old, new = desired("Laura"), desired("Laura B.")
    action, _ = decide(new, {new.href: '"9"'}, None, {new.href: render.read(old.item)})
    assert (action.kind, action.etag) == (UPDATE, '"9"')


def test_foreign_object_at_our_href_is_never_touched():
    want = desired()
    foreign = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    action, _ = decide(want, {want.href: '"9"'}, None, {want.href: render.read(foreign)})
    assert action.kind == SKIP


def test_failed_read_is_skipped_this_cycle():
    want = desired()
    action, _ = decide(want, {want.href: '"2"'}, written(want), {})
    assert action.kind == SKIP


def test_own_update_before_a_crash_is_still_ours():
    """The PUT went through, the state write did not: the row has the old etag and hash, the
    object is exactly as syncd wrote it (its embedded hash agrees). Not a person's edit."""
    old, new = desired("Laura"), desired("Laura B.")
    action, fetch = decide(new, {new.href: '"2"'}, written(old), {new.href: render.read(new.item)})
    assert fetch == {new.href}
    assert (action.kind, action.etag, action.hash) == (REFRESH, '"2"', new.hash)
    newer = desired("Laura Bianchi")
    action, _ = decide(newer, {new.href: '"2"'}, written(old), {new.href: render.read(new.item)})
    assert (action.kind, action.etag) == (UPDATE, '"2"')


def test_own_delete_before_a_crash_is_not_a_dismissal():
    want = desired()
    deleting = written(want, owner="deleting")
    action, _ = decide(want, {}, deleting)  # gone, and wanted again: created, not dismissed
    assert action.kind == CREATE
    action, _ = decide(None, {}, deleting)  # gone and not wanted: the row is dropped
    assert action.kind == FORGET
    action, _ = decide(None, {want.href: '"1"'}, deleting)  # the DELETE never happened
    assert (action.kind, action.etag) == (DELETE, '"1"')


def test_ticked_deleted_then_written_again_by_the_other_instance_is_theirs_not_reopened():
    """Found by the state machine: the person ticks a follow-up off and deletes it; the other
    laptop's syncd (which never saw it) writes the same follow-up at the same href. That object
    is the other instance's: this one neither withdraws its completion nor takes it over."""
    from syncd.reconcile import OTHER, REOPENED
    from syncd.state import COMPLETED as DONE
    f = desired().followup
    theirs = render.render(f, language="en", component="todo", now=NOW, instance="b@laptop")
    want = desired()
    d, w = {want.uid: want}, {want.uid: written(want, '"3"', owner=DONE)}
    listing = {want.href: '"9"'}
    assert want.href in to_fetch(d, listing, w)
    [action] = reconcile(d, listing, w, {want.href: render.read(theirs)}, instance="a@desktop")
    assert action.kind == OTHER and action.kind != REOPENED and action.writer == "b@laptop"
    # the same object without another instance's mark is this one's follow-up un-ticked
    [mine] = reconcile(d, listing, w, {want.href: render.read(want.item)}, instance="a@desktop")
    assert mine.kind == REOPENED
