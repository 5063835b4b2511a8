"""`syncd state check`: whether the state file is healthy, read without writing to it."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import click

from syncd import backups
from syncd.cli_common import config_option, load
from syncd.state import SCHEMA_VERSION


@click.group()
def state() -> None:
    """Look after the state file (the ledger, and what syncd wrote)."""


@state.command("check")
@config_option
@click.pass_context
def check(ctx: click.Context, config_path: Path | None) -> None:
    """Whether the state file is whole (SQLite's integrity check, read-only, so a read-only
    or damaged file is looked at as it is), what the ledger holds, and its backups."""
    path = Path(load(ctx, config_path).state)
    problems = []
    click.echo(f"state file: {path}")
    if not path.exists() or path.stat().st_size == 0:
        problems.append("missing or empty: the next command restores the newest backup"
                        if backups.existing(path) else "missing or empty, and no backup")
    else:
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                verdict = [row[0] for row in db.execute("PRAGMA integrity_check")]
                version = db.execute("SELECT version FROM schema_version").fetchone()[0]
                counts = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                          for table in ("exchanges", "events", "written")}
            finally:
                db.close()
        except sqlite3.Error as error:
            verdict, version, counts = [f"cannot be read: {error}"], None, {}
        if verdict != ["ok"]:
            problems.append("damaged: " + "; ".join(verdict[:5]))
        elif version != SCHEMA_VERSION:
            problems.append(f"schema {version}, this syncd writes {SCHEMA_VERSION}")
        if counts:
            click.echo(f"ledger: {counts['exchanges']} exchanges, {counts['events']} events; "
                       f"{counts['written']} follow-ups written")
    found = backups.existing(path)
    click.echo(f"backups: {len(found)}" + (f", newest {found[0]}" if found else
                                             f" (in {backups.folder_of(path)})"))
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems and found:
        click.echo(f"to go back to the newest backup: stop syncd, move {path} away, and run "
                   "any syncd command", err=True)
    click.echo("healthy" if not problems else "not healthy")
    sys.exit(1 if problems else 0)


def register(main: click.Group) -> None:
    main.add_command(state)
