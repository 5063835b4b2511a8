"""The words of a follow-up, in English and in Italian (pure: values in, text out).

Everything a follow-up says in syncd's own voice comes from `TEXT`: an Italian follow-up has no
English word of syncd's (the tags are the person's own words and the titles are names). Dates
carry their article in Italian ("l'8 dicembre", "l'11 marzo", "il 1º maggio") and no sentence
assumes the contact's gender ("le sue passioni", never "gli sta a cuore").

The reasons matching.py gives for an idea (`Suggestion.why`) are English phrases built from a
few patterns; `why` says them in the follow-up's language from those patterns (see `_WHY`). A
part of a reason that no pattern knows is left out of an Italian follow-up rather than shown in
English.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from syncd.model import Idea

TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "summary": {
            "keep-in-touch": "Get in touch with {name}",
            "birthday": "Birthday: {name} {date}",
            "anniversary": "Anniversary: {name} {date}",
            "give-back": "Give back to {name}",
            "get-to-know": "Get to know {name}",
        },
        "why": {
            "keep-in-touch": "It has been a while: time to catch up with {name}.",
            "birthday": "{name}'s birthday is {date}.",
            "anniversary": "{name}'s anniversary is {date}.",
            "give-back": "{name} gave you something: time to give back.",
            "get-to-know": "You know little about {name} yet: find out what they care about.",
        },
        "received": "Received",
        "received_item": "{kind} “{item}” {date}",
        "balance": "Balance: {balance} owed",
        "interests": "Interests",
        "common_ground": "Common ground",
        "ideas": "Ideas",
        "introductions": "Introductions",
        "introduce": "introduce {name}: both {tags}",
        "questions": "Questions",
        "phone": "Phone",
        "email": "Email",
        "months": "January February March April May June July August September October "
        "November December",
        "kinds": {},  # the kinds as the ledger and the catalog name them
        "idea_kinds": {},
        # How to tell syncd what was given: a NOTE-style line (reciprocity.given_lines).
        "record": "Gave one of these? Before ticking it off, add a line such as "
                  "gave: book \"Title\", or delete the other ideas.",
        "record_one": "Before ticking it off, add a line such as gave: book \"Title\" to "
                      "record what you gave.",
    },
    "it": {
        "summary": {
            "keep-in-touch": "Fatti sentire con {name}",
            "birthday": "Compleanno di {name} {date}",
            "anniversary": "Anniversario di {name} {date}",
            "give-back": "Ricambia {name}",
            "get-to-know": "Conosci meglio {name}",
        },
        "why": {
            "keep-in-touch": "È passato un po' di tempo: è ora di risentire {name}.",
            "birthday": "Il compleanno di {name} è {date}.",
            "anniversary": "L'anniversario di {name} è {date}.",
            "give-back": "{name} ti ha dato qualcosa: è ora di ricambiare.",
            "get-to-know": "Sai ancora poco di {name}: scopri quali sono le sue passioni.",
        },
        "received": "Ricevuto",
        "received_item": "{kind} “{item}” {date}",
        "balance": "Saldo: {balance} da ricambiare",
        "kinds": {
            "book": "libro", "gift": "regalo", "webinar": "webinar", "course": "corso",
            "event": "evento", "intro": "presentazione", "advice": "consiglio",
            "favour": "favore", "meal": "pranzo o cena", "other": "altro",
        },
        "idea_kinds": {
            "book": "libro", "webinar": "webinar", "course": "corso", "event": "evento",
            "podcast": "podcast", "tool": "strumento", "article": "articolo", "other": "altro",
        },
        "interests": "Interessi",
        "common_ground": "In comune",
        "ideas": "Idee",
        "introductions": "Presentazioni",
        "introduce": "presenta {name}: in comune {tags}",
        "questions": "Domande",
        "phone": "Telefono",
        "email": "Email",
        "months": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre "
        "novembre dicembre",
        "record": "Hai dato una di queste idee? Prima di spuntarla aggiungi una riga come "
                  "dato: libro \"Titolo\", oppure cancella le altre idee.",
        "record_one": "Prima di spuntarla aggiungi una riga come dato: libro \"Titolo\" per "
                      "registrare che cosa hai dato.",
    },
}
LANGUAGES = tuple(TEXT)


_MONTHS = 12


def month_name(month: int, language: str) -> str:
    return str(TEXT[language]["months"].split()[month - 1])


def format_date(day: dt.date, language: str, *, year: bool = False) -> str:
    """The date alone: "December 8" / "8 dicembre", with the year when asked."""
    month = month_name(day.month, language)
    if language == "it":
        number = "1º" if day.day == 1 else str(day.day)
        return f"{number} {month}" + (f" {day.year}" if year else "")
    return f"{month} {day.day}" + (f", {day.year}" if year else "")


def on_date(day: dt.date, language: str, *, year: bool = False) -> str:
    """The date as a sentence says "on" it: "on December 8"; in Italian with its article,
    "l'8 dicembre", "l'11 marzo", "il 1º maggio", "il 2 giugno" (otto and undici start with a
    vowel; no other day of a month does)."""
    text = format_date(day, language, year=year)
    if language == "it":
        return ("l'" if day.day in (8, 11) else "il ") + text
    return "on " + text


def number(value: float, language: str) -> str:
    text = f"{value:g}"
    return text.replace(".", ",") if language == "it" else text


def kind_name(kind: str, language: str) -> str:
    """An exchange kind (model.EXCHANGE_KINDS) in the follow-up's language."""
    return str(TEXT[language]["kinds"].get(kind, kind))


def idea_title(idea: Idea, language: str) -> str:
    """The title of its verified edition in the follow-up's language, else its own."""
    title_in = getattr(idea, "title_in", None)
    return title_in(language) if callable(title_in) else idea.title


def idea_link(idea: Idea) -> str | None:
    """Where to act on the idea (`Idea.link`: its page, else a book's Open Library page)."""
    return getattr(idea, "link", None) or idea.url


def idea_line(idea: Idea, why_text: str, language: str) -> str:
    """"- Into Thin Air (book, Jon Krakauer): #mountaineering — https://…"; an event also says
    when and where it usually is ("evento, …, ottobre, Trieste")."""
    kind = TEXT[language]["idea_kinds"].get(idea.kind, idea.kind)
    facts = [kind, *([idea.by] if idea.by else [])]
    months = tuple(getattr(idea, "months", ()) or ())
    if idea.kind == "event" and months:
        facts.append(_and(language, [month_name(m, language) for m in sorted(set(months))
                                      if 1 <= m <= _MONTHS]))
    city = getattr(idea, "city", None)
    city = _CITIES.get(language, {}).get(city or "", city)
    if idea.kind == "event" and city and city not in idea.by:
        facts.append(city)
    line = f"- {idea_title(idea, language)} ({', '.join(f for f in facts if f)})"
    if why_text:
        line += f": {why_text}"
    link = idea_link(idea)
    return f"{line} — {link}" if link else line


# The catalog writes some Italian cities by their English names; an Italian follow-up says them
# in Italian (and an English one keeps the catalog's).
_CITIES = {"it": {"Rome": "Roma", "Milan": "Milano", "Turin": "Torino", "Venice": "Venezia",
                  "Florence": "Firenze", "Naples": "Napoli", "Genoa": "Genova",
                  "Padua": "Padova", "Syracuse": "Siracusa"}}


def _and(language: str, words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + (" e " if language == "it" else " and ") + words[-1]


# The patterns of matching.py's reasons (matching._score, _Scored.suggestion): a part each,
# "; " between parts. Each maps a match to the Italian words; None leaves the part out.
_TAG = r"#[^\s,;()]+"
_WHY: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]]] = [
    (re.compile(rf"({_TAG})"), lambda m: m[1]),
    # Their own word for it: an Italian reader sees the tag as the contact wrote it.
    (re.compile(rf"({_TAG}) \(their ({_TAG})\)"), lambda m: m[2]),
    # The related tag is the catalog's (an English slug): the contact's own tag says enough.
    (re.compile(rf"related to ({_TAG}) via ({_TAG})"), lambda m: f"affine a {m[1]}"),
    (re.compile(rf"also yours: ({_TAG}(?:, {_TAG})*)"), lambda m: f"in comune: {m[1]}"),
    # Something they gave me: their taste (the item as it was logged).
    (re.compile(rf"({_TAG}), like “(.+)”"), lambda m: f"{m[1]}, come “{m[2]}”"),
]


def why(text: str, language: str) -> str:
    """A suggestion's reason in the follow-up's language."""
    if language == "en" or not text:
        return text
    parts = []
    for part in text.split("; "):
        for pattern, say in _WHY:
            found = pattern.fullmatch(part.strip())
            if found:
                said = say(found)
                if said:
                    parts.append(said)
                break
    return "; ".join(parts)


# The English words of matching's reasons (matching.Candidate.why) and of the kinds and shapes.
_REASON_WORDS = frozenset({"book", "event", "course", "tool", "article", "other", "gift", "share",
                           "related", "via", "also", "yours", "their", "on", "and", "ticked",
                           "free", "like"})


def english_only_words() -> frozenset[str]:
    """syncd's own English words that an Italian follow-up must not hold: every word of the
    English texts that the Italian ones do not share (`a`, and the `s` of "{name}'s", are
    Italian too), the kinds, and matching's reason words (tests and bench/suggestions.py read
    Italian follow-ups against it)."""
    def words(language: str, drop_fields: bool) -> set[str]:
        found = set()
        for value in TEXT[language].values():
            for text in (value.values() if isinstance(value, dict) else [value]):
                text = re.sub(r"\{\w+\}", "", text) if drop_fields else text
                found.update(re.findall(r"[^\W\d_]+", text.lower()))
        return found
    return frozenset((words("en", True) - words("it", False) - {"a", "s"}) | _REASON_WORDS)
