"""The systemd user units shipped in `syncd/data/systemd/`, as `syncd install-service` writes
them: pointed at the installed `syncd`, and with a drop-in (`UNIT.d/paths.conf`) that lets the
sandbox (`ProtectHome=read-only`, `ProtectSystem=strict`) write where the configuration says: the
state file's folder and a local calendar folder."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from syncd.config import Config, load_config
from syncd.config_types import (
    PROFILE_VARIABLE,
    checked_profile,
    default_calendar_path,
    default_state_path,
)
from syncd.errors import SyncdError
from syncd.state import create_private_folders
from syncd.terminal import shown

UNITS = ("syncd.service", "syncd@.service", "syncd-sync.service", "syncd-sync.timer")
# Readable by everyone, whatever the umask, as systemd's own units are.
FILE_MODE = 0o644
FOLDER_MODE = 0o755
DROP_IN = "paths.conf"


def _shipped(*parts: str) -> str:
    return resources.files("syncd").joinpath("data", *parts).read_text(encoding="utf-8")


def shipped_unit(name: str) -> str:
    return _shipped("systemd", name)


def example_config() -> str:
    """The commented example configuration that ships with syncd."""
    return _shipped("config-example.yaml")


def installed_executable() -> Path:
    """The `syncd` beside the Python running this one (its venv or prefix), else on $PATH."""
    beside_python = Path(sys.executable).parent / "syncd"
    found = beside_python if beside_python.exists() else shutil.which("syncd")
    if not found:
        raise SyncdError("cannot find the syncd executable to point the units at; install syncd "
                         "with pip or pipx first")
    return Path(found).resolve()


def unit_text(name: str, executable: Path) -> str:
    command = _word(str(executable), exec_line=True)
    return shipped_unit(name).replace("ExecStart=syncd ", f"ExecStart={command} ")


def profile_config_path(profile: str) -> Path:
    """The file `syncd@NAME.service` reads: its ExecStart names `%h/.config/syncd/%i.yaml`."""
    return Path.home() / ".config" / "syncd" / f"{profile}.yaml"


def units_for(profile: str | None) -> tuple[str, ...]:
    """The units that read the configuration of `profile` (None: the default one)."""
    return (f"syncd@{profile}.service",) if profile else ("syncd.service", "syncd-sync.service")


def read_config(path: Path, profile: str | None) -> Config | None:
    """The configuration at `path` read as the unit will read it (a profile's default state is
    `NAME.sqlite`); None when there is no file yet. An invalid file raises `ConfigError`."""
    if profile:
        checked_profile(profile, "--profile")
        os.environ[PROFILE_VARIABLE] = profile  # as the syncd@NAME unit sets it
    if not path.expanduser().exists():
        return None
    return load_config(path)


def writable_folders(config: Config | None) -> list[Path]:
    """Where syncd writes under this configuration: the state file's folder (its lock, WAL,
    cache and backups live beside it) and a local calendar folder; the defaults without one."""
    state = config.state if config else default_state_path()
    folders = [state.parent]
    if config is None or config.calendar.type == "local":
        folders.append(config.calendar.path if config else default_calendar_path())
    # systemd refuses a path with `..` in it; `..` in the configuration is the folder it names.
    return list(dict.fromkeys(Path(os.path.abspath(f)) for f in folders))


def drop_in_text(folders: Iterable[Path], source: Path | None) -> str:
    """`[Service] ReadWritePaths=` for each folder; `-`: a folder that is gone is no reason not to
    start (syncd then says which folder it cannot write)."""
    origin = shown(str(source)) if source else "syncd's defaults (there is no configuration yet)"
    lines = ["# Written by `syncd install-service`: the folders syncd writes to, from",
             f"#   {origin}",
             "# Run it again after changing `state:` or `calendar.path:` there.",
             "[Service]"]
    lines += [f"ReadWritePaths={_word('-' + str(folder))}" for folder in folders]
    return "\n".join(lines) + "\n"


_NEEDS_QUOTES = frozenset(" \t\"'\\")


def _word(text: str, exec_line: bool = False) -> str:
    """`text` as one word of a unit file: `%` (a specifier) doubled, `$` (a variable, in
    ExecStart) too; quoted, `\\`, `"` and control characters escaped, if it holds any of
    them or a space."""
    escaped = text.replace("%", "%%")
    if exec_line:
        escaped = escaped.replace("$", "$$")
    if not any(char in _NEEDS_QUOTES or not char.isprintable() for char in escaped):
        return escaped
    out = []
    for char in escaped:
        if char in '\\"':
            out.append("\\" + char)
        elif char < " " or char == "\x7f":
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def prepare_folders(folders: Iterable[Path]) -> list[Path]:
    """Create the missing ones private (0700), as syncd itself would: a `ReadWritePaths=` folder
    must exist when the unit starts, and the sandbox lets syncd create nothing above it."""
    created = []
    for folder in folders:
        try:
            created += create_private_folders(folder)
        except OSError as error:
            raise SyncdError(f"{error.filename or folder}: cannot create the folder syncd will "
                             f"write to: {error.strerror or error}") from error
    return created


def write_public(path: Path, text: str) -> None:
    """Write `path` 0644 in folders made 0755, whatever the umask, replacing it atomically."""
    try:
        _make_folders(path.parent)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise SyncdError(f"{error.filename or path.parent}: cannot write the unit there: "
                         f"{error.strerror or error}") from error
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), FILE_MODE)
        os.replace(temp, path)
    except OSError as error:
        Path(temp).unlink(missing_ok=True)
        raise SyncdError(f"{path}: cannot write it: {error.strerror or error}") from error
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _make_folders(folder: Path) -> None:
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for made in reversed(missing):
        try:
            os.mkdir(made, FOLDER_MODE)
        except FileExistsError:
            continue
        os.chmod(made, FOLDER_MODE)  # the umask took bits away
