import datetime as dt

import icalendar
import pytest

from syncd import render
from syncd.model import Contact, FollowUp

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
    assert str(todo["SUMMARY"]) == "Compleanno di Laura Bianchi il 8 dicembre"


def test_event_is_all_day():
    text = render.render(followup(), language="en", component="event", now=NOW)
    [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert event["DTSTART"].dt == dt.date(2026, 12, 1)
    assert event["DTEND"].dt == dt.date(2026, 12, 2)


@pytest.mark.parametrize("component", ["todo", "event"])
def test_vcard_text_cannot_inject_a_property_or_component(component):
    f = followup(uid=EVIL, name=EVIL, note=EVIL, interests=("x",), emails=(EVIL,))
    text = render.render(f, language="en", component=component, now=NOW)
    calendar = icalendar.Calendar.from_ical(text)
    names = [c.name for c in calendar.walk()]
    assert names == ["VCALENDAR", "VTODO" if component == "todo" else "VEVENT"]
    [main] = calendar.subcomponents
    # iCalendar TEXT has no CR: a CRLF in the card comes back as one newline, still text.
    assert EVIL.replace("\r\n", "\n") in str(main["SUMMARY"])
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
