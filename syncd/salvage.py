"""Reading what can be read of a damaged or read-only state file, for `syncd ledger export`.

The file is opened read-only and immutable (no WAL, no lock, nothing written, so a read-only
file or folder is no obstacle), and the exchanges are read one row at a time, so that a damaged
page costs the rows on it and not the whole ledger."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from urllib.parse import quote

from syncd.model import Exchange

_ROW = ("SELECT contact_uid, direction, kind, item, date, weight, source, note FROM exchanges"
        " WHERE id = ?")


def read_exchanges(state: Path) -> tuple[list[Exchange], list[str]]:
    """The readable exchanges of `state`, and one line for each part that could not be read."""
    problems: list[str] = []
    try:
        db = sqlite3.connect(f"file:{quote(str(state))}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as error:
        return [], [f"{state}: cannot be opened read-only ({error})"]
    try:
        try:
            last = db.execute("SELECT max(id) FROM exchanges").fetchone()[0] or 0
        except sqlite3.Error as error:
            return [], [f"{state}: the exchanges cannot be read at all ({error})"]
        found, lost = [], 0
        for number in range(1, last + 1):
            try:
                row = db.execute(_ROW, (number,)).fetchone()
                if row is None:
                    continue  # removed, or never there
                uid, direction, kind, item, date, weight, source, note = row
                found.append(Exchange(uid, direction, kind, item, dt.date.fromisoformat(date),
                                      float(weight), source, note))
            except (sqlite3.Error, ValueError, TypeError):
                lost += 1
        if lost:
            problems.append(f"{state}: {lost} of the {last} ledger rows could not be read")
        return found, problems
    finally:
        db.close()
