"""The `syncd` command. Thin: parses arguments, calls the cycle, prints. Logs go to stderr,
results (tables, JSON) to stdout."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from syncd import __version__, cycle
from syncd.config import Config, effective_yaml, load_config
from syncd.errors import ConfigError, SyncdError
from syncd.model import Contact, FollowUp
from syncd.render import summary
from syncd.state import State

log = logging.getLogger(__name__)

_config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Configuration file (default: $XDG_CONFIG_HOME/syncd/config.yaml, or $SYNCD_CONFIG).",
)
_today_option = click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Plan as if today were this day (YYYY-MM-DD).",
)


class _Group(click.Group):
    """Turns every SyncdError into clear lines on stderr and its exit code: the one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            for problem in error.problems:
                click.echo(problem, err=True)
            ctx.exit(error.exit_code)
        except SyncdError as error:
            click.echo(f"syncd: error: {error}", err=True)
            log.debug("traceback", exc_info=True)
            ctx.exit(error.exit_code)


@click.group(cls=_Group)
@_config_option
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="warning",
    show_default=True,
    help="How much to log to stderr.",
)
@click.version_option(__version__, prog_name="syncd")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, log_level: str) -> None:
    """Keeps relationships alive: reads your vCards and writes follow-ups into your calendar."""
    logging.basicConfig(
        level=log_level.upper(), stream=sys.stderr, format="syncd: %(levelname)s: %(message)s"
    )
    ctx.obj = {"config_path": config_path}


def _load(ctx: click.Context, config_path: Path | None) -> Config:
    return load_config(config_path or ctx.obj["config_path"])


def _today(value: dt.datetime | None) -> dt.date:
    return value.date() if value else dt.date.today()


@main.group("config")
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("check")
@_config_option
@click.pass_context
def config_check(ctx: click.Context, config_path: Path | None) -> None:
    """Validate the configuration and print it with every default filled in."""
    config = _load(ctx, config_path)
    click.echo(f"# {config.path}: valid", err=True)
    click.echo(effective_yaml(config), nl=False)


@main.command()
@_config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def contacts(ctx: click.Context, config_path: Path | None, as_json: bool) -> None:
    """List the contacts read from every source, with their interest tags."""
    config = _load(ctx, config_path)
    people = cycle.read_contacts(config).contacts
    if as_json:
        click.echo(json.dumps([_contact_json(c) for c in people], ensure_ascii=False, indent=2))
        return
    rows = [(c.name, " ".join(f"#{t}" for t in c.interests), c.birthday.iso() if c.birthday else "",
             c.where) for c in people]
    _table(("name", "interests", "birthday", "source"), rows)


@main.command("plan")
@_config_option
@_today_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def plan_command(
    ctx: click.Context, config_path: Path | None, today: dt.datetime | None, as_json: bool
) -> None:
    """Show the follow-ups that would be in the calendar, without writing anything."""
    config = _load(ctx, config_path)
    people = cycle.read_contacts(config).contacts
    state = State(config.state) if config.state.exists() else None
    try:
        followups = cycle.make_plan(config, people, _today(today), state)
    finally:
        if state:
            state.close()
    language = config.me.language
    if as_json:
        data = [_followup_json(f, language) for f in followups]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    rows = [(f.due.isoformat(), f.reason, f.contact.name, summary(f, language)) for f in followups]
    _table(("due", "reason", "contact", "summary"), rows)


@main.command("sync")
@_config_option
@_today_option
@click.option("--dry-run", is_flag=True, help="Decide everything, write nothing.")
@click.pass_context
def sync_command(
    ctx: click.Context, config_path: Path | None, today: dt.datetime | None, dry_run: bool
) -> None:
    """Run one cycle: read contacts, plan, write the follow-ups into the calendar."""
    config = _load(ctx, config_path)
    target = cycle.make_target(config.calendar)
    with State(config.state) as state:
        report = cycle.sync(
            config, state, target, _today(today), dt.datetime.now(dt.timezone.utc),
            dry_run=dry_run, progress=_progress_bar() if sys.stderr.isatty() else None,
        )
    click.echo(report.summary())
    if report.errors:
        sys.exit(1)


def _progress_bar() -> Callable[[int], Callable[[], None]]:
    def start(total: int) -> Callable[[], None]:
        if total < 50:
            return lambda: None
        bar = click.progressbar(length=total, label="syncing", file=sys.stderr)
        bar.__enter__()
        done = [0]

        def step() -> None:
            bar.update(1)
            done[0] += 1
            if done[0] == total:
                bar.__exit__(None, None, None)

        return step

    return start


def _contact_json(contact: Contact) -> dict[str, Any]:
    return {
        "uid": contact.uid,
        "name": contact.name,
        "emails": list(contact.emails),
        "categories": list(contact.categories),
        "interests": list(contact.interests),
        "birthday": contact.birthday.iso() if contact.birthday else None,
        "source": contact.source,
        "line": contact.line,
    }


def _followup_json(followup: FollowUp, language: str) -> dict[str, Any]:
    return {
        "uid": followup.uid,
        "contact_uid": followup.contact.uid,
        "contact_name": followup.contact.name,
        "reason": followup.reason,
        "due": followup.due.isoformat(),
        "summary": summary(followup, language),
        "common_ground": list(followup.common_ground),
        "ideas": list(followup.ideas),
        "introductions": list(followup.introductions),
        "questions": list(followup.questions),
    }


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    for row in (headers, *rows):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


@main.command()
@click.option(
    "--samples",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("config"),
    show_default=True,
    help="Folder with the sample contacts (contacts/ and example-export.vcf).",
)
@_today_option
def demo(samples: Path, today: dt.datetime | None) -> None:
    """Sync the sample contacts into a throwaway Radicale on 127.0.0.1 and show the result."""
    from syncd.demo import run_demo

    run_demo(samples, _today(today), click.echo)
