"""The rebuildable part of the state: what syncd read from DAV servers, kept so that the next
read is incremental (RFC 6578). It lives in its own SQLite file beside the state file,
`<state>.cache.sqlite` (ATTACHed as `cache`), so that a cache problem never touches the ledger:
a damaged cache, or one written by another version of syncd, is dropped and made again with a
warning, and `syncd state reset-cache` empties it at any time. Losing it costs one full read.

Per collection URL it holds the last sync token and, per href, the etag and what the reader
keeps of the item (nothing for a calendar, the parsed contacts for an address book); and the
collection URLs found by discovery. The token and the items it describes are always saved in one
transaction, so the pair stays consistent: the items are the collection as of that token, plus
what syncd learnt later from its own writes; whatever else changed after the token is reported
by the next sync-collection. `MemoryListingCache` is the same in memory, for readers given no
state file.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

VERSION = 1
TABLES = ("collections", "collection_items", "discovered")
_SCHEMA = """
    CREATE TABLE cache.collections (
        url TEXT PRIMARY KEY,
        token TEXT
    );
    CREATE TABLE cache.collection_items (
        url TEXT NOT NULL,
        href TEXT NOT NULL,
        etag TEXT NOT NULL,
        data TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (url, href)
    );
    CREATE TABLE cache.discovered (
        key TEXT PRIMARY KEY,
        url TEXT NOT NULL
    );
    CREATE TABLE cache.cache_version (version INTEGER NOT NULL);
"""

Item = tuple[str, str]  # (etag, data) of one href of a collection


def path_of(state: str) -> str:
    """`~/.local/state/syncd/state.sqlite` → `…/state.cache.sqlite`; in memory for `:memory:`."""
    if state == ":memory:":
        return state
    where = Path(state)
    return str(where.with_name(f"{where.stem}.cache{where.suffix or '.sqlite'}"))


def attach(db: sqlite3.Connection, state: str) -> None:
    """ATTACH the cache file of `state` as `cache`, made (0600) if missing; a damaged cache or one
    of another version is dropped and made again."""
    path = path_of(state)
    if path != ":memory:":
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    try:
        _open(db, path)
    except sqlite3.DatabaseError as error:
        _detach(db)
        log.warning("%s: the cache could not be used (%s); it is made again (it holds only what "
                    "can be read again from the servers)", path, error)
        for stale in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal"):
            Path(stale).unlink(missing_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        _open(db, path)


def _open(db: sqlite3.Connection, path: str) -> None:
    db.execute("ATTACH DATABASE ? AS cache", (path,))
    db.execute("PRAGMA cache.journal_mode=WAL")
    names = {row[0] for row in db.execute("SELECT name FROM cache.sqlite_master")}
    if "cache_version" in names:
        row = db.execute("SELECT version FROM cache.cache_version").fetchone()
        if row and row[0] == VERSION:
            return
        raise sqlite3.DatabaseError(f"cache version {row[0] if row else None}, this syncd "
                                    f"keeps version {VERSION}")
    if names:
        raise sqlite3.DatabaseError("tables of an unknown shape")
    db.execute("BEGIN IMMEDIATE")
    try:
        names = {row[0] for row in db.execute("SELECT name FROM cache.sqlite_master")}
        if not names:  # another process may have made it meanwhile
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute("INSERT INTO cache.cache_version VALUES (?)", (VERSION,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _detach(db: sqlite3.Connection) -> None:
    with suppress(sqlite3.Error):
        db.execute("DETACH DATABASE cache")


class ListingCache(Protocol):
    """What a DAV reader keeps between cycles: `State`, or `MemoryListingCache`."""

    def load_listing(self, url: str) -> tuple[str | None, dict[str, Item]]:
        """(sync token or None, {href: (etag, data)}) of the collection at `url`."""

    def save_listing(self, url: str, token: str | None, changed: Mapping[str, Item],
                     removed: Iterable[str] = (), *, replace: bool = False) -> None:
        """Set the token and apply the changes in one transaction; `replace` drops every href
        not in `changed` first (a full listing)."""

    def update_listing(self, url: str, href: str, etag: str | None) -> None:
        """After syncd's own write: the href's new etag, or None when it deleted it."""

    def forget_token(self, url: str) -> None:
        """Read the collection in full next time (a write met a 412: the listing was stale)."""

    def discovered(self, key: str) -> str | None:
        """The collection URL found earlier for `key` (server, user, calendar name)."""

    def remember_discovered(self, key: str, url: str | None) -> None:
        """Keep (or with None forget) the collection URL found for `key`."""


class MemoryListingCache:
    """A `ListingCache` in memory: incremental reads within one process, nothing on disk."""

    def __init__(self) -> None:
        self.tokens: dict[str, str | None] = {}
        self.items: dict[str, dict[str, Item]] = {}
        self.found: dict[str, str] = {}

    def load_listing(self, url: str) -> tuple[str | None, dict[str, Item]]:
        return self.tokens.get(url), dict(self.items.get(url, {}))

    def save_listing(self, url: str, token: str | None, changed: Mapping[str, Item],
                     removed: Iterable[str] = (), *, replace: bool = False) -> None:
        items = {} if replace else self.items.setdefault(url, {})
        items.update(changed)
        for href in removed:
            items.pop(href, None)
        self.items[url] = items
        self.tokens[url] = token

    def update_listing(self, url: str, href: str, etag: str | None) -> None:
        items = self.items.setdefault(url, {})
        if etag is None:
            items.pop(href, None)
        else:
            items[href] = (etag, items.get(href, ("", ""))[1])

    def forget_token(self, url: str) -> None:
        self.tokens[url] = None

    def discovered(self, key: str) -> str | None:
        return self.found.get(key)

    def remember_discovered(self, key: str, url: str | None) -> None:
        if url is None:
            self.found.pop(key, None)
        else:
            self.found[key] = url


class CacheTables:
    """The `ListingCache` of a `State`, over its attached cache file."""

    db: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def load_listing(self, url: str) -> tuple[str | None, dict[str, Item]]:
        with self.transaction() as db:  # token and items from one snapshot
            row = db.execute("SELECT token FROM cache.collections WHERE url = ?",
                             (url,)).fetchone()
            items = db.execute(
                "SELECT href, etag, data FROM cache.collection_items WHERE url = ?", (url,))
            return (row[0] if row else None), {href: (etag, data) for href, etag, data in items}

    def save_listing(self, url: str, token: str | None, changed: Mapping[str, Item],
                     removed: Iterable[str] = (), *, replace: bool = False) -> None:
        with self.transaction() as db:
            if replace:
                db.execute("DELETE FROM cache.collection_items WHERE url = ?", (url,))
            db.executemany("DELETE FROM cache.collection_items WHERE url = ? AND href = ?",
                           ((url, href) for href in removed))
            db.executemany("INSERT OR REPLACE INTO cache.collection_items VALUES (?, ?, ?, ?)",
                           ((url, href, etag, data) for href, (etag, data) in changed.items()))
            db.execute("INSERT OR REPLACE INTO cache.collections VALUES (?, ?)", (url, token))

    def update_listing(self, url: str, href: str, etag: str | None) -> None:
        with self.transaction() as db:
            if etag is None:
                db.execute("DELETE FROM cache.collection_items WHERE url = ? AND href = ?",
                           (url, href))
            else:
                db.execute(
                    "INSERT INTO cache.collection_items VALUES (?, ?, ?, '') "
                    "ON CONFLICT (url, href) DO UPDATE SET etag = excluded.etag",
                    (url, href, etag))

    def forget_token(self, url: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE cache.collections SET token = NULL WHERE url = ?", (url,))

    def discovered(self, key: str) -> str | None:
        row = self.db.execute("SELECT url FROM cache.discovered WHERE key = ?",
                              (key,)).fetchone()
        return row[0] if row else None

    def remember_discovered(self, key: str, url: str | None) -> None:
        with self.transaction() as db:
            if url is None:
                db.execute("DELETE FROM cache.discovered WHERE key = ?", (key,))
            else:
                db.execute("INSERT OR REPLACE INTO cache.discovered VALUES (?, ?)", (key, url))

    def reset_cache(self) -> dict[str, int]:
        """Empty the cache (the next read of every collection is a full one); rows dropped by
        table. Safe while a daemon runs: it is one transaction like any other."""
        with self.transaction() as db:
            return {table: db.execute(f"DELETE FROM cache.{table}").rowcount
                    for table in TABLES}

