"""`syncd init` in a temporary home folder with real khard, vdirsyncer and khal configuration
files, and `syncd config check` on what it wrote."""

import stat
import textwrap

import pytest
import yaml
from click.testing import CliRunner

from syncd import cli_init
from syncd.cli import main
from syncd.discover import khal_calendars, khard_addressbooks, read_configobj, vdirsyncer_storages

CARD = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nEND:VCARD\r\n"


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for variable in ("XDG_CONFIG_HOME", "SYNCD_CONFIG", "KHARD_CONFIG", "VDIRSYNCER_CONFIG",
                     "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    return home


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def cards(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.vcf").write_text(CARD.format(uid=name, name=name.title()))


def run(*args, code=0, stdin=None):
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exit_code == code, (result.output, result.stderr, result.exception)
    return result


def effective(home):
    check = run("config", "check")
    assert check.stderr.strip().endswith(": valid")
    return yaml.safe_load(check.stdout)


def test_a_khard_address_book_becomes_the_contacts_and_the_config_passes_check(home):
    cards(home / "Contacts" / "private", "laura", "marco")
    write(home / ".config/khard/khard.conf", """\
        # khard's own example layout
        [addressbooks]
        [[private]]
        path = ~/Contacts/private/
        [general]
        editor = vim, -i, NONE
        """)
    result = run("init")
    written = home / ".config/syncd/config.yaml"
    assert f"Wrote {written}" in result.stdout
    assert "~/Contacts/private  (khard address book private; 2 cards)" in result.stdout
    assert "Next: syncd config check, then syncd plan" in result.stdout
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    config = effective(home)
    assert config["contacts"] == [{"type": "vdir", "path": str(home / "Contacts/private")}]
    # no calendar folder found: syncd's own folder, and a CalDAV block to uncomment
    assert config["calendar"]["type"] == "local"
    assert "# type: caldav" in written.read_text()
    listed = run("contacts").stdout
    assert "Laura" in listed and "Marco" in listed


def test_vdirsyncer_collections_and_a_khal_discover_glob_put_followups_beside_the_calendars(home):
    cards(home / ".contacts/family", "ann")
    cards(home / ".contacts/work", "bob", "carla")
    (home / ".calendars/personal").mkdir(parents=True)
    (home / ".calendars/personal/x.ics").write_text("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    write(home / ".config/vdirsyncer/config", """\
        [general]
        status_path = "~/.vdirsyncer/status/"

        [pair contacts]
        a = "contacts_local"
        b = "contacts_remote"
        collections = ["from a", "from b"]

        [storage contacts_local]
        type = "filesystem"
        path = "~/.contacts/"
        fileext = ".vcf"

        [storage contacts_remote]
        type = "carddav"
        url = "https://dav.example.com/"

        [pair calendars]
        a = "calendars_local"
        b = "calendars_remote"
        collections = ["from a", "from b"]

        [storage calendars_local]
        type = "filesystem"
        path = "~/.calendars/"
        fileext = ".ics"

        [storage calendars_remote]
        type = "caldav"
        url = "https://dav.example.com/"
        """)
    write(home / ".config/khal/config", """\
        [calendars]
          [[mine]]
            path = ~/.calendars/*
            type = discover
        [locale]
        local_timezone = Europe/Rome
        """)
    result = run("init")
    config = effective(home)
    assert [c["path"] for c in config["contacts"]] == [str(home / ".contacts/family"),
                                                      str(home / ".contacts/work")]
    assert config["calendar"] == {**config["calendar"], "type": "local",
                                  "path": str(home / ".calendars/followups")}
    assert config["timezone"] == "Europe/Rome"
    assert "calendar      ~/.calendars/personal  (vdirsyncer storage calendars_local; khal calendar mine; 1 object)" \
        in result.stdout
    assert "For khal to show" not in result.stdout  # its discover glob finds the new folder
    assert "vdirsyncer discover` will offer to create followups" in result.stdout


def test_khal_calendars_listed_one_by_one_get_the_lines_to_add(home):
    cards(home / ".local/share/contacts/default", "ann")
    (home / ".calendars/home").mkdir(parents=True)
    write(home / ".config/khal/config", """\
        [calendars]
        [[home]]
        path = ~/.calendars/home/
        [[birthdays]]
        type = birthdays
        path = ~/.local/share/contacts/default
        """)
    result = run("init")
    assert "add under [calendars] in ~/.config/khal/config:\n  [[followups]]\n  path = ~/.calendars/followups" \
        in result.stdout
    config = effective(home)
    assert config["contacts"][0]["path"] == str(home / ".local/share/contacts/default")  # khal's birthdays
    assert config["calendar"]["path"] == str(home / ".calendars/followups")


def test_the_largest_vcf_in_the_home_folder_when_no_tool_is_configured(home):
    (home / "me.vcf").write_text(CARD.format(uid="me", name="Me"))
    (home / "export.vcf").write_text(CARD.format(uid="a", name="A") + CARD.format(uid="b", name="B"))
    run("init")
    assert effective(home)["contacts"] == [{"type": "vcf", "path": str(home / "export.vcf")}]


def test_an_existing_configuration_is_kept_unless_forced(home):
    cards(home / "cards", "ann")
    write(home / ".config/khard/khard.conf", "[addressbooks]\n[[a]]\npath = ~/cards\n")
    config = home / "elsewhere.yaml"
    config.write_text("contacts: []  # mine\n")
    refused = run("init", "--config", str(config), code=1)
    assert "there is a configuration already; `syncd init --force` replaces it" in refused.stderr
    assert config.read_text() == "contacts: []  # mine\n"
    forced = run("--config", str(config), "init", "--force")
    assert "(the file it replaced is kept as elsewhere.yaml.bak)" in forced.stdout
    assert (home / "elsewhere.yaml.bak").read_text() == "contacts: []  # mine\n"
    assert "~/cards" in config.read_text()


def test_a_broken_khard_config_names_its_line_and_the_rest_is_still_found(home):
    cards(home / "cards", "ann")
    write(home / ".config/khard/khard.conf", "[addressbooks]\n[[a]\npath = ~/nowhere\n")
    (home / "all.vcf").write_text(CARD.format(uid="a", name="A"))
    result = run("init")
    assert f"syncd: warning: {home}/.config/khard/khard.conf:2: a section header" in result.stderr
    assert effective(home)["contacts"] == [{"type": "vcf", "path": str(home / "all.vcf")}]


def test_nothing_found_still_writes_a_file_to_edit_and_says_so(home):
    result = run("init")
    assert "Found no address book and no calendar folder" in result.stdout
    assert "No address book: edit `contacts:`" in result.stdout
    assert "type: vdir" in (home / ".config/syncd/config.yaml").read_text()


def test_at_a_terminal_it_asks_which_address_books(home, monkeypatch):
    monkeypatch.setattr(cli_init, "asks", lambda: True)
    cards(home / "a", "ann")
    cards(home / "b", "bob")
    write(home / ".config/khard/khard.conf", "[addressbooks]\n[[a]]\npath = ~/a\n[[b]]\npath = ~/b\n")
    (home / ".calendars/home").mkdir(parents=True)
    write(home / ".config/khal/config", "[calendars]\n[[home]]\npath = ~/.calendars/home\n")
    result = run("init", stdin="7\n2\nn\n")
    assert "Give numbers from 1 to 2, e.g. 1,2." in result.stdout
    assert "Write follow-ups into a new calendar folder ~/.calendars/followups? [Y/n]" in result.stdout
    config = effective(home)
    assert [c["path"] for c in config["contacts"]] == [str(home / "b")]
    assert config["calendar"]["path"] != str(home / ".calendars/followups")  # syncd's own folder
    assert "For khal" not in result.stdout


def test_the_parsers_read_the_tools_own_syntax():
    options, problems = read_configobj(textwrap.dedent("""\
        [addressbooks]
          [[work]]
            path = "~/My Contacts/work"  # quoted, with a comment
            type = discover
        [contact table]
        display = first_name # inline
        nonsense
        """))
    assert options[0] == (("addressbooks", "work"), "path", "~/My Contacts/work", 3)
    assert options[2] == (("contact table",), "display", "first_name", 6)
    assert problems == [(7, "neither a [section] nor key = value: nonsense")]
    assert khard_addressbooks("[addressbooks]\n[[w]]\npath=~/w/*\ntype=discover\n")[0] == [("w", "~/w/*", True)]
    assert khal_calendars("[calendars]\n[[b]]\npath=~/b\ntype=birthdays\n")[0] == [("b", "~/b", "birthdays")]
    storages, _ = vdirsyncer_storages('[storage s]\ntype = "filesystem"\npath = ~/plain\nfileext = ".ics"\n')
    assert storages == [("s", "~/plain", ".ics", False)]  # not JSON: a string, as vdirsyncer reads it
    _, problems = vdirsyncer_storages("[storage s]\ntype = x\n[storage s]\n")
    assert problems and problems[0][0] == 3


def test_a_folder_it_cannot_write_to_is_one_message(home):
    (home / "a-file").write_text("in the way")  # a file where the folder would be: root too gets refused
    result = run("init", "--config", str(home / "a-file/config.yaml"), code=1)
    assert result.stderr == f"syncd: error: {home}/a-file/config.yaml: cannot write it: Not a directory\n"


def test_a_khard_discover_glob_finds_every_address_book_and_odd_names_survive_the_yaml(home):
    cards(home / "My Books: 2026" / "work", "ann")
    cards(home / "My Books: 2026" / "#club", "bob")
    write(home / ".config/khard/khard.conf", """\
        [addressbooks]
        [[all]]
        path = "~/My Books: 2026/*"
        type = discover
        """)
    run("init")
    assert sorted(c["path"] for c in effective(home)["contacts"]) == [
        str(home / "My Books: 2026/#club"), str(home / "My Books: 2026/work")]
