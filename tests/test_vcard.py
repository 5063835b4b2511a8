"""The vCard reader (pure text in, Contacts out). File handling is in test_file_sources.py."""

import logging
from pathlib import Path

import pytest

from syncd.model import PartialDate
from syncd.sources.vcard import parse_cards, parse_checked, parse_property, split_cards

CORPUS = Path(__file__).parent / "corpus" / "vcards"
SRC = "book.vcf"


def card(*lines, version="3.0"):
    return "\r\n".join(["BEGIN:VCARD", f"VERSION:{version}", "UID:u1", *lines, "END:VCARD"]) + "\r\n"


def one(text, source=SRC):
    [contact] = parse_cards(text, source)
    return contact


def warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_unescaped_commas_in_note_are_kept():
    assert one(card("FN:X", "NOTE:Interests: sailing, leadership")).note == "Interests: sailing, leadership"


def test_unescaped_comma_in_fn_is_kept():
    assert one(card("FN:Rossi, Mario")).name == "Rossi, Mario"


def test_url_with_comma_is_not_truncated():
    [raw] = split_cards(card("FN:X", "URL:https://example.org/?a=1,2"), SRC)
    [url] = raw.properties(SRC, {"URL"})
    assert url.text() == "https://example.org/?a=1,2"
    assert parse_property("URL:https://x/?a=1,2").text() == "https://x/?a=1,2"


def test_escaped_comma_and_newline():
    contact = one(card(r"FN:Rossi\, Mario", r"NOTE:first\, line\nsecond\Nthird\;\\ \q"))
    assert contact.name == "Rossi, Mario"
    assert contact.note == "first, line\nsecond\nthird;\\ q"


def test_folded_long_note_lines():
    text = card(
        "FN:X",
        "NOTE:Met at the sailing club in Bologna; talks about boats, books and the hi",
        " story of science. Interests: sailing, leaders",
        "\thip",
    )
    assert one(text).note == (
        "Met at the sailing club in Bologna; talks about boats, books and the history of "
        "science. Interests: sailing, leadership"
    )


def test_grouped_properties():
    text = card("FN:X", "item1.EMAIL;type=INTERNET:one@example.org", "item1.X-ABLabel:work",
                "EMAIL:two@example.org")
    assert one(text).emails == ("one@example.org", "two@example.org")
    prop = parse_property("item1.EMAIL;type=INTERNET,pref:one@example.org", 7)
    assert (prop.group, prop.name, prop.params, prop.line) == (
        "item1", "EMAIL", {"TYPE": ("INTERNET", "pref")}, 7)


def test_parameters_quotes_and_bare_21_params():
    prop = parse_property('x-Label;LABEL="a:b;c";TYPE=work:value: with colon')
    assert (prop.name, prop.params, prop.value) == ("X-LABEL", {"LABEL": ("a:b;c",), "TYPE": ("work",)},
                                                    "value: with colon")
    assert parse_property("TEL;CELL;VOICE:+39 333").params == {"TYPE": ("CELL", "VOICE")}
    assert parse_property("X-MESSAGING/XMPP-ALL:a@b").name == "X-MESSAGING/XMPP-ALL"
    assert parse_property("no colon here") is None


def test_structured_and_list_values():
    adr = parse_property(r"ADR;TYPE=HOME:;;Via Roma 1, scala B;Bologna;;40100;Italia\;EU")
    assert adr.components() == ["", "", "Via Roma 1, scala B", "Bologna", "", "40100", "Italia;EU"]
    assert parse_property(r"NICKNAME:Mike,Mick\,y").values() == ["Mike", "Mick,y"]
    text = card("FN:X", "CATEGORIES:friends, sailing,,work", "CATEGORIES:work,chess")
    assert one(text).categories == ("friends", "sailing", "work", "chess")


def test_name_falls_back_to_n_then_email_never_the_uid():
    assert one(card("N:Rossi;Mario;;;")).name == "Mario Rossi"
    assert one(card("EMAIL:m@example.org")).name == "m@example.org"
    assert one(card()).name == ""


def test_interests_languages_and_anniversary():
    text = card("FN:X", "INTEREST;LEVEL=high:rock climbing", "HOBBY:photography", "LANG:en",
                "EXPERTISE:negotiation", "LANG;PREF=2:fr", "LANG;PREF=1:it",
                "X-ANNIVERSARY:2010-06-12", version="4.0")
    contact = one(text)
    assert contact.declared_interests == ("rock climbing", "photography", "negotiation")
    assert contact.languages == ("it", "fr", "en")
    assert contact.anniversary == PartialDate(6, 12, 2010)
    assert contact.interests == ()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("BDAY:1980-04-15", PartialDate(4, 15, 1980)),
        ("BDAY:19800415", PartialDate(4, 15, 1980)),
        ("BDAY:--0415", PartialDate(4, 15)),
        ("BDAY:--04-15", PartialDate(4, 15)),
        ("BDAY:1980-04-15T10:00:00Z", PartialDate(4, 15, 1980)),
        ("BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15", PartialDate(4, 15)),
        ("BDAY:1988-02-29", PartialDate(2, 29, 1988)),
        ("BDAY:09000101", PartialDate(1, 1, 900)),
        ("BDAY;VALUE=text:circa 1800", None),
        ("BDAY:", None),
    ],
)
def test_birthday_forms(caplog, line, expected):
    assert one(card("FN:X", line)).birthday == expected
    assert warnings(caplog) == []


@pytest.mark.parametrize("value", ["19020229", "19879215", "Jan 1, 1970", "yasfewf"])
def test_invalid_birthday_is_none_with_a_warning(caplog, value):
    assert one(card("FN:X", f"BDAY:{value}")).birthday is None
    [message] = warnings(caplog)
    assert message.startswith(f"{SRC}:5: BDAY {value!r}")  # line 5: after BEGIN, VERSION, UID, FN


def test_v21_quoted_printable_note_from_corpus():
    text = (CORPUS / "issues" / "v21-quoted-printable.vcf").read_text(encoding="utf-8")
    contact = one(text)
    assert contact.name == "Laura Bianchi"
    assert contact.note == "Ama la vela e la storia. Interessi: vela, lettura, leadership \u2014 #sailing"


def test_quoted_printable_charset_and_bare_param():
    text = "\r\n".join([
        "BEGIN:VCARD", "VERSION:2.1", "FN;CHARSET=ISO-8859-1;QUOTED-PRINTABLE:Niccol=F2 Forl=EC",
        "NOTE;ENCODING=QUOTED-PRINTABLE:bad =FF utf-8 and a =", "soft break", "END:VCARD", ""])
    contact = one(text)
    assert contact.name == "Niccolò Forlì"
    assert contact.note == "bad ÿ utf-8 and a soft break"


def test_v4_data_uri_photo_does_not_disturb_other_fields():
    photo = ("PHOTO:data:image/jpeg;base64,/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQ"
             "QEBQoHBwYIDAoMDAsK")
    lines = [photo[i:i + 75] for i in range(0, len(photo), 75)]
    text = card("FN:Photo, Person", lines[0], *(" " + line for line in lines[1:]),
                "EMAIL:p@example.org", "BDAY:--0229", "NOTE:after, the photo", version="4.0")
    contact = one(text)
    assert (contact.name, contact.emails, contact.birthday, contact.note) == (
        "Photo, Person", ("p@example.org",), PartialDate(2, 29), "after, the photo")
    [raw] = split_cards(text, SRC)
    [prop] = raw.properties(SRC, {"PHOTO"})
    assert prop.value == photo.removeprefix("PHOTO:")


def test_broken_cards_in_the_middle_are_skipped_with_a_warning(caplog):
    text = (
        card("FN:First").replace("UID:u1", "UID:a")
        + card("FN:Second", "this line has no colon", "NOTE:kept").replace("UID:u1", "UID:b")
        + "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c\r\nFN:Never closed\r\n"
        + card("FN:Fourth").replace("UID:u1", "UID:d")
    )
    contacts = parse_cards(text, SRC)
    assert [(c.uid, c.name, c.line) for c in contacts] == [
        ("a", "First", 1), ("b", "Second", 6), ("d", "Fourth", 17)]
    assert contacts[1].note == "kept"
    assert warnings(caplog) == [
        f"{SRC}:10: line with no ':' skipped: 'this line has no colon'",
        f"{SRC}:13: card has no END:VCARD before the BEGIN:VCARD at line 17; skipped",
    ]


def test_unterminated_last_card_and_text_outside_cards(caplog):
    text = "garbage\n\n" + card("FN:Only") + "\n\nmore garbage\nBEGIN:VCARD\nFN:Open\n"
    assert [c.name for c in parse_cards(text, SRC)] == ["Only"]
    assert warnings(caplog) == [
        f"{SRC}:1: 1 line outside BEGIN:VCARD ... END:VCARD ignored",
        f"{SRC}:10: 1 line outside BEGIN:VCARD ... END:VCARD ignored",
        f"{SRC}:11: card has no END:VCARD before the end of the text; skipped",
    ]


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_line_endings_and_bom(newline):
    text = "\ufeff" + newline.join(["BEGIN:VCARD", "FN:A", "NOTE:long", " er", "END:VCARD",
                                    "BEGIN:VCARD", "BDAY:19020229", "FN:B", "END:VCARD", ""])
    contacts = parse_cards(text, SRC)
    assert [(c.name, c.line, c.note) for c in contacts] == [("A", 1, "longer"), ("B", 6, "")]


def test_uid_less_card_gets_a_stable_id_that_survives_note_edits_and_moves():
    first = one(card("FN:No Uid", "NOTE:#photography").replace("UID:u1\r\n", ""))
    again = one(card("FN:No Uid", "NOTE:#photography").replace("UID:u1\r\n", ""))
    edited = one(card("FN:No Uid", "NOTE:#sailing now").replace("UID:u1\r\n", ""))
    elsewhere = one(card("FN:No Uid").replace("UID:u1\r\n", ""), source="other.vcf")
    other = one(card("FN:Another").replace("UID:u1\r\n", ""))
    assert first.uid.startswith("syncd-") and len(first.uid) == 22
    assert first.uid == again.uid == edited.uid == elsewhere.uid != other.uid  # tests/test_identity.py


# -- a card inside a card: vCard 2.1 AGENT and phones' nested cards --------------------------------

PEERS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "peers"

AGENT_21 = "\r\n".join([
    "BEGIN:VCARD",  # 1
    "VERSION:2.1",
    "N:Doe;John",
    "AGENT:",  # 2.1 puts the agent's card on the next lines, not folded
    "BEGIN:VCARD",  # 5
    "VERSION:2.1",
    "FN:Agent 007",
    "EMAIL;INTERNET:007@example.org",
    "AGENT:",
    "BEGIN:VCARD",  # 10
    "FN:Agent 009",
    "END:VCARD",
    "END:VCARD",
    "FN:John Doe",
    "EMAIL;INTERNET:john@example.org",  # 15
    "this line has no colon",
    "NOTE:#sailing",
    "END:VCARD",
    "BEGIN:VCARD",  # 19
    "VERSION:2.1",
    "FN:After",
    "END:VCARD",
    "",
])


def test_a_v21_agent_card_is_part_of_its_parent(caplog):
    unread = []
    contacts = parse_cards(AGENT_21, SRC, unread)
    assert [(c.name, c.line, c.emails, c.note) for c in contacts] == [
        ("John Doe", 1, ("john@example.org",), "#sailing"), ("After", 19, (), "")]
    # the nested lines are blanked line for line: the warning still names line 16
    assert warnings(caplog) == [f"{SRC}:16: line with no ':' skipped: 'this line has no colon'"]
    assert unread == []


def test_a_card_without_end_is_not_taken_for_a_parent(caplog):
    text = "BEGIN:VCARD\r\nUID:open\r\nFN:Never closed\r\n" + AGENT_21  # lines 1-3, then 4-
    unread = []
    contacts = parse_cards(text, SRC, unread)
    assert [(c.name, c.line) for c in contacts] == [("John Doe", 4), ("After", 22)]
    assert warnings(caplog)[0] == (
        f"{SRC}:1: card has no END:VCARD before the BEGIN:VCARD at line 4; skipped")
    assert unread == [1]


@pytest.mark.parametrize(("text", "problem"), [
    (AGENT_21, None),
    (card("FN:A") + "BEGIN:VCARD\r\nFN:B\r\n", "book.vcf: 1 of its 2 cards could not be read"),
    (card("FN:A") + "BEGIN:VCARD;X\r\nFN:B\r\nEND:VCARD\r\n",  # a mangled BEGIN line
     "book.vcf: 1 of its 2 cards could not be read"),
    (card("FN:A") + "FN:B\r\nEND:VCARD\r\n", "book.vcf: 1 of its 2 cards could not be read"),
    (card("FN:A") + "END:VCARD\r\n", None),  # a stray END:VCARD alone lost no card
    (card("FN:A", "AGENT:BEGIN:VCARD\\nFN:Agent\\nEND:VCARD"), None),  # 3.0: an escaped value
    ("no card here\r\n", "book.vcf: holds no readable card"),
], ids=["agent", "unterminated", "mangled-begin", "lost-begin", "stray-end", "agent-3.0", "none"])
def test_parse_checked_names_what_could_not_be_read(text, problem):
    assert parse_checked(text, SRC)[1] == problem


@pytest.mark.parametrize(("name", "expected"), [
    ("ez-vcard/VCardReaderTest.java__nested_vcard_v2.1.vcf", "John Doe"),
    ("ez-vcard/VCardReaderTest.java__embedded_vcard_v3.0.vcf", "John Doe"),
    ("android-vcard/v21_nest.vcf", "parent"),
])
def test_nested_cards_of_other_readers_test_suites(name, expected):
    assert PEERS.is_dir(), f"the shared corpus of other readers' test cards is missing: {PEERS}"
    text = (PEERS / name).read_text(encoding="utf-8")
    assert text.upper().count("BEGIN:VCARD") >= 2  # really a card holding another
    contacts, problem = parse_checked(text, name)
    assert ([c.name for c in contacts], problem) == ([expected], None)
