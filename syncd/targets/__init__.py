"""Calendar targets: where follow-ups are stored.

Three words, as in vdirsyncer: an *item* is the iCalendar text of one object; its *href* is the
name the target knows it by (a file name, a URL path); its *etag* changes whenever the stored
item changes. Every write is conditional: `create` fails if the href exists, `update` and
`delete` fail unless the etag still matches. A lost race raises `PreconditionFailed`; nothing
is ever forced.

A target has an *identity*: what the state file's rows name it by, so that a different calendar
(renamed, another URL, another folder) is a new target and not the old one emptied. A target
that is not there raises `TargetMissing` from `list()`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from syncd.cache import ListingCache
from syncd.config_types import CalendarConfig
from syncd.errors import PreconditionFailed, TargetError
from syncd.passwords import resolve_password


class Target(ABC):
    """The calendar interface the cycle uses; capabilities have their defaults here."""

    description: str  # path or URL, for messages
    failure: TargetError | None = None  # the last failure worth a backoff, until cleared
    listing_complete: bool = True  # after `list()`: every object was listed with its etag
    absence: str = ""  # after `identity()` gave None: why (for messages)
    read_only: bool = False  # a dry run: nothing is made, not even a missing calendar

    def use_cache(self, cache: ListingCache) -> None:  # noqa: B027 (by default: no cache)
        """Keep listings, tokens and discoveries in `cache` (the state file during a sync)."""

    def place(self) -> str:
        """Where the target is (a folder's resolved path, a collection URL)."""
        return self.identity() or self.description

    def identity(self) -> str | None:
        """What the state file names this target by; None when it has none yet (a folder not
        made, or without syncd's marker: `absence` says which). Makes nothing."""
        return self.description

    def claim(self) -> str:
        """Give the target its identity (a folder and its marker) and return it."""
        return self.identity() or self.description

    @abstractmethod
    def href_for(self, uid: str) -> str:
        """The href a new object with this UID is created at."""

    @abstractmethod
    def list(self) -> dict[str, str]:
        """Every item's href mapped to its etag; raises TargetMissing when the target is gone."""

    @abstractmethod
    def get(self, href: str) -> tuple[str, str]:
        """(item, etag) of one href; raises TargetError if it is gone."""

    @abstractmethod
    def create(self, href: str, item: str) -> str:
        """Store a new item (If-None-Match: *); returns its etag."""

    @abstractmethod
    def update(self, href: str, item: str, etag: str) -> str:
        """Replace an item (If-Match: etag); returns the new etag."""

    @abstractmethod
    def delete(self, href: str, etag: str) -> None:
        """Remove an item (If-Match: etag)."""


def make_target(calendar: CalendarConfig, cache: ListingCache | None = None) -> Target:
    """The target of the `calendar` configuration, by its `type:` (the schema allows only the
    types here); `sync` hands it the state file as its `cache`."""
    if calendar.type == "local":
        from syncd.targets.local import LocalTarget  # noqa: PLC0415 (it imports Target from here)

        return LocalTarget(calendar.path)
    if calendar.type == "caldav":
        from syncd.targets.caldav import CalDAVTarget  # noqa: PLC0415 (caldav, lxml: on use)

        return CalDAVTarget(
            calendar.url or "", calendar.calendar, calendar.username, resolve_password(calendar),
            verify=calendar.verify, timeout=calendar.timeout.total_seconds(),
            component=calendar.component, cache=cache)
    raise TargetError(f"calendar.type: unknown type {calendar.type!r} (local or caldav)")


class MemoryTarget(Target):
    """An in-memory target with the same contract, for the core's tests."""

    def __init__(self, description: str = "memory") -> None:
        self.description = description  # also its identity: another name, another calendar
        self.items: dict[str, tuple[str, str]] = {}
        self._counter = 0

    def _next_etag(self) -> str:
        self._counter += 1
        return f'"{self._counter}"'

    def href_for(self, uid: str) -> str:
        return f"{uid}.ics"

    def list(self) -> dict[str, str]:
        return {href: etag for href, (_, etag) in self.items.items()}

    def get(self, href: str) -> tuple[str, str]:
        if href not in self.items:
            raise TargetError(f"memory: {href}: not found")
        return self.items[href]

    def create(self, href: str, item: str) -> str:
        if href in self.items:
            raise PreconditionFailed(f"memory: {href}: already exists")
        etag = self._next_etag()
        self.items[href] = (item, etag)
        return etag

    def update(self, href: str, item: str, etag: str) -> str:
        if href not in self.items or self.items[href][1] != etag:
            raise PreconditionFailed(f"memory: {href}: etag does not match")
        new = self._next_etag()
        self.items[href] = (item, new)
        return new

    def delete(self, href: str, etag: str) -> None:
        if href not in self.items or self.items[href][1] != etag:
            raise PreconditionFailed(f"memory: {href}: etag does not match")
        del self.items[href]
