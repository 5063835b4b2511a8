"""What a calendar object means, as one hash (pure).

syncd decides whether an object is still as it wrote it by this hash, so it must not move when a
server or a client rewrites the object without changing what it says. Measured rewrites
(tests/test_meaning.py holds each shape): Cyrus and libical (Evolution) write one CATEGORIES line
per value; SOGo adds `CLASS:PUBLIC`; Radicale (vobject) and ical.js re-fold and reorder; every
server may restamp DTSTAMP, LAST-MODIFIED and SEQUENCE and re-escape text (`\\,` or `,` where
no escape is needed). So the hash is taken over values, not lines:

- text is compared decoded (escaping, folding and line ends do not count);
- dates by the day or instant they name (with their time zone), not by `VALUE=` parameters;
- CATEGORIES as the set of its values, however many lines carry them;
- `STATUS`, `TRANSP` and `CLASS` case-insensitively;
- the properties in `IGNORED` (and the defaults in `DEFAULTS`) not at all;
- parameters not at all: no client edits a follow-up by its parameters alone;
- the calendar's own properties (VERSION, PRODID, CALSCALE, METHOD) and VTIMEZONE components
  not at all.

Anything else a person adds (an alarm, a location, a priority) is part of the meaning, so the
object is theirs from then on. `digest` takes the values as syncd renders them, without parsing;
`of_calendar` takes them from icalendar's parse; a property test holds the two equal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable

import icalendar

# Written by servers and clients on any save, with no change of meaning (the first five as
# vdirsyncer ignores them; X-MOZ-GENERATION is Thunderbird's save counter). X-SYNCD-HASH holds
# the hash itself; X-SYNCD-INSTANCE names the writer, not the follow-up.
IGNORED = frozenset({"DTSTAMP", "LAST-MODIFIED", "CREATED", "SEQUENCE", "PRODID",
                     "X-MOZ-GENERATION", "X-SYNCD-HASH", "X-SYNCD-INSTANCE"})
# Values servers fill in for a property syncd leaves out, which mean what its absence means
# (RFC 5545: CLASS defaults to PUBLIC, PRIORITY 0 is undefined, PERCENT-COMPLETE 0 is none).
DEFAULTS = frozenset({("CLASS", "PUBLIC"), ("PRIORITY", "0"), ("PERCENT-COMPLETE", "0")})
_UPPER = frozenset({"STATUS", "TRANSP", "CLASS"})
_SKIPPED_COMPONENTS = frozenset({"VCALENDAR", "VTIMEZONE", "STANDARD", "DAYLIGHT"})
CATEGORY_SEPARATOR = "\x1f"  # no TEXT value can hold it: control characters are dropped


def digest(components: Iterable[tuple[str | None, Iterable[tuple[str, str]]]]) -> str:
    """The hash of components given as (name, [(property, canonical value), ...]), without
    what `IGNORED` and `DEFAULTS` leave out."""
    blocks = []
    for name, props in components:
        lines = sorted(f"{key}:{value}" for key, value in props)
        blocks.append("\n".join([f"BEGIN:{name}", *lines]))
    return hashlib.sha256("\n\n".join(sorted(blocks)).encode()).hexdigest()


def of_calendar(calendar: icalendar.Calendar, *, reopened: bool = False) -> str:
    """The hash of what a parsed iCalendar object means; `reopened`: of its to-dos as they were
    before they were ticked off (STATUS back to NEEDS-ACTION, COMPLETED and PERCENT-COMPLETE
    left out), so that a completed follow-up syncd wrote is known as its own."""
    blocks = []
    for component in calendar.walk():
        if component.name in _SKIPPED_COMPONENTS:
            continue
        props = _canonical(component)
        if reopened and component.name == "VTODO":
            props = [(key, value) for key, value in props
                     if key not in ("STATUS", "COMPLETED", "PERCENT-COMPLETE")]
            props.append(("STATUS", "NEEDS-ACTION"))
        blocks.append((component.name, props))
    return digest(blocks)


def categories(values: Iterable[str]) -> str:
    return CATEGORY_SEPARATOR.join(sorted(set(values)))


def date_value(value: dt.date) -> str:
    """A DATE or DATE-TIME as the hash takes it: ISO 8601 with the time zone's name."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return f"{value.isoformat()} {getattr(value.tzinfo, 'key', None) or value.tzname()}"
    return value.isoformat()


def _canonical(component: icalendar.cal.Component) -> list[tuple[str, str]]:
    props: list[tuple[str, str]] = []
    cats: list[str] = []
    for name, value in component.items():
        key = name.upper()
        if key in IGNORED:
            continue
        for one in value if isinstance(value, list) else [value]:
            if key == "CATEGORIES":
                cats.extend(str(cat) for cat in getattr(one, "cats", [one]))
            elif (key, text := _value(key, one)) not in DEFAULTS:
                props.append((key, text))
    if cats:
        props.append(("CATEGORIES", categories(cats)))
    return props


def _value(key: str, value: object) -> str:
    if isinstance(value, icalendar.vText):
        text = str(value).replace("\r\n", "\n")
        return text.upper() if key in _UPPER else text
    when = getattr(value, "dt", None)
    if isinstance(when, dt.date):
        return date_value(when)
    raw = value.to_ical() if hasattr(value, "to_ical") else str(value)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if key.startswith("X-"):  # icalendar keeps unknown properties as written: still escaped
        return unescape_text(text)
    return text.upper() if key in _UPPER else text


_TEXT_ESCAPE = re.compile(r"\\([\\;,nN])")


def unescape_text(raw: str) -> str:
    """RFC 5545 TEXT unescaping; icalendar reads unknown X- properties back still escaped and
    its own helper for this is deprecated."""
    return _TEXT_ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), raw)
