"""Card text on the terminal (issue 15, item 7): a name, a UID, a NOTE's ledger item or a file
name holding an escape sequence (a colour, a screen clear, an OSC 8 link), a C1 control, a
line break or a bidi override is printed escaped by every table and message of the CLI, and
by the log lines; JSON output stays exact."""

import json
import logging
import os
import re
import subprocess
import sys

import pytest

from sync_support import local_config, run_cli as run

from syncd.cli import RedactingFormatter
from syncd.terminal import shown, shown_lines

TODAY = "2026-11-30"
RED = "Eve \x1b[31mRed\x1b[0m"
LINK = "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\"
BACKWARDS = "Sam \u202eregaS"
# Every character a terminal may act on: C0 (but the LF the output itself ends lines with),
# DEL, C1, the line and paragraph separators and the bidi controls.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(("text", "expected"), [
    ("\x1b[31mred", "\\x1b[31mred"),
    ("\x1b]8;;https://e.org/\x1b\\x", "\\x1b]8;;https://e.org/\\x1b\\x"),
    ("\x9b31m \x9d8;;u\x9c", "\\x9b31m \\x9d8;;u\\x9c"),  # CSI, OSC and ST as C1 bytes
    ("a\nb\rc\td", "a\\nb\\rc\\td"),
    ("\x00\x07\x08\x7f\x85", "\\x00\\x07\\x08\\x7f\\x85"),
    ("\u2028\u2029", "\\u2028\\u2029"),
    ("\u202a\u202b\u202c\u202d\u202e", "\\u202a\\u202b\\u202c\\u202d\\u202e"),
    ("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069"),
    # What is only text stays as it is: accents, other scripts, emoji, a backslash.
    ("Zoë Ñúñez 😀 שלום مرحبا 山田 C:\\x", "Zoë Ñúñez 😀 שלום مرحبا 山田 C:\\x"),
])
def test_shown_escapes_what_a_terminal_acts_on(text, expected):
    assert shown(text) == expected
    assert not RAW.search(shown(text)) and "\n" not in shown(text)


def test_shown_lines_keeps_the_line_breaks_of_a_message():
    assert shown_lines("first\x1b[2J\nsecond\u202e") == "first\\x1b[2J\nsecond\\u202e"


CARDS = {
    "red.vcf": f"UID:red\x1b[2J\r\nFN:{RED}\r\nBDAY:1985-12-04\r\n"
               'NOTE:Interests: sailing\\nreceived: book "Blink\x1b[5m" 2026-11-01',
    "link.vcf": "UID:link\r\nFN:Lin " + LINK.replace("\\", "\\\\")  # vCard escaping
                + "\r\nNOTE:Interests: sailing",
    "sam.vcf": f"UID:sam\r\nFN:{BACKWARDS}\r\nEMAIL:sam\u202e@example.org",
    "fake.vcf": "UID:fake\r\nFN:Fay\\nFAKE LINE\x85NEL\u2028LS\x9b2J",
}


@pytest.fixture
def home(tmp_path):
    contacts = tmp_path / "contacts"
    contacts.mkdir()
    for name, lines in CARDS.items():
        (contacts / name).write_text(f"BEGIN:VCARD\r\nVERSION:3.0\r\n{lines}\r\nEND:VCARD\r\n",
                                     encoding="utf-8")
    (tmp_path / "config.yaml").write_text(local_config("""\
        me:
          interests: [sailing]
        state: state/syncd.sqlite
        """))
    return tmp_path




def assert_safe(result) -> str:
    """No character a terminal acts on in stdout or stderr, and no card's line break turned
    into a line of output; returns stdout."""
    for stream in (result.stdout, result.stderr):
        assert not RAW.search(stream), stream
        assert not any(line.startswith(("FAKE", "NEL", "LS")) for line in stream.splitlines())
    return result.stdout


def test_contacts_table_shows_card_text_escaped(home):
    out = assert_safe(run(home, "contacts"))
    assert "Eve \\x1b[31mRed\\x1b[0m" in out
    assert "Lin \\x1b]8;;https://evil.example/\\x1b\\click me\\x1b]8;;\\x1b\\" in out
    assert "Sam \\u202eregaS" in out
    assert "Fay\\nFAKE LINE\\x85NEL\\u2028LS\\x9b2J" in out
    assert len(out.splitlines()) == 1 + len(CARDS)  # the header, then one line a card


def test_plan_table_shows_card_text_escaped(home):
    out = assert_safe(run(home, "plan", "--today", TODAY))
    assert "Birthday: Eve \\x1b[31mRed\\x1b[0m on December 4" in out
    assert "Get to know Sam \\u202eregaS" in out
    # The SUMMARY column holds the name on one line (its breaks are spaces there).
    assert "Get to know Fay FAKE LINE NEL LS\\x9b2J" in out
    assert len(out.splitlines()) == 1 + len(json.loads(run(home, "plan", "--json", "--today",
                                                           TODAY).stdout))


def test_json_output_stays_exact(home):
    people = {c["uid"]: c for c in json.loads(run(home, "contacts", "--json").stdout)}
    assert people["red\x1b[2J"]["name"] == RED
    assert people["link"]["name"] == f"Lin {LINK}"
    assert people["sam"]["name"] == BACKWARDS and people["sam"]["emails"] == ["sam\u202e@example.org"]
    assert people["fake"]["name"] == "Fay\nFAKE LINE\x85NEL\u2028LS\x9b2J"
    plan = json.loads(run(home, "plan", "--json", "--today", TODAY).stdout)
    assert {f["contact_name"] for f in plan} >= {RED, BACKWARDS}


def test_ideas_balance_log_and_status_show_card_text_escaped(home):
    out = assert_safe(run(home, "ideas", "eve", "--today", TODAY))
    assert out.startswith("Eve \\x1b[31mRed\\x1b[0m: #sailing\n")
    out = assert_safe(run(home, "balance", "--today", TODAY))
    assert "Eve \\x1b[31mRed\\x1b[0m" in out
    out = assert_safe(run(home, "balance", "eve", "--today", TODAY))
    assert out.startswith("Eve \\x1b[31mRed\\x1b[0m: balance 2\n") and "Blink\\x1b[5m" in out
    out = assert_safe(run(home, "log", "gave", "fake", "book", "Nice\x1b[8m"))
    assert "“Nice\\x1b[8m” to Fay\\nFAKE LINE" in out
    run(home, "sync", "--today", TODAY)
    out = assert_safe(run(home, "status", "--today", "2026-11-01"))
    assert "red\\x1b[2J" in out  # the next-due table names the contact by its UID


def test_a_lookup_error_names_the_candidates_escaped(home):
    result = run(home, "ideas", "ake", code=1)
    assert_safe(result)
    assert "Fay\\nFAKE LINE\\x85NEL\\u2028LS\\x9b2J (uid fake)" in result.stderr


def record(msg, *args):
    return logging.LogRecord("syncd.sources.vcard", logging.WARNING, __file__, 1, msg, args, None)


def test_log_lines_show_card_text_escaped():
    formatter = RedactingFormatter("syncd: %(levelname)s: %(message)s")
    line = formatter.format(record("%s:%d: %s %r is not a date; ignored",
                                   "/c/ev\x1b[31mil.vcf", 5, "BDAY", "x\ny\u202e"))
    assert line == ("syncd: WARNING: /c/ev\\x1b[31mil.vcf:5: BDAY 'x\\ny\\u202e' is not a date; "
                    "ignored")
    # A text argument is escaped whole: a name's line break cannot forge a log line.
    assert formatter.format(record("two named %s", "Ann\nsyncd: ERROR: forged")) == (
        "syncd: WARNING: two named Ann\\nsyncd: ERROR: forged")
    # The line breaks syncd writes into its own message are kept; the rest is escaped.
    assert formatter.format(record("invalid:\n%s", ValueError("a\x1b[2J\nb"))) == (
        "syncd: WARNING: invalid:\na\\x1b[2J\nb")
    assert formatter.format(record("%(name)s!", {"name": "\x9b2J"})) == "syncd: WARNING: \\x9b2J!"
    assert formatter.format(record("https://u:secret@h/ \x1b")) == (
        "syncd: WARNING: https://u:********@h/ \\x1b")


def test_a_warning_about_a_file_named_with_an_escape_is_escaped(home):
    """The real CLI in a subprocess: its logging as configured for a person."""
    (home / "contacts" / "ev\x1b[31mil.vcf").write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad\r\nFN:Bad\r\nBDAY:not a date\r\nEND:VCARD\r\n")
    done = subprocess.run([sys.executable, "-m", "syncd", "contacts", "--config",
                           str(home / "config.yaml")], capture_output=True, text=True,
                          timeout=120, env=os.environ)
    assert done.returncode == 0, done.stderr
    assert "ev\\x1b[31mil.vcf:5: BDAY 'not a date' is not a date; ignored" in done.stderr
    assert not RAW.search(done.stderr) and not RAW.search(done.stdout)
    assert "ev\\x1b[31mil.vcf:1" in done.stdout
