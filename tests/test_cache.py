"""Two kinds of state (issue 13, items 1 and 2): the ledger in the state file, what can be read
again from the servers in the cache file beside it. A damaged or newer cache is made again and
`syncd state reset-cache` empties it, the ledger untouched; a state file made new next to a
calendar holding this syncd's follow-ups refuses to decide until the person says so."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from syncd import cache
from syncd.model import Exchange
from syncd.ledger import Ledger
from syncd.state import State

DUNE = Exchange("laura", "received", "book", "Dune", dt.date(2026, 11, 20), 1.0, "cli")


def _state_with_ledger_and_listing(path: Path) -> None:
    with State(path) as state:
        Ledger(state).add(DUNE)
        state.save_listing("https://dav.example/cal/", "token-1", {"a.ics": ('"1"', "")})
        state.remember_discovered("calendar:x", "https://dav.example/cal/")


def _ledger(path: Path) -> list[str]:
    with State(path) as state:
        return [e.item for e in Ledger(state).exchanges()]


def test_the_cache_is_its_own_file_and_the_state_file_holds_no_listing(tmp_path: Path):
    path = tmp_path / "state.sqlite"
    _state_with_ledger_and_listing(path)
    cached = tmp_path / "state.cache.sqlite"
    assert cached.stat().st_mode & 0o777 == 0o600
    main = sqlite3.connect(path)
    tables = {row[0] for row in main.execute("SELECT name FROM sqlite_master")}
    main.close()
    assert "exchanges" in tables and not tables & set(cache.TABLES)
    side = sqlite3.connect(cached)
    assert side.execute("SELECT url, token FROM collections").fetchall() == [
        ("https://dav.example/cal/", "token-1")]
    assert "exchanges" not in {r[0] for r in side.execute("SELECT name FROM sqlite_master")}
    side.close()


def test_a_damaged_cache_is_made_again_and_the_ledger_is_untouched(tmp_path: Path, caplog):
    path = tmp_path / "state.sqlite"
    _state_with_ledger_and_listing(path)
    (tmp_path / "state.cache.sqlite").write_bytes(b"this is not a database" * 100)
    for name in ("state.cache.sqlite-wal", "state.cache.sqlite-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    with caplog.at_level(logging.WARNING):
        with State(path) as state:
            assert state.load_listing("https://dav.example/cal/") == (None, {})
            assert state.discovered("calendar:x") is None
            assert [e.item for e in Ledger(state).exchanges()] == ["Dune"]
            state.save_listing("https://dav.example/cal/", "token-2", {})  # usable again
    assert "state.cache.sqlite: the cache could not be used" in caplog.text


def test_a_cache_of_another_version_is_dropped_not_read(tmp_path: Path, caplog):
    path = tmp_path / "state.sqlite"
    _state_with_ledger_and_listing(path)
    side = sqlite3.connect(tmp_path / "state.cache.sqlite")
    side.execute("UPDATE cache_version SET version = ?", (cache.VERSION + 1,))
    side.commit()
    side.close()
    with caplog.at_level(logging.WARNING):
        with State(path) as state:
            assert state.load_listing("https://dav.example/cal/") == (None, {})
    assert f"cache version {cache.VERSION + 1}" in caplog.text
    assert _ledger(path) == ["Dune"]


def test_an_older_state_file_moves_its_listings_to_the_cache(tmp_path: Path):
    """Schema 5 kept the listings in the state file: migration 6 moves them, so the first sync
    after the upgrade is still incremental."""
    path = tmp_path / "state.sqlite"
    _state_with_ledger_and_listing(path)
    (tmp_path / "state.cache.sqlite").unlink()
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(
        "CREATE TABLE collections (url TEXT PRIMARY KEY, token TEXT);"
        "CREATE TABLE collection_items (url TEXT NOT NULL, href TEXT NOT NULL, etag TEXT NOT "
        "NULL, data TEXT NOT NULL DEFAULT '', PRIMARY KEY (url, href));"
        "CREATE TABLE discovered (key TEXT PRIMARY KEY, url TEXT NOT NULL);"
        "INSERT INTO collections VALUES ('https://old/', 'tok');"
        "INSERT INTO collection_items VALUES ('https://old/', 'b.ics', '\"7\"', '');"
        "UPDATE schema_version SET version = 5;")
    db.close()
    with State(path) as state:
        assert state.load_listing("https://old/") == ("tok", {"b.ics": ('"7"', "")})
        assert [e.item for e in Ledger(state).exchanges()] == ["Dune"]
    db = sqlite3.connect(path)
    assert not {row[0] for row in db.execute("SELECT name FROM sqlite_master")} \
        & set(cache.TABLES)
    db.close()


def _syncd(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syncd", *args, "--config", str(config)],
                          capture_output=True, text=True, timeout=120)


def _home(tmp_path: Path) -> Path:
    (tmp_path / "contacts").mkdir()
    for uid, name in (("laura", "Laura Bianchi"), ("marco", "Marco Rossi")):
        (tmp_path / "contacts" / f"{uid}.vcf").write_text(
            f"BEGIN:VCARD\nVERSION:3.0\nUID:{uid}\nFN:{name}\nNOTE:#sailing\nEND:VCARD\n")
    config = tmp_path / "config.yaml"
    config.write_text("contacts: [{type: vdir, path: contacts}]\n"
                      "calendar: {type: local, path: calendar}\nstate: state.sqlite\n")
    return config


def test_reset_cache_empties_the_cache_and_keeps_the_ledger(tmp_path: Path):
    config = _home(tmp_path)
    assert _syncd(config, "log", "received", "laura", "book", "Dune", "--date",
                  "2026-11-20").returncode == 0
    path = tmp_path / "state.sqlite"
    with State(path) as state:
        state.save_listing("https://dav.example/cal/", "token-1", {"a.ics": ('"1"', "")})
    done = _syncd(config, "state", "reset-cache")
    assert done.returncode == 0, done.stderr
    assert "cache emptied (1 collections, 1 items, 0 discovered URLs)" in done.stdout
    with State(path) as state:
        assert state.load_listing("https://dav.example/cal/") == (None, {})
        assert [e.item for e in Ledger(state).exchanges()] == ["Dune"]
    checked = _syncd(config, "state", "check")
    assert checked.returncode == 0 and "cache: " in checked.stdout
    assert "0 collections, 0 items" in checked.stdout


def test_a_state_file_lost_without_backup_refuses_until_the_person_says_so(tmp_path: Path):
    """Item 2: the state file gone, no backup, and the calendar holds this syncd's follow-ups:
    one line saying how to restore, exit 1, nothing written; `--new-ledger` starts over and
    keeps the follow-ups (adopted, none written again)."""
    config = _home(tmp_path)
    first = _syncd(config, "sync", "--today", "2026-11-30")
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "calendar"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert sum(name.endswith(".ics") for name in before) == 2
    (tmp_path / "state.sqlite").unlink()
    shutil.rmtree(tmp_path / "state.sqlite.backups", ignore_errors=True)
    for _ in range(2):
        refused = _syncd(config, "sync", "--today", "2026-11-30")
        assert refused.returncode == 1
        lines = [line for line in refused.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and "holds 2 follow-ups this syncd wrote" in lines[0]
        assert "--new-ledger" in lines[0] and "Traceback" not in refused.stderr
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    dry = _syncd(config, "sync", "--dry-run", "--today", "2026-11-30")
    assert dry.returncode == 0 and "the ledger they belong to is lost" in dry.stderr
    accepted = _syncd(config, "sync", "--new-ledger", "--today", "2026-11-30")
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.startswith("0 created, 0 updated, 0 deleted, 2 unchanged")
    again = _syncd(config, "sync", "--today", "2026-11-30")
    assert again.returncode == 0 and again.stdout.startswith("0 created, 0 updated, 0 deleted")
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_new_state_file_next_to_an_empty_calendar_is_simply_new(tmp_path: Path):
    config = _home(tmp_path)
    done = _syncd(config, "sync", "--today", "2026-11-30")
    assert done.returncode == 0, done.stderr
    with State(tmp_path / "state.sqlite") as state:
        assert not state.ledger_is_new()  # the first sync settled it
