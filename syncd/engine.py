"""Every decision of one cycle, over inputs gathered whole (pure).

The cycle first gathers: the contacts with a verdict on each source's read (`syncd.rules`), the
target's identity and listing with their own verdict, what syncd wrote there, the objects whose
body the decision needs. Then `decide` returns every write, completion, dismissal and row to
forget, with the guards applied; the edges carry them out. Nothing here does I/O.

The guards:
- **The target rule** (`choose_target`): a local folder that is not there, or that lost the
  marker syncd keeps in it, is not the calendar syncd wrote to: nothing is decided (an unmounted
  disk, a moved folder), unless the person says they removed everything (`--accept-dismissals`).
  A folder found elsewhere with its marker is the same calendar, moved.
- **The emptied rule** (in `decide`): a listing in which every follow-up syncd wrote is gone (more
  than `EMPTIED_MIN` - 1 of them) is a deleted or replaced calendar, not that many dismissals:
  refused, likewise. A person deleting their last three follow-ups is just that.
- **The lost rule** (in `decide`): when the target was seen missing (a collection that answered
  404) and is back empty, it was deleted and made again: syncd's objects are as if never
  written, re-created, not dismissed. Back with objects, it was a passing failure.
- **The delete guard** (`delete_guard`): while an address book was read in part, a follow-up is
  deleted, and what the person did with one forgotten, only when its contact was read.
- **The renamed rule** (in `decide`): a follow-up syncd wrote that is missing from its href while
  its UID is listed at another one means a server that stores objects under names of its own
  (Calypso): refused, rather than taken for dismissals.
- **The dismiss guard** (in `decide`): an object missing from a listing that is not complete is
  not taken for a dismissal.
- **The UID rule** (`uid_scope`): the follow-ups of one calendar carry the UID form its syncd
  objects already have (the rows of this state file first, then the listing); a calendar with
  none gets UIDs of its own, so that no two calendars of one account share one.
- **The passing-read guard** (in `decide`): while a source is down or suspect, the plan lacks
  contacts that are still there (introductions to them, say): follow-ups already written are
  not rewritten from it, so that the next whole read finds them as they were.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import unquote

from syncd import reconcile
from syncd.model import followup_of
from syncd.reconcile import Action, Desired
from syncd.render import Stored
from syncd.state import DELETING, OURS, Written

# The last segment of an href syncd names: `syncd-<32 hex>` and the scope, if any, then `.ics`.
_SYNCD_HREF = re.compile(r"syncd-[0-9a-f]{32}(?:-([0-9a-f]{8}))?\.ics")
MARKER_HINT = "If you removed them yourself, run `syncd sync --accept-dismissals` once."
EMPTIED_MIN = 4


def uid_scope(identity: str, rows: Iterable[str], listing: Iterable[str]) -> str:
    """The UID rule: the scope (`model.object_uid`) of the follow-ups of the calendar `identity`,
    given the hrefs of this state file's rows there and the hrefs listed in it. Read from the
    hrefs, so that it needs no memory of its own: the rows decide (what this syncd wrote), else
    the objects an earlier or another syncd left (a lost state file, the person's other laptop),
    the commonest scope first; else a scope of this calendar's own. A local folder's scope
    follows its marker (`#...`), so a moved folder keeps it."""
    for hrefs in (rows, listing):
        scopes = Counter(match.group(1) or "" for href in hrefs
                         if (match := _SYNCD_HREF.fullmatch(unquote(href.rpartition("/")[2]))))
        if scopes:
            return max(sorted(scopes), key=scopes.__getitem__)
    key = identity.rpartition("#")[2] if identity.startswith("local:") else identity
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def unknown_own_objects(actions: Iterable[Action], written: Iterable[str]) -> int:
    """How many objects of this syncd the decision adopts (or records as ticked off) that the
    state file does not know (`written` hrefs): with a state file just made, the follow-ups of a
    lost ledger. Another instance's objects carry its mark and are never adopted."""
    known = set(written)
    return sum(1 for action in actions if action.kind in (reconcile.ADOPT, reconcile.COMPLETED)
               and not action.writer and action.href not in known)


@dataclass(frozen=True)
class TargetChoice:
    claim: bool = False  # give the target its identity first (a folder and its marker)
    inherit: str | None = None  # rows of this earlier identity move to this one
    refused: str | None = None  # why nothing may be decided


def choose_target(description: str, place: str, identity: str | None, absence: str,
                  known: Mapping[str, Mapping[str, int]], accept_dismissals: bool) -> TargetChoice:
    """The target rule. `place` is where the target is (a folder's resolved path), `identity`
    what marks it as the one syncd wrote to (None: no marker, or no folder; `absence` says
    which), `known` the targets of the state file with their rows by owner."""
    if identity is not None:
        if identity in known or "#" not in identity:
            return TargetChoice()
        # A folder syncd wrote to, moved (and `calendar.path` changed with it): its marker came
        # along, so it keeps its rows.
        marker = identity.rpartition("#")[2]
        moved = sorted(t for t, owners in known.items()
                       if t.rpartition("#")[2] == marker and t.startswith("local:"))
        return TargetChoice(inherit=moved[-1] if moved else None)
    earlier = sorted(t for t, owners in known.items()
                     if t.startswith(place + "#") and owners.get(OURS))
    if earlier and not accept_dismissals:
        count = known[earlier[-1]][OURS]
        return TargetChoice(refused=(
            f"{description}: not the calendar folder syncd wrote {count} follow-ups to ({absence});"
            " nothing is decided until it is back (an unmounted disk? a moved folder?). "
            + MARKER_HINT))
    return TargetChoice(claim=True, inherit=earlier[-1] if earlier else None)


def delete_guard(trusted: bool, read: Iterable[str], written: Mapping[str, Written]
                 ) -> frozenset[str] | None:
    """The contacts whose follow-ups may be deleted: None for all of them when every source was
    read whole and trusted, else only those read (a card that broke, a file half restored, an
    address book that suddenly reads as empty must not make follow-ups disappear)."""
    uids = frozenset(read)
    if trusted and (uids or not any(w.owner == OURS for w in written.values())):
        return None
    return uids


@dataclass(frozen=True)
class Inputs:
    desired: Mapping[str, Desired]
    listing: Mapping[str, str]  # href → etag
    written: Mapping[str, Written]  # this target's rows
    fetched: Mapping[str, Stored]
    deletable: Collection[str] | None  # `delete_guard`
    instance: str  # this syncd's mark
    target: str = ""  # for messages
    listing_complete: bool = True  # every object of the target listed with its etag
    lost: bool = False  # the target was seen missing since it was last read
    accept_dismissals: bool = False
    settle_first: bool = False  # when the person completed or deleted some, only that
    hold_updates: bool = False  # the passing-read guard


@dataclass(frozen=True)
class Decision:
    actions: list[Action]
    refused: str | None = None


SETTLING = (reconcile.COMPLETED, reconcile.DISMISS)


def _all_gone(inputs: Inputs) -> int:
    """How many follow-ups syncd wrote into the target, when not one of them is listed."""
    ours = [w for w in inputs.written.values() if w.owner == OURS]
    return 0 if any(w.href in inputs.listing for w in ours) else len(ours)


def as_written(inputs: Inputs) -> dict[str, Written]:
    """The lost rule: the rows whose objects went with a deleted target are decided as if syncd
    had deleted them itself (`DELETING`: re-created when wanted, else forgotten)."""
    if not (inputs.lost and not inputs.listing and _all_gone(inputs)):
        return dict(inputs.written)
    return {uid: replace(w, owner=DELETING) if w.owner == OURS else w
            for uid, w in inputs.written.items()}


STRANGERS_MAX = 50


def _missing(written: Mapping[str, Written], listing: Mapping[str, str]) -> dict[str, Written]:
    return {uid: w for uid, w in written.items() if w.owner == OURS and w.href not in listing}


def _strangers(inputs: Inputs, written: Mapping[str, Written]) -> list[str]:
    """When a follow-up syncd wrote is not listed: the listed hrefs that are neither a row's nor
    wanted (at most `STRANGERS_MAX`), read for the renamed rule."""
    if not _missing(written, inputs.listing):
        return []
    known = {w.href for w in written.values()} | {d.href for d in inputs.desired.values()}
    return sorted(href for href in inputs.listing if href not in known)[:STRANGERS_MAX]


def to_fetch(inputs: Inputs) -> set[str]:
    written = as_written(inputs)
    return (reconcile.to_fetch(inputs.desired, inputs.listing, written)
            | set(_strangers(inputs, written)))


def _renamed(inputs: Inputs, written: Mapping[str, Written]) -> str | None:
    missing = _missing(written, inputs.listing)
    for href in _strangers(inputs, written):
        stored = inputs.fetched.get(href)
        if stored is None or not stored.is_ours or stored.uid is None:
            continue
        row = missing.get(followup_of(stored.uid))
        if row is not None:
            return (f"{inputs.target}: syncd's follow-up {row.uid} was created at {row.href} but "
                    f"is listed at {href}: the server stores objects under names of its own (as "
                    "Calypso does), so a follow-up missing from its place is not a dismissal; "
                    "nothing is decided. Use a server that keeps the names it is given.")
    return None


def decide(inputs: Inputs) -> Decision:
    written = as_written(inputs)
    gone = _all_gone(inputs)
    remade = inputs.lost and not inputs.listing
    if gone >= EMPTIED_MIN and not remade and not inputs.accept_dismissals:
        return Decision([], refused=(
            f"{inputs.target}: none of the {gone} follow-ups syncd wrote there is left: a "
            "calendar deleted, emptied or replaced, not as many dismissals; nothing is decided. "
            + MARKER_HINT))
    if renamed := _renamed(inputs, written):
        return Decision([], refused=renamed)
    actions = reconcile.reconcile(inputs.desired, inputs.listing, written, inputs.fetched,
                                  inputs.instance)
    guarded = [_guard(action, inputs) for action in actions]
    settling = [a for a in guarded if a.kind in SETTLING]
    if inputs.settle_first and settling:
        return Decision(settling)
    return Decision(guarded)


def _guard(action: Action, inputs: Inputs) -> Action:
    # Forgetting what the person did (an edit, a dismissal) is a deletion too: the follow-up
    # would come back when the contact is read again.
    if (action.kind in (reconcile.DELETE, reconcile.FORGET) and inputs.deletable is not None
            and (action.written is None or action.written.contact_uid not in inputs.deletable)):
        return replace(action, kind=reconcile.SKIP)
    if action.kind == reconcile.DISMISS and not inputs.listing_complete:
        return replace(action, kind=reconcile.SKIP)
    if action.kind == reconcile.UPDATE and inputs.hold_updates and action.written is not None:
        return replace(action, kind=reconcile.SKIP)
    return action
