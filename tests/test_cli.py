"""The `syncd` command end to end on real files: a vdir of cards, a local calendar folder, a
real SQLite state file."""

import json
import os
import stat
import subprocess
import sys
import textwrap

import icalendar
import pytest
import yaml
from click.testing import CliRunner

from sync_support import local_config, run_cli as run
from syncd.cli import main
from syncd.config import load_config

TODAY = "2026-11-30"  # a Monday

CARDS = {
    "laura.vcf": """\
        BEGIN:VCARD
        VERSION:3.0
        UID:laura
        FN:Bianchi, Laura
        BDAY:1985-12-04
        NOTE:Interests: sailing, leadership
        END:VCARD
        """,
    "marco.vcf": """\
        BEGIN:VCARD
        VERSION:4.0
        UID:marco
        FN:Marco Rossi
        NOTE:Ama la #vela
        END:VCARD
        """,
    "sam.vcf": """\
        BEGIN:VCARD
        VERSION:3.0
        UID:sam
        FN:Sam Okafor
        END:VCARD
        """,
}


@pytest.fixture
def home(tmp_path):
    contacts = tmp_path / "contacts"
    contacts.mkdir()
    for name, text in CARDS.items():
        (contacts / name).write_text(textwrap.dedent(text).replace("\n", "\r\n"))
    config = tmp_path / "config.yaml"
    config.write_text(local_config("""\
        me:
          interests: [sailing]
        tags:
          synonyms: {vela: sailing}
        state: state/syncd.sqlite
        """))
    return tmp_path




def calendar_items(home):
    return {p.name: p.read_text() for p in (home / "calendar").glob("*.ics")}


def test_contacts_json_has_the_stable_fields(home):
    data = json.loads(run(home, "contacts", "--json").stdout)
    by_uid = {c["uid"]: c for c in data}
    assert set(by_uid) == {"laura", "marco", "sam"}
    assert set(by_uid["laura"]) >= {"uid", "name", "emails", "phones", "categories", "interests",
                                    "birthday", "source"}
    assert by_uid["laura"]["name"] == "Bianchi, Laura"
    assert by_uid["laura"]["interests"] == ["sailing", "leadership"]
    assert by_uid["laura"]["birthday"] == "1985-12-04"
    assert by_uid["marco"]["interests"] == ["vela"]  # as he wrote it
    assert by_uid["laura"]["source"] == str(home / "contacts" / "laura.vcf")
    assert by_uid["sam"]["phones"] == []


def test_contacts_json_lists_the_phones_preferred_first(home):
    (home / "contacts" / "ada.vcf").write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ada\r\nFN:Ada Neri\r\n"
        "TEL;TYPE=CELL:+39 333 123 4567\r\nTEL;TYPE=WORK,PREF:+39 040 765 4321\r\n"
        "END:VCARD\r\n", encoding="utf-8")
    [ada] = [c for c in json.loads(run(home, "contacts", "--json").stdout) if c["uid"] == "ada"]
    assert ada["phones"] == ["+39 040 765 4321", "+39 333 123 4567"]


def test_plan_json_fields_and_reasons(home):
    data = json.loads(run(home, "plan", "--json", "--today", TODAY).stdout)
    reasons = sorted((f["contact_uid"], f["reason"]) for f in data)
    assert reasons == [("laura", "birthday"), ("marco", "keep-in-touch"), ("sam", "get-to-know")]
    birthday = next(f for f in data if f["reason"] == "birthday")
    assert birthday["due"] == "2026-11-30"  # 4 December minus the 7-day lead is past: today
    assert birthday["also"] == ["keep-in-touch"]  # due the same week: said in one follow-up
    marco = next(f for f in data if f["contact_uid"] == "marco")
    assert marco["common_ground"] == ["vela"]  # in his words: I wrote sailing
    assert marco["introductions"] == [{"uid": "laura", "name": "Bianchi, Laura", "shared": ["vela"]}]
    assert marco["questions"] == []
    assert 1 <= len(marco["ideas"]) <= 3
    for idea in marco["ideas"]:
        assert set(idea) == {"id", "kind", "title", "by", "tags", "language", "why"}
        assert "sailing" in idea["why"]  # chosen from his interest, directly or by a related tag
    sam = next(f for f in data if f["contact_uid"] == "sam")
    assert len(sam["questions"]) == 3 and sam["ideas"] == []
    assert set(marco) == {"uid", "contact_uid", "contact_name", "reason", "also", "due", "summary",
                          "common_ground", "ideas", "introductions", "questions"}
    assert not (home / "calendar").exists()  # plan writes nothing


def test_sync_then_nothing_then_exactly_one_change(home):
    first = run(home, "sync", "--today", TODAY)
    assert first.stdout.startswith("3 created, 0 updated, 0 deleted, 0 unchanged")
    items = calendar_items(home)
    assert len(items) == 3
    for path in (home / "calendar").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "state" / "syncd.sqlite").stat().st_mode) == 0o600

    second = run(home, "sync", "--today", TODAY)
    assert second.stdout.startswith("0 created, 0 updated, 0 deleted, 3 unchanged")
    assert calendar_items(home) == items

    card = home / "contacts" / "marco.vcf"
    card.write_text(card.read_text().replace("Ama la #vela", "Ama la #vela e la #storia"))
    third = run(home, "sync", "--today", TODAY)
    assert third.stdout.startswith("0 created, 1 updated, 0 deleted, 2 unchanged")
    changed = [name for name, text in calendar_items(home).items() if items[name] != text]
    assert len(changed) == 1
    [todo] = icalendar.Calendar.from_ical(calendar_items(home)[changed[0]]).walk("VTODO")
    description = str(todo["DESCRIPTION"])
    assert "Interests: #vela #storia" in description  # in his words
    [before] = icalendar.Calendar.from_ical(items[changed[0]]).walk("VTODO")
    assert before["X-SYNCD-IDEAS"] == todo["X-SYNCD-IDEAS"]  # the ideas he was shown stay


def test_dry_run_writes_nothing(home):
    result = run(home, "sync", "--dry-run", "--today", TODAY)
    assert result.stdout.startswith("dry run: 3 created")
    assert not (home / "calendar").exists() or not calendar_items(home)


def test_persons_edit_wins_and_deletion_is_not_undone(home):
    run(home, "sync", "--today", TODAY)
    files = sorted((home / "calendar").glob("*.ics"))
    edited, deleted = files[0], files[1]
    edited.write_text(edited.read_text().replace("SUMMARY:", "SUMMARY:My own words - "))
    deleted.unlink()
    # Laura's card changes: her follow-ups would be rewritten if they were still syncd's.
    for card in (home / "contacts").iterdir():
        card.write_text(card.read_text().replace("NOTE:", "NOTE:#chess "))
    result = run(home, "sync", "--today", TODAY)
    assert "My own words - " in edited.read_text()
    assert not deleted.exists()
    assert " 1 kept" in result.stdout and " 1 dismissed" in result.stdout


def test_missing_source_folder_deletes_nothing(home):
    run(home, "sync", "--today", TODAY)
    before = calendar_items(home)
    (home / "contacts").rename(home / "unmounted")
    done = subprocess.run(
        [sys.executable, "-m", "syncd", "--config", str(home / "config.yaml"), "sync", "--today",
         TODAY], capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1
    assert f"{home / 'contacts'}: cannot read contacts: no such folder" in done.stderr
    assert calendar_items(home) == before


def test_removed_contact_loses_its_untouched_follow_up(home):
    run(home, "sync", "--today", TODAY)
    (home / "contacts" / "sam.vcf").unlink()
    result = run(home, "sync", "--today", TODAY)
    assert result.stdout.startswith("0 created, 0 updated, 1 deleted, 2 unchanged")
    assert not any("Sam Okafor" in text for text in calendar_items(home).values())


def test_bad_config_reports_every_problem_with_line_and_exits_2(home):
    (home / "config.yaml").write_text(textwrap.dedent("""\
        contacts:
          - type: vdir
            path: contacts
        rules:
          keep_in_touch:
            default: 9o d
          weekly_caps: 3
        """))
    result = run(home, "config", "check", code=2)
    lines = result.stderr.strip().splitlines()
    config = str(home / "config.yaml")
    assert f"{config}:6: rules.keep_in_touch.default: '9o d' is not a duration like 30d" in lines
    assert f"{config}:7: rules.weekly_caps: unknown key; did you mean 'weekly_cap'?" in lines


def test_broken_yaml_names_file_and_line(home):
    (home / "config.yaml").write_text("contacts:\n  - type: vdir\n\tpath: x\n")
    result = run(home, "config", "check", code=2)
    assert result.stderr.startswith(f"{home / 'config.yaml'}:3: ")


def test_config_example_is_the_shipped_example_and_loads(home):
    result = CliRunner().invoke(main, ["config", "example"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# syncd configuration: `syncd config example > ")
    assert yaml.safe_load(result.stdout)["contacts"][0]["type"] == "vdir"
    assert "# state: " in result.stdout  # commented out: a copy for a profile gets its own
    (home / "example.yaml").write_text(result.stdout)
    config = load_config(home / "example.yaml")
    assert [s.type for s in config.contacts] == ["vdir", "vcf"]
    assert config.timezone == "Europe/Rome"


def test_config_check_masks_the_password(home):
    (home / "config.yaml").write_text(textwrap.dedent("""\
        contacts: [{type: vdir, path: contacts}]
        calendar: {type: caldav, url: "https://dav.example/", username: anna, password: hunter2-secret}
        """))
    result = run(home, "config", "check")
    assert "hunter2-secret" not in result.output
    assert "********" in result.stdout


def test_console_script_runs_as_a_subprocess(home):
    env = {**os.environ, "SYNCD_CONFIG": str(home / "config.yaml")}
    done = subprocess.run(
        [sys.executable, "-m", "syncd", "plan", "--today", TODAY],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["due", "reason", "contact", "summary"]
    assert len(rows) == 3 and any("Birthday: Bianchi, Laura on December 4" in r for r in rows)


def test_ideas_shows_every_candidate_with_its_score_and_reason(home):
    data = json.loads(run(home, "ideas", "--json", "--today", TODAY, "Laura").stdout)
    assert data["interests"] == ["sailing", "leadership"]
    for label in ("to_give", "to_share"):
        candidates = data[label]
        picked = [c for c in candidates if c["picked"]]
        assert len(picked) == 3 and len(candidates) > 10
        assert all({"score", "tier", "why", "crowded", "link"} <= set(c) for c in candidates)
        assert all("#sailing" in c["why"] or "#leadership" in c["why"] for c in candidates)
        # ranked: by tier, then score
        tiers = [c["tier"] for c in candidates]
        assert tiers == sorted(tiers, key=tiers.index)
        for tier in set(tiers):
            scores = [c["score"] for c in candidates if c["tier"] == tier]
            assert scores == sorted(scores, reverse=True)
    assert all(c["gift"] for c in data["to_give"])  # a give-back proposes gifts only
    assert not all(c["gift"] for c in data["to_share"])
    text = run(home, "ideas", "--today", TODAY, "Laura").stdout
    assert "score" in text and "to give (give-back, birthday): gifts only" in text
    assert sum(line.startswith("*  ") for line in text.splitlines()) == 6
    assert "candidates, the first 30 (--all for every one)" in text
    assert len(run(home, "ideas", "--all", "--today", TODAY, "Laura").stdout.splitlines()) > len(
        text.splitlines())
