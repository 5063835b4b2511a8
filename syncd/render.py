"""FollowUp → iCalendar text, and back (pure).

Every TEXT value, our own `X-SYNCD-*` marks included, is escaped as RFC 5545 says after control
characters are dropped: a NOTE holding `\\nEND:VTODO\\nBEGIN:VEVENT` stays text inside
DESCRIPTION. A contact's name, phones and emails are put on one line first (`one_line`): an FN
with a line break would show as several lines in todoman and khal, and could forge a line of
the description (a `gave:` line, which ticking the follow-up off records). Reading back is
icalendar's parser.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol, cast
from urllib.parse import quote

import icalendar

from syncd import __version__, meaning, wording
from syncd.model import FollowUp

PRODID = f"-//syncd//syncd {__version__}//EN"
MARK_CONTACT = "X-SYNCD-CONTACT"
MARK_REASON = "X-SYNCD-REASON"
MARK_CYCLE = "X-SYNCD-CYCLE"
# The content hash as syncd wrote it: lets a crashed run recognise its own untouched object
# even when the state file never learned about it.
MARK_HASH = "X-SYNCD-HASH"
MARK_IDEA = "X-SYNCD-IDEA"  # the id of the idea proposed first
# The reasons said in this follow-up besides its own (planner.one_a_week), comma-separated: a
# give-back among them is settled when it is ticked off.
MARK_ALSO = "X-SYNCD-ALSO"
# The ids of all the ideas proposed, in order, comma-separated (catalog ids are slugs), when
# there are two or more: ticking the to-do off with only one of their lines left in the
# description records that one as given (rules.py).
MARK_IDEAS = "X-SYNCD-IDEAS"
IDEA_SEPARATOR = ","
# The syncd instance (state file) that wrote the object, `<id>@<host>`: two instances on one
# calendar (two laptops) leave each other's objects alone. Not part of the content hash, so the
# objects written before it existed are not rewritten just to gain it.
MARK_INSTANCE = "X-SYNCD-INSTANCE"
# Left out of the legacy hash (`_legacy_hash`).
VOLATILE = frozenset({"DTSTAMP", "LAST-MODIFIED", "CREATED", "PRODID", "SEQUENCE", MARK_HASH,
                      MARK_INSTANCE})

LANGUAGES = wording.LANGUAGES
format_date = wording.format_date
# Reasons whose follow-up says how to record a gift (a `gave:` line, or one idea's line left).
_GIFT_TALK = frozenset({"give-back", "birthday", "anniversary"})


def summary(followup: FollowUp, language: str) -> str:
    return _fill(wording.TEXT[language]["summary"][followup.reason], followup, language)


def description(followup: FollowUp, language: str) -> str:
    text = wording.TEXT[language]
    lines = [_fill(text["why"][followup.reason], followup, language)]
    lines += [_fill(text["why"][also], followup, language) for also in followup.also]
    contact = followup.contact
    if followup.received:
        lines.append(f"{text['received']}:")
        for exchange in followup.received:
            lines.append("- " + text["received_item"].format(
                kind=wording.kind_name(exchange.kind, language), item=exchange.item,
                date=wording.on_date(exchange.date, language, year=True),
            ))
    if followup.balance is not None:
        lines.append(text["balance"].format(balance=wording.number(followup.balance, language)))
    if contact.interests:
        lines.append(f"{text['interests']}: " + " ".join(f"#{tag}" for tag in contact.interests))
    if followup.common_ground:
        tags = " ".join(f"#{t}" for t in followup.common_ground)
        lines.append(f"{text['common_ground']}: {tags}")
    if followup.ideas:
        lines.append(f"{text['ideas']}:")
        lines.extend(wording.idea_line(s.idea, wording.why(s.why, language), language)
                     for s in followup.ideas)
    if followup.introductions:
        lines.append(f"{text['introductions']}:")
        for intro in followup.introductions:
            tags = " ".join(f"#{tag}" for tag in intro.shared)
            lines.append("- " + text["introduce"].format(name=one_line(intro.other_name),
                                                         tags=tags))
    if followup.questions:
        lines.append(f"{text['questions']}:")
        lines.extend(f"- {question}" for question in followup.questions)
    lines += reach(contact.phones, contact.emails, language)
    if len(followup.ideas) > 1:
        lines.append(text["record"])
    elif followup.ideas or _GIFT_TALK.intersection((followup.reason, *followup.also)):
        lines.append(text["record_one"])
    return "\n".join(lines)


def _fill(template: str, followup: FollowUp, language: str) -> str:
    date = wording.on_date(followup.occasion or followup.due, language)
    return template.format(name=one_line(followup.contact.name), date=date)


# Every character str.splitlines() breaks at: CR, LF, VT, FF, FS, GS, RS, NEL, LS, PS.
_BREAKS = re.compile("[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")


def one_line(value: str) -> str:
    """`value` with each run of line breaks made one space: what a SUMMARY, or a line of the
    description, can hold of a name."""
    return _BREAKS.sub(" ", value)


def reach(phones: tuple[str, ...], emails: tuple[str, ...], language: str) -> list[str]:
    """The description's lines that say how to reach the person: each phone number with its
    `tel:` link and each email address as a `mailto:` link, which calendar apps make
    clickable. A value no link can be made of (letters in a number, no `@`) is shown as text."""
    text = wording.TEXT[language]
    lines = []
    for label, values, scheme, link in ((text["phone"], phones, "tel:", tel_link),
                                        (text["email"], emails, "mailto:", mailto_link)):
        seen = set()
        for value in (one_line(v).strip() for v in values):
            target = link(value)
            if not value or (target or value) in seen:
                continue  # a number given twice, once as a URI
            seen.add(target or value)
            if target is None:
                lines.append(f"{label}: {value}")
                continue
            bare = value[len(scheme):] if value[:len(scheme)].lower() == scheme else value
            if target[len(scheme):] == bare:
                lines.append(f"{label}: {target}")
            else:
                lines.append(f"{label}: {bare} — {target}")
    return lines


# A number as people write it: digits, a leading +, visual separators (RFC 3966 §5.1.1), and
# an extension (`;ext=12`, ` ext. 12`, ` x12`).
_NUMBER = re.compile(r"(\+?[\d\s().\-/]+)"
                     r"(?:(?:;ext=|\s*(?:ext\.?|x)\s*)(\d+))?", re.IGNORECASE)


_PHONE_DIGITS = 3  # fewer are not a number a phone can call
_FOLD_OCTETS = 75  # RFC 5545 §3.1: the longest physical line
_UTF8_CONTINUATION = 0x80  # 10xxxxxx (under the mask 0xC0): a byte inside a UTF-8 sequence


def tel_link(value: str) -> str | None:
    """The RFC 3966 `tel:` URI of a phone number (`+39 333 123 4567` → `tel:+393331234567`;
    a TEL that is a URI already is read as one), None when it is not a number: only digits,
    `+` and `;ext=` ever reach the link."""
    number = value.strip()
    if number[:4].lower() == "tel:":
        number = number[4:]
    found = _NUMBER.fullmatch(number.strip())
    if found is None:
        return None
    digits = re.sub(r"\D", "", found.group(1))
    if len(digits) < _PHONE_DIGITS:
        return None
    plus = "+" if found.group(1).lstrip().startswith("+") else ""
    return f"tel:{plus}{digits}" + (f";ext={found.group(2)}" if found.group(2) else "")


def mailto_link(value: str) -> str | None:
    """The RFC 6068 `mailto:` URI of an address (an EMAIL that is a URI already is read as
    one), None when it has no `@` between two parts or holds a space: what a URI cannot carry
    as it is (`%`, `?`, `#`, non-ASCII) is percent-encoded."""
    address = value.strip()
    if address[:7].lower() == "mailto:":
        address = address[7:]
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or any(c.isspace() for c in address):
        return None
    return "mailto:" + quote(address, safe="@!$&'*+,;=:~._-")


def render(followup: FollowUp, *, language: str, component: str, now: dt.datetime,
           instance: str = "", object_uid: str = "") -> str:
    """The iCalendar object for one follow-up: a VTODO due on a day, or an all-day VEVENT."""
    return render_with_hash(followup, language=language, component=component, now=now,
                            instance=instance, object_uid=object_uid).item


class Rendered(NamedTuple):
    item: str
    hash: str  # what it means (meaning.py): the hash `read` gives the object read back
    legacy_hash: str  # the content-line hash syncd before 0.2 embedded and remembered


def render_with_hash(
    followup: FollowUp, *, language: str, component: str, now: dt.datetime, instance: str = "",
    object_uid: str = "",
) -> Rendered:
    """The object and its hashes, written by hand: icalendar 7.3.2 took 0.4 ms per object to
    build and serialise (1.7 s of a 7.6 s cold cycle for 10,000 contacts); this takes about
    0.05 ms. `object_uid` is the UID in the calendar (`model.object_uid`), the follow-up's own
    by default. The hash is the one `read` computes when icalendar reads the text back (a test
    holds both to the icalendar-built object)."""
    # Every text once, as written: what it means (meaning.py) is these values as a reader
    # decodes them.
    values = {"UID": object_uid or followup.uid, "SUMMARY": summary(followup, language),
              "DESCRIPTION": description(followup, language), MARK_CONTACT: followup.contact.uid,
              MARK_REASON: followup.reason, MARK_CYCLE: followup.cycle}
    if followup.also:
        values[MARK_ALSO] = IDEA_SEPARATOR.join(followup.also)
    if followup.ideas:
        values[MARK_IDEA] = followup.ideas[0].idea.id
    if len(followup.ideas) > 1:
        values[MARK_IDEAS] = IDEA_SEPARATOR.join(s.idea.id for s in followup.ideas)
    cleaned = {key: clean(value) for key, value in values.items()}
    reason = _text(cleaned[MARK_REASON])
    props: list[tuple[str, str, tuple[str, str]]] = [  # (name, parameters, (written, hashed))
        ("DTSTAMP", "", _plain(now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ"))),
        ("CATEGORIES", "", ("syncd," + reason[0], "syncd," + reason[1])),
        *((key, "", _text(value) if not key.startswith("X-") else _mark(value))
          for key, value in cleaned.items()),
    ]
    means = [*cleaned.items(),
             ("CATEGORIES", meaning.categories(["syncd", cleaned[MARK_REASON]]))]
    if component == "todo":
        name = "VTODO"
        props += [("DUE", "VALUE=DATE", _plain(f"{followup.due:%Y%m%d}")),
                  ("STATUS", "", _plain("NEEDS-ACTION"))]
        means += [("DUE", meaning.date_value(followup.due)), ("STATUS", "NEEDS-ACTION")]
    else:
        name = "VEVENT"
        end = followup.due + dt.timedelta(days=1)
        props += [("DTSTART", "VALUE=DATE", _plain(f"{followup.due:%Y%m%d}")),
                  ("DTEND", "VALUE=DATE", _plain(f"{end:%Y%m%d}")),
                  ("TRANSP", "", _plain("TRANSPARENT"))]
        means += [("DTSTART", meaning.date_value(followup.due)),
                  ("DTEND", meaning.date_value(end)), ("TRANSP", "TRANSPARENT")]
    digest = meaning.digest([(name, means)])
    props.append((MARK_HASH, "", _plain(digest)))
    if instance:
        props.append((MARK_INSTANCE, "", _mark(clean(instance))))
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", f"BEGIN:{name}"]
    lines += (_fold(f"{key};{params}:{value[0]}" if params else f"{key}:{value[0]}")
              for key, params, value in sorted(props, key=_ORDER[name]))
    lines += [f"END:{name}", "END:VCALENDAR", ""]
    return Rendered("\r\n".join(lines), digest,
                    _legacy_digest([("VERSION", "", _plain("2.0"))], name, props))


# Control characters, and U+FEFF: a byte order mark inside a value means nothing, and icalendar
# and this writer disagreed on it (a UID of only U+FEFF hashed differently once read back).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")


def clean(value: str) -> str:
    """Text as syncd writes it: line breaks made LF, then control characters dropped (RFC 5545
    allows no control character but tab in TEXT, and a NUL from a vCard would make some servers
    refuse the object). Line breaks first: a CR, a NUL and an LF are two line breaks, not one."""
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _plain(value: str) -> tuple[str, str]:
    return value, value


def _text(value: str) -> tuple[str, str]:
    """A `clean`ed TEXT value as written (RFC 5545 escaping) and as the legacy hash took it
    once read back: icalendar 7.3.2 reads `\\\\N` back as a backslash and an N, as it should,
    but re-escapes that as a line break."""
    written = (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
               .replace("\n", "\\n"))
    if "\\N" not in value:
        return written, written
    return written, icalendar.vText(value).to_ical().decode()


def _mark(value: str) -> tuple[str, str]:
    """A `clean`ed `X-SYNCD-*` mark: icalendar keeps the text of a property it does not know as
    it is."""
    written = _text(value)[0]
    return written, written


def _canonical_order(
    first: tuple[str, ...],
) -> Callable[[tuple[str, str, object]], tuple[int, str]]:
    """icalendar's order of properties (its canonical ones first, then by name), so that the
    text reads as icalendar would have written it."""
    rank = {name: index for index, name in enumerate(first)}
    return lambda prop: (rank.get(prop[0], len(rank)), prop[0])


_ORDER = {
    "VTODO": _canonical_order(()),
    "VEVENT": _canonical_order(("SUMMARY", "DTSTART", "DTEND", "DURATION", "DTSTAMP", "UID")),
}


def _legacy_digest(calendar: list[tuple[str, str, tuple[str, str]]], name: str,
            props: list[tuple[str, str, tuple[str, str]]]) -> str:
    """`_legacy_hash` of the object these properties make, without building it."""
    lines = [b"BEGIN:VCALENDAR"]
    for component in (calendar, props):
        lines.extend(sorted(f"{key};{params}:{value[1]}".encode()
                            for key, params, value in component if key not in VOLATILE))
        if component is calendar:
            lines.append(b"BEGIN:" + name.encode())
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


def _fold(line: str) -> str:
    """RFC 5545 folding: physical lines of at most 75 octets, never inside a UTF-8 sequence."""
    data = line.encode()
    if len(data) <= _FOLD_OCTETS:
        return line
    chunks, start, limit = [], 0, _FOLD_OCTETS
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == _UTF8_CONTINUATION:
            end -= 1
        chunks.append(data[start:end].decode())
        start, limit = end, 74  # a continuation line starts with the folding space
    return "\r\n ".join(chunks)


@dataclass(frozen=True)
class Stored:
    """What syncd needs to know of an object read back from a target."""

    uid: str | None
    hash: str  # what it means (meaning.py)
    status: str | None  # STATUS of the first VTODO/VEVENT, upper case
    contact_uid: str | None  # the X-SYNCD-* marks; None when the object is not syncd's
    reason: str | None
    cycle: str | None
    written_hash: str | None  # X-SYNCD-HASH: the hash when syncd last wrote it
    summary: str = ""
    completed: dt.date | None = None  # the day of COMPLETED, when the person's app set it
    idea: str | None = None  # X-SYNCD-IDEA: the catalog idea the follow-up proposed first
    ideas: tuple[str, ...] = ()  # X-SYNCD-IDEAS, else X-SYNCD-IDEA: every idea, in order
    instance: str | None = None  # X-SYNCD-INSTANCE: the syncd that wrote it (None: before marks)
    legacy_hash: str = ""  # the content-line hash syncd before 0.2 embedded and remembered
    reopened_hash: str = ""  # `meaning.of_calendar(reopened=True)`: as before it was ticked off
    description: str = ""  # DESCRIPTION as it is now (the person may have written in it)
    also: tuple[str, ...] = ()  # X-SYNCD-ALSO: the reasons merged into it

    def means(self, remembered: str) -> bool:
        """Means what syncd remembered of it: by the hash of either generation."""
        return remembered in (self.hash, self.legacy_hash)

    @property
    def is_ours(self) -> bool:
        return self.contact_uid is not None and self.reason is not None

    @property
    def untouched(self) -> bool:
        """Still means what syncd wrote (by the hash it embedded, of either generation): a
        server's or a client's rewrite that changes no value leaves it syncd's."""
        return self.written_hash is not None and self.means(self.written_hash)

    @property
    def completed_untouched(self) -> bool:
        """Ticked off, and otherwise still as syncd wrote it."""
        return self.status == "COMPLETED" and self.written_hash == self.reopened_hash


def read(item: str) -> Stored:
    """Parse a stored object; raises ValueError when it is not iCalendar syncd can read (a
    property given twice where once is allowed takes its first value)."""
    try:
        return _read(item)
    except ValueError:
        raise
    except Exception as error:  # icalendar raises many kinds on malformed input
        raise ValueError(f"{type(error).__name__}: {error}") from error


class _IcalValue(Protocol):
    def to_ical(self) -> bytes: ...


def _ical(value: object) -> _IcalValue:
    """A property value as icalendar parsed it: every one of its types has `to_ical`."""
    return cast(_IcalValue, value)


def _first(value: object) -> object:
    return value[0] if isinstance(value, list) and value else value


def _read(item: str) -> Stored:
    calendar = icalendar.Calendar.from_ical(item)
    main = next(
        (c for c in calendar.walk() if c.name in ("VTODO", "VEVENT", "VJOURNAL")), None
    )
    if main is None:
        return Stored(None, meaning.of_calendar(calendar), None, None, None, None, None,
                      legacy_hash=_legacy_hash(calendar))

    def get(name: str) -> object:
        return _first(main.get(name))

    def mark(name: str) -> str | None:
        value = get(name)
        if value is None:
            return None
        return meaning.unescape_text(_ical(value).to_ical().decode())

    status, uid = get("STATUS"), get("UID")
    first, every = mark(MARK_IDEA), mark(MARK_IDEAS)
    completed = getattr(get("COMPLETED"), "dt", None)
    completed_day = None
    if isinstance(completed, dt.date):
        completed_day = completed.date() if isinstance(completed, dt.datetime) else completed
    return Stored(
        uid=str(uid) if uid is not None else None,
        hash=meaning.of_calendar(calendar),
        status=str(status).upper() if status is not None else None,
        contact_uid=mark(MARK_CONTACT),
        reason=mark(MARK_REASON),
        cycle=mark(MARK_CYCLE),
        written_hash=mark(MARK_HASH),
        summary=str(get("SUMMARY") or ""),
        completed=completed_day,
        idea=first,
        ideas=tuple(i for i in every.split(IDEA_SEPARATOR) if i) if every is not None
        else (first,) if first is not None else (),
        instance=mark(MARK_INSTANCE),
        legacy_hash=_legacy_hash(calendar),
        reopened_hash=meaning.of_calendar(calendar, reopened=True),
        description=str(get("DESCRIPTION") or "").replace("\r\n", "\n"),
        also=tuple(r for r in (mark(MARK_ALSO) or "").split(IDEA_SEPARATOR) if r),
    )


def content_hash(item: str) -> str:
    """What the iCalendar text `item` means (meaning.py)."""
    return meaning.of_calendar(icalendar.Calendar.from_ical(item))


def _legacy_hash(calendar: icalendar.Calendar) -> str:
    """The hash syncd before 0.2 embedded and remembered: sorted content lines with the volatile
    properties left out. Kept so that objects written then stay syncd's after an upgrade. It
    moved with every server rewrite; the two measured ones are undone here, so that the objects
    Cyrus split (one CATEGORIES line per value) and SOGo marked (CLASS:PUBLIC) are syncd's again.
    """
    lines: list[bytes] = []
    for component in calendar.walk():
        lines.append(f"BEGIN:{component.name}".encode())
        props: list[bytes] = []
        categories: list[bytes] = []
        for name, value in component.items():
            if name.upper() in VOLATILE:
                continue
            for one in value if isinstance(value, list) else [value]:
                params = getattr(one, "params", {}) or {}
                if name.upper() == "CATEGORIES" and not params:
                    categories.append(one.to_ical())  # one line again, as syncd wrote it
                    continue
                if name.upper() == "CLASS" and str(one).upper() == "PUBLIC":
                    continue  # SOGo's addition
                param_text = ";".join(f"{k.upper()}={params[k]}" for k in sorted(params))
                props.append(f"{name.upper()};{param_text}:".encode() + one.to_ical())
        if categories:
            props.append(b"CATEGORIES;:" + b",".join(categories))
        lines.extend(sorted(props))
    return hashlib.sha256(b"\n".join(lines)).hexdigest()
