"""Which language a contact reads (pure): vCard LANG, else the language their card is written in,
else mine.

No exporter writes LANG, so for most cards the language is guessed from what the person typed:
the NOTE's words and the tags. Only English and Italian are told apart (the languages of the
catalog). A few common function words decide for free text; a tag counts as English when it is
written as one of the catalog's own (English) tags, and as Italian when another word of it has
an ending of Italian nouns and verbs that English tags lack (`vela`, `fotografia`,
`musica-jazz`, `cucinare`). A tie, or nothing to go on, is "unknown". It is a guess, and weighs
only the order of ideas: a direct match in another language is never dropped for it.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable

from syncd.model import Contact

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_ITALIAN_WORDS = frozenset("""
    il lo la gli le di da del della dei delle dello nel nella negli nelle al alla ai alle col
    con per tra fra che chi non più anche molto sono siamo è ha hanno ho mi ti ci si suo sua
    suoi sue mio mia un una uno ed o ma come dove quando ama adora piace piacciono appassionato
    appassionata appassionati passione figlio figlia moglie marito collega amico amica sempre
    lavora vive ogni anni
""".split())  # noqa: SIM905 (a list of words reads best as text)
_ENGLISH_WORDS = frozenset("""
    the a an and of to in on at for with from by is are was has have he she they his her
    their loves likes enjoys into fan very also who works lives son daughter wife husband
    colleague friend always every years
""".split())  # noqa: SIM905 (a list of words reads best as text)
_SHORT_WORD = 2  # letters; "la", "in": too short for an ending to tell the language
# Endings of Italian nouns that English tags do not have (an alias ending so is Italian).
_ITALIAN_ENDING = re.compile(r"(?:[aio]|ione|ioni|are|ere|ire|ale|ali|ente|enti|ismo|ismi)$")


def reading_language(contact: Contact, tags: Iterable[tuple[str, str]], my_language: str,
                     known: Container[str] = ()) -> str:
    """ISO 639-1 code of the language the contact reads: the first vCard LANG (`it-IT` → `it`),
    else the language of their card (`card_language`), else `my_language`. `tags` are the
    contact's interests as (written, canonical) pairs (`Vocabulary.forms`), `known` the
    catalog's tags."""
    for value in contact.languages:
        code = value.strip().lower().replace("_", "-").split("-")[0]
        if code:
            return code
    return card_language(contact.note, tags, known) or my_language.lower()


def card_language(note: str, tags: Iterable[tuple[str, str]],
                  known: Container[str] = ()) -> str | None:
    """"it" or "en" when the card's own words say so, else None."""
    italian = english = 0
    for word in _WORD.findall(note.casefold()):
        word = word.replace("’", "'")
        if word in _ITALIAN_WORDS or word.startswith(("l'", "un'", "dell'", "all'", "nell'")):
            italian += 1
        elif word in _ENGLISH_WORDS:
            english += 1
    for written, canonical in tags:
        if written == canonical and written in known:
            english += 1
        elif any(_ITALIAN_ENDING.search(word) for word in written.split("-")
                 if len(word) > _SHORT_WORD):
            italian += 1
    if italian > english:
        return "it"
    if english > italian:
        return "en"
    return None
