"""Contact sources: where vCards are read from (`files`: a vdir or one .vcf file; `carddav`: an
address book on a CardDAV server).

A source either reads as a whole or raises `SourceError` (missing folder or file, permission
denied, not a directory; a server refusing the credentials, unreachable or not speaking WebDAV),
with a message naming the path or URL and the reason. A bad card inside a readable source is
never an error: it is skipped with a warning `source:line: message`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from syncd.model import Contact

log = logging.getLogger(__name__)


class ContactSource(Protocol):
    description: str  # path or URL, for messages

    def read(self) -> list[Contact]:
        """Every readable contact; raises SourceError if the source cannot be read at all."""


class MemorySource:
    """A source holding given contacts, for the core's tests."""

    description = "memory"

    def __init__(self, contacts: Iterable[Contact]) -> None:
        self.contacts = list(contacts)

    def read(self) -> list[Contact]:
        return list(self.contacts)


def dedupe(contacts: Iterable[Contact]) -> list[Contact]:
    """Keep the first contact of each UID, in the given order (sources read their files sorted
    by name, so the first is always the same one); warn about every later one."""
    first: dict[str, Contact] = {}
    kept: list[Contact] = []
    for contact in contacts:
        seen = first.get(contact.uid)
        if seen is not None:
            log.warning("%s: duplicate UID %r, already read at %s; skipped",
                        contact.where, contact.uid, seen.where)
            continue
        first[contact.uid] = contact
        kept.append(contact)
    return kept
