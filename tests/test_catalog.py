"""The catalog and vocabulary files: validation messages, and the shipped data itself."""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from syncd.catalog import VOCABULARY_FILE, load_catalog, load_vocabulary, shipped_catalog_paths
from syncd.errors import ConfigError
from syncd.ideas import question_bank
from syncd.model import IDEA_KINDS, Idea

BOOKS_USED = Path(__file__).parent / "data" / "books-used.csv"

GOOD = """\
- id: the-boat
  kind: book
  title: The Boat
  by: Jane Author
  tags: [Sailing, Machine Learning, sailing]
  language: EN
  url: https://example.org/boat
  year: 2020
  price: €25
  note: signed copy
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(*paths: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_catalog(list(paths), include_shipped=False)
    return caught.value.problems


# --- loading --------------------------------------------------------------------------------


def test_a_good_entry_loads_with_tags_normalised_and_deduplicated(tmp_path):
    [idea] = load_catalog([write(tmp_path, "mine.yaml", GOOD)], include_shipped=False)
    assert idea.id == "the-boat" and idea.kind == "book" and idea.language == "en"
    assert idea.tags == ("sailing", "machine-learning")
    assert (idea.url, idea.year, idea.price, idea.note) == ("https://example.org/boat", 2020, "€25", "signed copy")


def test_optional_keys_may_be_left_out_and_an_empty_file_has_no_ideas(tmp_path):
    text = "- {id: x, kind: podcast, title: X, by: Y, tags: [a], language: it}\n"
    [idea] = load_catalog([write(tmp_path, "a.yaml", text)], include_shipped=False)
    assert (idea.url, idea.year, idea.price, idea.note) == (None, None, None, None)
    assert load_catalog([write(tmp_path, "empty.yaml", "# nothing yet\n")], include_shipped=False) == []


def test_user_files_come_after_the_shipped_ones_and_a_file_given_twice_is_read_once(tmp_path):
    path = write(tmp_path, "mine.yaml", GOOD)
    ideas = load_catalog([path, tmp_path / "." / "mine.yaml"])
    assert ideas[-1].id == "the-boat"
    assert len(ideas) == len(load_catalog([])) + 1


# --- one message per problem, all at once ---------------------------------------------------


def test_unknown_key_with_a_suggestion(tmp_path):
    path = write(tmp_path, "c.yaml", GOOD.replace("  title:", "  titel:"))
    assert problems(path) == [
        f"{path}:1: [0].title: required key is missing",
        f"{path}:3: [0].titel: unknown key; did you mean 'title'?",
    ]


def test_missing_key_names_the_entry(tmp_path):
    path = write(tmp_path, "c.yaml", "\n" + GOOD.replace("  by: Jane Author\n", ""))
    assert problems(path) == [f"{path}:2: [0].by: required key is missing"]


def test_wrong_types(tmp_path):
    text = GOOD.replace("[Sailing, Machine Learning, sailing]", "sailing").replace("2020", "soon")
    text = text.replace("title: The Boat", "title: [The, Boat]")
    path = write(tmp_path, "c.yaml", text)
    assert problems(path) == [
        f"{path}:3: [0].title: expected text, got a list",
        f"{path}:5: [0].tags: expected a list like [a, b], got 'sailing'",
        f"{path}:8: [0].year: expected a whole number from -3000 to 2100, got 'soon'",
    ]


def test_bad_kind_language_url_id_and_empty_tags(tmp_path):
    text = (GOOD.replace("kind: book", "kind: boook").replace("language: EN", "language: italiano")
            .replace("https://example.org/boat", "ftp://example.org/boat").replace("id: the-boat", "id: The Boat")
            .replace("[Sailing, Machine Learning, sailing]", "['#']"))
    path = write(tmp_path, "c.yaml", text)
    kinds = ", ".join(IDEA_KINDS)
    assert problems(path) == [
        f"{path}:1: [0].id: 'The Boat' is not a slug; use lowercase letters, digits and '-', e.g. 'the-boat'",
        f"{path}:2: [0].kind: 'boook' is not one of {kinds}; did you mean 'book'?",
        f"{path}:5: [0].tags: needs at least one tag",
        f"{path}:6: [0].language: 'italiano' is not a two-letter ISO 639-1 language code like 'en' or 'it';"
        " did you mean 'it'?",
        f"{path}:7: [0].url: 'ftp://example.org/boat' is not an http:// or https:// URL",
    ]


def test_duplicate_id_names_both_places_across_files(tmp_path):
    first = write(tmp_path, "a.yaml", GOOD)
    second = write(tmp_path, "b.yaml", "- {id: other, kind: tool, title: T, by: B, tags: [x], language: en}\n" + GOOD)
    assert problems(first, second) == [f"{second}:2: [1].id: duplicate id 'the-boat'; first given at {first}:1"]


def test_duplicate_id_in_one_file_and_against_the_shipped_catalog(tmp_path):
    path = write(tmp_path, "a.yaml", GOOD + GOOD.replace("- id", "\n- id"))
    assert problems(path) == [f"{path}:12: [1].id: duplicate id 'the-boat'; first given at {path}:1"]
    shipped = load_catalog([])[0]
    clash = write(tmp_path, "clash.yaml", GOOD.replace("the-boat", shipped.id))
    with pytest.raises(ConfigError) as caught:
        load_catalog([clash])
    [message] = caught.value.problems
    assert message.startswith(f"{clash}:1: [0].id: duplicate id {shipped.id!r}; first given at ")
    assert re.search(r"catalog-[a-z-]+\.yaml:\d+$", message)


def test_duplicate_keys_are_refused_like_in_the_config(tmp_path):
    path = write(tmp_path, "c.yaml", GOOD + "  title: Again\n")
    assert problems(path) == [f"{path}:11: [0].title: duplicate key; first given on line 3"]


def test_alias_bombs_are_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    path = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    [message] = problems(path)
    assert "refusing to read it" in message and message.startswith(f"{path}:")


def test_a_mapping_instead_of_a_list_and_an_entry_that_is_not_a_mapping(tmp_path):
    mapping = write(tmp_path, "m.yaml", "id: x\n")
    scalar = write(tmp_path, "s.yaml", "- just a title\n")
    assert problems(mapping, scalar) == [
        f"{mapping}:1: expected a list of ideas, each starting with '- id:', got a mapping",
        f"{scalar}:1: [0]: expected a mapping of keys, got 'just a title'",
    ]


def test_every_problem_of_every_file_is_reported_at_once(tmp_path):
    syntax = write(tmp_path, "syntax.yaml", "- id: [unclosed\n")
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"- id: caf\xe9\n")
    bad = write(tmp_path, "bad.yaml", GOOD.replace("kind: book", "kind: boook"))
    found = problems(syntax, tmp_path / "missing.yaml", latin1, bad)
    assert found[0].startswith(f"{syntax}:")
    assert found[1:3] == [f"{tmp_path / 'missing.yaml'}: no such file", f"{latin1}:1: not UTF-8 text"]
    assert found[3].startswith(f"{bad}:2: [0].kind: 'boook'")


# --- the vocabulary -------------------------------------------------------------------------


def test_vocabulary_extras_add_and_override(tmp_path):
    vocabulary = load_vocabulary({"Barca": "sailing", "ml": "statistics"}, {"sailing": ["Regattas"]})
    assert vocabulary.canonical("#Barca") == "sailing"
    assert vocabulary.canonical("ml") == "statistics"  # the configuration wins
    assert "regattas" in vocabulary.related("vela") and "sailing" in vocabulary.related("regattas")


def test_vocabulary_file_problems(tmp_path):
    path = write(tmp_path, "v.yaml", """\
synonyms:
  vela: sailing
  barca: vela
  same: Same
related:
  vela: [ocean]
  sailing: [vela, ocean]
colours: [x]
""")
    with pytest.raises(ConfigError) as caught:
        load_vocabulary(path=path)
    assert caught.value.problems == [
        f"{path}:3: synonyms.barca: 'vela' is itself an alias; map to 'sailing'",
        f"{path}:4: synonyms.same: maps a tag to itself",
        f"{path}:6: related.vela: 'vela' is an alias; write 'sailing'",
        f"{path}:7: related.sailing: 'vela' is an alias; write 'sailing'",
        f"{path}:8: colours: unknown key",
    ]


# --- the shipped data -----------------------------------------------------------------------


def test_the_shipped_catalog_and_vocabulary_load_and_meet_the_counts():
    ideas = load_catalog([])
    vocabulary = load_vocabulary()
    assert len(ideas) >= 200
    tags = Counter(tag for idea in ideas for tag in idea.tags)
    assert len(tags) >= 40
    assert sum(idea.language == "it" for idea in ideas) >= 40
    kinds = Counter(idea.kind for idea in ideas)
    assert {"book", "podcast", "course", "event", "tool", "article"} <= set(kinds)
    assert len(shipped_catalog_paths()) >= 2 and VOCABULARY_FILE.exists()
    assert vocabulary.canonical("ml") == "machine-learning" and vocabulary.canonical("Vela") == "sailing"


def test_every_catalog_tag_is_canonical_and_every_synonym_leads_to_a_catalog_tag():
    ideas = load_catalog([])
    vocabulary = load_vocabulary()
    tags = {tag for idea in ideas for tag in idea.tags}
    assert {tag for tag in tags if vocabulary.canonical(tag) != tag} == set()
    assert set(vocabulary.synonyms.values()) <= tags
    # Italian and English aliases for most catalog tags
    aliased = set(vocabulary.synonyms.values())
    assert len(aliased) >= 0.8 * len(tags), sorted(tags - aliased)
    for alias, tag in {"vela": "sailing", "storia": "history", "cucina": "cooking", "corsa": "running",
                       "fotografia": "photography", "negoziazione": "negotiation", "scrittura": "writing",
                       "filosofia": "philosophy", "ai": "artificial-intelligence"}.items():
        assert vocabulary.canonical(alias) == tag
    assert {"ocean", "boats"} <= vocabulary.related("sailing")
    assert "sailing" in vocabulary.related("ocean")  # symmetric


def _squash(text: str) -> str:
    return " ".join(text.split())


def _book_rows() -> list[dict[str, str]]:
    with BOOKS_USED.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(line for line in file if not line.startswith("#")))


def _backed(idea: Idea, rows: list[dict[str, str]]) -> bool:
    """The title is the row's edition or original title (or its part before a colon), `by` the
    first names of its author list, and the year (if given) its original publication year."""
    for row in rows:
        edition = re.sub(r"\s*\([^()]*\)$", "", row["title"])  # "(Series, #1)", "(Collins ...)"
        full = {_squash(edition), _squash(row["original_title"])}
        titles = full | {_squash(title.split(":")[0]) for title in full}
        authors = [_squash(name) for name in row["authors"].split(",")]
        written = [_squash(name) for name in idea.by.split(",")]
        year_ok = idea.year is None or str(idea.year) == row["original_publication_year"]
        if idea.title in titles and authors[: len(written)] == written and year_ok:
            return True
    return False


def test_every_shipped_book_is_a_real_row_of_the_goodbooks_data():
    """Title, authors and year of each book come from a row of goodbooks-10k (the rows used are
    copied to tests/data/books-used.csv): an invented or misspelt book fails here."""
    rows = _book_rows()
    books = [idea for idea in load_catalog([]) if idea.kind == "book"]
    assert len(books) >= 100
    assert [idea.id for idea in books if not _backed(idea, rows)] == []
    italian = [idea for idea in books if idea.language == "it"]
    assert len(italian) >= 20
    assert all(any(idea.title == _squash(row["original_title"]) for row in rows) for idea in italian)


def test_the_book_check_rejects_invented_titles_authors_and_years():
    rows = _book_rows()
    real = Idea("x", "book", "Il nome della rosa", "Umberto Eco", ("literature",), "it", year=1980)
    assert _backed(real, rows)
    assert not _backed(replace(real, title="Il nome della rosa bianca"), rows)
    assert not _backed(replace(real, by="Italo Calvino"), rows)
    assert not _backed(replace(real, year=1981), rows)
    assert not _backed(replace(real, title="The Boat", by="Jane Author", year=None), rows)


def test_the_question_bank_has_a_dozen_questions_per_language():
    bank = question_bank()
    for language in ("en", "it"):
        assert len(bank[language]) >= 12
        assert len(set(bank[language])) == len(bank[language])
        assert all(question.endswith("?") for question in bank[language])
