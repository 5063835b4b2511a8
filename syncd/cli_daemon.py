"""`syncd run` and `syncd install-service`: the daemon and its systemd units (`syncd status` is
in `syncd.cli_status`)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from syncd.cli_common import config_option, load
from syncd.daemon import Daemon
from syncd.errors import SyncdError

UNITS = ("syncd.service", "syncd@.service", "syncd-sync.service", "syncd-sync.timer")


@click.command()
@config_option
@click.pass_context
def run(ctx: click.Context, config_path: Path | None) -> None:
    """Run as a daemon: sync at once, then on every contact change, every poll and at midnight.
    SIGHUP reloads the configuration; SIGTERM finishes the current write and exits."""
    config = load(ctx, config_path)
    sys.exit(Daemon(config.path).run())


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
    for command in (run, install_service):
        main.add_command(command)
