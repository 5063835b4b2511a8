"""Every contact source keeps the same contract (SourceContract): a vdir, a single .vcf file and
a CardDAV address book on the real Radicale of conftest. Then the registry, and what is
particular to files (a file changed while it is read) and to CardDAV (a card whose new version
cannot be read keeps its previous contacts)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from syncd import dav
from syncd.config_types import SourceConfig
from syncd.errors import SourceError
from syncd.model import Contact
from syncd.sources import SOURCE_TYPES, ContactSource, MemorySource, files, make_source
from syncd.sources.carddav import CardDAVSource
from syncd.sources.files import VcfFileSource, VdirSource
from syncd.cache import MemoryListingCache


def card(uid: str, name: str, *lines: str) -> str:
    body = "".join(f"{line}\r\n" for line in lines)
    return f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\n{body}END:VCARD\r\n"


def unterminated(text: str) -> str:
    """The card cut before its END:VCARD, as a writer that crashed leaves it."""
    return text[: text.index("END:VCARD")]


def names(contacts: list[Contact]) -> list[str]:
    return sorted(contact.name for contact in contacts)


class FolderBook:
    """A vdir: one file per card."""

    kind = VdirSource

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir()
        self.config = SourceConfig("vdir", path=folder)
        self.missing = SourceConfig("vdir", path=folder.parent / "no-such-folder")
        self.watched = [folder]

    def add(self, name: str, text: str) -> None:
        (self.folder / f"{name}.vcf").write_text(text, encoding="utf-8")

    def break_card(self, name: str, text: str) -> None:
        self.add(name, unterminated(text))

    def where(self, name: str) -> str:
        return str(self.folder / f"{name}.vcf")

    def source(self) -> ContactSource:
        return VdirSource(self.folder)


class FileBook:
    """One .vcf file holding every card, as an export is."""

    kind = VcfFileSource

    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        self.path = folder / "export.vcf"
        self.cards: dict[str, str] = {}
        self.config = SourceConfig("vcf", path=self.path)
        self.missing = SourceConfig("vcf", path=folder / "no-such-file.vcf")
        self.watched = [self.path]

    def add(self, name: str, text: str) -> None:
        self.cards[name] = text
        self.path.write_text("".join(self.cards.values()), encoding="utf-8")

    def break_card(self, name: str, text: str) -> None:
        self.add(name, unterminated(text))

    def where(self, name: str) -> str:
        return str(self.path)

    def source(self) -> ContactSource:
        return VcfFileSource(self.path)


class ServerBook:
    """An address book on Radicale. Radicale refuses (and re-serialises) a card it cannot
    parse, so an unreadable card is a fault injected into its multiget answer."""

    kind = CardDAVSource

    def __init__(self, address_book, monkeypatch: pytest.MonkeyPatch) -> None:
        self.book = address_book
        server = address_book.server
        self.cache = MemoryListingCache()
        self.config = SourceConfig("carddav", url=address_book.url, username=server.username,
                                   password=server.password)
        self.missing = SourceConfig("carddav", url=address_book.url + "no-such-book/",
                                    username=server.username, password=server.password)
        self.watched: list[Path] = []
        self.broken: set[str] = set()
        send = dav.DavSession.send

        def cutting(session, method, url, body="", headers=None):
            response = send(session, method, url, body, headers)
            if "addressbook-multiget" in body and response.tree is not None:
                for element in response.tree.iter("{urn:ietf:params:xml:ns:carddav}address-data"):
                    response_element = next(element.iterancestors("{DAV:}response"))
                    href = response_element.findtext("{DAV:}href") or ""
                    if href.rsplit("/", 1)[-1] in self.broken:
                        element.text = unterminated(element.text)
            return response

        monkeypatch.setattr(dav.DavSession, "send", cutting)

    def add(self, name: str, text: str) -> None:
        self.broken.discard(f"{name}.vcf")
        self.book.put(f"{name}.vcf", text)

    def break_card(self, name: str, text: str) -> None:
        self.book.put(f"{name}.vcf", text.replace("END:VCARD", "NOTE:new version\r\nEND:VCARD"))
        self.broken.add(f"{name}.vcf")

    def where(self, name: str) -> str:
        return f"{self.book.url}{name}.vcf"

    def source(self) -> ContactSource:
        return make_source(self.config, self.cache)


ADA = card("ada", "Ada Lovelace", "EMAIL:ada@example.org")
BOB = card("bob", "Bob Stone", "NOTE:#sailing")
CY = card("cy", "Cy Twombly")


class SourceContract:
    """The ContactSource contract; each subclass provides an empty `book` (see FolderBook)."""

    @pytest.fixture
    def book(self):  # pragma: no cover - always overridden
        raise NotImplementedError

    def test_reads_every_card(self, book):
        for name, text in (("ada", ADA), ("bob", BOB), ("cy", CY)):
            book.add(name, text)
        source = book.source()
        contacts = source.read()
        assert names(contacts) == ["Ada Lovelace", "Bob Stone", "Cy Twombly"]
        ada = next(contact for contact in contacts if contact.uid == "ada")
        assert ada.emails == ("ada@example.org",) and ada.source == book.where("ada")

    def test_a_clean_read_is_complete_and_stays_so(self, book):
        book.add("ada", ADA)
        source = book.source()
        for _ in range(2):  # the second read is incremental for CardDAV
            assert names(source.read()) == ["Ada Lovelace"]
            assert (source.complete, source.damaged, source.changed_during_read) == (True, [], [])

    def test_an_unreadable_card_is_damaged_and_the_others_are_read(self, book, caplog):
        for name, text in (("ada", ADA), ("bob", BOB), ("cy", CY)):
            book.add(name, text)
        book.break_card("bob", BOB)
        source = book.source()
        assert names(source.read()) == ["Ada Lovelace", "Cy Twombly"]
        assert source.complete is False
        [problem] = source.damaged
        assert problem.startswith(book.where("bob") + ": ")
        assert "card has no END:VCARD" in caplog.text
        book.add("bob", BOB.replace("#sailing", "#chess"))  # repaired: a new version
        assert names(source.read()) == ["Ada Lovelace", "Bob Stone", "Cy Twombly"]
        assert (source.complete, source.damaged) == (True, [])

    def test_a_missing_source_is_a_source_error_naming_it(self, book):
        with pytest.raises(SourceError) as raised:
            make_source(book.missing).read()
        assert str(book.missing.path or book.missing.url) in str(raised.value)

    def test_watch_paths(self, book):
        assert book.source().watch_paths() == book.watched

    def test_the_registry_makes_it_from_its_type(self, book):
        book.add("ada", ADA)
        source = make_source(book.config)
        assert type(source) is book.kind and SOURCE_TYPES[book.config.type] is book.kind
        assert source.incremental is (book.kind is CardDAVSource)
        assert names(source.read()) == ["Ada Lovelace"]


class TestVdirSource(SourceContract):
    @pytest.fixture
    def book(self, tmp_path):
        return FolderBook(tmp_path / "contacts")


class TestVcfFileSource(SourceContract):
    @pytest.fixture
    def book(self, tmp_path):
        return FileBook(tmp_path / "export")


class TestCardDAVSource(SourceContract):
    @pytest.fixture
    def book(self, address_book, monkeypatch):
        return ServerBook(address_book, monkeypatch)

    def test_a_new_version_that_cannot_be_read_keeps_the_previous_contacts(self, book, wire):
        book.add("ada", ADA)
        book.add("bob", BOB)
        source = book.source()
        source.read()
        book.break_card("bob", BOB)
        for _ in range(2):  # and the next read, one REPORT, still knows it from the cache
            wire.clear()
            contacts = source.read()
            bob = next(contact for contact in contacts if contact.uid == "bob")
            assert bob.note == "#sailing"  # the previous version's
            assert source.damaged == [f"{book.where('bob')}: holds no readable card; the "
                                      "contacts of its previous version are kept"]
            assert source.complete is False
        assert [method for method, _, _ in wire] == ["REPORT"]
        fresh = make_source(book.config, book.cache)  # a new process, the same state
        assert names(fresh.read()) == ["Ada Lovelace", "Bob Stone"] and not fresh.complete
        book.add("bob", BOB.replace("#sailing", "#chess"))
        assert "#chess" in {contact.note for contact in source.read()} and source.complete


def test_an_unknown_type_is_a_source_error_never_another_reader(tmp_path):
    for kind in ("ldap", "VDIR", ""):
        with pytest.raises(SourceError) as raised:
            make_source(SourceConfig(kind, path=tmp_path), key="contacts[2]")
        assert f"contacts[2].type: unknown contact source type {kind!r}" in str(raised.value)


def test_a_folder_source_does_not_import_the_carddav_module(tmp_path):
    """CardDAV's module pulls in caldav and lxml; `syncd --help` and folders need neither."""
    script = ("import sys; from syncd.config_types import SourceConfig; "
              "from syncd.sources import make_source; "
              f"make_source(SourceConfig('vdir', path={str(tmp_path)!r})); "
              "assert 'syncd.sources.carddav' not in sys.modules, 'imported'; print('ok')")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr


def test_a_memory_source_reports_what_the_test_sets():
    ada = Contact(uid="ada", name="Ada", source="memory", line=1)
    source = MemorySource([ada])
    assert (source.read(), source.complete) == ([ada], True)
    source.damaged = ["card.vcf: holds no readable card"]
    assert source.complete is False
    source.complete = True  # the test decides
    assert source.complete is True
    assert MemorySource([], complete=False).complete is False
    assert MemorySource([], damaged=["x"]).complete is False
    incomplete = MemorySource([])
    incomplete.changed_during_read = ["a.vcf"]
    assert incomplete.complete is False


# -- a file that changes while it is read ----------------------------------------------------------


@pytest.fixture
def rewrite_during_read(monkeypatch):
    """`rewrite_during_read(path, change)` runs `change()` once, right after `path` was read
    and before the source checks it again: a writer no test can time by itself."""
    decode = files.decode

    def arm(path: Path, change) -> None:
        def decoding(data, where):
            if where == str(path) and arm.pending:
                arm.pending = False
                change()
            return decode(data, where)

        arm.pending = True
        monkeypatch.setattr(files, "decode", decoding)

    return arm


def test_a_file_rewritten_during_the_read_is_reported_and_read_again(tmp_path,
                                                                     rewrite_during_read):
    book = FolderBook(tmp_path / "contacts")
    for name, text in (("ada", ADA), ("bob", BOB), ("cy", CY)):
        book.add(name, text)
    source = book.source()
    source.read()
    book.add("bob", BOB.replace("Bob Stone", "Bob Halfway"))  # so that bob.vcf is read, not cached
    rewrite_during_read(Path(book.where("bob")),
                        lambda: book.add("bob", BOB.replace("Bob Stone", "Robert Stone")))
    assert names(source.read()) == ["Ada Lovelace", "Bob Halfway", "Cy Twombly"]
    assert source.changed_during_read == [book.where("bob")]
    assert (source.damaged, source.complete) == ([], False)
    assert names(source.read()) == ["Ada Lovelace", "Cy Twombly", "Robert Stone"]
    assert (source.changed_during_read, source.complete) == ([], True)


def test_a_file_listed_then_removed_is_reported(tmp_path, rewrite_during_read):
    book = FolderBook(tmp_path / "contacts")
    for name, text in (("ada", ADA), ("bob", BOB)):
        book.add(name, text)
    source = book.source()
    rewrite_during_read(Path(book.where("ada")), Path(book.where("bob")).unlink)
    assert names(source.read()) == ["Ada Lovelace"]
    assert (source.changed_during_read, source.complete) == ([book.where("bob")], False)
    assert names(source.read()) == ["Ada Lovelace"] and source.complete  # a plain deletion now


def test_an_export_replaced_during_the_read_is_reported(tmp_path, rewrite_during_read):
    """An atomic replace (a new inode, the same size), as editors and sync tools write."""
    book = FileBook(tmp_path / "export")
    book.add("ada", ADA)
    replacement = tmp_path / "export" / ".new"
    replacement.write_text(ADA.replace("Ada Lovelace", "Ada Lovelacf"), encoding="utf-8")
    source = book.source()
    rewrite_during_read(book.path, lambda: os.replace(replacement, book.path))
    assert names(source.read()) == ["Ada Lovelace"]
    assert (source.changed_during_read, source.complete) == ([str(book.path)], False)
    assert names(source.read()) == ["Ada Lovelacf"] and source.complete
