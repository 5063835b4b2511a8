"""The hand-written iCalendar writer against icalendar itself: for any follow-up, the text must
mean what icalendar would have built (same properties and values once unfolded), give back
every text exactly (where icalendar itself would not: it turns a literal backslash-N into a line
break), fold into lines of at most 75 octets without cutting a UTF-8 sequence, and carry a hash
equal to the one computed when icalendar reads the text back. If the two hashes ever differed, syncd would take
its own untouched objects for a person's edit and stop updating them."""

import datetime as dt

import icalendar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd import render
from syncd.model import Contact, Exchange, FollowUp, Idea, Introduction, Suggestion

NOW = dt.datetime(2026, 11, 26, 9, 30, 7, 123456, tzinfo=dt.timezone.utc)


def reference(followup: FollowUp, language: str, component: str) -> icalendar.Calendar:
    """The object as syncd built it with icalendar before the writer (syncd 0.1, render.py),
    each text cleaned as the writer cleans it (`_clean`)."""
    item = icalendar.Todo() if component == "todo" else icalendar.Event()
    item.add("uid", followup.uid)
    item.add("dtstamp", NOW.replace(microsecond=0))
    item.add("summary", _clean(render.summary(followup, language)))
    item.add("description", _clean(render.description(followup, language)))
    if component == "todo":
        item.add("due", followup.due)
        item.add("status", "NEEDS-ACTION")
    else:
        item.add("dtstart", followup.due)
        item.add("dtend", followup.due + dt.timedelta(days=1))
        item.add("transp", "TRANSPARENT")
    item.add("categories", ["syncd", followup.reason])
    item.add(render.MARK_CONTACT, icalendar.vText(_clean(followup.contact.uid)))
    item.add(render.MARK_REASON, icalendar.vText(followup.reason))
    item.add(render.MARK_CYCLE, icalendar.vText(_clean(followup.cycle)))
    if followup.also:
        item.add(render.MARK_ALSO, icalendar.vText(",".join(followup.also)))
    if followup.ideas:
        item.add(render.MARK_IDEA, icalendar.vText(_clean(followup.ideas[0].idea.id)))
    if len(followup.ideas) > 1:
        item.add(render.MARK_IDEAS, icalendar.vText(
            _clean(render.IDEA_SEPARATOR.join(s.idea.id for s in followup.ideas))))
    calendar = icalendar.Calendar()
    calendar.add("prodid", render.PRODID)
    calendar.add("version", "2.0")
    calendar.add_component(item)
    return calendar


def properties(calendar: icalendar.Calendar) -> list[tuple[str, str, bytes]]:
    found = []
    for component in calendar.walk():
        for name, value in component.items():
            if name != render.MARK_HASH:
                for one in value if isinstance(value, list) else [value]:
                    found.append((component.name, name, one.to_ical()))
    return sorted(found)


# Text from vCards can hold anything: control characters, lone CRs, escapes, non-BMP.
weird = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120)
spiky = st.lists(st.sampled_from(list("a,;:\\\r\n\"'é€😀\x00\x07\t N") + ["END:VTODO", "\\N"]),
                 max_size=30).map("".join)
free_text = st.one_of(weird, spiky)
day = st.dates(dt.date(1990, 1, 1), dt.date(2090, 12, 31))


@st.composite
def followups(draw):
    contact = Contact(
        # UID and cycle name the object (its UID hashes them): kept free of what the writer drops,
        # which test_uid_stays_the_followups_uid covers.
        uid=draw(free_text.map(_clean).filter(bool)), name=draw(free_text), source="s.vcf",
        emails=tuple(draw(st.lists(free_text, max_size=2))),
        # Numbers as people write them, and anything else a TEL can hold.
        phones=tuple(draw(st.lists(st.one_of(free_text, st.from_regex(
            r"(tel:)?\+?[0-9 ().-]{0,20}( ?(x|ext\.|;ext=) ?[0-9]{1,4})?", fullmatch=True)),
            max_size=2))),
        interests=tuple(draw(st.lists(free_text.filter(bool), max_size=3))),
        note=draw(free_text),
    )
    ideas = tuple(
        # A catalog is text too: its titles, names and links go into DESCRIPTION.
        Suggestion(Idea(draw(free_text.filter(bool)), draw(st.sampled_from(["book", "event"])),
                        draw(free_text), draw(free_text), ("sailing",), "en",
                        url=draw(st.none() | free_text)), draw(free_text), 3.0)
        for _ in range(draw(st.integers(0, 2)))
    )
    received = tuple(
        Exchange(contact.uid, "received", "book", draw(free_text), draw(day), 1.0, "cli")
        for _ in range(draw(st.integers(0, 2)))
    )
    return FollowUp(
        contact, draw(st.sampled_from(["give-back", "keep-in-touch", "birthday", "anniversary",
                                       "get-to-know"])),
        draw(free_text.map(_clean)), draw(day),
        common_ground=tuple(draw(st.lists(free_text, max_size=2))), ideas=ideas,
        introductions=tuple(Introduction(draw(free_text), draw(free_text), ("x",))
                            for _ in range(draw(st.integers(0, 1)))),
        questions=tuple(draw(st.lists(free_text, max_size=2))),
        occasion=draw(st.none() | day), balance=draw(st.none() | st.floats(0, 1e6)),
        received=received,
        also=tuple(draw(st.lists(st.sampled_from(["give-back", "keep-in-touch"]), max_size=2,
                                 unique=True))),
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(followups(), st.sampled_from(["en", "it"]), st.sampled_from(["todo", "event"]))
def test_the_writer_means_what_icalendar_builds_and_hashes_alike(followup, language, component):
    text, digest, legacy = render.render_with_hash(followup, language=language,
                                                   component=component, now=NOW)
    for line in text.split("\r\n"):
        assert len(line.encode()) <= 75
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert "\r" not in text.replace("\r\n", "")
    parsed = icalendar.Calendar.from_ical(text)
    assert [c.name for c in parsed.walk()] == ["VCALENDAR",
                                               "VTODO" if component == "todo" else "VEVENT"]
    expected = reference(followup, language, component)
    stored = render.read(text)
    assert stored.hash == digest and stored.untouched and stored.written_hash == digest
    # The legacy hash, which rows and objects of syncd before 0.2 hold, is still the writer's.
    assert stored.legacy_hash == legacy
    # Every text comes back exactly, but for line breaks made LF (TEXT has no CR) and the
    # control characters RFC 5545 forbids; icalendar itself would also turn a literal
    # backslash-N into a line break.
    [main] = parsed.subcomponents
    assert str(main["SUMMARY"]) == _clean(render.summary(followup, language))
    assert str(main["DESCRIPTION"]) == _clean(render.description(followup, language))
    assert (stored.contact_uid, stored.reason, stored.cycle) == (
        _clean(followup.contact.uid), followup.reason, _clean(followup.cycle))
    assert stored.idea == (_clean(followup.ideas[0].idea.id) if followup.ideas else None)
    if len(followup.ideas) > 1:
        ids = _clean(render.IDEA_SEPARATOR.join(s.idea.id for s in followup.ideas))
        assert stored.ideas == tuple(i for i in ids.split(render.IDEA_SEPARATOR) if i)
    else:
        assert stored.ideas == ((stored.idea,) if followup.ideas else ())
    assert stored.description == _clean(render.description(followup, language))
    if not any("\\N" in _clean(value) for value in _texts(followup, language)):
        assert properties(parsed) == properties(expected)
        assert digest == render.content_hash(expected.to_ical().decode())


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _texts(followup: FollowUp, language: str) -> list[str]:
    ideas = [followup.ideas[0].idea.id] if followup.ideas else []
    if len(followup.ideas) > 1:
        ideas.append(render.IDEA_SEPARATOR.join(s.idea.id for s in followup.ideas))
    return [render.summary(followup, language), render.description(followup, language),
            followup.contact.uid, followup.cycle, *ideas]


def _clean(text: str) -> str:
    """As the writer takes text: line breaks made LF, then control characters dropped."""
    return render._CONTROL.sub("", _lf(text))


def test_uid_stays_the_followups_uid():
    """The UID is syncd's own (a hash of the contact's), so cleaning never changes the href."""
    f = FollowUp(Contact("a\x00b", "N\x07", "s"), "keep-in-touch", "new", dt.date(2026, 12, 1))
    stored = render.read(render.render(f, language="en", component="todo", now=NOW))
    assert stored.uid == f.uid and stored.contact_uid == "ab"


def test_long_lines_fold_between_characters():
    name = "Zoë😀" * 40  # 2- and 4-byte sequences across every fold position
    f = FollowUp(Contact("u", name, "s"), "keep-in-touch", "new", dt.date(2026, 12, 1))
    text = render.render(f, language="en", component="todo", now=NOW)
    lines = text.split("\r\n")
    assert max(len(line.encode()) for line in lines) == 75  # folded, and as late as allowed
    [todo] = icalendar.Calendar.from_ical(text).walk("VTODO")
    assert str(todo["SUMMARY"]) == f"Get in touch with {name}"
