import datetime as dt

import icalendar
import pytest

import re

from sync_support import START, now_on

from syncd import cycle, render, wording
from syncd.config import Config, MeConfig, SourceConfig
from syncd.model import Contact, Exchange, FollowUp, Idea, Suggestion
from syncd.state import State
from syncd.targets.local import LocalTarget

NOW = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.timezone.utc)
EVIL = "Laura\r\nEND:VTODO\r\nBEGIN:VEVENT\r\nSUMMARY:pwned\nEND:VEVENT, x; y"


def followup(reason="keep-in-touch", **contact_fields):
    fields = {"uid": "laura-1", "name": "Laura Bianchi", "source": "s"} | contact_fields
    return FollowUp(Contact(**fields), reason, "new", dt.date(2026, 12, 1),
                    occasion=dt.date(2026, 12, 8) if reason == "birthday" else None)


def test_todo_with_due_date_marks_and_language():
    f = followup(interests=("sailing", "history"), emails=("laura@example.org",))
    f = FollowUp(f.contact, f.reason, f.cycle, f.due, common_ground=("sailing",))
    text = render.render(f, language="en", component="todo", now=NOW)
    [todo] = icalendar.Calendar.from_ical(text).walk("VTODO")
    assert todo["UID"] == f.uid
    assert todo["DUE"].dt == dt.date(2026, 12, 1)  # a DATE, not a date-time
    assert todo["DUE"].params["VALUE"] == "DATE"
    assert todo["STATUS"] == "NEEDS-ACTION"
    assert str(todo["SUMMARY"]) == "Get in touch with Laura Bianchi"
    description = str(todo["DESCRIPTION"])
    assert "Interests: #sailing #history" in description
    assert "Common ground: #sailing" in description
    stored = render.read(text)
    assert (stored.contact_uid, stored.reason, stored.cycle) == ("laura-1", "keep-in-touch", "new")
    assert stored.is_ours and stored.untouched


def test_italian_birthday_text():
    text = render.render(followup("birthday"), language="it", component="todo", now=NOW)
    [todo] = icalendar.Calendar.from_ical(text).walk("VTODO")
    assert str(todo["SUMMARY"]) == "Compleanno di Laura Bianchi l'8 dicembre"
    assert "Il compleanno di Laura Bianchi è l'8 dicembre." in str(todo["DESCRIPTION"])


def test_event_is_all_day():
    text = render.render(followup(), language="en", component="event", now=NOW)
    [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert event["DTSTART"].dt == dt.date(2026, 12, 1)
    assert event["DTEND"].dt == dt.date(2026, 12, 2)


@pytest.mark.parametrize("component", ["todo", "event"])
def test_vcard_text_cannot_inject_a_property_or_component(component):
    f = followup(uid=EVIL, name=EVIL, note=EVIL, interests=("x",), emails=(EVIL,),
                 phones=(EVIL,))
    text = render.render(f, language="en", component=component, now=NOW)
    calendar = icalendar.Calendar.from_ical(text)
    names = [c.name for c in calendar.walk()]
    assert names == ["VCALENDAR", "VTODO" if component == "todo" else "VEVENT"]
    [main] = calendar.subcomponents
    # A SUMMARY is one line: the name's line breaks are spaces, the rest of it stays text.
    assert "Laura END:VTODO BEGIN:VEVENT SUMMARY:pwned END:VEVENT, x; y" in str(main["SUMMARY"])
    # iCalendar TEXT has no CR: a CRLF in the card's UID comes back as one newline, still text.
    assert render.read(text).contact_uid == EVIL.replace("\r\n", "\n")
    assert all(line.startswith((" ", "BEGIN:", "END:")) or ":" in line
               for line in text.splitlines())
    assert "\nSUMMARY:pwned" not in text and "\nEND:VEVENT\r\nBEGIN" not in text


def test_hash_ignores_volatile_properties_and_layout():
    a = render.render(followup(), language="en", component="todo", now=NOW)
    b = render.render(followup(), language="en", component="todo", now=NOW + dt.timedelta(days=3))
    assert a != b and render.content_hash(a) == render.content_hash(b)
    refolded = a.replace("\r\n ", "").replace("PRODID:-//syncd", "PRODID:-//server")
    assert render.content_hash(refolded) == render.content_hash(a)


def test_an_edit_changes_the_hash_and_is_not_untouched():
    text = render.render(followup(), language="en", component="todo", now=NOW)
    edited = text.replace("Get in touch with", "Call")
    assert render.content_hash(edited) != render.content_hash(text)
    assert not render.read(edited).untouched
    completed = text.replace("STATUS:NEEDS-ACTION", "STATUS:COMPLETED")
    assert render.read(completed).status == "COMPLETED"


def test_object_without_marks_is_not_ours():
    text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:x\r\nSUMMARY:mine\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    assert not render.read(text).is_ours


# -- words: Italian is Italian (issue 14, item 10), links (item 8), what ticking records (item 3) --

BOOK = Idea("into-thin-air", "book", "Into Thin Air", "Jon Krakauer", ("mountaineering",), "en",
            year=1997, isbn13="9780385494786", titles={"it": "Aria sottile"})
EVENT = Idea("barcolana", "event", "Barcolana", "Società Velica di Barcola e Grignano",
             ("sailing",), "it", url="https://www.barcolana.it/", months=(10,), city="Trieste",
             shape="gift")
PODCAST = Idea("wikiradio", "podcast", "Wikiradio", "Rai Radio 3", ("history",), "it")


@pytest.mark.parametrize(("day", "text"), [
    (dt.date(2026, 12, 8), "l'8 dicembre"), (dt.date(2026, 3, 11), "l'11 marzo"),
    (dt.date(2026, 5, 1), "il 1º maggio"), (dt.date(2026, 6, 2), "il 2 giugno"),
    (dt.date(2026, 8, 18), "il 18 agosto"), (dt.date(2026, 10, 31), "il 31 ottobre"),
])
def test_italian_dates_take_their_article(day, text):
    assert wording.on_date(day, "it") == text
    assert wording.on_date(day, "it", year=True) == f"{text} 2026"


def test_english_dates_say_on():
    assert wording.on_date(dt.date(2026, 12, 8), "en") == "on December 8"
    assert wording.on_date(dt.date(2026, 3, 1), "en", year=True) == "on March 1, 2026"


def give_back(**contact_fields) -> FollowUp:
    contact = Contact(**({"uid": "laura-1", "name": "Laura Bianchi", "source": "s",
                          "interests": ("vela", "montagna")} | contact_fields))
    return FollowUp(
        contact, "give-back", "2026-1", dt.date(2026, 12, 1), balance=1.5,
        received=(Exchange("laura-1", "received", "book", "Il Gattopardo",
                           dt.date(2026, 3, 11), 2.0, "note"),),
        ideas=(Suggestion(BOOK, "#mountaineering (their #montagna); also yours: #sailing", 5.0),
               Suggestion(EVENT, "related to #vela via #sailing", 2.0),
               Suggestion(PODCAST, "#history; some reason no pattern knows", 1.0)))


def test_idea_lines_carry_their_link_and_when_an_event_is():
    text = render.description(give_back(), "en")
    assert ("- Into Thin Air (book, Jon Krakauer): #mountaineering (their #montagna); also "
            "yours: #sailing — https://openlibrary.org/isbn/9780385494786") in text
    assert ("- Barcolana (event, Società Velica di Barcola e Grignano, October, Trieste): "
            "related to #vela via #sailing — https://www.barcolana.it/") in text
    assert "- Wikiradio (podcast, Rai Radio 3): #history; some reason no pattern knows\n" in text
    assert "- book “Il Gattopardo” on March 11, 2026" in text
    assert "Balance: 1.5 owed" in text


def test_italian_follow_up_is_italian():
    text = render.description(give_back(), "it")
    assert text.splitlines() == [
        "Laura Bianchi ti ha dato qualcosa: è ora di ricambiare.",
        "Ricevuto:",
        "- libro “Il Gattopardo” l'11 marzo 2026",
        "Saldo: 1,5 da ricambiare",
        "Interessi: #vela #montagna",
        "Idee:",
        "- Aria sottile (libro, Jon Krakauer): #montagna; in comune: #sailing"
        " — https://openlibrary.org/isbn/9780385494786",
        "- Barcolana (evento, Società Velica di Barcola e Grignano, ottobre, Trieste):"
        " affine a #vela — https://www.barcolana.it/",
        "- Wikiradio (podcast, Rai Radio 3): #history",  # the unknown reason is left out
        "Hai dato una di queste idee? Prima di spuntarla aggiungi una riga come dato: libro"
        ' "Titolo", oppure cancella le altre idee.',
    ]


def test_no_sentence_assumes_a_gender():
    for reason in ("keep-in-touch", "birthday", "anniversary", "give-back", "get-to-know"):
        f = FollowUp(Contact("u", "Anna", "s"), reason, "new", dt.date(2026, 12, 1),
                     occasion=dt.date(2026, 12, 8))
        words = set(re.findall(r"[^\W\d_]+", render.summary(f, "it") + render.description(f, "it")))
        assert not words & {"gli", "lui", "lei", "suo", "sua", "caro", "cara", "amico", "amica"}


def test_text_from_the_catalog_cannot_inject_either():
    evil = Idea("x", "event", EVIL, EVIL, ("x",), "en", url="https://e.org/\r\nEND:VTODO",
                months=(5,), city=EVIL)
    f = FollowUp(Contact("u", "Ann", "s"), "keep-in-touch", "new", dt.date(2026, 12, 1),
                 ideas=(Suggestion(evil, EVIL, 1.0),))
    text = render.render(f, language="it", component="todo", now=NOW)
    calendar = icalendar.Calendar.from_ical(text)
    assert [c.name for c in calendar.walk()] == ["VCALENDAR", "VTODO"]
    assert "\nSUMMARY:pwned" not in text and "\nEND:VTODO\r\nBEGIN" not in text
    assert render.read(text).ideas == ("x",)


def test_the_object_lists_every_idea_proposed_and_reads_back_the_description():
    text = render.render(give_back(), language="en", component="todo", now=NOW)
    stored = render.read(text)
    assert stored.ideas == ("into-thin-air", "barcolana", "wikiradio")
    assert stored.idea == "into-thin-air"
    assert stored.description == render.description(give_back(), "en")


ENGLISH = wording.english_only_words()


def test_every_reason_matching_gives_is_said_in_italian():
    assert wording.why("#mountaineering, like “Into Thin Air”; also yours: #sailing", "it") == (
        "#mountaineering, come “Into Thin Air”; in comune: #sailing")
    assert wording.why("#sailing (their #vela); related to #history via #politics", "it") == (
        "#vela; affine a #history")


def test_a_real_italian_sync_writes_no_english_word(tmp_path):
    """End to end: Italian cards (no LANG), `me.language: it`, the shipped catalog, one sync to
    a calendar folder; every object read back as a person's app would. What is left once the
    names (people, titles, authors, organisers, cities), tags, links and email are taken out
    must hold no English word of syncd's."""
    assert {"received", "ideas", "owed", "birthday", "book", "event", "the", "to"} <= ENGLISH
    folder = tmp_path / "contacts"
    folder.mkdir()
    cards = {"laura-1": ("Laura Bianchi", "BDAY:1985-12-08\r\nEMAIL:laura@example.org\r\n"
                         'NOTE:Interessi: vela, montagna\\nricevuto: libro "Il Gattopardo" '
                         "2026-11-20"),
             "marco-1": ("Marco Rossi", "NOTE:Interessi: vela, storia"),
             "giovanna-1": ("Giovanna Neri", "")}
    for uid, (name, extra) in cards.items():
        (folder / f"{uid}.vcf").write_text(
            f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\n"
            + (f"{extra}\r\n" if extra else "") + "END:VCARD\r\n", encoding="utf-8")
    config = Config(contacts=(SourceConfig("vdir", folder),),
                    me=MeConfig(interests=("vela",), language="it"), state=tmp_path / "s.sqlite")
    calendar = tmp_path / "calendar"
    calendar.mkdir()
    with State(config.state) as state:
        report = cycle.sync(config, state, LocalTarget(calendar), START, now_on(START))
    assert not report.errors
    catalog = {idea.id: idea for idea in cycle.load_ideas(config)[0]}
    found, reasons = [], set()
    for path in sorted(calendar.glob("*.ics")):
        [todo] = icalendar.Calendar.from_ical(path.read_bytes()).walk("VTODO")
        stored = render.read(path.read_text(encoding="utf-8"))
        reasons.update((stored.reason, *stored.also))
        text = f"{todo['SUMMARY']}\n{todo['DESCRIPTION']}"
        names = [name for name, _ in cards.values()] + ["laura@example.org"]
        for uid in stored.ideas:
            idea = catalog[uid]
            names += [idea.title, idea.title_in("it"), idea.by, idea.city or "",
                      idea.link or ""]
        for name in sorted(filter(None, names), key=len, reverse=True):
            text = text.replace(name, " ")
        text = re.sub(r"#\S+|https?://\S+", " ", text)
        found += [(path.name, w) for w in re.findall(r"[^\W\d_]+", text) if w.lower() in ENGLISH]
        if stored.reason == "birthday":
            assert str(todo["SUMMARY"]) == "Compleanno di Laura Bianchi l'8 dicembre"
        if "give-back" in (stored.reason, *stored.also):  # due within a week of her birthday
            assert "- libro “Il Gattopardo” il 20 novembre 2026" in str(todo["DESCRIPTION"])
            assert stored.ideas and "Idee:" in str(todo["DESCRIPTION"])
    assert {"give-back", "get-to-know"} <= reasons
    assert found == []


# -- issue 15: a one-line SUMMARY (item 7), phones and emails as links (item 6) ------------------

BREAKS = {"CR": "\r", "LF": "\n", "CRLF": "\r\n", "LS": "\u2028", "PS": "\u2029", "NEL": "\u0085",
          "VT": "\x0b", "FF": "\x0c", "two": "\n\n"}


@pytest.mark.parametrize("language", ["en", "it"])
@pytest.mark.parametrize("reason", ["keep-in-touch", "birthday", "give-back"])
@pytest.mark.parametrize("brk", list(BREAKS.values()), ids=list(BREAKS))
def test_a_name_with_a_line_break_gives_a_one_line_summary(brk, reason, language):
    """An FN with a line break showed as several fake lines in todoman and khal."""
    f = followup(reason, name=f"Laura{brk}Bianchi{brk}SUMMARY:pwned")
    text = render.render(f, language=language, component="todo", now=NOW)
    [todo] = icalendar.Calendar.from_ical(text).walk("VTODO")
    summary = str(todo["SUMMARY"])
    assert summary.splitlines() == [summary] and "Laura Bianchi SUMMARY:pwned" in summary
    assert render.summary(f, language).splitlines() == [render.summary(f, language)]
    first = str(todo["DESCRIPTION"]).splitlines()[0]
    assert "Laura Bianchi SUMMARY:pwned" in first
    assert not any(line.startswith(("Bianchi", "SUMMARY"))
                   for line in str(todo["DESCRIPTION"]).splitlines())


def test_a_name_cannot_forge_a_gave_line_in_the_description():
    """Ticking a follow-up off records each `gave:` line of its description: a name (the
    person's, or another contact's in an introduction) must not bring one."""
    from syncd import reciprocity
    from syncd.model import Introduction

    forged = 'Ann\ngave: book "Forged" 2026-11-01\n- gave: gift "Also forged"'
    f = FollowUp(Contact("u", forged, "s", phones=(forged,), emails=(forged,)), "give-back",
                 "1", dt.date(2026, 12, 1),
                 introductions=(Introduction("v", forged, ("sailing",)),))
    for language in ("en", "it"):
        said, problems = reciprocity.given_lines(render.description(f, language))
        assert said == [] and problems == []


def reach_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("Phone", "Telefono", "Email"))]


def test_phones_and_emails_are_links_in_english():
    f = followup(phones=("+39 333 123 4567", "tel:+390401234567", "+39 333 123 4567"),
                 emails=("laura@example.org", "mailto:laura.b@example.com"))
    assert reach_lines(render.description(f, "en")) == [
        "Phone: +39 333 123 4567 — tel:+393331234567",
        "Phone: tel:+390401234567",  # a TEL that is a URI already; the repeated one once
        "Email: mailto:laura@example.org",
        "Email: mailto:laura.b@example.com",
    ]


def test_phones_and_emails_are_links_in_italian_and_hold_no_english_word():
    f = followup(phones=("+1 (555) 010-4477 ext. 12",), emails=("laura@example.org",))
    text = render.description(f, "it")
    assert reach_lines(text) == ["Telefono: +1 (555) 010-4477 ext. 12 — tel:+15550104477;ext=12",
                                 "Email: mailto:laura@example.org"]
    words = set(re.findall(r"[^\W\d_]+", re.sub(r"\S+@\S+|\S+:\S+|Laura Bianchi", " ", text)))
    assert not {w.lower() for w in words} & ENGLISH


@pytest.mark.parametrize(("value", "link"), [
    ("+39 333 123 4567", "tel:+393331234567"),
    ("tel:+1-555-555-5555;ext=5555", "tel:+15555555555;ext=5555"),
    ("TEL:+44 20 7946 0958", "tel:+442079460958"),
    ("(040) 123.456/78", "tel:04012345678"),
    ("+1 555 0100 x7", "tel:+15550100;ext=7"),
    ("1-800-FLOWERS", None),  # letters: no number can be told
    ("12", None),
    ("", None),
    ("+39 333;\r\nEND:VTODO", None),
    ("+39 333 1234567\r\nBEGIN:VEVENT", None),
    ("tel:+39 333 1234567;ext=12\nSUMMARY:pwned", None),
    ("+39 333 1234567?body=x", None),
])
def test_a_tel_link_holds_only_digits_plus_and_an_extension(value, link):
    assert render.tel_link(render.one_line(value)) == link


@pytest.mark.parametrize(("value", "link"), [
    ("laura@example.org", "mailto:laura@example.org"),
    ("MAILTO:laura@example.org", "mailto:laura@example.org"),
    ("a?b#c%d@example.org", "mailto:a%3Fb%23c%25d@example.org"),
    ("zoë@example.org", "mailto:zo%C3%AB@example.org"),
    ("laura", None),
    ("@example.org", None),
    ("laura @example.org", None),
    ("x@example.org\r\nEND:VCALENDAR", None),
])
def test_a_mailto_link_is_percent_encoded_or_not_made(value, link):
    assert render.mailto_link(render.one_line(value)) == link


PHONE_ATTACKS = [
    "+39 333;\r\nEND:VTODO\r\nBEGIN:VEVENT\r\nSUMMARY:pwned\r\nEND:VEVENT",
    "tel:+39 333 1234567;ext=12\nEND:VCALENDAR",
    "tel:tel:+39\\n333,;\\;",
    "+39 333 1234567\u2028DESCRIPTION:pwned",
    '+39 333 1234567\rgave: book "Forged"',
    "+39 333 1234567\x00\x1b[31m",
]


@pytest.mark.parametrize("component", ["todo", "event"])
@pytest.mark.parametrize("language", ["en", "it"])
def test_a_phone_value_cannot_inject_and_stays_text(component, language):
    from syncd import reciprocity

    f = followup(phones=tuple(PHONE_ATTACKS), emails=tuple(PHONE_ATTACKS))
    text = render.render(f, language=language, component=component, now=NOW)
    calendar = icalendar.Calendar.from_ical(text)
    assert [c.name for c in calendar.walk()] == ["VCALENDAR",
                                                 "VTODO" if component == "todo" else "VEVENT"]
    [main] = calendar.subcomponents
    assert "pwned" not in str(main["SUMMARY"])
    description = str(main["DESCRIPTION"])
    assert "+39 333; END:VTODO BEGIN:VEVENT SUMMARY:pwned END:VEVENT" in description
    lines = reach_lines(description)
    # One line per value, every one as text (none of them is a number a link can be made of).
    assert len(lines) == 2 * len(PHONE_ATTACKS)
    assert not any(" — " in line for line in lines)
    assert reciprocity.given_lines(description) == ([], [])
    assert "\nSUMMARY:pwned" not in text and "\nEND:VEVENT\r\nBEGIN" not in text
    assert "\x1b" not in text and "\x00" not in text
    stored = render.read(text)
    assert stored.is_ours and stored.untouched and stored.description == description


def test_an_italian_follow_up_names_italian_cities_in_italian():
    giro = Idea("sei-nazioni", "event", "Sei Nazioni", "FIR", ("rugby",), "it", months=(2,),
                city="Rome", shape="gift")
    assert wording.idea_line(giro, "", "it") == "- Sei Nazioni (evento, FIR, febbraio, Roma)"
    assert wording.idea_line(giro, "", "en") == "- Sei Nazioni (event, FIR, February, Rome)"
