"""The vdir and single-file sources, on real files."""

import logging
import shutil
from pathlib import Path

import pytest
from privileges import as_nobody, unprivileged

from syncd.errors import SourceError
from syncd.model import Contact
from syncd.sources import ContactSource, MemorySource, dedupe
from syncd.sources.files import VcfFileSource, VdirSource

CORPUS = Path(__file__).parent / "corpus" / "vcards"  # the project's own cases: issues/
# Third-party fixtures (khard's test cards, one of vobject's), read where they live, beside the
# clone: ../shared/corpus/vcards/{khard,vobject}, attributed in ../shared/corpus/README.md.
SHARED_VCARDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "vcards"
THIRD_PARTY = ("khard", "vobject")


def shared_folder(name: str) -> Path:
    folder = SHARED_VCARDS / name
    assert folder.is_dir(), f"the shared corpus of third-party test cards is missing: {folder}"
    return folder


def card(uid, name, *lines):
    body = [f"UID:{uid}"] if uid else []
    return "\r\n".join(["BEGIN:VCARD", "VERSION:3.0", *body, f"FN:{name}", *lines, "END:VCARD", ""])


def warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_sources_satisfy_the_protocol(tmp_path):
    sources: list[ContactSource] = [VdirSource(tmp_path), VcfFileSource(tmp_path / "a.vcf"),
                                    MemorySource([])]
    assert [s.description for s in sources] == [str(tmp_path), str(tmp_path / "a.vcf"), "memory"]


def test_vdir_reads_vcf_files_in_name_order_ignoring_dotfiles_and_tmp(tmp_path):
    (tmp_path / "b.vcf").write_text(card("b", "Bee"))
    (tmp_path / "a.vcf").write_text(card("a", "Ay"))
    (tmp_path / "C.VCF").write_text(card("c", "Cee"))
    (tmp_path / ".hidden.vcf").write_text(card("h", "Hidden"))
    (tmp_path / "d.vcf.tmp").write_text(card("t", "Being written"))
    (tmp_path / "e.tmp").write_text(card("t2", "Temp"))
    (tmp_path / "notes.txt").write_text(card("n", "Not a vcf"))
    (tmp_path / "sub.vcf").mkdir()
    contacts = VdirSource(tmp_path).read()
    assert [(c.name, c.source, c.line) for c in contacts] == [
        ("Cee", str(tmp_path / "C.VCF"), 1),
        ("Ay", str(tmp_path / "a.vcf"), 1),
        ("Bee", str(tmp_path / "b.vcf"), 1),
    ]


def test_duplicate_uids_across_two_files_keep_the_first_by_name(tmp_path, caplog):
    shutil.copy(CORPUS / "issues" / "dup-uid-b.vcf", tmp_path / "2.vcf")
    shutil.copy(CORPUS / "issues" / "dup-uid-a.vcf", tmp_path / "1.vcf")
    contacts = VdirSource(tmp_path).read()
    assert [(c.uid, c.name) for c in contacts] == [("case-dup", "Duplicate One")]
    assert warnings(caplog) == [
        f"{tmp_path / '2.vcf'}:1: duplicate UID 'case-dup', already read at {tmp_path / '1.vcf'}:1; skipped"
    ]


def test_dedupe_keeps_the_given_order():
    a = Contact(uid="x", name="A", source="s", line=1)
    b = Contact(uid="y", name="B", source="s", line=5)
    c = Contact(uid="x", name="C", source="s", line=9)
    assert dedupe([a, b, c]) == [a, b]
    assert MemorySource([a, c]).read() == [a, c]


def test_missing_folder_raises_source_error_naming_it(tmp_path):
    missing = tmp_path / "no-such-folder"
    with pytest.raises(SourceError) as error:
        VdirSource(missing).read()
    assert str(error.value) == f"{missing}: cannot read contacts: no such folder"


def test_folder_that_is_a_file_and_file_that_is_missing_or_a_folder(tmp_path):
    file = tmp_path / "book.vcf"
    file.write_text(card("a", "A"))
    with pytest.raises(SourceError, match="not a folder"):
        VdirSource(file).read()
    with pytest.raises(SourceError) as error:
        VcfFileSource(tmp_path / "gone.vcf").read()
    assert str(error.value) == f"{tmp_path / 'gone.vcf'}: cannot read contacts: no such file"
    with pytest.raises(SourceError, match="a folder, not a file"):
        VcfFileSource(tmp_path).read()


def test_unreadable_file_is_a_warning_and_the_others_are_read(caplog):
    with unprivileged() as folder:
        (folder / "a.vcf").write_text(card("a", "A"))
        secret = folder / "b.vcf"
        secret.write_text(card("b", "B"))
        secret.chmod(0)
        with as_nobody():
            names = [c.name for c in VdirSource(folder).read()]
    assert names == ["A"]
    assert warnings(caplog) == [f"{secret}: cannot read: Permission denied; skipped"]


def test_multi_card_file_with_broken_cards_in_the_middle(tmp_path, caplog):
    path = tmp_path / "export.vcf"
    path.write_text(
        card("a", "First")  # lines 1-5
        + card("b", "Second", "this line has no colon")  # lines 6-11
        + "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c\r\nFN:Never closed\r\n"  # lines 12-15
        + card("d", "Fourth")  # lines 16-20
    )
    contacts = VcfFileSource(path).read()
    assert [(c.name, c.line) for c in contacts] == [("First", 1), ("Second", 6), ("Fourth", 16)]
    assert warnings(caplog) == [
        f"{path}:10: line with no ':' skipped: 'this line has no colon'",
        f"{path}:12: card has no END:VCARD before the BEGIN:VCARD at line 16; skipped",
    ]


@pytest.mark.parametrize(
    ("newline", "prefix"), [("\r", b""), ("\n", b""), ("\r\n", b"\xef\xbb\xbf")], ids=["cr", "lf", "bom"]
)
def test_line_endings_and_bom_in_files(tmp_path, newline, prefix):
    text = newline.join(["BEGIN:VCARD", "UID:one", "FN:Jos\u00e9", "NOTE:long", " er", "END:VCARD",
                         "BEGIN:VCARD", "UID:two", "FN:Two", "END:VCARD", ""])
    path = tmp_path / "book.vcf"
    path.write_bytes(prefix + text.encode("utf-8"))
    contacts = VcfFileSource(path).read()
    assert [(c.name, c.line, c.note) for c in contacts] == [("Jos\u00e9", 1, "longer"), ("Two", 7, "")]


@pytest.mark.parametrize("name", ["lf-only-line-endings.vcf", "bom-utf8.vcf"])
def test_corpus_lf_only_and_bom_files(name):
    [contact] = VcfFileSource(CORPUS / "issues" / name).read()
    assert (contact.uid, contact.name, contact.note) == {
        "lf-only-line-endings.vcf": ("case-lf", "Lf Only", "#jazz and #wine"),
        "bom-utf8.vcf": ("case-bom", "Bom Start", "#design"),
    }[name]


def test_latin1_file_is_read_with_a_warning(tmp_path, caplog):
    # A copy no other test read: a file parsed before in this process is not parsed (nor
    # warned about) again while it is unchanged.
    path = tmp_path / "x.vcf"
    shutil.copy(CORPUS / "issues" / "latin1-bytes.vcf", path)
    [contact] = VcfFileSource(path).read()
    assert contact.name == "Niccol\u00f2 Forl\u00ec"
    # the first non-UTF-8 byte is the ò of FN, on line 4
    assert warnings(caplog) == [f"{path}:4: not valid UTF-8; those bytes are read as Latin-1"]
    assert [c.name for c in VdirSource(tmp_path).read()] == ["Niccol\u00f2 Forl\u00ec"]


def test_uid_less_card_keeps_its_id_across_reads_and_note_edits(tmp_path):
    path = tmp_path / "book.vcf"
    path.write_text(card(None, "No Uid", "NOTE:#photography"))
    first = VcfFileSource(path).read()[0].uid
    assert VcfFileSource(path).read()[0].uid == first
    path.write_text(card(None, "No Uid", "NOTE:#sailing, #chess"))
    assert VcfFileSource(path).read()[0].uid == first


# Expected cards, counted by reading each file: one BEGIN:VCARD ... END:VCARD each, except
# empty-file (no bytes), unterminated and khard's *unparsable (BEGIN without END), and khard's
# `*.abook__*` files, which were symlinks in khard's repository and are stored in the shared
# corpus as their 20-odd-byte target path (`../vcards/joe.vcf`), so hold no card at all.
EXPECTED = {
    "issues/empty-file.vcf": 0,
    "issues/unterminated.vcf": 0,
    "issues/line-without-colon.vcf": 1,
    "issues/v21-quoted-printable.vcf": 1,
    "khard/vcards__unparsable.vcf": 0,
    "khard/broken.abook__unparsable.vcf": 0,
    "khard/nick.abook__joe.vcf": 0,
    "khard/vcards__photov4.vcf": 1,
    "vobject/radicale-1587.vcf": 1,
}


def check_corpus_file(path: Path) -> None:
    contacts = VcfFileSource(path).read()
    key = f"{path.parent.name}/{path.name}"
    if key in EXPECTED:
        assert len(contacts) == EXPECTED[key]
    assert all(c.uid and c.name and c.source == str(path) for c in contacts)


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*/*.vcf")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_corpus_file_reads_without_exception(path):
    check_corpus_file(path)


@pytest.mark.parametrize("folder", THIRD_PARTY)
def test_every_shared_third_party_file_reads_without_exception(folder):
    paths = sorted(shared_folder(folder).glob("*.vcf"))
    assert len(paths) == {"khard": 27, "vobject": 1}[folder]
    for path in paths:
        check_corpus_file(path)


def test_corpus_folders_as_vdirs():
    # issues: 28 files, 26 with one card (empty-file and unterminated hold none), and the two
    # dup-uid files share one UID. khard: 27 files, 7 symlink stand-ins and unparsable hold none.
    counts = {"issues": len(VdirSource(CORPUS / "issues").read())}
    counts.update({folder: len(VdirSource(shared_folder(folder)).read()) for folder in THIRD_PARTY})
    assert counts == {"issues": 25, "khard": 19, "vobject": 1}
