"""The pure rules: the keep-in-touch clock, the completion rule and the source rule. No state
file, no server: values in, values out."""

from __future__ import annotations

import datetime as dt

from syncd.config import Rules
from syncd import reciprocity
from syncd.model import GAVE, Idea
from syncd.reciprocity import Standing
from syncd.rules import (
    COMPLETE, EMPTIED, INCOMPLETE, SUSPECT, Completed, SourceMemory, completion_exchanges,
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


# -- the completion rule: only what the person did (issue 14, item 3) --------------------------

BOOK = Idea(id="the-boat", kind="book", title="The Boat", by="Someone", tags=("sailing",),
            language="en")
EVENT = Idea(id="barcolana", kind="event", title="Barcolana", by="SVBG", tags=("sailing",),
             language="it")
PODCAST = Idea(id="sea-talk", kind="podcast", title="Sea Talk", by="X", tags=("sailing",),
               language="en")
IDEAS = {idea.id: idea for idea in (BOOK, EVENT, PODCAST)}
WEIGHTS = Rules().give_back_weights
PROPOSED = ("barcolana", "the-boat", "sea-talk")
AS_WRITTEN = """Laura gave you something: time to give back.
Ideas:
- Barcolana (event, SVBG, October, Trieste): #sailing — https://www.barcolana.it/
- The Boat (book, Someone): #sailing — https://openlibrary.org/isbn/9780000000002
- Sea Talk (podcast, X): #sailing
Gave one of these? Before ticking it off, add a line such as gave: book "Title", or delete \
the other ideas."""


def done(reason: str = "keep-in-touch", day: dt.date | None = None, ideas=PROPOSED,
         description: str = AS_WRITTEN) -> Completed:
    return Completed("ann", reason, "f-1", "Get in touch with Ann", day, ideas, description)


def complete(completed: Completed, standings=None):
    return completion_exchanges(completed, TODAY, IDEAS, WEIGHTS, standings or {})


def test_ticking_off_as_written_records_being_in_touch_not_the_first_idea():
    [exchange] = complete(done(day=dt.date(2026, 11, 20)))
    assert (exchange.direction, exchange.kind, exchange.item, exchange.date) == (
        GAVE, "other", "keep-in-touch (follow-up ticked)", dt.date(2026, 11, 20))
    assert exchange.weight == 0.0  # in touch: the clock restarts, nothing is settled
    assert exchange.source == "calendar" and "f-1" in exchange.note


def test_a_gave_line_added_to_the_description_is_what_is_recorded():
    mailed = AS_WRITTEN + '\ngave: book "Il Gattopardo"'
    [exchange] = complete(done("give-back", day=dt.date(2026, 11, 20), description=mailed))
    assert (exchange.kind, exchange.item, exchange.date) == (
        "book", "Il Gattopardo", dt.date(2026, 11, 20))
    assert exchange.weight == WEIGHTS["book"]


def test_gave_lines_in_italian_with_a_dash_a_date_and_a_weight_each_count():
    said = AS_WRITTEN + '\n- dato: libro "Aria sottile" 2026-11-18\ndato: podcast «Sea Talk» peso 3'
    first, second = complete(done(day=dt.date(2026, 11, 20), description=said))
    assert (first.kind, first.item, first.date, first.weight) == (
        "book", "Aria sottile", dt.date(2026, 11, 18), WEIGHTS["book"])
    assert (second.kind, second.item, second.date, second.weight) == (
        "advice", "Sea Talk", dt.date(2026, 11, 20), 3.0)


def test_a_gave_line_dated_after_the_tick_counts_on_the_day_of_the_tick():
    said = AS_WRITTEN + '\ngave: book "The Boat" 2027-05-01'
    [exchange] = complete(done(day=dt.date(2026, 11, 20), description=said))
    assert exchange.date == dt.date(2026, 11, 20)


def test_a_received_line_or_a_broken_gave_line_records_no_gift():
    said = AS_WRITTEN + '\nreceived: book "Dune" 2026-11-01\ngave: book Dune'
    [exchange] = complete(done(description=said))
    assert exchange.item == "keep-in-touch (follow-up ticked)"
    assert reciprocity.given_lines(said)[1] == ["'gave: book Dune': expected: gave: book \"Title\""]


def test_only_one_ideas_line_left_records_that_idea():
    kept = "\n".join(line for line in AS_WRITTEN.splitlines()
                     if not line.startswith(("- Barcolana", "- Sea Talk")))
    [exchange] = complete(done(day=dt.date(2026, 11, 20), description=kept))
    assert (exchange.kind, exchange.item, exchange.weight) == ("book", "The Boat", WEIGHTS["book"])


def test_the_line_left_may_show_the_italian_title():
    boat = Idea(id="the-boat", kind="book", title="The Boat", by="S", tags=("sailing",),
                language="en")
    object.__setattr__(boat, "titles", (("it", "La barca"),))
    kept = "Idee:\n- La barca (libro, S): #vela"
    [exchange] = completion_exchanges(done(description=kept), TODAY,
                                      {**IDEAS, "the-boat": boat}, WEIGHTS, {})
    assert exchange.item == "The Boat"


def test_no_idea_is_inferred_when_it_cannot_be_told():
    nothing = "Laura gave you something: time to give back."
    one = "\n".join(line for line in AS_WRITTEN.splitlines() if not line.startswith("- Sea"))
    for completed in (
        done(description=nothing),  # every idea line deleted
        done(description=one),  # two lines left
        done(ideas=("the-boat",), description="Ideas:\n- The Boat (book, Someone): #sailing"),
        done(ideas=("the-boat", "gone-from-the-catalog"), description="- The Boat (book)"),
        done(ideas=(), description=AS_WRITTEN),  # an object of before the ideas were listed
    ):
        [exchange] = complete(completed)
        assert exchange.kind == "other" and exchange.weight == 0.0, completed


def test_completing_a_give_back_settles_what_was_owed():
    owed = {"ann": standing(balance=5.0)}
    [exchange] = complete(done("give-back"), owed)
    assert (exchange.kind, exchange.item, exchange.weight) == (
        "other", "give-back (follow-up ticked)", 5.0)
    [little] = complete(done("give-back"), {"ann": standing(balance=0.5)})
    assert little.weight == WEIGHTS["other"]
    [in_touch] = complete(done("keep-in-touch"), owed)
    assert in_touch.weight == 0.0  # only a give-back settles the balance
    said = AS_WRITTEN + '\ngave: book "Dune"\ngave: meal "Trattoria" weight 1'
    book, meal = complete(done("give-back", description=said), owed)
    assert (book.item, book.weight, meal.item, meal.weight) == ("Dune", 4.0, "Trattoria", 1.0)
    [heavy] = complete(done("give-back", description=AS_WRITTEN + '\ngave: gift "Boat" weight 9'),
                       owed)
    assert heavy.weight == 9.0  # more than owed: as written
    # a give-back said in a birthday follow-up (due the same week) settles when that is ticked
    merged = Completed("ann", "birthday", "f-2", "Birthday: Ann", None, PROPOSED, AS_WRITTEN,
                       also=("give-back",))
    [settled] = complete(merged, owed)
    assert (settled.item, settled.weight) == ("birthday (follow-up ticked)", 5.0)


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
