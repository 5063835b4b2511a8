"""Errors before work: `config check` looks at the contact sources and the folders syncd will
write, `contacts`/`plan`/`sync` exit 1 when a source fails, `--today` names a day that does not
exist. Real files and folders; permissions checked as `nobody` when the suite runs as root."""

import textwrap

import pytest

from privileges import as_nobody, unprivileged
from sync_support import run_cli as run
from syncd.config import load_config
from syncd.config_check import path_problems

CARD = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:laura\r\nFN:Laura Bianchi\r\nEND:VCARD\r\n"


def write_config(home, contacts, calendar="calendar", state="state/syncd.sqlite"):
    (home / "config.yaml").write_text(
        f"contacts:\n{textwrap.indent(contacts, '  ')}\n"
        f"calendar:\n  type: local\n  path: {calendar}\nstate: {state}\n")
    return home / "config.yaml"


@pytest.fixture
def home(tmp_path):
    (tmp_path / "contacts").mkdir()
    (tmp_path / "contacts" / "laura.vcf").write_text(CARD)
    (tmp_path / "export.vcf").write_text(CARD)
    return tmp_path


def test_sources_and_folders_that_are_there_are_valid(home):
    write_config(home, "- {type: vdir, path: contacts}\n- {type: vcf, path: export.vcf}",
                 calendar="new/calendar")  # made by the first sync
    done = run(home, "config", "check")
    assert done.stderr.startswith(f"# {home / 'config.yaml'}: valid")
    assert "contacts:" in done.stdout


def test_a_missing_contacts_folder_and_file_are_named_with_their_keys(home):
    config = write_config(home, "- {type: vdir, path: contacts}\n- {type: vdir, path: gone}\n"
                                "- {type: vcf, path: gone.vcf}")
    done = run(home, "config", "check", code=2)
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"{config}: contacts[1].path: {home / 'gone'}: no such folder",
        f"{config}: contacts[2].path: {home / 'gone.vcf'}: no such file",
    ]


def test_a_file_for_a_folder_and_a_folder_for_a_file_are_problems(home):
    config = write_config(home, "- {type: vdir, path: export.vcf}\n- {type: vcf, path: contacts}",
                          calendar="export.vcf/calendar", state="contacts/laura.vcf/s.sqlite")
    assert run(home, "config", "check", code=2).stderr.splitlines() == [
        f"{config}: contacts[0].path: {home / 'export.vcf'}: not a folder",
        f"{config}: contacts[1].path: {home / 'contacts'}: a folder, not a file",
        f"{config}: calendar.path: {home / 'export.vcf/calendar'}: cannot be created: "
        f"{home / 'export.vcf'} is not a folder",
        f"{config}: state: {home / 'contacts/laura.vcf/s.sqlite'}: its folder "
        f"{home / 'contacts/laura.vcf'}: not a folder",
    ]


def test_unreadable_sources_and_unwritable_folders_are_problems():
    with unprivileged() as home:
        (home / "contacts").mkdir()
        (home / "export.vcf").write_text(CARD)
        (home / "locked").mkdir()
        config = write_config(home, "- {type: vdir, path: contacts}\n"
                                    "- {type: vcf, path: export.vcf}",
                              calendar="locked/deeper/calendar", state="locked/syncd.sqlite")
        loaded = load_config(config)
        # Denied to the owner and to others alike: the test means the same as root (checked as
        # nobody) and as anyone else.
        modes = {home / "contacts": 0o300, home / "export.vcf": 0o200, home / "locked": 0o555}
        for path, mode in modes.items():
            path.chmod(mode)
        try:
            with as_nobody():
                problems = path_problems(loaded)
        finally:
            for path in modes:
                path.chmod(0o700)
    assert problems == [
        f"{config}: contacts[0].path: {home / 'contacts'}: cannot be read (permission denied)",
        f"{config}: contacts[1].path: {home / 'export.vcf'}: cannot be read (permission denied)",
        f"{config}: calendar.path: {home / 'locked/deeper/calendar'}: cannot be created: "
        f"{home / 'locked'} is not writable (permission denied)",
        f"{config}: state: {home / 'locked/syncd.sqlite'}: its folder {home / 'locked'}: not "
        "writable (permission denied)",
    ]


def test_a_carddav_source_is_checked_without_a_request(home):
    # Nothing listens on port 9 of loopback (discard): a request would fail the check.
    write_config(home, "- {type: carddav, url: 'http://127.0.0.1:9/contacts/'}")
    assert "valid" in run(home, "config", "check").stderr


@pytest.mark.parametrize("command", [["contacts"], ["contacts", "--json"], ["plan"],
                                     ["plan", "--json"]])
def test_contacts_and_plan_exit_1_when_a_source_fails_and_show_the_others(home, command,
                                                                           caplog):
    write_config(home, "- {type: vdir, path: contacts}\n- {type: vdir, path: gone}")
    done = run(home, *command, code=1)
    assert "Laura Bianchi" in done.stdout
    assert f"{home / 'gone'}: cannot read contacts: no such folder" in caplog.messages


def test_sync_exits_1_when_a_source_fails_and_keeps_its_work_for_the_others(home, caplog):
    write_config(home, "- {type: vdir, path: contacts}\n- {type: vdir, path: gone}")
    done = run(home, "sync", "--today", "2026-11-30", code=1)
    assert done.stdout.startswith("1 created,")
    assert f"{home / 'gone'}: cannot read contacts: no such folder" in caplog.messages
    assert len(list((home / "calendar").glob("*.ics"))) == 1


@pytest.mark.parametrize("day, message", [
    ("2026-02-30", "no such date: 2026-02-30"),
    ("2026-13-01", "no such date: 2026-13-01"),
    ("2026-2-3", "'2026-2-3' is not a day YYYY-MM-DD"),
])
def test_today_that_is_no_day_says_so(home, day, message):
    write_config(home, "- {type: vdir, path: contacts}")
    done = run(home, "plan", "--today", day, code=2)
    assert f"Invalid value for '--today': {message}" in done.stderr
