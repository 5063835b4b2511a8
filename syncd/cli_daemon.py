"""`syncd run`, `syncd status` and `syncd install-service`: the daemon and its systemd units."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import click

from syncd.cli_common import config_option, json_option, load, resolve_today, table, today_option
from syncd.daemon import Daemon, StateLock
from syncd.errors import SyncdError
from syncd.state import OTHER_INSTANCE, OURS, State
from syncd.terminal import shown

UNITS = ("syncd.service", "syncd@.service", "syncd-sync.service", "syncd-sync.timer")


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
def install_service(dest: Path) -> None:
    """Copy the systemd user units into DEST, pointing at this syncd."""
    units = Path(__file__).resolve().parent.parent / "systemd"
    if not (units / "syncd.service").exists():
        raise SyncdError(f"{units}: the systemd units are not here; run from a syncd source "
                         "checkout or copy its systemd/ folder by hand")
    beside_python = Path(sys.executable).parent / "syncd"  # the venv or prefix syncd runs from
    found = beside_python if beside_python.exists() else shutil.which("syncd")
    if not found:
        raise SyncdError("cannot find the syncd executable to point the units at; install syncd "
                         "with pip or pipx first")
    executable = Path(found).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    for name in UNITS:
        text = (units / name).read_text()
        text = text.replace("ExecStart=syncd ", f"ExecStart={executable} ")
        (dest / name).write_text(text)
        click.echo(f"installed {dest / name}")
    click.echo("now: systemctl --user daemon-reload && systemctl --user enable --now syncd.service")


def register(main: click.Group) -> None:
    for command in (run, status, install_service):
        main.add_command(command)
