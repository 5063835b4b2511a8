"""Bad vCards in, every good card out: the real corpus and 10,000 generated cards, valid and
mangled (cut short, NUL bytes, Latin-1 bytes, BOM, CR-only line ends, 10,000-character lines,
lines folded inside a UTF-8 character, missing END, nested BEGIN, unescaped commas, groups, 3.0
and 4.0), written to real files and read by the real sources. No exception; every well-formed
card read whole; each bad card skipped with one warning naming the file and the line where it
starts or breaks; a 5 MB photo read in bounded time and memory."""

from __future__ import annotations

import base64
import logging
import random
import re
import shutil
import tempfile
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.sources.files import VcfFileSource, VdirSource

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "vcards"  # the project's: issues/
# Third-party fixtures (khard's test cards, one of vobject's), read where they live, beside the
# clone: ../shared/corpus/vcards/{khard,vobject}, attributed in ../shared/corpus/README.md.
SHARED_VCARDS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "vcards"
THIRD_PARTY = ("khard", "vobject")

# What each warning of the reader is about, by its wording.
CATEGORIES = {
    "utf8": r"not valid UTF-8",
    "nul": r"NUL characters removed",
    "no-end": r"card has no END:VCARD",
    "no-colon": r"line with no ':'",
    "no-name": r"line with no property name",
    "bday": r"BDAY .* is not a (valid )?date",
    "outside": r"outside BEGIN:VCARD \.\.\. END:VCARD ignored",
    "duplicate": r"duplicate UID",
}


def classify(message: str, path: Path | str) -> tuple[int, str]:
    """(line, category) of one warning, checked to start with `path:line: `."""
    match = re.match(rf"{re.escape(str(path))}:(\d+): (.*)", message, re.DOTALL)
    assert match, f"a warning that does not name {path}:line: {message!r}"
    kinds = [name for name, pattern in CATEGORIES.items() if re.search(pattern, match[2])]
    assert len(kinds) == 1, message
    return int(match[1]), kinds[0]


def warnings_of(caplog: pytest.LogCaptureFixture, path: Path) -> list[tuple[int, str]]:
    return [classify(r.getMessage(), path) for r in caplog.records if r.levelno >= logging.WARNING]


# --- generated address books --------------------------------------------------------------------

NAME_PARTS = ["Anna", "Laura", "José", "Zoë", "Łukasz", "Ørsted", "Mário", "李", "小明", "Ngọc",
              "Rossi, Mario", "O'Brien", "Anne-Marie", "Σωκράτης", "Владимир", "😀", "Ἀθηνᾶ", "Ça"]
NOTE_WORDS = ["Interests: sailing, leadership", "#vela", "#storia-romana", "met at a, b; c: d",
              "café", "über", "日本語のテキスト", "🎉🎂", "https://example.org/?a=1,2", "ok;", "x:y",
              "received: book \"Zero to One\" 2026-03-01", "naïve", "ﬁ ligature", "tab\there"]
LATIN1 = "àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿÀÉÎÕÜß"  # every byte >= 0xC0: never valid UTF-8 in a row

# Card kinds, weighted by repetition: most cards are well formed.
KINDS = ["plain"] * 6 + ["v4-grouped"] * 3 + ["folded"] * 3 + [
    "long-line", "latin-1", "nul", "zero-filled", "no-colon", "bad-bday", "photo", "missing-end",
    "nested",
]


@dataclass
class Book:
    """A generated file: its physical lines, and what reading it must give."""

    newline: bytes
    lines: list[bytes] = field(default_factory=list)
    contacts: list[tuple[str, str, tuple[str, ...], tuple[str, ...], str]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # one per bad card
    latin1_lines: list[int] = field(default_factory=list)
    nul_lines: list[int] = field(default_factory=list)
    begins: int = 0
    skipped: int = 0

    def add(self, line: str | bytes) -> int:
        self.lines.append(line.encode("utf-8") if isinstance(line, str) else line)
        return len(self.lines)

    def folded(self, line: str, width: int) -> None:
        """Folded at `width` octets, as a simple writer does: inside UTF-8 characters too."""
        data = line.encode("utf-8")
        self.add(data[:width])
        for start in range(width, len(data), width):
            self.add(b" " + data[start : start + width])

    def data(self, bom: bool) -> bytes:
        return (b"\xef\xbb\xbf" if bom else b"") + b"".join(line + self.newline for line in self.lines)

    def expected_warnings(self) -> list[tuple[int, str]]:
        found = list(self.problems)
        if self.latin1_lines:
            found.append((min(self.latin1_lines), "utf8"))
        if self.nul_lines:
            found.append((min(self.nul_lines), "nul"))
        return sorted(found)


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def random_note(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(NOTE_WORDS) for _ in range(words))


def add_card(book: Book, kind: str, index: int, rng: random.Random) -> None:
    """One card of `kind`, with its expectations."""
    uid = f"{kind}-{index}-{rng.randrange(10**9)}"
    name = " ".join(rng.choice(NAME_PARTS) for _ in range(rng.randint(1, 3)))
    emails = tuple(f"p{index}.{n}@example.org" for n in range(rng.randint(0, 2)))
    categories = ("friends", "sailing") if rng.random() < 0.3 else ()
    note = random_note(rng, rng.randint(0, 6))
    version = "4.0" if kind == "v4-grouped" or rng.random() < 0.3 else "3.0"

    if kind == "nested":  # a card inside a card (a vCard 2.1 AGENT) is part of the outer one
        book.add("BEGIN:VCARD")
        book.begins += 1
        book.add(f"VERSION:{version}")
        book.add(f"UID:{uid}")
        book.add("AGENT:")
        inner = Book(book.newline)
        add_card(inner, "plain", index * 1000 + 1, rng)
        book.lines += inner.lines
        book.add("NOTE:the rest of the outer card")
        book.add("END:VCARD")
        book.contacts.append((uid, "", (), (), "the rest of the outer card"))  # no name: never the UID
        return

    prefix = b"\x00" * rng.randint(1, 64) if kind == "zero-filled" else b""
    begin = book.add(prefix + b"BEGIN:VCARD")
    book.begins += 1
    if prefix:
        book.nul_lines.append(begin)
    book.add(f"VERSION:{version}")
    book.add(f"UID:{uid}")
    if kind == "folded":
        book.folded(f"FN:{name}", rng.randint(8, 75))
    else:
        book.add(f"FN:{name}")
    book.add("N:" + ";".join(reversed(name.split(" ", 1))) + ";;;")
    for number, email in enumerate(emails):
        if kind == "v4-grouped":
            book.add(f"item{number + 1}.EMAIL;TYPE=INTERNET;PREF={number + 1}:{email}")
            book.add(f"item{number + 1}.X-ABLabel:_$!<Other>!$_")
        else:
            book.add(f"EMAIL;TYPE=INTERNET:{email}")
    if kind == "no-colon":
        book.problems.append((book.add("this line lost its colon"), "no-colon"))
    if kind == "bad-bday":
        book.problems.append((book.add(rng.choice(["BDAY:someday", "BDAY:1990-02-30"])), "bday"))
    if categories:
        book.add("CATEGORIES:" + ",".join(categories))
    if kind == "long-line":
        note = (note + " " + "x" * 10_000)[:10_000]
        book.add(f"NOTE:{escape(note)}")
    elif kind == "latin-1":
        note = "".join(rng.choice(LATIN1 + "  ,") for _ in range(rng.randint(1, 40))) + LATIN1[0]
        book.latin1_lines.append(book.add(b"NOTE:" + note.encode("latin-1")))
    elif kind == "nul":
        cut = rng.randint(0, len(note))
        book.nul_lines.append(book.add(f"NOTE:{escape(note[:cut])}\x00{escape(note[cut:])}"))
    elif kind == "folded":
        book.folded(f"NOTE:{escape(note)}", rng.randint(8, 75))
    elif note:
        book.add(f"NOTE:{escape(note)}")
    if kind == "photo":
        photo = base64.b64encode(rng.randbytes(rng.randint(100, 30_000))).decode()
        book.folded(f"PHOTO;ENCODING=b;TYPE=JPEG:{photo}", 74)
    if kind == "missing-end":
        book.problems.append((begin, "no-end"))
        book.skipped += 1
        return
    book.add("END:VCARD")
    book.contacts.append((uid, name, emails, categories, note))


def add_cut_card(book: Book, rng: random.Random) -> None:
    """A last card cut short, maybe inside a UTF-8 character: the file was truncated."""
    book.problems.append((book.add("BEGIN:VCARD"), "no-end"))
    book.begins += 1
    book.skipped += 1
    book.add("VERSION:3.0")
    book.add(f"UID:cut-{rng.randrange(10**9)}")
    data = "NOTE:cut short here: é ü 日本 😀 the end".encode()
    cut = rng.randint(5, len(data) - 1)
    book.lines.append(data[:cut])
    try:
        data[:cut].decode("utf-8")
    except UnicodeDecodeError:
        book.latin1_lines.append(len(book.lines))  # its first byte that is not UTF-8


@st.composite
def books(draw: st.DrawFn) -> tuple[Book, bytes]:
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=90, max_size=110))
    newline = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    bom = draw(st.booleans())
    cut = draw(st.booleans())
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    book = Book(newline)
    for index, kind in enumerate(kinds):
        add_card(book, kind, index, rng)
    data = book.data(bom)
    if cut:
        add_cut_card(book, rng)
        data = book.data(bom)[: -len(newline)]  # cut before the line end too
    return book, data


EXAMPLES = 100  # of about 100 cards each: 10,000 cards


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(generated=books())
def test_generated_books_every_good_card_read_every_bad_one_named(caplog, generated):
    book, data = generated
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.vcf"
        path.write_bytes(data)
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            source = VcfFileSource(path)
            contacts = source.read()
            warnings = warnings_of(caplog, path)
            caplog.clear()
            vdir = VdirSource(folder)
            assert vdir.read() == contacts  # same file through the other source
            assert vdir.damaged == source.damaged

    assert [(c.uid, c.name, c.emails, c.categories, c.note) for c in contacts] == book.contacts
    assert all(c.source == str(path) for c in contacts)
    assert sorted(warnings) == book.expected_warnings()
    read = len(book.contacts)
    if not book.skipped:
        assert source.damaged == []
    elif read:
        assert source.damaged == [f"{path}: {book.skipped} of its {book.begins} cards could not be read"]
    else:
        assert source.damaged == [f"{path}: holds no readable card"]


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(KINDS), min_size=20, max_size=40), seed=st.integers(0, 2**32 - 1),
       newline=st.sampled_from([b"\r\n", b"\n", b"\r"]))
def test_generated_vdirs_one_card_per_file(caplog, kinds, seed, newline):
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        expected_contacts, expected_warnings, damaged = [], [], []
        for index, kind in enumerate(kinds):
            book = Book(newline)
            add_card(book, kind, index, rng)
            path = Path(folder) / f"{index:03d}.vcf"
            path.write_bytes(book.data(bom=rng.random() < 0.2))
            expected_contacts += book.contacts
            expected_warnings += [(str(path), line, what) for line, what in book.expected_warnings()]
            if book.skipped:
                damaged.append(f"{path}: " + ("holds no readable card" if not book.contacts else
                                             f"{book.skipped} of its {book.begins} cards could not be read"))
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            source = VdirSource(folder)
            contacts = source.read()
        warnings = []
        for record in caplog.records:
            name = re.match(r"(\S+\.vcf):", record.getMessage())
            assert name, record.getMessage()
            warnings.append((name[1], *classify(record.getMessage(), name[1])))
    assert [(c.uid, c.name, c.emails, c.categories, c.note) for c in contacts] == expected_contacts
    assert sorted(warnings) == sorted(expected_warnings)
    assert source.damaged == damaged


def test_the_generated_books_hold_every_fault_and_10000_cards():
    """The generator itself: the faults of the brief are all there, in the numbers promised."""
    rng = random.Random(7)
    book = Book(b"\r\n")
    kinds = [rng.choice(KINDS) for _ in range(EXAMPLES * 100)]
    for index, kind in enumerate(kinds):
        add_card(book, kind, index, rng)
    add_cut_card(book, rng)
    assert book.begins >= 10_000
    assert len(book.contacts) + book.skipped == book.begins
    assert set(KINDS) <= set(kinds)
    assert book.latin1_lines and book.nul_lines and book.skipped > 350  # missing END: 1 in 23
    assert max(map(len, book.lines)) >= 10_000
    assert any(line[:1] == b" " and 0x80 <= line[1:2][0] < 0xC0 for line in book.lines if len(line) > 1)


# --- the 5 MB photo -----------------------------------------------------------------------------

@pytest.mark.parametrize("folded", [True, False], ids=["folded", "one-line"])
def test_a_5mb_photo_is_read_in_bounded_time_and_memory(tmp_path, folded):
    photo = base64.b64encode(random.Random(5).randbytes(3_750_000)).decode()  # 5,000,000 chars
    assert len(photo) == 5_000_000
    lines = ["BEGIN:VCARD", "VERSION:3.0", "UID:before", "FN:Before", "END:VCARD",
             "BEGIN:VCARD", "VERSION:4.0", "UID:photo", "FN:Photo Person", "NOTE:#photography"]
    if folded:
        lines += ["PHOTO;ENCODING=b;TYPE=JPEG:" + photo[:48]]
        lines += [" " + photo[start : start + 74] for start in range(48, len(photo), 74)]
    else:
        lines += ["PHOTO:data:image/jpeg;base64," + photo]
    lines += ["END:VCARD"]
    after = len(lines) + 1
    lines += ["BEGIN:VCARD", "VERSION:3.0", "UID:after", "FN:After", "END:VCARD"]
    path = tmp_path / "photos.vcf"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    tracemalloc.start()
    try:
        contacts = VcfFileSource(path).read()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(c.uid, c.name, c.line) for c in contacts] == [
        ("before", "Before", 1), ("photo", "Photo Person", 6), ("after", "After", after)]
    assert contacts[1].note == "#photography"
    assert peak < 100_000_000, f"{peak / 1e6:.0f} MB to read a 5 MB photo"


# --- the corpus ---------------------------------------------------------------------------------

CORPUS_FILES = sorted(CORPUS.glob("*/*.vcf")) + sorted(
    path for folder in THIRD_PARTY for path in (SHARED_VCARDS / folder).glob("*.vcf"))


def physical_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")


def test_the_corpus_is_all_there():
    missing = [str(SHARED_VCARDS / folder) for folder in THIRD_PARTY
               if not (SHARED_VCARDS / folder).is_dir()]
    assert not missing, f"the shared corpus of third-party test cards is missing: {missing}"
    assert len(CORPUS_FILES) == 56  # 28 of the project's own, 27 of khard's, 1 of vobject's
    assert "../shared/corpus/vcards" in (CORPUS.parent / "README.md").read_text()


@pytest.mark.parametrize("original", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_corpus_file_reads_and_every_warning_points_at_its_line(caplog, tmp_path, original):
    # A copy: the sources remember parsed files by path, and warn only when they parse one.
    path = tmp_path / original.name
    shutil.copyfile(original, path)
    with caplog.at_level(logging.WARNING):
        contacts = VcfFileSource(path).read()
    lines = physical_lines(path)
    begins = [n for n, line in enumerate(lines, 1)
              if line.lstrip(b"\xef\xbb\xbf").upper().startswith(b"BEGIN:VCARD")]
    warnings = warnings_of(caplog, path)
    for line, kind in warnings:
        text = lines[line - 1]
        assert {
            "no-end": text.upper().startswith(b"BEGIN:VCARD"),
            "no-colon": b":" not in text,
            "no-name": b":" in text,
            "utf8": re.search(rb"[\x80-\xff]", text) is not None,
            "bday": re.match(rb"(?i)(item\d+\.)?BDAY", text) is not None,
            "outside": text.strip() != b"",
            "nul": b"\x00" in text,
        }[kind], (line, kind, text)
    assert all(c.line in begins for c in contacts)
    assert all(c.uid and c.name and c.source == str(path) for c in contacts)
    skipped = sum(kind == "no-end" for _, kind in warnings)
    assert len(contacts) + skipped == len(begins)


def test_every_corpus_folder_reads_as_a_vdir(caplog, tmp_path):
    test_the_corpus_is_all_there()
    shutil.copytree(CORPUS, tmp_path / "vcards")
    for folder in THIRD_PARTY:
        shutil.copytree(SHARED_VCARDS / folder, tmp_path / "vcards" / folder)
    with caplog.at_level(logging.WARNING):
        counts = {folder.name: len(VdirSource(folder).read())
                  for folder in sorted((tmp_path / "vcards").iterdir())}
    assert counts == {"issues": 25, "khard": 19, "vobject": 1}
    assert all(re.match(r"/\S+\.vcf(:\d+)?: ", r.getMessage()) for r in caplog.records)


# --- the faults one by one, as a person would meet them -----------------------------------------

def card(uid: str, *lines: str) -> bytes:
    return "\r\n".join(["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", *lines, "END:VCARD", ""]).encode()


def read(tmp_path: Path, data: bytes, caplog: pytest.LogCaptureFixture):
    path = tmp_path / "book.vcf"
    path.write_bytes(data)
    with caplog.at_level(logging.WARNING):
        contacts = VcfFileSource(path).read()
    return path, contacts, [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_line_folded_inside_a_character_is_joined_back(tmp_path, caplog):
    note = "NOTE:Caff\u00e8 e #vela a Genova".encode()
    split = note.index(b"\xa8")  # between the two bytes of è
    folded = note[:split] + b"\r\n " + note[split:]
    data = card("a", "FN:Jos\u00e9").replace(b"END:VCARD", folded + b"\r\nEND:VCARD")
    _, [contact], warnings = read(tmp_path, data, caplog)
    assert (contact.name, contact.note, warnings) == ("Jos\u00e9", "Caff\u00e8 e #vela a Genova", [])


def test_one_latin1_card_does_not_garble_the_others(tmp_path, caplog):
    latin1 = card("b", "FN:Nicol").replace(b"Nicol", b"Niccol\xf2")
    data = card("a", "FN:Jos\u00e9") + latin1 + card("c", "FN:Zo\u00eb")
    path, contacts, warnings = read(tmp_path, data, caplog)
    assert [c.name for c in contacts] == ["Jos\u00e9", "Niccol\u00f2", "Zo\u00eb"]
    assert warnings == [f"{path}:9: not valid UTF-8; those bytes are read as Latin-1"]


def test_a_file_cut_inside_a_character_loses_only_its_last_card(tmp_path, caplog):
    data = card("a", "FN:Jos\u00e9") + "BEGIN:VCARD\r\nUID:b\r\nFN:Zo\u00eb".encode()[:-1]
    path, contacts, warnings = read(tmp_path, data, caplog)
    assert [c.name for c in contacts] == ["Jos\u00e9"]
    assert warnings == [f"{path}:8: not valid UTF-8; those bytes are read as Latin-1",
                        f"{path}:6: card has no END:VCARD before the end of the text; skipped"]


def test_nul_bytes_are_removed_with_one_warning(tmp_path, caplog):
    data = card("a", "FN:Ann\x00a") + b"\x00" * 4096 + card("b", "FN:Bea", "NOTE:#sail\x00ing")
    path, contacts, warnings = read(tmp_path, data, caplog)
    assert [(c.uid, c.name, c.note, c.line) for c in contacts] == [
        ("a", "Anna", "", 1), ("b", "Bea", "#sailing", 6)]
    assert warnings == [f"{path}:4: NUL characters removed"]


def test_a_nested_card_is_part_of_the_outer_one(tmp_path, caplog):
    data = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:outer\r\n" + card("inner", "FN:Inner")
            + b"NOTE:rest of outer\r\nEND:VCARD\r\n" + card("after", "FN:After") + b"END:VCARD\r\n")
    path, contacts, warnings = read(tmp_path, data, caplog)
    assert [(c.uid, c.name, c.line, c.note) for c in contacts] == [
        ("outer", "", 1, "rest of outer"), ("after", "After", 11, "")]  # no name: never the UID
    assert warnings == [f"{path}:16: 1 line outside BEGIN:VCARD ... END:VCARD ignored"]  # stray END


def test_a_utf16_file_cut_at_an_odd_byte_keeps_its_whole_cards(tmp_path, caplog):
    text = (card("a", "FN:Jos\u00e9") + card("b", "FN:Zo\u00eb")).decode()
    cut = "BEGIN:VCARD\r\nUID:c".encode("utf-16-le")[:-1]
    data = "\ufeff".encode("utf-16-le") + text.encode("utf-16-le") + cut
    path, contacts, warnings = read(tmp_path, data, caplog)
    assert [c.name for c in contacts] == ["Jos\u00e9", "Zo\u00eb"]
    assert warnings == [f"{path}:12: not valid UTF-16; unreadable bytes replaced",
                        f"{path}:11: card has no END:VCARD before the end of the text; skipped"]
