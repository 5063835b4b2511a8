"""The two file-based contact sources: a vdir (one folder of `.vcf` files, as written by
vdirsyncer, khard, Evolution or a phone export) and a single `.vcf` file holding many cards."""

from __future__ import annotations

import codecs
import errno
import logging
import os
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from syncd.errors import SourceError
from syncd.model import Contact
from syncd.sources import SOURCE_TYPES, ContactSource, dedupe
from syncd.sources.vcard import parse_checked

if TYPE_CHECKING:
    from syncd.cache import ListingCache
    from syncd.config_types import SourceConfig

log = logging.getLogger(__name__)


# A fold (CR CR LF, CRLF, CR or LF, then a space or tab) between a byte of a multi-byte UTF-8
# character and its continuation bytes: RFC 6350 3.2 lets simple writers fold inside a character.
_SPLIT_FOLD = re.compile(rb"(?<=[\x80-\xff])(\r\r\n|\r\n|\r|\n)([ \t])([\x80-\xbf]+)")


def decode(data: bytes, where: str) -> str:
    """UTF-8 with or without BOM; UTF-16 when it has a BOM. A line folded inside a UTF-8
    character is joined back. Bytes that are still not UTF-8 (a Shift_JIS or windows-1252
    card, a Latin-1 card, a file cut in the middle of a character) are kept as lone surrogates
    (`surrogateescape`): the reader decodes them in the CHARSET of their property, or as
    Latin-1 with one warning (`vcard_values.read_undecoded`); the rest stays UTF-8, so one such
    card does not garble the names of the others in the file."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            text = data.decode("utf-16", errors="replace")
            line = text.count("\n" if "\n" in text else "\r", 0, text.find("\ufffd")) + 1
            log.warning("%s:%d: not valid UTF-16; unreadable bytes replaced", where, line)
            return text
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Moving the continuation bytes before the fold keeps both the line count and the unfolded text.
    data = _SPLIT_FOLD.sub(rb"\3\1\2", data)
    return data.decode("utf-8-sig", errors="surrogateescape")


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def printable(path: str | os.PathLike[str]) -> str:
    """The path as text that can always be printed, logged, stored or hashed: bytes of a file
    name that are not UTF-8 (which Python keeps as lone surrogates, and which any encoder but
    `surrogateescape` refuses) are shown as `\\xe9`. A UTF-8 path is returned as it is."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


_SPECIAL_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                  (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class NotRegularFile(OSError):
    """A FIFO, device or socket where a vCard file was expected: never read (a FIFO would block
    the read until a writer came, a device may never end)."""


def _check_regular(info: os.stat_result, path: Path) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "a folder, not a file", str(path))
    kind = next((name for test, name in _SPECIAL_KINDS if test(info.st_mode)), "special")
    raise NotRegularFile(errno.EINVAL, f"not a regular file ({kind})", str(path))


def _read_regular(path: Path) -> bytes:
    """The bytes of a regular file. Opened non-blocking and checked again once open, so that a
    file replaced by a FIFO after it was listed cannot block the read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        _check_regular(os.fstat(fd), path)
        with open(fd, "rb", closefd=False) as file:
            return file.read()
    finally:
        os.close(fd)


# Parsed cards by file, kept across the cycles of one process (the daemon), so that a cycle
# parses only the files that changed: with 2,000 files, re-reading them all was 0.25 s of a
# 0.4 s idle cycle. A file counts as unchanged while its mtime, ctime, size and inode are.
_PARSED: dict[str, tuple[tuple[int, int, int, int], list[Contact], str | None]] = {}


class FileRead(NamedTuple):
    contacts: list[Contact]
    problem: str | None  # what could not be read (some card, or every card), or None
    changed: bool  # the file changed or vanished while it was read: not kept in `_PARSED`


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    return info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino


def read_vcf(path: Path) -> FileRead:
    """The cards of one file, what is wrong with it when some card could not be read (or it
    holds none at all), and whether it changed while it was read; raises OSError when it
    cannot be read, `NotRegularFile` for a FIFO, device or socket. Contacts and messages name
    the file by its `printable` path."""
    key, where = str(path), printable(path)
    info = os.stat(path)
    _check_regular(info, path)
    before = _identity(info)
    cached = _PARSED.get(key)
    if cached and cached[0] == before:
        return FileRead(list(cached[1]), cached[2], False)
    contacts, problem = parse_checked(decode(_read_regular(path), where), where)
    try:
        changed = _identity(os.stat(path)) != before
    except FileNotFoundError:
        changed = True
    if changed:
        _PARSED.pop(key, None)
        log.info("%s: changed while it was read; read again next time", where)
    else:
        _PARSED[key] = (before, contacts, problem)
    return FileRead(list(contacts), problem, changed)


class VcfFileSource(ContactSource):
    """One file with any number of cards."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        super().__init__(printable(self.path))

    @classmethod
    def from_config(cls, config: SourceConfig, cache: ListingCache | None = None,
                    key: str = "contacts[]") -> VcfFileSource:
        return cls(_path_of(config, key))

    def read(self) -> list[Contact]:
        self.damaged, self.changed_during_read = [], []
        where = self.description
        try:
            found = read_vcf(self.path)
        except FileNotFoundError:
            raise SourceError(f"{where}: cannot read contacts: no such file") from None
        except IsADirectoryError:
            raise SourceError(f"{where}: cannot read contacts: a folder, not a file") from None
        except OSError as error:
            raise SourceError(f"{where}: cannot read contacts: {_reason(error)}") from None
        self.damaged = [found.problem] if found.problem else []
        self.changed_during_read = [where] if found.changed else []
        return dedupe(found.contacts)

    def watch_paths(self) -> list[Path]:
        return [self.path]


class VdirSource(ContactSource):
    """Every `*.vcf` file directly in one folder, in name order; dotfiles and `*.tmp` (files
    being written by a sync tool) are ignored. A file that cannot be read, or is a FIFO, device
    or socket, is skipped with a warning and named in `damaged`; one listed that is gone when
    read is named in `changed_during_read`; a folder that cannot be listed is a SourceError."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        super().__init__(printable(self.path))

    @classmethod
    def from_config(cls, config: SourceConfig, cache: ListingCache | None = None,
                    key: str = "contacts[]") -> VdirSource:
        return cls(_path_of(config, key))

    def files(self) -> list[Path]:
        try:
            with os.scandir(self.path) as entries:
                names = [entry.name for entry in entries if _wanted(entry)]
        except FileNotFoundError:
            raise SourceError(f"{self.description}: cannot read contacts: no such folder") from None
        except NotADirectoryError:
            raise SourceError(f"{self.description}: cannot read contacts: not a folder") from None
        except OSError as error:
            raise SourceError(
                f"{self.description}: cannot read contacts: {_reason(error)}") from None
        return [self.path / name for name in sorted(names)]

    def read(self) -> list[Contact]:
        contacts: list[Contact] = []
        self.damaged, self.changed_during_read = [], []
        for path in self.files():
            where = printable(path)
            try:
                found = read_vcf(path)
            except FileNotFoundError:
                log.info("%s: removed while the folder was read", where)
                self.changed_during_read.append(where)
                continue
            except NotRegularFile as error:
                # Warned of by the caller.
                self.damaged.append(f"{where}: skipped: {_reason(error)}")
                continue
            except OSError as error:
                log.warning("%s: cannot read: %s; skipped", where, _reason(error))
                self.damaged.append(f"{where}: cannot be read ({_reason(error)})")
                continue
            contacts.extend(found.contacts)
            if found.problem:
                self.damaged.append(found.problem)
            if found.changed:
                self.changed_during_read.append(where)
        return dedupe(contacts)

    def watch_paths(self) -> list[Path]:
        return [self.path]


def _path_of(config: SourceConfig, key: str) -> Path:
    if config.path is None:
        raise SourceError(f"{key}.path: a {config.type} source needs one")
    return config.path


def _wanted(entry: os.DirEntry[str]) -> bool:
    name = entry.name
    if name.startswith(".") or not name.lower().endswith(".vcf"):
        return False  # `.tmp` files end in `.tmp`, so they fall here too
    try:
        if entry.is_file():
            return True
        # A FIFO, device or socket is listed, so that reading it says why it is skipped.
        return not stat.S_ISDIR(entry.stat().st_mode)
    except OSError:
        return False  # a dangling link


SOURCE_TYPES.update(vdir=VdirSource, vcf=VcfFileSource)
