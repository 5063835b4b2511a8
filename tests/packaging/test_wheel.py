"""syncd from a wheel, in a fresh virtualenv, run from a folder outside the source tree with no
PYTHONPATH: everything a person needs (the example configuration, the systemd units) ships in the
package, and `install-service` writes units systemd accepts, able to write a khal calendar."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "syncd" / "data"
analyze = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(analyze is None, reason="systemd-analyze is not installed")

CARD = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:laura\r\nFN:Laura Bianchi\r\nEND:VCARD\r\n"


def run(*args: str | Path, env: dict[str, str], cwd: Path, timeout: int = 300
        ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=timeout)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip wheel` builds from a copy of what a build reads (pyproject, README, syncd/),
    so the build leaves nothing behind in the source tree."""
    source = tmp_path_factory.mktemp("source")
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    shutil.copytree(ROOT / "syncd", source / "syncd",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", dist, source,
        env=os.environ.copy(), cwd=dist)
    [built] = dist.glob("syncd-*.whl")
    return built


@pytest.fixture(scope="module")
def person(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> dict[str, Path]:
    """A fresh virtualenv with the wheel installed (its dependencies from the package index),
    and a home with a khard address book and a khal calendar folder in its configuration."""
    venv = tmp_path_factory.mktemp("venv")
    base = tmp_path_factory.mktemp("person")
    run(sys.executable, "-m", "venv", venv, env=os.environ.copy(), cwd=base)
    run(venv / "bin" / "pip", "install", "-q", wheel, env=os.environ.copy(), cwd=base)
    home = base / "home"
    (home / ".local" / "share" / "contacts" / "default").mkdir(parents=True)
    (home / ".local" / "share" / "contacts" / "default" / "laura.vcf").write_text(CARD)
    (home / "contacts.vcf").write_text(CARD)
    return {"venv": venv, "home": home, "cwd": base}


def env_of(person: dict[str, Path], **extra: str) -> dict[str, str]:
    """The environment of a person's shell: their HOME, no PYTHONPATH, no XDG or SYNCD variable."""
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHONPATH" and not k.startswith(("XDG_", "SYNCD_"))}
    return {**env, "HOME": str(person["home"]), **extra}


def syncd(person: dict[str, Path], *args: str | Path, **extra: str
          ) -> subprocess.CompletedProcess[str]:
    return run(person["venv"] / "bin" / "syncd", *args, env=env_of(person, **extra),
               cwd=person["cwd"])


def write_config(person: dict[str, Path], name: str, text: str) -> Path:
    folder = person["home"] / ".config" / "syncd"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text))
    return folder / name


def test_the_wheel_holds_the_units_and_the_example(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for unit in ("syncd.service", "syncd@.service", "syncd-sync.service", "syncd-sync.timer"):
        assert f"syncd/data/systemd/{unit}" in names
    assert "syncd/data/config-example.yaml" in names
    assert "syncd/data/catalog-books.yaml" in names


def test_syncd_is_imported_from_the_virtualenv(person: dict[str, Path]) -> None:
    done = run(person["venv"] / "bin" / "python", "-c",
               "import sys, syncd; print(syncd.__file__); print('\\n'.join(sys.path))",
               env=env_of(person), cwd=person["cwd"])
    where, *path = done.stdout.splitlines()
    assert Path(where).is_relative_to(person["venv"]), where
    assert not any(entry and Path(entry).resolve() == ROOT for entry in path), path


def test_config_example_prints_the_example_and_it_passes_config_check(person: dict[str, Path]
                                                                     ) -> None:
    printed = syncd(person, "config", "example").stdout
    assert printed == (SHIPPED / "config-example.yaml").read_text()
    assert yaml.safe_load(printed)["contacts"][0]["path"] == "~/.local/share/contacts/default"
    write_config(person, "config.yaml", printed)
    checked = syncd(person, "config", "check")
    assert "valid" in checked.stderr
    assert f"state: {person['home']}/.local/state/syncd/syncd.sqlite" in checked.stdout


@pytest.fixture(scope="module")
def units(person: dict[str, Path]) -> Path:
    """`install-service` under umask 000 for the default configuration, its calendar in khal's
    usual folder, and for a profile `work` copied from the example (so without `state:`)."""
    example = syncd(person, "config", "example").stdout
    write_config(person, "config.yaml", example.replace(
        "path: ~/.local/share/syncd/calendar", "path: ~/.calendars/followups"))
    write_config(person, "work.yaml", example.replace(
        "path: ~/.local/share/syncd/calendar", "path: ~/.calendars/work"))
    dest = person["home"] / ".config" / "systemd" / "user"
    for extra in ("", " --profile work"):
        run("sh", "-c", f'umask 000 && exec "$0" install-service --dest "$1"{extra}',
            person["venv"] / "bin" / "syncd", dest, env=env_of(person), cwd=person["cwd"])
    shutil.copy(dest / "syncd@.service", dest / "syncd@work.service")  # what systemd loads
    return dest


def test_install_service_points_at_the_installed_syncd(person: dict[str, Path], units: Path
                                                      ) -> None:
    executable = (person["venv"] / "bin" / "syncd").resolve()
    for name in ("syncd.service", "syncd@.service", "syncd-sync.service"):
        [line] = [ln for ln in (units / name).read_text().splitlines() if ln.startswith("ExecStart=")]
        assert line.startswith(f"ExecStart={executable} "), line
    for path in [*units.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o755 if path.is_dir() else 0o644), path


def test_the_khal_calendar_folder_is_in_read_write_paths(person: dict[str, Path], units: Path
                                                        ) -> None:
    home = person["home"]
    for unit, calendar in (("syncd.service", "followups"), ("syncd-sync.service", "followups"),
                           ("syncd@work.service", "work")):
        text = (units / f"{unit}.d" / "paths.conf").read_text()
        assert re.findall(r"^ReadWritePaths=(.*)$", text, re.MULTILINE) == [
            f"-{home}/.local/state/syncd", f"-{home}/.calendars/{calendar}"], unit
        assert (home / ".calendars" / calendar).is_dir()
    # The profile, copied from the example, has a state file of its own.
    checked = syncd(person, "config", "check", SYNCD_PROFILE="work")
    assert f"state: {home}/.local/state/syncd/work.sqlite" in checked.stdout
    assert f"path: {home}/.calendars/work" in checked.stdout


@needs_systemd
def test_systemd_accepts_the_installed_units(units: Path, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path)}
    names = ["syncd.service", "syncd-sync.service", "syncd-sync.timer", "syncd@work.service"]
    done = subprocess.run([analyze, "verify", "--user", "--man=no", *(str(units / n) for n in names)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
    for name in ("syncd.service", "syncd@work.service"):
        done = subprocess.run([analyze, "security", "--user", "--offline=true", "--no-pager",
                               str(units / name)], capture_output=True, text=True, timeout=120,
                              env=env)
        level = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout).group(1))
        assert level <= 2.5, (name, level)


def test_init_finds_the_khard_address_book_and_what_it_writes_passes_config_check(person):
    """Issue 16's first "done when": from the wheel, `syncd init` in a home with khard set up."""
    home = person["home"]
    khard = home / ".config" / "khard" / "khard.conf"
    khard.parent.mkdir(parents=True, exist_ok=True)
    khard.write_text("[addressbooks]\n[[default]]\npath = ~/.local/share/contacts/default/\n")
    config = home / "init-test" / "config.yaml"
    said = syncd(person, "init", "--config", config).stdout
    assert "khard" in said and "syncd config check" in said, said
    written = yaml.safe_load(config.read_text())
    # written as khard's file says it, under the home folder
    assert written["contacts"] == [{"type": "vdir", "path": "~/.local/share/contacts/default"}]
    check = subprocess.run([str(person["venv"] / "bin" / "syncd"), "config", "check",
                            "--config", str(config)], capture_output=True, text=True,
                           env=env_of(person), cwd=person["cwd"], timeout=60)
    assert check.returncode == 0 and check.stderr.strip().endswith(": valid"), check.stderr
    contacts = syncd(person, "contacts", "--config", config).stdout
    assert "Laura Bianchi" in contacts
