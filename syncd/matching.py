"""Which catalog ideas suit one contact (pure: values in, values out).

`match` ranks catalog ideas for one contact: the overlap of the idea's tags with the contact's
interests (the same tag 3, a synonym 2, a related tag 1, summed), plus common ground with my own
interests and a nudge towards the kinds that suit the purpose; ideas in a language the contact
reads first; never an idea already exchanged with them; varied across kinds.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple
from functools import cache

from syncd.config_types import FrozenMap
from syncd.ideas import Vocabulary
from syncd.model import Contact, Idea, Suggestion

GIFT = "gift"  # give-back, birthday: something to give
SHARE = "share"  # keep-in-touch: something to send or talk about
PREFERRED_KINDS: Mapping[str, frozenset[str]] = FrozenMap({
    GIFT: frozenset({"book", "course", "event", "tool"}),
    SHARE: frozenset({"podcast", "article", "webinar", "book"}),
})
EXACT, SYNONYM, RELATED = 3.0, 2.0, 1.0
COMMON_GROUND = 1.0  # per idea tag that is also mine, for at most MAX_COMMON tags
MAX_COMMON = 2
PURPOSE = 1.0
REPEAT = 2.0  # taken off an idea that serves only interests already served by a pick

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "“": '"', "”": '"', "«": '"', "»": '"'})


def item_key(text: str) -> str:
    """How an exchanged item is compared with an idea: `« L’Amica  Geniale »` and
    `"l'amica geniale"` are the same key (case, accents, curly quotes, spaces and surrounding
    quotes ignored)."""
    text = text.translate(_QUOTES)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.casefold().split()).strip("\"' ")


@cache
def idea_keys(idea: Idea) -> frozenset[str]:
    """The id, the title and the title before a colon (people log `Zero to One`, not the
    subtitle), as `item_key`s."""
    return frozenset({item_key(idea.id), item_key(idea.title), item_key(idea.title.split(":")[0])})


def reading_languages(contact: Contact, my_language: str) -> tuple[str, ...]:
    """ISO 639-1 codes the contact reads: vCard LANG (`it-IT` → `it`), else my language."""
    codes = [lang.strip().lower().replace("_", "-").split("-")[0] for lang in contact.languages]
    return tuple(dict.fromkeys(code for code in codes if code)) or (my_language.lower(),)


@dataclass(frozen=True)
class _Entry:
    idea: Idea
    tags: tuple[str, ...]  # canonical, without repeats, in the idea's order
    written: frozenset[str]  # the tags as the catalog writes them, normalised
    keys: frozenset[str]


class CatalogIndex:
    """The catalog by canonical tag. Scanning all 475 shipped ideas for each contact was 1.3 s
    of a 10,000-contact cold cycle; the index visits only the ideas that share a tag or a
    related tag with the contact (about a quarter of them)."""

    def __init__(self, catalog: Sequence[Idea], vocabulary: Vocabulary):
        self.catalog, self.vocabulary = catalog, vocabulary
        self.entries: list[_Entry] = []
        self.by_tag: dict[str, list[int]] = defaultdict(list)
        self.by_key: dict[str, list[int]] = defaultdict(list)  # item_key → ideas it names
        for position, idea in enumerate(catalog):
            forms = [vocabulary.forms(tag) for tag in idea.tags]
            tags = tuple(dict.fromkeys(canonical for _, canonical in forms))
            self.entries.append(_Entry(idea, tags, frozenset(w for w, _ in forms), idea_keys(idea)))
            for tag in tags:
                self.by_tag[tag].append(position)
            for key in self.entries[-1].keys:
                self.by_key[key].append(position)
        self._ranks: dict[frozenset[str], tuple[list[int], list[tuple[str, ...]]]] = {}

    def ranks(self, mine: frozenset[str]) -> tuple[list[int], list[tuple[str, ...]]]:
        """For ideas that reach a contact through one related tag only: each idea's common
        ground with me, and its rank by (kind, more common ground, id). Their score is then
        known without scoring, and within a kind this rank is their order of preference."""
        if mine not in self._ranks:
            common = [tuple(tag for tag in entry.tags if tag in mine)[:MAX_COMMON]
                      for entry in self.entries]
            order = sorted(range(len(self.entries)), key=lambda p: (
                self.entries[p].idea.kind, -len(common[p]), self.entries[p].idea.id))
            rank = [0] * len(order)
            for place, position in enumerate(order):
                rank[position] = place
            if len(self._ranks) >= 8:
                self._ranks.clear()
            self._ranks[mine] = (rank, common)
        return self._ranks[mine]


_INDEXES: list[CatalogIndex] = []


def index_for(catalog: Sequence[Idea], vocabulary: Vocabulary) -> CatalogIndex:
    """The index of this catalog and vocabulary, built once per pair of objects."""
    for index in _INDEXES:
        if index.catalog is catalog and index.vocabulary is vocabulary:
            return index
    _INDEXES[:] = _INDEXES[-3:] + [CatalogIndex(catalog, vocabulary)]
    return _INDEXES[-1]


def match(
    contact: Contact,
    catalog: Sequence[Idea],
    vocabulary: Vocabulary,
    *,
    my_interests: Sequence[str],
    my_language: str,
    exchanged: Collection[str],
    purpose: str,
    limit: int = 3,
) -> list[Suggestion]:
    """At most `limit` ideas for `contact`, best first; [] when nothing shares a tag.

    Each interest of the contact scores what the idea offers it at best (its own tag 3, a synonym
    2, a related tag 1); the sum, plus common ground and the purpose's kinds, is the score.
    `exchanged` holds the ids and items of every exchange with the contact, either way. Ideas in a
    language the contact reads win outright: others are offered only when none of those matches.
    Picks are greedy: each next pick is the best idea of the kind picked least so far (a kind
    the purpose prefers before one it does not), so that three books never crowd out a matching
    podcast and course; an idea serving only interests already served loses REPEAT points. Ties
    go to the smaller id.
    """
    if purpose not in PREFERRED_KINDS:
        raise ValueError(f"purpose must be one of {', '.join(PREFERRED_KINDS)}, not {purpose!r}")
    theirs: dict[str, str] = {}  # canonical tag -> the tag as the contact has it
    for written, canonical in map(vocabulary.forms, contact.interests):
        if written:
            theirs.setdefault(canonical, written)
    if limit <= 0 or not theirs:
        return []
    near: dict[str, list[str]] = defaultdict(list)  # a related tag -> the contact's tags it is close to
    for tag in theirs:
        for other in sorted(vocabulary.related(tag)):
            near[other].append(tag)
    mine = {vocabulary.canonical(tag) for tag in my_interests}
    index = index_for(catalog, vocabulary)
    # Ideas already exchanged with them, either way (most exchanges name no catalog idea).
    done = {p for item in exchanged for p in index.by_key.get(item_key(item), ())}
    preferred = PREFERRED_KINDS[purpose]
    direct: set[int] = set()  # ideas with one of the contact's own tags
    for tag in theirs:
        direct.update(index.by_tag.get(tag, ()))
    related_tags: Counter[int] = Counter()  # other ideas: how many of their tags are related
    for tag in near.keys() - theirs.keys():
        related_tags.update(index.by_tag.get(tag, ()))
    scored = []
    for position in sorted(direct | {p for p, count in related_tags.items() if count > 1}):
        entry = index.entries[position]
        if position not in done:
            found = _score(entry, theirs, near, mine, preferred)
            if found is not None:
                scored.append(found)
    # The rest, most of the candidates, reach the contact through one related tag only: one
    # RELATED point each, serving nothing directly, so that within a kind they rank by common
    # ground and id alone and at most `limit` of a kind can be picked. Only those are scored.
    languages = reading_languages(contact, my_language)
    rank, common = index.ranks(frozenset(mine))
    loose = [p for p, count in related_tags.items()
             if count == 1 and p not in direct and p not in done]
    readable_loose = [p for p in loose if index.entries[p].idea.language in languages]
    readable = [found for found in scored if found.entry.idea.language in languages]
    if readable or readable_loose:
        scored, loose = readable, readable_loose
    per_kind: Counter[str] = Counter()
    for position in sorted(loose, key=rank.__getitem__):
        entry = index.entries[position]
        per_kind[entry.idea.kind] += 1
        if per_kind[entry.idea.kind] <= limit:
            score = RELATED + COMMON_GROUND * len(common[position])
            score += PURPOSE if entry.idea.kind in preferred else 0.0
            scored.append(_Scored(entry, score, frozenset(), (), common[position]))
    picks = [found if found.reasons else _score(found.entry, theirs, near, mine, preferred)
             for found in _varied(scored, limit, preferred)]
    return [found.suggestion() for found in picks if found]


class _Scored(NamedTuple):  # a NamedTuple: made ~400,000 times in a 10,000-contact cycle
    entry: _Entry
    score: float
    serves: frozenset[str]  # the contact's tags it serves directly (same tag or synonym)
    reasons: tuple[tuple[float, str, tuple[str, ...]], ...]  # (points, template, words), tag order
    common: tuple[str, ...]

    def suggestion(self) -> Suggestion:
        """The reason texts are made only for the ideas picked: most scored ones never are."""
        reasons = sorted(self.reasons, key=lambda reason: -reason[0])  # stable: tag order breaks ties
        why = "; ".join(template.format(*words) for _, template, words in reasons[:2])
        if self.common:
            why += "; also yours: " + ", ".join(f"#{tag}" for tag in self.common)
        return Suggestion(self.entry.idea, why, self.score)


def _score(
    entry: _Entry,
    theirs: Mapping[str, str],
    near: Mapping[str, list[str]],
    mine: Collection[str],
    preferred: Collection[str],
) -> _Scored | None:
    """What the idea scores for the contact, or None when it shares nothing with them, not even
    a related tag."""
    best: dict[str, tuple[float, str, tuple[str, ...]]] = {}  # the contact's tag -> its reason
    tags = entry.tags
    for tag in tags:
        written = theirs.get(tag)
        if written is not None:
            if written == tag or written in entry.written:
                best[tag] = (EXACT, "#{0}", (tag,))
            else:
                best[tag] = (SYNONYM, "#{0} (their #{1})", (tag, written))
    for tag in tags:  # a related tag counts once, for the first interest it is close to not yet met
        if tag in near and tag not in theirs:
            for wanted in near[tag]:
                if wanted not in best:
                    best[wanted] = (RELATED, "related to #{0} via #{1}", (wanted, tag))
                    break
    if not best:
        return None
    score, serves = 0.0, []
    for tag, reason in best.items():
        score += reason[0]
        if reason[0] > RELATED:
            serves.append(tag)
    common = tuple(tag for tag in tags if tag in mine)[:MAX_COMMON] if mine else ()
    score += COMMON_GROUND * len(common) + (PURPOSE if entry.idea.kind in preferred else 0.0)
    return _Scored(entry, score, frozenset(serves), tuple(best.values()), common)


def _varied(pool: list[_Scored], limit: int, preferred: Collection[str]) -> list[_Scored]:
    """Greedy picks by (times the kind was picked, kind not preferred, REPEAT if it serves
    nothing new − score), ties to the higher score and then the smaller id. Kept per kind, best
    first, so that a pick looks at the head of each kind instead of the whole pool."""
    by_kind: dict[str, list[_Scored]] = defaultdict(list)
    for found in sorted(pool, key=lambda found: (-found.score, found.entry.idea.id)):
        by_kind[found.entry.idea.kind].append(found)
    chosen: list[_Scored] = []
    per_kind: Counter[str] = Counter()
    served: set[str] = set()
    while len(chosen) < limit:
        pick: tuple | None = None
        for kind, ranked in by_kind.items():
            at, cost = _best_of_kind(ranked, served)
            if at < 0:
                continue
            found = ranked[at]
            key = (per_kind[kind], kind not in preferred, cost, -found.score, found.entry.idea.id)
            if pick is None or key < pick[0]:
                pick = (key, kind, at)
        if pick is None:
            break
        _, kind, at = pick
        found = by_kind[kind].pop(at)
        chosen.append(found)
        per_kind[kind] += 1
        served |= found.serves
    return chosen


def _best_of_kind(ranked: list[_Scored], served: set[str]) -> tuple[int, float]:
    """The position and cost (REPEAT if it serves nothing new, − score) of the cheapest idea
    of a list sorted best first; (-1, 0) when the list is empty. An idea's cost is at least
    −score, so the scan stops as soon as no later idea can cost less."""
    at, cost = -1, 0.0
    for position, found in enumerate(ranked):
        if at >= 0 and -found.score >= cost:
            break
        this = (REPEAT if found.serves <= served else 0.0) - found.score
        if at < 0 or this < cost:
            at, cost = position, this
    return at, cost
