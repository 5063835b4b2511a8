"""Who needs a follow-up, when and why (pure: values and a clock in, follow-ups out).

Reasons: `give-back` (the ledger balance reached `give_back.threshold`; due `give_back.after` the
last thing received), `keep-in-touch` (the cadence of the contact's category, else the default,
has passed since the last contact; a contact never seen before is due now; `get-to-know` instead
for someone without interests, CATEGORIES that are groups not counting), `birthday` and
`anniversary` (due `birthday.lead` before the day). Only keep-in-touch is ever deferred.

Keep-in-touch load is spread: at most `weekly_cap` new ones per ISO week, only on working days,
the most overdue first, evenly over the days of a week. A follow-up already in the calendar keeps
the day it was given (`pinned`), so a plan re-run tomorrow does not move what the person sees.

One follow-up per person per week (`one_a_week`): reasons due within 7 days of a stronger one are
said in it (a birthday, then an anniversary, then a give-back, then keep-in-touch), not in a
follow-up of their own.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import NamedTuple

from syncd import lookup
from syncd.config import Rules
from syncd.interests import common_ground, group_key, normalise
from syncd.model import Contact, FollowUp, PartialDate, followup_uid
from syncd.reciprocity import Standing

KEEP_IN_TOUCH = "keep-in-touch"
GET_TO_KNOW = "get-to-know"  # the keep-in-touch of someone whose interests are unknown
GIVE_BACK = "give-back"
CADENCE_REASONS = (KEEP_IN_TOUCH, GET_TO_KNOW)
GIFT_REASONS = ("give-back", "birthday", "anniversary")
NEVER_SEEN = "new"
# Strongest first: a day that cannot move, then what is owed, then the cadence.
STRENGTH = ("birthday", "anniversary", GIVE_BACK, KEEP_IN_TOUCH, GET_TO_KNOW)
A_WEEK = dt.timedelta(days=7)


class _Candidate(NamedTuple):
    sort_key: tuple[int, str, str]
    contact: Contact
    cycle: str
    earliest: dt.date


def cadence(contact: Contact, rules: Rules,
            by_category: Mapping[str, dt.timedelta]) -> dt.timedelta:
    """The shortest cadence among the contact's categories, else the default.
    `by_category` is `rules.keep_in_touch_categories` by `group_key` (the names compared as
    `interests` compares groups: `Close Friends`, `close-friends`, `close_friends` are one)."""
    matches = [by_category[key] for key in map(_category_key, contact.categories)
               if key in by_category]
    return min(matches, default=rules.keep_in_touch_default)


@functools.lru_cache(maxsize=4096)  # a few category names, on thousands of cards every cycle
def _category_key(name: str) -> str:
    """A category compared as a group (`group_key`); one of punctuation only, as normalised."""
    return group_key(name) or normalise(name)


def kept_out(contacts: Sequence[Contact], rules: Rules) -> tuple[frozenset[str], list[str]]:
    """The contacts that get no follow-up and are introduced to no one: those without a name,
    those in one of `rules.skip_categories` (compared as the cadence categories are) and those
    `rules.skip` names (a UID, an email or a name, found as `syncd log` finds one). Returns
    their uids and,
    for each entry of `rules.skip` that names no one or several contacts (then none is kept
    out: say which), what is wrong with it."""
    skipped = {key for key in map(_category_key, rules.skip_categories) if key}
    # A card with no name of any kind (the reader said so) would get "Get to know ": none.
    out = {c.uid for c in contacts if not c.name.strip()
           or (skipped and any(_category_key(name) in skipped for name in c.categories))}
    problems = []
    directory = lookup.Directory(contacts) if rules.skip else None
    for query in rules.skip:
        assert directory is not None
        found = directory.matches(query)
        if len(found) == 1:
            out.add(found[0].uid)
        elif found:
            problems.append(f"rules.skip: {lookup.ambiguous(query, found)}")
        else:
            problems.append(f"rules.skip: {query!r} matches no contact; nobody is kept out by it")
    return frozenset(out), problems


def plan(  # noqa: PLR0915 (the whole plan, step by step, in one place)
    contacts: Iterable[Contact],
    rules: Rules,
    today: dt.date,
    *,
    my_interests: Iterable[str] = (),
    last_contact: Mapping[str, dt.date] | None = None,
    pinned: Mapping[str, dt.date] | None = None,
    standings: Mapping[str, Standing] | None = None,
    excluded: Collection[str] | None = None,
) -> list[FollowUp]:
    """Every follow-up that should be in the calendar on `today`.

    `last_contact` maps a contact UID to the day the keep-in-touch clock last restarted (an
    exchange, a completed or dismissed follow-up); `pinned` maps a follow-up UID already written
    to the due date it was written with; `standings` is the ledger as of today; `excluded` the
    uids of the contacts that get none (default: `kept_out` of the rules). A follow-up of
    theirs already written is then not wanted: the reconciliation deletes it as a removed
    contact's.
    """
    contacts = list(contacts)
    if excluded is None:
        excluded = kept_out(contacts, rules)[0]
    contacts = [c for c in contacts if c.uid not in excluded]
    last_contact = last_contact or {}
    pinned = pinned or {}
    standings = standings or {}
    mine = tuple(my_interests)
    horizon_end = today + rules.horizon
    followups: list[FollowUp] = []
    candidates: list[_Candidate] = []
    taken: Counter[dt.date] = Counter()
    by_category: dict[str, dt.timedelta] = {}
    for name, every in rules.keep_in_touch_categories.items():
        key = _category_key(name)
        by_category[key] = min(every, by_category.get(key, every))

    for contact in contacts:
        ground = common_ground(contact.interests, mine)
        occasions = [
            _occasion(contact, "birthday", contact.birthday, rules, today, ground),
            _occasion(contact, "anniversary", contact.anniversary, rules, today, ground),
            _give_back(contact, standings.get(contact.uid), rules, today, ground),
        ]
        for followup in occasions:
            if followup is None:
                continue
            if followup.uid in pinned:
                followup = replace(followup, due=pinned[followup.uid])
            if followup.due <= horizon_end:
                followups.append(followup)

        last = last_contact.get(contact.uid)
        cycle = last.isoformat() if last else NEVER_SEEN
        reason = KEEP_IN_TOUCH if contact.interests else GET_TO_KNOW
        uid = followup_uid(contact.followups_key, reason, cycle)
        if uid in pinned:
            taken[pinned[uid]] += 1
            followups.append(FollowUp(contact, reason, cycle, pinned[uid], ground))
            continue
        due = last + cadence(contact, rules, by_category) if last else today
        if due > horizon_end:
            continue
        # Most overdue first; people never seen after those we know are late; then by name.
        overdue = (today - due).days if last else -1
        sort_key = (-overdue, contact.name.casefold(), contact.uid)
        candidates.append(_Candidate(sort_key, contact, cycle, max(due, today)))

    candidates.sort(key=lambda c: c.sort_key)
    slots = _Slots(rules, today, horizon_end, taken)
    for candidate in candidates:
        day = slots.take(candidate.earliest)
        if day is None:
            if slots.full():
                break
            continue
        person = candidate.contact
        ground = common_ground(person.interests, mine)
        reason = KEEP_IN_TOUCH if person.interests else GET_TO_KNOW
        followups.append(FollowUp(person, reason, candidate.cycle, day, ground))

    followups = one_a_week(followups)
    followups.sort(key=lambda f: (f.due, f.reason, f.contact.name.casefold(), f.contact.uid))
    return followups


def one_a_week(followups: Iterable[FollowUp]) -> list[FollowUp]:
    """Each person's follow-ups, those due within 7 days of a stronger one (`STRENGTH`) merged
    into it as `also`: the strongest keeps its identity and day; a merged give-back brings its
    balance and what was received (ticking it off then settles the balance too)."""
    by_contact: dict[str, list[FollowUp]] = {}
    for followup in followups:
        by_contact.setdefault(followup.contact.uid, []).append(followup)
    merged: list[FollowUp] = []
    for own in by_contact.values():
        if len(own) == 1:
            merged.extend(own)
            continue
        kept: list[FollowUp] = []
        for followup in sorted(own, key=lambda f: (STRENGTH.index(f.reason), f.due, f.cycle)):
            into = next((i for i, k in enumerate(kept) if abs(k.due - followup.due) < A_WEEK),
                        None)
            if into is None:
                kept.append(followup)
                continue
            strong = kept[into]
            strong = replace(strong, also=(*strong.also, followup.reason))
            if followup.reason == GIVE_BACK:
                strong = replace(strong, balance=followup.balance, received=followup.received)
            kept[into] = strong
        merged.extend(kept)
    return merged


def _occasion(
    contact: Contact,
    reason: str,
    day: PartialDate | None,
    rules: Rules,
    today: dt.date,
    ground: tuple[str, ...],
) -> FollowUp | None:
    if day is None:
        return None
    occasion = day.next_on_or_after(today)
    due = max(today, occasion - rules.birthday_lead)
    return FollowUp(contact, reason, str(occasion.year), due, ground, occasion=occasion)


def _give_back(
    contact: Contact, standing: Standing | None, rules: Rules, today: dt.date,
    ground: tuple[str, ...],
) -> FollowUp | None:
    if standing is None or standing.last_received is None:
        return None
    if standing.balance < rules.give_back_threshold:
        return None
    due = max(today, standing.last_received + rules.give_back_after)
    return FollowUp(contact, GIVE_BACK, standing.last_received.isoformat(), due, ground,
                    balance=standing.balance, received=standing.received)


class _Slots:
    """Working days from today to the horizon, each ISO week holding at most `weekly_cap`."""

    def __init__(self, rules: Rules, today: dt.date, end: dt.date, taken: Counter[dt.date]):
        self.cap = rules.weekly_cap
        self.days = [
            today + dt.timedelta(days=n)
            for n in range((end - today).days + 1)
            if (today + dt.timedelta(days=n)).weekday() in rules.working_days
        ]
        self.per_day = Counter({day: taken[day] for day in self.days})
        self.per_week: Counter[tuple[int, int]] = Counter()
        for day, count in taken.items():
            self.per_week[_week(day)] += count
        self.open_weeks = {_week(day) for day in self.days if self.per_week[_week(day)] < self.cap}

    def full(self) -> bool:
        return not self.open_weeks

    def take(self, earliest: dt.date) -> dt.date | None:
        """The least busy working day of the first week with room, on or after `earliest`."""
        start = bisect.bisect_left(self.days, earliest)
        week_days: list[dt.date] = []
        for day in self.days[start:]:
            if week_days and _week(day) != _week(week_days[0]):
                break
            if _week(day) in self.open_weeks:
                week_days.append(day)
        if not week_days:
            return None
        day = min(week_days, key=lambda d: (self.per_day[d], d))
        self.per_day[day] += 1
        week = _week(day)
        self.per_week[week] += 1
        if self.per_week[week] >= self.cap:
            self.open_weeks.discard(week)
        return day


def _week(day: dt.date) -> tuple[int, int]:
    year, week, _ = day.isocalendar()
    return year, week
