"""Keeping a contact out (`rules.skip_categories`, `rules.skip`) through the `syncd` command:
real cards, a real local calendar folder, a real SQLite state file."""

import json
import textwrap

import icalendar
import pytest
from click.testing import CliRunner

from syncd.cli import main

TODAY = "2026-11-30"
CARDS = {
    "laura": "FN:Laura Bianchi\nEMAIL:laura@example.org\nNOTE:#sailing #chess",
    "anna": "FN:Anna Verdi\nEMAIL:anna@example.org\nNOTE:#sailing #chess",
    "marco": "FN:Marco Rossi\nCATEGORIES:Work,No-Followups\nNOTE:#sailing #chess",
    "dentist": "FN:Studio Dentistico\nEMAIL:dentist@example.org\nNOTE:#sailing #chess",
    "plumber": "FN:Idraulico Neri\nNOTE:#sailing #chess",
    "switchboard": "FN:ACME Centralino\nNOTE:#sailing #chess",
}


def config(home, skip=""):
    (home / "config.yaml").write_text(textwrap.dedent(f"""\
        contacts: [{{type: vdir, path: contacts}}]
        calendar: {{type: local, path: calendar}}
        state: state.sqlite
        rules: {{weekly_cap: 10{skip}}}
        """))


@pytest.fixture
def home(tmp_path):
    (tmp_path / "contacts").mkdir()
    for uid, body in CARDS.items():
        (tmp_path / "contacts" / f"{uid}.vcf").write_text(
            f"BEGIN:VCARD\nVERSION:3.0\nUID:{uid}\n{body}\nEND:VCARD\n")
    config(tmp_path, ', skip: [dentist@example.org, "idraulico neri", switchboard]')
    return tmp_path


def run(home, *args, code=0):
    result = CliRunner().invoke(main, [*args, "--config", str(home / "config.yaml")])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def planned(home):
    return json.loads(run(home, "plan", "--json", "--today", TODAY).stdout)


def test_kept_out_by_category_email_name_or_uid_get_nothing_and_are_introduced_to_no_one(home):
    plan = planned(home)
    assert sorted(f["contact_uid"] for f in plan) == ["anna", "laura"]
    introduced = {i["uid"] for f in plan for i in f["introductions"]}
    assert introduced == {"anna", "laura"}  # everyone shares #sailing #chess; only they remain
    # `syncd ideas` proposes no introduction to them either.
    laura = json.loads(run(home, "ideas", "laura", "--json", "--today", TODAY).stdout)
    assert [i["uid"] for i in laura["introductions"]] == ["anna"]
    # The category is a group, not an interest.
    contacts = json.loads(run(home, "contacts", "--json").stdout)
    [marco] = [c for c in contacts if c["uid"] == "marco"]
    assert "no-followups" not in marco["interests"]


def test_a_skip_entry_naming_no_one_is_a_warning_and_plans_the_rest(home, caplog):
    config(home, ", skip: [nessuno@example.org]")
    assert sorted(f["contact_uid"] for f in planned(home)) == [
        "anna", "dentist", "laura", "plumber", "switchboard"]
    assert "rules.skip: 'nessuno@example.org' matches no contact" in caplog.text


def test_a_newly_kept_out_contact_loses_their_follow_up_and_keeps_their_ledger(home, caplog):
    config(home)
    run(home, "log", "received", "laura", "book", "Dune", "--date", "2026-11-20")
    run(home, "sync", "--today", TODAY)
    uids = {str(icalendar.Calendar.from_ical(p.read_text()).walk("VTODO")[0]["X-SYNCD-CONTACT"])
            for p in (home / "calendar").glob("*.ics")}
    assert "laura" in uids and "marco" not in uids

    config(home, ", skip: [laura@example.org]")
    result = run(home, "sync", "--today", TODAY)
    # Deleted as a removed contact's would be; the two others no longer name her as an intro.
    assert result.stdout.startswith("0 created, 2 updated, 1 deleted")
    left = [p.read_text() for p in (home / "calendar").glob("*.ics")]
    assert len(left) == len(uids) - 1 and not [t for t in left if "X-SYNCD-CONTACT:laura" in t]
    assert "suspect" not in caplog.text and "restore" not in caplog.text
    rows = json.loads(run(home, "balance", "--json", "--today", TODAY).stdout)
    assert [(r["uid"], r["balance"]) for r in rows if r["uid"] == "laura"] == [("laura", 2.0)]
    assert not [r for r in rows if r.get("unmatched")]
    # Nothing more to do on the next cycle: the skipped contact is not taken for a vanished one.
    again = run(home, "sync", "--today", TODAY)
    assert again.stdout.startswith("0 created, 0 updated, 0 deleted")
