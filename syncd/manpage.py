"""The man page, syncd(1), written from the CLI itself: every command, its help and its options.

`python -m syncd.manpage > syncd/data/syncd.1` regenerates the shipped page; a test checks that
the shipped page is what this makes now. The page has no date, so the same CLI makes the same
page on every machine, and the home folder in a default is written `~`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import click

from syncd import __version__
from syncd.cli import main as cli
from syncd.cli_help import sections

PROG = "syncd"

FILES = (
    ("~/.config/syncd/config.yaml", "The configuration (`$XDG_CONFIG_HOME/syncd/config.yaml`; "
     "`$SYNCD_CONFIG` or `--config` name another). `syncd init` writes a first one."),
    ("~/.config/syncd/NAME.yaml", "The configuration of the profile run as `syncd@NAME.service`."),
    ("~/.local/state/syncd/syncd.sqlite",
     "The state (`state:`, under `$XDG_STATE_HOME`): the ledger "
     "and what syncd wrote where; `syncd.cache.sqlite` beside it holds what was read from the "
     "servers, and can be emptied with `syncd state reset-cache`."),
    ("~/.local/share/syncd/calendar/", "The calendar folder when `calendar.type` is `local` and "
     "no `calendar.path` is given (under `$XDG_DATA_HOME`): one .ics file per follow-up, the "
     "layout khal, todoman and vdirsyncer read."),
    ("~/.config/systemd/user/syncd.service", "The user unit `syncd install-service` writes, with "
     "`syncd@.service` and `syncd-sync.timer` beside it."),
)

ENVIRONMENT = (
    ("SYNCD_CONFIG", "The configuration file, instead of the default."),
    ("XDG_CONFIG_HOME, XDG_STATE_HOME, XDG_DATA_HOME", "Where the files above are (default "
     "~/.config, ~/.local/state, ~/.local/share)."),
    ("KHARD_CONFIG, VDIRSYNCER_CONFIG", "Where `syncd init` reads khard's and vdirsyncer's "
     "configuration, as those tools do (khal's is `$XDG_CONFIG_HOME/khal/config`)."),
    ("_SYNCD_COMPLETE", "Set to bash_source, zsh_source or fish_source, `syncd` prints its shell "
     "completion script for that shell (see SHELL COMPLETION)."),
    ("NOTIFY_SOCKET, WATCHDOG_USEC", "Set by systemd: `syncd run` reports readiness and pings the "
     "watchdog."),
)

COMPLETION = (
    ("bash", 'eval "$(_SYNCD_COMPLETE=bash_source syncd)"', "in ~/.bashrc"),
    ("zsh", 'eval "$(_SYNCD_COMPLETE=zsh_source syncd)"', "in ~/.zshrc"),
    ("fish", "_SYNCD_COMPLETE=fish_source syncd > ~/.config/fish/completions/syncd.fish", "once"),
)

SEE_ALSO = "khal(1), khard(1), todoman(1), vdirsyncer(1), systemd.service(5)"


def escape(text: str) -> str:
    """Text safe in roff: backslashes and minus signs escaped, and no line that starts with a
    `.` or `'` (roff would take it for a request)."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"(?m)^([.'])", r"\\&\1", text)


def _marked(text: str) -> str:
    """`code` in help text as bold, as man pages show commands and options."""
    return re.sub(r"`([^`]+)`", r"\\fB\1\\fR", escape(text))


def _paragraphs(text: str) -> list[str]:
    text = inspect.cleandoc(text).partition("\f")[0]
    paragraphs = [" ".join(p.replace("\b\n", "").split()) for p in re.split(r"\n\s*\n", text)]
    return [p for p in paragraphs if p]


def _options(command: click.Command, ctx: click.Context,
             shared: frozenset[tuple[str, ...]] = frozenset()) -> Iterator[str]:
    """`.TP` entries for the options of `command`, but for `--help` and those in `shared` (the
    main command's, which OPTIONS lists once)."""
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option) or param.hidden or "--help" in param.opts \
                or tuple(param.opts) in shared:
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, help_text = record
        terms = [f"\\fB{escape(t)}\\fR" if t.startswith("-") else f"\\fI{escape(t)}\\fR"
                 for t in re.split(r"(, | )", names) if t not in (", ", " ")]
        separators = re.findall(r", | ", names)
        term = terms[0] + "".join(sep + t for sep, t in zip(separators, terms[1:], strict=True))
        yield ".TP"
        yield term
        yield _marked(_home_as_tilde(help_text)) if help_text else ""


def _home_as_tilde(text: str) -> str:
    """A default under the home folder (`install-service --dest`) as `~/...`, the same for
    everyone."""
    home = str(Path.home())
    if home == "/":
        return text
    return re.sub(re.escape(home) + r"(?=/|\b|$)", "~", text)


def _commands(group: click.Group, ctx: click.Context,
              prefix: str) -> Iterator[tuple[str, click.Command, click.Context]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        sub = click.Context(command, info_name=name, parent=ctx)
        yield f"{prefix} {name}", command, sub
        if isinstance(command, click.Group):
            yield from _commands(command, sub, f"{prefix} {name}")


def _entry(path: str, command: click.Command, ctx: click.Context,
           shared: frozenset[tuple[str, ...]]) -> Iterator[str]:
    usage = " ".join(command.collect_usage_pieces(ctx))
    yield ".TP"
    yield f"\\fB{escape(path)}\\fR {escape(usage)}"
    for number, paragraph in enumerate(_paragraphs(command.help or command.short_help or "")):
        if number:
            yield ".IP"
        yield _marked(paragraph)
    options = list(_options(command, ctx, shared))
    if options:
        yield ".RS"
        yield from options
        yield ".RE"


def page(main: click.Group) -> str:
    """The whole man page, roff for man(7), from the command tree of `main`."""
    ctx = click.Context(main, info_name=PROG)
    summary = _paragraphs(main.help or "")[0]
    out = [
        f'.TH SYNCD 1 "" "{PROG} {__version__}" "User Commands"',
        ".SH NAME",
        f"{PROG} \\- {escape(summary[0].lower() + summary[1:]).rstrip('.')}",
        ".SH SYNOPSIS",
        f"\\fB{PROG}\\fR [\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]...",
        ".SH DESCRIPTION",
        _marked(summary),
        ".PP",
        _marked("syncd reads the people in your address books (folders of .vcf files as khard and "
                "vdirsyncer keep them, an exported .vcf file, or a CardDAV address book), keeps a "
                "ledger of what you gave and received, and writes follow-ups (give back, keep in "
                "touch, birthdays, get to know) as tasks or events into a local calendar folder or "
                "a CalDAV calendar. It runs once (`syncd sync`) or as a daemon (`syncd run`)."),
        ".PP",
        _marked("To start: `syncd init` writes a configuration from what khard, vdirsyncer and "
                "khal already use; `syncd config check` validates it; `syncd plan` shows what "
                "would be written, and `syncd sync` writes it."),
        ".SH OPTIONS",
        *_options(main, ctx),
        ".TP",
        "\\fB\\-\\-help\\fR",
        "Show the help of syncd, or of the command it follows, and exit.",
        ".PP",
        _marked("The commands that read the configuration take `--config` too, after their name; "
                "every command takes `--help`."),
        ".SH COMMANDS",
    ]
    shared = frozenset(tuple(p.opts) for p in main.get_params(ctx) if isinstance(p, click.Option))
    for title, commands in sections(main, ctx):
        out.append(f".SS {escape(title)}")
        for name, command in commands:
            sub = click.Context(command, info_name=name, parent=ctx)
            out.extend(_entry(f"{PROG} {name}", command, sub, shared))
            if isinstance(command, click.Group):
                for path, child, child_ctx in _commands(command, sub, f"{PROG} {name}"):
                    out.extend(_entry(path, child, child_ctx, shared))
    out += [".SH FILES"]
    for path, meaning in FILES:
        out += [".TP", f"\\fI{escape(path)}\\fR", _marked(meaning)]
    out += [".SH ENVIRONMENT"]
    for name, meaning in ENVIRONMENT:
        out += [".TP", f"\\fB{escape(name)}\\fR", _marked(meaning)]
    out += [".SH EXIT STATUS",
            "0 on success; 2 on an invalid configuration (every problem listed, each with file, "
            "line and key); 1 on any other failure, with one line saying what failed and where.",
            ".SH SHELL COMPLETION",
            "Commands, options and their values complete through click's own completion:"]
    for shell, line, where in COMPLETION:
        out += [".TP", f"\\fB{shell}\\fR", f"{escape(line)}  ({escape(where)})"]
    out += [".SH SEE ALSO", escape(SEE_ALSO)]
    return "\n".join(out) + "\n"


def main() -> None:
    print(page(cli), end="")


if __name__ == "__main__":
    main()
