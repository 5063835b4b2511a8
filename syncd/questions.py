"""Questions a follow-up asks (pure, apart from reading the shipped bank once).

- `questions` picks get-to-know questions for a contact with no tags, fitting the relationship:
  family and close friends are not asked about their work or their field.
- `about_tags` asks about interests the catalog has nothing on, and says what to look for.

The bank is `syncd/data/questions.yaml` (package data).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TypeVar

import yaml

from syncd.config_types import FrozenMap
from syncd.interests import group_key
from syncd.model import Contact

_T = TypeVar("_T")


@dataclass(frozen=True)
class Question:
    text: str
    work: bool = False  # assumes a job or a field: not for family and close friends


@dataclass(frozen=True)
class Bank:
    get_to_know: Mapping[str, tuple[Question, ...]]
    about_a_tag: Mapping[str, tuple[str, ...]]
    look_for: Mapping[str, str]


def _question(entry: object) -> Question:
    if isinstance(entry, Mapping):
        return Question(str(entry["text"]), bool(entry.get("work", False)))
    return Question(str(entry))


@cache
def shipped_bank() -> Bank:
    text = resources.files("syncd").joinpath("data/questions.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return Bank(
        FrozenMap({code: tuple(map(_question, items))
                   for code, items in data["get_to_know"].items()}),
        FrozenMap({code: tuple(map(str, items)) for code, items in data["about_a_tag"].items()}),
        FrozenMap({code: str(line) for code, line in data["look_for"].items()}),
    )


def question_bank() -> Mapping[str, tuple[str, ...]]:
    """The shipped get-to-know questions by language, as text."""
    return FrozenMap({code: tuple(q.text for q in items)
                      for code, items in shipped_bank().get_to_know.items()})


# --- the relationship -----------------------------------------------------------------------

# CATEGORIES that say a person is family or a close friend (compared like groups: case, spaces
# and punctuation aside), in English and Italian.
FAMILY_GROUPS = frozenset(map(group_key, (
    "Family", "Famiglia", "Relatives", "Parenti", "Parents", "Genitori", "Kin",
)))
CLOSE_GROUPS = frozenset(map(group_key, (
    "Close friends", "Best friends", "Amici stretti", "Amici intimi", "Migliori amici", "Intimi",
)))
# RFC 6350 RELATED types that make someone family or close (when a card links them to me).
KIN_TYPES = frozenset({"parent", "child", "sibling", "spouse", "kin", "sweetheart"})

FAMILY = "family"
CLOSE = "close"
OTHER = "other"


def relationship(contact: Contact, kinship: Iterable[str] = ()) -> str:
    """`family`, `close` (a close friend) or `other`, from the contact's CATEGORIES and, when
    known, the RFC 6350 RELATED types (`kinship`) that link their card to me."""
    keys = {group_key(category) for category in contact.categories}
    if keys & FAMILY_GROUPS or {kind.strip().lower() for kind in kinship} & KIN_TYPES:
        return FAMILY
    if keys & CLOSE_GROUPS:
        return CLOSE
    return OTHER


# --- picking --------------------------------------------------------------------------------


def _in(by_language: Mapping[str, _T], language: str) -> _T | None:
    """The entry for `language` (`it`, `it-IT`, `it_IT`), else the English one."""
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return by_language.get(code) or by_language.get("en")


def _rank(seed: str, text: str) -> bytes:
    return hashlib.sha256(f"{seed}\0{text}".encode()).digest()


def questions(
    language: str,
    seed: str,
    count: int = 3,
    *,
    bank: Mapping[str, Sequence[str | Question]] | None = None,
    relation: str = OTHER,
) -> list[str]:
    """`count` questions in `language` (English when there are none in it), the same ones for the
    same `seed` (e.g. the contact's uid) on every run and every machine; none about work for
    family and close friends (`relation`)."""
    pool: Sequence[str | Question] = _in(shipped_bank().get_to_know if bank is None else bank,
                                         language) or ()
    chosen = [q if isinstance(q, Question) else Question(q) for q in pool]
    if relation in (FAMILY, CLOSE):
        chosen = [q for q in chosen if not q.work]
    chosen.sort(key=lambda q: _rank(seed, q.text))
    return [q.text for q in chosen[: max(count, 0)]]


def about_tags(tags: Iterable[str], language: str, seed: str, *, limit: int = 2,
               bank: Bank | None = None) -> list[str]:
    """For each of the first `limit` tags, one question about it and a line on what to look for:
    `What got you into kitesurfing?`, `Look for: books, courses or events on kitesurfing near
    you`. The tags are written as they are, dashes as spaces."""
    bank = bank or shipped_bank()
    forms = _in(bank.about_a_tag, language) or ()
    hint = _in(bank.look_for, language)
    lines: list[str] = []
    for tag in list(dict.fromkeys(t for t in tags if t))[: max(limit, 0)]:
        words = tag.replace("-", " ").replace("_", " ")
        if forms:
            form = min(forms, key=lambda f: _rank(f"{seed}\0{tag}", f))
            lines.append(form.format(tag=words))
        if hint:
            lines.append(hint.format(tag=words))
    return lines
