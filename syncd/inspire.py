"""What a follow-up proposes (pure): catalog ideas chosen from the contact's interests, the
common ground, people to introduce them to, and questions: get-to-know ones for someone whose
interests are unknown (fitting the relationship), and for an interest the catalog has nothing
on, a question about it and what to look for. The planner decides who and when; this decides
what."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from syncd import ideas, matching, questions
from syncd.config_types import FrozenMap
from syncd.ideas import IntroductionIndex, Vocabulary
from syncd.model import RECEIVED, Contact, Exchange, FollowUp, Idea, Proposal, Suggestion
from syncd.planner import GET_TO_KNOW, GIFT_REASONS, GIVE_BACK
from syncd.reciprocity import item_key

YEAR = dt.timedelta(days=365)  # no idea proposed to one person twice within it
LATELY = dt.timedelta(days=90)  # an idea proposed to many people in it ranks lower

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
    received: Mapping[str, tuple[str, ...]] = FrozenMap()  # contact uid → items they gave me
    proposed: Mapping[str, tuple[Proposal, ...]] = FrozenMap()  # contact uid → proposed to them
    crowded: Mapping[str, int] = FrozenMap()  # idea id → people it was proposed to lately
    today: dt.date | None = None

    @classmethod
    def build(cls, contacts: Sequence[Contact], exchanges: Iterable[Exchange],
              catalog: Sequence[Idea], vocabulary: Vocabulary, *, my_interests: Sequence[str],
              my_language: str, per_followup: int, proposed: Iterable[Proposal] = (),
              today: dt.date | None = None, excluded: Collection[str] = ()) -> Inspiration:
        """`proposed`: what follow-ups proposed (`Ledger.proposals`); `today` dates it;
        `excluded`: the contacts never suggested as an introduction (`planner.kept_out`)."""
        exchanged: dict[str, set[str]] = {}
        received: dict[str, list[Exchange]] = defaultdict(list)
        by_name = {item_key(c.name): c.uid for c in contacts}
        pairs = set()
        for exchange in exchanges:
            exchanged.setdefault(exchange.contact_uid, set()).add(exchange.item)
            if exchange.direction == RECEIVED:
                received[exchange.contact_uid].append(exchange)
            if exchange.kind == "intro" and item_key(exchange.item) in by_name:
                pairs.add(frozenset((exchange.contact_uid, by_name[item_key(exchange.item)])))
        by_contact: dict[str, list[Proposal]] = defaultdict(list)
        lately: dict[str, set[str]] = defaultdict(set)
        for proposal in proposed:
            by_contact[proposal.contact_uid].append(proposal)
            # Proposals of earlier days only: the ranking stays the same all day long.
            if today is not None and today - LATELY <= proposal.day < today:
                lately[proposal.idea_id].add(proposal.contact_uid)
        return cls(
            tuple(catalog), vocabulary, tuple(my_interests), my_language, per_followup,
            {uid: frozenset(items) for uid, items in exchanged.items()},
            IntroductionIndex([c for c in contacts if c.uid not in excluded], vocabulary),
            frozenset(pairs), catalog,
            {uid: tuple(e.item for e in sorted(found, key=lambda e: e.date, reverse=True))
             for uid, found in received.items()},
            {uid: tuple(found) for uid, found in by_contact.items()},
            FrozenMap({idea: len(people) for idea, people in sorted(lately.items())}), today,
        )

    @cached_property
    def catalog_tags(self) -> frozenset[str]:
        """Every canonical tag some catalog idea carries."""
        return frozenset(self.vocabulary.canonical(tag)
                         for idea in self.catalog for tag in idea.tags)


def enrich(followups: Iterable[FollowUp], inspiration: Inspiration) -> list[FollowUp]:
    """Every follow-up with its ideas, common ground, introductions and questions. The ideas
    one follow-up of a person takes are not proposed again in their later ones, and a follow-up
    not written yet counts what this run already gives other people as crowding (the first
    sync of a network would otherwise give everyone with the same interests the same idea)."""
    _cache_for(inspiration)
    taken: dict[str, frozenset[str]] = defaultdict(frozenset)
    crowding = _Crowding(inspiration.crowded)
    enriched = []
    for followup in followups:
        done = _enrich(followup, inspiration, taken[followup.contact.uid], crowding)
        taken[followup.contact.uid] |= {s.idea.id for s in done.ideas}
        crowding.add(followup.contact.uid, done.ideas)
        enriched.append(done)
    return enriched


class _Crowding:
    """The people each idea was proposed to lately (before today), and in this run."""

    def __init__(self, lately: Mapping[str, int]) -> None:
        self.lately = lately
        self.now: dict[str, set[str]] = defaultdict(set)

    def add(self, contact_uid: str, suggestions: Iterable[Suggestion]) -> None:
        for suggestion in suggestions:
            self.now[suggestion.idea.id].add(contact_uid)

    def get(self, idea_id: str, default: int = 0) -> int:
        now = self.now.get(idea_id)
        return self.lately.get(idea_id, default) + (len(now) if now else 0)


def occasion(followup: FollowUp, inspiration: Inspiration,
             taken: frozenset[str] = frozenset()) -> matching.Occasion:
    """What this follow-up asks of its ideas: gifts or shares, its day, the kind a give-back
    answers in, what the person gave (their taste), and the memory of proposals: the ideas it
    already shows (kept), and those shown to them in another follow-up within a year or taken
    by an earlier follow-up of this run (proposed)."""
    uid = followup.contact.uid
    reasons = (followup.reason, *followup.also)
    gift = any(reason in GIFT_REASONS for reason in reasons)
    in_kind = None
    if GIVE_BACK in reasons and followup.received:
        in_kind = matching.IN_KIND.get(followup.received[0].kind)
    mine = inspiration.proposed.get(uid, ())
    keep = tuple(p.idea_id for p in sorted(mine, key=lambda p: p.position)
                 if p.followup_uid == followup.uid and p.current)
    since = (inspiration.today or followup.due) - YEAR
    elsewhere = {p.idea_id for p in mine if p.followup_uid != followup.uid and p.day >= since}
    return matching.Occasion(matching.GIFT if gift else matching.SHARE, followup.due, in_kind,
                             inspiration.received.get(uid, ()),
                             frozenset(elsewhere | taken) - set(keep), keep)


# The matches of follow-ups already written, by their inputs, for the life of the process:
# matching costs about 1.7 ms per follow-up, and the daemon re-plans every follow-up on each
# change, which made one edited card cost 1.7 s of matching for 1,000 follow-ups. Keyed by
# everything the result depends on; the crowding counts change once a day
# (`Inspiration.build`), and a new catalog or vocabulary object (a reload) starts afresh.
_MATCHED: dict[tuple[object, ...], tuple[Suggestion, ...]] = {}
_MATCHED_FOR: list[tuple[object, ...]] = [()]
_MATCHED_MAX = 200_000  # entries before the cache starts afresh: a bound on its memory


def _cache_for(inspiration: Inspiration) -> None:
    owner = (id(inspiration.catalog_source), id(inspiration.vocabulary), inspiration.crowded)
    if _MATCHED_FOR[0] != owner or len(_MATCHED) > _MATCHED_MAX:
        _MATCHED.clear()
        _MATCHED_FOR[0] = owner


def _match(contact: Contact, wanted: matching.Occasion, inspiration: Inspiration,
           crowding: _Crowding) -> tuple[Suggestion, ...]:
    exchanged = inspiration.exchanged.get(contact.uid, frozenset())
    if not wanted.keep:  # not written yet: matched once, with this run's crowding
        return tuple(matching.match(
            contact, inspiration.catalog, inspiration.vocabulary,
            my_interests=inspiration.my_interests, my_language=inspiration.my_language,
            exchanged=exchanged, limit=inspiration.per_followup, occasion=wanted,
            crowded=crowding))  # type: ignore[arg-type]  # a Mapping's get is all it uses
    key = (contact, wanted, exchanged, inspiration.my_interests, inspiration.my_language,
           inspiration.per_followup)
    if key not in _MATCHED:
        _MATCHED[key] = tuple(matching.match(
            contact, inspiration.catalog, inspiration.vocabulary,
            my_interests=inspiration.my_interests, my_language=inspiration.my_language,
            exchanged=exchanged, limit=inspiration.per_followup, occasion=wanted,
            crowded=inspiration.crowded,
        ))
    return _MATCHED[key]


def _enrich(followup: FollowUp, inspiration: Inspiration, taken: frozenset[str],
            crowding: _Crowding) -> FollowUp:
    contact = followup.contact
    language = inspiration.my_language
    # Someone with no tags but who gave me something the catalog knows has a taste to go on.
    if followup.reason == GET_TO_KNOW or not (contact.interests
                                              or inspiration.received.get(contact.uid)):
        return replace(followup, questions=tuple(questions.questions(
            language, contact.uid, relation=questions.relationship(contact))))
    # An interest the catalog has nothing on still gives something to talk about and to look for.
    vocabulary, known = inspiration.vocabulary, inspiration.catalog_tags
    unknown = [tag for tag in contact.interests if vocabulary.canonical(tag) not in known]
    asked = tuple(questions.about_tags(unknown, language, contact.uid))
    wanted = occasion(followup, inspiration, taken)
    suggestions = _match(contact, wanted, inspiration, crowding) if inspiration.per_followup else ()
    # The tags shared with others, in the contact's own words (`#vela`, not `sailing`).
    words = {canonical: written for written, canonical in
             reversed([vocabulary.forms(tag) for tag in contact.interests])}
    introductions = [replace(found, shared=tuple(words.get(tag, tag) for tag in found.shared))
                     for found in inspiration.introductions.suggest(
                         contact, excluded_pairs=inspiration.excluded_pairs, limit=2)]
    ground = ideas.common_ground(contact.interests, inspiration.my_interests,
                                 inspiration.vocabulary)
    return replace(followup, ideas=suggestions, introductions=tuple(introductions),
                   common_ground=ground, questions=asked)
