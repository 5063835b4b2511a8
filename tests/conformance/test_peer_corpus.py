"""Conformance: syncd's reader on the vCards of ten other projects' test suites
(../shared/corpus/peers, see SOURCES.md there) and on the shared corpus of reported cases
(../shared/corpus/vcards).

1. Every file reads with `parse_checked` without raising, and loses no text: every card that
   is closed (BEGIN ... END) and not a group card is a contact at its BEGIN line, and every
   FN (the first: the name), EMAIL, NOTE (all of them, in order: one note) and CATEGORIES
   value that `raw_cards` finds in it, read without syncd's reader, is in that contact.
   Nested cards (a vCard 2.1 AGENT) are part of their parent by design, and their own values
   are not asked for; group cards (KIND or X-ADDRESSBOOKSERVER-KIND `group`) must not be
   contacts. A card that cannot be read (no END, no BEGIN, cut off) is never dropped
   silently: `parse_checked` reports it (UNREADABLE); nor is a line in a card that is no
   content line (no `:`), which gets a warning naming its line.
2. The values the peers' own tests assert (`peer_values.EXPECTED`) are the values syncd reads,
   except the cases in DIFFERENCES, each with its reason; an entry there is asserted too (syncd
   reads the value it gives), so a fixed case or a stale entry fails.
3. kcontacts: each X.vcf reads the same as kcontacts' own re-export of it, ref/X.vcf.ref.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pytest
from peer_values import EXPECTED, FIELDS, Card
from raw_cards import read_raw, same_text
from shared_corpus import NOT_RUN, PEERS, SHARED, VCARDS

from syncd.model import Contact
from syncd.sources.files import decode
from syncd.sources.vcard import parse_checked

if NOT_RUN:
    pytest.skip(NOT_RUN, allow_module_level=True)

FILES = sorted(PEERS.glob("*/*.vcf")) + sorted(VCARDS.glob("*/*.vcf"))
KCONTACTS_REFS = sorted((PEERS / "kcontacts" / "ref").glob("*.vcf.ref"))

# Files whose cards syncd cannot read, reported by `parse_checked` (and a warning naming the
# line) rather than guessed at: the reader never makes a contact of part of a card.
_SYMLINK = ("khard's symlink into its vcards/ folder, stored as its 20-odd-byte target path: "
            "text outside any card, no card")
UNREADABLE = {
    "peers/evolution-data-server/7.vcf": "no BEGIN:VCARD (e-vcard's hand test of a missing "
                                         "BEGIN): 11 lines outside any card",
    "peers/evolution-data-server/8.vcf": "no END:VCARD (e-vcard's test of a missing END)",
    "peers/evolution-data-server/9.vcf": "cut off in the middle of a line (e-vcard's test of a "
                                         "truncated card)",
    "peers/khard/unparsable.vcf": "no END:VCARD; khard's own test expects 'Component VCARD was "
                                  "never closed'",
    "vcards/khard/vcards__unparsable.vcf": "the same file as peers/khard/unparsable.vcf",
    "vcards/issues/unterminated.vcf": "no END:VCARD, on purpose",
    "vcards/issues/empty-file.vcf": "no bytes at all",
    **{f"vcards/khard/{name}.vcf": _SYMLINK for name in (
        "broken.abook__unparsable", "minimal.abook__minimal", "nick.abook__joe",
        "nick.abook__nickname", "test.abook__contact1", "test.abook__contact2",
        "test.abook__text-bday")},
}


class Differs(NamedTuple):
    syncd: object  # what syncd reads instead of what the peer asserts
    reason: str


# (file, card index, field) → where syncd differs from what the peer's test asserts, and why.
# (file, None, "cards") → syncd reads other cards than the peer: the names it reads.
DIFFERENCES: dict[tuple[str, int | None, str], Differs] = {
    ("android-vcard/v21_backslash.vcf", 0, "name"): Differs(
        "A;BC;D:E\\",
        "AOSP keeps a vCard 2.1 FN's backslashes literally (`A;B\\C\\;D:E\\\\`); syncd reads "
        "RFC 6350 escapes in every version (`\\\\` is one backslash, `\\;` a semicolon, `\\C` "
        "is C), as vobject, sabre/vobject and ez-vcard do for 3.0 and as Android's own 2.1 "
        "exporter writes `\\;`"),
    ("android-vcard/v21_nest.vcf", None, "cards"): Differs(
        ("parent",),
        "AOSP imports each nested 2.1 card as a contact of its own (nest1, nest2, then the "
        "parent); syncd reads a card inside a card (an AGENT) as part of its parent, by design: "
        "the agent is not a person of the address book"),
    ("android-vcard/v21_malformed_photo.vcf", None, "cards"): Differs(
        ("fullname",),
        "AOSP raises a VCardException for the card's broken base64 PHOTO; syncd never decodes "
        "photos and reads the person"),
    ("khard/altid.vcf", 0, "name"): Differs(
        "altid",
        "khard's test asks for N's `given family` (`one representation`, the first of two "
        "ALTID forms of N); syncd's name is FN (`altid`), RFC 6350's formatted name, and N "
        "only for a card without FN"),
    ("node-vcf/vcard-withQuotedPrintableEncoding.js.vcf", 0, "note"): Differs(
        "foobar foobar foobar foobar foobar foobar foobar foobar foobar\n"
        "foobar foobar foobar foobar foobar foobar\nfoobar foobar foobar foobar foobar foobar\n"
        "foobar foobar foobar foobar foobar foobar foobar foobar foobar",
        "node-vcf returns a quoted-printable value still encoded (soft line breaks `=` and "
        "`=0A` kept); syncd decodes it, as vCard 2.1 and every other peer do"),
}


@cache
def read(path: Path) -> tuple[list[Contact], str | None]:
    name = str(path.relative_to(SHARED))
    return parse_checked(decode(path.read_bytes(), name), name)


def lost_text(path: Path, contacts: list[Contact]) -> list[tuple[int, str, str]]:
    """(line, property, value) of every value of the file that no contact holds."""
    raw, _ = read_raw(path)
    by_line = {contact.line: contact for contact in contacts}
    lost: list[tuple[int, str, str]] = []
    for card in raw:
        if not card.closed:
            continue  # reported by parse_checked: see UNREADABLE
        contact = by_line.pop(card.line, None)
        if card.is_group:
            if contact is not None:
                lost.append((card.line, "KIND", "a group card read as a contact"))
            continue
        if contact is None:
            lost.append((card.line, "BEGIN", "no contact for the card"))
            continue
        names = [value for value in card.values["FN"] if value.strip()]
        if names and same_text(names[0]) != same_text(contact.name):
            lost.append((card.line, "FN", names[0]))
        emails = {same_text(email) for email in contact.emails}
        lost += [(card.line, "EMAIL", value) for value in card.values["EMAIL"]
                 if value.strip() and same_text(value) not in emails]
        notes = card.values["NOTE"]  # one note per contact: the card's NOTEs in their order
        if same_text("".join(notes)) != same_text(contact.note):
            lost += [(card.line, "NOTE", value) for value in notes] or [(card.line, "NOTE", "")]
        categories = {same_text(category) for category in contact.categories}
        lost += [(card.line, "CATEGORIES", value) for value in card.values["CATEGORIES"]
                 if same_text(value) not in categories]
    lost += [(line, "BEGIN", "a contact where the file has no card") for line in by_line]
    return lost


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(SHARED)))
def test_every_file_reads_and_loses_no_text(path, caplog):
    with caplog.at_level(logging.WARNING):
        contacts, problem = read.__wrapped__(path)  # uncached: its warnings are logged here
    name = str(path.relative_to(SHARED))
    assert lost_text(path, contacts) == []
    # A line inside a card that is no content line (no ':') is skipped, never silently.
    warned = "\n".join(record.getMessage() for record in caplog.records)
    assert [line for card in read_raw(path)[0] if card.closed for line in card.no_colon
            if f"{name}:{line}: line with no ':' skipped" not in warned] == []
    if name in UNREADABLE:
        assert problem is not None and problem.startswith(name), UNREADABLE[name]
        if path.stat().st_size:
            assert caplog.records, "an unreadable card is warned about, with its line"
    else:
        assert problem is None


def syncd_value(contact: Contact, field: str, wanted: object) -> object:
    value = getattr(contact, field)
    if field in ("birthday", "anniversary"):
        return value.iso() if value is not None else None
    if isinstance(wanted, frozenset):
        return frozenset(value)
    return value


def peer_value(card: Card, field: str) -> object:
    value = getattr(card, field)
    if field == "name":
        return value.strip()
    if field == "emails" and not isinstance(value, frozenset):
        return tuple(email.strip() for email in value)
    if field == "note":
        return value.replace("\r\n", "\n")
    return value


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_values_the_peers_tests_assert(name):
    contacts, _ = read(PEERS / name)
    expected = EXPECTED[name]
    differs = DIFFERENCES.get((name, None, "cards"))
    if differs is not None:
        assert tuple(contact.name for contact in contacts) == differs.syncd, differs.reason
        assert len(contacts) != len(expected), f"fixed? {differs.reason}"
        return
    assert len(contacts) == len(expected)
    for index, (contact, card) in enumerate(zip(contacts, expected)):
        for field in FIELDS:
            if getattr(card, field) is None:
                continue  # not asserted by the peer
            wanted = peer_value(card, field)
            got = syncd_value(contact, field, wanted)
            differs = DIFFERENCES.get((name, index, field))
            if differs is None:
                assert got == wanted, f"card {index}, {field}"
            else:
                assert got == differs.syncd and got != wanted, f"card {index}, {field}: fixed?"


def test_every_difference_is_of_a_value_a_peer_asserts():
    for name, index, field in DIFFERENCES:
        assert name in EXPECTED
        if index is not None:
            assert getattr(EXPECTED[name][index], field) is not None


def view(contact: Contact) -> tuple[object, ...]:
    return tuple(syncd_value(contact, field, None) for field in FIELDS)


@pytest.mark.parametrize("ref", KCONTACTS_REFS, ids=lambda path: path.name)
def test_kcontacts_cards_read_as_kcontacts_re_exports_them(ref):
    """kcontacts' testroundtrip.cpp parses X.vcf and compares its export with X.vcf.ref: the
    reference, in plain UTF-8 vCard 3.0, is what kcontacts read."""
    contacts, problem = read(ref.parent.parent / ref.name.removesuffix(".ref"))
    reference, reference_problem = read(ref)
    assert (problem, reference_problem) == (None, None)
    assert [view(contact) for contact in contacts] == [view(contact) for contact in reference]


def test_the_whole_corpus_in_figures():
    """All of it: 203 peer files (223 BEGIN:VCARD lines: 219 cards and 4 nested in them; 215
    contacts, as one is a group card and three are never closed) and 56 files of
    ../shared/corpus/vcards; no crash (the reads above), no lost text."""
    peers = [path for path in FILES if path.is_relative_to(PEERS)]
    contacts = {path: read(path)[0] for path in FILES}
    raw = {path: read_raw(path)[0] for path in FILES}
    assert (len(peers), len(FILES) - len(peers)) == (203, 56)
    assert sum(len(raw[path]) for path in peers) == 219
    assert sum(len(contacts[path]) for path in peers) == 215
    assert sum(len(contacts[path]) for path in FILES) == 261
    assert [lost for path in FILES for lost in lost_text(path, contacts[path])] == []
