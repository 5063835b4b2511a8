"""`syncd status`: is a daemon running, how did the last cycle go (the daemon's, a `syncd sync`'s
or the timer's), what is due next and for whom. Everything comes from the state file: the names
are those the cycle kept of the people with follow-ups (the `people` table), so a status bar
refreshing every few seconds never reads the address book or asks a server."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import click

from syncd import clock
from syncd.cli_common import config_option, json_option, load, resolve_today, table, today_option
from syncd.config import Config
from syncd.cycle import DAEMON, TIMER
from syncd.daemon import StateLock
from syncd.ledger import Ledger
from syncd.state import OTHER_INSTANCE, OURS, State, Written
from syncd.terminal import shown

_KIND_NAMES = {DAEMON: "the daemon", TIMER: "syncd-sync.timer"}
_SHORT_ERROR = 60  # characters of an error kept in the one-line form


@click.command()
@config_option
@today_option
@json_option
@click.option("--short", is_flag=True,
              help="One line for a status bar: "
                   "`syncd: ok 14:05 · 3 due · next Maria Rossi 12-03`.")
@click.pass_context
def status(ctx: click.Context, config_path: Path | None, today: dt.datetime | None,
           as_json: bool, short: bool) -> None:
    """Is a daemon running, how did the last cycle go (daemon, `syncd sync` or timer), what is
    due next. Times are in `timezone:`."""
    config = load(ctx, config_path)
    day = resolve_today(today, config)
    data = _gather(config, day)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif short:
        click.echo(short_line(data, day, clock.now_in(config.timezone)))
    else:
        _print(data)


def _gather(config: Config, day: dt.date) -> dict[str, Any]:
    pid = StateLock.holder(config.state)
    recorded: dict[str, str] = {}
    written: dict[str, Written] = {}
    targets: dict[str, dict[str, int]] = {}
    names: dict[str, str] = {}
    if config.state.exists():
        with State(config.state) as state:
            recorded = state.status()
            current = recorded.get("target")
            written = state.written(current) if current else state.written()
            targets = {t: owners for t, owners in state.targets().items()
                       if current and t not in (current, "") and owners.get(OURS)}
            if written:
                names = {uid: known.name for uid, known in Ledger(state).known().items()}
    open_ = [w for w in written.values() if w.owner == OURS]
    others = Counter(w.writer.rpartition("@")[2] for w in written.values()
                     if w.owner == OTHER_INSTANCE)
    upcoming = sorted((w for w in open_ if w.due >= day), key=lambda w: (w.due, w.reason))
    later = next((w for w in upcoming if w.due > day), None)
    ok = recorded.get("last_ok")
    return {
        "running": pid is not None,
        "pid": pid,
        "last_cycle": _in_zone(recorded.get("last_cycle"), config.timezone),
        "last_kind": recorded.get("last_kind"),
        "last_ok": None if ok is None else ok == "1",
        "last_result": recorded.get("last_result"),
        "timezone": config.timezone,
        "errors": json.loads(recorded.get("errors", "{}")),
        "open_followups": dict(sorted(Counter(w.reason for w in open_).items())),
        "overdue": sum(1 for w in open_ if w.due < day),
        "due_today": sum(1 for w in open_ if w.due == day),
        "next_due": [_due(w, names) for w in upcoming[:10]],
        "next_after_today": _due(later, names) if later else None,
        "calendar": recorded.get("target"),
        "earlier_calendars": {t: owners[OURS] for t, owners in sorted(targets.items())},
        "other_instances": dict(sorted(others.items())),
    }


def _due(row: Written, names: dict[str, str]) -> dict[str, str | None]:
    return {"due": row.due.isoformat(), "reason": row.reason, "contact_uid": row.contact_uid,
            "contact_name": names.get(row.contact_uid)}


def _in_zone(stamp: str | None, timezone: str | None) -> str | None:
    """A recorded UTC time in `timezone:` (the system's zone when not set), with its offset."""
    if not stamp:
        return None
    try:
        moment = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return moment.astimezone(clock.zone(timezone)).isoformat(timespec="seconds")


def _print(data: dict[str, Any]) -> None:
    pid = data["pid"]
    click.echo(f"daemon: {'running, pid ' + str(pid) if pid else 'not running'}")
    click.echo(shown(f"last cycle: {_last_cycle(data)}"))
    for server, message in data["errors"].items():
        click.echo(shown(f"last error at {server}: {message}"))
    counts = ", ".join(f"{n} {reason}" for reason, n in data["open_followups"].items())
    click.echo(f"open follow-ups: {counts or 'none'} ({data['overdue']} overdue, "
               f"{data['due_today']} due today)")
    for host, count in data["other_instances"].items():
        click.echo(f"also in this calendar: {count} follow-ups written by syncd on "
                   f"{shown(host)} (another state file); left to it")
    for target, count in data["earlier_calendars"].items():
        click.echo(f"earlier calendar {shown(_place(target))}: {count} follow-ups syncd wrote "
                   "there and now leaves alone; delete them there (or the whole calendar) if "
                   "you no longer want them")
    if data["next_due"]:
        click.echo("next due:")
        table(("due", "reason", "contact", "uid"),
              [(n["due"], n["reason"], n["contact_name"] or "?", n["contact_uid"])
               for n in data["next_due"]])


def _last_cycle(data: dict[str, Any]) -> str:
    """`2026-12-02 14:05 CET, by syncd sync: ok: 1 created, …`, or `never`."""
    if not data["last_cycle"]:
        return "never"
    moment = dt.datetime.fromisoformat(data["last_cycle"])
    moment = moment.astimezone(clock.zone(data["timezone"]))  # its zone's name, not an offset
    kind = data["last_kind"]
    by = f", by {_KIND_NAMES.get(kind, f'syncd {kind}')}" if kind else ""
    result = data["last_result"] or "-"
    if data["last_ok"] is True:
        result = f"ok: {result}"
    elif not _failed(data) and data["last_ok"] is False:
        result = f"with errors: {result}"
    return f"{moment.strftime('%Y-%m-%d %H:%M %Z').rstrip()}{by}: {result}"


def _failed(data: dict[str, Any]) -> bool:
    """The cycle failed as a whole (also as an earlier syncd, which did not record `last_ok`,
    said it)."""
    return (data["last_result"] or "").startswith(("failed", "stopped"))


def short_line(data: dict[str, Any], today: dt.date, now: dt.datetime) -> str:
    """The one-line form: `syncd: ok 14:05 · 3 due · next Maria Rossi 12-03`. `due`: open
    follow-ups due today or overdue; `next`: the first one due after today. The time of the
    last cycle gets its day when it was not today."""
    if not data["last_cycle"]:
        head = "syncd: never synced"
    else:
        moment = dt.datetime.fromisoformat(data["last_cycle"])
        when = moment.strftime("%H:%M" if moment.date() == now.date() else "%m-%d %H:%M")
        if data["last_ok"] is False or _failed(data):
            error = next(iter(data["errors"].values()), None) or data["last_result"] or ""
            if len(error) > _SHORT_ERROR:
                error = error[:_SHORT_ERROR - 1] + "…"
            head = f"syncd: error {when} {error}".rstrip()
        else:
            head = f"syncd: ok {when}"
    parts = [head, f"{data['overdue'] + data['due_today']} due"]
    later = data["next_after_today"]
    if later:
        due = dt.date.fromisoformat(later["due"])
        on = due.strftime("%m-%d" if due.year == today.year else "%Y-%m-%d")
        parts.append(f"next {later['contact_name'] or later['contact_uid']} {on}")
    return shown(" · ".join(parts))


def _place(target: str) -> str:
    """A target's identity as a person knows it: the folder without syncd's marker id."""
    if not target.startswith("local:"):
        return target
    return target.removeprefix("local:").rpartition("#")[0]


def register(main: click.Group) -> None:
    main.add_command(status)
