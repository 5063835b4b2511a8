"""A folder with one `.ics` file per object: the vdir layout khal, todoman and vdirsyncer read.

Hrefs are plain file names inside the folder. The etag of a file is built from its modification
time, inode and size (as vdirsyncer's filesystem storage does), so a person's edit changes it.
Writes never leave a half-written file behind: the content goes to a hidden temporary file in the
same folder, is flushed to disk, and then appears under its final name in one step (`link` for a
create, which fails if the name is taken; `replace` for an update). Files are private (0600), and
a folder syncd creates is private too (0700).
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

from syncd.errors import PreconditionFailed, TargetError
from syncd.state import create_private_folders

log = logging.getLogger(__name__)

SUFFIX = ".ics"
TMP_SUFFIX = ".tmp"
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


class LocalTarget:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()
        self.description = str(self.path)

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
        except FileNotFoundError:
            return {}
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
        new = self._install(file, item, lambda tmp: os.replace(tmp, file), expected=etag)
        log.debug("%s: updated", file)
        return new

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
            self._check_etag(file, etag)
            os.unlink(file)
        except FileNotFoundError:
            raise PreconditionFailed(f"{file}: no longer exists") from None
        except OSError as error:
            raise TargetError(f"{file}: cannot delete: {_reason(error)}") from error
        self._sync_folder()
        log.debug("%s: deleted", file)


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError as error:
        if error.errno != errno.ENOENT:
            log.warning("%s: cannot remove temporary file: %s", path, _reason(error))
