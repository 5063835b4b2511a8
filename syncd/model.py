"""Value types shared by every layer. Frozen, no I/O, no clock."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

_LEAP_DAY = (2, 29)  # (month, day)


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date whose year may be unknown (vCard `--0415`, Apple's omit-year)."""

    month: int
    day: int
    year: int | None = None

    def iso(self) -> str:
        if self.year is None:
            return f"--{self.month:02d}-{self.day:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def next_on_or_after(self, today: dt.date) -> dt.date:
        """The next anniversary of this date on or after `today`; 29 Feb falls on 28 Feb in
        common years, as most calendar apps show it."""
        for year in (today.year, today.year + 1):
            day = self.day
            if (self.month, day) == _LEAP_DAY and not _is_leap(year):
                day = 28
            occurrence = dt.date(year, self.month, day)
            if occurrence >= today:
                return occurrence
        raise AssertionError("unreachable: next year always qualifies")


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@dataclass(frozen=True)
class Contact:
    """One person, as read from one vCard. `interests` are normalised tags."""

    uid: str
    name: str
    source: str  # file path or URL the card came from
    line: int = 1  # line of BEGIN:VCARD in that source
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()  # TEL values, preferred first
    categories: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    birthday: PartialDate | None = None
    anniversary: PartialDate | None = None
    note: str = ""
    languages: tuple[str, ...] = ()  # vCard LANG values, preferred first
    # RFC 6715 INTEREST / HOBBY / EXPERTISE values, raw, before normalisation.
    declared_interests: tuple[str, ...] = ()
    # A card without UID: a digest of its other details, which tells apart two people of one name
    # with no email or phone (`identity`); "" for a card with its own UID.
    details: str = ""
    # The id this person's follow-ups were first written under, when their id changed and their
    # ledger was relinked to this card (`identity.relinks`): the calendar objects stay the same.
    linked_from: str = ""
    # The line in `source` of the NOTE property that each line of `note` (`str.splitlines`)
    # comes from; () when not known (the card's own line is named then).
    note_lines: tuple[int, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"

    def where_in_note(self, index: int) -> str:
        """The file and line of the NOTE property holding line `index` of `note`."""
        line = self.note_lines[index] if index < len(self.note_lines) else self.line
        return f"{self.source}:{line}"

    @property
    def followups_key(self) -> str:
        """What this person's follow-ups' UIDs are made from (`followup_uid`)."""
        return self.linked_from or self.uid


GAVE = "gave"
RECEIVED = "received"
EXCHANGE_KINDS = (
    "book", "gift", "webinar", "course", "event", "intro", "advice", "favour", "meal", "other",
)


@dataclass(frozen=True)
class Exchange:
    """One thing given or received: a row of the reciprocity ledger."""

    contact_uid: str
    direction: str  # GAVE or RECEIVED
    kind: str  # one of EXCHANGE_KINDS
    item: str  # a title, a name, a few words
    date: dt.date
    weight: float
    source: str  # "cli", "note", "calendar", "import"
    note: str = ""


IDEA_KINDS = ("book", "webinar", "course", "event", "podcast", "tool", "article", "other")


SHAPES = ("gift", "share")
# The shape of an idea of these kinds when the catalog does not say; every other kind must say.
DEFAULT_SHAPES = {"book": "gift", "podcast": "share", "article": "share", "webinar": "share"}
OPEN_LIBRARY_ISBN = "https://openlibrary.org/isbn/"


@dataclass(frozen=True)
class Idea:
    """One entry of the catalog: something to give, share or talk about.

    `shape` is "gift" (something you give: a book, a ticket, a paid course, an object, a paid
    app) or "share" (something free you send or talk about). Left empty it follows the kind
    (`DEFAULT_SHAPES`); for the other kinds the catalog requires it, and a value built in code
    falls back to "share" when `price` is "free" and "gift" otherwise. `titles` maps a language
    to the title of a verified edition in it; a mapping given is kept as sorted (language, title)
    pairs, so an Idea stays hashable. `source` is the public page(s) confirming the item.
    """

    id: str
    kind: str  # one of IDEA_KINDS
    title: str
    by: str  # author or organiser
    tags: tuple[str, ...]  # normalised
    language: str  # ISO 639-1, e.g. "en", "it"
    url: str | None = None
    year: int | None = None
    price: str | None = None
    note: str | None = None
    shape: str = ""  # one of SHAPES; "" = by kind, see above
    months: tuple[int, ...] = ()  # events: the month(s) it usually takes place, 1-12
    city: str | None = None  # events: where ("online" for an online event)
    isbn13: str | None = None  # books: 13 digits, valid check digit
    titles: tuple[tuple[str, str], ...] = ()  # (language, title) of verified editions
    source: tuple[str, ...] = ()  # URLs of public pages confirming it

    def __post_init__(self) -> None:
        if not self.shape:
            free = (self.price or "").strip().lower() in ("free", "gratis", "gratuito")
            shape = DEFAULT_SHAPES.get(self.kind) or ("share" if free else "gift")
            object.__setattr__(self, "shape", shape)
        if isinstance(self.titles, Mapping):
            object.__setattr__(self, "titles", tuple(sorted(self.titles.items())))
        if isinstance(self.source, str):
            object.__setattr__(self, "source", (self.source,))
        if isinstance(self.months, list):
            object.__setattr__(self, "months", tuple(self.months))

    @property
    def is_gift(self) -> bool:
        return self.shape == "gift"

    @property
    def link(self) -> str | None:
        """Where to act on it: its `url`, else a book's Open Library page by ISBN-13, else None."""
        if self.url:
            return self.url
        if self.kind == "book" and self.isbn13:
            return OPEN_LIBRARY_ISBN + self.isbn13
        return None

    def title_in(self, language: str) -> str:
        """The title of its verified edition in `language`, else its own title."""
        return dict(self.titles).get(language, self.title)


@dataclass(frozen=True)
class Suggestion:
    idea: Idea
    # A short English reason: "#sailing", "related to #sailing via #ocean; also yours: #history".
    why: str
    score: float


@dataclass(frozen=True)
class Introduction:
    other_uid: str
    other_name: str
    shared: tuple[str, ...]  # canonical tags, rarest first


@dataclass(frozen=True)
class Proposal:
    """An idea a follow-up proposed to a contact, as the state file remembers it: no idea is
    proposed to one person twice in a year, and a follow-up keeps the ideas it shows."""

    followup_uid: str
    contact_uid: str
    idea_id: str
    position: int  # its place among the follow-up's ideas
    current: bool  # still among them (False: replaced, but it was shown)
    day: dt.date  # when it was first proposed


REASONS = ("give-back", "keep-in-touch", "birthday", "anniversary", "get-to-know")


@dataclass(frozen=True)
class FollowUp:
    """One thing the planner wants in the calendar: (contact, reason, cycle) is its identity."""

    contact: Contact
    reason: str
    cycle: str  # generation of this reason for this contact, e.g. birthday year
    due: dt.date
    common_ground: tuple[str, ...] = ()
    ideas: tuple[Suggestion, ...] = ()
    introductions: tuple[Introduction, ...] = ()
    questions: tuple[str, ...] = ()
    occasion: dt.date | None = None  # the birthday itself, for a birthday follow-up
    balance: float | None = None  # for a give-back: what is owed
    received: tuple[Exchange, ...] = ()  # for a give-back: what was received, newest first
    # Reasons due within a week of this one, said in it instead of in a follow-up of their own
    # (planner.one_a_week); a merged give-back brings its balance and what was received.
    also: tuple[str, ...] = ()

    @property
    def uid(self) -> str:
        """Stable across runs, restarts and crashes: the same (contact, reason, cycle) is always
        the same calendar object, so a re-run can never duplicate it."""
        return followup_uid(self.contact.followups_key, self.reason, self.cycle)


def followup_uid(contact_uid: str, reason: str, cycle: str) -> str:
    digest = hashlib.sha256(f"{contact_uid}\0{reason}\0{cycle}".encode()).hexdigest()
    return f"syncd-{digest[:32]}"


def object_uid(uid: str, scope: str) -> str:
    """The UID of follow-up `uid` in a calendar of UID scope `scope` (`engine.uid_scope`).
    Cyrus refuses one UID in two calendars of one account (403 unique-scheduling-object-
    resource, plain VTODOs too), so each calendar syncd writes to gets UIDs of its own; ""
    is the form syncd before 0.2 wrote, kept in the calendars that already hold it."""
    return f"{uid}-{scope}" if scope else uid


_SCOPED_UID = re.compile(r"(syncd-[0-9a-f]{32})-[0-9a-f]{8}")


def followup_of(calendar_uid: str) -> str:
    """The follow-up a calendar object's UID names, whatever its scope (`object_uid`)."""
    match = _SCOPED_UID.fullmatch(calendar_uid)
    return match.group(1) if match else calendar_uid
