"""What a follow-up proposes (pure): catalog ideas chosen from the contact's interests, the
common ground, people to introduce them to, and questions: get-to-know ones for someone whose
interests are unknown (fitting the relationship), and for an interest the catalog has nothing
on, a question about it and what to look for. The planner decides who and when; this decides
what."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from syncd import ideas, matching, questions
from syncd.ideas import IntroductionIndex, Vocabulary
from syncd.model import Contact, Exchange, FollowUp, Idea, Suggestion
from syncd.planner import GET_TO_KNOW, GIFT_REASONS
from syncd.reciprocity import item_key

# An idea given as an exchange: what kind of exchange it was.
EXCHANGE_KIND_OF_IDEA = {
    "book": "book", "course": "course", "webinar": "webinar", "event": "event",
    "podcast": "advice", "article": "advice", "tool": "gift", "other": "other",
}


@dataclass(frozen=True)
class Inspiration:
    catalog: tuple[Idea, ...]
    vocabulary: Vocabulary
    my_interests: tuple[str, ...]
    my_language: str
    per_followup: int
    exchanged: Mapping[str, frozenset[str]]  # contact uid → ids and items exchanged, either way
    introductions: IntroductionIndex
    excluded_pairs: frozenset[frozenset[str]]  # pairs already introduced
    catalog_source: object = None  # the catalog as loaded, whose identity keys the match cache

    @classmethod
    def build(cls, contacts: Sequence[Contact], exchanges: Iterable[Exchange],
              catalog: Sequence[Idea], vocabulary: Vocabulary, *, my_interests: Sequence[str],
              my_language: str, per_followup: int) -> Inspiration:
        exchanged: dict[str, set[str]] = {}
        by_name = {item_key(c.name): c.uid for c in contacts}
        pairs = set()
        for exchange in exchanges:
            exchanged.setdefault(exchange.contact_uid, set()).add(exchange.item)
            if exchange.kind == "intro" and item_key(exchange.item) in by_name:
                pairs.add(frozenset((exchange.contact_uid, by_name[item_key(exchange.item)])))
        return cls(
            tuple(catalog), vocabulary, tuple(my_interests), my_language, per_followup,
            {uid: frozenset(items) for uid, items in exchanged.items()},
            IntroductionIndex(contacts, vocabulary), frozenset(pairs), catalog,
        )

    @cached_property
    def catalog_tags(self) -> frozenset[str]:
        """Every canonical tag some catalog idea carries."""
        return frozenset(self.vocabulary.canonical(tag) for idea in self.catalog for tag in idea.tags)


def enrich(followups: Iterable[FollowUp], inspiration: Inspiration) -> list[FollowUp]:
    """Every follow-up with its ideas, common ground, introductions and questions."""
    return [_enrich(followup, inspiration) for followup in followups]


# Matches by their inputs, for the life of the process: matching scans the whole catalog
# (about 1.7 ms per follow-up), and the daemon re-plans every follow-up on each change, which
# made one edited card cost 1.7 s of matching for 1,000 follow-ups. Keyed by everything the
# result depends on; a new catalog or vocabulary object (a reload) starts afresh.
_MATCHED: dict[tuple, tuple[Suggestion, ...]] = {}
_MATCHED_FOR: list[tuple[int, int]] = [(0, 0)]


def _match(contact: Contact, purpose: str, inspiration: Inspiration) -> tuple[Suggestion, ...]:
    owner = (id(inspiration.catalog_source), id(inspiration.vocabulary))
    if _MATCHED_FOR[0] != owner or len(_MATCHED) > 200_000:
        _MATCHED.clear()
        _MATCHED_FOR[0] = owner
    exchanged = inspiration.exchanged.get(contact.uid, frozenset())
    key = (contact, purpose, exchanged, inspiration.my_interests, inspiration.my_language,
           inspiration.per_followup)
    if key not in _MATCHED:
        _MATCHED[key] = tuple(matching.match(
            contact, inspiration.catalog, inspiration.vocabulary,
            my_interests=inspiration.my_interests, my_language=inspiration.my_language,
            exchanged=exchanged, purpose=purpose, limit=inspiration.per_followup,
        ))
    return _MATCHED[key]


def _enrich(followup: FollowUp, inspiration: Inspiration) -> FollowUp:
    contact = followup.contact
    language = inspiration.my_language
    if followup.reason == GET_TO_KNOW or not contact.interests:
        return replace(followup, questions=tuple(questions.questions(
            language, contact.uid, relation=questions.relationship(contact))))
    # An interest the catalog has nothing on still gives something to talk about and to look for.
    vocabulary, known = inspiration.vocabulary, inspiration.catalog_tags
    unknown = [tag for tag in contact.interests if vocabulary.canonical(tag) not in known]
    asked = tuple(questions.about_tags(unknown, language, contact.uid))
    purpose = matching.GIFT if followup.reason in GIFT_REASONS else matching.SHARE
    suggestions = _match(contact, purpose, inspiration) if inspiration.per_followup else ()
    introductions = inspiration.introductions.suggest(
        contact, excluded_pairs=inspiration.excluded_pairs, limit=2
    )
    ground = ideas.common_ground(contact.interests, inspiration.my_interests,
                                 inspiration.vocabulary)
    return replace(followup, ideas=suggestions, introductions=tuple(introductions),
                   common_ground=ground, questions=asked)
