"""`syncd --help` by section, shell completion through click, and the shipped man page."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import click
from click.testing import CliRunner

from syncd import cli_help
from syncd.cli import main
from syncd.manpage import escape, page

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = "python -m syncd.manpage > syncd/data/syncd.1"


def sections_of(help_text: str) -> dict[str, list[str]]:
    """{heading: [command, ...]} of a click help text."""
    found: dict[str, list[str]] = {}
    heading = None
    for line in help_text.splitlines():
        if re.fullmatch(r"[A-Z]\w*:", line):
            heading = line[:-1]
            found[heading] = []
        elif heading and (match := re.match(r"  (\S+)\s", line)):
            found[heading].append(match[1])
        elif not line.strip():
            heading = None if heading and found[heading] else heading
    return found


def test_help_lists_every_command_once_under_its_section():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    found = sections_of(result.output)
    assert list(found)[:6] == ["Options", "Everyday", "Setup", "Daemon", "Data", "Try"]
    assert found["Everyday"][:5] == ["plan", "sync", "ideas", "log", "balance"]
    assert {"init", "config", "install-service"} <= set(found["Setup"])
    listed = [name for heading, names in found.items() if heading != "Options" for name in names]
    assert sorted(listed) == sorted(main.list_commands(click.Context(main)))
    assert "Commands:" not in result.output


def test_a_command_with_no_section_yet_is_listed_under_other_and_a_hidden_one_nowhere():
    group = type(main)("syncd", commands={
        **main.commands,
        "zebra": click.Command("zebra", help="Added by someone later."),
        "secret": click.Command("secret", help="Not for people.", hidden=True),
    })
    result = CliRunner().invoke(group, ["--help"])
    found = sections_of(result.output)
    assert found["Other"] == ["zebra"]
    assert "Added by someone later." in result.output and "secret" not in result.output
    # the names line up across sections
    starts = {line.index(line.split()[1]) for line in result.output.splitlines()
              if re.match(r"  (plan|zebra|install-service) ", line)}
    assert len(starts) == 1


def complete(shell: str, **env: str) -> str:
    done = subprocess.run([sys.executable, "-m", "syncd"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "_SYNCD_COMPLETE": shell, **env})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_completion_scripts_for_bash_zsh_and_fish():
    bash = complete("bash_source")
    assert "complete -o nosort -F _syncd_completion syncd" in bash
    assert "_SYNCD_COMPLETE=bash_complete $1" in bash
    zsh = complete("zsh_source")
    assert zsh.startswith("#compdef syncd") and "compdef _syncd_completion syncd" in zsh
    fish = complete("fish_source")
    assert 'complete --no-files --command syncd --arguments "(_syncd_completion)"' in fish
    assert "_SYNCD_COMPLETE=fish_complete" in fish
    # what the scripts ask for: the commands and options that fit
    assert complete("bash_complete", COMP_WORDS="syncd pl", COMP_CWORD="1").split() == ["plain,plan"]
    assert "plain,--force" in complete("bash_complete", COMP_WORDS="syncd init --f", COMP_CWORD="2")
    # and bash itself accepts the script
    sourced = subprocess.run(["bash", "-c", 'eval "$1" && complete -p syncd', "-", bash],
                             capture_output=True, text=True, timeout=30)
    assert sourced.stdout.strip() == "complete -o nosort -F _syncd_completion syncd", sourced.stderr


def shipped_page() -> str:
    return resources.files("syncd").joinpath("data/syncd.1").read_text(encoding="utf-8")


def test_the_shipped_man_page_is_what_the_cli_makes_now():
    assert shipped_page() == page(main), f"syncd/data/syncd.1 is stale: regenerate it with `{REGENERATE}`"


def test_the_man_page_is_roff_that_man_reads():
    text = shipped_page()
    requests = {line.split()[0] for line in text.splitlines() if line.startswith(".")}
    assert requests <= {".TH", ".SH", ".SS", ".TP", ".PP", ".IP", ".RS", ".RE"}
    assert not [line for line in text.splitlines() if line.startswith("'")]
    assert text.count(".RS") == text.count(".RE")
    headings = re.findall(r"^\.SH (.+)$", text, re.M)
    assert headings[:4] == ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS"]
    assert {"COMMANDS", "FILES", "ENVIRONMENT", "SHELL COMPLETION"} <= set(headings)
    for command in ("plan", "init", "ledger import", "state reset\\-cache", "install\\-service"):
        assert f"\\fBsyncd {command}\\fR" in text
    assert str(Path.home()) + "/" not in text
    if shutil.which("groff"):
        checked = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8"], input=text,
                                 capture_output=True, text=True, timeout=30)
        assert (checked.returncode, checked.stderr) == (0, "")
    if shutil.which("man"):
        shown = subprocess.run(["man", "--warnings", "-l", "-"], input=text, capture_output=True,
                               text=True, timeout=30, env={**os.environ, "MANWIDTH": "80"})
        assert shown.returncode == 0 and shown.stderr == "", shown.stderr
        assert "syncd init [OPTIONS]" in shown.stdout and "--today" in shown.stdout


def test_roff_escapes_what_roff_would_read_as_requests():
    assert escape(".hidden\n'quote\n-x a\\b") == "\\&.hidden\n\\&'quote\n\\-x a\\eb"


def test_pyproject_installs_the_shipped_man_page_under_share_man_man1():
    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    assert data_files == {"share/man/man1": ["syncd/data/syncd.1"]}
    assert (ROOT / "syncd/data/syncd.1").read_text() == shipped_page()


def test_sections_name_only_commands_that_exist():
    named = [name for _, names in cli_help.SECTIONS for name in names]
    assert len(named) == len(set(named))
    assert set(named) <= set(main.commands)
