"""Coverage of the shipped catalog (issue 14, item 7): enough ideas for most interests, each
with gifts and with something in Italian, so that a contact's tag rarely comes up empty."""

from __future__ import annotations

import functools
from collections import defaultdict

from syncd.catalog import load_catalog, load_vocabulary
from syncd.model import Idea


@functools.cache
def shipped_catalog() -> list:
    """The shipped catalog, parsed once for this file (each parse costs about half a second)."""
    return load_catalog([])

MIN_ITEMS = 1200
MIN_TAGS = 150
PER_TAG, GIFTS, ITALIAN = 6, 2, 2


def _in_italian(idea: Idea) -> bool:
    """Held in Italian, or with a verified Italian edition."""
    return idea.language == "it" or "it" in dict(idea.titles)


def _by_tag(ideas: list[Idea]) -> dict[str, list[Idea]]:
    vocabulary = load_vocabulary()
    by_tag: dict[str, list[Idea]] = defaultdict(list)
    for idea in ideas:
        for tag in dict.fromkeys(vocabulary.canonical(tag) for tag in idea.tags):
            by_tag[tag].append(idea)
    return by_tag


def _shortfall(ideas: list[Idea]) -> tuple[int, dict[str, str]]:
    """How many tags meet PER_TAG ideas, GIFTS gifts and ITALIAN in Italian, and the others with
    their figures (ideas/gifts/Italian)."""
    met, short = 0, {}
    for tag, tagged in sorted(_by_tag(ideas).items()):
        gifts = sum(idea.is_gift for idea in tagged)
        italian = sum(_in_italian(idea) for idea in tagged)
        if len(tagged) >= PER_TAG and gifts >= GIFTS and italian >= ITALIAN:
            met += 1
        else:
            short[tag] = f"{len(tagged)}/{gifts}/{italian}"
    return met, short


def test_the_shipped_catalog_covers_most_tags_with_gifts_and_italian_ideas():
    ideas = shipped_catalog()
    assert len(ideas) >= MIN_ITEMS
    met, short = _shortfall(ideas)
    assert met >= MIN_TAGS, (
        f"{met} tags have {PER_TAG} ideas, {GIFTS} gifts and {ITALIAN} in Italian, not {MIN_TAGS}; "
        f"short (ideas/gifts/Italian): {short}")


def test_every_italian_title_names_the_page_that_shows_that_edition():
    ideas = shipped_catalog()
    assert sum("it" in dict(idea.titles) for idea in ideas) >= 50
    assert [idea.id for idea in ideas if "it" in dict(idea.titles) and not idea.source] == []


def test_the_coverage_count_reads_tags_through_the_vocabulary_and_counts_an_idea_once_per_tag():
    ideas = [Idea(f"b{n}", "book", f"Book {n}", "A. Author", ("sailing", "vela"), "en", isbn13="9780385494786")
             for n in range(6)]
    ideas[0] = Idea("it", "book", "Libro", "A. Autore", ("sailing",), "it", isbn13="9780385494786")
    met, short = _shortfall(ideas)
    assert (met, short) == (0, {"sailing": "6/6/1"})
    ideas[1] = Idea("t", "book", "Titled", "A. Author", ("sailing",), "en", isbn13="9780385494786",
                    titles=(("it", "Titolo"),), source=("https://example.org/edizione",))
    assert _shortfall(ideas) == (1, {})
