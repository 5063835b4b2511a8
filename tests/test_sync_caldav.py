"""`syncd sync` end to end against a real Radicale: one to-do per due follow-up, nothing on a
second run, exactly one object for one edited card, no duplicate after a lost state file."""

import datetime as dt
from dataclasses import replace
import os
import subprocess
import sys

import caldav
import icalendar
import pytest

from syncd import cycle, render
from syncd.config import load_config
from syncd.errors import StateError
from syncd.model import followup_of
from syncd.state import State

TODAY = dt.date(2026, 11, 30)


@pytest.fixture
def home(caldav_home):
    return caldav_home


def server_todos(radicale, calendar_name):
    client = caldav.DAVClient(radicale.url, username=radicale.username,
                              password=radicale.password)
    [calendar] = [c for c in client.principal().calendars() if c.get_display_name() == calendar_name]
    todos = {}
    for todo in calendar.todos(include_completed=True):
        component = icalendar.Calendar.from_ical(todo.data).walk("VTODO")[0]
        todos[followup_of(str(component["UID"]))] = (str(todo.url), todo.data)
    return todos


def sync(home, today=TODAY, **options):
    config = load_config(home / "config.yaml")
    target = cycle.make_target(config.calendar)
    with State(config.state) as state:
        report = cycle.sync(config, state, target, today, dt.datetime.now(dt.timezone.utc),
                            **options)
    assert report.errors == []
    return report, target


def planned(home):
    config = load_config(home / "config.yaml")
    return cycle.make_plan(config, cycle.read_contacts(config).contacts, TODAY, None)


def test_first_sync_writes_one_todo_per_follow_up_and_second_writes_nothing(
    home, radicale, calendar_name
):
    followups = planned(home)
    report, _ = sync(home)
    assert report.counts["created"] == len(followups) >= 5
    todos = server_todos(radicale, calendar_name)
    assert set(todos) == {f.uid for f in followups}
    for _, text in todos.values():
        todo = icalendar.Calendar.from_ical(text).walk("VTODO")[0]
        assert todo["DUE"].params.get("VALUE") == "DATE"
        assert str(todo["X-SYNCD-REASON"]) in ("keep-in-touch", "get-to-know", "birthday",
                                               "anniversary")

    report, target = sync(home)
    assert (report.counts["created"], report.counts["updated"], report.counts["deleted"]) == (0, 0, 0)
    assert report.counts["unchanged"] == len(followups)
    assert server_todos(radicale, calendar_name) == todos


def test_steady_state_costs_one_listing_request(home):
    sync(home)
    config = load_config(home / "config.yaml")
    target = cycle.make_target(config.calendar)
    target.list()  # finds the calendar: discovery requests happen once per process
    before = target.requests
    with State(config.state) as state:
        report = cycle.sync(config, state, target, TODAY, dt.datetime.now(dt.timezone.utc))
    assert report.counts["unchanged"] > 0
    assert target.requests - before == 1


def test_one_edited_card_changes_exactly_one_object(home, radicale, calendar_name):
    sync(home)
    before = server_todos(radicale, calendar_name)
    card = home / "contacts" / "chen-wei.vcf"
    # A tag nobody else has: no other follow-up's introductions can change.
    card.write_text(card.read_text().replace("#investing", "#investing #fintech"))
    report, _ = sync(home)
    assert (report.counts["created"], report.counts["updated"]) == (0, 1)
    after = server_todos(radicale, calendar_name)
    assert set(after) == set(before)
    changed = [uid for uid in after if after[uid][1] != before[uid][1]]
    assert len(changed) == 1 and "Chen Wei" in after[changed[0]][1]
    todo = icalendar.Calendar.from_ical(after[changed[0]][1]).walk("VTODO")[0]
    assert "#fintech" in str(todo["DESCRIPTION"])


def test_lost_state_file_is_the_same_instance_and_a_state_file_elsewhere_another(
        home, radicale, calendar_name):
    """A state file lost with no backup, made again at its path: the sync refuses with one line
    (the ledger is lost) and writes nothing, until the person says `--new-ledger`. It is then
    the same syncd instance (its id is the machine's and the path's): its objects are adopted,
    none written again. A state file at another path is another instance (a second profile; a
    second laptop looks the same): the objects are neither duplicated nor taken over, and syncd
    says whose they are."""
    sync(home)
    before = server_todos(radicale, calendar_name)
    (home / "state.sqlite").unlink()
    for _ in range(2):
        with pytest.raises(StateError, match=r"state.sqlite: this state file is new, but .* "
                           rf"holds {len(before)} follow-ups this syncd wrote.*--new-ledger"):
            sync(home)
    assert server_todos(radicale, calendar_name) == before
    for options in ({"new_ledger": True}, {}):
        report, _ = sync(home, **options)
        assert (report.counts["created"], report.counts["updated"], report.counts["kept"]) \
            == (0, 0, 0)
        assert report.counts["unchanged"] == len(before) and not report.others
    assert server_todos(radicale, calendar_name) == before
    config = load_config(home / "config.yaml")
    elsewhere = replace(config, state=home / "other" / "state.sqlite")
    with State(elsewhere.state) as state:
        report = cycle.sync(elsewhere, state, cycle.make_target(elsewhere.calendar), TODAY,
                            dt.datetime.now(dt.timezone.utc))
    assert (report.counts["created"], report.counts["updated"], report.counts["deleted"]) \
        == (0, 0, 0)
    assert report.counts["kept"] == sum(report.others.values()) == len(before)
    assert server_todos(radicale, calendar_name) == before


def test_persons_edit_on_the_server_wins(home, radicale, calendar_name):
    sync(home)
    client = caldav.DAVClient(radicale.url, username=radicale.username,
                              password=radicale.password)
    [calendar] = [c for c in client.principal().calendars() if c.get_display_name() == calendar_name]
    # Laura's one follow-up this week: her birthday, which says the keep-in-touch too
    todo = next(t for t in calendar.todos() if "Laura Bianchi" in t.data)
    todo.icalendar_component["SUMMARY"] = "Lunch with Laura on Friday"
    todo.save()
    card = home / "contacts" / "laura-bianchi.vcf"
    card.write_text(card.read_text().replace("#photography", "#photography #jazz"))
    report, _ = sync(home)
    assert report.counts["kept"] == 1
    todo.load()
    assert str(todo.icalendar_component["SUMMARY"]) == "Lunch with Laura on Friday"
    report, _ = sync(home)
    assert report.counts["updated"] == 0


def test_no_password_in_any_output(home, radicale):
    env = {**os.environ, "SYNCD_TEST_PASSWORD": radicale.password}
    done = subprocess.run(
        [sys.executable, "-m", "syncd", "--log-level", "debug", "sync", "--config",
         str(home / "config.yaml"), "--today", TODAY.isoformat()],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "created" in done.stdout
    assert "DEBUG" in done.stderr  # debug logging really was on
    output = done.stdout + done.stderr
    assert radicale.password not in output
    assert "Authorization" not in output and "Basic " not in output


def test_completed_on_the_server_becomes_a_give_back_in_the_ledger(home, radicale, calendar_name):
    from syncd.ledger import Ledger
    from syncd.model import RECEIVED, Exchange

    config = load_config(home / "config.yaml")
    with State(config.state) as state:
        Ledger(state).add(Exchange("sample-chen-wei", RECEIVED, "advice", "Pricing tips",
                                   TODAY - dt.timedelta(days=2), 1.0, "cli"))
    report, _ = sync(home)
    client = caldav.DAVClient(radicale.url, username=radicale.username,
                              password=radicale.password)
    [calendar] = [c for c in client.principal().calendars() if c.get_display_name() == calendar_name]
    [give_back] = [t for t in calendar.todos() if "X-SYNCD-REASON:give-back" in t.data]
    assert "Pricing tips" in str(give_back.icalendar_component["DESCRIPTION"])
    # The person says what they gave, in the to-do's description (the first idea proposed).
    proposed = render.read(give_back.data).idea
    idea = {i.id: i for i in cycle.load_ideas(config)[0]}[proposed]
    kind = {"book": "book", "event": "event", "course": "course"}.get(idea.kind, "gift")
    component = give_back.icalendar_component
    component["DESCRIPTION"] = f'{component["DESCRIPTION"]}\ngave: {kind} "{idea.title}"'
    give_back.save()
    give_back.complete(completion_timestamp=dt.datetime(2026, 12, 1, 10, tzinfo=dt.timezone.utc))

    report, _ = sync(home, today=TODAY + dt.timedelta(days=1))
    assert report.counts["completed"] == 1
    with State(config.state) as state:
        gave = [e for e in Ledger(state).exchanges("sample-chen-wei") if e.direction == "gave"]
    assert [(e.date, e.source, e.kind, e.item) for e in gave] == [
        (dt.date(2026, 12, 1), "calendar", kind, idea.title)]
    assert gave[0].weight == max(config.rules.give_back_weights[kind], 1.0)  # settles the advice
    report, _ = sync(home, today=TODAY + dt.timedelta(days=1))
    assert report.counts["created"] == 0 and report.counts["updated"] == 0
    give_back.load()
    assert give_back.icalendar_component["STATUS"] == "COMPLETED"
