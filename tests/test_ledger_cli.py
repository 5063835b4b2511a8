"""The ledger end to end through the `syncd` command: real cards, a real local calendar folder,
a real SQLite state file."""

import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import icalendar
import pytest
from click.testing import CliRunner

from syncd.cli import main

TODAY = "2026-11-30"

CARDS = {
    "laura.vcf": "UID:laura\nFN:Laura Bianchi\nEMAIL:laura@example.org\nNOTE:#sailing\n",
    "laura2.vcf": "UID:laura-b\nFN:Laura Bàrbieri\nEMAIL:lb@example.org\n",
    "lara.vcf": "UID:lara\nFN:Làura Bianchi\nEMAIL:lara@example.org\n",
    "marco.vcf": ('UID:marco\nFN:Marco Rossi\nNOTE:Ama la #vela\\nreceived: book "Zero to One"'
                  ' 2026-11-20\\ngave: intro "Laura" 2026-11-21\\nreceived: ufo "X" 2026-01-01\n'),
}


@pytest.fixture
def home(tmp_path):
    contacts = tmp_path / "contacts"
    contacts.mkdir()
    for name, body in CARDS.items():
        (contacts / name).write_text(f"BEGIN:VCARD\nVERSION:3.0\n{body}END:VCARD\n")
    (tmp_path / "config.yaml").write_text(textwrap.dedent("""\
        contacts: [{type: vdir, path: contacts}]
        calendar: {type: local, path: calendar}
        state: state.sqlite
        rules: {weekly_cap: 1}
        """))
    return tmp_path


def run(home, *args, code=0):
    result = CliRunner().invoke(main, [*args, "--config", str(home / "config.yaml")])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def balance(home, who):
    return json.loads(run(home, "balance", who, "--json", "--today", TODAY).stdout)


def todos(home, reason):
    found = {}
    for path in (home / "calendar").glob("*.ics"):
        todo = icalendar.Calendar.from_ical(path.read_text()).walk("VTODO")[0]
        if str(todo["X-SYNCD-REASON"]) == reason:
            found[path] = todo
    return found


def test_log_received_then_sync_creates_one_give_back_and_completing_it_settles(home):
    out = run(home, "log", "received", "laura@example.org", "book", "The Boat",
              "--date", "2026-11-25").stdout
    assert "logged: received book “The Boat” from Laura Bianchi on 2026-11-25 (weight 2)" in out
    run(home, "sync", "--today", TODAY)
    [(path, todo)] = todos(home, "give-back").items()
    assert todo["DUE"].dt.isoformat() == "2026-12-02"  # 7 days after what was received
    description = str(todo["DESCRIPTION"])
    assert "Received:\n- book “The Boat” on November 25, 2026" in description
    assert "Balance: 2 owed" in description

    done = path.read_text().replace("STATUS:NEEDS-ACTION", "STATUS:COMPLETED\r\nCOMPLETED:20261201T090000Z")
    path.write_text(done)
    result = run(home, "sync", "--today", "2026-12-01")
    assert " 1 completed" in result.stdout
    after = json.loads(run(home, "balance", "laura", "--json", "--today", "2026-12-01").stdout)
    assert after["balance"] <= 0
    assert after["last_contact"] == "2026-12-01"
    gave = [h for h in after["history"] if h["direction"] == "gave"]
    assert len(gave) == 1 and gave[0]["source"] == "calendar" and gave[0]["date"] == "2026-12-01"
    # Nothing owed any more: no new give-back, the completed to-do is left as the person left it.
    run(home, "sync", "--today", "2026-12-01")
    assert list(todos(home, "give-back")) == [path]
    assert "STATUS:COMPLETED" in path.read_text()
    # The keep-in-touch clock restarted on the day of the completion: nothing due for 90 days.
    plan = json.loads(run(home, "plan", "--json", "--today", "2026-12-01").stdout)
    assert not [f for f in plan if f["contact_uid"] == "laura"]


def test_ambiguous_or_unknown_contact_writes_nothing(home):
    result = run(home, "log", "received", "laura bianchi", "book", "X", code=1)
    assert "matches 2 contacts" in result.stderr
    assert "laura@example.org" in result.stderr and "lara@example.org" in result.stderr
    result = run(home, "log", "received", "Lora Bianchi", "book", "X", code=1)
    assert "no contact matches 'Lora Bianchi'; did you mean" in result.stderr
    assert not (home / "state.sqlite").exists() or not sqlite3.connect(
        home / "state.sqlite").execute("SELECT count(*) FROM exchanges").fetchone()[0]


def test_note_lines_and_cli_entries_do_not_double_count(home, caplog):
    before = balance(home, "marco")
    assert before["balance"] == 0  # book 2 received, intro 2 given
    assert "NOTE ledger line 'received: ufo \"X\" 2026-01-01': unknown kind 'ufo'" in caplog.text
    run(home, "log", "received", "marco", "book", "zero to ONE", "--date", "2026-11-20")
    again = run(home, "log", "received", "marco", "book", "Zero to One", "--date", "2026-11-20")
    assert "already in the ledger" in again.stdout
    assert balance(home, "marco")["balance"] == 0
    assert len(balance(home, "marco")["history"]) == 2


def test_balance_table_orders_by_what_is_owed(home):
    run(home, "log", "received", "laura", "meal", "Pizza", "--date", "2026-11-01")
    run(home, "log", "received", "lara", "book", "Dune", "--date", "2026-11-02")
    rows = json.loads(run(home, "balance", "--json", "--today", TODAY).stdout)
    assert [(r["uid"], r["balance"]) for r in rows] == [("lara", 2.0), ("laura", 1.0), ("marco", 0.0)]
    table = run(home, "balance", "--today", TODAY).stdout.splitlines()
    assert table[0].split() == ["name", "balance", "last", "exchange", "last", "contact"]
    assert table[1].startswith("Làura Bianchi")


@pytest.mark.parametrize("fmt", ["csv", "yaml"])
def test_export_import_round_trip_is_lossless_and_idempotent(home, tmp_path, fmt):
    run(home, "log", "gave", "laura", "advice", 'Use "pass", not plain text',
        "--date", "2026-10-01", "--weight", "1.5", "--note", "over coffee, long chat")
    exported = run(home, "ledger", "export", "--format", fmt).stdout
    assert "over coffee, long chat" in exported
    dump = tmp_path / f"ledger.{fmt}"
    dump.write_text(exported)
    (home / "state.sqlite").unlink()  # starting over: the backups go too, or one is restored
    shutil.rmtree(home / "state.sqlite.backups")
    result = run(home, "ledger", "import", str(dump))
    assert result.stdout.startswith("3 exchanges read, 3 new")
    assert run(home, "ledger", "export", "--format", fmt).stdout == exported
    assert "0 new, 3 already there" in run(home, "ledger", "import", str(dump)).stdout


def test_import_with_a_bad_row_writes_nothing(home, tmp_path):
    dump = tmp_path / "bad.csv"
    dump.write_text("contact_uid,direction,kind,item,date,weight\n"
                    "laura,gave,book,Dune,2026-01-01,2\n"
                    "laura,took,book,Dune,2026-01-01,2\n"
                    "laura,gave,book,Dune,2026-13-01,2\n")
    result = run(home, "ledger", "import", str(dump), code=1)
    assert f"{dump}:3: direction 'took' is not gave or received" in result.stderr
    assert f"{dump}:4: " in result.stderr
    assert balance(home, "laura")["history"] == []


def test_deleted_give_back_is_a_dismissal_not_recreated(home):
    run(home, "log", "received", "laura", "book", "Dune", "--date", "2026-11-25")
    run(home, "sync", "--today", TODAY)
    [path] = todos(home, "give-back")
    path.unlink()
    result = run(home, "sync", "--today", TODAY)
    assert " 1 dismissed" in result.stdout
    run(home, "sync", "--today", "2026-12-03")
    assert todos(home, "give-back") == {}
    assert balance(home, "laura")["balance"] == 2  # a dismissal records no exchange
    # Something new received is a new reason to give back.
    run(home, "log", "received", "laura", "meal", "Lunch", "--date", "2026-12-01")
    run(home, "sync", "--today", "2026-12-03")
    assert len(todos(home, "give-back")) == 1


WRITER = textwrap.dedent("""\
    import datetime as dt, sys
    from syncd.ledger import Ledger
    from syncd.model import Exchange
    from syncd.state import State
    state = State(sys.argv[1])
    ledger = Ledger(state)
    print("ready", flush=True)
    for batch in range(10**6):
        ledger.add_many(Exchange("c", "gave", "other", f"item {batch} {n}", dt.date(2026, 1, 1),
                                 1.0, "cli") for n in range(100))
    """)


def test_ledger_write_killed_midway_leaves_whole_transactions(tmp_path):
    path = tmp_path / "state.sqlite"
    for attempt in range(3):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                                  stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(0.3 + 0.2 * attempt)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        count = db.execute("SELECT count(*) FROM exchanges").fetchone()[0]
        db.close()
        assert count > 0 and count % 100 == 0  # every batch fully there or absent


def test_an_introduction_logged_for_one_person_is_credited_to_the_other_too(home):
    before = balance(home, "marco")
    run(home, "log", "gave", "laura", "intro", "Marco Rossi", "--date", "2026-11-25")
    after = balance(home, "marco")
    assert after["balance"] == before["balance"] - 2.0  # intro weighs 2 by default
    assert after["last_exchange"] == "2026-11-25"
    assert balance(home, "laura")["balance"] == -2.0
    # Derived, not stored: the export holds the one exchange that was logged.
    exported = run(home, "ledger", "export", "--format", "csv").stdout
    assert exported.count(",intro,Marco Rossi,") == 1 and "introduced to" not in exported
    assert ",intro,Laura Bianchi," not in exported


def test_log_refuses_a_date_in_the_future(home):
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    result = run(home, "log", "received", "laura", "book", "Dune", "--date", tomorrow, code=2)
    assert f"{tomorrow} is in the future" in result.output and "--date" in result.output
    assert balance(home, "laura")["history"] == []  # nothing was logged
    run(home, "log", "received", "laura", "book", "Dune", "--date", dt.date.today().isoformat())
    assert len(balance(home, "laura")["history"]) == 1


def test_a_give_back_ticked_and_then_un_ticked_withdraws_the_completion(home):
    """Ticked off by mistake and un-ticked a day later (NEEDS-ACTION again): the "gave" row and
    the completion event are taken back, the balance is owed again, and the follow-up, still as
    syncd wrote it, is syncd's again (updated by the next plan, not left as the person's)."""
    run(home, "log", "received", "laura", "book", "The Boat", "--date", "2026-11-25")
    run(home, "sync", "--today", TODAY)
    [(path, _)] = todos(home, "give-back").items()
    written = path.read_text()
    path.write_text(written.replace("STATUS:NEEDS-ACTION",
                                    "STATUS:COMPLETED\r\nCOMPLETED:20261201T090000Z"))
    assert " 1 completed" in run(home, "sync", "--today", "2026-12-01").stdout

    def standing():
        return json.loads(run(home, "balance", "laura", "--json", "--today", "2026-12-02").stdout)

    assert standing()["balance"] <= 0
    run(home, "sync", "--today", "2026-12-01")  # a day passes with the to-do ticked off

    path.write_text(written)  # un-ticked: the app puts NEEDS-ACTION back
    result = run(home, "sync", "--today", "2026-12-02")
    after = standing()
    assert after["balance"] == 2 and not [h for h in after["history"] if h["direction"] == "gave"]
    assert " 0 kept" in result.stdout
    [(again, todo)] = todos(home, "give-back").items()
    assert again == path and str(todo["STATUS"]) == "NEEDS-ACTION"
    assert "Balance: 2 owed" in str(todo["DESCRIPTION"])
    events = sqlite3.connect(home / "state.sqlite").execute(
        "SELECT count(*) FROM events WHERE what = 'completed'").fetchone()[0]
    assert events == 0


def test_ledger_remove_takes_an_entry_back_by_the_id_balance_shows(home):
    run(home, "log", "received", "laura", "book", "Dune", "--date", "2026-11-20")
    run(home, "log", "received", "laura", "meal", "Lunch", "--date", "2026-11-21")
    history = balance(home, "laura")["history"]
    [dune] = [h for h in history if h["item"] == "Dune"]
    table = run(home, "balance", "laura", "--today", TODAY).stdout
    assert dune["id"] in table and len(dune["id"]) == 8
    assert dune["id"] in run(home, "ledger", "export").stdout
    out = run(home, "ledger", "remove", dune["id"]).stdout
    assert "removed: received book “Dune” (Laura Bianchi, 2026-11-20)" in out
    assert [h["item"] for h in balance(home, "laura")["history"]] == ["Lunch"]
    assert "no ledger entry" in run(home, "ledger", "remove", dune["id"], code=1).stderr
    # A NOTE line is the card's: it is removed there, and the message says where.
    [from_note] = [h for h in balance(home, "marco")["history"] if h["item"] == "Zero to One"]
    error = run(home, "ledger", "remove", from_note["id"], code=1).stderr
    assert "a line of the NOTE on Marco Rossi's card" in error and "marco.vcf" in error
    assert "Zero to One" in [h["item"] for h in balance(home, "marco")["history"]]
