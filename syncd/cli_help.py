"""How `syncd --help` and the man page group the commands: by what a person is doing."""

from __future__ import annotations

import click

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Everyday", ("plan", "sync", "ideas", "log", "balance")),
    ("Setup", ("init", "config", "install-service")),
    ("Daemon", ("run", "status")),
    ("Data", ("contacts", "ledger", "state")),
    ("Try", ("demo",)),
)
OTHER = "Other"  # a command added without a place above still shows, here


def sections(group: click.Group,
             ctx: click.Context) -> list[tuple[str, list[tuple[str, click.Command]]]]:
    """(title, [(name, command)]) for each section that has a visible command, in SECTIONS order,
    then every other visible command under OTHER, by name."""
    visible: dict[str, click.Command] = {}
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is not None and not command.hidden:
            visible[name] = command
    out: list[tuple[str, list[tuple[str, click.Command]]]] = []
    for title, names in SECTIONS:
        listed = [(name, visible.pop(name)) for name in names if name in visible]
        if listed:
            out.append((title, listed))
    if visible:
        out.append((OTHER, sorted(visible.items())))
    return out


def format_sections(group: click.Group, ctx: click.Context, formatter: click.HelpFormatter) -> None:
    """click's one "Commands:" list, as one list per section, the names aligned across them."""
    grouped = sections(group, ctx)
    if not grouped:
        return
    width = max(len(name) for _, commands in grouped for name, _ in commands)
    limit = formatter.width - 6 - width
    for title, commands in grouped:
        rows = [(name.ljust(width), command.get_short_help_str(limit))
                for name, command in commands]
        with formatter.section(title):
            formatter.write_dl(rows)
