"""Options and helpers shared by every `syncd` command module."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import click

from syncd import clock
from syncd.config import Config, load_config
from syncd.terminal import shown

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Configuration file (default: $XDG_CONFIG_HOME/syncd/config.yaml, or $SYNCD_CONFIG).",
)


class Day(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.4 only
    """A day as `YYYY-MM-DD`, given as a midnight `datetime` (what click.DateTime gave). A day
    the calendar does not have (`2026-02-30`) is named as such, not as a format error."""

    name = "YYYY-MM-DD"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        text = str(value).strip()
        match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text, re.ASCII)
        if not match:
            self.fail(f"{text!r} is not a day YYYY-MM-DD", param, ctx)
        try:
            day = dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            self.fail(f"no such date: {text}", param, ctx)
        return dt.datetime.combine(day, dt.time())


def _supported_day(ctx: click.Context, param: click.Parameter,
                   value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and not clock.FIRST_DAY <= value.date() <= clock.LAST_DAY:
        raise click.BadParameter(f"{value.date().isoformat()} is not a day syncd plans from: "
                                 f"give one from {clock.FIRST_DAY} to {clock.LAST_DAY}")
    return value


today_option = click.option(
    "--today",
    type=Day(),
    default=None,
    callback=_supported_day,
    help=f"Act as if today were this day (YYYY-MM-DD, {clock.FIRST_DAY.year} to "
         f"{clock.LAST_DAY.year}).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def load(ctx: click.Context, config_path: Path | None) -> Config:
    """The configuration named on the command, else on the group, else the default."""
    root = ctx.find_root()
    return load_config(config_path or (root.obj or {}).get("config_path"))


def resolve_today(value: dt.datetime | None, config: Config | None = None) -> dt.date:
    """`--today`, else today in the configuration's `timezone:` (as the daemon's)."""
    if value:
        return value.date()
    return clock.today(config.timezone if config else None)


def table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """Columns of text; every cell `shown` (a card's control characters escaped, so a name
    can neither forge a row nor send the terminal an escape sequence)."""
    rows = [tuple(shown(cell) for cell in row) for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    for row in (headers, *rows):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
                   .rstrip())
