"""Interest tags from what people already write on a card (pure).

Tags come from `#hashtags` in NOTE, from NOTE lines that start with a marker
(`Interests: sailing, leadership`), from CATEGORIES and from the RFC 6715 properties INTEREST,
HOBBY and EXPERTISE. Each is normalised (NFKC, casefold, spaces to `-`) and mapped through the
synonyms, so `#Vela`, `vela` and `Sailing` can all end as `sailing`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import replace

from syncd.model import Contact

# A hashtag starts after the beginning of the text, whitespace or opening punctuation, so that
# URL fragments (`https://x/#top`) and `C#` are not tags; it holds Unicode letters, digits,
# `-` and `_`, and must start with a letter or digit.
_HASHTAG = re.compile(r"(?:^|(?<=[\s(\[{,;:!?\"'«]))#([^\W_][\w-]*)", re.UNICODE)
_SPACES = re.compile(r"\s+")


def normalise(tag: str) -> str:
    """`  Machine  Learning ` → `machine-learning`; `#Vela` → `vela`."""
    text = unicodedata.normalize("NFKC", tag).casefold().strip().lstrip("#").strip()
    return _SPACES.sub("-", text).strip("-_")


def normalise_synonyms(synonyms: Mapping[str, str]) -> dict[str, str]:
    return {normalise(alias): normalise(tag) for alias, tag in synonyms.items()}


def hashtags(text: str) -> list[str]:
    return [match.rstrip("-_") for match in _HASHTAG.findall(text)]


def marker_values(note: str, markers: Iterable[str]) -> list[str]:
    """The comma list after any `Marker:` at the start of a NOTE line."""
    wanted = tuple(normalise(marker) for marker in markers)
    values: list[str] = []
    for line in note.splitlines():
        head, colon, rest = line.partition(":")
        if colon and normalise(head) in wanted:
            values.extend(part for part in rest.split(",") if part.strip())
    return values


def extract(contact: Contact, markers: Iterable[str], synonyms: Mapping[str, str]) -> tuple[str, ...]:
    """Every tag of a contact, normalised and deduplicated, in the order first written.

    `synonyms` must already be normalised (see `normalise_synonyms`)."""
    raw = [
        *hashtags(contact.note),
        *marker_values(contact.note, markers),
        *contact.categories,
        *contact.declared_interests,
    ]
    tags: dict[str, None] = {}
    for value in raw:
        tag = normalise(value)
        if tag:
            tags.setdefault(synonyms.get(tag, tag), None)
    return tuple(tags)


def with_interests(
    contacts: Iterable[Contact], markers: Iterable[str], synonyms: Mapping[str, str]
) -> list[Contact]:
    markers = tuple(markers)
    table = normalise_synonyms(synonyms)
    return [replace(c, interests=extract(c, markers, table)) for c in contacts]


def common_ground(contact_tags: Iterable[str], my_tags: Iterable[str]) -> tuple[str, ...]:
    """Tags shared with me, in the contact's order. Both sides already normalised."""
    mine = set(my_tags)
    return tuple(tag for tag in contact_tags if tag in mine)
