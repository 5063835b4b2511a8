"""Issue 4's promise on the shipped sample contacts: every idea shares a tag (or a synonym or a
related tag) with its contact, nothing already exchanged comes back, tagless people get questions."""

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from syncd import cycle
from syncd.cli import main
from syncd.config import load_config

SAMPLES = Path(__file__).resolve().parent.parent / "config"
TODAY = "2026-11-30"


@pytest.fixture
def home(tmp_path):
    shutil.copytree(SAMPLES / "contacts", tmp_path / "contacts")
    (tmp_path / "config.yaml").write_text(textwrap.dedent("""\
        contacts: [{type: vdir, path: contacts}]
        calendar: {type: local, path: calendar}
        me: {interests: [leadership, sailing]}
        rules: {weekly_cap: 50}
        state: state.sqlite
        """))
    return tmp_path


def plan(home):
    result = CliRunner().invoke(main, ["plan", "--json", "--today", TODAY, "--config",
                                       str(home / "config.yaml")])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_idea_shares_a_tag_and_tagless_people_get_questions(home):
    config = load_config(home / "config.yaml")
    vocabulary = cycle.load_ideas(config)[1]
    people = {c.uid: c for c in cycle.read_contacts(config).contacts}
    followups = plan(home)
    with_ideas = [f for f in followups if f["ideas"]]
    assert len({f["contact_uid"] for f in with_ideas}) == 4  # every sample contact with tags
    for followup in followups:
        contact = people[followup["contact_uid"]]
        mine = {vocabulary.canonical(t) for t in contact.interests}
        near = set().union(*(vocabulary.related(t) for t in mine)) if mine else set()
        if not contact.interests:
            assert followup["reason"] == "get-to-know" and len(followup["questions"]) == 3
            assert followup["ideas"] == []
            continue
        assert followup["ideas"], followup
        for idea in followup["ideas"]:
            tags = {vocabulary.canonical(t) for t in idea["tags"]}
            assert tags & (mine | near), (contact.name, idea)


def test_an_exchanged_idea_is_never_proposed_again(home):
    first = next(f for f in plan(home) if f["contact_uid"] == "sample-marco-rossi")
    given = first["ideas"][0]
    result = CliRunner().invoke(main, [
        "log", "gave", "sample-marco-rossi", "book", given["title"].upper(), "--date", "2025-06-01",
        "--config", str(home / "config.yaml")])
    assert result.exit_code == 0, result.output
    again = [f for f in plan(home) if f["contact_uid"] == "sample-marco-rossi"]
    assert again and all(given["id"] not in {i["id"] for i in f["ideas"]} for f in again)
