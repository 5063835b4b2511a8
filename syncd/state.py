"""The SQLite state file: what syncd wrote where, with a schema version and migrations.

Every change is one transaction; the file is created 0600 and runs in WAL mode. It holds what
exists nowhere else: the ledger (exchanges, events), what syncd wrote where and what the person
did with it, and the memory of the guards (`status`: how many cards each source had, which
calendar was seen missing), which decide what may be deleted and so are not a cache.

Everything that can be read again from a server is in the cache file beside it (`syncd.cache`,
ATTACHed as `cache`); `State` is the `ListingCache` of incremental DAV reads over that file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import socket
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from syncd import cache
from syncd.cache import CacheTables
from syncd.errors import StateError

log = logging.getLogger(__name__)

OURS = "syncd"  # as syncd last wrote it
PERSON = "person"  # edited by someone else: theirs from now on, never touched again
DISMISSED = "dismissed"  # deleted by the person: not re-created
COMPLETED = "completed"  # ticked off by the person: theirs, never rewritten
DELETING = "deleting"  # syncd is deleting it: gone next time means syncd deleted it
OTHER_INSTANCE = "other-instance"  # written by another syncd (another state file): never touched
UNASSIGNED = ""  # the target of rows written before targets had an identity

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
    # 4: incremental reads of DAV collections (RFC 6578), and calendars found by name
    """
    CREATE TABLE collections (
        url TEXT PRIMARY KEY,
        token TEXT
    );
    CREATE TABLE collection_items (
        url TEXT NOT NULL,
        href TEXT NOT NULL,
        etag TEXT NOT NULL,
        data TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (url, href)
    );
    CREATE TABLE discovered (
        key TEXT PRIMARY KEY,
        url TEXT NOT NULL
    );
    """,
    # 5: each written row belongs to one target (a calendar collection, a local folder), and
    # notes which syncd instance wrote the object; rows from before are claimed by the first
    # target synced (`claim_unassigned`). `meta` holds this state file's instance id.
    """
    CREATE TABLE written_by_target (
        target TEXT NOT NULL DEFAULT '',
        uid TEXT NOT NULL,
        href TEXT NOT NULL,
        etag TEXT NOT NULL,
        hash TEXT NOT NULL,
        contact_uid TEXT NOT NULL,
        reason TEXT NOT NULL,
        cycle TEXT NOT NULL,
        due TEXT NOT NULL,
        owner TEXT NOT NULL DEFAULT 'syncd',
        writer TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (target, uid)
    );
    INSERT INTO written_by_target
        SELECT '', uid, href, etag, hash, contact_uid, reason, cycle, due, owner, '' FROM written;
    DROP TABLE written;
    ALTER TABLE written_by_target RENAME TO written;
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 6: what can be read again from the servers moves to the cache file (`syncd.cache`)
    """
    INSERT OR REPLACE INTO cache.collections SELECT * FROM main.collections;
    INSERT OR REPLACE INTO cache.collection_items SELECT * FROM main.collection_items;
    INSERT OR REPLACE INTO cache.discovered SELECT * FROM main.discovered;
    DROP TABLE main.collections;
    DROP TABLE main.collection_items;
    DROP TABLE main.discovered;
    """,
    # 7: what each follow-up proposed to whom (`Ledger.record_proposals`)
    """
    CREATE TABLE IF NOT EXISTS proposals (
        followup_uid TEXT NOT NULL,
        contact_uid TEXT NOT NULL,
        idea_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        current INTEGER NOT NULL DEFAULT 1,
        day TEXT NOT NULL,
        PRIMARY KEY (followup_uid, idea_id)
    );
    CREATE INDEX IF NOT EXISTS proposals_by_day ON proposals (day);
    """,
    # 8: who each contact with rows here was (to find them again when their id changes), and the
    # ids relinked (`identity`, `Ledger.relink`); emails and phones are one per line
    """
    CREATE TABLE IF NOT EXISTS people (
        uid TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        emails TEXT NOT NULL,
        phones TEXT NOT NULL,
        details TEXT NOT NULL,
        seen TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS links (
        uid TEXT PRIMARY KEY,
        followups TEXT NOT NULL,
        was TEXT NOT NULL,
        why TEXT NOT NULL,
        day TEXT NOT NULL
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
    target: str = UNASSIGNED  # the identity of the target the object is in
    writer: str = ""  # OTHER_INSTANCE rows: the instance that wrote the object


_COLUMNS = "uid, href, etag, hash, contact_uid, reason, cycle, due, owner, target, writer"


def _instance_id(path: str) -> str:
    if path == ":memory:":
        return uuid.uuid4().hex[:12]
    machine = ""
    for where in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            machine = Path(where).read_text(encoding="ascii").strip()
            break
        except (OSError, UnicodeDecodeError):
            continue
    key = f"{machine or socket.gethostname()}\0{Path(path).resolve()}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


class State(CacheTables):
    def __init__(self, path: Path | str):
        from syncd import backups  # noqa: PLC0415 (backups imports this module)

        self.path = str(path)
        new = False
        if self.path != ":memory:":
            new = (missing_or_empty(Path(self.path))
                   and not backups.restore_if_lost(Path(self.path)))
            _create_private(Path(self.path))
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            cache.attach(self.db, self.path)
            self._migrate()
            if new:
                self._mark_new_ledger()
        except sqlite3.DatabaseError as error:
            raise StateError(f"{self.path}: not a usable syncd state file ({error})") from error
        self._ledger_when_opened = backups.fingerprint(self.db)

    def close(self) -> None:
        """Closes the file, after a backup when the ledger changed (`syncd.backups`)."""
        from syncd import backups  # noqa: PLC0415 (backups imports this module)

        if self.path != ":memory:" and backups.fingerprint(self.db) != self._ledger_when_opened:
            try:
                backups.keep(self.db, Path(self.path))
            except (OSError, sqlite3.Error) as error:
                log.warning("%s: no backup of the ledger could be made (%s)", self.path, error)
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
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise self.storage_error(error) from error
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException as error:
            if self.db.in_transaction:  # a failed COMMIT (disk full) leaves it open
                with suppress(sqlite3.Error):
                    self.db.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise self.storage_error(error) from error
            raise

    def storage_error(self, error: sqlite3.Error) -> StateError:
        """One line naming the file and the cause, for any SQLite failure."""
        text = str(error)
        if not isinstance(error, sqlite3.OperationalError) and isinstance(
                error, sqlite3.DatabaseError):
            return StateError(f"{self.path}: not a usable syncd state file ({text})")
        reasons = {"database or disk is full": "the disk is full",
                   "database is locked": "locked by another process for over 30 s",
                   "readonly database": "the file or its folder is read-only",
                   "disk I/O error": "an I/O error (a failing disk, or a file removed under it)"}
        why = next((said for key, said in reasons.items() if key in text), text)
        return StateError(f"{self.path}: cannot write the state file: {why}; nothing of this "
                          "change was saved")

    def _migrate(self) -> None:
        """Every migration in one exclusive transaction, the version read inside it: two first
        opens of a fresh file at once wait for each other instead of both creating tables."""
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM schema_version").fetchone()
            version = row[0] if row else 0
            if version > SCHEMA_VERSION:
                raise StateError(
                    f"{self.path}: written by a newer syncd (schema {version}, this one knows "
                    f"{SCHEMA_VERSION}); upgrade syncd"
                )
            for number in range(version, SCHEMA_VERSION):
                for statement in _MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("DELETE FROM schema_version")
                db.execute("INSERT INTO schema_version VALUES (?)", (number + 1,))

    def written(self, target: str | None = None) -> dict[str, Written]:
        """What syncd wrote into `target` by follow-up UID; every target's with None (a UID
        written into two targets then gives one of them)."""
        if target is None:
            return self._rows("", ())
        return self._rows("WHERE target = ?", (target,))

    def decided_elsewhere(self, target: str) -> dict[str, Written]:
        """The follow-ups the person completed or dismissed in targets other than `target`."""
        return self._rows("WHERE target != ? AND owner IN (?, ?)", (target, COMPLETED, DISMISSED))

    def _rows(self, where: str, args: tuple[str, ...]) -> dict[str, Written]:
        return {
            row[0]: Written(row[0], row[1], row[2], row[3], row[4], row[5], row[6],
                            due=dt.date.fromisoformat(row[7]), owner=row[8], target=row[9],
                            writer=row[10])
            for row in self.db.execute(f"SELECT {_COLUMNS} FROM written {where}", args)
        }

    def record(self, entry: Written) -> None:
        with self.transaction() as db:
            db.execute(
                f"INSERT OR REPLACE INTO written ({_COLUMNS}) VALUES ({', '.join('?' * 11)})",
                (
                    entry.uid, entry.href, entry.etag, entry.hash, entry.contact_uid,
                    entry.reason, entry.cycle, entry.due.isoformat(), entry.owner, entry.target,
                    entry.writer,
                ),
            )

    def targets(self) -> dict[str, dict[str, int]]:
        """Every target syncd has rows for: {target: {owner: how many rows}}."""
        found: dict[str, dict[str, int]] = {}
        for target, owner, count in self.db.execute(
                "SELECT target, owner, count(*) FROM written GROUP BY target, owner"):
            found.setdefault(target, {})[owner] = count
        return found

    def claim_unassigned(self, target: str) -> int:
        """Give the rows written before targets had an identity to `target` (the calendar a
        state file of an older syncd was synced with); returns how many."""
        with self.transaction() as db:
            return db.execute("UPDATE OR IGNORE written SET target = ? WHERE target = ?",
                              (target, UNASSIGNED)).rowcount

    def move_target(self, old: str, new: str) -> None:
        """The rows of `old` now belong to `new` (a folder whose marker was re-made)."""
        with self.transaction() as db:
            db.execute("UPDATE OR REPLACE written SET target = ? WHERE target = ?", (new, old))

    def instance(self) -> str:
        """This state file's syncd instance, `<id>@<host>`, made once and kept. The id is derived
        from the machine and the state file's path, so that a state file lost and made again in
        its place is the same instance (its follow-ups are adopted, not taken for another
        laptop's), while another machine or another profile's state file is another."""
        with self.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone()
            if row:
                return str(row[0])
            value = f"{_instance_id(self.path)}@{socket.gethostname() or 'localhost'}"
            db.execute("INSERT INTO meta VALUES ('instance', ?)", (value,))
            return value

    def _mark_new_ledger(self) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('new-ledger', ?)",
                       (dt.date.today().isoformat(),))

    def ledger_is_new(self) -> bool:
        """Made empty by syncd (no file, a 0-byte file, no backup to restore) and not yet synced:
        a calendar holding this instance's follow-ups then means the ledger was lost."""
        return self.db.execute("SELECT 1 FROM meta WHERE key = 'new-ledger'").fetchone() is not None

    def ledger_accepted(self) -> None:
        """A first sync found nothing of a lost ledger, or the person chose a new one."""
        with self.transaction() as db:
            db.execute("DELETE FROM meta WHERE key = 'new-ledger'")

    def set_status(self, values: dict[str, str]) -> None:
        with self.transaction() as db:
            db.executemany("INSERT OR REPLACE INTO status VALUES (?, ?)", values.items())

    def drop_status(self, keys: Iterable[str]) -> None:
        with self.transaction() as db:
            db.executemany("DELETE FROM status WHERE key = ?", ((key,) for key in keys))

    def status(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT key, value FROM status"))

    def forget(self, uid: str, target: str = UNASSIGNED) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM written WHERE uid = ? AND target = ?", (uid, target))


def missing_or_empty(path: Path) -> bool:
    """No file at `path`, or one of 0 bytes (what a full disk or a bad restore leaves)."""
    try:
        return path.stat().st_size == 0
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _create_private(path: Path) -> None:
    """Create the file 0600 (and every missing folder on its way 0700, whatever the umask, as
    the XDG base directory spec asks) before SQLite opens it, so that it is never readable by
    others, not even for a moment. Existing folders keep their mode."""
    try:
        create_private_folders(path.parent)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
    except OSError as error:
        raise StateError(f"{path}: cannot create the state file ({error.strerror})") from error
    _tighten(path)


def _tighten(path: Path) -> None:
    """A state file (or its WAL) that others may read, from an older syncd, a copy or a
    restore, is made 0600 again: it holds the whole ledger."""
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = file.stat().st_mode & 0o777
            if mode & 0o077:
                file.chmod(0o600)
                log.warning("%s: was readable by others (%o); made private (600)", file, mode)
        except FileNotFoundError:
            continue
        except OSError as error:
            log.warning("%s: readable by others and cannot be made private: %s", file,
                        error.strerror or error)


def create_private_folders(folder: Path) -> list[Path]:
    """Create `folder` and every missing folder above it 0700, whatever the umask; returns
    those it created, raises OSError. Existing folders keep their mode."""
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    created = []
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue  # made by another process meanwhile
        os.chmod(folder, 0o700)  # the umask may have taken bits away; never added any
        created.append(folder)
    return created
