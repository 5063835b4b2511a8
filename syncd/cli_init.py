"""`syncd init`: a starting configuration from what khard, vdirsyncer and khal already know."""

from __future__ import annotations

import json
import os
import sys
import zoneinfo
from collections.abc import Mapping, Sequence
from pathlib import Path

import click
import yaml

from syncd.cli_common import config_option
from syncd.config import default_config_path
from syncd.config_types import default_calendar_path
from syncd.discover import Discovery, Found, discover, under_home
from syncd.errors import SyncdError
from syncd.state import create_private_folders
from syncd.terminal import shown, shown_lines

CALDAV_BLOCK = """\
  # To write into a CalDAV calendar (Nextcloud, Radicale, Fastmail, ...) instead:
  # type: caldav
  # url: https://dav.example.com/remote.php/dav/
  # username: anna
  # password_command: "pass show dav"
  # calendar: Follow-ups
"""


class InitError(SyncdError):
    """`init` would replace a configuration the person has not asked it to replace."""


def _scalar(text: str) -> str:
    """`text` as a YAML scalar: plain when YAML reads it back the same, else double-quoted."""
    try:
        plain = yaml.safe_load(text) == text and "#" not in text and ": " not in text
    except yaml.YAMLError:
        plain = False
    return text if plain and text == text.strip() else json.dumps(text, ensure_ascii=False)


def language_of(env: Mapping[str, str]) -> str:
    """`it` for an Italian locale (`LC_ALL`, `LC_MESSAGES`, `LANG`, in the order libc reads
    them)."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(variable):
            return "it" if env[variable].startswith("it") else "en"
    return "en"


def starting_config(books: Sequence[Found], calendar: Path | None, home: Path, *,
                    language: str = "en", timezone: str | None = None) -> str:
    """The YAML `init` writes: the chosen sources, the calendar folder (or syncd's own default and
    a commented CalDAV block) and the few keys worth a first look, each with its comment."""
    out = ["# Written by `syncd init`. Every key is in the README's configuration reference;",
           "# `syncd config check` prints this file with every default filled in.", "",
           "# Where your contacts are."]
    out.append("contacts:")
    if books:
        for book in books:
            out += [f"  - type: {book.kind}                          # {', '.join(book.origins)}",
                    f"    path: {_scalar(under_home(book.path, home))}"]
    else:
        out += ["  - type: vdir                          # a folder of .vcf files: edit this path",
                "    path: ~/.local/share/contacts/default"]
    out += ["  # - type: carddav                     # an address book on a CardDAV server",
            "  #   url: https://dav.example.com/remote.php/dav/addressbooks/users/anna/contacts/",
            "  #   username: anna",
            '  #   password_command: "pass show dav"', "",
            "# Where follow-ups are written.", "calendar:", "  type: local"]
    if calendar is not None:
        out.append(f"  path: {_scalar(under_home(calendar, home))}   # a new calendar beside yours")
    else:
        out += ["  # path: ~/.local/share/syncd/calendar (the default)", CALDAV_BLOCK.rstrip("\n")]
    out += ["  component: todo                       # todo (tasks, VTODO) or event (VEVENT)", "",
            "# About you: shared interests become ideas for a follow-up.", "me:",
            f"  language: {language}                          "
            "# en or it: the language follow-ups are written in",
            "  interests: []                         # e.g. [sailing, leadership]"]
    if timezone:
        out += ["", "# The day changes at midnight here (from khal's local_timezone).",
                f"timezone: {_scalar(timezone)}"]
    return "\n".join(out) + "\n"


def _valid_zone(name: str | None) -> str | None:
    try:
        return name if name and zoneinfo.ZoneInfo(name) else None
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return None


def _choose_books(found: Discovery, home: Path, asks: bool) -> tuple[Found, ...]:
    chosen = found.default_addressbooks()
    if not asks or len(found.addressbooks) <= 1:
        return chosen
    for number, book in enumerate(found.addressbooks, 1):
        click.echo(f"  {number}. {_described(book, home)}")
    default = ",".join(str(found.addressbooks.index(book) + 1) for book in chosen)
    while True:
        answer = click.prompt("Address books to read (numbers, comma-separated)", default=default)
        try:
            picked = [int(part) for part in answer.replace(" ", "").split(",") if part]
            if picked and all(1 <= n <= len(found.addressbooks) for n in picked):
                return tuple(found.addressbooks[n - 1] for n in dict.fromkeys(picked))
        except ValueError:
            pass
        click.echo(f"Give numbers from 1 to {len(found.addressbooks)}, e.g. {default}.")


def _choose_calendar(found: Discovery, home: Path, asks: bool) -> Path | None:
    folder = found.followups_folder()
    if folder is None or not asks:
        return folder
    where = under_home(folder, home)
    if click.confirm(f"Write follow-ups into a new calendar folder {where}?", default=True):
        return folder
    return None


def _described(found: Found, home: Path) -> str:
    noun = "object" if found.kind == "calendar" else "card"
    items = f"{found.items} {noun}{'' if found.items == 1 else 's'}"
    return shown(f"{under_home(found.path, home)}  ({'; '.join(found.origins)}; {items})")


def _write(path: Path, text: str, force: bool) -> Path | None:
    """Writes `text` (0600: a password may be added later) and returns where the file it
    replaced was kept, if any. Without `force` an existing file is never touched. The folders it
    creates are 0700, whatever the umask."""
    create_private_folders(path.parent)
    if not force:
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise _exists(path) from None
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        return None
    kept = path.with_name(path.name + ".bak") if path.exists() else None
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    if kept:
        os.replace(path, kept)
    os.replace(temporary, path)
    return kept


def _exists(path: Path) -> InitError:
    return InitError(f"{path}: there is a configuration already; `syncd init --force` replaces "
                     "it (keeping it as .bak), `syncd config check` checks it")


def asks() -> bool:
    """Questions only for a person at a terminal; a script or a pipe gets the best candidates."""
    return sys.stdin.isatty() and sys.stdout.isatty()


@click.command("init")
@config_option
@click.option("--force", is_flag=True, help="Replace an existing configuration (kept as .bak).")
@click.option("--yes", "-y", "assume", is_flag=True,
              help="Ask nothing, even at a terminal: take what was found.")
@click.pass_context
def init_command(ctx: click.Context, config_path: Path | None, force: bool, assume: bool) -> None:
    """Write a starting configuration from what khard, vdirsyncer and khal already use.

    Looks for khard's address books, vdirsyncer's address books and calendars, khal's
    calendars and a .vcf file in the home folder; asks only at a terminal."""
    target = config_path or (ctx.find_root().obj or {}).get("config_path") or default_config_path()
    target = Path(target).expanduser()
    if target.exists() and not force:  # before any question: the answers would be lost
        raise _exists(target)
    home = Path.home()
    found = discover(home, os.environ)
    for problem in found.problems:
        click.echo(shown_lines(f"syncd: warning: {problem}"), err=True)
    interactive = asks() and not assume
    click.echo("Found:" if found.addressbooks or found.calendars else
               "Found no address book and no calendar folder (khard, vdirsyncer, khal, ~/*.vcf).")
    for book in found.addressbooks:
        click.echo(f"  address book  {_described(book, home)}")
    for folder in found.calendars:
        click.echo(f"  calendar      {_described(folder, home)}")
    books = _choose_books(found, home, interactive)
    if not books and interactive:
        answer = click.prompt("Where are your contacts (a folder of .vcf files, or a .vcf file)?",
                              type=click.Path(exists=True, path_type=Path))
        path = Path(os.path.abspath(answer.expanduser()))
        books = (Found("vdir" if path.is_dir() else "vcf", path, ("given",)),)
    calendar = _choose_calendar(found, home, interactive)
    text = starting_config(books, calendar, home, language=language_of(os.environ),
                           timezone=_valid_zone(found.timezone))
    try:
        kept = _write(target, text, force)
    except OSError as error:
        raise InitError(f"{target}: cannot write it: {error.strerror or error}") from None
    replaced = f" (the file it replaced is kept as {kept.name})" if kept else ""
    click.echo(shown(f"Wrote {target}{replaced}"))
    for book in books:
        click.echo(shown(f"  contacts: {under_home(book.path, home)}"))
    own = f"syncd's own folder, {under_home(default_calendar_path(), home)}"
    click.echo(shown(f"  calendar: {under_home(calendar, home) if calendar else own}"))
    if not books:
        click.echo(f"No address book: edit `contacts:` in {target} before going on.")
    if calendar is not None:
        _calendar_hints(found, calendar, home)
    click.echo("Next: syncd config check, then syncd plan (it writes nothing), then syncd sync.")


def _calendar_hints(found: Discovery, calendar: Path, home: Path) -> None:
    where = under_home(calendar, home)
    if found.khal_config and not found.khal_shows(calendar):
        click.echo(shown(f"For khal to show the follow-ups, add under [calendars] in "
                         f"{under_home(found.khal_config, home)}:"))
        click.echo(shown_lines(f"  [[{calendar.name}]]\n  path = {where}\n  type = calendar"))
    if any(calendar.parent == root for root in found.vdirsyncer_calendar_roots):
        click.echo(f"vdirsyncer: `vdirsyncer discover` will offer to create {calendar.name} "
                   "on your server too, so that the follow-ups reach your phone.")


def register(main: click.Group) -> None:
    main.add_command(init_command)
