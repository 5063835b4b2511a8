"""Storage failures of the state file are one clear line, and leave nothing half-written: a
full disk (SQLite's own SQLITE_FULL, forced with `PRAGMA max_page_count` on a real file), and
twenty first opens of one fresh file at once."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from privileges import NOBODY, as_nobody, unprivileged

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


def _ledger_with_one_exchange(home: Path) -> Path:
    (home / "contacts").mkdir()
    (home / "contacts" / "laura.vcf").write_text(
        "BEGIN:VCARD\nVERSION:3.0\nUID:laura\nFN:Laura Bianchi\nEND:VCARD\n")
    config = home / "config.yaml"
    config.write_text("contacts: [{type: vdir, path: contacts}]\n"
                      "calendar: {type: local, path: calendar}\nstate: state.sqlite\n")
    done = subprocess.run([sys.executable, "-m", "syncd", "log", "received", "laura", "book",
                           "Dune", "--date", "2026-11-20", "--config", str(config)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return config


def _history(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "syncd", "balance", "laura", "--json",
                           "--today", "2026-11-30", "--config", str(config)],
                          capture_output=True, text=True, timeout=60)


def test_an_emptied_state_file_is_restored_from_the_newest_backup(tmp_path: Path):
    """A state file truncated to 0 bytes (a full disk, a bad restore) used to be made again
    empty: the ledger gone, dismissed follow-ups back. The day's backup is put in its place."""
    config = _ledger_with_one_exchange(tmp_path)
    [backup] = sorted((tmp_path / "state.sqlite.backups").iterdir())
    assert backup.stat().st_mode & 0o777 == 0o600
    (tmp_path / "state.sqlite").write_bytes(b"")
    answer = _history(config)
    assert answer.returncode == 0, answer.stderr
    assert "restored the ledger from the backup" in answer.stderr and str(backup) in answer.stderr
    assert [h["item"] for h in json.loads(answer.stdout)["history"]] == ["Dune"]
    (tmp_path / "state.sqlite").unlink()  # missing altogether: the same
    assert "Dune" in _history(config).stdout


def test_no_backup_when_the_ledger_did_not_change_and_seven_are_kept(tmp_path: Path):
    from syncd import backups

    path = tmp_path / "state.sqlite"
    with State(path) as state:
        state.instance()
        state.set_status({"last_cycle": "x"})  # not the ledger
    assert backups.existing(path) == []
    with State(path) as state:
        for day in range(1, 10):
            state.record(row(day))
            backups.keep(state.db, path, dt.date(2026, 11, day))
    kept = [p.name.removeprefix("state.sqlite-").removesuffix(".sqlite")
            for p in backups.existing(path)]
    # The 7 newest are kept; the close made none (rows syncd wrote are not the ledger).
    assert kept == [f"2026-11-{d:02d}" for d in range(9, 2, -1)]


def test_state_check_tells_a_healthy_file_from_a_damaged_one(tmp_path: Path):
    config = _ledger_with_one_exchange(tmp_path)

    def check():
        return subprocess.run([sys.executable, "-m", "syncd", "state", "check", "--config",
                               str(config)], capture_output=True, text=True, timeout=60)

    healthy = check()
    assert healthy.returncode == 0 and healthy.stdout.strip().endswith("healthy")
    assert "ledger: 1 exchanges" in healthy.stdout and "backups: 1, newest" in healthy.stdout
    state = tmp_path / "state.sqlite"
    with State(state) as opened:  # everything in the main file, then a page of it garbled
        opened.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(state.read_bytes())
    page = 4096
    data[page:] = b"\xff" * (len(data) - page)  # every page but the header's
    state.write_bytes(bytes(data))
    damaged = check()
    assert damaged.returncode == 1 and "not healthy" in damaged.stdout
    assert "problem: damaged" in damaged.stderr
    assert "move" in damaged.stderr and "backup" in damaged.stderr


def test_ledger_export_reads_what_it_can_of_a_damaged_file(tmp_path: Path):
    """A damaged page used to make every command fail, `ledger export` included, though most of
    the ledger could still be read: the export now reads the file read-only, row by row."""
    from syncd.ledger import Ledger
    from syncd.model import Exchange

    config = _ledger_with_one_exchange(tmp_path)
    state = tmp_path / "state.sqlite"
    with State(state) as opened:
        Ledger(opened).add_many(
            Exchange(f"c{n:04d}", "received", "book", f"A book with a long title, number {n}",
                     dt.date(2026, 1, 1) + dt.timedelta(days=n % 300), 2.0, "cli", "x" * 200)
            for n in range(2000))
        opened.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(state.read_bytes())
    middle = (len(data) // 4096 // 2) * 4096
    data[middle:middle + 3 * 4096] = b"\x00" * (3 * 4096)  # three pages in the middle, zeroed
    state.write_bytes(bytes(data))
    done = subprocess.run([sys.executable, "-m", "syncd", "ledger", "export", "--config",
                           str(config)], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr
    rows = done.stdout.strip().splitlines()[1:]
    lost = int(done.stderr.split(" of the ")[0].rsplit(" ", 1)[1])
    assert done.returncode == 1 and "ledger rows could not be read" in done.stderr
    assert 0 < lost < 2001 and len(rows) == 2001 - lost


def test_a_write_lock_held_40_s_is_one_line_and_nothing_is_written(tmp_path: Path):
    """Another process holds the state file's write lock for 40 s (a stuck `sqlite3` shell, a
    backup tool): `syncd log` waits its 30 s, then exits 1 with one line naming the file and
    the cause; the ledger is as it was, and usable once the lock is gone."""
    config = _ledger_with_one_exchange(tmp_path)
    state = tmp_path / "state.sqlite"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\n"
         "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(40)",
         str(state)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        done = subprocess.run([sys.executable, "-m", "syncd", "log", "gave", "laura", "book",
                               "Emma", "--date", "2026-11-25", "--config", str(config)],
                              capture_output=True, text=True, timeout=120)
    finally:
        holder.kill()
        holder.wait()
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(lines) == 1 and str(state) in lines[0]
    assert "locked by another process for over 30 s" in lines[0]
    history = json.loads(_history(config).stdout)["history"]
    assert [entry["item"] for entry in history] == ["Dune"]


def test_a_read_only_state_file_is_one_line_and_the_export_still_reads_it(tmp_path: Path):
    """A state file and folder that this user cannot write (a restore as another user, a
    read-only mount): opening it for a change is one line naming the file; the export, which
    opens it read-only, still lists the ledger. Checked as `nobody` when root (root writes
    whatever the mode)."""
    from syncd import backups, salvage  # imported before dropping privileges
    from syncd.ledger import Ledger
    from syncd.model import Exchange

    with unprivileged() as folder:
        state = folder / "state.sqlite"
        with State(state) as opened:
            Ledger(opened).add(Exchange("laura", "received", "book", "Dune",
                                        dt.date(2026, 11, 20), 1.0, "cli"))
            opened.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for leftover in folder.iterdir():
            if leftover.name.endswith(("-wal", "-shm")):
                leftover.unlink()
        state.chmod(0o444)
        if os.geteuid() == 0:
            os.chown(state, NOBODY, -1)
        folder.chmod(0o555)
        assert backups.folder_of(state)  # (the module is loaded)
        try:
            with as_nobody():
                with pytest.raises(StateError) as raised:
                    State(state)
                found, problems = salvage.read_exchanges(state)
        finally:
            folder.chmod(0o755)
    assert str(raised.value).startswith(str(state)) and "\n" not in str(raised.value)
    assert "Permission denied" in str(raised.value)
    assert [e.item for e in found] == ["Dune"] and problems == []
