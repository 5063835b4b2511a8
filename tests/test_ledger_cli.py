"""The ledger end to end through the `syncd` command: real cards, a real local calendar folder,
a real SQLite state file."""

import csv
import datetime as dt
import io
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
import yaml
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
    # Marco's two NOTE lines are on his card: not stored a second time.
    assert result.stdout.startswith("3 exchanges read, 1 new, 2 already there")
    assert run(home, "ledger", "export", "--format", fmt).stdout == exported
    assert "0 new, 3 already there" in run(home, "ledger", "import", str(dump)).stdout


@pytest.mark.parametrize("fmt", ["csv", "yaml"])
def test_an_export_imported_back_adds_nothing_and_a_note_line_stays_the_cards(home, tmp_path,
                                                                               fmt):
    run(home, "log", "received", "laura", "book", "Dune", "--date", "2026-11-02")
    dump = tmp_path / f"ledger.{fmt}"
    dump.write_text(run(home, "ledger", "export", "--format", fmt).stdout)
    assert run(home, "ledger", "import", str(dump)).stdout.startswith(
        "3 exchanges read, 0 new, 3 already there")
    # The NOTE line taken off the card takes its exchange away: the import stored no copy.
    marco = home / "contacts" / "marco.vcf"
    marco.write_text(marco.read_text().replace('\\ngave: intro "Laura" 2026-11-21', ""))
    assert [h["item"] for h in balance(home, "marco")["history"]] == ["Zero to One"]
    # Into another machine's ledger, whose card has no such line, it is kept, as imported.
    assert "1 new" in run(home, "ledger", "import", str(dump)).stdout
    [intro] = [h for h in balance(home, "marco")["history"] if h["kind"] == "intro"]
    assert intro["source"] == "import"


def test_csv_export_keeps_a_spreadsheet_from_running_card_text_and_imports_it_as_it_was(
        home, tmp_path):
    items = ['=HYPERLINK("http://example.org","x")', "+1 idea", "-5% voucher", "@SUM(A1)",
             "'=already quoted", "'Tis the season", "two\nlines, \"quoted\""]
    (home / "contacts" / "calc.vcf").write_text(
        "BEGIN:VCARD\nVERSION:3.0\nUID:calc\nFN:=cmd|' /C calc'!A0\nEND:VCARD\n")
    typed = tmp_path / "typed.yaml"
    typed.write_text(yaml.safe_dump([{"contact": "laura@example.org", "direction": "gave",
                                      "kind": "gift", "item": item, "date": f"2026-10-{n:02}"}
                                     for n, item in enumerate(items, 1)]))
    run(home, "log", "gave", "calc", "book", "Dune", "--date", "2026-10-30")
    run(home, "ledger", "import", str(typed))
    exported = run(home, "ledger", "export").stdout
    rows = list(csv.DictReader(io.StringIO(exported)))
    cells = [row[key] for row in rows for key in ("item", "contact_name")]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
    assert "'=cmd|' /C calc'!A0" in cells and "''=already quoted" in cells
    assert "'Tis the season" in cells
    items.append("Dune")
    dump = tmp_path / "ledger.csv"
    dump.write_text(exported)
    (home / "state.sqlite").unlink()
    shutil.rmtree(home / "state.sqlite.backups")
    assert f"{len(items)} new" in run(home, "ledger", "import", str(dump)).stdout
    assert sorted(h["item"] for h in balance(home, "laura")["history"] + balance(
        home, "calc")["history"]) == sorted(items)


def test_log_takes_the_words_a_note_line_takes(home):
    out = run(home, "log", "Ricevuto", "laura@example.org", "LIBRO", "Il nome della rosa",
              "--date", "2026-11-25").stdout
    assert "logged: received book “Il nome della rosa” from Laura Bianchi" in out
    out = run(home, "log", "dato", "laura@example.org", "cena", "Pizza", "--date", "2026-11-26")
    assert "logged: gave meal “Pizza” to Laura Bianchi" in out.stdout
    result = run(home, "log", "gave", "laura@example.org", "ufo", "X", code=2)
    assert "'ufo' is not a kind; one of book (libro), gift (regalo" in result.stderr
    assert "meal (pranzo, cena)" in result.stderr
    help_text = run(home, "log", "--help").stdout
    assert "book (libro)" in help_text and "received (ricevuto" in help_text


def test_import_by_name_or_email_with_italian_kinds_and_the_kinds_weight(home, tmp_path):
    dump = tmp_path / "by-hand.csv"
    dump.write_text("contact,direction,kind,item,date,weight\n"
                    "Marco Rossi,ricevuto,Libro,Il Gattopardo,2026-11-01,\n"
                    "laura@example.org,dato,cena,Risotto,2026-11-02,\n"
                    "laura@example.org,gave,regalo,Vase,2026-11-03,3\n")
    assert "3 exchanges read, 3 new" in run(home, "ledger", "import", str(dump)).stdout
    marco = {h["item"]: h for h in balance(home, "marco")["history"]}
    assert (marco["Il Gattopardo"]["kind"], marco["Il Gattopardo"]["weight"]) == ("book", 2.0)
    laura = {h["item"]: (h["direction"], h["kind"], h["weight"])
             for h in balance(home, "laura@example.org")["history"]}
    assert laura == {"Risotto": ("gave", "meal", 1.0), "Vase": ("gave", "gift", 3.0)}
    # As a spreadsheet in an Italian locale saves it: a byte order mark, semicolons, 1,5.
    sheet = tmp_path / "foglio.csv"
    sheet.write_bytes("contact;direction;kind;item;date;weight\r\n"
                      "Marco Rossi;dato;Consiglio;Un buon medico;2026-11-05;1,5\r\n"
                      .encode("utf-8-sig"))
    assert "1 new" in run(home, "ledger", "import", str(sheet)).stdout
    advice = [h for h in balance(home, "marco")["history"] if h["item"] == "Un buon medico"]
    assert [(h["kind"], h["weight"]) for h in advice] == [("advice", 1.5)]
    yaml_dump = tmp_path / "by-hand.yaml"
    yaml_dump.write_text("- {contact: lb@example.org, direction: received, kind: favore,"
                         " item: A lift, date: 2026-11-04}\n")
    assert "1 new" in run(home, "ledger", "import", str(yaml_dump)).stdout
    assert balance(home, "lb@example.org")["history"][0]["kind"] == "favour"


def test_import_of_an_unknown_or_ambiguous_contact_names_the_row_and_writes_nothing(home,
                                                                                    tmp_path):
    dump = tmp_path / "by-hand.csv"
    dump.write_text("contact,direction,kind,item,date\n"
                    "laura@example.org,gave,book,Dune,2026-01-01\n"
                    "laura bianchi,gave,book,Dune,2026-01-02\n"
                    "Lora Nessuno,gave,book,Dune,2026-01-03\n"
                    ",gave,book,Dune,2026-01-04\n")
    result = run(home, "ledger", "import", str(dump), code=1)
    assert f"{dump}:3: 'laura bianchi' matches 2 contacts" in result.stderr
    assert f"{dump}:4: no contact matches 'Lora Nessuno'" in result.stderr
    assert f"{dump}:5: missing contact_uid or contact" in result.stderr
    assert balance(home, "laura@example.org")["history"] == []


def test_import_with_a_bad_row_writes_nothing(home, tmp_path):
    dump = tmp_path / "bad.csv"
    dump.write_text("contact_uid,direction,kind,item,date,weight\n"
                    "laura,gave,book,Dune,2026-01-01,2\n"
                    "laura,took,book,Dune,2026-01-01,2\n"
                    "laura,gave,book,Dune,2026-13-01,2\n")
    result = run(home, "ledger", "import", str(dump), code=1)
    assert f"{dump}:3: direction 'took' is not one of gave (given, dato" in result.stderr
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


def test_import_leaves_the_note_lines_of_a_source_not_read_on_their_cards(home, tmp_path):
    other = home / "other"
    other.mkdir()
    (home / "contacts" / "marco.vcf").rename(other / "marco.vcf")
    config = home / "config.yaml"
    config.write_text(config.read_text().replace(
        "contacts: [{type: vdir, path: contacts}]",
        "contacts: [{type: vdir, path: contacts}, {type: vdir, path: other}]"))
    dump = tmp_path / "ledger.csv"
    dump.write_text(run(home, "ledger", "export").stdout)
    (other / "marco.vcf").rename(tmp_path / "marco.vcf")
    other.rmdir()  # the second address book is not there (an unmounted disk)
    result = run(home, "ledger", "import", str(dump))
    assert result.stdout.startswith("2 exchanges read, 0 new, 0 already there")
    assert "2 NOTE lines of contacts not read now" in result.stderr
    other.mkdir()
    (tmp_path / "marco.vcf").rename(other / "marco.vcf")
    assert "0 new, 2 already there" in run(home, "ledger", "import", str(dump)).stdout
