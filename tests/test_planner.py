import datetime as dt

from syncd.config import Rules
from syncd.model import Contact, PartialDate, followup_uid
from syncd.planner import plan

MONDAY = dt.date(2026, 11, 30)
DAY = dt.timedelta(days=1)


def person(n, **fields):
    fields.setdefault("interests", ("chess",))
    return Contact(uid=f"u{n:04d}", name=f"Person {n:04d}", source="s", **fields)


def rules(**overrides):
    return Rules(**overrides)


def test_never_seen_contact_is_due_today_on_a_working_day():
    [followup] = plan([person(1)], rules(), MONDAY)
    assert (followup.reason, followup.due, followup.cycle) == ("keep-in-touch", MONDAY, "new")


def test_weekend_today_moves_to_next_working_day():
    saturday = dt.date(2026, 11, 28)
    [followup] = plan([person(1)], rules(), saturday)
    assert followup.due == MONDAY


def test_weekly_cap_working_days_and_spread():
    people = [person(n) for n in range(300)]
    followups = plan(people, rules(weekly_cap=10, horizon=dt.timedelta(days=27)), MONDAY)
    by_week: dict = {}
    for f in followups:
        assert f.due.weekday() < 5
        by_week.setdefault(f.due.isocalendar()[1], []).append(f.due)
    assert len(followups) == 40  # four weeks inside the horizon, ten each
    for days in by_week.values():
        assert len(days) == 10
        counts = [days.count(d) for d in set(days)]
        assert max(counts) - min(counts) <= 1  # two per working day, not ten on Monday


def test_most_overdue_first_and_birthdays_never_deferred():
    last = {f"u{n:04d}": MONDAY - dt.timedelta(days=90 + n) for n in range(5)}
    people = [person(n) for n in range(5)] + [
        person(9, birthday=PartialDate(12, 3, 1980))
    ]
    followups = plan(people, rules(weekly_cap=2), MONDAY, last_contact=last)
    keep = [f for f in followups if f.reason == "keep-in-touch"]
    assert [f.contact.uid for f in keep if f.due < MONDAY + 7 * DAY] == ["u0004", "u0003"]
    birthday = [f for f in followups if f.reason == "birthday"]
    # 3 December is inside the 7-day lead: due today, although the week is full.
    assert [(b.due, b.occasion, b.cycle) for b in birthday] == [
        (MONDAY, dt.date(2026, 12, 3), "2026")
    ]


def test_birthday_lead_and_inside_lead_due_today():
    near = person(1, birthday=PartialDate(12, 2))  # in two days, lead 7 → due today
    [f] = [f for f in plan([near], rules(), MONDAY) if f.reason == "birthday"]
    assert f.due == MONDAY and f.occasion == dt.date(2026, 12, 2)


def test_leap_day_birthday_in_common_year_is_28_february():
    leap = person(1, birthday=PartialDate(2, 29, 1988))
    today = dt.date(2027, 2, 20)
    [f] = [f for f in plan([leap], rules(), today) if f.reason == "birthday"]
    assert f.occasion == dt.date(2027, 2, 28) and f.due == dt.date(2027, 2, 21)


def test_category_cadence_shortest_wins_and_not_due_yet():
    rules_ = rules(
        keep_in_touch_default=dt.timedelta(days=90),
        keep_in_touch_categories={"close-friends": dt.timedelta(days=30)},
    )
    friend = person(1, categories=("Close Friends",))
    other = person(2)
    last = {"u0001": MONDAY - 20 * DAY, "u0002": MONDAY - 20 * DAY}
    [f] = plan([friend, other], rules_, MONDAY, last_contact=last)
    assert f.contact.uid == "u0001" and f.due == MONDAY + 10 * DAY
    assert f.cycle == (MONDAY - 20 * DAY).isoformat()


def test_pinned_follow_up_keeps_its_day_and_uses_the_cap():
    uid = followup_uid("u0000", "keep-in-touch", "new")
    people = [person(n) for n in range(3)]
    pinned = {uid: MONDAY - 3 * DAY}  # written last week, still open
    followups = plan(people, rules(weekly_cap=1), MONDAY + DAY, pinned=pinned)
    assert [(f.contact.uid, f.due) for f in followups][:2] == [
        ("u0000", MONDAY - 3 * DAY), ("u0001", MONDAY + DAY)
    ]


def test_same_input_same_plan():
    people = [person(n, birthday=PartialDate(1 + n % 12, 1 + n % 28)) for n in range(50)]
    assert plan(people, rules(), MONDAY) == plan(list(reversed(people)), rules(), MONDAY)


def test_common_ground_from_my_interests():
    sailor = person(1, interests=("history", "sailing"))
    [f] = plan([sailor], rules(), MONDAY, my_interests=("sailing", "leadership"))
    assert f.common_ground == ("sailing",)


def standing(balance, last_received, received=()):
    from syncd.reciprocity import Standing

    return Standing(balance, last_received, last_received, tuple(received))


def test_give_back_when_the_balance_reaches_the_threshold():
    laura = person(1)
    received = MONDAY - 3 * DAY
    followups = plan([laura], rules(weekly_cap=1), MONDAY,
                     last_contact={"u0001": received},
                     standings={"u0001": standing(2.0, received)})
    [give_back] = [f for f in followups if f.reason == "give-back"]
    assert give_back.due == received + 7 * DAY
    assert give_back.cycle == received.isoformat() and give_back.balance == 2.0
    below = plan([laura], rules(give_back_threshold=3.0), MONDAY,
                 standings={"u0001": standing(2.0, received)})
    assert [f.reason for f in below] == ["keep-in-touch"]


def test_give_back_is_never_deferred_by_the_weekly_cap():
    people = [person(n) for n in range(5)]
    owed = {p.uid: standing(1.0, MONDAY - 10 * DAY) for p in people}
    followups = plan(people, rules(weekly_cap=1), MONDAY, standings=owed,
                     last_contact={p.uid: MONDAY - 10 * DAY for p in people})
    give_backs = [f for f in followups if f.reason == "give-back"]
    assert len(give_backs) == 5 and {f.due for f in give_backs} == {MONDAY}


def test_an_exchange_restarts_the_keep_in_touch_clock():
    laura = person(1)
    assert [f.reason for f in plan([laura], rules(), MONDAY)] == ["keep-in-touch"]
    assert plan([laura], rules(), MONDAY, last_contact={"u0001": MONDAY - 10 * DAY}) == []
    [f] = plan([laura], rules(), MONDAY + 70 * DAY, last_contact={"u0001": MONDAY - 10 * DAY})
    assert f.due == MONDAY + 80 * DAY and f.cycle == (MONDAY - 10 * DAY).isoformat()


def test_someone_without_interests_gets_to_know_instead_of_keep_in_touch():
    [f] = plan([person(1, interests=())], rules(), MONDAY)
    assert (f.reason, f.due, f.cycle) == ("get-to-know", MONDAY, "new")


# --- issue 14, item 1: groups are categories, not interests ---------------------------------


def test_a_card_with_only_groups_is_a_get_to_know_with_its_category_cadence():
    from syncd.interests import with_interests

    rules_ = rules(keep_in_touch_categories={"Famiglia": dt.timedelta(days=14)})
    [mum] = with_interests([person(1, interests=(), categories=("myContacts", "famiglia"))], [], {},
                           groups=rules_.keep_in_touch_categories)
    assert mum.interests == ()
    last = {"u0001": MONDAY - 10 * DAY}
    [f] = plan([mum], rules_, MONDAY, last_contact=last)
    assert f.reason == "get-to-know" and f.due == MONDAY + 4 * DAY  # the 14-day cadence
    assert f.common_ground == ()


def test_category_cadences_match_like_groups_and_the_shortest_wins():
    rules_ = rules(keep_in_touch_categories={"close-friends": dt.timedelta(days=30),
                                             "Close Friends": dt.timedelta(days=21)})
    friend = person(1, categories=("close_friends",))
    last = {"u0001": MONDAY - 20 * DAY}
    [f] = plan([friend], rules_, MONDAY, last_contact=last)
    assert f.due == MONDAY + DAY


def test_one_follow_up_a_week_per_person_the_strongest_reason_first():
    from syncd.reciprocity import Standing
    from syncd.model import Exchange
    got = Exchange("u0001", "received", "book", "Dune", MONDAY - 20 * DAY, 2.0, "cli")
    owed = {"u0001": Standing(balance=2.0, last_received=got.date, last_exchange=got.date,
                              received=(got,))}
    laura = person(1, birthday=PartialDate(12, 4, 1980))
    followups = plan([laura], rules(), MONDAY, standings=owed,
                     last_contact={"u0001": MONDAY - 200 * DAY})
    # keep-in-touch (overdue), give-back (owed) and the birthday on Friday: one follow-up
    [only] = followups
    assert (only.reason, only.also, only.due) == ("birthday", ("give-back", "keep-in-touch"), MONDAY)
    assert only.uid == followup_uid("u0001", "birthday", "2026")
    assert only.balance == 2.0 and only.received == (got,)
    # a birthday months away leaves the others alone, merged with each other
    later = person(1, birthday=PartialDate(6, 1, 1980))
    [merged] = plan([later], rules(), MONDAY, standings=owed,
                    last_contact={"u0001": MONDAY - 200 * DAY})
    assert (merged.reason, merged.also) == ("give-back", ("keep-in-touch",))
    # a week or more apart: two follow-ups
    apart = plan([person(1, birthday=PartialDate(12, 20, 1980))], rules(), MONDAY,
                 last_contact={"u0001": MONDAY - 200 * DAY})
    assert sorted((f.reason, f.also) for f in apart) == [("birthday", ()), ("keep-in-touch", ())]


def test_kept_out_by_category_name_email_or_uid_get_no_follow_up_of_any_reason():
    from syncd.planner import kept_out
    from syncd.reciprocity import Standing

    owed = Standing(3.0, MONDAY - 8 * DAY, MONDAY - 8 * DAY, ())
    people = [
        person(1, categories=("Dentists", "No Followups")),  # the default list, case ignored
        person(2, emails=("plumber@example.org",), birthday=PartialDate(12, 1, 1970)),
        person(3),  # by name
        person(4),  # by UID
        person(5),  # kept
    ]
    skip = rules(skip=("PLUMBER@example.org", "person 0003", "u0004"))
    out, problems = kept_out(people, skip)
    assert out == {"u0001", "u0002", "u0003", "u0004"} and problems == []
    followups = plan(people, skip, MONDAY, standings={p.uid: owed for p in people})
    [kept] = followups
    assert (kept.contact.uid, kept.reason, kept.also) == ("u0005", "give-back", ("keep-in-touch",))
    # Without the lists, all five are planned.
    assert len({f.contact.uid for f in plan(people, rules(skip_categories=()), MONDAY)}) == 5


def test_a_skip_entry_that_names_no_one_or_two_keeps_no_one_out_and_says_so():
    from syncd.planner import kept_out

    twins = [Contact(uid="a", name="Mario Rossi", source="s", emails=("a@example.org",)),
             Contact(uid="b", name="Mario Rossi", source="s", emails=("b@example.org",))]
    out, problems = kept_out(twins, rules(skip=("mario rossi", "Nessuno")))
    assert out == frozenset()
    assert problems[0].startswith("rules.skip: 'mario rossi' matches 2 contacts; use a UID")
    assert "a@example.org" in problems[0] and "b@example.org" in problems[0]
    assert problems[1] == "rules.skip: 'Nessuno' matches no contact; nobody is kept out by it"


def test_a_contact_without_a_name_gets_no_follow_up():
    from syncd.planner import kept_out

    nameless = Contact(uid="x", name="", source="s", emails=())
    named = Contact(uid="y", name="Anna", source="s")
    assert kept_out([nameless, named], rules())[0] == {"x"}
    assert [f.contact.uid for f in plan([nameless, named], rules(), MONDAY)] == ["y"]
