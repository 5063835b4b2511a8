"""A folder with one `.ics` file per object: the vdir layout khal, todoman and vdirsyncer read.

Hrefs are plain file names inside the folder. The etag of a file is built from its modification
time, inode and size (as vdirsyncer's filesystem storage does), so a person's edit changes it.
Writes never leave a half-written file behind: the content goes to a hidden temporary file in the
same folder, is flushed to disk, and then appears under its final name in one step with `link`,
which fails if the name is taken. A create links it at a free name. An update or a delete holds
the folder's lock (a hidden `.syncd.lock`, removed afterwards) so that syncd processes take turns,
moves the current file aside (`rename` to a hidden name), checks that the file moved aside is the
one syncd last saw, and only then links the new file or removes the old one. Calendar apps do not
take the lock, so whatever one saves meanwhile wins: a file it put at the name stays there, a file
it rewrote in place is put back, and the update or delete raises `PreconditionFailed` (the cycle
decides again next cycle). A file moved aside by a syncd that died is put back by the next update
or delete. Files are private (0600), and a folder syncd creates is private too (0700).

The folder's identity is its resolved path and the marker syncd keeps in it (`.syncd-target`, a
random id): an unmounted disk's empty mount point, or a folder replaced, has no marker and is not
taken for the calendar syncd wrote to. A folder that is not there lists as `TargetMissing`, never
as empty.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from syncd.errors import PreconditionFailed, TargetError, TargetMissing
from syncd.state import create_private_folders
from syncd.targets import Target

log = logging.getLogger(__name__)

SUFFIX = ".ics"
TMP_SUFFIX = ".tmp"
ASIDE_SUFFIX = ".aside"
LOCK_NAME = ".syncd.lock"
_ASIDE = re.compile(r"\.(.+)\.[0-9a-f]{12}" + re.escape(ASIDE_SUFFIX))
# Kept in the folder syncd writes to: its identity (see `identity`). A dotfile, so calendar
# apps and `list()` ignore it.
MARKER = ".syncd-target"
# A UID made only of these characters is used as the file name as it is.
_SAFE_UID = re.compile(r"[A-Za-z0-9@_+=-][A-Za-z0-9@._+=-]{0,199}")


def safe_name(uid: str) -> str:
    """The file name part for a UID: the UID itself when it is safe in a file name (and in a URL
    path), else a hash of it, so that the name is always the same for the same UID."""
    if _SAFE_UID.fullmatch(uid):
        return uid
    return hashlib.sha256(uid.encode("utf-8")).hexdigest()


def etag_of(st: os.stat_result) -> str:
    return f"{st.st_mtime_ns}-{st.st_ino}-{st.st_size}"


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


class LocalTarget(Target):
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self.description = str(self.path)

    # -- identity: the folder, and the marker syncd keeps in it --------------------------------

    def place(self) -> str:
        return f"local:{self.path.resolve()}"

    def identity(self) -> str | None:
        """`local:<resolved folder>#<marker>`; None when the folder or its marker is missing
        (`absence` says which): an unmounted disk's empty mount point has no marker."""
        try:
            if not self.path.is_dir():
                if self.path.exists():
                    raise TargetMissing(f"{self.path}: not a folder")
                self.absence = "the folder does not exist"
                return None
            marker = (self.path / MARKER).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            self.absence = f"the folder has no {MARKER}, the file syncd keeps in its folder"
            return None
        except OSError as error:
            raise TargetError(f"{self.path / MARKER}: cannot read: {_reason(error)}") from error
        if not marker:
            self.absence = f"its {MARKER} file is empty"
            return None
        return f"{self.place()}#{marker}"

    def claim(self) -> str:
        """Create the folder (private) and a new marker in it."""
        self._ensure_folder()
        marker = self.path / MARKER
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(f"{secrets.token_hex(8)}\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise TargetError(f"{marker}: cannot write: {_reason(error)}") from error
        self._sync_folder()
        log.info("%s: marked as syncd's calendar folder (%s)", self.path, MARKER)
        identity = self.identity()
        assert identity is not None
        return identity

    # -- paths ---------------------------------------------------------------------------------

    def href_for(self, uid: str) -> str:
        return safe_name(uid) + SUFFIX

    def _file(self, href: str) -> Path:
        if (
            not href
            or "/" in href
            or "\\" in href
            or "\0" in href
            or href.startswith(".")
            or not href.endswith(SUFFIX)
        ):
            raise TargetError(f"{self.path}: {href!r} is not a calendar file name in this folder")
        return self.path / href

    def _ensure_folder(self) -> None:
        """Create the folder, and any missing parents, private (0700)."""
        try:
            created = create_private_folders(self.path)
        except OSError as error:
            where = error.filename or self.path
            raise TargetError(f"{where}: cannot create folder: {_reason(error)}") from error
        for folder in created:
            log.info("%s: created folder", folder)
        if not self.path.is_dir():
            raise TargetError(f"{self.path}: not a folder")

    def _write_temp(self, final: Path, item: str) -> Path:
        """Write `item` to a new private temporary file next to `final`, flushed to disk."""
        tmp = self.path / f".{final.name}.{secrets.token_hex(6)}{TMP_SUFFIX}"
        data = item.encode("utf-8")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            _unlink_quietly(tmp)
            raise
        os.close(fd)
        return tmp

    def _sync_folder(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass  # some file systems cannot sync a folder; the data itself is synced
        finally:
            os.close(fd)

    def _check_etag(self, file: Path, etag: str) -> None:
        try:
            current = etag_of(file.stat())
        except FileNotFoundError:
            raise PreconditionFailed(f"{file}: no longer exists") from None
        if current != etag:
            raise PreconditionFailed(f"{file}: changed since it was read (etag does not match)")

    # -- the Target contract -------------------------------------------------------------------

    def list(self) -> dict[str, str]:
        listing: dict[str, str] = {}
        try:
            entries = list(os.scandir(self.path))
        except (FileNotFoundError, NotADirectoryError):
            raise TargetMissing(f"{self.path}: the calendar folder is not there") from None
        except OSError as error:
            raise TargetError(f"{self.path}: cannot list folder: {_reason(error)}") from error
        for entry in entries:
            name = entry.name
            if name.startswith(".") or not name.endswith(SUFFIX):
                continue
            try:
                if not entry.is_file():
                    continue
                listing[name] = etag_of(entry.stat())
            except FileNotFoundError:
                continue  # removed while listing
            except OSError as error:
                raise TargetError(f"{entry.path}: {_reason(error)}") from error
        return listing

    def get(self, href: str) -> tuple[str, str]:
        file = self._file(href)
        try:
            with open(file, "rb") as handle:
                etag = etag_of(os.fstat(handle.fileno()))
                data = handle.read()
        except FileNotFoundError:
            raise TargetError(f"{file}: not found") from None
        except OSError as error:
            raise TargetError(f"{file}: cannot read: {_reason(error)}") from error
        # A file a person wrote in another encoding is returned readable and then left alone.
        return data.decode("utf-8", errors="replace"), etag

    def create(self, href: str, item: str) -> str:
        file = self._file(href)
        self._ensure_folder()

        def link_if_absent(tmp: Path) -> None:
            try:
                os.link(tmp, file)
            except FileExistsError:
                raise PreconditionFailed(f"{file}: already exists") from None

        etag = self._install(file, item, link_if_absent)
        log.debug("%s: created", file)
        return etag

    def update(self, href: str, item: str, etag: str) -> str:
        file = self._file(href)
        try:
            with self._locked(file):
                self._check_etag(file, etag)
                tmp = self._write_temp(file, item)
                try:
                    new = self._swap(file, tmp, etag)
                finally:
                    _unlink_quietly(tmp)  # a second name of the new file, or the unused one
        except OSError as error:
            raise TargetError(f"{file}: cannot write: {_reason(error)}") from error
        log.debug("%s: updated", file)
        return new

    def _swap(self, file: Path, tmp: Path, expected: str) -> str:
        """Put `tmp` in place of `file` if `file` is still the one with the `expected` etag and
        nobody saves it meanwhile; return the new etag."""
        # From the temporary name, before the link: once linked, the file is anyone's to edit.
        mine = etag_of(os.stat(tmp))
        aside = self._move_aside(file)
        restore = True  # whether the file moved aside goes back to its name, if that is free
        try:
            seen = self._identity(aside)
            if seen[0] != expected:
                raise PreconditionFailed(f"{file}: changed since it was read (etag does not match)")
            if not self._place(tmp, file):
                raise PreconditionFailed(f"{file}: saved by another program meanwhile; left as is")
            restore = False  # from now on, a free name means someone deleted syncd's new file
            if self._identity(aside) != seen:
                # Written in place by a program that had it open: that version returns.
                restore = True
                self._take_back(file, mine)
                raise PreconditionFailed(f"{file}: edited by another program while being "
                                         "replaced; its version is kept")
            try:
                placed = etag_of(file.stat())
            except FileNotFoundError:
                placed = None
            if placed != mine:
                raise PreconditionFailed(f"{file}: saved by another program right after being "
                                         "replaced; left as is")
        finally:
            if restore:
                self._put_back(aside, file)
            else:
                _unlink_quietly(aside)
            self._sync_folder()
        return mine

    def _install(self, file: Path, item: str, place: Callable[[Path], None],
                 expected: str | None = None) -> str:
        """Write `item` to a temporary file beside `file`, `place` it as `file` (after checking
        `file` still has the `expected` etag) and return the new etag."""
        tmp: Path | None = None
        try:
            if expected is not None:
                self._check_etag(file, expected)
            tmp = self._write_temp(file, item)
            place(tmp)
            etag = etag_of(file.stat())
            self._sync_folder()
        except OSError as error:
            raise TargetError(f"{file}: cannot write: {_reason(error)}") from error
        finally:
            if tmp is not None:
                _unlink_quietly(tmp)  # a link's leftover; gone already after a replace
        return etag

    def delete(self, href: str, etag: str) -> None:
        file = self._file(href)
        try:
            with self._locked(file):
                self._check_etag(file, etag)
                aside = self._move_aside(file)
                try:
                    if self._identity(aside)[0] != etag:
                        raise PreconditionFailed(
                            f"{file}: changed since it was read (etag does not match)")
                    os.unlink(aside)
                finally:
                    self._put_back(aside, file)
                    self._sync_folder()
                if os.path.lexists(file):
                    raise PreconditionFailed(f"{file}: saved again by another program meanwhile; "
                                             "left as is")
        except OSError as error:
            raise TargetError(f"{file}: cannot delete: {_reason(error)}") from error
        log.debug("%s: deleted", file)

    # -- taking turns with other writers -------------------------------------------------------

    @contextmanager
    def _locked(self, file: Path) -> Iterator[None]:
        """Hold the folder's lock, so that syncd processes never interleave an update or a delete.
        The lock file is removed while still held; whoever opened it before then and gets the
        lock finds it no longer at its name and opens the new one instead."""
        lock = self.path / LOCK_NAME
        while True:
            try:
                fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            except FileNotFoundError:
                raise PreconditionFailed(f"{file}: no longer exists") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                held = os.path.samestat(os.fstat(fd), os.stat(lock, follow_symlinks=False))
            except FileNotFoundError:
                held = False
            except BaseException:
                os.close(fd)
                raise
            if held:
                break
            os.close(fd)
        try:
            self._recover()
            yield
        finally:
            _unlink_quietly(lock)
            os.close(fd)

    def _recover(self) -> None:
        """Put back what a syncd that died during an update or a delete had moved aside (only the
        lock holder moves files aside, so any such file now is a leftover), unless its name has
        been taken since."""
        for entry in os.scandir(self.path):
            match = _ASIDE.fullmatch(entry.name)
            if match is None:
                continue
            try:
                file = self._file(match.group(1))
            except TargetError:
                continue
            if not os.path.lexists(file):
                log.warning("%s: put back after an interrupted write", file)
            self._put_back(Path(entry.path), file)

    def _move_aside(self, file: Path) -> Path:
        """Rename `file` to a new hidden name beside it: from then on nobody can change which
        file that is, and a program saving `file` meanwhile creates a new one."""
        aside = self.path / f".{file.name}.{secrets.token_hex(6)}{ASIDE_SUFFIX}"
        try:
            os.rename(file, aside)
        except FileNotFoundError:
            raise PreconditionFailed(f"{file}: no longer exists") from None
        return aside

    def _identity(self, path: Path) -> tuple[str, bytes]:
        """The etag and the content of `path`; the content also shows a same-size rewrite made
        within the file system's time resolution."""
        with open(path, "rb") as handle:
            return etag_of(os.fstat(handle.fileno())), handle.read()

    def _place(self, tmp: Path, file: Path) -> bool:
        """Link `tmp` as `file`; False if a file has appeared at that name (it is left alone)."""
        try:
            os.link(tmp, file)
        except FileExistsError:
            return False
        return True

    def _put_back(self, aside: Path, file: Path) -> None:
        """Return a file moved aside to its name, unless the name holds a file by now (that newer
        one stays), and remove the hidden name. Nothing to do once it is gone already."""
        try:
            os.link(aside, file)
        except FileExistsError:
            pass
        except FileNotFoundError:
            return
        _unlink_quietly(aside)

    def _take_back(self, file: Path, mine: str) -> None:
        """Remove syncd's new file (etag `mine`) from the name, so that the version moved aside
        can return; a file another program has put there meanwhile stays instead."""
        taken = self.path / f".{file.name}.{secrets.token_hex(6)}{TMP_SUFFIX}"
        try:
            os.rename(file, taken)
        except FileNotFoundError:
            return
        if etag_of(os.stat(taken)) == mine:
            os.unlink(taken)
        else:
            self._put_back(taken, file)


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError as error:
        if error.errno != errno.ENOENT:
            log.warning("%s: cannot remove temporary file: %s", path, _reason(error))
