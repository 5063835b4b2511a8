"""Rotating backups of the state file, the one place the ledger lives.

After every use of the state file that changed the ledger (a cycle that recorded a completion or
a dismissal, `syncd log`, `ledger import` or `ledger remove`), SQLite's online backup copies it
to `<state>.backups/<state>-YYYY-MM-DD.sqlite` (0600, in a 0700 folder): one file a day, the
newest 7 kept. A state file that is missing or empty while backups exist is not silently made
again: the newest backup is put in its place, with a warning. To really start over, remove the
backups folder too.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
from pathlib import Path

from syncd.state import create_private_folders, missing_or_empty

log = logging.getLogger(__name__)

KEEP = 7
# What the ledger is made of: exchanges, events, and what the person did with follow-ups.
_FINGERPRINT = ("SELECT (SELECT count(*) || ':' || coalesce(max(id), 0) FROM exchanges), "
                "(SELECT count(*) FROM events), "
                "(SELECT count(*) || ':' || coalesce(sum(length(owner) * length(uid)), 0) "
                "FROM written WHERE owner != 'syncd')")


def folder_of(state: Path) -> Path:
    return state.with_name(state.name + ".backups")


def existing(state: Path) -> list[Path]:
    """The backups of `state`, newest first."""
    folder = folder_of(state)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{state.name}-????-??-??.sqlite"), reverse=True)


def restore_if_lost(state: Path) -> Path | None:
    """Put the newest backup in place of a missing or empty state file; the backup used."""
    if not missing_or_empty(state):
        return None
    found = existing(state)
    if not found:
        return None
    newest = found[0]
    partial = state.with_name(state.name + ".restoring")
    fd = os.open(partial, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(newest.read_bytes())
        out.flush()
        os.fsync(out.fileno())
    for stale in (Path(f"{state}-wal"), Path(f"{state}-shm")):
        stale.unlink(missing_ok=True)  # they belong to the file that was lost
    os.replace(partial, state)
    log.warning("%s was missing or empty: restored the ledger from the backup %s; the "
                "follow-ups and exchanges since then are read again from the calendar", state,
                newest)
    return newest


def fingerprint(db: sqlite3.Connection) -> str:
    try:
        row = db.execute(_FINGERPRINT).fetchone()
    except sqlite3.Error:
        return ""
    return "|".join(map(str, row))


def keep(db: sqlite3.Connection, state: Path, today: dt.date | None = None) -> Path:
    """Today's backup of the open state file `db` (replaced if made earlier today), and the
    oldest beyond `KEEP` removed."""
    folder = folder_of(state)
    create_private_folders(folder)
    day = (today or dt.date.today()).isoformat()
    target = folder / f"{state.name}-{day}.sqlite"
    partial = folder / f".{target.name}.partial"
    os.close(os.open(partial, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600))
    copy = sqlite3.connect(partial)
    try:
        db.backup(copy)
    finally:
        copy.close()
    os.replace(partial, target)
    for old in existing(state)[KEEP:]:
        old.unlink(missing_ok=True)
    return target
