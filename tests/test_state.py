import datetime as dt
import sqlite3
import stat

import pytest

from syncd.errors import StateError
from syncd.state import SCHEMA_VERSION, State, Written


def entry(uid="a"):
    return Written(uid, f"{uid}.ics", '"1"', "h", "c", "keep-in-touch", "new", dt.date(2026, 12, 1))


def test_round_trip_and_forget(tmp_path):
    with State(tmp_path / "s.sqlite") as state:
        state.record(entry("a"))
        state.record(entry("b"))
        state.forget("a")
    with State(tmp_path / "s.sqlite") as state:
        assert state.written() == {"b": entry("b")}


def test_files_are_private(tmp_path):
    path = tmp_path / "deep" / "s.sqlite"
    with State(path) as state:
        state.record(entry())
        for file in path.parent.iterdir():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_state_file_others_can_read_is_made_private_again(tmp_path, caplog):
    """A copy, a restore or an older syncd may leave it 0644; it holds the whole ledger."""
    path = tmp_path / "s.sqlite"
    with State(path) as state:
        state.record(entry())
    path.chmod(0o644)
    with State(path) as state:
        assert state.written() == {"a": entry()}
        for file in tmp_path.iterdir():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    assert f"{path}: was readable by others (644); made private (600)" in caplog.text


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.sqlite"
    State(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    with pytest.raises(StateError, match="newer syncd"):
        State(path)


def test_not_a_database(tmp_path):
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match=str(path)):
        State(path)


def test_failed_transaction_leaves_nothing(tmp_path):
    with State(tmp_path / "s.sqlite") as state:
        with pytest.raises(RuntimeError):
            with state.transaction() as db:
                db.execute("INSERT INTO written (uid, href, etag, hash, contact_uid, reason, cycle, due) "
                               "VALUES ('x','x','x','x','x','x','x','2026-01-01')")
                raise RuntimeError("crash")
        assert state.written() == {}
