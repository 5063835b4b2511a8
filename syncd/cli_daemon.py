"""`syncd run` and `syncd install-service`: the daemon and its systemd units (`syncd status` is
in `syncd.cli_status`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from syncd import service
from syncd.cli_common import config_option, load
from syncd.config import default_config_path
from syncd.config_types import current_profile
from syncd.daemon import Daemon
from syncd.errors import SyncdError
from syncd.terminal import shown


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
    for command in (run, install_service):
        main.add_command(command)
