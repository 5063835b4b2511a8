"""A state file and a calendar folder from the syncd before targets had an identity (schema 4,
no marker in the folder, no instance mark in the objects, the content-line hash embedded and
remembered, UIDs without a calendar scope) are taken over without any write to the calendar: the
rows are claimed by the calendar of the first sync and given the hash of what the objects mean,
every object stays as it is, and the next syncs write nothing either; so too when a server had
split their CATEGORIES into one line per value (Cyrus)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sync_support import START, make_config, now_on, objects, write_card

from syncd import cycle, render
from syncd.state import OURS, UNASSIGNED, State
from syncd.targets.local import MARKER, LocalTarget

OLD_WRITTEN = """CREATE TABLE written (uid TEXT PRIMARY KEY, href TEXT NOT NULL, etag TEXT NOT NULL,
    hash TEXT NOT NULL, contact_uid TEXT NOT NULL, reason TEXT NOT NULL, cycle TEXT NOT NULL,
    due TEXT NOT NULL, owner TEXT NOT NULL DEFAULT 'syncd')"""
OLD_LISTINGS = """CREATE TABLE collections (url TEXT PRIMARY KEY, token TEXT);
    CREATE TABLE collection_items (url TEXT NOT NULL, href TEXT NOT NULL, etag TEXT NOT NULL,
        data TEXT NOT NULL DEFAULT '', PRIMARY KEY (url, href));
    CREATE TABLE discovered (key TEXT PRIMARY KEY, url TEXT NOT NULL)"""


def as_an_older_syncd_left_it(state_path: Path, folder: Path, split: bool = False) -> None:
    """Schema 4: `written` without target or writer, no `meta`, the listings in the state file;
    objects without the instance mark and with the legacy hash, rows remembering that hash (as
    the older syncd wrote them), no marker in the folder. `split`: CATEGORIES written one line
    per value, as Cyrus stores them."""
    db = sqlite3.connect(state_path, isolation_level=None)
    rows = db.execute("SELECT uid, href, etag, hash, contact_uid, reason, cycle, due, owner "
                      "FROM written").fetchall()
    db.executescript(f"DROP TABLE written; DROP TABLE meta; {OLD_WRITTEN}; {OLD_LISTINGS};"
                     "UPDATE schema_version SET version = 4;")
    for uid, href, _, _, *rest in rows:
        file = folder / href
        text = "".join(line for line in file.read_text().splitlines(keepends=True)
                       if not line.startswith(render.MARK_INSTANCE))
        mine = render.read(text)
        text = text.replace(f"UID:{mine.uid}", f"UID:{uid}")  # no scope: the older UIDs
        legacy = render.read(text).legacy_hash
        text = text.replace(f"{render.MARK_HASH}:{mine.written_hash}",
                            f"{render.MARK_HASH}:{legacy}")
        if split:
            text = text.replace("CATEGORIES:syncd,", "CATEGORIES:syncd\r\nCATEGORIES:")
        file.unlink()
        href = f"{uid}.ics"
        (folder / href).write_text(text)
        etag = LocalTarget(folder).list()[href]  # the older syncd's own write
        db.execute("INSERT INTO written VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (uid, href, etag, legacy, *rest))
    db.close()
    (folder / MARKER).unlink()


@pytest.mark.parametrize("split", [False, True], ids=["as-written", "categories-split"])
def test_an_older_state_file_and_folder_are_taken_over_without_a_write(tmp_path, split):
    cards = tmp_path / "contacts"
    cards.mkdir()
    for uid, name in (("ann", "Ann Rossi"), ("bob", "Bob Bianchi"), ("cat", "Cat Verdi")):
        write_card(cards, uid, name, interests="sailing")
    config = make_config(tmp_path)
    folder = tmp_path / "calendar"
    with State(config.state) as state:
        first = cycle.sync(config, state, LocalTarget(folder), START, now_on(START))
    assert first.counts["created"] == 3
    as_an_older_syncd_left_it(config.state, folder, split)
    before = objects(LocalTarget(folder))
    assert all(render.MARK_INSTANCE not in item for item, _ in before.values())
    legacy = {w.uid: w.hash for w in State(config.state).written().values()}

    with State(config.state) as state:
        assert {w.target for w in state.written().values()} == {UNASSIGNED}
        for _ in range(2):
            report = cycle.sync(config, state, LocalTarget(folder), START, now_on(START))
            assert (report.counts["created"], report.counts["updated"],
                    report.counts["deleted"], report.counts["dismissed"]) == (0, 0, 0, 0)
            assert report.counts["unchanged"] == 3
        identity = LocalTarget(folder).identity()
        assert identity and {(w.target, w.owner) for w in state.written().values()} == {
            (identity, OURS)}
        rows = state.written()
        assert all(rows[uid].hash != old for uid, old in legacy.items())  # the new hash now
        assert {rows[uid].hash for uid in rows} == {
            render.read(item).hash for item, _ in before.values()}
    assert objects(LocalTarget(folder)) == before  # not one object written
