"""`syncd status` after the cycles of every kind (a `syncd sync`, the timer's, the daemon's), on
real files: a vdir of cards, a local calendar folder, a real SQLite state file."""

import datetime as dt
import json
import sqlite3

import pytest

from sync_support import local_config, run_cli as run
from syncd.daemon import Daemon

TODAY = "2026-11-30"  # Marco's get-to-know is due 12-01, Laura's birthday follow-up 12-02

CARDS = {
    "laura.vcf": "UID:laura\r\nFN:Laura Bianchi\r\nBDAY:1985-12-09\r\nNOTE:Interests: sailing",
    "marco.vcf": "UID:marco\r\nFN:Marco Rossi",
}


def write_home(tmp_path, extra=""):
    contacts = tmp_path / "contacts"
    contacts.mkdir()
    for name, body in CARDS.items():
        (contacts / name).write_text(f"BEGIN:VCARD\r\nVERSION:3.0\r\n{body}\r\nEND:VCARD\r\n")
    (tmp_path / "config.yaml").write_text(local_config("""\
        state: state/syncd.sqlite
        """) + extra)
    return tmp_path


@pytest.fixture
def home(tmp_path):
    return write_home(tmp_path)


def status_json(home, *args):
    return json.loads(run(home, "status", "--json", *args).stdout)


def recorded_utc(home):
    with sqlite3.connect(home / "state" / "syncd.sqlite") as db:
        (stamp,) = db.execute("SELECT value FROM status WHERE key = 'last_cycle'").fetchone()
    return dt.datetime.fromisoformat(stamp)


def test_status_after_a_manual_sync_tells_it_and_names_who_is_due(home):
    run(home, "sync", "--today", TODAY)
    text = run(home, "status", "--today", TODAY).stdout
    assert "never" not in text
    assert "by syncd sync: ok: 2 created," in text
    rows = [line.split() for line in text.splitlines()[text.splitlines().index("next due:") + 1:]]
    assert rows == [["due", "reason", "contact", "uid"],
                    ["2026-12-01", "get-to-know", "Marco", "Rossi", "marco"],
                    ["2026-12-02", "birthday", "Laura", "Bianchi", "laura"]]
    data = status_json(home, "--today", TODAY)
    assert (data["last_kind"], data["last_ok"]) == ("sync", True)
    assert data["last_result"].startswith("2 created,")
    assert [(n["contact_uid"], n["contact_name"]) for n in data["next_due"]] == [
        ("marco", "Marco Rossi"), ("laura", "Laura Bianchi")]
    assert data["next_after_today"]["contact_name"] == "Marco Rossi"
    assert (data["overdue"], data["due_today"]) == (0, 0)


def test_status_without_any_cycle_says_never(home):
    assert "last cycle: never" in run(home, "status").stdout
    assert run(home, "status", "--short").stdout == "syncd: never synced · 0 due\n"


@pytest.mark.parametrize("zone, offset", [("Pacific/Kiritimati", "+14:00"),
                                          ("America/Los_Angeles", "-08:00")])
def test_status_shows_the_last_cycle_in_the_configured_zone(tmp_path, zone, offset):
    home = write_home(tmp_path, f"timezone: {zone}\n")
    run(home, "sync", "--today", TODAY)
    data = status_json(home)
    shown = dt.datetime.fromisoformat(data["last_cycle"])
    assert data["timezone"] == zone and data["last_cycle"].endswith(offset)
    assert shown == recorded_utc(home)  # the same instant, only written in the zone
    (line,) = [line for line in run(home, "status").stdout.splitlines()
               if line.startswith("last cycle: ")]
    assert line.startswith(f"last cycle: {shown.strftime('%Y-%m-%d %H:%M')} ")
    assert ", by syncd sync: ok: 2 created," in line
    assert shown.strftime("%H:%M") in run(home, "status", "--short").stdout


def test_status_short_is_one_line_for_a_status_bar(home):
    run(home, "sync", "--today", TODAY)
    out = run(home, "status", "--short", "--today", "2026-12-01").stdout
    assert out.count("\n") == 1
    head, due, following = out.rstrip("\n").split(" · ")
    assert head.startswith("syncd: ok ")
    assert (due, following) == ("1 due", "next Laura Bianchi 12-02")


def test_a_failed_sync_is_the_last_cycle_with_its_error(home):
    (home / "calendar").write_text("not a folder")
    done = run(home, "sync", "--today", TODAY, code=1)
    assert "calendar" in done.stderr
    data = status_json(home)
    assert (data["last_kind"], data["last_ok"]) == ("sync", False)
    assert data["last_result"].startswith("failed: ")
    assert f"{home / 'calendar'}" in json.dumps(data["errors"])
    short = run(home, "status", "--short").stdout
    assert short.startswith("syncd: error ") and short.count("\n") == 1
    assert "by syncd sync: failed: " in run(home, "status").stdout


def test_the_timers_sync_is_told_apart(home, monkeypatch):
    monkeypatch.setenv("TRIGGER_UNIT", "syncd-sync.timer")  # as systemd sets it
    run(home, "sync", "--today", TODAY)
    assert status_json(home)["last_kind"] == "timer"
    assert "by syncd-sync.timer: ok:" in run(home, "status").stdout


def test_the_daemons_cycle_is_told_apart(home):
    daemon = Daemon(home / "config.yaml")
    daemon.cycle(dt.date.fromisoformat(TODAY))
    daemon.save_status(dt.datetime.now(dt.timezone.utc))
    data = status_json(home, "--today", TODAY)
    assert (data["last_kind"], data["last_ok"]) == ("daemon", True)
    assert [n["contact_name"] for n in data["next_due"]] == ["Marco Rossi", "Laura Bianchi"]
    assert "by the daemon: ok: 2 created," in run(home, "status").stdout


def test_a_cycle_an_earlier_syncd_recorded_is_still_told(home):
    from syncd.state import State

    (home / "state").mkdir()
    with State(home / "state" / "syncd.sqlite") as state:  # no last_kind, no last_ok
        state.set_status({"last_cycle": "2026-11-29T08:00:00+00:00",
                          "last_result": "failed: the server is down", "errors": "{}"})
    data = status_json(home)
    assert (data["last_kind"], data["last_ok"]) == (None, None)
    assert "last cycle: " in run(home, "status").stdout
    assert ": failed: the server is down" in run(home, "status").stdout
    assert run(home, "status", "--short").stdout.startswith("syncd: error ")
