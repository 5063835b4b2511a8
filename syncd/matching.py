"""Which catalog ideas suit one contact (pure: values in, values out).

An idea is a candidate when it shares a tag with the contact's own interests, or with what they
gave me (evidence of taste), or is close to one (a related tag); one that matches only my
interests is never proposed. Candidates rank in tiers, then by score:

1. the ideas this follow-up already proposes (`Occasion.keep`), while they still fit: what the
   person has read does not change under them;
2. a direct match (the contact's tag, a synonym, a taste) before a related-tag one; within
   each, the contact's language first (`syncd.language`), so that a direct match in another
   language is never dropped for a related one;
3. never an idea proposed to them in another follow-up within a year: a follow-up proposes
   fewer ideas rather than the same one twice.

The score is their match (the same tag 3, a synonym or a taste 2, a related tag 1, summed over
their interests) plus bonuses that are always worth less than one point of it: common ground
with me and a kind that suits the purpose; ideas proposed to many people lately lose up to as
much. Ties break by a per-contact seed, so that people with the same interests get different
ideas. A gift follow-up (give-back, birthday) proposes gifts only, and a give-back answers in
kind first (after a book, a book); events only in the months before they happen. Picks serve
each of their interests before a second idea for one, then vary the kinds. Never an idea
already exchanged with them, matched by title (`title_key`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from syncd.config_types import FrozenMap
from syncd.ideas import Vocabulary, ring_point
from syncd.language import reading_language
from syncd.model import Contact, Idea, Suggestion

GIFT = "gift"  # give-back, birthday: something to give
SHARE = "share"  # keep-in-touch: something to send or talk about
PREFERRED_KINDS: Mapping[str, frozenset[str]] = FrozenMap({
    GIFT: frozenset({"book", "course", "event", "tool"}),
    SHARE: frozenset({"podcast", "article", "webinar", "book"}),
})
EXACT, SYNONYM, RELATED = 3.0, 2.0, 1.0
TASTE = SYNONYM  # a tag of something they gave me that the catalog knows
# The bonuses, each and together under one point of the contact's own match (theirs first).
COMMON_GROUND = 0.2  # per idea tag that is also mine, for at most MAX_COMMON tags
MAX_COMMON = 2
PURPOSE = 0.5
CROWDED = 0.1  # taken off per person it was proposed to lately, at most MAX_CROWDED
MAX_CROWDED = 0.9
SEASON_MONTHS = 3  # an event is proposed in the three months before it
SEASON_UNTIL_DAY = 10  # and in its own month until this day

KEPT, DIRECT, DIRECT_OTHER_LANGUAGE, RELATED_TIER, RELATED_OTHER_LANGUAGE = range(5)
PROPOSED_BEFORE = 4  # added to the tier of an idea proposed to them in another follow-up


def proposed_before(tier: int) -> bool:
    """An idea shown to them in another follow-up within a year: listed, never picked."""
    return tier > RELATED_OTHER_LANGUAGE

# What a give-back answers a received exchange with, first.
IN_KIND = FrozenMap({"book": "book", "course": "course", "webinar": "webinar", "event": "event"})


@dataclass(frozen=True)
class Occasion:
    """What one follow-up asks of its ideas, besides the contact."""

    purpose: str = SHARE  # GIFT or SHARE
    day: dt.date | None = None  # when it is due: events only in the months before
    in_kind: str | None = None  # the kind to answer in first (a give-back after a book: "book")
    received: tuple[str, ...] = ()  # items the contact gave me: evidence of their taste
    proposed: frozenset[str] = frozenset()  # ids proposed to them lately in other follow-ups
    keep: tuple[str, ...] = ()  # ids this follow-up already proposes, in order


# -- titles ------------------------------------------------------------------------------------

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "“": '"', "”": '"', "«": '"', "»": '"'})
_SUBTITLE = re.compile(r"\s*(?::|;|\(|\[|\s[-–—]\s|,\s+or,?\s|\s+or,\s).*$")
_ARTICLE = re.compile(r"^(?:the|an?|il|lo|la|i|gli|le|un|uno|una|l'|un')\s*(?=\w)")
_PUNCTUATION = re.compile(r"[^\w\s']+|_")


def item_key(text: str) -> str:
    """An exchanged item as written, compared loosely: `« L’Amica  Geniale »` and
    `"l'amica geniale"` are the same key (case, accents, curly quotes, spaces and surrounding
    quotes ignored)."""
    text = text.translate(_QUOTES)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.casefold().split()).strip("\"' ")


def title_key(text: str) -> str:
    """A title by its meaning: without its subtitle (after `:`, `;`, `(`, ` - `, `, or`),
    punctuation, case, accents and a leading article, so that "Moby-Dick; or, The Whale",
    "Moby Dick" and "moby dick" are one title, and "The Name of the Rose" is "name of the rose"."""
    text = item_key(text)
    short = _SUBTITLE.sub("", text) or text
    words = _PUNCTUATION.sub(" ", short).replace(" '", " ").split()
    text = " ".join(words)
    return _ARTICLE.sub("", text, count=1).strip() or text


@cache
def idea_keys(idea: Idea) -> frozenset[str]:
    """The `title_key`s an idea is known by: its id, its title and its titles in other
    languages (the Italian edition of an English book is the same book)."""
    names = (idea.id, idea.title, *(title for _, title in idea.titles))
    return frozenset(key for key in map(title_key, names) if key)


# -- the index -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    idea: Idea
    tags: tuple[str, ...]  # canonical, without repeats, in the idea's order
    written: frozenset[str]  # the tags as the catalog writes them, normalised
    salt: int  # mixed with a contact's seed to break ties


class CatalogIndex:
    """The catalog by canonical tag and by title, so that matching one contact visits only the
    ideas that share a tag with them (scanning all 1,233 shipped ideas for each contact would be
    most of a cold cycle)."""

    def __init__(self, catalog: Sequence[Idea], vocabulary: Vocabulary):
        self.catalog, self.vocabulary = catalog, vocabulary
        self.entries: list[_Entry] = []
        self.by_tag: dict[str, list[int]] = defaultdict(list)
        self.by_key: dict[str, list[int]] = defaultdict(list)  # title_key → ideas it names
        self.by_id: dict[str, int] = {}
        for position, idea in enumerate(catalog):
            forms = [vocabulary.forms(tag) for tag in idea.tags]
            tags = tuple(dict.fromkeys(canonical for _, canonical in forms))
            salt = int.from_bytes(hashlib.blake2b(idea.id.encode(), digest_size=8).digest(), "big")
            self.entries.append(_Entry(idea, tags, frozenset(w for w, _ in forms), salt))
            self.by_id.setdefault(idea.id, position)
            for tag in tags:
                self.by_tag[tag].append(position)
            for key in idea_keys(idea):
                self.by_key[key].append(position)


_INDEXES: list[CatalogIndex] = []


def index_for(catalog: Sequence[Idea], vocabulary: Vocabulary) -> CatalogIndex:
    """The index of this catalog and vocabulary, built once per pair of objects."""
    for index in _INDEXES:
        if index.catalog is catalog and index.vocabulary is vocabulary:
            return index
    _INDEXES[:] = [*_INDEXES[-3:], CatalogIndex(catalog, vocabulary)]
    return _INDEXES[-1]


# -- candidates ----------------------------------------------------------------------------------


class Candidate(NamedTuple):
    """One idea as it ranks for one contact (a NamedTuple: made thousands of times a cycle)."""

    entry: _Entry
    score: float
    tier: int
    serves: frozenset[str]  # the contact's tags it serves directly (same tag, synonym, taste)
    reasons: tuple[tuple[float, str, tuple[str, ...]], ...]  # (points, template, words)
    common: tuple[str, ...]  # my interests it shares, in my words
    tiebreak: int
    crowded: int  # people it was proposed to lately

    @property
    def idea(self) -> Idea:
        return self.entry.idea

    @property
    def why(self) -> str:
        """"#sailing; #history; also yours: #history", or "related to #sailing via #ocean" for
        an idea that only a related tag brings (wording.why says it in Italian); made only for
        what is shown."""
        reasons = sorted(self.reasons, key=lambda reason: -reason[0])  # stable: tag order
        if reasons[0][0] > RELATED:  # a related tag says nothing next to their own
            reasons = [reason for reason in reasons if reason[0] > RELATED]
        why = "; ".join(template.format(*words) for _, template, words in reasons[:2])
        if self.common:
            why += "; also yours: " + ", ".join(f"#{tag}" for tag in self.common)
        return why

    def suggestion(self) -> Suggestion:
        return Suggestion(self.entry.idea, self.why, round(self.score, 2))


def rank(found: Candidate) -> tuple[int, float, int]:
    return found.tier, -found.score, found.tiebreak


def match(
    contact: Contact,
    catalog: Sequence[Idea],
    vocabulary: Vocabulary,
    *,
    my_interests: Sequence[str],
    my_language: str,
    exchanged: Collection[str],
    purpose: str = SHARE,
    limit: int = 3,
    occasion: Occasion | None = None,
    crowded: Mapping[str, int] = FrozenMap(),
) -> list[Suggestion]:
    """At most `limit` ideas for `contact`, best first; [] when nothing shares a tag with them.
    `exchanged` holds the items of every exchange with the contact, either way; `crowded` how
    many people each idea id was proposed to lately. `occasion` (else one of `purpose`) says
    what the follow-up asks."""
    occasion = occasion or Occasion(purpose)
    if limit <= 0:
        return []
    pool = candidates(contact, catalog, vocabulary, my_interests=my_interests,
                      my_language=my_language, exchanged=exchanged, occasion=occasion,
                      crowded=crowded, need=limit)
    return [found.suggestion() for found in pick(pool, limit, occasion)]


def candidates(
    contact: Contact,
    catalog: Sequence[Idea],
    vocabulary: Vocabulary,
    *,
    my_interests: Sequence[str],
    my_language: str,
    exchanged: Collection[str],
    occasion: Occasion,
    crowded: Mapping[str, int] = FrozenMap(),
    need: int | None = None,
) -> list[Candidate]:
    """Every idea that may be proposed to `contact` on this occasion, in no order. With `need`,
    the related-tag ones are looked at only when fewer than `need` direct ones are left (or
    none of the kind to answer in): they could not be picked otherwise."""
    if occasion.purpose not in PREFERRED_KINDS:
        raise ValueError(f"purpose must be one of {', '.join(PREFERRED_KINDS)}, "
                         f"not {occasion.purpose!r}")
    forms = [vocabulary.forms(tag) for tag in contact.interests]
    theirs: dict[str, str] = {}  # canonical tag -> the tag as the contact has it
    for written, canonical in forms:
        if written:
            theirs.setdefault(canonical, written)
    index = index_for(catalog, vocabulary)
    taste: dict[str, str] = {}  # a tag of something they gave me -> that item
    for item in occasion.received:
        for position in index.by_key.get(title_key(item), ()):
            for tag in index.entries[position].tags:
                if tag not in theirs:
                    taste.setdefault(tag, item)
    if not theirs and not taste:
        return []
    near: dict[str, list[str]] = defaultdict(list)  # a related tag -> their tags it is close to
    for tag in theirs:
        for other in sorted(vocabulary.related(tag)):
            near[other].append(tag)
    done = {p for item in exchanged for p in index.by_key.get(title_key(item), ())}
    my_words: dict[str, str] = {}  # canonical -> as I wrote it
    for written, canonical in map(vocabulary.forms, my_interests):
        my_words.setdefault(canonical, written)
    scoring = _Scoring(
        theirs, taste, near, my_words,
        PREFERRED_KINDS[occasion.purpose],
        reading_language(contact, forms, my_language, index.by_tag),
        occasion, {idea: place for place, idea in enumerate(occasion.keep)}, crowded,
        ring_point(contact.uid))
    looked: set[int] = set(done)
    pool: list[Candidate] = []

    def consider(positions: Collection[int]) -> None:
        for position in sorted(set(positions) - looked):
            looked.add(position)
            entry = index.entries[position]
            if _fits(entry.idea, occasion):
                found = scoring.score(entry)
                if found is not None:
                    pool.append(found)

    consider([index.by_id[i] for i in occasion.keep if i in index.by_id])
    consider([p for tag in (*theirs, *taste) for p in index.by_tag.get(tag, ())])
    usable = [found for found in pool if not proposed_before(found.tier)]
    in_kind = occasion.in_kind
    if (need is None or len(usable) < need
            or (in_kind and not any(found.idea.kind == in_kind for found in usable))):
        consider([p for tag in near if tag not in theirs for p in index.by_tag.get(tag, ())])
    return pool


def _fits(idea: Idea, occasion: Occasion) -> bool:
    """A gift for a gift follow-up; an event only in the months before it (`SEASON_MONTHS`,
    the month itself until its 10th)."""
    if occasion.purpose == GIFT and not idea.is_gift:
        return False
    if idea.kind == "event" and idea.months and occasion.day is not None:
        day = occasion.day
        ahead = [(month - day.month) % 12 for month in idea.months]
        return any(1 <= n <= SEASON_MONTHS or (n == 0 and day.day <= SEASON_UNTIL_DAY)
                   for n in ahead)
    return True


@dataclass(frozen=True)
class _Scoring:
    theirs: Mapping[str, str]
    taste: Mapping[str, str]
    near: Mapping[str, list[str]]
    mine: Mapping[str, str]  # my interests: canonical -> as I wrote them
    preferred: frozenset[str]
    language: str
    occasion: Occasion
    kept: Mapping[str, int]  # id -> place in this follow-up
    crowded: Mapping[str, int]
    seed: int

    def score(self, entry: _Entry) -> Candidate | None:  # noqa: PLR0912 (each way to match)
        """What the idea scores for the contact, or None when it shares nothing with them, not
        even a related tag."""
        best: dict[str, tuple[float, str, tuple[str, ...]]] = {}  # their tag -> its reason
        theirs, tags = self.theirs, entry.tags
        for tag in tags:
            written = theirs.get(tag)
            if written is not None:
                if written == tag or written in entry.written:
                    best[tag] = (EXACT, "#{0}", (written,))
                else:
                    best[tag] = (SYNONYM, "#{0} (their #{1})", (tag, written))
            elif tag in self.taste:
                best[tag] = (TASTE, "#{0}, like “{1}”", (tag, self.taste[tag]))
        for tag in tags:  # a related tag counts once, for the first interest not yet met
            if tag in self.near and tag not in theirs:
                for wanted in self.near[tag]:
                    if wanted not in best:
                        best[wanted] = (RELATED, "related to #{0} via #{1}",
                                        (theirs[wanted], tag))
                        break
        if not best:
            return None
        score, serves = 0.0, []
        for tag, reason in best.items():
            score += reason[0]
            if reason[0] > RELATED:
                serves.append(tag)
        idea = entry.idea
        mine = self.mine
        common = tuple(mine[tag] for tag in tags if tag in mine)[:MAX_COMMON] if mine else ()
        score += COMMON_GROUND * len(common) + (PURPOSE if idea.kind in self.preferred else 0.0)
        crowded = self.crowded.get(idea.id, 0)
        score -= min(CROWDED * crowded, MAX_CROWDED)
        if idea.id in self.kept:
            tier, tiebreak = KEPT, self.kept[idea.id]
        else:
            readable = idea.language == self.language or self.language in dict(idea.titles)
            tier = (DIRECT if serves else RELATED_TIER) + (not readable)
            tier += PROPOSED_BEFORE if idea.id in self.occasion.proposed else 0
            tiebreak = entry.salt ^ self.seed
        return Candidate(entry, score, tier, frozenset(serves), tuple(best.values()), common,
                         tiebreak, crowded)


# -- picking -------------------------------------------------------------------------------------


def pick(pool: list[Candidate], limit: int, occasion: Occasion) -> list[Candidate]:
    """The ideas kept first; then, for a give-back, the best of the kind it answers; then greedy
    picks (`_varied`). An idea proposed to them in another follow-up within a year is never
    picked again: fewer ideas rather than the same one twice."""
    ranked = sorted(pool, key=rank)
    kept = sorted((found for found in pool if found.tier == KEPT), key=lambda f: f.tiebreak)
    chosen = kept[:limit]
    rest = [found for found in ranked if found.tier != KEPT and not proposed_before(found.tier)]
    if occasion.in_kind and not chosen and limit > 0:
        first = next((found for found in rest if found.idea.kind == occasion.in_kind), None)
        if first is not None:
            chosen.append(first)
            rest.remove(first)
    return chosen + _varied(rest, limit - len(chosen), PREFERRED_KINDS[occasion.purpose], chosen)


def _varied(ranked: list[Candidate], limit: int, preferred: Collection[str],
            before: list[Candidate]) -> list[Candidate]:
    """Greedy picks by (tier, serves none of their interests not yet served, times the kind was
    picked, kind not preferred, − score, tie-break): each of their interests before a second
    idea for one, then the kinds varied. Kept per kind in `rank` order, so that a pick looks at
    the head of each kind instead of the whole pool."""
    by_kind: dict[str, list[Candidate]] = defaultdict(list)
    for found in ranked:
        by_kind[found.idea.kind].append(found)
    chosen: list[Candidate] = []
    per_kind: Counter[str] = Counter(found.idea.kind for found in before)
    served: set[str] = set().union(*(found.serves for found in before))
    while len(chosen) < limit:
        choice: tuple[tuple[object, ...], str, int] | None = None
        for kind, candidates_of_kind in by_kind.items():
            at, repeats = _best_of_kind(candidates_of_kind, served)
            if at < 0:
                continue
            found = candidates_of_kind[at]
            key = (found.tier, repeats, per_kind[kind], kind not in preferred, -found.score,
                   found.tiebreak)
            if choice is None or key < choice[0]:
                choice = (key, kind, at)
        if choice is None:
            break
        _, kind, at = choice
        found = by_kind[kind].pop(at)
        chosen.append(found)
        per_kind[kind] += 1
        served |= found.serves
    return chosen


def _best_of_kind(ranked: list[Candidate], served: set[str]) -> tuple[int, bool]:
    """The position of the best idea of a list in `rank` order: the first of its best tier that
    serves one of their interests not yet served, else its first; and whether it serves none
    (`(-1, True)` for an empty list)."""
    if not ranked:
        return -1, True
    for position, found in enumerate(ranked):
        if found.tier != ranked[0].tier:
            break
        if not found.serves <= served:
            return position, False
    return 0, True
