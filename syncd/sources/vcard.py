"""vCard text to `Contact`s (pure: no file I/O).

Hand-written on purpose instead of vobject. Measured with vobject 0.9.9 on this project's
corpus: it cuts every text value at its first unescaped comma (`NOTE:Interests: sailing,
leadership` reads as `Interests: sailing`, `FN:Rossi, Mario` as `Rossi`, a URL with `?a=1,2`
as `?a=1`), and real exporters do leave commas unescaped; it mangles vCard 4.0 data-URI photos;
it raises on a line without a colon and on an unterminated card, and in a stream of cards one
bad card stops the whole stream. It is also slow: ~2,900 cards/s against ~38,000 for a plain
content-line reader on 10,000 cards. This reader, building whole `Contact`s, read 10,000 mixed
3.0/4.0 cards (bench/readers.py: folded notes, one in ten with a 4 KB photo) at 30,000-34,000
cards/s against vobject's ~3,000 in the same runs, 10.4-11.9× (docs/benchmarks.md,
2026-12-02); the per-line loop in `RawCard.properties` is the hot spot, about half the time.

It follows RFC 6350 §3.2-3.4 (plus vCard 2.1 quoted-printable and bare parameters), keeps every
value whole, and skips only what it cannot read, with one warning `source:line: message` each.
It reads what exporters write beside the RFCs: CHARSET on 8-bit values (Shift_JIS phones,
windows-1252 Outlook; see `vcard_values`), a grouped `home.begin:vcard` (RFC 2426 §4), iOS's
CR CR LF line ends, vendor anniversaries (Outlook, Evolution, KAddressBook, Apple's labelled
X-ABDATE), and group cards (Apple's X-ADDRESSBOOKSERVER-KIND, vCard 4 KIND), which are skipped.

Layers: `iter_cards` cuts the text into `RawCard`s; their `properties()` unfold the lines and
read each content line into a `Property` (group, name, params, raw value), whose `text()`,
`values()` and `components()` unescape it as one text, a comma list or a `;` structure;
`parse_cards` turns the properties syncd uses into `Contact`s. Decoding a value (escapes,
quoted-printable, CHARSET, dates, names) is in `vcard_values`.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import accumulate
from types import MappingProxyType
from typing import NamedTuple

from syncd.identity import derived_uid, details_digest
from syncd.model import Contact, PartialDate
from syncd.sources.vcard_values import (
    charset_problem,
    decode_value,
    name_from_n,
    parse_date,
    pref,
    read_undecoded,
    split_unescaped,
    unescape,
)

log = logging.getLogger(__name__)

# A physical line that does not start with a space or tab starts a new logical line.
_LOGICAL_LINE = re.compile(r"\n(?![ \t])")
# Searched in the text with a "\n" put in front: a literal first char lets `re` skip ahead fast,
# where `^` with MULTILINE tries every position (5x slower on 8 MB).
# A group is allowed before BEGIN and END too (`home.begin:vcard`, RFC 2426 §4).
# (An alternation, not an optional group: `re` tries that group at every line, 1.6x slower.)
_KEYWORD = re.compile(r"(?:\n|\n[A-Za-z0-9-]+\.)(BEGIN|END):VCARD[ \t]*(?=\n|\Z)", re.IGNORECASE)
# vCard 2.1 parameters written without a name (`TEL;CELL;VOICE:`) are TYPE values, except these.
_BARE_ENCODINGS = frozenset({"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"})
# Anniversaries as exporters write them: vCard 4, Outlook, Evolution, KAddressBook, others.
_DATE_PROPERTIES = {
    "BDAY": "birthday", "ANNIVERSARY": "anniversary", "X-ANNIVERSARY": "anniversary",
    "X-MS-ANNIVERSARY": "anniversary", "X-EVOLUTION-ANNIVERSARY": "anniversary",
    "X-KADDRESSBOOK-X-ANNIVERSARY": "anniversary",
}
_ANNIVERSARY_LABEL = "_$!<anniversary>!$_"  # Apple's X-ABLabel of an X-ABDATE, lowered
_KIND_PROPERTIES = frozenset({"KIND", "X-ADDRESSBOOKSERVER-KIND"})
_INTEREST_PROPERTIES = frozenset({"INTEREST", "HOBBY", "EXPERTISE"})
# The names of last resort, for a card without FN, N, ORG, email or phone.
_LAST_NAMES = frozenset({"NICKNAME", "IMPP", "X-JABBER", "X-GOOGLE-TALK", "X-SKYPE", "X-AIM",
                         "X-ICQ", "X-MSN", "X-YAHOO"})


def _handle(value: str) -> str:
    value = value.strip()
    scheme, colon, rest = value.partition(":")  # IMPP's xmpp:, sip:, skype:
    return rest.strip() if colon and scheme.isalpha() and rest.strip() else value


# What tells apart two cards of one name without UID, email or phone: details that differ
# between two people and that a note or tag edit leaves alone (read only for cards without UID).
_DETAIL_PROPERTIES = frozenset({"ORG", "TITLE", "ROLE", "ADR", "NICKNAME", "URL", "IMPP"})
_NO_PARAMS: Mapping[str, tuple[str, ...]] = MappingProxyType({})
USED_PROPERTIES = frozenset(
    {"UID", "FN", "N", "EMAIL", "TEL", "CATEGORIES", "LANG", "NOTE", "X-ABDATE",
     *_KIND_PROPERTIES, *_DATE_PROPERTIES, *_INTEREST_PROPERTIES}
)


class Property(NamedTuple):
    """One content line. `value` is raw: still escaped and, for 2.1 cards, maybe QP-encoded."""

    name: str  # upper case
    value: str
    params: Mapping[str, tuple[str, ...]] = _NO_PARAMS  # keys upper case
    group: str | None = None
    line: int = 0

    def param(self, key: str) -> str | None:
        values = self.params.get(key.upper())
        return values[0] if values else None

    def decoded(self) -> str:
        """The value with quoted-printable and CHARSET undone; escapes still in place."""
        if not self.params:
            return self.value
        return decode_value(self.value, self.params)

    def text(self) -> str:
        """A single text value (FN, NOTE, URL…): unescaped, unescaped commas kept literally."""
        return unescape(self.decoded())

    def values(self) -> list[str]:
        """A list value (CATEGORIES, NICKNAME): split at unescaped commas."""
        return [unescape(part) for part in split_unescaped(self.decoded(), ",")]

    def components(self) -> list[str]:
        """A structured value (N, ADR): split at unescaped `;`, each component unescaped."""
        return [unescape(part) for part in split_unescaped(self.decoded(), ";")]


@dataclass(frozen=True, slots=True)
class RawCard:
    """The text between BEGIN:VCARD and END:VCARD, still folded."""

    line: int  # of BEGIN:VCARD
    body: str  # newlines normalised to \n

    def logical_lines(self) -> Iterable[tuple[int, str]]:
        """(physical line number, unfolded line) for every logical line."""
        body = self.body
        chunks = _LOGICAL_LINE.split(body)
        if "=\n" not in body and body[-1:] != "=":  # no line that could be a QP soft break
            # The common case, in comprehensions: twice as fast as the loop below.
            steps = [1 + chunk.count("\n") for chunk in chunks[:-1]]
            numbers = accumulate(steps, initial=self.line + 1)
            lines = [
                chunk.replace("\n ", "").replace("\n\t", "") if "\n" in chunk else chunk
                for chunk in chunks
            ]
            return zip(numbers, lines, strict=False)
        return self._qp_logical_lines(chunks)

    def _qp_logical_lines(self, chunks: list[str]) -> Iterator[tuple[int, str]]:
        count = len(chunks)
        number = self.line + 1
        index = 0
        while index < count:
            line = chunks[index]
            start = number
            index += 1
            number += 1 + line.count("\n")
            qp = _is_qp_head(line)
            if qp:
                line = line.replace("=\n", "")  # QP soft breaks: the next line joins as it is
            line = line.replace("\n ", "").replace("\n\t", "")
            # QP soft breaks before lines that do not start with whitespace.
            while qp and line[-1:] == "=" and index < count:
                following = chunks[index]
                index += 1
                number += 1 + following.count("\n")
                following = following.replace("=\n", "").replace("\n ", "").replace("\n\t", "")
                line = line[:-1] + following
            yield start, line

    def properties(self, source: str | None,
                   names: Collection[str] | None = None) -> list[Property]:
        """Every property (or only those named, upper case). A line with no `:` or no name is
        skipped, with a warning unless `source` is None."""
        found: list[Property] = []
        for number, text in self.logical_lines():
            # This loop is most of the time spent reading a card: keep it inline.
            if not text:
                continue
            colon = text.find(":")
            semi = text.find(";", 0, colon)
            group, _, name = text[: colon if semi < 0 else semi].rpartition(".")
            name = name.upper()
            if colon < 0 or not name:
                if source is not None:
                    problem = "no ':'" if colon < 0 else "no property name"
                    log.warning("%s:%d: line with %s skipped: %.60r", source, number, problem, text)
                continue
            if names is not None and name not in names:
                continue
            if semi < 0:
                found.append(Property(name, text[colon + 1 :], _NO_PARAMS, group or None, number))
                continue
            if '"' in text[semi:colon]:
                colon = _colon_outside_quotes(text, semi, colon)
            params = parse_params(text[semi + 1 : colon])
            if "CHARSET" in params and source is not None:
                charset = charset_problem(params)
                if charset:
                    log.warning("%s:%d: %s %s", source, number, name, charset)
            found.append(Property(name, text[colon + 1 :], params, group or None, number))
        return found


def _colon_outside_quotes(line: str, start: int, first_colon: int) -> int:
    quoted = False
    for index in range(start, len(line)):
        char = line[index]
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return index
    return first_colon  # an unbalanced quote: fall back to the first colon


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    if '"' not in text:
        return text.split(separator)
    parts: list[str] = []
    start = 0
    quoted = False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _param_values(raw: str) -> tuple[str, ...]:
    if '"' not in raw:
        return tuple(raw.split(","))
    return tuple(
        value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value
        for value in _split_outside_quotes(raw, ",")
    )


def parse_params(head: str) -> dict[str, tuple[str, ...]]:
    """`;TYPE=home,pref;CELL;LABEL="a;b"` (without the property name) to upper keys → values."""
    if ";" not in head and '"' not in head and "," not in head:  # one `KEY=value`: most lines
        key, equals, value = head.partition("=")
        if equals:
            return {key.strip().upper(): (value,)}
    params: dict[str, tuple[str, ...]] = {}
    for raw in _split_outside_quotes(head, ";"):
        if not raw:
            continue
        key, equals, value = raw.partition("=")
        if equals:
            key = key.strip().upper()
            values = _param_values(value)
        else:
            bare = key.strip()
            key = "ENCODING" if bare.upper() in _BARE_ENCODINGS else "TYPE"
            values = (bare,)
        params[key] = params.get(key, ()) + values
    return params


def parse_property(line: str, number: int = 0) -> Property | None:
    """One unfolded content line `[group.]NAME[;param...]:value`; None when it has no `:` or
    no name."""
    found = RawCard(number - 1, line).properties(None)
    return found[0] if len(found) == 1 else None


def _is_qp_head(line: str) -> bool:
    colon = line.find(":")
    return "QUOTED-PRINTABLE" in line[: colon if colon >= 0 else len(line)].upper()


def split_cards(text: str, source: str) -> list[RawCard]:
    return list(iter_cards(text, source))


def iter_cards(text: str, source: str, unread: list[int] | None = None) -> Iterator[RawCard]:
    """Cut `text` into cards. A card inside a card (a vCard 2.1 AGENT, a phone's nested card)
    is part of the outer one, never a card of its own. A card without its END:VCARD and text
    outside cards are skipped with a warning; blank lines between cards are not. `unread`, when
    given, gets the line of every card skipped: unterminated, or whose BEGIN:VCARD line is
    mangled or lost (text outside cards with one, or with lines before an END:VCARD). Lazy, so
    that a caller reading each card as it comes logs every warning in line order."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:  # CR CR LF (iOS 5 and 6) is one line end too
        text = text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:  # a file zero-filled by a crash, or a NUL inside a value
        line = text.count("\n", 0, text.index("\x00")) + 1
        log.warning("%s:%d: NUL characters removed", source, line)
        text = text.replace("\x00", "")
    text = "\n" + read_undecoded(text, source)
    keys, ends = _keywords(text)
    outside_start, outside_line = 1, 1  # where text outside any card starts
    index = 0
    while index < len(keys):
        begin, start, _, number = keys[index]
        if not begin:  # a stray END:VCARD: stays part of the text outside cards
            index += 1
            continue
        _check_outside(text[outside_start:start], source, outside_line, unread)
        if ends[index] < 0:  # never closed, so the next keyword is a BEGIN (an END would close it)
            if unread is not None:
                unread.append(number)
            if index + 1 == len(keys):
                log.warning("%s:%d: card has no END:VCARD before the end of the text; skipped",
                            source, number)
                return
            outside_start, outside_line = keys[index + 1][1], keys[index + 1][3]
            log.warning("%s:%d: card has no END:VCARD before the BEGIN:VCARD at line %d; "
                        "skipped", source, number, outside_line)
            index += 1
            continue
        yield RawCard(number, _outer_body(text, keys, ends, index))
        index = ends[index]
        outside_start, outside_line = keys[index][2], keys[index][3]
        index += 1
    _check_outside(text[outside_start:], source, outside_line, unread)


Keyword = tuple[bool, int, int, int]  # (BEGIN or END, start, end, line) of a BEGIN/END:VCARD


def _keywords(text: str) -> tuple[list[Keyword], list[int]]:
    """Every BEGIN:VCARD and END:VCARD line, and the index of the END:VCARD that closes each
    BEGIN:VCARD as brackets pair (-1 when none does, and for an END:VCARD)."""
    keys: list[Keyword] = []
    ends: list[int] = []
    opened: list[int] = []
    position, number = 0, 0  # lines are counted incrementally: `number` "\n"s before `position`
    for match in _KEYWORD.finditer(text):
        number += text.count("\n", position, match.start() + 1)
        position = match.start() + 1
        begin = match.group(1).upper() == "BEGIN"
        if begin:
            opened.append(len(keys))
        elif opened:
            ends[opened.pop()] = len(keys)
        keys.append((begin, match.start(), match.end(), number))
        ends.append(-1)
    return keys, ends


def _outer_body(text: str, keys: list[Keyword], ends: list[int], index: int) -> str:
    """The body of the card opened at `keys[index]`, with each card nested in it blanked out
    line for line (so that line numbers stay right)."""
    start, inner, close = keys[index][2] + 1, index + 1, ends[index]
    parts = []
    while inner < close:
        parts += [text[start : keys[inner][1] + 1], "\n" * (keys[ends[inner]][3] - keys[inner][3])]
        start, inner = keys[ends[inner]][2], ends[inner] + 1
    parts.append(text[start : keys[close][1]])
    return "".join(parts)


def _check_outside(text: str, source: str, line: int, unread: list[int] | None) -> None:
    if not text or text.isspace():
        return
    lines = [number for number, content in enumerate(text.split("\n"), line) if content.strip()]
    what = "1 line" if len(lines) == 1 else f"{len(lines)} lines"
    log.warning("%s:%d: %s outside BEGIN:VCARD ... END:VCARD ignored", source, lines[0], what)
    upper = text.upper()
    others = set(upper.split()) - {"END:VCARD"}  # a stray END:VCARD alone lost nothing
    if unread is not None and ("BEGIN:VCARD" in upper or (others and "END:VCARD" in upper)):
        unread.append(lines[0])  # a card whose BEGIN:VCARD line is mangled or lost


# Exempt from the size rules: a branch per vCard property, in one pass over the card (the hot loop).
def card_to_contact(card: RawCard, source: str) -> Contact | None:  # noqa: PLR0912, PLR0915
    """One card's used properties to a `Contact`; None for a group card (Apple's
    X-ADDRESSBOOKSERVER-KIND:group, vCard 4 KIND:group), which lists people but is none."""
    uid = fn = ""
    n_prop: Property | None = None
    emails: list[str] = []
    phones: list[tuple[int, int, str]] = []
    categories: dict[str, None] = {}
    declared: list[str] = []
    languages: list[tuple[int, int, str]] = []
    notes: list[str] = []
    note_starts: list[int] = []
    dates: dict[str, PartialDate | None] = {"birthday": None, "anniversary": None}
    abdates: list[Property] = []
    for prop in card.properties(source, USED_PROPERTIES):
        name = prop.name
        if name == "EMAIL":
            email = prop.text().strip()
            if email:
                emails.append(email)
        elif name == "TEL":
            phone = prop.text().strip()
            if phone[:4].lower() == "tel:":
                phone = phone[4:].strip()
            if phone:
                phones.append((pref(prop.params) if prop.params else 101, len(phones), phone))
        elif name == "UID":
            uid = uid or prop.text().strip()
        elif name == "FN":
            fn = fn or prop.text().strip()
        elif name == "N":
            n_prop = n_prop or prop
        elif name == "NOTE":
            notes.append(prop.text())
            note_starts.append(prop.line)
        elif name == "CATEGORIES":
            for category in prop.values():
                category = category.strip()
                if category:
                    categories[category] = None
        elif name in _INTEREST_PROPERTIES:
            interest = prop.text().strip()
            if interest:
                declared.append(interest)
        elif name == "LANG":
            language = prop.text().strip()
            if language:
                languages.append((pref(prop.params), len(languages), language))
        elif name in _DATE_PROPERTIES:
            key = _DATE_PROPERTIES[name]
            if dates[key] is None:
                dates[key] = parse_date(prop.text(), prop.params, prop.name,
                                        f"{source}:{prop.line}")
        elif name == "X-ABDATE":
            abdates.append(prop)
        elif name in _KIND_PROPERTIES and prop.text().strip().lower() == "group":
            log.debug("%s:%d: a group card, not a contact; skipped", source, card.line)
            return None
    # Rarer properties are read only for the cards that need them (a second look at the card,
    # where reading them for every card made the reader 10% slower).
    labels: dict[str, str] = {}  # group → X-ABLabel, for Apple's and Google's dated X-ABDATE
    if abdates and dates["anniversary"] is None:
        for prop in card.properties(None, {"X-ABLABEL"}):
            if prop.group:
                labels.setdefault(prop.group.upper(), prop.text().strip())
    for prop in abdates:
        if dates["anniversary"] is None and prop.group and (
                labels.get(prop.group.upper(), "").lower() == _ANNIVERSARY_LABEL):
            dates["anniversary"] = parse_date(prop.text(), prop.params, prop.name,
                                              f"{source}:{prop.line}")
    if len(phones) > 1:
        phones.sort()
    name = fn or (name_from_n(n_prop.decoded()) if n_prop else "")
    if not name:  # a company's card: its name is the first component of its ORG
        for org in card.properties(None, {"ORG"})[:1]:
            name = next((part.strip() for part in org.components() if part.strip()), "")
    name = name or (emails[0] if emails else "") or (phones[0][2] if phones else "")
    if not name:  # a nickname, else a chat handle (AOSP's X-GOOGLE-TALK card has only that)
        for prop in card.properties(None, _LAST_NAMES):
            name = name or _handle(prop.values()[0] if prop.name == "NICKNAME" else prop.text())
    if not name:  # read all the same (its ledger lines, its dates); said, not warned of
        log.info("%s:%d: card has no name (no FN, N, ORG, NICKNAME, email, phone or chat "
                 "handle): read, but it gets no follow-up", source, card.line)
    details = ""
    if not uid:  # an id from who the person is, not from where the card is (`identity`)
        uid = derived_uid(name, emails, [phone for _, _, phone in phones])
        details = details_digest([
            *(prop.text() for prop in card.properties(None, _DETAIL_PROPERTIES)),
            *(date.iso() for date in dates.values() if date)])
    return Contact(
        uid=uid,
        name=name,
        source=source,
        line=card.line,
        emails=tuple(emails),
        phones=tuple(dict.fromkeys([phone for _, _, phone in phones])) if phones else (),
        categories=tuple(categories),
        birthday=dates["birthday"],
        anniversary=dates["anniversary"],
        note="\n".join(notes),
        note_lines=_note_lines(notes, note_starts) if notes else (),
        languages=tuple(language for _, _, language in sorted(languages)),
        declared_interests=tuple(declared),
        details=details,
    )


def _note_lines(notes: list[str], starts: list[int]) -> tuple[int, ...]:
    """For each line of the joined note, the line of the NOTE property it comes from."""
    if len(notes) == 1:
        return (starts[0],) * len(notes[0].splitlines())
    offsets = list(accumulate((len(text) + 1 for text in notes[:-1]), initial=0))
    numbers: list[int] = []
    offset = 0
    for piece in "\n".join(notes).splitlines(keepends=True):
        numbers.append(starts[bisect_right(offsets, offset) - 1])
        offset += len(piece)
    return tuple(numbers)


def parse_cards(text: str, source: str, unread: list[int] | None = None) -> list[Contact]:
    """Every readable card of `text` that is a person or an organisation (not a group card)
    as a `Contact`, in file order; see the module docstring. `unread`, when given, gets the
    line of every card that could not be read."""
    return [contact for contact in _read(text, source, unread) if contact is not None]


def _read(text: str, source: str, unread: list[int] | None) -> list[Contact | None]:
    return [card_to_contact(card, source) for card in iter_cards(text, source, unread)]


def parse_checked(text: str, where: str) -> tuple[list[Contact], str | None]:
    """`parse_cards`, and what is wrong when some card could not be read or there is none."""
    unread: list[int] = []
    read = _read(text, where, unread)
    contacts = [contact for contact in read if contact is not None]
    if not read:  # a file of group cards only holds no person, but nothing was lost
        return contacts, f"{where}: holds no readable card"
    if unread:
        total = len(contacts) + len(unread)
        return contacts, f"{where}: {len(unread)} of its {total} cards could not be read"
    return contacts, None
