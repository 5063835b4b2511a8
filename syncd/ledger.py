"""The reciprocity ledger in the SQLite state file: exchanges, the events of follow-ups
(completed, dismissed) that move the keep-in-touch clock, what each follow-up proposed, and who
each contact with rows is (to relink their rows when their id changes). Storage only; the
arithmetic is in `syncd.reciprocity`, the matching of ids in `syncd.identity`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from syncd.identity import Known
from syncd.model import Exchange, Proposal
from syncd.reciprocity import item_key
from syncd.state import State

COMPLETED = "completed"
DISMISSED = "dismissed"
KEEP_PROPOSALS = dt.timedelta(days=400)  # a year of "not twice", and a margin


class Ledger:
    def __init__(self, state: State):
        self.state = state

    def add(self, exchange: Exchange) -> bool:
        """Store one exchange; False when the same exchange is already there."""
        return self.add_many([exchange]) == 1

    def add_many(self, exchanges: Iterable[Exchange]) -> int:
        """Store exchanges in one transaction; returns how many were new."""
        with self.state.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO exchanges (contact_uid, direction, kind, item, item_key,"
                " date, weight, source, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (e.contact_uid, e.direction, e.kind, e.item, item_key(e.item),
                     e.date.isoformat(), e.weight, e.source, e.note)
                    for e in exchanges
                ],
            )
            return db.total_changes - before

    def exchanges(self, contact_uid: str | None = None) -> list[Exchange]:
        query = ("SELECT contact_uid, direction, kind, item, date, weight, source, note"
                 " FROM exchanges")
        args: tuple[str, ...] = ()
        if contact_uid is not None:
            query += " WHERE contact_uid = ?"
            args = (contact_uid,)
        rows = self.state.db.execute(query + " ORDER BY date, id", args)
        return [
            Exchange(uid, direction, kind, item, dt.date.fromisoformat(date), weight, source, note)
            for uid, direction, kind, item, date, weight, source, note in rows
        ]

    def record_event(
        self, followup_uid: str, what: str, contact_uid: str, reason: str, date: dt.date
    ) -> None:
        with self.state.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?)",
                (followup_uid, what, contact_uid, reason, date.isoformat()),
            )

    def remove(self, exchange: Exchange) -> bool:
        """Take one stored exchange back; False when it is not stored (a NOTE line, say)."""
        with self.state.transaction() as db:
            return db.execute(
                "DELETE FROM exchanges WHERE contact_uid = ? AND direction = ? AND kind = ? AND"
                " item_key = ? AND date = ?",
                (exchange.contact_uid, exchange.direction, exchange.kind,
                 item_key(exchange.item), exchange.date.isoformat())).rowcount > 0

    def withdraw_completion(self, followup_uid: str, reason: str) -> None:
        """Take back what ticking off `followup_uid` recorded (`rules.completion_exchange`)."""
        with self.state.transaction() as db:
            db.execute("DELETE FROM exchanges WHERE source = 'calendar' AND note = ?",
                       (f"completed {reason} follow-up {followup_uid}",))
            db.execute("DELETE FROM events WHERE followup_uid = ? AND what = ?",
                       (followup_uid, COMPLETED))

    def last_events(self, what: str, reason: str) -> dict[str, dt.date]:
        """For each contact, the day of the latest event of this kind for this reason."""
        rows = self.state.db.execute(
            "SELECT contact_uid, max(date) FROM events WHERE what = ? AND reason = ?"
            " GROUP BY contact_uid",
            (what, reason),
        )
        return {uid: dt.date.fromisoformat(date) for uid, date in rows}

    def record_proposals(self, followup_uid: str, contact_uid: str, idea_ids: Iterable[str],
                         day: dt.date) -> None:
        """The ideas a follow-up now proposes, in order. An idea it proposed before keeps the
        day it was first proposed; one it no longer proposes is remembered as shown. What was
        proposed more than `KEEP_PROPOSALS` ago is forgotten."""
        with self.state.transaction() as db:
            db.execute("DELETE FROM proposals WHERE day < ?", ((day - KEEP_PROPOSALS).isoformat(),))
            db.execute("UPDATE proposals SET current = 0 WHERE followup_uid = ?", (followup_uid,))
            db.executemany(
                "INSERT INTO proposals VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (followup_uid,"
                " idea_id) DO UPDATE SET position = excluded.position, current = 1",
                [(followup_uid, contact_uid, idea, position, day.isoformat())
                 for position, idea in enumerate(idea_ids)])

    def proposals(self, since: dt.date) -> list[Proposal]:
        """What follow-ups proposed on or after `since`."""
        rows = self.state.db.execute(
            "SELECT followup_uid, contact_uid, idea_id, position, current, day FROM proposals"
            " WHERE day >= ? ORDER BY followup_uid, position",
            (since.isoformat(),))
        return [Proposal(f, c, i, p, bool(cur), dt.date.fromisoformat(d))
                for f, c, i, p, cur, d in rows]

    # -- who each id with rows here is, and ids relinked (`identity`) ------------------------

    def owners(self) -> set[str]:
        """Every contact id that some row of the state file belongs to."""
        rows = self.state.db.execute(
            "SELECT contact_uid FROM exchanges UNION SELECT contact_uid FROM events UNION"
            " SELECT contact_uid FROM written UNION SELECT contact_uid FROM proposals")
        return {uid for (uid,) in rows}

    def known(self) -> dict[str, Known]:
        rows = self.state.db.execute("SELECT uid, name, emails, phones, details, seen FROM people")
        return {uid: Known(name, _lines(emails), _lines(phones), details, seen)
                for uid, name, emails, phones, details, seen in rows}

    def remember(self, people: Mapping[str, Known], before: Mapping[str, Known] | None = None,
                 ) -> None:
        """Keep who these contacts are and the day they were read (`Known.seen`); only what
        changed since `before` (default: what is stored) is written, at most once a day each."""
        before = self.known() if before is None else before
        changed = [(uid, known.name, "\n".join(known.emails), "\n".join(known.phones),
                    known.details, known.seen)
                   for uid, known in people.items() if before.get(uid) != known]
        if changed:
            with self.state.transaction() as db:
                db.executemany("INSERT OR REPLACE INTO people VALUES (?, ?, ?, ?, ?, ?)", changed)

    def links(self) -> dict[str, str]:
        """Each relinked contact id → the id its follow-ups keep (`Contact.linked_from`)."""
        return dict(self.state.db.execute("SELECT uid, followups FROM links"))

    def relink(self, old: str, new: str, why: str, day: dt.date) -> dict[str, int]:
        """Move every row of `old` to `new` in one transaction; the follow-ups keep the id they
        were written under. Returns how many rows of each kind moved."""
        moved: dict[str, int] = {}
        with self.state.transaction() as db:
            (followups,) = db.execute("SELECT coalesce((SELECT followups FROM links WHERE uid = ?),"
                                      " ?)", (old, old)).fetchone()
            # An exchange `new` already holds stays once (the table's UNIQUE key).
            moved["exchanges"] = db.execute("UPDATE OR IGNORE exchanges SET contact_uid = ? WHERE"
                                            " contact_uid = ?", (new, old)).rowcount
            db.execute("DELETE FROM exchanges WHERE contact_uid = ?", (old,))
            for table in ("events", "written", "proposals"):
                moved[table] = db.execute(f"UPDATE {table} SET contact_uid = ? WHERE"
                                          " contact_uid = ?", (new, old)).rowcount
            db.execute("DELETE FROM people WHERE uid = ?", (old,))
            db.execute("DELETE FROM links WHERE uid = ?", (old,))
            if followups != new:
                db.execute("INSERT OR REPLACE INTO links VALUES (?, ?, ?, ?, ?)",
                           (new, followups, old, why, day.isoformat()))
        return moved


def _lines(text: str) -> tuple[str, ...]:
    return tuple(text.split("\n")) if text else ()
