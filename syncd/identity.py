"""Who a card is when it carries no UID, and whose ledger is whose when a card's id changes.

A card without UID gets its id from the person (`derived_uid`): the name, normalised so that
case, accents, punctuation and word order do not count, and the first email, else the first
phone. Re-exporting the address book, renaming or moving the file, or writing "rossi maria" as
"Maria Rossi" keeps the id, and with it the ledger and the follow-ups. Two such cards of one
name with no email or phone are told apart by their other details (`Contact.details`).

When an id changes anyway (a phone app re-imports its contacts with new UIDs, a name fixed on a
card that has neither UID nor email), the state file's rows under the old id match no contact:
`relinks` gives each of those orphans to a newcomer, a contact with no rows of its own, by the
email, phone or name remembered for it (`Known`), each match unique both ways. Pure: the
caller reads the state and moves the rows (`Ledger.relink`).
"""

from __future__ import annotations

import difflib
import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from syncd.model import Contact

_NOT_A_WORD = re.compile(r"[\W_]+")
_NOT_A_DIGIT = re.compile(r"\D+")
# Names this close (difflib's ratio on normalised names) are one name fixed: "Maria Rosi" and
# "Maria Rossi" are 0.95, "Anna Rossi" and "Anna Russo" 0.8.
CLOSE_NAME = 0.9
# Above this many orphan × newcomer pairs the close-name pass is skipped (a whole address book
# re-imported: its people match by email, phone or exact name, and the pass would be slow).
_MAX_PAIRS = 250_000
_PHONE_DIGITS = 5  # fewer digits are an extension or a typo, not a number to match on


def name_key(name: str) -> str:
    """A name as the id sees it: no accents, case or punctuation, its words sorted."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(char for char in plain if not unicodedata.combining(char)).casefold()
    return " ".join(sorted(_NOT_A_WORD.sub(" ", plain).split()))


def email_key(email: str) -> str:
    email = email.strip()
    if email[:7].lower() == "mailto:":
        email = email[7:]
    return email.strip().casefold()


def phone_key(phone: str) -> str:
    """The last nine digits: "+39 333 123 4567", "0039 3331234567" and "333-1234567" agree."""
    digits = _NOT_A_DIGIT.sub("", phone)
    return digits[-9:] if len(digits) >= _PHONE_DIGITS else ""


def derived_uid(name: str, emails: Iterable[str], phones: Iterable[str]) -> str:
    """The id of a card without UID: from its name and first email, else first phone."""
    reach = next((email_key(e) for e in emails if email_key(e)), "")
    if not reach:
        reach = next((f"tel:{phone_key(p)}" for p in phones if phone_key(p)), "")
    digest = hashlib.sha1(f"{name_key(name)}\0{reach}".encode()).hexdigest()
    return f"syncd-{digest[:16]}"


def details_digest(values: Iterable[str]) -> str:
    """The digest of a card's other details, sorted so that their order does not count."""
    text = "\0".join(sorted(" ".join(value.split()).casefold() for value in values))
    return hashlib.sha1(text.encode()).hexdigest()[:8]


NO_DETAILS = details_digest([])  # a card without UID and without any of the details


def legacy_uids(contacts: Iterable[Contact]) -> dict[str, str]:
    """The id that syncd, before state schema 8, gave each card without UID (from the file it
    was in and its name, a second card of that name in that file suffixed "-2"), to the
    contact's id now: the state files of those versions keep their ledgers on upgrade."""
    found: dict[str, str] = {}
    seen: dict[str, int] = defaultdict(int)
    for contact in contacts:
        if not contact.details:
            continue
        old = "syncd-" + hashlib.sha1(f"{contact.source}\0{contact.name}".encode()).hexdigest()[:16]
        seen[old] += 1
        found[old if seen[old] == 1 else f"{old}-{seen[old]}"] = contact.uid
    return found


class Known(NamedTuple):
    """What the state file remembers of a contact that has rows in it."""

    name: str
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    details: str = ""
    seen: str = ""  # the last day it was read, ISO

    @classmethod
    def of(cls, contact: Contact, day: str = "") -> Known:
        return cls(contact.name, contact.emails, contact.phones, contact.details, day)


class Relink(NamedTuple):
    old: str
    new: Contact
    why: str  # "same email maria@example.org", for the message


def relinks(orphans: Mapping[str, Known | None], newcomers: Iterable[Contact],
            legacy: Mapping[str, str] = {}, since: str = "") -> list[Relink]:
    """Which newcomer each orphan id's rows belong to. An orphan matches when exactly one
    newcomer has the id an earlier syncd gave it (`legacy_uids`), else one of its emails, else
    one of its phones, else its name (and details, for two of one name), else a name close to
    it, this last only for an orphan read on or after the day `since` (ISO: gone lately, as one
    card went when another came; a card removed long ago is not some namesake added later); and
    that newcomer matches no other orphan. An orphan matched by nothing stays as it is."""
    pool = {contact.uid: contact for contact in newcomers}
    left = dict(orphans)
    found: list[Relink] = []
    legacy_of = {old: {new} for old, new in legacy.items() if old in left and new in pool}
    passes: list[tuple[str, Callable[[Known], set[str]], Callable[[Contact], set[str]]]] = [
        ("same email", lambda k: {email_key(e) for e in k.emails} - {""},
         lambda c: {email_key(e) for e in c.emails} - {""}),
        ("same phone", lambda k: {phone_key(p) for p in k.phones} - {""},
         lambda c: {phone_key(p) for p in c.phones} - {""}),
        ("same name and details", lambda k: {f"{name_key(k.name)}\0{k.details}"} if k.details
         else set(), lambda c: {f"{name_key(c.name)}\0{c.details}"}),
        ("same name", lambda k: {name_key(k.name)}, lambda c: {name_key(c.name)}),
    ]
    matched = _unique(legacy_of, {uid: {uid} for uid in pool})
    found += [Relink(old, pool.pop(new), "the id an earlier syncd gave it from its file")
              for old, new, _ in matched]
    for old, _, _ in matched:
        left.pop(old)
    for why, of_known, of_contact in passes:
        keys = {old: of_known(known) for old, known in left.items() if known is not None}
        matched = _unique(keys, {uid: of_contact(contact) for uid, contact in pool.items()})
        for old, new, key in matched:
            said = f"{why} {key}" if why in ("same email", "same phone") else why
            found.append(Relink(old, pool.pop(new), said))
            left.pop(old)
    found += _close_names({old: known for old, known in left.items()
                           if known is not None and known.seen >= since}, pool)
    return found


def _unique(orphans: Mapping[str, set[str]], pool: Mapping[str, set[str]],
            ) -> list[tuple[str, str, str]]:
    """(orphan, newcomer, key) for each orphan whose keys point at exactly one newcomer that
    no other orphan points at."""
    holders: dict[str, set[str]] = defaultdict(set)
    for uid, keys in pool.items():
        for key in keys:
            holders[key].add(uid)
    wanted: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for old, keys in orphans.items():
        candidates = {uid for key in keys for uid in holders.get(key, ())}
        if len(candidates) == 1:
            new = candidates.pop()
            key = next(key for key in sorted(keys) if new in holders.get(key, ()))
            wanted[new].append((old, key))
    return [(claims[0][0], new, claims[0][1]) for new, claims in wanted.items()
            if len(claims) == 1]


def _close_names(left: Mapping[str, Known], pool: dict[str, Contact]) -> list[Relink]:
    """A name fixed on a card without UID, email or phone: a close name and the same other
    details. Without details there is nothing to go by ("Newcomer 1" and "Newcomer 2" are two
    people), so a card with UID, or without details, is never matched by a close name."""
    names = {old: name_key(known.name) for old, known in left.items()
             if known.details and known.details != NO_DETAILS}
    if not names or len(names) * len(pool) > _MAX_PAIRS:
        return []
    close: dict[str, set[str]] = {}
    for old, name in names.items():
        matcher = difflib.SequenceMatcher(None, "", name)  # b is the one it indexes
        close[old] = set()
        for uid, contact in pool.items():
            if contact.details != left[old].details:
                continue
            matcher.set_seq1(name_key(contact.name))
            if matcher.ratio() >= CLOSE_NAME:
                close[old].add(uid)
    found = []
    for old, new, _ in _unique({old: {f"#{uid}" for uid in uids} for old, uids in close.items()},
                               {uid: {f"#{uid}"} for uid in pool}):
        found.append(Relink(old, pool.pop(new), f"a close name ({left[old].name})"))
    return found
