"""Interest tags from what people already write on a card (pure).

Tags come from `#hashtags` in NOTE, from NOTE lines that start with a marker
(`Interests: sailing, leadership`), from CATEGORIES and from the RFC 6715 properties INTEREST,
HOBBY and EXPERTISE. Each is normalised (NFKC, casefold, spaces to `-`) and mapped through the
synonyms, so `#Vela`, `vela` and `Sailing` can all end as `sailing`.

CATEGORIES are mostly groups (how the person files people: Family, Work, myContacts), not what
the contact cares about: a category is an interest only when it is not a group (`GROUPS`, the
cadence groups of the configuration and `tags.not_interests`). The categories themselves stay
on the contact untouched; the planner's cadences read them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace

from syncd.model import Contact

# A hashtag starts after the beginning of the text, whitespace or opening punctuation, so that
# URL fragments (`https://x/#top`) and `C#` are not tags; it holds Unicode letters, digits,
# `-` and `_`, and must start with a letter or digit. One without any letter (`#1`, `#2024`)
# is a number, not a tag.
_HASHTAG = re.compile(r"(?:^|(?<=[\s(\[{,;:!?\"'«]))#([^\W_][\w-]*)", re.UNICODE)
_LETTER = re.compile(r"[^\W\d_]")
_SPACES = re.compile(r"\s+")
# A NOTE list: `a, b; c / d`, and the whole words "and", "e" (Italian) and a spaced "&" between
# items ("vela, fotografia e vino"). `R&B` keeps its `&`; a phrase the vocabulary knows as one
# tag ("drum and bass", if it does) is not split.
_LIST_SEPARATORS = re.compile(r"[,;/]")
_LIST_WORDS = re.compile(r"\s+(?:and|e|&)\s+", re.IGNORECASE)
_NOT_A_KEY = re.compile(r"[\W_]+")

# Groups that address book apps create or offer by default, so that a card in them says how it
# is filed, not what the person likes (looked up 2026-12):
# - Google Contacts: the People API system groups contactGroups/myContacts, starred, friends,
#   family, coworkers, chatBuddies, all, blocked; its exports write them as `myContacts`,
#   `starred` (CSV: `* myContacts`, `* starred`), `Friends`, `Family`, `Coworkers`.
# - Outlook's Master Category List (Outlook 2003 help: "general categories such as Business,
#   Personal, and Phone Calls"; "Business, Key Customer, and Strategies"), which Evolution ships
#   as its default categories (evolution-data-server e-categories.c): Anniversary, Birthday,
#   Business, Competition, Favorites, Gifts, Goals/Objectives, Holiday, Holiday Cards, Hot
#   Contacts, Ideas, International, Key Customer, Miscellaneous, Personal, Phone Calls, Status,
#   Strategies, Suppliers, Time & Expenses, VIP, Waiting; Outlook 2007 and later name its colour
#   categories "Red Category", "Blue Category" and so on.
# - GroupWise's default categories: Follow-Up, Low Priority, Personal, Urgent.
# - Apple Contacts has no default group; its exports put the person's own groups in
#   CATEGORIES (iOS's Favorites and iCloud's "All Contacts" / "Card" are listed to be safe).
# - Android phone books (Samsung and others): Family, Friends, Co-workers, ICE (In Case of
#   Emergency), Work.
# - Common Italian forms of the same: Famiglia, Amici, Lavoro, Colleghi, Preferiti, Personale,
#   Contatti, Clienti, Fornitori.
# Compared without case, spaces or punctuation: `myContacts`, `my contacts`, `* myContacts`.
KNOWN_GROUPS = (
    "myContacts", "My Contacts", "starred", "Starred in Android", "Friends", "Family",
    "Coworkers", "Co-workers", "chatBuddies", "all", "blocked", "Other Contacts", "Contacts",
    "All Contacts", "All iCloud", "Card", "Favorites", "Favourites",
    "Anniversary", "Birthday", "Business", "Competition", "Gifts", "Goals/Objectives", "Holiday",
    "Holiday Cards", "Holiday Card List", "Hot Contacts", "Ideas", "International",
    "Key Customer", "Miscellaneous", "Personal", "Phone Calls", "Status", "Strategies",
    "Suppliers", "Time & Expenses", "VIP", "Waiting",
    "Red Category", "Orange Category", "Yellow Category", "Green Category", "Blue Category",
    "Purple Category", "Follow-Up", "Low Priority", "Urgent",
    "ICE", "Work", "Colleagues", "Close Friends", "Imported", "Last Import",
    "Famiglia", "Amici", "Amici stretti", "Lavoro", "Colleghi", "Preferiti", "Personale",
    "Contatti", "I miei contatti", "Clienti", "Fornitori",
)


def normalise(tag: str) -> str:
    """`  Machine  Learning ` → `machine-learning`; `#Vela` → `vela`."""
    text = unicodedata.normalize("NFKC", tag).casefold().strip().lstrip("#").strip()
    return _SPACES.sub("-", text).strip("-_")


def group_key(name: str) -> str:
    """A group name compared without case, spaces or punctuation: `* myContacts` → `mycontacts`."""
    return _NOT_A_KEY.sub("", normalise(name))


_KNOWN_GROUP_KEYS = frozenset(map(group_key, KNOWN_GROUPS))


def group_keys(extra: Iterable[str] = ()) -> frozenset[str]:
    """The keys of the known groups and of `extra` group names (the cadence categories)."""
    return _KNOWN_GROUP_KEYS | {key for key in map(group_key, extra) if key}


def normalise_synonyms(synonyms: Mapping[str, str]) -> dict[str, str]:
    return {normalise(alias): normalise(tag) for alias, tag in synonyms.items()}


def hashtags(text: str) -> list[str]:
    found = (match.rstrip("-_") for match in _HASHTAG.findall(text))
    return [tag for tag in found if _LETTER.search(tag)]


def split_list(text: str, known: Collection[str] = ()) -> list[str]:
    """The items of a NOTE list: `sailing; chess / jazz` → three, `vela, fotografia e vino` →
    three. An item whose normalised form is in `known` (tags and aliases of the vocabulary) is
    kept whole even if it holds "and" or "e"."""
    items: list[str] = []
    for part in _LIST_SEPARATORS.split(text):
        if not part.strip():
            continue
        if known and normalise(part) in known:
            items.append(part)
            continue
        items.extend(piece for piece in _LIST_WORDS.split(part) if piece.strip())
    return items


def marker_values(note: str, markers: Iterable[str], known: Collection[str] = ()) -> list[str]:
    """The list items after any `Marker:` at the start of a NOTE line (see `split_list`)."""
    wanted = tuple(normalise(marker) for marker in markers)
    values: list[str] = []
    for line in note.splitlines():
        head, colon, rest = line.partition(":")
        if colon and normalise(head) in wanted:
            values.extend(split_list(rest, known))
    return values


def extract(
    contact: Contact,
    markers: Iterable[str],
    synonyms: Mapping[str, str],
    *,
    groups: Collection[str] | None = None,
    not_interests: Collection[str] = (),
    known: Collection[str] | None = None,
) -> tuple[str, ...]:
    """Every interest tag of a contact, normalised and deduplicated (`#vela` and `#sailing` are
    one interest), in the order and the words first written: an Italian follow-up shows `#vela`
    as the person wrote it; matching reads it as `sailing` (`Vocabulary.forms`).

    `synonyms` must already be normalised (see `normalise_synonyms`); `groups` are group keys
    (`group_keys`; None: the known groups only): a category among them is not an interest;
    `not_interests` are normalised tags that are never interests, wherever written (compared
    before and after synonyms); `known` the tags and aliases a NOTE list keeps whole
    (`known_tags(synonyms)`, made once per address book by `with_interests`)."""
    groups = _KNOWN_GROUP_KEYS if groups is None else groups
    known = known_tags(synonyms) if known is None else known
    raw = [
        *hashtags(contact.note),
        *marker_values(contact.note, markers, known),
        *(category for category in contact.categories if group_key(category) not in groups),
        *contact.declared_interests,
    ]
    tags: dict[str, str] = {}  # canonical -> as first written
    for value in raw:
        tag = normalise(value)
        if not tag or tag in not_interests:
            continue
        canonical = synonyms.get(tag, tag)
        if canonical not in not_interests:
            tags.setdefault(canonical, tag)
    return tuple(tags.values())


def known_tags(synonyms: Mapping[str, str]) -> frozenset[str]:
    """Every alias and tag of the (normalised) synonyms."""
    return frozenset(synonyms.keys() | set(synonyms.values()))


def with_interests(
    contacts: Iterable[Contact],
    markers: Iterable[str],
    synonyms: Mapping[str, str],
    *,
    groups: Iterable[str] = (),
    not_interests: Iterable[str] = (),
) -> list[Contact]:
    """The contacts with their `interests`; `groups` are more group names than the known ones
    (the cadence categories of `rules.keep_in_touch.categories`), `not_interests` the
    configuration's `tags.not_interests`."""
    markers = tuple(markers)
    table = normalise_synonyms(synonyms)
    keys = group_keys(groups)
    excluded = frozenset(tag for tag in map(normalise, not_interests) if tag)
    known = known_tags(table)
    return [replace(c, interests=extract(c, markers, table, groups=keys, not_interests=excluded,
                                         known=known))
            for c in contacts]


def common_ground(contact_tags: Iterable[str], my_tags: Iterable[str]) -> tuple[str, ...]:
    """Tags shared with me, in the contact's order. Both sides already normalised."""
    mine = set(my_tags)
    return tuple(tag for tag in contact_tags if tag in mine)
