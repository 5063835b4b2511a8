"""The decisions of a cycle over gathered inputs (syncd.engine), and the instance rows of the
reconciliation table: pure values, no state file, no target."""

from __future__ import annotations

import datetime as dt

from syncd import engine, render
from syncd.engine import Inputs, choose_target, decide, delete_guard
from syncd.model import Contact, FollowUp
from syncd.reconcile import CREATE, DELETE, DISMISS, FORGET, OTHER, SKIP, UNCHANGED, Desired
from syncd.state import COMPLETED, DELETING, OTHER_INSTANCE, OURS, Written

NOW = dt.datetime(2026, 11, 26, tzinfo=dt.timezone.utc)
ME, THEM = "aaaa@laptop", "bbbb@desktop"


def want(contact: str, instance: str = ME) -> Desired:
    f = FollowUp(Contact(contact, contact.title(), "s"), "keep-in-touch", "new",
                 dt.date(2026, 12, 1))
    item = render.render(f, language="en", component="todo", now=NOW, instance=instance)
    return Desired(f, f"{f.uid}.ics", item, render.content_hash(item))


def row(d: Desired, owner: str = OURS, etag: str = '"1"') -> Written:
    f = d.followup
    return Written(f.uid, d.href, etag, d.hash, f.contact.uid, f.reason, f.cycle, f.due, owner,
                   "t")


def inputs(desired=(), listing=None, written=(), **more) -> Inputs:
    return Inputs({d.uid: d for d in desired}, listing or {}, {w.uid: w for w in written},
                  more.pop("fetched", {}), more.pop("deletable", None), ME, target="cal", **more)


FOUR = [want(name) for name in ("ann", "bob", "cat", "dan")]


# -- the target rule -----------------------------------------------------------------------------


def test_a_target_with_its_identity_is_used():
    assert choose_target("d", "local:/c", "local:/c#1", "", {"local:/c#1": {OURS: 3}},
                         False) == engine.TargetChoice()


def test_a_new_place_is_claimed():
    choice = choose_target("d", "local:/new", None, "no folder", {"local:/c#1": {OURS: 3}}, False)
    assert choice == engine.TargetChoice(claim=True)


def test_the_folder_syncd_wrote_to_without_its_marker_is_refused():
    choice = choose_target("/c", "local:/c", None, "no marker", {"local:/c#1": {OURS: 3}}, False)
    assert not choice.claim and "wrote 3 follow-ups" in choice.refused
    assert "no marker" in choice.refused and "--accept-dismissals" in choice.refused


def test_accepted_the_rows_move_to_the_new_marker():
    choice = choose_target("/c", "local:/c", None, "", {"local:/c#1": {OURS: 3}}, True)
    assert choice == engine.TargetChoice(claim=True, inherit="local:/c#1")


def test_only_rows_of_syncd_own_objects_hold_the_place():
    # What the person completed there is theirs: it does not make an empty folder suspect.
    assert choose_target("/c", "local:/c", None, "", {"local:/c#1": {COMPLETED: 2}},
                         False).claim


# -- the delete guard ----------------------------------------------------------------------------


def test_deletes_are_free_when_every_source_read_whole():
    assert delete_guard(True, ["ann"], {}) is None


def test_a_partial_read_allows_only_the_deletes_of_contacts_read():
    assert delete_guard(False, ["ann", "bob"], {}) == {"ann", "bob"}


def test_a_whole_read_of_no_card_deletes_nothing_syncd_wrote():
    written = {w.uid: w for w in [row(FOUR[0])]}
    assert delete_guard(True, [], written) == frozenset()
    assert delete_guard(True, [], {}) is None  # nothing to lose


def test_decide_keeps_the_follow_ups_of_contacts_not_read():
    listing = {d.href: '"1"' for d in FOUR}
    result = decide(inputs([], listing, [row(d) for d in FOUR], deletable={"ann"}))
    kinds = {a.written.contact_uid: a.kind for a in result.actions}
    assert kinds == {"ann": DELETE, "bob": SKIP, "cat": SKIP, "dan": SKIP}


# -- the emptied, lost and dismiss rules ---------------------------------------------------------


def test_every_follow_up_gone_is_refused_not_dismissed():
    result = decide(inputs(FOUR, {}, [row(d) for d in FOUR]))
    assert result.actions == [] and "none of the 4 follow-ups" in result.refused


def test_a_person_deleting_a_few_is_dismissals():
    three = FOUR[:3]
    result = decide(inputs(three, {}, [row(d) for d in three]))
    assert result.refused is None and {a.kind for a in result.actions} == {DISMISS}


def test_accepted_every_gone_one_is_a_dismissal():
    result = decide(inputs(FOUR, {}, [row(d) for d in FOUR], accept_dismissals=True))
    assert [a.kind for a in result.actions] == [DISMISS] * 4


def test_a_target_lost_and_back_empty_gets_its_follow_ups_again():
    gone = [row(d) for d in FOUR] + [row(want("eve"))]  # eve is no longer wanted
    result = decide(inputs(FOUR, {}, gone, lost=True))
    kinds = {a.uid: a.kind for a in result.actions}
    assert result.refused is None
    assert [kinds[d.uid] for d in FOUR] == [CREATE] * 4 and kinds[want("eve").uid] == FORGET
    assert engine.as_written(inputs(FOUR, {}, gone, lost=True))[FOUR[0].uid].owner == DELETING


def test_a_target_lost_and_back_with_its_objects_was_a_passing_failure():
    listing = {d.href: '"1"' for d in FOUR[1:]}  # ann's was deleted by the person meanwhile
    result = decide(inputs(FOUR, listing, [row(d) for d in FOUR], lost=True))
    kinds = {a.uid: a.kind for a in result.actions}
    assert kinds[FOUR[0].uid] == DISMISS and {kinds[d.uid] for d in FOUR[1:]} == {UNCHANGED}


def test_an_object_missing_from_an_incomplete_listing_is_no_dismissal():
    result = decide(inputs(FOUR[:1], {}, [row(FOUR[0])], listing_complete=False))
    assert [a.kind for a in result.actions] == [SKIP]


def test_settle_first_applies_only_what_the_person_did():
    listing = {d.href: '"1"' for d in FOUR[1:]}
    new = want("fay")
    result = decide(inputs([*FOUR, new], listing, [row(d) for d in FOUR], settle_first=True))
    assert [a.kind for a in result.actions] == [DISMISS]


# -- two instances on one calendar ---------------------------------------------------------------


def test_another_instances_object_is_remembered_as_theirs_never_adopted():
    mine, theirs = want("ann"), want("ann", THEM)
    stored = {theirs.href: render.read(theirs.item)}
    [action] = decide(inputs([mine], {theirs.href: '"9"'}, [], fetched=stored)).actions
    assert (action.kind, action.writer, action.etag) == (OTHER, THEM, '"9"')


def test_an_object_from_before_the_marks_is_adopted_as_before():
    old = want("ann", "")
    stored = {old.href: render.read(old.item)}
    [action] = decide(inputs([want("ann")], {old.href: '"9"'}, [], fetched=stored)).actions
    assert action.kind != OTHER and action.kind != SKIP


def test_the_mark_is_not_content_objects_of_both_hash_alike():
    assert want("ann").hash == want("ann", THEM).hash == want("ann", "").hash


def test_an_object_of_theirs_is_skipped_while_unchanged_and_not_recreated_when_gone():
    mine = want("ann")
    theirs = row(mine, OTHER_INSTANCE, '"9"')
    [kept] = decide(inputs([mine], {mine.href: '"9"'}, [theirs])).actions
    [gone] = decide(inputs([mine], {}, [theirs])).actions
    [unwanted] = decide(inputs([], {mine.href: '"9"'}, [theirs])).actions
    assert (kept.kind, gone.kind, unwanted.kind) == (SKIP, SKIP, FORGET)


def test_my_row_over_an_object_the_other_instance_rewrote_becomes_theirs():
    mine = want("ann")
    rewritten = want("ann", THEM)
    stored = {mine.href: render.read(rewritten.item.replace("Get in touch", "Call"))}
    [action] = decide(inputs([mine], {mine.href: '"2"'}, [row(mine)], fetched=stored)).actions
    assert action.kind == OTHER and action.writer == THEM


def test_a_passing_read_adds_follow_ups_but_rewrites_none():
    old, new = want("ann"), want("bob")
    changed = Desired(old.followup, old.href, old.item.replace("Ann", "Ann B"), "other-hash")
    result = decide(inputs([changed, new], {old.href: '"1"'}, [row(old)], hold_updates=True))
    assert {a.uid: a.kind for a in result.actions} == {old.uid: SKIP, new.uid: CREATE}
    result = decide(inputs([changed], {old.href: '"1"'}, [row(old)]))
    assert [a.kind for a in result.actions] == ["update"]


def test_a_folder_found_elsewhere_with_its_marker_was_moved_and_keeps_its_rows():
    known = {"local:/old#m1": {OURS: 3}, "local:/other#m2": {OURS: 1}}
    assert choose_target("/new", "local:/new", "local:/new#m1", "", known, False) == \
        engine.TargetChoice(inherit="local:/old#m1")
    assert choose_target("/new", "local:/new", "local:/new#m3", "", known, False) == \
        engine.TargetChoice()  # another marker: another calendar


def test_a_partial_read_forgets_nothing_the_person_did_with_a_contact_not_read():
    from syncd.state import DISMISSED
    dismissed = row(FOUR[1], DISMISSED)
    result = decide(inputs([], {}, [dismissed], deletable={"ann"}))
    assert [a.kind for a in result.actions] == [SKIP]  # bob was not read: his row stays
    result = decide(inputs([], {}, [dismissed], deletable=None))
    assert [a.kind for a in result.actions] == [FORGET]


# -- the renamed rule ----------------------------------------------------------------------------


def test_a_follow_up_listed_under_another_name_is_no_dismissal():
    """Calypso stores objects under names of its own: syncd's follow-up is not at the href it
    was PUT to, but its UID is in the listing under another one. Refused, not dismissed."""
    ann, bob = FOUR[0], FOUR[1]
    listing = {bob.href: '"1"', "server-name-1.ics": '"7"', "persons-own.ics": '"8"'}
    first = inputs([ann, bob], listing, [row(ann), row(bob)])
    assert engine.to_fetch(first) == {"server-name-1.ics", "persons-own.ics"}
    persons = render.read("BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:x\r\nSUMMARY:mine\r\n"
                          "END:VTODO\r\nEND:VCALENDAR\r\n")
    fetched = {"server-name-1.ics": render.read(ann.item), "persons-own.ics": persons}
    result = decide(inputs([ann, bob], listing, [row(ann), row(bob)], fetched=fetched))
    assert result.actions == [] and "listed at server-name-1.ics" in result.refused
    # The person's own object elsewhere is no such sign: the missing follow-up is a dismissal.
    result = decide(inputs([ann, bob], listing, [row(ann), row(bob)],
                           fetched={"persons-own.ics": persons, "server-name-1.ics": persons}))
    assert result.refused is None
    assert {a.uid: a.kind for a in result.actions}[ann.uid] == DISMISS
    # Nothing missing: nothing more is read.
    assert engine.to_fetch(inputs([bob], listing, [row(bob)])) == set()
