"""What a khard, vdirsyncer or khal user already has: their address books and calendar folders.

Reads the three tools' own configuration files where they look for them (`$KHARD_CONFIG`,
`$VDIRSYNCER_CONFIG`, `~/.vdirsyncer/config`, `$XDG_CONFIG_HOME/...`, `~/.khal/khal.conf`) and the
home folder, and never writes anything. khard's and khal's files are configobj ini
(`[addressbooks]`, then `[[name]]` and `path = ...`); vdirsyncer's are `[storage NAME]`
sections whose values are JSON (`path = "~/.contacts/"`). A file that cannot be read or parsed
is one problem naming it (and the line), and the rest of the discovery goes on. The parsers
take text and return values; `discover` does the reading.
"""

from __future__ import annotations

import configparser
import glob
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from syncd.targets.local import MARKER

CONTACTS_EXT = ".vcf"
CALENDAR_EXT = ".ics"
FOLLOWUPS = "followups"


@dataclass(frozen=True)
class Found:
    """A folder of cards (`vdir`), a file of cards (`vcf`) or a calendar folder (`calendar`)."""

    kind: str
    path: Path
    origins: tuple[str, ...]  # who uses it: "khard address book family", "home folder", ...
    items: int = 0  # the .vcf / .ics files in the folder, the cards in a .vcf file


@dataclass(frozen=True)
class Discovery:
    # The best first: khard's, vdirsyncer's, khal's birthdays, ~/*.vcf.
    addressbooks: tuple[Found, ...]
    calendars: tuple[Found, ...]
    # Folders holding one folder per calendar (khal's `~/.calendars`).
    calendar_homes: tuple[Path, ...]
    khal_config: Path | None
    khal_globs: tuple[str, ...]  # khal `type = discover` paths: a new folder there shows in khal
    vdirsyncer_calendar_roots: tuple[Path, ...]  # storages with `collections`: a new folder syncs
    timezone: str | None  # khal's `[locale] local_timezone`
    problems: tuple[str, ...] = field(default=())

    def default_addressbooks(self) -> tuple[Found, ...]:
        """What `init` takes without asking: every address book of the first tool that has
        one (a khard user's books, all of them), else the largest .vcf file in the home folder."""
        if not self.addressbooks:
            return ()
        first = _tool(self.addressbooks[0])
        if first == "home":
            vcf_files = (f for f in self.addressbooks if _tool(f) == first)
            return (max(vcf_files, key=lambda f: f.items),)
        return tuple(f for f in self.addressbooks if _tool(f) == first)

    def followups_folder(self) -> Path | None:
        """A new folder for the follow-ups beside the calendars khal and vdirsyncer read: where
        khal's `discover` glob and vdirsyncer's collections pick it up. A folder of that name
        holding someone else's calendar is left alone: then `syncd-followups`."""
        if not self.calendar_homes:
            return None
        home = self.calendar_homes[0]
        for name in (FOLLOWUPS, f"syncd-{FOLLOWUPS}", f"syncd-{FOLLOWUPS}-2"):
            folder = home / name
            ours_or_empty = folder.is_dir() and ((folder / MARKER).exists() or _empty(folder))
            if not folder.exists() or ours_or_empty:
                return folder
        return None

    def khal_shows(self, folder: Path) -> bool:
        """Whether one of khal's `type = discover` globs matches `folder` (khal then shows it)."""
        return any(_glob_matches(pattern, folder) for pattern in self.khal_globs)


def _empty(folder: Path) -> bool:
    try:
        return not any(folder.iterdir())
    except OSError:
        return False


def _tool(found: Found) -> str:
    return found.origins[0].split(" ", 1)[0]  # khard, vdirsyncer, khal or home


# -- configobj ini (khard, khal) -----------------------------------------------------------------

_SECTION = re.compile(r"\s*(\[+)\s*(.*?)\s*(\]+)\s*(#.*)?$")
_OPTION = re.compile(r"\s*([^=\s][^=]*?)\s*=\s*(.*?)\s*$")
Option = tuple[tuple[str, ...], str, str, int]  # (section path, key, value, line)
Problems = list[tuple[int, str]]  # (line, problem)


def read_configobj(text: str) -> tuple[list[Option], Problems]:
    """(section path, key, value, line) for every `key = value` of a configobj ini text, and
    (line, problem) for the lines that are neither. Values lose their quotes and inline comments."""
    options: list[Option] = []
    problems: Problems = []
    path: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if section := _SECTION.match(line):
            depth = len(section[1])
            if depth != len(section[3]) or depth > len(path) + 1:
                problems.append(
                    (number, f"a section header that does not fit here: {line.strip()}"))
                continue
            path[depth - 1:] = [section[2]]
        elif option := _OPTION.match(line):
            options.append((tuple(path), option[1], _unquote(option[2]), number))
        else:
            problems.append((number, f"neither a [section] nor key = value: {line.strip()}"))
    return options, problems


def _unquote(value: str) -> str:
    if value[:1] in ("'", '"') and (end := value.find(value[0], 1)) > 0:
        return value[1:end]
    return value.split(" #", 1)[0].split("\t#", 1)[0].strip()


def _subsections(options: list[Option], parent: str) -> dict[str, dict[str, str]]:
    """{name: {key: value}} of the `[[name]]` subsections of `[parent]`."""
    found: dict[str, dict[str, str]] = {}
    for section, key, value, _ in options:
        if section[:-1] == (parent,):
            found.setdefault(section[-1], {})[key] = value
    return found


def khard_addressbooks(text: str) -> tuple[list[tuple[str, str, bool]], Problems]:
    """(name, path, is a glob) for each `[addressbooks]` `[[name]]`; `type = discover` paths
    are globs."""
    options, problems = read_configobj(text)
    books = _subsections(options, "addressbooks")
    found = [(name, o["path"], o.get("type") == "discover")
             for name, o in books.items() if "path" in o]
    return found, problems


def khal_calendars(text: str) -> tuple[list[tuple[str, str, str]], str | None, Problems]:
    """(name, path, type) for each `[calendars]` `[[name]]` (type: calendar, birthdays or
    discover, whose path is a glob), and `[locale] local_timezone`."""
    options, problems = read_configobj(text)
    calendars = _subsections(options, "calendars")
    timezone = next((value for section, key, value, _ in options
                     if section == ("locale",) and key == "local_timezone" and value), None)
    found = [(name, o["path"], o.get("type", "calendar"))
             for name, o in calendars.items() if "path" in o]
    return found, timezone, problems


# -- vdirsyncer ----------------------------------------------------------------------------------

def vdirsyncer_storages(text: str) -> tuple[list[tuple[str, str, str, bool]], Problems]:
    """(name, path, fileext, has collections) for each `type = "filesystem"` storage; a storage
    named by a pair with `collections` other than null holds one folder per collection."""
    parser = configparser.RawConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.ParsingError as error:
        return [], [(line, f"cannot parse {shown_line.strip()}")
                    for line, shown_line in error.errors]
    except configparser.Error as error:
        return [], [(getattr(error, "lineno", 1) or 1, error.message.splitlines()[0])]
    sections = {name: {k: _json(v) for k, v in parser.items(name)} for name in parser.sections()}
    with_collections: set[str] = set()
    for name, options in sections.items():
        if name.startswith("pair ") and options.get("collections") is not None:
            with_collections.update(str(options.get(side)) for side in ("a", "b"))
    storages: list[tuple[str, str, str, bool]] = []
    for name, options in sections.items():
        kind, _, storage = name.partition(" ")
        path = options.get("path")
        if kind == "storage" and options.get("type") == "filesystem" and isinstance(path, str):
            ext = str(options.get("fileext", ""))
            storages.append((storage, path, ext, storage in with_collections))
    return storages, []


def _json(value: str) -> object:
    try:
        return json.loads(value)
    except ValueError:  # as vdirsyncer's documentation says: "invalid JSON is a string"
        return value


# -- the machine ---------------------------------------------------------------------------------

def expand(path: str, home: Path, env: Mapping[str, str], base: Path) -> Path:
    """`~` is `home`, `$VAR` and `${VAR}` come from `env`; a relative path is relative to `base`."""
    path = re.sub(r"\$(\w+)|\$\{(\w+)\}", lambda m: env.get(m[1] or m[2], m[0]), path)
    if path == "~" or path.startswith("~/"):
        path = str(home) + path[1:]
    return Path(os.path.normpath(base / path))


def _glob_matches(pattern: str, folder: Path) -> bool:
    """Whether `folder`, which may not exist yet, is one the glob would find."""
    parts = re.split(r"(\*\*|\*|\?)", pattern.rstrip("/"))
    regex = "".join({"**": ".*", "*": "[^/]*", "?": "[^/]"}.get(p, re.escape(p)) for p in parts)
    return re.fullmatch(regex, str(folder)) is not None


def _glob_base(pattern: str) -> Path:
    """The folder a glob starts from: `~/.calendars/*` -> `~/.calendars`."""
    head = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    return Path(head if head.endswith("/") else os.path.dirname(head))


def _folders(pattern: Path) -> list[Path]:
    return sorted(Path(p) for p in glob.glob(str(pattern), recursive=True) if os.path.isdir(p))


def _collections(root: Path) -> list[Path]:
    """The folders of a vdirsyncer storage with `collections`: one per collection."""
    try:
        return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []


def _count(folder: Path, ext: str) -> int:
    try:
        return sum(1 for entry in os.scandir(folder)
                   if entry.name.endswith(ext) and entry.is_file())
    except OSError:
        return 0


def _config_file(env: Mapping[str, str], home: Path, variable: str | None,
                 *candidates: str) -> Path | None:
    """The tool's configuration file where the tool looks: `$variable`, else the first candidate
    that exists (`$XDG` is `$XDG_CONFIG_HOME`, `~` the home folder)."""
    config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    if variable and env.get(variable):
        return Path(env[variable])
    for candidate in candidates:
        path = Path(candidate.replace("$XDG", str(config_home)).replace("~", str(home), 1))
        if path.is_file():
            return path
    return None


class _Finds:
    """What the readers below gather, each path once (with every tool that uses it)."""

    def __init__(self, home: Path, env: Mapping[str, str]) -> None:
        self.home, self.env = home, env
        self.books: dict[Path, Found] = {}
        self.calendars: dict[Path, Found] = {}
        self.homes: list[Path] = []  # the best place for a new calendar folder first
        self.roots: list[Path] = []
        self.globs: list[str] = []
        self.timezone: str | None = None
        self.khal: Path | None = None
        self.problems: list[str] = []

    def add(self, into: dict[Path, Found], kind: str, path: Path, origin: str, items: int) -> None:
        if path in into:
            into[path] = Found(kind, path, (*into[path].origins, origin), into[path].items)
        else:
            into[path] = Found(kind, path, (origin,), items)

    def read(self, file: Path | None) -> str | None:
        if file is None:
            return None
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or error
            self.problems.append(f"{file}: cannot read it: {reason}")
            return None

    def report(self, file: Path, found: list[tuple[int, str]]) -> None:
        self.problems.extend(f"{file}:{line}: {message}" for line, message in found)

    def expand(self, raw: str, config: Path) -> Path:
        return expand(raw, self.home, self.env, config.parent)


def _from_khard(finds: _Finds, config: Path) -> None:
    if (text := finds.read(config)) is None:
        return
    entries, problems = khard_addressbooks(text)
    finds.report(config, problems)
    for name, raw, is_glob in entries:
        path = finds.expand(raw, config)
        for folder in _folders(path) if is_glob else [path]:
            if folder.is_dir():
                finds.add(finds.books, "vdir", folder, f"khard address book {name}",
                          _count(folder, CONTACTS_EXT))


def _from_vdirsyncer(finds: _Finds, config: Path) -> None:
    if (text := finds.read(config)) is None:
        return
    entries, problems = vdirsyncer_storages(text)
    finds.report(config, problems)
    for name, raw, ext, has_collections in entries:
        path = finds.expand(raw, config)
        folders = _collections(path) if has_collections else [path] if path.is_dir() else []
        if ext not in (CONTACTS_EXT, CALENDAR_EXT):
            continue
        into, kind = (finds.books, "vdir") if ext == CONTACTS_EXT else (finds.calendars, "calendar")
        for folder in folders:
            finds.add(into, kind, folder, f"vdirsyncer storage {name}", _count(folder, ext))
        if ext == CALENDAR_EXT and path.is_dir():
            finds.homes.append(path if has_collections else path.parent)
            if has_collections:
                finds.roots.append(path)


def _from_khal(finds: _Finds, config: Path) -> None:
    if (text := finds.read(config)) is None:
        return
    finds.khal = config
    entries, finds.timezone, problems = khal_calendars(text)
    finds.report(config, problems)
    for name, raw, kind in entries:
        path = finds.expand(raw, config)
        if kind == "discover":
            finds.globs.append(str(path))
            finds.homes.insert(0, _glob_base(str(path)))  # khal shows a new folder there by itself
        for folder in _folders(path) if kind == "discover" else [path] if path.is_dir() else []:
            if kind == "birthdays":  # khal reads the birthdays of a folder of cards
                finds.add(finds.books, "vdir", folder, f"khal birthdays {name}",
                          _count(folder, CONTACTS_EXT))
                continue
            finds.add(finds.calendars, "calendar", folder, f"khal calendar {name}",
                      _count(folder, CALENDAR_EXT))
            if kind != "discover":
                finds.homes.append(folder.parent)


def discover(home: Path, env: Mapping[str, str]) -> Discovery:
    """Everything found in `home`'s khard, vdirsyncer and khal configurations and the home
    folder."""
    finds = _Finds(home, env)
    if khard := _config_file(env, home, "KHARD_CONFIG", "$XDG/khard/khard.conf"):
        _from_khard(finds, khard)
    if vdirsyncer := _config_file(env, home, "VDIRSYNCER_CONFIG", "~/.vdirsyncer/config",
                                  "$XDG/vdirsyncer/config"):
        _from_vdirsyncer(finds, vdirsyncer)
    if khal := _config_file(env, home, None, "$XDG/khal/config", "$XDG/khal/khal.conf",
                            "~/.khal/khal.conf"):
        _from_khal(finds, khal)
    for file in sorted(home.glob("*" + CONTACTS_EXT)):
        if file.is_file():
            finds.add(finds.books, "vcf", file, "home folder", _cards(file))
    return Discovery(
        addressbooks=tuple(finds.books.values()), calendars=tuple(finds.calendars.values()),
        calendar_homes=tuple(dict.fromkeys(h for h in finds.homes if h.is_dir())),
        khal_config=finds.khal, khal_globs=tuple(finds.globs),
        vdirsyncer_calendar_roots=tuple(finds.roots), timezone=finds.timezone,
        problems=tuple(finds.problems),
    )


def _cards(file: Path) -> int:
    try:
        with file.open("rb") as lines:
            return sum(1 for line in lines if line[:11].upper() == b"BEGIN:VCARD")
    except OSError:
        return 0


def under_home(path: Path, home: Path) -> str:
    """`~/...` for a path in `home`, else the path: what a person would write in the config."""
    try:
        return "~/" + str(path.relative_to(home)) if path != home else "~"
    except ValueError:
        return str(path)

