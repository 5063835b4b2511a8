"""The SQLite state file: what syncd wrote where, with a schema version and migrations.

Every change is one transaction; the file is created 0600 and runs in WAL mode. Later slices add
their tables (the ledger) as further migrations.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from syncd.errors import StateError

OURS = "syncd"  # as syncd last wrote it
PERSON = "person"  # edited by someone else: theirs from now on, never touched again
DISMISSED = "dismissed"  # deleted by the person: not re-created
COMPLETED = "completed"  # ticked off by the person: theirs, never rewritten

_MIGRATIONS: list[str] = [
    # 1: what syncd wrote
    """
    CREATE TABLE written (
        uid TEXT PRIMARY KEY,
        href TEXT NOT NULL,
        etag TEXT NOT NULL,
        hash TEXT NOT NULL,
        contact_uid TEXT NOT NULL,
        reason TEXT NOT NULL,
        cycle TEXT NOT NULL,
        due TEXT NOT NULL,
        owner TEXT NOT NULL DEFAULT 'syncd'
    );
    """,
    # 2: the reciprocity ledger, and what the person did with follow-ups in the calendar
    """
    CREATE TABLE exchanges (
        id INTEGER PRIMARY KEY,
        contact_uid TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('gave', 'received')),
        kind TEXT NOT NULL,
        item TEXT NOT NULL,
        item_key TEXT NOT NULL,
        date TEXT NOT NULL,
        weight REAL NOT NULL,
        source TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        UNIQUE (contact_uid, direction, kind, item_key, date)
    );
    CREATE INDEX exchanges_by_contact ON exchanges (contact_uid, date);
    CREATE TABLE events (
        followup_uid TEXT NOT NULL,
        what TEXT NOT NULL,
        contact_uid TEXT NOT NULL,
        reason TEXT NOT NULL,
        date TEXT NOT NULL,
        PRIMARY KEY (followup_uid, what)
    );
    """,
    # 3: what the daemon last did, for `syncd status`
    """
    CREATE TABLE status (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
]
SCHEMA_VERSION = len(_MIGRATIONS)


@dataclass(frozen=True)
class Written:
    uid: str
    href: str
    etag: str
    hash: str
    contact_uid: str
    reason: str
    cycle: str
    due: dt.date
    owner: str = OURS


class State:
    def __init__(self, path: Path | str):
        self.path = str(path)
        if self.path != ":memory:":
            _create_private(Path(self.path))
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise StateError(f"{self.path}: not a usable syncd state file ({error})") from error

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction; nested uses join the outermost one, so that a state change made of
        several writes (a completion: its follow-up row and its ledger row) is all or nothing."""
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = self.db.execute("SELECT version FROM schema_version").fetchone()
        version = row[0] if row else 0
        if version > SCHEMA_VERSION:
            raise StateError(
                f"{self.path}: written by a newer syncd (schema {version}, this one knows "
                f"{SCHEMA_VERSION}); upgrade syncd"
            )
        for number in range(version, SCHEMA_VERSION):
            with self.transaction() as db:
                for statement in _MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("DELETE FROM schema_version")
                db.execute("INSERT INTO schema_version VALUES (?)", (number + 1,))

    def written(self) -> dict[str, Written]:
        rows = self.db.execute(
            "SELECT uid, href, etag, hash, contact_uid, reason, cycle, due, owner FROM written"
        )
        return {
            row[0]: Written(*row[:7], due=dt.date.fromisoformat(row[7]), owner=row[8])
            for row in rows
        }

    def record(self, entry: Written) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO written VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.uid, entry.href, entry.etag, entry.hash, entry.contact_uid,
                    entry.reason, entry.cycle, entry.due.isoformat(), entry.owner,
                ),
            )

    def set_status(self, values: dict[str, str]) -> None:
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO status VALUES (?, ?)", values.items())

    def status(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM status"))

    def forget(self, uid: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM written WHERE uid = ?", (uid,))


def _create_private(path: Path) -> None:
    """Create the file 0600 (and its folder 0700) before SQLite opens it, so that it is never
    readable by others, not even for a moment."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
    except OSError as error:
        raise StateError(f"{path}: cannot create the state file ({error.strerror})") from error
