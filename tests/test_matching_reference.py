"""The optimised matcher against the plain one it replaced: the full scan of the catalog below
is the definition of `syncd.matching.match` (score every idea, then pick greedily), kept here
as the reference. The index, the ranking of one-related-tag ideas and the per-kind picking
must give exactly the same suggestions, reasons and scores."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from syncd import matching
from syncd.catalog import load_catalog, load_vocabulary
from syncd.ideas import Vocabulary
from syncd.matching import (COMMON_GROUND, EXACT, MAX_COMMON, PREFERRED_KINDS, PURPOSE, RELATED,
                            REPEAT, SYNONYM)
from syncd.model import Contact, Idea, Suggestion

def reference_match(
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
    done = {matching.item_key(item) for item in exchanged}
    preferred = PREFERRED_KINDS[purpose]
    reach = theirs.keys() | near.keys()
    scored = []
    for idea in catalog:
        forms = [vocabulary.forms(tag) for tag in idea.tags]
        if any(canonical in reach for _, canonical in forms) and matching.idea_keys(idea).isdisjoint(done):
            found = _score(idea, forms, theirs, near, mine, preferred)
            if found is not None:
                scored.append(found)
    languages = matching.reading_languages(contact, my_language)
    readable = [found for found in scored if found[0].idea.language in languages]
    return _varied(readable or scored, limit, preferred)


def _score(
    idea: Idea,
    forms: list[tuple[str, str]],
    theirs: Mapping[str, str],
    near: Mapping[str, list[str]],
    mine: Collection[str],
    preferred: Collection[str],
) -> tuple[Suggestion, frozenset[str]] | None:
    """The suggestion and the contact's tags it serves directly (same tag or synonym), or None
    when it shares nothing with the contact, not even a related tag."""
    best: dict[str, tuple[float, str]] = {}  # the contact's tag -> (points, reason)
    raw = {written for written, _ in forms}
    tags = dict.fromkeys(canonical for _, canonical in forms)
    for tag in tags:
        if tag in theirs:
            written = theirs[tag]
            if written == tag or written in raw:
                best[tag] = (EXACT, f"#{tag}")
            else:
                best[tag] = (SYNONYM, f"#{tag} (their #{written})")
    for tag in tags:  # a related tag counts once, for the first interest it is close to not yet met
        wanted = next((w for w in near.get(tag, ()) if w not in best), None)
        if wanted is not None and tag not in theirs:
            best[wanted] = (RELATED, f"related to #{wanted} via #{tag}")
    if not best:
        return None
    common = [tag for tag in tags if tag in mine][:MAX_COMMON]
    score = sum(points for points, _ in best.values()) + COMMON_GROUND * len(common)
    score += PURPOSE if idea.kind in preferred else 0.0
    reasons = sorted(best.values(), key=lambda reason: -reason[0])  # stable: tag order breaks ties
    why = "; ".join(text for _, text in reasons[:2])
    if common:
        why += "; also yours: " + ", ".join(f"#{tag}" for tag in common)
    return Suggestion(idea, why, score), frozenset(tag for tag, (points, _) in best.items() if points > RELATED)


def _varied(
    pool: list[tuple[Suggestion, frozenset[str]]], limit: int, preferred: Collection[str]
) -> list[Suggestion]:
    chosen: list[Suggestion] = []
    per_kind: Counter[str] = Counter()
    served: set[str] = set()
    remaining = sorted(pool, key=lambda found: (-found[0].score, found[0].idea.id))

    def key(found: tuple[Suggestion, frozenset[str]]) -> tuple[int, bool, float]:
        suggestion, serves = found
        kind = suggestion.idea.kind
        repeat = REPEAT if serves <= served else 0.0  # nothing new served (or only related tags)
        return per_kind[kind], kind not in preferred, repeat - suggestion.score

    while remaining and len(chosen) < limit:
        best = min(remaining, key=key)  # min keeps the first of equals: the smaller id
        remaining.remove(best)
        chosen.append(best[0])
        per_kind[best[0].idea.kind] += 1
        served |= best[1]
    return chosen


CATALOG = load_catalog([])
VOCABULARY = load_vocabulary({"barca": "sailing"}, {"sailing": ["travel"]})
TAGS = sorted({tag for idea in CATALOG for tag in idea.tags} | set(VOCABULARY.synonyms))


@settings(max_examples=300, deadline=None)
@given(
    tags=st.lists(st.sampled_from(TAGS), max_size=6),
    languages=st.lists(st.sampled_from(["en", "it", "de", "it-IT"]), max_size=2),
    mine=st.lists(st.sampled_from(TAGS), max_size=3),
    given_away=st.lists(st.sampled_from(CATALOG), max_size=20),
    purpose=st.sampled_from(sorted(PREFERRED_KINDS)),
    limit=st.integers(0, 6),
    my_language=st.sampled_from(["en", "it"]),
)
def test_the_fast_matcher_picks_what_the_full_scan_picks(tags, languages, mine, given_away,
                                                          purpose, limit, my_language):
    contact = Contact("u", "U", "s", interests=tuple(tags), languages=tuple(languages))
    options = dict(my_interests=mine, my_language=my_language,
                   exchanged=[idea.title for idea in given_away], purpose=purpose, limit=limit)
    expected = reference_match(contact, CATALOG, VOCABULARY, **options)
    assert matching.match(contact, CATALOG, VOCABULARY, **options) == expected


def test_a_thousand_generated_address_book_contacts_match_alike():
    rng = random.Random(11)
    for n in range(1000):
        contact = Contact(f"u{n}", "U", "s", interests=tuple(rng.sample(TAGS, rng.randint(1, 5))))
        options = dict(my_interests=["sailing", "history"], my_language="en",
                       exchanged=[], purpose=rng.choice(sorted(PREFERRED_KINDS)), limit=3)
        expected = reference_match(contact, CATALOG, VOCABULARY, **options)
        assert expected, contact.interests  # every tag of the catalog finds something
        assert matching.match(contact, CATALOG, VOCABULARY, **options) == expected
