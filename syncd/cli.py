"""The `syncd` command. Thin: parses arguments, calls the cycle, prints. Logs go to stderr,
results (tables, JSON) to stdout."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from syncd import (
    __version__,
    cli_daemon,
    cli_help,
    cli_ideas,
    cli_init,
    cli_ledger,
    cli_state,
    cli_status,
    cycle,
)
from syncd.cli_common import (
    config_option,
    json_option,
    load,
    resolve_today,
    table,
    today_option,
)
from syncd.config import effective_yaml
from syncd.config_check import path_problems
from syncd.demo import run_demo
from syncd.errors import ConfigError, SyncdError, TargetError
from syncd.model import Contact, FollowUp
from syncd.render import summary
from syncd.service import example_config
from syncd.state import State
from syncd.terminal import shown, shown_lines

log = logging.getLogger(__name__)


# `scheme://user:password@`: the password of a URL, in whatever a library logs.
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*):[^@\s/]*@")


class RedactingFormatter(logging.Formatter):
    """Masks the password of every URL in a log line and its traceback, whoever logs it: caldav
    logs the URL it was given at DEBUG, credentials included. Text from cards and files in a
    line is `shown`: a text argument escaped whole (its line breaks too: a name cannot forge a
    log line), the rest of the message but for the line breaks syncd put in it."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = shown_lines(_message(record))
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        return _URL_PASSWORD.sub(r"\1:********@", super().format(record))


class _Shown(str):
    """A text argument of a log call: `%s` gives it `shown`; `%r` is str's repr, which escapes
    every character that is not printable already."""

    def __str__(self) -> str:
        return shown(str.__str__(self))


def _message(record: logging.LogRecord) -> str:
    args = record.args
    if isinstance(args, tuple):
        args = tuple(_Shown(a) if isinstance(a, str) else a for a in args)
    elif isinstance(args, dict):
        args = {k: _Shown(v) if isinstance(v, str) else v for k, v in args.items()}
    if not args:
        return str(record.msg)
    try:
        return str(record.msg) % args
    except (TypeError, ValueError):  # as logging itself would: the plain message
        return record.getMessage()


class _Group(click.Group):
    """Turns every SyncdError into clear lines on stderr and its exit code: the one place. Its
    help lists the commands by section (`syncd.cli_help`)."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        cli_help.format_sections(self, ctx, formatter)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            for problem in error.problems:
                click.echo(shown_lines(problem), err=True)
            ctx.exit(error.exit_code)
        except SyncdError as error:
            click.echo(shown_lines(f"syncd: error: {error}"), err=True)
            log.debug("traceback", exc_info=True)
            ctx.exit(error.exit_code)


@click.group(cls=_Group, epilog="New here? Run syncd init, then syncd config check and syncd plan. "
                                 "More in man syncd and the README.")
@config_option
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
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("syncd: %(levelname)s: %(message)s"))
    if log_level.lower() != "debug":
        # The caldav library warns, and logs tracebacks, about answers syncd itself turns into
        # one message (an HTML page at a wrong URL, say): its own lines are for debugging.
        handler.addFilter(lambda record: not record.name.startswith("caldav"))
    logging.basicConfig(level=log_level.upper(), handlers=[handler])
    ctx.obj = {"config_path": config_path}


@main.group("config")
def config_group() -> None:
    """Inspect the configuration, or print an example to start from."""


@config_group.command("check")
@config_option
@click.pass_context
def config_check(ctx: click.Context, config_path: Path | None) -> None:
    """Validate the configuration and print it with every default filled in. Also checks that
    every contact folder and file is there and readable, and that the calendar folder and the
    state file can be made (a CardDAV source or calendar: its settings only, no request)."""
    config = load(ctx, config_path)
    problems = path_problems(config)
    if problems:
        raise ConfigError(problems)
    click.echo(f"# {config.path}: valid", err=True)
    click.echo(effective_yaml(config), nl=False)


@config_group.command("example")
def config_example() -> None:
    """Print the commented example configuration:
    `syncd config example > ~/.config/syncd/config.yaml`."""
    click.echo(example_config(), nl=False)


@main.command()
@config_option
@json_option
@click.pass_context
def contacts(ctx: click.Context, config_path: Path | None, as_json: bool) -> None:
    """List the contacts read from every source, with their interest tags. Exit 1 when a source
    could not be read (the contacts of the others are listed)."""
    config = load(ctx, config_path)
    read = cycle.read_contacts(config)
    people = read.contacts
    if as_json:
        click.echo(json.dumps([_contact_json(c) for c in people], ensure_ascii=False, indent=2))
    else:
        rows = [(c.name, " ".join(f"#{t}" for t in c.interests),
                 c.birthday.iso() if c.birthday else "", c.where) for c in people]
        table(("name", "interests", "birthday", "source"), rows)
    if read.failed:
        sys.exit(1)


@main.command("plan")
@config_option
@today_option
@json_option
@click.pass_context
def plan_command(
    ctx: click.Context, config_path: Path | None, today: dt.datetime | None, as_json: bool
) -> None:
    """Show the follow-ups that would be in the calendar, without writing to it. Exit 1 when a
    contact source could not be read (the plan of the contacts read is shown)."""
    config = load(ctx, config_path)
    read = cycle.read_contacts(config)
    state = State(config.state) if config.state.exists() else None
    try:
        people = cycle.with_ledgers(read, state, resolve_today(None, config))
        followups = cycle.make_plan(config, people, resolve_today(today, config), state)
    finally:
        if state:
            state.close()
    language = config.me.language
    if as_json:
        data = [_followup_json(f, language) for f in followups]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        rows = [(f.due.isoformat(), " + ".join((f.reason, *f.also)), f.contact.name,
                 summary(f, language)) for f in followups]
        table(("due", "reason", "contact", "summary"), rows)
    if read.failed:
        sys.exit(1)


@main.command("sync")
@config_option
@today_option
@click.option("--dry-run", is_flag=True, help="Decide everything, write nothing.")
@click.option("--accept-dismissals", is_flag=True,
              help="The follow-ups gone from the calendar were removed on purpose: record them "
                   "as dismissed, even when every one is gone or the folder lost its marker.")
@click.option("--new-ledger", is_flag=True,
              help="The state file was lost and there is no copy: start an empty ledger and keep "
                   "the follow-ups this syncd wrote to the calendar before.")
@click.pass_context
def sync_command(
    ctx: click.Context, config_path: Path | None, today: dt.datetime | None, dry_run: bool,
    accept_dismissals: bool, new_ledger: bool,
) -> None:
    """Run one cycle: read contacts, plan, write the follow-ups into the calendar."""
    config = load(ctx, config_path)
    target = cycle.make_target(config.calendar)
    with State(config.state) as state:
        try:
            report = cycle.sync(
                config, state, target, resolve_today(today, config),
                dt.datetime.now(dt.UTC), dry_run=dry_run,
                accept_dismissals=accept_dismissals, new_ledger=new_ledger,
                progress=_progress_bar() if sys.stderr.isatty() else None,
            )
        except SyncdError as error:
            if not dry_run:
                where = target.description if isinstance(error, TargetError) else "cycle"
                _record(state, f"failed: {error}", {where: str(error)}, ok=False)
            raise
        if not dry_run:
            _record(state, report.summary(), {"cycle": report.errors[-1]} if report.errors else {},
                    ok=not report.errors)
    click.echo(report.summary())
    if report.errors:
        sys.exit(1)


def _record(state: State, result: str, errors: dict[str, str], ok: bool) -> None:
    """The outcome for `syncd status`; `timer` when syncd-sync.timer started this `syncd sync`
    (systemd ≥ 250 names the timer in $TRIGGER_UNIT)."""
    by_timer = os.environ.get("TRIGGER_UNIT", "").endswith(".timer")
    try:
        cycle.record_outcome(state, result, errors, kind=cycle.TIMER if by_timer else cycle.SYNC,
                             ok=ok)
    except SyncdError as error:  # a state file that cannot be written
        # After a failed cycle its own error is the one message; after a good one, say this.
        log.log(logging.ERROR if ok else logging.DEBUG,
                "cannot record the outcome for `syncd status`: %s", error)


PROGRESS_FROM = 50  # actions in a cycle before a progress bar is worth showing


def _progress_bar() -> Callable[[int], Callable[[], None]]:
    def start(total: int) -> Callable[[], None]:
        if total < PROGRESS_FROM:
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
        "phones": list(contact.phones),
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
        "also": list(followup.also),
        "due": followup.due.isoformat(),
        "summary": summary(followup, language),
        "common_ground": list(followup.common_ground),
        "ideas": [
            {"id": s.idea.id, "kind": s.idea.kind, "title": s.idea.title, "by": s.idea.by,
             "tags": list(s.idea.tags), "language": s.idea.language, "why": s.why}
            for s in followup.ideas
        ],
        "introductions": [
            {"uid": i.other_uid, "name": i.other_name, "shared": list(i.shared)}
            for i in followup.introductions
        ],
        "questions": list(followup.questions),
    }



@main.command()
@click.option(
    "--samples",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("config"),
    show_default=True,
    help="Folder with the sample contacts (contacts/ and example-export.vcf).",
)
@today_option
def demo(samples: Path, today: dt.datetime | None) -> None:
    """Sync the sample contacts into a throwaway Radicale on 127.0.0.1 and show the result."""
    run_demo(samples, resolve_today(today), click.echo)


cli_ledger.register(main)
cli_ideas.register(main)
cli_daemon.register(main)
cli_status.register(main)
cli_state.register(main)
cli_init.register(main)
