"""Storage failures of the state file are one clear line, and leave nothing half-written: a
full disk (SQLite's own SQLITE_FULL, forced with `PRAGMA max_page_count` on a real file), and
twenty first opens of one fresh file at once."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from syncd.errors import StateError
from syncd.state import OURS, State, Written


def row(n: int) -> Written:
    return Written(f"uid-{n}", f"uid-{n}.ics", '"1"', "h" * 64, f"c{n}", "keep-in-touch", "new",
                   dt.date(2026, 12, 1), OURS, "t")


def test_a_full_disk_is_one_line_and_the_transaction_is_rolled_back(tmp_path: Path):
    with State(tmp_path / "state.sqlite") as state:
        state.record(row(0))
        pages = state.db.execute("PRAGMA page_count").fetchone()[0]
        state.db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here
        with pytest.raises(StateError) as raised:
            with state.transaction():
                for n in range(1, 2000):
                    state.record(row(n))
        message = str(raised.value)
        assert message.startswith(str(tmp_path / "state.sqlite")) and "the disk is full" in message
        assert not state.db.in_transaction  # rolled back, not left open
        assert list(state.written()) == ["uid-0"]  # nothing of the failed change stayed
        state.db.execute(f"PRAGMA max_page_count = {pages * 100}")  # room again: usable
        state.record(row(1))
        assert sorted(state.written()) == ["uid-0", "uid-1"]


def test_twenty_first_opens_at_once_all_succeed(tmp_path: Path):
    """The migrations run in one exclusive transaction that reads the version inside it: the
    opens wait for each other (before: some failed with 'table written already exists')."""
    path = tmp_path / "state.sqlite"
    code = ("import sys; from syncd.state import State\n"
            "with State(sys.argv[1]) as s: print(s.instance())")
    runs = [subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(20)]
    answers = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0] * 20, [err for _, err in answers if err][:1]
    assert len({out.strip() for out, _ in answers}) == 1  # one instance, made once
