"""What `syncd config check` verifies beyond the file itself: that every contact source is there
and readable, and that the calendar folder and the state file can be made. Every command reads
the configuration, but only `config check` looks at the disk: a source missing at sync time is
reported and the others go on, a missing one here is a configuration to fix before any work.

Each problem is one line, `{file}: {key}: {path}: {what}`. A CardDAV source or calendar is
checked for its shape only (the configuration's own validation): checking it would be a request.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from syncd.config_types import Config

_READ_FOLDER = os.R_OK | os.X_OK  # list it and open what is in it
_WRITE_FOLDER = os.W_OK | os.X_OK  # create files in it


def path_problems(config: Config) -> list[str]:
    """One line per source that cannot be read and per folder that cannot be created."""
    found: list[tuple[str, Path, str | None]] = []
    for index, source in enumerate(config.contacts):
        if source.type in ("vdir", "vcf") and source.path is not None:
            check = _folder_to_read if source.type == "vdir" else _file_to_read
            found.append((f"contacts[{index}].path", source.path, check(source.path)))
    if config.calendar.type == "local":
        path = config.calendar.path
        found.append(("calendar.path", path, _folder_to_write(path)))
    found.append(("state", config.state, _file_to_write(config.state)))
    file = config.path or "configuration"
    return [f"{file}: {key}: {_printable(path)}: {problem}" for key, path, problem in found
            if problem]


def _folder_to_read(path: Path) -> str | None:
    mode, error = _mode(path)
    if error:
        return error
    if mode is None:
        return "no such folder"
    if not stat.S_ISDIR(mode):
        return "not a folder"
    return None if _allowed(path, _READ_FOLDER) else "cannot be read (permission denied)"


def _file_to_read(path: Path) -> str | None:
    mode, error = _mode(path)
    if error:
        return error
    if mode is None:
        return "no such file"
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    return None if _allowed(path, os.R_OK) else "cannot be read (permission denied)"


def _folder_to_write(path: Path) -> str | None:  # noqa: PLR0911 (a return per problem)
    """The folder exists and files can be made in it, or the nearest folder above it that
    exists lets syncd create the rest."""
    mode, error = _mode(path)
    if error:
        return error
    if mode is not None:
        if not stat.S_ISDIR(mode):
            return "not a folder"
        return None if _allowed(path, _WRITE_FOLDER) else "not writable (permission denied)"
    above = path.parent
    while True:
        mode, error = _mode(above)
        if error:
            return f"cannot be created: {_printable(above)}: {error}"
        if mode is not None or above.parent == above:
            break
        above = above.parent
    if mode is None or not stat.S_ISDIR(mode):
        return f"cannot be created: {_printable(above)} is not a folder"
    if not _allowed(above, _WRITE_FOLDER):
        return f"cannot be created: {_printable(above)} is not writable (permission denied)"
    return None


def _file_to_write(path: Path) -> str | None:
    """A file syncd writes, with its journal beside it: the file, if there, is a writable
    file, and its folder can be written or created."""
    mode, error = _mode(path)
    if error:
        return error
    if mode is not None:
        if not stat.S_ISREG(mode):
            return "not a regular file"
        if not _allowed(path, os.R_OK | os.W_OK):
            return "not writable (permission denied)"
    problem = _folder_to_write(path.parent)
    return f"its folder {_printable(path.parent)}: {problem}" if problem else None


def _mode(path: Path) -> tuple[int | None, str | None]:
    """The file type and mode bits (None when nothing is there), or why it cannot be looked at."""
    try:
        return os.stat(path).st_mode, None
    except (FileNotFoundError, NotADirectoryError):
        return None, None
    except OSError as error:
        return None, f"cannot be looked at ({error.strerror or error})"


def _allowed(path: Path, mode: int) -> bool:
    # The effective uid, as the open() of the sync will be.
    return os.access(path, mode, effective_ids=os.access in os.supports_effective_ids)


def _printable(path: Path) -> str:
    return os.fsencode(path).decode("utf-8", "backslashreplace")
