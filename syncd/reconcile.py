"""What the planner wants vs what the target holds vs what syncd last wrote → actions (pure).

| wanted | in the target                      | action                                        |
|--------|------------------------------------|-----------------------------------------------|
| yes    | absent, never written              | create (If-None-Match: *)                     |
| yes    | unchanged since syncd wrote it     | update (If-Match) only if the content differs |
| yes/no | changed by someone else            | leave it; the person's version wins from now  |
| no     | unchanged since syncd wrote it     | delete (If-Match)                             |
| any    | COMPLETED                          | completed: recorded, never rewritten          |
| —      | gone, written before               | dismissed: not re-created                     |
| any    | COMPLETED, then un-ticked          | reopened: the completion withdrawn            |

"Unchanged" is decided by the etag first and, when the etag moved, by what the object means
(`meaning.py`: a server that re-serialises, splits CATEGORIES, adds CLASS:PUBLIC or restamps an
object has not changed it, nor has a client that saved it unchanged). Rows and objects of syncd
before 0.2 carry the legacy content-line hash: they count as unchanged by either hash, and a row
whose object still means what is wanted is given the new hash without a write (REFRESH). An
object at a syncd href that the state file does not know (a crash after the PUT, before the
state write) is adopted when it is still exactly as syncd wrote it, by the hash syncd embedded
in it; anything else is left alone.
An object that another syncd instance wrote (its `X-SYNCD-INSTANCE` mark names another state
file: the person's other laptop) is never adopted, updated, dismissed or deleted: it is
remembered as the other instance's, and looked at again only when its etag changes or it goes.
Reconciliation runs in two steps: `to_fetch` names the objects whose body is needed, the caller
fetches them, then `reconcile` decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from syncd.model import FollowUp, followup_of
from syncd.render import Stored
from syncd.state import COMPLETED as DONE
from syncd.state import DELETING, OTHER_INSTANCE, OURS, Written

CREATE = "create"
UPDATE = "update"
DELETE = "delete"
UNCHANGED = "unchanged"
ADOPT = "adopt"  # record an object syncd wrote but did not remember; no write
REFRESH = "refresh"  # same content, new etag: remember the etag; no write
PERSON_EDITED = "person-edited"
COMPLETED = "completed"
DISMISS = "dismissed"
FORGET = "forget"  # drop a state row that no longer matters; no write
SKIP = "skip"  # not ours, or cannot decide: leave it
OTHER = "other-instance"  # written by another syncd instance: remember it as theirs; no write
REOPENED = "reopened"  # ticked off, then un-ticked: the completion is withdrawn; no write
HELD = "held"  # a completed follow-up still in the calendar: its row kept, to see it un-ticked


@dataclass(frozen=True)
class Desired:
    followup: FollowUp
    href: str
    item: str
    hash: str
    legacy_hash: str = ""  # what syncd before 0.2 remembered for this content
    object_uid: str = ""  # the UID in the calendar (`model.object_uid`), when not `uid`

    @property
    def uid(self) -> str:
        """The follow-up's identity: the key of `written` rows in every calendar."""
        return self.followup.uid

    @property
    def calendar_uid(self) -> str:
        return self.object_uid or self.followup.uid

    def means(self, remembered: str) -> bool:
        return remembered in (self.hash, self.legacy_hash)


@dataclass(frozen=True)
class Action:
    kind: str
    uid: str
    href: str
    desired: Desired | None = None
    etag: str | None = None  # the etag to send with If-Match, or the one to remember
    hash: str | None = None  # the content hash to remember
    written: Written | None = None
    writer: str | None = None  # OTHER: the instance that wrote the object


def to_fetch(
    desired: Mapping[str, Desired], listing: Mapping[str, str], written: Mapping[str, Written]
) -> set[str]:
    """Hrefs whose content must be read before deciding."""
    hrefs = set()
    for entry in written.values():
        if (entry.owner in (OURS, DELETING, OTHER_INSTANCE, DONE) and entry.href in listing
                and listing[entry.href] != entry.etag):
            hrefs.add(entry.href)
    for uid, want in desired.items():
        if uid not in written and want.href in listing:
            hrefs.add(want.href)
    return hrefs


def reconcile(
    desired: Mapping[str, Desired],
    listing: Mapping[str, str],
    written: Mapping[str, Written],
    fetched: Mapping[str, Stored],
    instance: str = "",
) -> list[Action]:
    """One action per follow-up UID that is wanted or was written. `listing` maps href → etag;
    `fetched` holds the parsed objects for the hrefs `to_fetch` asked for (a missing entry means
    the read failed: that object is skipped this cycle). `instance` is this syncd's mark."""
    actions = []
    for uid in sorted(desired.keys() | written.keys()):
        want, entry = desired.get(uid), written.get(uid)
        if entry is None:
            assert want is not None
            actions.append(_new(want, listing, fetched, instance))
        else:
            actions.append(_known(want, entry, listing, fetched, instance))
    return actions


def _names(stored: Stored, uid: str) -> bool:
    """The object's UID is the follow-up `uid`'s, in this calendar or as an earlier syncd wrote
    it (`model.object_uid`)."""
    return stored.uid is not None and followup_of(stored.uid) == uid


def _other(stored: Stored | None, instance: str) -> bool:
    """Written by another syncd instance (objects from before the marks count as this one's)."""
    return (bool(instance) and stored is not None and stored.is_ours
            and bool(stored.instance) and stored.instance != instance)


def _new(  # noqa: PLR0911 (the decision table: a return per row)
    want: Desired, listing: Mapping[str, str], fetched: Mapping[str, Stored], instance: str
) -> Action:
    if want.href not in listing:
        return Action(CREATE, want.uid, want.href, want)
    stored = fetched.get(want.href)
    if stored is not None and _other(stored, instance) and stored.uid == want.calendar_uid:
        return Action(OTHER, want.uid, want.href, want, etag=listing[want.href],
                      hash=stored.hash, writer=stored.instance)
    if stored is None or not stored.is_ours or stored.uid != want.calendar_uid:
        return Action(SKIP, want.uid, want.href, want)
    etag = listing[want.href]
    if stored.completed_untouched:  # ticked off before syncd learnt it wrote it (a crash)
        return Action(COMPLETED, want.uid, want.href, want, etag=etag, hash=stored.hash)
    if not stored.untouched:
        return Action(SKIP, want.uid, want.href, want)
    if stored.status == "COMPLETED":
        return Action(COMPLETED, want.uid, want.href, want, etag=etag, hash=stored.hash)
    if stored.hash == want.hash:
        return Action(ADOPT, want.uid, want.href, want, etag=etag, hash=stored.hash)
    return Action(UPDATE, want.uid, want.href, want, etag=etag)


def _known(  # noqa: PLR0911, PLR0912 (the decision table: a return per row)
    want: Desired | None,
    entry: Written,
    listing: Mapping[str, str],
    fetched: Mapping[str, Stored],
    instance: str,
) -> Action:
    uid, href = entry.uid, entry.href
    if entry.owner == OTHER_INSTANCE:
        if want is None:
            return Action(FORGET, uid, href, written=entry)
        if href not in listing or listing[href] == entry.etag:
            # Gone: the person may have deleted it, or its syncd; not re-created either way.
            return Action(SKIP, uid, href, want, written=entry)
        return replace(_new(want, listing, fetched, instance), written=entry)  # changed: look again
    if entry.owner == DELETING:
        if href not in listing:  # syncd's own DELETE went through before a crash
            if want is not None:  # and the follow-up is wanted again: as if never written
                return Action(CREATE, uid, want.href, want, written=entry)
            return Action(FORGET, uid, href, written=entry)
        entry = replace(entry, owner=OURS)  # the DELETE never happened: decide afresh
    if entry.owner == DONE and href in listing:
        # Ticked off: never rewritten; the row stays while the object does, so that un-ticking
        # it (back to NEEDS-ACTION) withdraws the completion.
        stored = fetched.get(href) if listing[href] != entry.etag else None
        if _other(stored, instance):
            # Ticked off and deleted here, then written again by the other instance (which
            # never saw it go): that object is the other instance's, not this one un-ticked.
            assert stored is not None
            return Action(OTHER, uid, href, want, etag=listing[href], hash=stored.hash,
                          written=entry, writer=stored.instance)
        if stored is not None and stored.is_ours and stored.status != "COMPLETED":
            return Action(REOPENED, uid, href, want, etag=listing[href], hash=stored.hash,
                          written=entry)
        return Action(HELD, uid, href, want, written=entry)
    if entry.owner != OURS:
        # The person's object (edited, completed or deleted): never touched again. The row is
        # kept while the follow-up is still wanted, so that it is not re-created.
        if want is None:
            return Action(FORGET, uid, href, written=entry)
        return Action(SKIP, uid, href, want, written=entry)
    if href not in listing:
        kind = DISMISS if want is not None else FORGET
        return Action(kind, uid, href, want, written=entry)

    etag, hash_ = listing[href], entry.hash
    if etag != entry.etag:
        stored = fetched.get(href)
        if stored is None:
            return Action(SKIP, uid, href, want, written=entry)
        if _other(stored, instance):  # the other instance took it over (an older syncd's doing)
            if want is None:
                return Action(FORGET, uid, href, written=entry)
            return Action(OTHER, uid, href, want, etag=etag, hash=stored.hash, written=entry,
                          writer=stored.instance)
        if stored.status == "COMPLETED":
            return Action(COMPLETED, uid, href, want, etag=etag, hash=stored.hash, written=entry)
        if not stored.means(entry.hash):  # noqa: SIM102 (the comment below is the other case)
            if not (stored.is_ours and _names(stored, uid) and stored.untouched):
                return Action(PERSON_EDITED, uid, href, want, etag=etag, hash=stored.hash,
                              written=entry)
            # As syncd wrote it, only not as the state file remembers: an update that went
            # through just before a crash. It is still syncd's.
        hash_ = stored.hash  # what it means now, whichever hash the row remembered
    if want is None:
        return Action(DELETE, uid, href, etag=etag, written=entry)
    if not want.means(hash_):
        return Action(UPDATE, uid, href, want, etag=etag, written=entry)
    if etag != entry.etag or hash_ != want.hash:  # a new etag, or the legacy hash remembered
        return Action(REFRESH, uid, href, want, etag=etag, hash=want.hash, written=entry)
    return Action(UNCHANGED, uid, href, want, written=entry)
