"""The rules of the ledger and of trust in a read (pure: values and a day in, values out).

- **The keep-in-touch clock** (`keep_in_touch_clock`): when each contact was last in touch.
- **The completion rule** (`completion_exchanges`): what a follow-up ticked off in the calendar
  records in the ledger: only what the person did.
- **The source rule** (`source_verdict`): whether the cards read from one source can be trusted
  to decide that the contacts missing from them are gone.

The cycle gathers the inputs (the state file's rows, the cards, the stored object) and applies
what these return; nothing here reads a file, a socket or a clock.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from syncd import reciprocity
from syncd.config_types import Rules
from syncd.inspire import EXCHANGE_KIND_OF_IDEA
from syncd.model import GAVE, Contact, Exchange, Idea, Proposal
from syncd.planner import GIVE_BACK


@dataclass(frozen=True)
class LedgerView:
    """The ledger as of one day: stored exchanges merged with the NOTE lines of the cards."""

    exchanges: list[Exchange]
    standings: dict[str, reciprocity.Standing]
    last_contact: dict[str, dt.date]  # when each keep-in-touch clock last restarted
    proposed: tuple[Proposal, ...] = ()  # what follow-ups proposed in the last year


def ledger_view(stored: Iterable[Exchange], from_notes: Iterable[Exchange],
                contacts: Iterable[Contact], events: Iterable[Mapping[str, dt.date]],
                rules: Rules, today: dt.date, proposed: Iterable[Proposal] = ()) -> LedgerView:
    """`events`: per kind of follow-up event that restarts the clock (a dismissal, a
    completion), the day of each contact's latest one; `proposed`: what follow-ups proposed."""
    exchanges = reciprocity.merge(stored, from_notes)
    # An introduction counts for both people introduced (not exported: it is derived).
    mirrored = reciprocity.introduced_back(exchanges, contacts)
    credited = reciprocity.merge(exchanges, mirrored) if mirrored else exchanges
    standings = reciprocity.standings(credited, rules.give_back_window, today)
    return LedgerView(exchanges, standings, keep_in_touch_clock(standings, events, today),
                      tuple(proposed))


def keep_in_touch_clock(standings: Mapping[str, reciprocity.Standing],
                        events: Iterable[Mapping[str, dt.date]],
                        today: dt.date) -> dict[str, dt.date]:
    """The clock rule: a contact was last in touch on the latest of their last exchange (either
    way), a follow-up of theirs dismissed (deleted in the calendar) and one completed. Days after
    `today` (a date typed wrong, a clock that was ahead) do not count."""
    clocks = [{uid: s.last_exchange for uid, s in standings.items() if s.last_exchange}, *events]
    last: dict[str, dt.date] = {}
    for clock in clocks:
        for uid, day in clock.items():
            if day <= today and day > last.get(uid, dt.date.min):
                last[uid] = day
    return last


@dataclass(frozen=True)
class Completed:
    """What the object ticked off in the calendar says."""

    contact_uid: str
    reason: str
    followup_uid: str
    summary: str
    day: dt.date | None  # COMPLETED of the object, when the person's app set it
    ideas: tuple[str, ...] = ()  # X-SYNCD-IDEA: the ideas the follow-up proposed, in order
    description: str = ""  # its DESCRIPTION as ticked off, with whatever the person wrote in it
    also: tuple[str, ...] = ()  # X-SYNCD-ALSO: the reasons merged into it


TICKED = "{reason} (follow-up ticked)"  # the item of a completion that names no gift


def completion_exchanges(done: Completed, today: dt.date, ideas: Mapping[str, Idea],
                         weights: Mapping[str, float],
                         standings: Mapping[str, reciprocity.Standing]) -> list[Exchange]:
    """The completion rule: what a follow-up ticked off records, on the day it was completed
    (never after today). Only what the person did:

    - what they said they gave: each `gave: book "Title"` line (NOTE's syntax, `dato: libro
      "..."` too, date optional) they added to the description is one exchange, as written;
    - else, when it proposed two ideas or more and the person deleted the lines of all but one,
      that idea, as given;
    - else nothing given: one exchange that names the reason, `keep-in-touch (follow-up
      ticked)`, of kind other and weight 0 — they were in touch, which restarts the clock and
      settles nothing.

    A give-back ticked off (or a follow-up a give-back was merged into) settles what was owed:
    its first exchange weighs at least the balance less the others (a give-back that names
    nothing weighs at least `other`'s weight).
    """
    day = min(done.day or today, today)
    note = f"completed {done.reason} follow-up {done.followup_uid}"
    said, _ = reciprocity.given_lines(done.description)
    exchanges = [Exchange(done.contact_uid, GAVE, line.kind, line.item,
                          min(line.date, day) if line.date else day,
                          weights[line.kind] if line.weight is None else line.weight,
                          "calendar", note) for line in said]
    if not exchanges:
        left = idea_left(done, ideas)
        if left is not None:
            kind = EXCHANGE_KIND_OF_IDEA[left.kind]
            exchanges = [Exchange(done.contact_uid, GAVE, kind, left.title, day, weights[kind],
                                  "calendar", note)]
    if GIVE_BACK in (done.reason, *done.also):
        owed = standings.get(done.contact_uid)
        balance = owed.balance if owed else 0.0
        if not exchanges:
            exchanges = [Exchange(done.contact_uid, GAVE, "other",
                                  TICKED.format(reason=done.reason), day, weights["other"],
                                  "calendar", note)]
        first, rest = exchanges[0], exchanges[1:]
        settle = balance - sum(e.weight for e in rest)
        if settle > first.weight:
            exchanges[0] = replace(first, weight=settle)
    elif not exchanges:
        exchanges = [Exchange(done.contact_uid, GAVE, "other", TICKED.format(reason=done.reason),
                              day, 0.0, "calendar", note)]
    return exchanges


def idea_left(done: Completed, ideas: Mapping[str, Idea]) -> Idea | None:
    """The one idea whose line is still in the description when the follow-up proposed two or
    more and the person deleted the others; None when that is not what the description shows
    (every line kept, none kept, or an idea no longer in the catalog, whose line cannot be
    told). An idea's line starts with its title, in any of its languages (wording.idea_line)."""
    proposed = [ideas.get(uid) for uid in dict.fromkeys(done.ideas)]
    if len(proposed) <= 1 or None in proposed:
        return None
    starts = [reciprocity.item_key(_BULLET.sub("", line)) for line in done.description.splitlines()]
    starts = [line for line in starts if line]
    kept = [idea for idea in proposed if idea is not None and any(
        line.startswith(title) for title in _titles(idea) for line in starts)]
    return kept[0] if len(kept) == 1 else None


_BULLET = re.compile(r"^\s*[-*•]\s*")


def _titles(idea: Idea) -> set[str]:
    names = {idea.title, *(title for _, title in getattr(idea, "titles", ()) or ())}
    return {key for key in map(reciprocity.item_key, names) if key}


# -- the source rule ---------------------------------------------------------------------------

COMPLETE = "complete"  # every card read: missing contacts are gone
INCOMPLETE = "incomplete"  # some card unreadable, or a file changed while read
SUSPECT = "suspect"  # far fewer cards than the last complete read: wait for a second look
EMPTIED = "emptied"  # no card, where there were some: an error
_FEW_CARDS = 3  # a fall of this many cards or fewer is never suspect


@dataclass(frozen=True)
class SourceMemory:
    """What the state file keeps of one source between cycles."""

    cards: int = 0  # the count of its last complete read that was trusted
    pending: int | None = None  # a suspect count seen, waiting to be read again
    pending_since: dt.datetime | None = None


def source_verdict(memory: SourceMemory, cards: int, complete: bool, now: dt.datetime,
                   poll: dt.timedelta) -> tuple[str, SourceMemory]:
    """The source rule. A read with unreadable cards or files that changed meanwhile is
    incomplete. A complete read whose count falls by more than half and by more than 3 since the
    last trusted one (a restore that copied 2 of 20 files, an export cut at a card boundary) is
    suspect until the same count is read again at least one `poll` later. No card where there
    were some is an unmounted folder or an emptied export: an error until cards are read."""
    if cards == 0 and memory.cards > 0:
        return EMPTIED, memory
    if not complete:
        return INCOMPLETE, memory
    fell = cards * 2 < memory.cards and memory.cards - cards > _FEW_CARDS
    if fell:
        if memory.pending == cards and memory.pending_since is not None:
            if now - memory.pending_since >= poll:
                return COMPLETE, SourceMemory(cards)
            return SUSPECT, memory
        return SUSPECT, SourceMemory(memory.cards, cards, now)
    return COMPLETE, SourceMemory(cards)
