"""The vCard reader on cards as exporters write them (issue 15): CHARSET on 8-bit and
quoted-printable values, grouped BEGIN/END, iOS CR CR LF line ends, vendor anniversaries,
group cards, name fallbacks and phone numbers. Small hand-made cards, given as the bytes a
file holds and read as a file is (`files.decode`, then the reader)."""

import logging

import pytest

from syncd.model import PartialDate
from syncd.sources.files import decode
from syncd.sources.vcard import parse_cards, parse_checked

SRC = "book.vcf"


def card(*lines, version="3.0", uid="u1"):
    head = ["BEGIN:VCARD", f"VERSION:{version}"] + ([f"UID:{uid}"] if uid else [])
    return "\r\n".join([*head, *lines, "END:VCARD"]) + "\r\n"


def read(data, source=SRC):
    """The contacts of a file holding `data` (bytes, or text written as UTF-8)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return parse_cards(decode(data, source), source)


def one(data):
    [contact] = read(data)
    return contact


def warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def bytes_card(*lines: bytes, version=b"2.1"):
    return b"\r\n".join([b"BEGIN:VCARD", b"VERSION:" + version, b"UID:u1", *lines,
                         b"END:VCARD", b""])


# -- CHARSET --------------------------------------------------------------------------------------

def test_shift_jis_8bit_values_with_a_0x5c_second_byte(caplog):
    # 能 is 0x94 0x5C and ソ 0x83 0x5C in Shift_JIS: that 0x5C is no backslash escape, nor
    # does it escape the `;` after it in N.
    name = "伊能 ソニー".encode("shift_jis")
    assert b"\x5c" in name
    data = bytes_card(b"FN;CHARSET=SHIFT_JIS:" + name,
                      b"N;CHARSET=SHIFT_JIS:" + "伊能".encode("shift_jis") + b";"
                      + "ソニー".encode("shift_jis") + b";;;",
                      b"NOTE;CHARSET=SHIFT_JIS:" + "メモ\\nです".encode("shift_jis"))
    contact = one(data)
    assert (contact.name, contact.note) == ("伊能 ソニー", "メモ\nです")
    assert warnings(caplog) == []


def test_shift_jis_quoted_printable_and_n_from_it():
    encoded = "".join(f"={b:02X}" for b in "安藤".encode("shift_jis"))
    data = bytes_card(f"N;CHARSET=SHIFT_JIS;ENCODING=QUOTED-PRINTABLE:{encoded};Ro;;;".encode())
    assert one(data).name == "Ro 安藤"


def test_windows_1252_euro_and_latin1_umlaut(caplog):
    data = (bytes_card(b"FN;CHARSET=Windows-1252:Euro \x80", version=b"3.0")
            + bytes_card(b"FN;CHARSET=iso-8859-1:umlaut u - \xfc").replace(b"u1", b"u2"))
    assert [c.name for c in read(data)] == ["Euro €", "umlaut u - ü"]
    assert warnings(caplog) == []


@pytest.mark.parametrize(("charset", "text"), [
    ("ISO-8859-2", "Łódź Gdańsk"), ("windows-1251", "Привет"), ("KOI8-R", "Привет"),
    ("EUC-JP", "東京都"), ("GB2312", "北京市"), ("GBK", "北京市"), ("Big5", "臺北市"),
    ("ISO-8859-15", "€uro"),
])
def test_other_text_charsets_exporters_write(charset, text, caplog):
    data = bytes_card(f"FN;CHARSET={charset}:".encode() + text.encode(charset))
    assert one(data).name == text
    assert warnings(caplog) == []


def test_a_utf8_file_labelled_otherwise_stays_utf8():
    # every byte is UTF-8: the label is wrong, as the bytes show (CardDAV text is decoded too)
    assert one(card("FN;CHARSET=ISO-8859-1:Müller")).name == "Müller"


@pytest.mark.parametrize("charset", ["UTF-7", "rot13", "x-unknown", "base64", "utf-16"])
def test_non_text_or_unknown_charsets_are_refused_with_one_warning(charset, caplog):
    value = b"+AGEAYgBj- caf\xe9" if charset != "rot13" else b"Zneb"
    data = bytes_card(b"FN;CHARSET=" + charset.encode() + b":" + value, b"NOTE:kept")
    contact = one(data)
    assert contact.note == "kept"
    assert contact.name == value.decode("utf-8", "replace")  # UTF-8, unreadable bytes replaced
    contact.name.encode("utf-8")  # no lone surrogate: nothing later can crash on it
    assert warnings(caplog) == [
        f"{SRC}:4: FN CHARSET {charset!r} is not a text encoding syncd reads; read as UTF-8"]


def test_utf7_quoted_printable_is_refused_too(caplog):
    data = bytes_card(b"FN;CHARSET=UTF-7;ENCODING=QUOTED-PRINTABLE:=2B2D8-")
    assert one(data).name == "+2D8-"
    assert len(warnings(caplog)) == 1


def test_unlabelled_latin1_bytes_beside_a_labelled_value(caplog):
    data = bytes_card(b"FN;CHARSET=SHIFT_JIS:" + "安藤".encode("shift_jis"), b"NOTE:caf\xe9")
    contact = one(data)
    assert (contact.name, contact.note) == ("安藤", "café")
    assert warnings(caplog) == [f"{SRC}:5: not valid UTF-8; those bytes are read as Latin-1"]


def test_a_line_after_a_labelled_one_ending_in_equals_is_not_taken_for_its_continuation():
    data = bytes_card(b"FN;CHARSET=SHIFT_JIS:" + "安藤".encode("shift_jis") + b"=",
                      b"NOTE:caf\xe9")
    contact = one(data)
    assert (contact.name, contact.note) == ("安藤=", "café")


def test_a_shift_jis_quoted_printable_value_with_soft_breaks():
    encoded = "".join(f"={b:02X}" for b in "伊能圭一".encode("shift_jis"))
    data = bytes_card(b"FN;CHARSET=SHIFT_JIS;ENCODING=QUOTED-PRINTABLE:" + encoded[:14].encode()
                      + b"=", encoded[14:].encode() + b"=", b"\x94\x5C")  # and a raw 8-bit 能
    assert one(data).name == "伊能圭一能"


@pytest.mark.parametrize("cut", [3, 4, 5, 9])  # also inside a character, as simple writers fold
def test_a_folded_shift_jis_value(cut, caplog):
    name = "伊能圭一伊予".encode("shift_jis")
    data = bytes_card(b"FN;CHARSET=SHIFT_JIS:" + name[:cut], b" " + name[cut:])
    assert one(data).name == "伊能圭一伊予"
    assert warnings(caplog) == []


# -- grouped BEGIN/END, CR CR LF ------------------------------------------------------------------

def test_grouped_begin_and_end(caplog):
    text = ("home.begin:vcard\r\nhome.version:3.0\r\nhome.fn:Meister Berger\r\n"
            "home.end:vcard\r\n" + card("FN:After", uid="u2"))
    contacts, problem = parse_checked(text, SRC)
    assert ([(c.name, c.line) for c in contacts], problem) == (
        [("Meister Berger", 1), ("After", 5)], None)
    assert warnings(caplog) == []


def test_ios_cr_cr_lf_line_ends_with_a_folded_value(caplog):
    lines = ["BEGIN:VCARD", "VERSION:3.0", "N:Smith;Bob;;;", "FN:Bob Smith",
             "NOTE:a long note that iOS fol", " ded here", "TEL;type=CELL:(650) 555-1212",
             "END:VCARD", "BEGIN:VCARD", "FN:Second", "END:VCARD", ""]
    contacts = read("\r\r\n".join(lines))
    assert [(c.name, c.line, c.note, c.phones) for c in contacts] == [
        ("Bob Smith", 1, "a long note that iOS folded here", ("(650) 555-1212",)),
        ("Second", 9, "", ())]
    assert warnings(caplog) == []


# -- anniversaries ---------------------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "ANNIVERSARY:19960415",
    "item1.ANNIVERSARY:1996-04-15",
    "X-ANNIVERSARY:1996-04-15",
    "X-MS-ANNIVERSARY:19960415",
    "X-EVOLUTION-ANNIVERSARY:1996-04-15",
    "X-KADDRESSBOOK-X-Anniversary:1996-04-15",
    "X-KADDRESSBOOK-X-ANNIVERSARY:1996-04-15",
])
def test_vendor_anniversaries(line, caplog):
    assert one(card("FN:X", line)).anniversary == PartialDate(4, 15, 1996)
    assert warnings(caplog) == []


def test_apple_and_google_labelled_abdate():
    text = card("FN:X", "item1.X-ABDATE:2000-09-12", "item1.X-ABLabel:Other date",
                "item4.X-ABDATE;type=pref:1996-04-15", "ITEM4.X-ABLABEL:_$!<Anniversary>!$_")
    assert one(text).anniversary == PartialDate(4, 15, 1996)
    label_first = card("FN:X", "item9.X-ABLabel:_$!<Anniversary>!$_", "item9.X-ABDATE:--0415")
    assert one(label_first).anniversary == PartialDate(4, 15)


@pytest.mark.parametrize("lines", [
    ("X-ABDATE:1996-04-15",),  # no group: no label
    ("item1.X-ABDATE:1996-04-15", "item2.X-ABLabel:_$!<Anniversary>!$_"),  # another group's
    ("item1.X-ABDATE:1996-04-15", "item1.X-ABLabel:_$!<Other>!$_"),
])
def test_abdates_that_are_not_anniversaries(lines):
    assert one(card("FN:X", *lines)).anniversary is None


# -- group cards -----------------------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "X-ADDRESSBOOKSERVER-KIND:GROUP", "X-ADDRESSBOOKSERVER-KIND:group", "KIND:group", "KIND:Group"])
def test_group_cards_are_not_contacts(line, caplog):
    caplog.set_level(logging.DEBUG, logger="syncd.sources.vcard")
    group = card("FN:Friends", line, "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:u2", uid="g1")
    text = group + card("FN:Person", uid="u2")
    assert [c.uid for c in read(text)] == ["u2"]
    assert warnings(caplog) == []
    assert any("group card" in r.getMessage() for r in caplog.records)
    assert parse_checked(group, SRC) == ([], None)  # a file of one group card lost nothing


@pytest.mark.parametrize("line", ["KIND:individual", "KIND:org", "X-ADDRESSBOOKSERVER-KIND:person"])
def test_other_kinds_are_contacts(line):
    assert one(card("FN:Someone", line, version="4.0")).name == "Someone"


# -- names -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("lines", "name"), [
    (("FN:Given Name", "N:Family;Given;;;", "ORG:Acme"), "Given Name"),
    (("N:Rossi;Mario;;;",), "Mario Rossi"),
    (("N:Doe;John;Richter,James;Mr.;Sr.",), "Mr. John Richter James Doe Sr."),
    (("N:Rossi;;;Dott.;",), "Dott. Rossi"),
    (("N:;Mario",), "Mario"),  # parts missing at the end
    (("N:Rossi",), "Rossi"),
    (("FN:", "N:;;;;", "ORG:Smith Auto Repair;Service", "EMAIL:bob@example.org"),
     "Smith Auto Repair"),
    (("ORG:;Sales",), "Sales"),  # the first component that is there
    (("EMAIL:m@example.org", "TEL:+39 051 123"), "m@example.org"),
    (("TEL:+39 051 123",), "+39 051 123"),
    (("NICKNAME:Bobby,Rob", "IMPP:xmpp:bob@jabber.org"), "Bobby"),
    (("IMPP:xmpp:bob@jabber.org",), "bob@jabber.org"),
    (("X-GOOGLE-TALK:hhh@gmail.com",), "hhh@gmail.com"),  # AOSP's v21_im
    ((), ""),  # never the UID
])
def test_name_fallbacks(lines, name):
    assert one(card(*lines)).name == name


# -- phones ----------------------------------------------------------------------------------------

def test_phones_v3_and_v4_preferred_first():
    v3 = card("FN:X", "TEL;TYPE=HOME:+39 051 111", "TEL;TYPE=CELL:+39 333 222",
              "item1.TEL;type=CELL;type=pref:+39 333 333", "TEL:", "TEL;CELL;VOICE:+39 333 444")
    assert one(v3).phones == ("+39 333 333", "+39 051 111", "+39 333 222", "+39 333 444")
    v4 = card("FN:X", "TEL;VALUE=uri;TYPE=home:tel:+39-051-111",
              "TEL;VALUE=uri;PREF=1;TYPE=\"voice,cell\":tel:+39-333-222",
              "TEL;VALUE=uri;PREF=2:TEL:+1-555-555-5555;ext=5555", version="4.0")
    assert one(v4).phones == ("+39-333-222", "+1-555-555-5555;ext=5555", "+39-051-111")


def test_the_same_number_twice_is_one_phone():
    assert one(card("FN:X", "TEL:+39 051 111", "TEL;TYPE=WORK:+39 051 111")).phones == (
        "+39 051 111",)


def test_a_card_with_no_name_at_all_is_read_and_said(caplog):
    with caplog.at_level(logging.INFO):
        [contact] = read(card("BDAY:1980-04-15", "NOTE:#sailing", uid="nameless"))
    assert (contact.uid, contact.name, contact.note) == ("nameless", "", "#sailing")
    assert f"{SRC}:1: card has no name (no FN, N, ORG, NICKNAME, email, phone or chat handle): read, but it gets no follow-up" \
        in caplog.text
