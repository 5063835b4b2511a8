"""`syncd state check` (whether the state and cache files are healthy, read without writing to
them) and `syncd state reset-cache` (empty the cache: safe at any time)."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import click

from syncd import backups, cache
from syncd.cli_common import config_option, load
from syncd.state import SCHEMA_VERSION, State, missing_or_empty


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
    if missing_or_empty(path):
        problems.append("missing or empty: the next command restores the newest backup"
                        if backups.existing(path) else "missing or empty, and no backup")
    else:
        verdict, counts = _inspect(path, {
            "version": "SELECT version FROM schema_version",
            **{table: f"SELECT count(*) FROM {table}"
               for table in ("exchanges", "events", "written")},
        }, "cannot be read: ")
        version = counts.pop("version", None)
        if verdict != ["ok"]:
            problems.append("damaged: " + "; ".join(verdict[:5]))
        elif version != SCHEMA_VERSION:
            problems.append(f"schema {version}, this syncd writes {SCHEMA_VERSION}")
        if counts:
            click.echo(f"ledger: {counts['exchanges']} exchanges, {counts['events']} events; "
                       f"{counts['written']} follow-ups written")
    click.echo(_cache_health(path))
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


def _inspect(path: Path, queries: dict[str, str],
             failed: str = "") -> tuple[list[str], dict[str, int]]:
    """SQLite's integrity check of `path` and the value of each one-value query, the file opened
    read-only (so a read-only or damaged file is looked at as it is)."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = [row[0] for row in db.execute("PRAGMA integrity_check")]
            values = {name: db.execute(query).fetchone()[0] for name, query in queries.items()}
        finally:
            db.close()
    except sqlite3.Error as error:
        return [f"{failed}{error}"], {}
    return verdict, values


def _cache_health(state: Path) -> str:
    """One line on the cache file; its problems are no problem of the state: the next command
    makes a damaged cache again."""
    path = Path(cache.path_of(str(state)))
    if missing_or_empty(path):
        return f"cache: {path}: not made yet (the next sync reads every collection in full)"
    verdict, counts = _inspect(path, {table: f"SELECT count(*) FROM {table}"
                                      for table in cache.TABLES})
    if verdict != ["ok"]:
        return (f"cache: {path}: cannot be used ({'; '.join(verdict[:3])}); the next command makes "
                "it again, the ledger is not affected")
    return (f"cache: {path}: {counts['collections']} collections, "
            f"{counts['collection_items']} items")


@state.command("reset-cache")
@config_option
@click.pass_context
def reset_cache(ctx: click.Context, config_path: Path | None) -> None:
    """Empty the cache: what was read from the CalDAV and CardDAV servers (listings, sync
    tokens, parsed cards, discovered calendar URLs). The ledger and what syncd wrote are not
    touched; the next sync reads every collection in full once. Safe while the daemon runs."""
    config = load(ctx, config_path)
    with State(config.state) as opened:
        dropped = opened.reset_cache()
    click.echo(f"cache emptied ({dropped['collections']} collections, "
               f"{dropped['collection_items']} items, {dropped['discovered']} discovered URLs); "
               "the next sync reads every collection in full")


def register(main: click.Group) -> None:
    main.add_command(state)
