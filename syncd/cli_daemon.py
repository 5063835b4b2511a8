"""`syncd run`, `syncd status` and `syncd install-service`: the daemon and its systemd units."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections import Counter
from pathlib import Path

import click

from syncd import service
from syncd.cli_common import config_option, json_option, load, resolve_today, table, today_option
from syncd.config import default_config_path
from syncd.config_types import current_profile
from syncd.daemon import Daemon, StateLock
from syncd.errors import SyncdError
from syncd.state import OTHER_INSTANCE, OURS, State
from syncd.terminal import shown


@click.command()
@config_option
@click.pass_context
def run(ctx: click.Context, config_path: Path | None) -> None:
    """Run as a daemon: sync at once, then on every contact change, every poll and at midnight.
    SIGHUP reloads the configuration; SIGTERM finishes the current write and exits."""
    config = load(ctx, config_path)
    sys.exit(Daemon(config.path).run())


@click.command()
@config_option
@today_option
@json_option
@click.pass_context
def status(ctx: click.Context, config_path: Path | None, today: dt.datetime | None,
           as_json: bool) -> None:
    """Is a daemon running, how did its last cycle go, what is due next."""
    config = load(ctx, config_path)
    day = resolve_today(today, config)
    pid = StateLock.holder(config.state)
    recorded: dict[str, str] = {}
    written = {}
    targets: dict[str, dict[str, int]] = {}
    if config.state.exists():
        with State(config.state) as state:
            recorded = state.status()
            current = recorded.get("target")
            written = state.written(current) if current else state.written()
            targets = {t: owners for t, owners in state.targets().items()
                       if current and t not in (current, "") and owners.get(OURS)}
    open_ = [w for w in written.values() if w.owner == OURS]
    others = Counter(w.writer.rpartition("@")[2] for w in written.values()
                     if w.owner == OTHER_INSTANCE)
    upcoming = sorted((w for w in open_ if w.due >= day), key=lambda w: (w.due, w.reason))[:10]
    data = {
        "running": pid is not None,
        "pid": pid,
        "last_cycle": recorded.get("last_cycle"),
        "last_result": recorded.get("last_result"),
        "errors": json.loads(recorded.get("errors", "{}")),
        "open_followups": dict(sorted(Counter(w.reason for w in open_).items())),
        "overdue": sum(1 for w in open_ if w.due < day),
        "next_due": [{"due": w.due.isoformat(), "reason": w.reason, "contact_uid": w.contact_uid}
                     for w in upcoming],
        "calendar": recorded.get("target"),
        "earlier_calendars": {t: owners[OURS] for t, owners in sorted(targets.items())},
        "other_instances": dict(sorted(others.items())),
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"daemon: {'running, pid ' + str(pid) if pid else 'not running'}")
    click.echo(shown(f"last cycle: {data['last_cycle'] or 'never'}: {data['last_result'] or '-'}"))
    for server, message in data["errors"].items():
        click.echo(shown(f"last error at {server}: {message}"))
    counts = ", ".join(f"{n} {reason}" for reason, n in data["open_followups"].items())
    click.echo(f"open follow-ups: {counts or 'none'} ({data['overdue']} overdue)")
    for host, count in data["other_instances"].items():
        click.echo(f"also in this calendar: {count} follow-ups written by syncd on "
                   f"{shown(host)} (another state file); left to it")
    for target, count in data["earlier_calendars"].items():
        click.echo(f"earlier calendar {shown(_place(target))}: {count} follow-ups syncd wrote "
                   "there and now leaves alone; delete them there (or the whole calendar) if "
                   "you no longer want them")
    if upcoming:
        click.echo("next due:")
        table(("due", "reason", "contact"),
              [(w.due.isoformat(), w.reason, w.contact_uid) for w in upcoming])


def _place(target: str) -> str:
    """A target's identity as a person knows it: the folder without syncd's marker id."""
    if not target.startswith("local:"):
        return target
    return target.removeprefix("local:").rpartition("#")[0]


@click.command("install-service")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path),
              default=Path("~/.config/systemd/user").expanduser(), show_default=True)
@click.option("--profile", metavar="NAME",
              help="Let syncd@NAME.service write where ~/.config/syncd/NAME.yaml says "
                   "(default: $SYNCD_PROFILE; without either, syncd.service and the timer's).")
@click.pass_context
def install_service(ctx: click.Context, dest: Path, profile: str | None) -> None:
    """Write the systemd user units into DEST, pointing at this syncd, and a drop-in that lets
    them write the state and calendar folders of the configuration they read."""
    if (ctx.find_root().obj or {}).get("config_path"):
        raise SyncdError("install-service reads the configuration the units read (the default "
                         "one, or ~/.config/syncd/NAME.yaml with --profile NAME); --config does "
                         "not apply")
    executable = service.installed_executable()
    profile = profile or current_profile()
    source = service.profile_config_path(profile) if profile else default_config_path()
    if not profile and os.environ.get("SYNCD_CONFIG"):
        click.echo(shown(f"reading $SYNCD_CONFIG, {source}: the units read it only if the user "
                         "manager has SYNCD_CONFIG too (~/.config/environment.d/)"), err=True)
    config = service.read_config(source, profile)
    folders = service.writable_folders(config)
    for folder in service.prepare_folders(folders):
        click.echo(f"created {shown(str(folder))}")
    for name in service.UNITS:
        service.write_public(dest / name, service.unit_text(name, executable))
        click.echo(f"installed {shown(str(dest / name))}")
    for unit in service.units_for(profile):
        drop_in = dest / f"{unit}.d" / service.DROP_IN
        service.write_public(drop_in, service.drop_in_text(folders, source if config else None))
        click.echo(f"installed {shown(str(drop_in))}")
    click.echo(shown(f"syncd may write to: {', '.join(map(str, folders))}"))
    if config is None:
        click.echo(shown(f"{source}: no configuration yet; run `syncd install-service"
                         f"{' --profile ' + profile if profile else ''}` again once it is "
                         "written, so that the units may write where it says"))
    unit = f"syncd@{profile}.service" if profile else "syncd.service"
    click.echo(f"now: systemctl --user daemon-reload && systemctl --user enable --now {unit}")


def register(main: click.Group) -> None:
    for command in (run, status, install_service):
        main.add_command(command)
