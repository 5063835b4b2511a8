"""Contact sources: where vCards are read from (`files`: a vdir or one .vcf file; `carddav`: an
address book on a CardDAV server), all behind one `ContactSource` interface.

A source either reads as a whole or raises `SourceError` (missing folder or file, permission
denied, not a directory; a server refusing the credentials, unreachable or not speaking WebDAV),
with a message naming the path or URL and the reason. A bad card inside a readable source is
never an error: it is skipped with a warning `source:line: message`, and named in `damaged`, so
that the read is not `complete` and decides no deletion.
"""

from __future__ import annotations

import importlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from syncd.errors import SourceError
from syncd.model import Contact

if TYPE_CHECKING:
    from syncd.cache import ListingCache
    from syncd.config_types import SourceConfig

log = logging.getLogger(__name__)


class ContactSource(ABC):
    """One address book. After `read`:

    - `damaged`: one message per file or card that could not be read (the others were);
    - `changed_during_read`: the paths or URLs whose content changed, or that vanished, while
      they were read (read again next time);
    - `complete`: neither of them holds anything, so every card became a contact and the
      contacts not read are gone; only then may a contact missing from the read lose its
      follow-ups.
    """

    # It reads only what changed since the last read (CardDAV), so a read costs little.
    incremental: ClassVar[bool] = False

    def __init__(self, description: str) -> None:
        self.description = description  # path or URL, for messages
        self.damaged: list[str] = []
        self.changed_during_read: list[str] = []

    @classmethod
    def from_config(cls, config: SourceConfig, cache: ListingCache | None = None,
                    key: str = "contacts[]") -> ContactSource:
        """The source of one `contacts` entry (`key` names it in messages); `cache` keeps
        what an incremental source read, between reads."""
        raise NotImplementedError(f"{cls.__name__} is not made from a configuration")

    @abstractmethod
    def read(self) -> list[Contact]:
        """Every readable contact; raises SourceError if the source cannot be read at all."""

    @property
    def complete(self) -> bool:
        return not self.damaged and not self.changed_during_read

    def watch_paths(self) -> list[Path]:
        """The files and folders whose change should start a cycle (none for a server)."""
        return []


class MemorySource(ContactSource):
    """A source holding given contacts, for the core's tests; `damaged`, `changed_during_read`
    and `complete` are set by the test (`complete` follows the other two unless set)."""

    def __init__(self, contacts: Iterable[Contact], damaged: Iterable[str] = (),
                 complete: bool | None = None) -> None:
        super().__init__("memory")
        self.contacts = list(contacts)
        self.damaged = list(damaged)
        self._complete = complete

    def read(self) -> list[Contact]:
        return list(self.contacts)

    @property
    def complete(self) -> bool:
        return super().complete if self._complete is None else self._complete

    @complete.setter
    def complete(self, value: bool | None) -> None:
        self._complete = value


# The class of each `type:` of a `contacts` entry, registered by its module when imported.
SOURCE_TYPES: dict[str, type[ContactSource]] = {}
# The module of each type, imported on first use: CardDAV's pulls in caldav and lxml, which
# `syncd --help` or a folder-only configuration does not need.
SOURCE_MODULES: dict[str, str] = {
    "vdir": "syncd.sources.files",
    "vcf": "syncd.sources.files",
    "carddav": "syncd.sources.carddav",
}


def make_source(config: SourceConfig, cache: ListingCache | None = None,
                key: str = "contacts[]") -> ContactSource:
    """The source of one `contacts` entry (`key` names it in messages); a CardDAV source keeps
    its sync token and the cards it read in `cache` (the state file), so that it fetches only
    what changed. An unknown type is a SourceError, never another type's reader."""
    if config.type not in SOURCE_TYPES and config.type in SOURCE_MODULES:
        importlib.import_module(SOURCE_MODULES[config.type])
    kind = SOURCE_TYPES.get(config.type)
    if kind is None:
        raise SourceError(f"{key}.type: unknown contact source type {config.type!r} "
                          f"(known: {', '.join(sorted(SOURCE_MODULES))})")
    return kind.from_config(config, cache, key)


def dedupe(contacts: Iterable[Contact]) -> list[Contact]:
    """Keep the first contact of each UID, in the given order (sources read their files sorted
    by name, so the first is always the same one); warn about every later one. Cards without
    UID of one name and no email or phone are two people, told apart first (`tell_apart`)."""
    first: dict[str, Contact] = {}
    kept: list[Contact] = []
    for contact in tell_apart(list(contacts)):
        seen = first.get(contact.uid)
        if seen is not None:
            if contact.details:
                log.warning("%s: the same person as %s (same name and email or phone, no UID);"
                            " skipped", contact.where, seen.where)
            else:
                log.warning("%s: duplicate UID %r, already read at %s; skipped",
                            contact.where, contact.uid, seen.where)
            continue
        first[contact.uid] = contact
        kept.append(contact)
    return kept


def tell_apart(contacts: list[Contact]) -> list[Contact]:
    """Cards without UID, email or phone that share a name get the digest of their other details
    in their ids, and an ordinal where even those are the same (by order, the one thing left to
    go by): two "Maria Rossi" keep two ledgers, with a warning that names them."""
    groups: dict[str, list[int]] = {}
    for index, contact in enumerate(contacts):
        if contact.details and not contact.emails and not contact.phones:
            groups.setdefault(contact.uid, []).append(index)
    for members in groups.values():
        if len(members) <= 1:
            continue
        taken: dict[str, int] = {}
        for index in members:
            contact = contacts[index]
            uid = f"{contact.uid}-{contact.details}"
            taken[uid] = taken.get(uid, 0) + 1
            if taken[uid] > 1:
                uid = f"{uid}-{taken[uid]}"
            contacts[index] = replace(contact, uid=uid)
        same = " and by order only" if len(taken) < len(members) else ""
        log.warning("%s: %d cards named %r with no UID, email or phone; told apart by their other "
                    "details%s (a UID, an email or a phone on each keeps their ledgers apart for "
                    "sure)", ", ".join(contacts[i].where for i in members), len(members),
                    contacts[members[0]].name, same)
    return contacts
