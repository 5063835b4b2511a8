"""The shipped systemd units, installed by `syncd install-service` from the package data, with
the drop-in that lets the sandbox write where the configuration says; checked by systemd itself."""

import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from syncd.cli import main
from syncd.config import default_config_path, load_config
from syncd.errors import ConfigError
from syncd.service import UNITS, drop_in_text, shipped_unit

analyze = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(analyze is None, reason="systemd-analyze is not installed")

# khal's usual layout, with a space, a quote, a backslash and a `%` (a systemd specifier).
ODD_CALENDAR = "~/.calendars/follow ups \"100%\" a\\b"


def environment(home):
    """A person whose home is `home`, with no XDG variable, SYNCD_CONFIG or SYNCD_PROFILE."""
    return {"HOME": str(home), "XDG_CONFIG_HOME": None, "XDG_STATE_HOME": None,
            "XDG_DATA_HOME": None, "SYNCD_CONFIG": None, "SYNCD_PROFILE": None}


def install(home, *args, code=0, **env):
    """`syncd install-service ARGS` in process, as the person living in `home`."""
    result = CliRunner().invoke(main, ["install-service", *args], env={**environment(home), **env})
    assert result.exit_code == code, (result.output, result.exception)
    return result


def write_config(home, name, text):
    folder = home / ".config" / "syncd"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text))


def rw_paths(text):
    return [line.removeprefix("ReadWritePaths=") for line in text.splitlines()
            if line.startswith("ReadWritePaths=")]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The units as a subprocess installs them, for a person with a default configuration whose
    calendar is ODD_CALENDAR, and a profile `work` on CalDAV without `state:`."""
    home = tmp_path_factory.mktemp("home")
    write_config(home, "config.yaml", f"""\
        contacts: [{{type: vdir, path: ~/contacts}}]
        calendar: {{type: local, path: '{ODD_CALENDAR}'}}
        """)
    write_config(home, "work.yaml", """\
        contacts: [{type: vdir, path: ~/work-contacts}]
        calendar: {type: caldav, url: "https://dav.example/", username: anna, password_env: DAV_PW}
        """)
    dest = home / "units"
    env = {**os.environ, "HOME": str(home)}
    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "SYNCD_CONFIG",
                 "SYNCD_PROFILE"):
        env.pop(name, None)
    for extra in ([], ["--profile", "work"]):
        done = subprocess.run([sys.executable, "-m", "syncd", "install-service", "--dest", str(dest),
                               *extra], capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr
    shutil.copy(dest / "syncd@.service", dest / "syncd@work.service")  # what systemd would load
    return home, dest


def test_install_service_writes_every_unit_pointing_at_this_syncd(installed):
    _, dest = installed
    assert sorted(p.name for p in dest.iterdir() if p.is_file()) == sorted(
        [*UNITS, "syncd@work.service"])
    for name in UNITS:
        for line in (dest / name).read_text().splitlines():
            if line.startswith("ExecStart="):
                assert line.split("=", 1)[1].startswith("/"), line  # an absolute path
    template = (dest / "syncd@.service").read_text()
    assert "--config %h/.config/syncd/%i.yaml run" in template
    assert "Environment=SYNCD_PROFILE=%i" in template
    service = (dest / "syncd.service").read_text()
    for setting in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "NoNewPrivileges=yes",
                    "PrivateTmp=yes", "ProtectSystem=strict", "ProtectHome=read-only",
                    "ReadWritePaths=", "RestrictAddressFamilies=", "SystemCallFilter=@system-service"):
        assert setting in service


def test_the_drop_ins_let_the_units_write_where_the_configuration_says(installed):
    home, dest = installed
    state = home / ".local" / "state" / "syncd"
    calendar = home / ".calendars" / 'follow ups "100%" a\\b'
    expected = [f"-{state}", f'"-{home}/.calendars/follow ups \\"100%%\\" a\\\\b"']
    for unit in ("syncd.service", "syncd-sync.service"):
        text = (dest / f"{unit}.d" / "paths.conf").read_text()
        assert rw_paths(text) == expected
        assert str(home / ".config" / "syncd" / "config.yaml") in text
    # The profile writes to CalDAV: only its state folder (its state file is work.sqlite there).
    assert rw_paths((dest / "syncd@work.service.d" / "paths.conf").read_text()) == [f"-{state}"]
    # The folders exist, private, so the sandbox can bind them when the unit starts.
    for folder in (state, calendar):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


@needs_systemd
@pytest.mark.parametrize("name", [n for n in UNITS if n != "syncd@.service"] + ["syncd@work.service"])
def test_systemd_analyze_verify_passes(installed, name, tmp_path):
    """A template is verified through its instance; the drop-ins beside a unit are read too."""
    _, dest = installed
    done = subprocess.run([analyze, "verify", "--user", "--man=no", str(dest / name)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)})
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


@needs_systemd
@pytest.mark.parametrize("name", ["syncd.service", "syncd-sync.service", "syncd@work.service"])
def test_exposure_is_at_most_2_5(installed, name, tmp_path):
    _, dest = installed
    done = subprocess.run([analyze, "security", "--user", "--offline=true", "--no-pager",
                           str(dest / name)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)})
    level = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout).group(1))
    assert level <= 2.5


def test_units_are_0644_and_folders_0755_whatever_the_umask(tmp_path):
    write_config(tmp_path, "config.yaml", "contacts: [{type: vdir, path: ~/contacts}]\n")
    dest = tmp_path / "deep" / "systemd" / "user"
    old = os.umask(0)
    try:
        install(tmp_path, "--dest", str(dest))
    finally:
        os.umask(old)
    written = [p for p in (tmp_path / "deep").rglob("*")]
    assert {p.name for p in written if p.is_file()} == {*UNITS, "paths.conf"}
    for path in [tmp_path / "deep", *written]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o755 if path.is_dir() else 0o644), path
    for folder in (tmp_path / ".local" / "state" / "syncd", tmp_path / ".local" / "share" / "syncd"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_a_profile_gets_its_own_state_file_and_drop_in(tmp_path):
    write_config(tmp_path, "home.yaml", """\
        contacts: [{type: vdir, path: ~/contacts}]
        calendar: {type: local, path: ~/.calendars/home}
        """)
    result = install(tmp_path, "--dest", str(tmp_path / "units"), "--profile", "home")
    assert "enable --now syncd@home.service" in result.output
    assert not (tmp_path / "units" / "syncd.service.d").exists()
    paths = rw_paths((tmp_path / "units" / "syncd@home.service.d" / "paths.conf").read_text())
    assert paths == [f"-{tmp_path}/.local/state/syncd", f"-{tmp_path}/.calendars/home"]
    # $SYNCD_PROFILE, as for every other command, names the profile when --profile does not.
    install(tmp_path, "--dest", str(tmp_path / "again"), SYNCD_PROFILE="home")
    assert (tmp_path / "again" / "syncd@home.service.d" / "paths.conf").read_text() == \
        (tmp_path / "units" / "syncd@home.service.d" / "paths.conf").read_text()
    assert not (tmp_path / "again" / "syncd.service.d").exists()


def test_the_profile_variable_picks_the_configuration_and_the_default_state(tmp_path, monkeypatch):
    for name, value in environment(tmp_path).items():
        monkeypatch.setenv(name, value) if value else monkeypatch.delenv(name, raising=False)
    write_config(tmp_path, "config.yaml", "contacts: [{type: vdir, path: ~/contacts}]\n")
    write_config(tmp_path, "work.yaml", "contacts: [{type: vdir, path: ~/work}]\n")
    write_config(tmp_path, "mine.yaml", "contacts: [{type: vdir, path: ~/c}]\nstate: ~/mine.sqlite\n")
    states = tmp_path / ".local" / "state" / "syncd"
    assert load_config().state == states / "syncd.sqlite"
    monkeypatch.setenv("SYNCD_PROFILE", "work")
    assert default_config_path() == tmp_path / ".config" / "syncd" / "work.yaml"
    assert load_config().state == states / "work.sqlite"
    assert load_config(tmp_path / ".config" / "syncd" / "config.yaml").state == states / "work.sqlite"
    assert load_config(tmp_path / ".config" / "syncd" / "mine.yaml").state == tmp_path / "mine.sqlite"
    monkeypatch.setenv("SYNCD_PROFILE", "../work")
    with pytest.raises(ConfigError, match=r"^\$SYNCD_PROFILE: '\.\./work' is not a profile name"):
        load_config()


def test_a_bad_profile_name_or_configuration_writes_nothing(tmp_path):
    dest = tmp_path / "units"
    result = install(tmp_path, "--dest", str(dest), "--profile", "../x", code=2)
    assert "--profile: '../x' is not a profile name" in result.output
    write_config(tmp_path, "config.yaml", "contacts: [{type: vdir, path: ~/c}]\nstate: [3]\n")
    result = install(tmp_path, "--dest", str(dest), code=2)
    assert "config.yaml:2: state:" in result.output
    assert not dest.exists()


def test_without_a_configuration_the_units_get_the_default_folders_and_a_note(tmp_path):
    result = install(tmp_path, "--dest", str(tmp_path / "units"))
    assert "no configuration yet; run `syncd install-service` again once it is written" in result.output
    text = (tmp_path / "units" / "syncd.service.d" / "paths.conf").read_text()
    assert rw_paths(text) == [f"-{tmp_path}/.local/state/syncd",
                              f"-{tmp_path}/.local/share/syncd/calendar"]
    assert "syncd's defaults" in text


def test_config_option_is_refused_rather_than_ignored(tmp_path):
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "x.yaml"), "install-service",
                                       "--dest", str(tmp_path / "units")], env=environment(tmp_path))
    assert result.exit_code == 1
    assert "--config does not apply" in result.output
    assert not (tmp_path / "units").exists()


def test_a_path_that_cannot_break_out_of_its_line(tmp_path):
    text = drop_in_text([tmp_path / "a\nReadWritePaths=/etc"], tmp_path / "x\n[Service]")
    assert rw_paths(text) == [f'"-{tmp_path}/a\\x0aReadWritePaths=/etc"']
    assert [line for line in text.splitlines() if not line.startswith(("#", "ReadWritePaths="))] \
        == ["[Service]"]


def test_the_shipped_units_name_syncd_plainly():
    """install-service replaces `ExecStart=syncd ` in every shipped service with the full path."""
    for name in UNITS:
        if name.endswith(".service"):
            assert re.search(r"^ExecStart=syncd ", shipped_unit(name), re.MULTILINE), name


def test_a_dest_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "a-file").write_text("")
    result = install(tmp_path, "--dest", str(tmp_path / "a-file" / "units"), code=1)
    assert result.output.strip().splitlines()[-1] == (
        f"syncd: error: {tmp_path}/a-file/units: cannot write the unit there: Not a directory")
