"""Contacts keep who they are (issue 15 item 5): a card without UID has an id from the person, not
from the file, and a ledger whose contact's id changed is found again. The rules on values first,
then real syncs of a real .vcf export to a real calendar folder through the `syncd` command."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import textwrap

import pytest
from sync_support import run_cli

from syncd.identity import (
    NO_DETAILS, Known, derived_uid, legacy_uids, name_key, phone_key, relinks,
)
from syncd.ledger import Ledger
from syncd.model import Contact, followup_uid
from syncd.sources import dedupe
from syncd.sources.vcard import parse_cards
from syncd.state import State

TODAY = "2026-11-30"


def person(uid, name, emails=(), phones=(), details=""):
    return Contact(uid, name, "book.vcf", emails=tuple(emails), phones=tuple(phones),
                   details=details)


# -- the id of a card without UID ------------------------------------------------------------------


def test_a_name_is_the_same_name_whatever_its_case_accents_punctuation_or_word_order():
    assert name_key("Rossi, María-Luisa") == name_key("maria luisa rossi") == "luisa maria rossi"
    assert name_key("Maria Rossi") != name_key("Mario Rossi")


def test_the_id_comes_from_the_name_and_the_first_email_else_the_first_phone():
    base = derived_uid("Maria Rossi", ["Maria@Example.org"], ["+39 333 1234567"])
    assert base == derived_uid("rossi maria", ["mailto:maria@example.org"], [])
    assert base != derived_uid("Maria Rossi", ["other@example.org"], [])
    by_phone = derived_uid("Maria Rossi", [], ["+39 333 1234567"])
    assert by_phone == derived_uid("Maria Rossi", [], ["0039 333-123-4567"]) != base
    assert phone_key("333 123 4567") == phone_key("+39 3331234567") == "331234567"
    assert derived_uid("Maria Rossi", [], []) not in (base, by_phone)


def card(*lines):
    return "BEGIN:VCARD\r\nVERSION:3.0\r\n" + "".join(f"{line}\r\n" for line in lines) + "END:VCARD\r\n"


def test_a_card_without_uid_has_the_same_id_in_any_file_and_after_a_note_edit():
    first = parse_cards(card("FN:Maria Rossi", "EMAIL:maria@example.org", "NOTE:#sailing"),
                        "Downloads/contacts.vcf")
    again = parse_cards(card("N:Rossi;Maria", "FN:Maria  Rossi", "EMAIL:MARIA@example.org",
                             "NOTE:#vela #cucina", "REV:20261201T000000Z"), "backup/all.vcf")
    assert first[0].uid == again[0].uid == derived_uid("Maria Rossi", ["maria@example.org"], [])
    assert first[0].details and not parse_cards(card("UID:u1", "FN:A"), "x.vcf")[0].details


def test_two_people_of_one_name_with_no_email_or_phone_keep_two_ids_whatever_their_order(caplog):
    anna_milan = card("FN:Anna Neri", "ORG:Politecnico", "NOTE:#chess")
    anna_rome = card("FN:Anna Neri", "ADR:;;Via Appia 1;Roma;;;IT")
    with caplog.at_level(logging.WARNING):
        one_way = dedupe(parse_cards(anna_milan + anna_rome, "book.vcf"))
        other_way = dedupe(parse_cards(anna_rome + anna_milan, "book.vcf"))
    assert len({c.uid for c in one_way}) == 2
    assert {c.note: c.uid for c in one_way} == {c.note: c.uid for c in other_way}
    assert ("book.vcf:1, book.vcf:7: 2 cards named 'Anna Neri' with no UID, email or phone; told "
            "apart by their other details") in caplog.text
    # Exactly alike but for their note: by order, and the warning says so.
    twins = dedupe(parse_cards(card("FN:Twin", "NOTE:a") + card("FN:Twin", "NOTE:b"), "book.vcf"))
    assert twins[1].uid == twins[0].uid + "-2"
    assert "details and by order only" in caplog.text


def test_the_same_person_twice_without_uid_is_read_once(caplog):
    text = card("FN:Maria Rossi", "EMAIL:m@example.org") + card("FN:Rossi Maria", "EMAIL:m@example.org")
    assert len(dedupe(parse_cards(text, "book.vcf"))) == 1
    assert "book.vcf:6: the same person as book.vcf:1 (same name and email or phone" in caplog.text


def test_the_ids_of_before_are_known_for_the_upgrade():
    contacts = [person("n1", "Twin", details="d1"), person("n2", "Twin", details="d2"),
                person("with-uid", "Other")]
    old = "syncd-" + hashlib.sha1(b"book.vcf\0Twin").hexdigest()[:16]
    assert legacy_uids(contacts) == {old: "n1", f"{old}-2": "n2"}


# -- relinking rows whose contact's id changed -----------------------------------------------------


def test_an_orphan_is_relinked_by_email_then_phone_then_name_then_a_close_name():
    orphans = {
        "old-1": Known("Maria Rossi", ("maria@example.org",)),
        "old-2": Known("Paolo Verdi", (), ("+39 333 1234567",)),
        "old-3": Known("Luca Bianchi"),
        "old-4": Known("Giulia Ferraris", details="org-d"),  # fixed to "Giulia Ferrari"
        "old-5": Known("Nobody Known"),
        "old-6": None,  # rows of before the state file remembered people
    }
    newcomers = [person("new-1", "M. Rossi", ["MARIA@example.org"]),
                 person("new-2", "Paolo", phones=["333-123-4567"]),
                 person("new-3", "Bianchi, Luca"), person("new-4", "Giulia Ferrari", details="org-d"),
                 person("new-5", "Someone Else")]
    found = {r.old: (r.new.uid, r.why) for r in relinks(orphans, newcomers)}
    assert found == {"old-1": ("new-1", "same email maria@example.org"),
                     "old-2": ("new-2", "same phone 331234567"),
                     "old-3": ("new-3", "same name"),
                     "old-4": ("new-4", "a close name (Giulia Ferraris)")}


def test_a_close_name_relinks_only_a_card_without_uid_of_the_same_details_gone_lately():
    fixed = [person("new", "Giulia Ferrari", details="org-d")]
    def gone(name, seen, details="org-d"):
        return relinks({"old": Known(name, seen=seen, details=details)}, fixed, since="2026-11-16")
    assert [r.new.uid for r in gone("Giulia Ferraris", "2026-11-20")] == ["new"]
    assert [r.new.uid for r in gone("Giulia Ferrari", "2026-03-01")] == ["new"]  # the same name
    assert gone("Giulia Ferraris", "2026-03-01") == []  # removed long ago
    assert gone("Giulia Ferraris", "2026-11-20", details="other") == []
    # Cards with no details at all (or a UID): "Newcomer 12" is not "Newcomer 13" fixed.
    bare = [person("n13", "Newcomer 0 13", details=NO_DETAILS)]
    assert relinks({"n12": Known("Newcomer 0 12", details=NO_DETAILS)}, bare) == []
    assert relinks({"n12": Known("Newcomer 0 12")}, [person("n13", "Newcomer 0 13")]) == []


def test_an_orphan_that_two_could_be_is_not_relinked():
    two_cards = relinks({"old": Known("Anna Neri")},
                        [person("a", "Anna Neri"), person("b", "Anna Neri")])
    two_orphans = relinks({"old-a": Known("Anna Neri"), "old-b": Known("Anna Neri")},
                          [person("a", "Anna Neri")])
    assert two_cards == two_orphans == []
    # Their details tell them apart: each finds its own.
    told = relinks({"old-a": Known("Anna Neri", details="d1"), "old-b": Known("Anna Neri", details="d2")},
                   [person("b", "Anna Neri", details="d2"), person("a", "Anna Neri", details="d1")])
    assert {r.old: r.new.uid for r in told} == {"old-a": "a", "old-b": "b"}


# -- end to end: an export renamed, moved, re-imported, a name fixed -------------------------------


MARIA = ["FN:Maria Rosi", "EMAIL:maria@example.org", "NOTE:#sailing"]
PAOLO = ["FN:Paolo Bianci", "ORG:Cantiere Navale", "NOTE:#chess"]


@pytest.fixture
def home(tmp_path):
    (tmp_path / "Downloads").mkdir()
    (tmp_path / "Downloads" / "contacts.vcf").write_text(card(*MARIA) + card(*PAOLO))
    _configure(tmp_path, "Downloads/contacts.vcf")
    return tmp_path


def _configure(home, path):
    (home / "config.yaml").write_text(textwrap.dedent(f"""\
        contacts: [{{type: vcf, path: {path}}}]
        calendar: {{type: local, path: calendar}}
        me: {{interests: [sailing]}}
        state: state.sqlite
        """))


def _sync(home):
    return run_cli(home, "sync", "--today", TODAY).output


def _calendar(home):
    return sorted(path.name for path in (home / "calendar").glob("*.ics"))


def _balance(home):
    return {row["name"]: row["balance"] for row in
            json.loads(run_cli(home, "balance", "--json", "--today", TODAY).output)}


def test_a_renamed_and_moved_export_keeps_every_ledger_and_follow_up(home):
    run_cli(home, "log", "received", "Maria Rosi", "book", "Moby Dick", "--date", "2026-11-20", "--weight", "1")
    run_cli(home, "log", "received", "Paolo Bianci", "gift", "Wine", "--date", "2026-11-21", "--weight", "1")
    assert "2 created" in _sync(home)
    before = _calendar(home)
    (home / "Archive").mkdir()
    shutil.move(home / "Downloads" / "contacts.vcf", home / "Archive" / "rubrica-2026.vcf")
    _configure(home, "Archive/rubrica-2026.vcf")
    assert _sync(home).startswith("0 created, 0 updated, 0 deleted")
    assert _calendar(home) == before
    assert _balance(home) == {"Maria Rosi": 1.0, "Paolo Bianci": 1.0}


def test_a_name_fixed_or_a_re_import_with_new_uids_relinks_the_ledger(home, caplog):
    run_cli(home, "log", "received", "Maria Rosi", "book", "Moby Dick", "--date", "2026-11-20", "--weight", "1")
    run_cli(home, "log", "gave", "Paolo Bianci", "book", "Chess Story", "--date", "2026-11-21", "--weight", "1")
    _sync(home)
    before = _calendar(home)
    # Both names fixed; then a phone app re-imports Maria with a UID of its own.
    fixed = [line.replace("Rosi", "Rossi").replace("Bianci", "Bianchi") for line in MARIA + PAOLO]
    (home / "Downloads" / "contacts.vcf").write_text(card(*fixed[:3]) + card(*fixed[3:]))
    with caplog.at_level(logging.WARNING):
        output = _sync(home)
    assert output.startswith("0 created, 1 updated, 0 deleted")  # the new name in its summary
    assert _calendar(home) == before  # the same objects
    assert re.search(r"contacts.vcf:1: the ledger of id syncd-\w+ is now Maria Rossi's \(id "
                     r"syncd-\w+\), by same email maria@example.org: 1 exchanges, 1 written",
                     caplog.text), caplog.text
    assert "is now Paolo Bianchi's" in caplog.text and "by a close name (Paolo Bianci)" in caplog.text
    assert _balance(home) == {"Maria Rossi": 1.0, "Paolo Bianchi": -1.0}
    (home / "Downloads" / "contacts.vcf").write_text(card("UID:phone-42", *fixed[:3])
                                                      + card(*fixed[3:]))
    # The same object, rewritten once for the contact id it names (X-SYNCD-CONTACT).
    assert _sync(home).startswith("0 created, 1 updated, 0 deleted")
    assert "X-SYNCD-CONTACT:phone-42" in (home / "calendar" / before[0]).read_text()
    assert _calendar(home) == before
    assert _balance(home) == {"Maria Rossi": 1.0, "Paolo Bianchi": -1.0}


def test_a_half_read_address_book_relinks_nothing(home):
    run_cli(home, "log", "received", "Maria Rosi", "book", "Moby Dick", "--date", "2026-11-20", "--weight", "1")
    _sync(home)
    # The name fixed, and a card cut short by an export not finished: nothing is decided.
    (home / "Downloads" / "contacts.vcf").write_text(
        card("FN:Maria Rossi", "EMAIL:maria@example.org") + "BEGIN:VCARD\r\nFN:Cut")
    _sync(home)
    with State(home / "state.sqlite") as state:
        assert Ledger(state).owners() & {c.uid for c in parse_cards(card(*MARIA), "x")}


def test_balance_lists_rows_of_no_contact_and_ledger_relink_gives_them_to_one(home):
    run_cli(home, "log", "received", "Paolo Bianci", "gift", "Wine", "--date", "2026-11-21", "--weight", "1")
    _sync(home)
    # Paolo's card now has another name and details: nothing tells that it is him.
    (home / "Downloads" / "contacts.vcf").write_text(card(*MARIA) + card("FN:Paul White"))
    _sync(home)
    rows = json.loads(run_cli(home, "balance", "--json", "--today", TODAY).output)
    [orphan] = [row for row in rows if row.get("unmatched")]
    assert (orphan["name"], orphan["balance"]) == ("Paolo Bianci", 1.0)
    text = run_cli(home, "balance", "--today", TODAY).output
    assert "1 in the ledger match no contact" in text and orphan["uid"] in text
    failed = run_cli(home, "ledger", "relink", "syncd-nothing", "Paul White", code=1)
    assert "no ledger rows under the id syncd-nothing" in failed.output
    said = run_cli(home, "ledger", "relink", orphan["uid"], "Paul White").output
    assert said.startswith(f"relinked: 1 exchanges, 3 proposals of {orphan['uid']} to Paul White")
    assert _balance(home) == {"Paul White": 1.0}
    # The give-back that went when Paolo's card seemed gone is back, under its first UID; his
    # "get to know" gives way to it (he is known now).
    before = _calendar(home)
    assert _sync(home).startswith("1 created, 0 updated, 1 deleted")
    [new] = set(_calendar(home)) - set(before)
    assert "SUMMARY:Give back to Paul White" in (home / "calendar" / new).read_text()
    with State(home / "state.sqlite") as state:
        [written] = [w for w in state.written().values() if w.contact_uid != orphan["uid"]
                     and w.reason == "give-back"]
        assert written.uid == followup_uid(orphan["uid"], "give-back", written.cycle)


def test_a_state_file_of_before_keeps_its_ledger_on_upgrade(home):
    """Before state schema 8 a card without UID had an id from the file and the name; such a state file's
    rows and follow-ups are the same person's after the upgrade."""
    source = str(home / "Downloads" / "contacts.vcf")
    old = "syncd-" + hashlib.sha1(f"{source}\0Maria Rosi".encode()).hexdigest()[:16]
    run_cli(home, "contacts")  # the state file does not exist yet
    with State(home / "state.sqlite") as state:
        with state.transaction() as db:
            db.execute("INSERT INTO exchanges (contact_uid, direction, kind, item, item_key, date,"
                       " weight, source) VALUES (?, 'received', 'book', 'Dune', 'dune',"
                       " '2026-11-20', 1, 'cli')", (old,))
            db.execute("DELETE FROM people")
    output = _sync(home)
    assert output.startswith("2 created")
    with State(home / "state.sqlite") as state:
        [written] = [w for w in state.written().values() if w.reason == "give-back"]
        assert written.uid == followup_uid(old, "give-back", written.cycle)  # keyed as before
    assert _balance(home)["Maria Rosi"] == 1.0
