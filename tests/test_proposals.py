"""What syncd proposed to whom, remembered in the state file (issue 14 item 5), through real
syncs to a calendar folder: a follow-up keeps the ideas it shows from one day to the next, the
next follow-up of that person proposes others, and a network shares no idea widely."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

from sync_support import START, completed, make_config, now_on, write_card

from syncd import cycle, render
from syncd.config import Rules
from syncd.ledger import Ledger
from syncd.state import State
from syncd.targets.local import LocalTarget


def _ideas(calendar) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Follow-up object file → (reason, idea ids), of the open ones."""
    found = {}
    for path in sorted(calendar.glob("*.ics")):
        stored = render.read(path.read_text(encoding="utf-8"))
        if stored.status != "COMPLETED":
            found[path.name] = (stored.reason, stored.ideas)
    return found


def test_a_follow_up_keeps_its_ideas_and_the_next_one_proposes_others(tmp_path):
    contacts = tmp_path / "contacts"
    contacts.mkdir()
    write_card(contacts, "anna-1", "Anna Verdi", interests="sailing, literature")
    config = make_config(tmp_path)
    calendar = tmp_path / "calendar"
    calendar.mkdir()
    target = LocalTarget(calendar)
    with State(config.state) as state:
        cycle.sync(config, state, target, START, now_on(START))
        [(name, (reason, first))] = _ideas(calendar).items()
        assert reason == "keep-in-touch" and len(first) == 3
        remembered = Ledger(state).proposals(START - dt.timedelta(days=365))
        assert [(p.contact_uid, p.idea_id, p.day) for p in remembered] == [
            ("anna-1", idea, START) for idea in first]
        # The next days, what the person has read stays as it is, though the ranking moved
        # (those ideas now count as proposed to someone lately).
        for later in (1, 2, 8):
            day = START + dt.timedelta(days=later)
            report = cycle.sync(config, state, target, day, now_on(day))
            assert (report.counts["updated"], report.counts["created"]) == (0, 0)
            assert _ideas(calendar) == {name: ("keep-in-touch", first)}
        # Ticked off: the next keep-in-touch, when it is due, proposes three other ideas.
        path = calendar / name
        path.write_text(completed(path.read_text(encoding="utf-8"), now_on(START + dt.timedelta(days=9))),
                        encoding="utf-8")
        day = START + dt.timedelta(days=9)
        cycle.sync(config, state, target, day, now_on(day))
        due = day + config.rules.keep_in_touch_default
        cycle.sync(config, state, target, due, now_on(due))
        [(_, (reason, second))] = _ideas(calendar).items()
        assert reason == "keep-in-touch" and len(second) == 3
        assert not set(first) & set(second)


def test_across_a_network_no_idea_is_in_more_than_a_tenth_of_the_follow_ups(tmp_path):
    """120 people, two interests each out of 40 common ones (each held by about 6 people, 5 %),
    the first syncs of the network at once: the same interests do not mean the same ideas. (A
    much denser network can exceed a tenth: crowding never outranks a better match.)"""
    contacts = tmp_path / "contacts"
    contacts.mkdir()
    common = ["sailing", "literature", "cooking", "wine", "photography", "travel", "chess",
              "history", "running", "hiking", "jazz", "cinema", "gardening", "astronomy",
              "philosophy", "cycling", "painting", "theatre", "football", "economics", "yoga",
              "climbing", "skiing", "tennis", "swimming", "birdwatching", "poetry", "opera",
              "rock", "design", "architecture", "fashion", "baking", "coffee", "beer",
              "programming", "robotics", "psychology", "parenting", "startups"]
    rng = random.Random(5)
    for n in range(120):
        write_card(contacts, f"p-{n}", f"Person {n}", interests=", ".join(rng.sample(common, 2)))
    config = make_config(tmp_path, rules=Rules(weekly_cap=500))
    calendar = tmp_path / "calendar"
    calendar.mkdir()
    with State(config.state) as state:
        cycle.sync(config, state, LocalTarget(calendar), START, now_on(START))
    shown = [render.read(p.read_text(encoding="utf-8")) for p in calendar.glob("*.ics")]
    assert len(shown) == 120
    counts = Counter(idea for stored in shown for idea in stored.ideas)
    assert counts.most_common(1)[0][1] <= len(shown) / 10, counts.most_common(3)
    assert len(counts) >= 200  # of 360 ideas shown
