"""Ledger arithmetic and ledger lines in NOTE (pure: values and a day in, values out).

The balance of a contact is Σ received weights − Σ gave weights within the window; positive
means a give-back is owed. An exchange's identity is (contact, direction, kind, item, date), with
the item compared case- and accent-insensitively, so the same give-back logged from the CLI, a
NOTE line and an import is counted once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from syncd.model import EXCHANGE_KINDS, GAVE, RECEIVED, Contact, Exchange

DIRECTIONS = {
    "received": RECEIVED, "ricevuto": RECEIVED, "ricevuta": RECEIVED,
    "gave": GAVE, "given": GAVE, "dato": GAVE, "data": GAVE,
}
KIND_ALIASES = {
    "libro": "book", "regalo": "gift", "corso": "course", "evento": "event",
    "presentazione": "intro", "introduction": "intro", "consiglio": "advice",
    "favore": "favour", "favor": "favour", "pranzo": "meal", "cena": "meal", "altro": "other",
    # The catalog's kinds that are no exchange kind, as a follow-up names them (wording.py),
    # taken as inspire.EXCHANGE_KIND_OF_IDEA takes them: `gave: podcast "..."` is advice.
    "podcast": "advice", "article": "advice", "articolo": "advice", "tool": "gift",
    "strumento": "gift", "oggetto": "gift",
}
_NOTE_LINE = re.compile(
    r"^\s*(?P<direction>[^\W\d_]+)\s*:\s*(?P<kind>[^\W\d_]+)\s+"
    r"[\"“”«](?P<item>[^\"“”«»]+)[\"“”»](?:\s+(?P<date>(?!(?:weight|peso)\b)\S+))?"
    r"(?:\s+(?:weight|peso)\s*[=:]?\s*(?P<weight>\d+(?:[.,]\d+)?))?\s*$",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")


def item_key(text: str) -> str:
    """`  Zéro to  ONE ` and `zero to one` are the same item."""
    if not text.isascii():  # ASCII has nothing to decompose: 50,000 ledger rows, 0.2 s less
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", text.casefold().strip())


def identity(exchange: Exchange) -> tuple[str, str, str, str, dt.date]:
    return (exchange.contact_uid, exchange.direction, exchange.kind, item_key(exchange.item),
            exchange.date)


def entry_id(exchange: Exchange) -> str:
    """A short, stable name for one ledger entry (of its identity), for `syncd ledger remove`."""
    key = "\0".join(map(str, identity(exchange)))
    return hashlib.blake2b(key.encode(), digest_size=4).hexdigest()


def kind_of(word: str) -> str | None:
    """The exchange kind a word names (`Libro` is book), case ignored; None for no kind. The one
    table behind NOTE lines, `syncd log` and `syncd ledger import`."""
    word = word.strip().casefold()
    kind = KIND_ALIASES.get(word, word)
    return kind if kind in EXCHANGE_KINDS else None


def direction_of(word: str) -> str | None:
    """GAVE or RECEIVED for a direction word (`dato`, `Ricevuto`), case ignored; else None."""
    return DIRECTIONS.get(word.strip().casefold())


def kind_words() -> str:
    """Every accepted kind word, for help and errors: `book (libro), gift (regalo, ...), ...`."""
    aliases: dict[str, list[str]] = {kind: [] for kind in EXCHANGE_KINDS}
    for alias, kind in KIND_ALIASES.items():
        aliases[kind].append(alias)
    return ", ".join(f"{kind} ({', '.join(words)})" if words else kind
                     for kind, words in aliases.items())


def direction_words() -> str:
    aliases: dict[str, list[str]] = {GAVE: [], RECEIVED: []}
    for alias, direction in DIRECTIONS.items():
        if alias != direction:
            aliases[direction].append(alias)
    return ", ".join(f"{d} ({', '.join(words)})" for d, words in aliases.items())


@dataclass(frozen=True)
class NoteProblem:
    contact: Contact
    text: str
    reason: str
    index: int = 0  # of the line in the contact's NOTE text

    def __str__(self) -> str:
        return (f"{self.contact.where_in_note(self.index)}: NOTE ledger line "
                f"{self.text.strip()!r}: {self.reason}; skipped")


@dataclass(frozen=True)
class LedgerLine:
    """One ledger line as written: `gave: book "Zero to One" 2026-03-01 weight 2`."""

    direction: str  # GAVE or RECEIVED
    kind: str  # one of EXCHANGE_KINDS
    item: str
    date: dt.date | None  # None where the line may leave it out (`given_lines`)
    weight: float | None  # None: the kind's weight


EXPECTED = 'expected: received: book "Title" YYYY-MM-DD'


def parse_line(line: str, *, dated: bool = True) -> LedgerLine | str | None:
    """A ledger line (`LedgerLine`), what is wrong with it (a str), or None when the line does
    not start with a direction word and is just text. `dated`: the date is required."""
    head = line.split(":", 1)[0].strip().casefold()
    if ":" not in line or head not in DIRECTIONS:
        return None
    match = _NOTE_LINE.match(line)
    if not match or (dated and not match["date"]):
        return EXPECTED if dated else 'expected: gave: book "Title"'
    kind = kind_of(match["kind"])
    if kind is None:
        return f"unknown kind {match['kind']!r} (one of {kind_words()})"
    date = None
    if match["date"]:
        try:
            date = dt.date.fromisoformat(match["date"])
        except ValueError:
            return f"{match['date']!r} is not a date YYYY-MM-DD"
    weight = float(match["weight"].replace(",", ".")) if match["weight"] else None
    return LedgerLine(DIRECTIONS[head], kind, match["item"].strip(), date, weight)


def note_exchanges(
    contact: Contact, weights: Mapping[str, float]
) -> tuple[list[Exchange], list[NoteProblem]]:
    """The ledger lines in a contact's NOTE: `received: book "Zero to One" 2026-03-01` (also
    `gave:`, `ricevuto:`, `dato:`, an optional `weight 2`). A line that starts with a direction
    word but does not parse is a problem; every other NOTE line is just text."""
    exchanges, problems = [], []
    for index, line in enumerate(contact.note.splitlines()):
        parsed = parse_line(line)
        if isinstance(parsed, str):
            problems.append(NoteProblem(contact, line, parsed, index))
        elif parsed is not None:
            assert parsed.date is not None
            weight = parsed.weight if parsed.weight is not None else weights[parsed.kind]
            exchanges.append(Exchange(contact.uid, parsed.direction, parsed.kind, parsed.item,
                                      parsed.date, weight, "note"))
    return exchanges, problems


_BULLET = re.compile(r"^\s*[-*•]\s*")


def given_lines(text: str) -> tuple[list[LedgerLine], list[str]]:
    """What a person wrote in a follow-up's description that they gave: the lines of NOTE's
    syntax with a `gave`/`dato` direction (`gave: book "Into Thin Air"`, `dato: libro "Aria
    sottile" 2026-11-30`), the date optional, a leading list dash allowed. Returns those lines
    and the ones that start with a direction word but do not parse (each with its problem);
    `received:` lines and every other line are the follow-up's own text."""
    found, problems = [], []
    for line in text.splitlines():
        line = _BULLET.sub("", line)
        if DIRECTIONS.get(line.split(":", 1)[0].strip().casefold()) != GAVE:
            continue  # the follow-up's own `Received:` heading, a `received:` line, text
        parsed = parse_line(line, dated=False)
        if isinstance(parsed, str):
            problems.append(f"{line.strip()!r}: {parsed}")
        elif parsed is not None:
            found.append(parsed)
    return found, problems


def merge(*groups: Iterable[Exchange]) -> list[Exchange]:
    """All exchanges, each identity once (the first one seen wins), in date order."""
    seen: dict[tuple[str, str, str, str, dt.date], Exchange] = {}
    for group in groups:
        for exchange in group:
            seen.setdefault(identity(exchange), exchange)
    return sorted(seen.values(), key=lambda e: (e.date, e.contact_uid, e.direction, e.kind, e.item))


def introduced_back(exchanges: Iterable[Exchange], contacts: Iterable[Contact]) -> list[Exchange]:
    """An introduction given to one contact that names another contact is given to that other
    too: introducing Laura to Marco is something both received from you. These are the
    mirrored exchanges, each naming the first contact; a name two contacts share names no one."""
    by_name: dict[str, Contact | None] = {}
    names: dict[str, str] = {}
    for contact in contacts:
        key = item_key(contact.name)
        by_name[key] = None if key in by_name else contact
        names[contact.uid] = contact.name
    mirrored = []
    for exchange in exchanges:
        if exchange.kind != "intro" or exchange.direction != GAVE:
            continue
        other = by_name.get(item_key(exchange.item))
        first = names.get(exchange.contact_uid)
        if other is not None and first is not None and other.uid != exchange.contact_uid:
            mirrored.append(Exchange(other.uid, GAVE, "intro", first, exchange.date,
                                     exchange.weight, exchange.source, f"introduced to {first}"))
    return mirrored


@dataclass(frozen=True)
class Standing:
    """Where one relationship stands on a given day."""

    balance: float  # received − gave within the window
    last_exchange: dt.date | None  # either direction, any time
    last_received: dt.date | None  # within the window
    received: tuple[Exchange, ...]  # received within the window, newest first


def standings(
    exchanges: Iterable[Exchange], window: dt.timedelta, today: dt.date
) -> dict[str, Standing]:
    start = today - window
    balance: dict[str, float] = {}
    last: dict[str, dt.date] = {}
    received: dict[str, list[Exchange]] = {}
    for exchange in exchanges:
        uid = exchange.contact_uid
        if exchange.date > last.get(uid, dt.date.min):
            last[uid] = exchange.date
        if not start <= exchange.date <= today:
            continue
        sign = 1 if exchange.direction == RECEIVED else -1
        balance[uid] = balance.get(uid, 0.0) + sign * exchange.weight
        if exchange.direction == RECEIVED:
            received.setdefault(uid, []).append(exchange)
    result = {}
    for uid in last.keys() | balance.keys():
        got = sorted(received.get(uid, []), key=lambda e: (e.date, e.item), reverse=True)
        result[uid] = Standing(
            balance=round(balance.get(uid, 0.0), 6),
            last_exchange=last.get(uid),
            last_received=got[0].date if got else None,
            received=tuple(got),
        )
    return result
