"""Carrying out the decisions of one cycle on the target and in the state file (an I/O edge).

Each write is followed by its own state transaction, so a crash between the two leaves an object
that the next cycle recognises and adopts, never a duplicate; a delete is announced in the state
file first (`DELETING`), so that its absence next cycle is not taken for a dismissal.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

from syncd import reciprocity, reconcile, render, rules
from syncd.config import Config
from syncd.errors import PreconditionFailed
from syncd.ledger import Ledger
from syncd.model import Idea
from syncd.reconcile import Action, Desired
from syncd.state import COMPLETED, DELETING, DISMISSED, OTHER_INSTANCE, OURS, PERSON, State, Written
from syncd.targets import Target

log = logging.getLogger(__name__)

COUNTED = {
    reconcile.CREATE: "created",
    reconcile.UPDATE: "updated",
    reconcile.DELETE: "deleted",
    reconcile.UNCHANGED: "unchanged",
    reconcile.ADOPT: "unchanged",
    reconcile.REFRESH: "unchanged",
    reconcile.PERSON_EDITED: "kept",
    reconcile.SKIP: "kept",
    reconcile.OTHER: "kept",
    reconcile.FORGET: "unchanged",
    reconcile.COMPLETED: "completed",
    reconcile.DISMISS: "dismissed",
    reconcile.HELD: "unchanged",
    reconcile.REOPENED: "reopened",  # not in the summary's counts: logged
}


@dataclass(frozen=True)
class Applying:
    """What carrying out an action may need besides the action itself."""

    config: Config
    state: State
    target: Target
    identity: str  # the target's, recorded with every row
    today: dt.date
    standings: Mapping[str, reciprocity.Standing]
    fetched: Mapping[str, render.Stored]
    ideas: Mapping[str, Idea]


def apply(action: Action, how: Applying) -> str:  # noqa: PLR0912 (a branch per kind of action)
    """Carry out one action; returns what to count it as. A TargetError other than a lost race
    is raised for the caller to report."""
    kind, want, state, target = action.kind, action.desired, how.state, how.target
    try:
        if kind == reconcile.CREATE:
            assert want
            etag = target.create(action.href, want.item)
            _written(how, want, _entry(want, action.href, etag, want.hash, OURS, how.identity))
        elif kind == reconcile.UPDATE:
            assert want and action.etag
            etag = target.update(action.href, want.item, action.etag)
            _written(how, want, _entry(want, action.href, etag, want.hash, OURS, how.identity))
        elif kind == reconcile.DELETE:
            assert action.etag and action.written
            state.record(replace(action.written, owner=DELETING))
            target.delete(action.href, action.etag)
            state.forget(action.uid, how.identity)
        elif kind in (reconcile.ADOPT, reconcile.REFRESH):
            assert want and action.etag and action.hash
            _written(how, want, _entry(want, action.href, action.etag, action.hash, OURS,
                                       how.identity))
        elif kind == reconcile.PERSON_EDITED:
            log.info("%s: edited in the calendar; left as it is", action.href)
            state.record(_remember(action, PERSON, how.identity))
        elif kind == reconcile.OTHER:
            state.record(replace(_remember(action, OTHER_INSTANCE, how.identity),
                                 writer=action.writer or ""))
        elif kind == reconcile.COMPLETED:
            _complete(action, how)
        elif kind == reconcile.REOPENED:
            _reopen(action, how)
        elif kind == reconcile.DISMISS:
            log.info("%s: deleted in the calendar; not re-created", action.href)
            entry = _remember(action, DISMISSED, how.identity)
            with state.transaction():
                state.record(entry)
                Ledger(state).record_event(entry.uid, DISMISSED, entry.contact_uid, entry.reason,
                                           how.today)
        elif kind == reconcile.FORGET:
            state.forget(action.uid, how.identity)
        elif kind == reconcile.SKIP and action.written is None:
            log.warning("%s: exists and was not written by syncd as it is now; left alone",
                        action.href)
    except PreconditionFailed as error:
        log.warning("%s; decided again next cycle", error)
        if kind == reconcile.DELETE and action.written:
            state.record(action.written)  # refused: nothing was deleted
        return "kept"
    return COUNTED[kind]


def _written(how: Applying, want: Desired, entry: Written) -> None:
    """The object is in the calendar as syncd wants it: its row, and what it proposes (the
    memory that keeps a person from getting the same idea twice in a year), in one
    transaction."""
    followup = want.followup
    with how.state.transaction():
        how.state.record(entry)
        Ledger(how.state).record_proposals(followup.uid, followup.contact.uid,
                                           [s.idea.id for s in followup.ideas], how.today)


def _complete(action: Action, how: Applying) -> None:
    """A follow-up ticked off in the calendar: the completion rule's exchanges in the ledger
    (what the person said they gave, else that they were in touch) and a restart of the
    keep-in-touch clock, in one transaction with the follow-up's own row."""
    entry = _remember(action, COMPLETED, how.identity)
    stored = how.fetched[action.href]
    done = rules.Completed(entry.contact_uid, entry.reason, entry.uid, stored.summary,
                           stored.completed, stored.ideas, stored.description, stored.also)
    exchanges = rules.completion_exchanges(done, how.today, how.ideas,
                                           how.config.rules.give_back_weights, how.standings)
    for problem in reciprocity.given_lines(stored.description)[1]:
        log.warning("%s: line %s; not recorded", action.href, problem)
    log.info("%s: completed in the calendar; recorded %s", action.href,
             "; ".join(f"{e.direction} {e.kind} {e.item!r}" for e in exchanges))
    with how.state.transaction():
        how.state.record(entry)
        ledger = Ledger(how.state)
        ledger.add_many(exchanges)
        ledger.record_event(entry.uid, COMPLETED, entry.contact_uid, entry.reason,
                            exchanges[0].date)


def _reopen(action: Action, how: Applying) -> None:
    """Un-ticked after it was ticked off: the exchange and the event its completion recorded
    are taken back, and the follow-up is syncd's again when it is otherwise as syncd wrote it."""
    entry, stored = action.written, how.fetched[action.href]
    assert entry is not None and action.etag and action.hash
    owner = OURS if stored.untouched else PERSON
    log.info("%s: un-ticked in the calendar; its completion is withdrawn", action.href)
    with how.state.transaction():
        Ledger(how.state).withdraw_completion(entry.uid, entry.reason)
        how.state.record(replace(entry, etag=action.etag, hash=action.hash, owner=owner))


def _entry(want: Desired, href: str, etag: str, hash_: str, owner: str, target: str) -> Written:
    followup = want.followup
    return Written(followup.uid, href, etag, hash_, followup.contact.uid, followup.reason,
                   followup.cycle, followup.due, owner, target)


def _remember(action: Action, owner: str, target: str) -> Written:
    if action.written is not None:
        base = action.written
        return replace(base, etag=action.etag or base.etag, hash=action.hash or base.hash,
                       owner=owner, target=target)
    assert action.desired and action.etag and action.hash
    return _entry(action.desired, action.href, action.etag, action.hash, owner, target)
