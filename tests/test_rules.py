"""The pure rules: the keep-in-touch clock, the completion rule and the source rule. No state
file, no server: values in, values out."""

from __future__ import annotations

import datetime as dt

from syncd.config import Rules
from syncd.model import GAVE, Idea
from syncd.reciprocity import Standing
from syncd.rules import (
    COMPLETE, EMPTIED, INCOMPLETE, SUSPECT, Completed, SourceMemory, completion_exchange,
    keep_in_touch_clock, source_verdict,
)

TODAY = dt.date(2026, 12, 1)
NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.timezone.utc)
POLL = dt.timedelta(minutes=5)


def standing(balance: float = 0.0, last: dt.date | None = None) -> Standing:
    return Standing(balance=balance, last_exchange=last, last_received=None, received=())


# -- the keep-in-touch clock ---------------------------------------------------------------------


def test_clock_takes_the_latest_of_exchanges_dismissals_and_completions():
    standings = {"ann": standing(last=dt.date(2026, 6, 1)), "bob": standing(last=None)}
    dismissed = {"ann": dt.date(2026, 9, 1), "bob": dt.date(2026, 3, 1)}
    completed = {"ann": dt.date(2026, 7, 1), "cat": dt.date(2026, 11, 11)}
    assert keep_in_touch_clock(standings, [dismissed, completed], TODAY) == {
        "ann": dt.date(2026, 9, 1), "bob": dt.date(2026, 3, 1), "cat": dt.date(2026, 11, 11)}


def test_clock_ignores_days_after_today():
    standings = {"ann": standing(last=dt.date(2027, 1, 1))}
    assert keep_in_touch_clock(standings, [{"ann": dt.date(2026, 5, 5)}], TODAY) == {
        "ann": dt.date(2026, 5, 5)}
    assert keep_in_touch_clock({}, [{"bob": TODAY + dt.timedelta(days=1)}], TODAY) == {}


# -- the completion rule -------------------------------------------------------------------------

BOOK = Idea(id="the-boat", kind="book", title="The Boat", by="Someone", tags=("sailing",),
            language="en")
WEIGHTS = Rules().give_back_weights


def done(reason: str = "keep-in-touch", day: dt.date | None = None,
         idea: str | None = None) -> Completed:
    return Completed("ann", reason, "f-1", "Get in touch with Ann", day, idea)


def test_completion_records_the_proposed_idea_on_its_day():
    exchange = completion_exchange(done(day=dt.date(2026, 11, 20), idea="the-boat"), TODAY,
                                   {BOOK.id: BOOK}, WEIGHTS, {})
    assert (exchange.direction, exchange.kind, exchange.item, exchange.date) == (
        GAVE, "book", "The Boat", dt.date(2026, 11, 20))
    assert exchange.weight == WEIGHTS["book"] and exchange.source == "calendar"
    assert "f-1" in exchange.note


def test_completion_of_an_unknown_idea_is_other_named_by_the_summary_and_never_after_today():
    exchange = completion_exchange(done(day=TODAY + dt.timedelta(days=30), idea="gone"), TODAY,
                                   {BOOK.id: BOOK}, WEIGHTS, {})
    assert (exchange.kind, exchange.item, exchange.date) == (
        "other", "Get in touch with Ann", TODAY)


def test_completing_a_give_back_settles_what_was_owed():
    owed = {"ann": standing(balance=5.0)}
    exchange = completion_exchange(done("give-back"), TODAY, {}, WEIGHTS, owed)
    assert exchange.weight == 5.0
    small = completion_exchange(done("keep-in-touch"), TODAY, {}, WEIGHTS, owed)
    assert small.weight == WEIGHTS["other"]  # only a give-back settles the balance


# -- the source rule -----------------------------------------------------------------------------


def test_a_whole_read_is_complete_and_remembered():
    verdict, memory = source_verdict(SourceMemory(20), 19, True, NOW, POLL)
    assert verdict == COMPLETE and memory == SourceMemory(19)


def test_an_incomplete_read_changes_nothing_remembered():
    before = SourceMemory(20)
    assert source_verdict(before, 2, False, NOW, POLL) == (INCOMPLETE, before)


def test_no_card_where_there_were_some_is_emptied():
    assert source_verdict(SourceMemory(3), 0, True, NOW, POLL)[0] == EMPTIED
    assert source_verdict(SourceMemory(0), 0, True, NOW, POLL)[0] == COMPLETE  # a new book


def test_a_fall_by_more_than_half_and_more_than_three_is_suspect_until_read_again_a_poll_later():
    verdict, memory = source_verdict(SourceMemory(20), 2, True, NOW, POLL)
    assert verdict == SUSPECT and memory == SourceMemory(20, 2, NOW)
    soon = NOW + POLL / 2
    assert source_verdict(memory, 2, True, soon, POLL) == (SUSPECT, memory)
    other = source_verdict(memory, 5, True, NOW + POLL, POLL)  # another count: wait again
    assert other == (SUSPECT, SourceMemory(20, 5, NOW + POLL))
    assert source_verdict(memory, 2, True, NOW + POLL, POLL) == (COMPLETE, SourceMemory(2))


def test_small_falls_are_people_leaving():
    assert source_verdict(SourceMemory(6), 3, True, NOW, POLL)[0] == COMPLETE  # by 3 only
    assert source_verdict(SourceMemory(20), 11, True, NOW, POLL)[0] == COMPLETE  # not half
    assert source_verdict(SourceMemory(8), 3, True, NOW, POLL)[0] == SUSPECT
