"""The indexed matcher against a plain full scan of the catalog: the scan below is the definition
of a candidate's score (syncd.matching's docstring), kept here as the reference. The index, and
looking at related-tag ideas only when the direct ones are too few, must give exactly the
candidates, scores and picks that scanning everything gives."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from syncd import matching
from syncd.catalog import load_catalog, load_vocabulary
from syncd.matching import (COMMON_GROUND, EXACT, MAX_COMMON, PREFERRED_KINDS, PURPOSE, RELATED,
                            SYNONYM, Occasion, candidates, match, pick, title_key)
from syncd.model import Contact

CATALOG = load_catalog([])
VOCABULARY = load_vocabulary({"barca": "sailing"}, {"sailing": ["travel"]})
TAGS = sorted({tag for idea in CATALOG for tag in idea.tags} | set(VOCABULARY.synonyms))


def reference_scores(contact: Contact, *, my_interests, exchanged, occasion) -> dict[str, float]:
    """Every idea that may be proposed, by id, with its score: each interest of the contact
    scores what the idea offers it at best (its own tag 3, a synonym 2, a related tag 1), plus
    common ground and a kind of the purpose; never an exchanged idea, a share for a gift, or an
    event out of season."""
    theirs: dict[str, str] = {}
    for tag in contact.interests:
        written, canonical = VOCABULARY.forms(tag)
        if written:
            theirs.setdefault(canonical, written)
    mine = {VOCABULARY.canonical(tag) for tag in my_interests}
    done = {title_key(item) for item in exchanged}
    scores = {}
    for idea in CATALOG:
        if matching.idea_keys(idea) & done or not matching._fits(idea, occasion):
            continue
        forms = [VOCABULARY.forms(tag) for tag in idea.tags]
        tags = list(dict.fromkeys(canonical for _, canonical in forms))
        best: dict[str, float] = {}
        for tag in tags:
            if tag in theirs:
                direct = theirs[tag] == tag or theirs[tag] in {w for w, _ in forms}
                best[tag] = EXACT if direct else SYNONYM
        for tag in tags:
            if tag in theirs:
                continue
            for wanted in theirs:  # in the order of the card
                if tag in VOCABULARY.related(wanted) and wanted not in best:
                    best[wanted] = RELATED
                    break
        if best:
            common = [tag for tag in tags if tag in mine][:MAX_COMMON]
            scores[idea.id] = (sum(best.values()) + COMMON_GROUND * len(common)
                               + (PURPOSE if idea.kind in PREFERRED_KINDS[occasion.purpose] else 0))
    return scores


def _check(contact: Contact, limit: int, **options) -> list:
    pool = candidates(contact, CATALOG, VOCABULARY, my_language="en", **options)
    expected = reference_scores(contact, **options)
    assert {c.idea.id: round(c.score, 6) for c in pool} == {
        i: round(s, 6) for i, s in expected.items()}
    picks = match(contact, CATALOG, VOCABULARY, my_language="en", limit=limit, **options)
    assert picks == [c.suggestion() for c in pick(pool, limit, options["occasion"])]
    return picks


@settings(max_examples=120, deadline=None)
@given(
    tags=st.lists(st.sampled_from(TAGS), max_size=6),
    mine=st.lists(st.sampled_from(TAGS), max_size=3),
    given_away=st.lists(st.sampled_from(CATALOG), max_size=20),
    purpose=st.sampled_from(sorted(PREFERRED_KINDS)),
    in_kind=st.sampled_from([None, "book", "course", "event"]),
    month=st.integers(1, 12),
    limit=st.integers(0, 6),
)
def test_the_indexed_matcher_agrees_with_the_full_scan(tags, mine, given_away, purpose, in_kind,
                                                       month, limit):
    contact = Contact("u", "U", "s", interests=tuple(tags))
    occasion = Occasion(purpose, dt.date(2026, month, 1), in_kind)
    _check(contact, limit, my_interests=mine, exchanged=[i.title for i in given_away],
           occasion=occasion)


def test_two_hundred_generated_address_book_contacts_match_alike():
    rng = random.Random(11)
    for n in range(200):
        contact = Contact(f"u{n}", "U", "s", interests=tuple(rng.sample(TAGS, rng.randint(1, 5))))
        occasion = Occasion(rng.choice(sorted(PREFERRED_KINDS)), dt.date(2026, rng.randint(1, 12), 1))
        picks = _check(contact, 3, my_interests=["sailing", "history"], exchanged=[],
                       occasion=occasion)
        assert picks, contact.interests  # every tag of the catalog finds something
