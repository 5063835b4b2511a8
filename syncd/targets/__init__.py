"""Calendar targets: where follow-ups are stored.

Three words, as in vdirsyncer: an *item* is the iCalendar text of one object; its *href* is the
name the target knows it by (a file name, a URL path); its *etag* changes whenever the stored
item changes. Every write is conditional: `create` fails if the href exists, `update` and
`delete` fail unless the etag still matches. A lost race raises `PreconditionFailed`; nothing
is ever forced.
"""

from __future__ import annotations

from typing import Protocol

from syncd.errors import PreconditionFailed, TargetError


class Target(Protocol):
    description: str  # path or URL, for messages

    def href_for(self, uid: str) -> str:
        """The href a new object with this UID is created at."""

    def list(self) -> dict[str, str]:
        """Every item's href mapped to its etag."""

    def get(self, href: str) -> tuple[str, str]:
        """(item, etag) of one href; raises TargetError if it is gone."""

    def create(self, href: str, item: str) -> str:
        """Store a new item (If-None-Match: *); returns its etag."""

    def update(self, href: str, item: str, etag: str) -> str:
        """Replace an item (If-Match: etag); returns the new etag."""

    def delete(self, href: str, etag: str) -> None:
        """Remove an item (If-Match: etag)."""


class MemoryTarget:
    """An in-memory target with the same contract, for the core's tests."""

    description = "memory"

    def __init__(self) -> None:
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
