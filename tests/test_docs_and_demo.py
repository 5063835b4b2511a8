"""The front door: the README documents every config key and command, and the demo works."""

import re
import subprocess
import sys
from pathlib import Path

from syncd.cli import main
from syncd.config import reference_markdown

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_carries_the_current_config_reference():
    assert reference_markdown() in README


def test_readme_documents_every_command():
    for name, command in main.commands.items():
        subcommands = getattr(command, "commands", None)
        for full in ([f"syncd {name} {sub}" for sub in subcommands] if subcommands else
                     [f"syncd {name}"]):
            assert f"`{full}" in README, full


def test_ci_runs_exactly_the_readme_test_command():
    [command] = re.findall(r"```sh\n(python3 -m venv .venv .*pytest)\n```", README)
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_demo_syncs_the_samples_into_radicale_twice():
    done = subprocess.run(
        [sys.executable, "-m", "syncd", "demo", "--today", "2026-11-30"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    first = next(line for line in lines if line.startswith("syncd sync --today"))
    again = next(line for line in lines if line.startswith("syncd sync again"))
    created = int(re.search(r"(\d+) created", first).group(1))
    assert created >= 5
    assert f"{created} unchanged" in again and "0 created, 0 updated" in again
    # Laura's card has a folded "Interests:" NOTE line with a comma list.
    assert "Common ground: #sailing #leadership" in done.stdout
    assert sum(1 for line in lines if re.match(r"  \d{4}-\d\d-\d\d  ", line)) == created
