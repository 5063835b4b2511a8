"""Reading the catalog of ideas and the tag vocabulary, each problem with its file and line.

A catalog file is a YAML list of ideas:

    - id: the-boat            # unique across every file: lowercase letters, digits, '-'
      kind: book              # one of syncd.model.IDEA_KINDS
      title: The Boat
      by: Jane Author         # author or organiser
      tags: [sailing, leadership]
      language: en            # ISO 639-1
      url: https://...        # optional, like year, price and note
      year: 2020
      isbn13: "9780385494786"  # books: 13 digits with a valid check digit (*)
      titles: {it: La barca}  # optional: titles of verified editions; needs `source`
      source: https://...     # the public page(s) confirming it: required for every non-book
    - id: barcolana
      kind: event
      shape: gift             # gift | share, for course, tool, event and other (*)
      months: [10]            # events: the month(s) it usually takes place (*)
      city: Trieste           # events: where ("online" for an online event) (*)

(*) required in the shipped files (`syncd/data/`); a person's own file may leave them out.

`load_catalog` reads the shipped files (`syncd/data/catalog*.yaml`) and the person's own, and
reports every problem of every file at once as `{file}:{line}: [{index}].{key}: message` in one
`ConfigError`. The YAML is read with the configuration's own machinery (`syncd.config`), so
duplicate keys, merges and alias bombs are treated the same way there and here.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from syncd.config import _compose, clip
from syncd.config_schema import Key, Section
from syncd.config_types import FrozenMap
from syncd.config_values import (
    INVALID,
    Choice,
    Context,
    ListOf,
    MapOf,
    Text,
    TextList,
    Url,
    ValueType,
    WholeNumber,
    describe,
    mapping_pairs,
)
from syncd.errors import ConfigError
from syncd.ideas import Vocabulary
from syncd.interests import normalise
from syncd.model import DEFAULT_SHAPES, IDEA_KINDS, SHAPES, Idea

DATA = Path(__file__).with_name("data")
VOCABULARY_FILE = DATA / "vocabulary.yaml"
# `source` is required for every idea that is not a book (books are backed by the goodbooks data).
SOURCE_REQUIRED = False


def shipped_catalog_paths() -> list[Path]:
    return sorted(DATA.glob("catalog*.yaml"))


def shipped_vocabulary_paths() -> list[Path]:
    return sorted(DATA.glob("vocabulary*.yaml"))


def isbn13_check_digit(first12: str) -> int:
    """The ISBN-13 check digit of 12 digits: weights 1, 3, 1, 3, ... and 10 minus the sum mod 10."""
    return (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12)) % 10) % 10


# --- value types of a catalog entry ---------------------------------------------------------

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_LANGUAGE_NAMES = {
    "english": "en", "eng": "en", "inglese": "en", "italian": "it", "italiano": "it", "ita": "it",
    "french": "fr", "fre": "fr", "fra": "fr", "francese": "fr", "german": "de", "ger": "de",
    "deu": "de", "tedesco": "de", "spanish": "es", "spa": "es", "spagnolo": "es",
}


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


class Slug(Text):
    doc = "slug (`the-boat`)"

    def check(self, value: str, node: Node, key: str, ctx: Context) -> Any:
        if _SLUG.fullmatch(value):
            return value
        slug = re.sub(r"[^a-z0-9]+", "-", _ascii(value).lower()).strip("-")
        hint = f", e.g. {slug!r}" if slug else ""
        ctx.add(node, key, f"{value!r} is not a slug; use lowercase letters, digits and '-'{hint}")
        return INVALID


class Language(Text):
    doc = "ISO 639-1 code (`en`, `it`)"

    def check(self, value: str, node: Node, key: str, ctx: Context) -> Any:
        code = value.strip().lower()
        if re.fullmatch(r"[a-z]{2}", code):
            return code
        guess = _LANGUAGE_NAMES.get(code)
        hint = f"; did you mean {guess!r}?" if guess else ""
        ctx.add(node, key, f"{value!r} is not a two-letter ISO 639-1 language code like 'en' "
                           f"or 'it'{hint}")
        return INVALID


class Tags(ValueType):
    """A non-empty list of tags, normalised like contact tags and deduplicated."""

    doc = "list of tags"

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        items = TextList().parse(node, key, ctx)
        if items is INVALID:
            return INVALID
        tags = tuple(dict.fromkeys(tag for tag in map(normalise, items) if tag))
        if not tags:
            ctx.add(node, key, "needs at least one tag")
            return INVALID
        return tags


class Isbn13(Text):
    doc = "ISBN-13, 13 digits as a quoted string (`\"9780385494786\"`)"

    def check(self, value: str, node: Node, key: str, ctx: Context) -> Any:
        digits = value.replace("-", "").replace(" ", "")
        if not re.fullmatch(r"[0-9]{13}", digits):
            ctx.add(node, key, f"{value!r} is not an ISBN-13: 13 digits, hyphens allowed")
            return INVALID
        right = isbn13_check_digit(digits[:12])
        if int(digits[12]) != right:
            ctx.add(node, key, f"{value!r} has a wrong check digit: after {digits[:12]} it is "
                               f"{right}, not {digits[12]}")
            return INVALID
        return digits


class Months(ValueType):
    """A non-empty list of months 1..12, kept in calendar order without repeats."""

    doc = "list of months 1..12 (`[10]`, `[6, 7]`)"

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        if not isinstance(node, SequenceNode):
            ctx.add(node, key,
                    f"expected a list of months like [10] or [6, 7], got {describe(node)}")
            return INVALID
        months = ListOf(WholeNumber(1, 12), "months").parse(node, key, ctx)
        if months is INVALID:
            return INVALID
        if not months:
            ctx.add(node, key, "needs at least one month (1-12)")
            return INVALID
        return tuple(sorted(set(months)))


class Titles(ValueType):
    """Language code -> title of a verified edition in that language."""

    doc = "mapping language → title (`{it: Aria sottile}`)"

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        titles = MapOf(Text(), self.doc).parse(node, key, ctx)
        if titles is INVALID or not isinstance(node, MappingNode):
            return INVALID
        pairs = mapping_pairs(node, key, Context(ctx.file, ctx.base_dir))
        out: dict[str, str] = {}
        for name, title in titles.items():
            code = Language().check(name, pairs[name][0], f"{key}.{name}", ctx)
            if code is INVALID:
                return INVALID
            out[code] = title
        return FrozenMap(out)


class Sources(ValueType):
    """One URL or a list of URLs."""

    doc = "URL or list of URLs"

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        if isinstance(node, SequenceNode):
            urls = ListOf(Url(), self.doc).parse(node, key, ctx)
            if urls is not INVALID and not urls:
                ctx.add(node, key, "needs at least one URL")
                return INVALID
            return urls
        url = Url().parse(node, key, ctx)
        return INVALID if url is INVALID else (url,)


_NEEDS_SHAPE = tuple(kind for kind in IDEA_KINDS if kind not in DEFAULT_SHAPES)


@cache
def _shipped() -> frozenset[str]:
    return frozenset(os.path.realpath(path) for path in shipped_catalog_paths())


@cache
def is_shipped(file: str) -> bool:
    """A file of syncd's own catalog, which must say everything (`_check_idea`); asked once per
    idea, answered once per file."""
    return os.path.realpath(Path(file).expanduser()) in _shipped()


def _check_idea(idea: Idea, pairs: dict[str, tuple[Node, Node]], where: Node | int, key: str,
                ctx: Context) -> bool:
    """The rules between keys: what a book, an event, a kind without a default shape need.
    Only the shipped catalog must give them all: a person's own file written before they
    existed (a book without its ISBN, an event without its months) still loads, its book
    without a link, its event proposed in any month, its shape by kind and price."""
    ok = True
    if not is_shipped(ctx.file):
        if idea.kind != "book" and idea.isbn13 is not None:
            ctx.add(pairs["isbn13"][0], f"{key}.isbn13",
                    f"only for a book (this one is kind: {idea.kind})")
            return False
        if idea.titles and not idea.source:
            ctx.add(where, f"{key}.source",
                    "required with titles: the page confirming that edition")
            return False
        return True

    def need(name: str, message: str) -> None:
        nonlocal ok
        ctx.add(where, f"{key}.{name}", message)
        ok = False

    if idea.kind == "book" and idea.isbn13 is None:
        need("isbn13", "required for a book: its ISBN-13 as a quoted string")
    if idea.kind != "book" and idea.isbn13 is not None:
        ctx.add(pairs["isbn13"][0], f"{key}.isbn13",
                f"only for a book (this one is kind: {idea.kind})")
        ok = False
    if idea.kind in _NEEDS_SHAPE and "shape" not in pairs:
        need("shape", f"required for kind: {idea.kind}: gift (something you give) or share "
                      "(something free you send)")
    if idea.kind == "event" and not idea.months:
        need("months", "required for an event: the month(s) it usually takes place, e.g. [10]")
    if idea.kind == "event" and idea.city is None:
        need("city", "required for an event: the city it takes place in, or 'online'")
    if idea.titles and not idea.source:
        need("source", "required with titles: the page confirming that edition")
    elif SOURCE_REQUIRED and idea.kind != "book" and not idea.source:
        need("source", f"required for kind: {idea.kind}: a public page confirming it")
    return ok


IDEA = Section(Idea, (
    Key("id", Slug(), "unique name of the idea, used in the ledger and the calendar",
        required=True),
    Key("kind", Choice(*IDEA_KINDS), "what sort of idea", required=True),
    Key("title", Text(), "title as people would log it", required=True),
    Key("by", Text(), "author or organiser", required=True),
    Key("tags", Tags(), "interest tags the idea suits", required=True),
    Key("language", Language(), "the language it is in", required=True),
    Key("url", Url(), "where to find it"),
    Key("year", WholeNumber(-3000, 2100), "year of publication or first edition"),
    Key("price", Text(), "what it costs, as text (`free`, `€25`)"),
    Key("note", Text(), "anything else worth a line"),
    Key("shape", Choice(*SHAPES),
        "gift (you give it) or share (free, you send it or talk about it); "
        "by default a book is a gift, a podcast, article or webinar a share"),
    Key("months", Months(), "events: the month(s) it usually takes place (1-12)"),
    Key("city", Text(), "events: the city it takes place in, or `online`"),
    Key("isbn13", Isbn13(), "books: the ISBN-13"),
    Key("titles", Titles(), "titles of verified editions in other languages; needs `source`"),
    Key("source", Sources(), "public page(s) confirming the item and its facts"),
), check=_check_idea)


# --- reading files --------------------------------------------------------------------------


def _read(path: Path, problems: list[str]) -> tuple[Context, Node | None]:
    """The composed document of `path` (None when empty or unreadable); file-level problems go
    to `problems`, the rest to the returned context."""
    file = str(path)
    ctx = Context(file, base_dir=Path(os.path.abspath(path)).parent)
    try:
        data = path.expanduser().read_bytes()
    except FileNotFoundError:
        problems.append(f"{file}: no such file")
        return ctx, None
    except OSError as error:
        problems.append(f"{file}: cannot read it: {error.strerror or error}")
        return ctx, None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        problems.append(f"{file}:{line}: not UTF-8 text")
        return ctx, None
    return ctx, _compose(text, ctx, trusted=is_shipped(file))


def _entries(root: Node, ctx: Context) -> Iterator[tuple[int, Node]]:
    if isinstance(root, SequenceNode):
        yield from enumerate(root.value)
    else:
        ctx.add(root, "",
                f"expected a list of ideas, each starting with '- id:', got {describe(root)}")


def _id_node(node: Node) -> Node | None:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == "id":
                return value_node if isinstance(value_node, Node) else None
    return None


def load_catalog(paths: Sequence[Path], include_shipped: bool = True) -> list[Idea]:
    """Every idea of the shipped catalog (unless `include_shipped` is false) and of `paths`, in
    file order; `ConfigError` listing every problem of every file when anything is wrong."""
    files: dict[str, Path] = {}  # a file given twice is read once
    for path in [*(shipped_catalog_paths() if include_shipped else []), *map(Path, paths)]:
        files.setdefault(os.path.realpath(path.expanduser()), path)
    problems: list[str] = []
    ideas: list[Idea] = []
    first: dict[str, str] = {}  # id -> "file:line" where it was first given
    for path in files.values():
        ctx, root = _read(path, problems)
        if root is not None and not ctx.problems:
            for index, node in _entries(root, ctx):
                idea = IDEA.parse(node, f"[{index}]", ctx)
                if idea is INVALID:
                    continue
                id_node = _id_node(node) or node
                line = id_node.start_mark.line + 1
                if idea.id in first:
                    ctx.add(id_node, f"[{index}].id",
                            f"duplicate id {idea.id!r}; first given at {first[idea.id]}")
                    continue
                first[idea.id] = f"{path}:{line}"
                ideas.append(idea)
        problems.extend(ctx.lines())
    if problems:
        raise ConfigError(clip(problems))
    return ideas


# --- the vocabulary -------------------------------------------------------------------------


@dataclass(frozen=True)
class _VocabularyFile:
    synonyms: Mapping[str, str] = field(default_factory=FrozenMap)
    related: Mapping[str, tuple[str, ...]] = field(default_factory=FrozenMap)


VOCABULARY = Section(_VocabularyFile, (
    Key("synonyms", MapOf(Text(), "mapping alias → tag"),
        "aliases of tags, e.g. `{vela: sailing}`"),
    Key("related", MapOf(TextList(), "mapping tag → list of tags"),
        "tags close to a tag, both ways"),
))


def _pairs(root: Node, name: str) -> list[tuple[Node, Node]]:
    """(key node, value node) of each entry of the `name` mapping, for line numbers."""
    if not isinstance(root, MappingNode):
        return []
    section = mapping_pairs(root, "", Context("", Path()))  # problems were reported by the parse
    node = section.get(name, (None, None))[1]
    if not isinstance(node, MappingNode):
        return []
    return list(mapping_pairs(node, "", Context("", Path())).values())


def _elsewhere(ctx: Context, file: str, line: int) -> str:
    """" (at FILE:LINE)" when that place is in another file than `ctx`'s, else ""."""
    return "" if file == ctx.file else f" (at {file}:{line})"


def _check(files: list[tuple[Context, Node]]) -> None:
    """Across every vocabulary file, in order: an alias given twice, an alias used as a tag
    (on the right of a synonym, or in `related`), an alias mapped to itself, an empty tag."""
    aliases: dict[str, tuple[str, str, int]] = {}  # alias -> (tag, file, line) where first given
    entries = []  # (ctx, key node, value node, tag)
    for ctx, root in files:
        for key_node, value_node in _pairs(root, "synonyms"):
            alias, tag = normalise(key_node.value), normalise(value_node.value)
            where = f"synonyms.{key_node.value}"
            if not alias or not tag:
                ctx.add(key_node, where, "an empty tag")
            elif alias == tag:
                ctx.add(key_node, where, "maps a tag to itself")
            elif alias in aliases:
                first_tag, file, line = aliases[alias]
                first = f"line {line}" if file == ctx.file else f"{file}:{line}"
                ctx.add(key_node, where,
                        f"{alias!r} is defined twice; first at {first} (as {first_tag!r})")
            else:
                aliases[alias] = (tag, ctx.file, key_node.start_mark.line + 1)
                entries.append((ctx, key_node, value_node, tag))
    for ctx, key_node, value_node, tag in entries:
        if tag in aliases:
            target, file, line = aliases[tag]
            message = f"{tag!r} is itself an alias{_elsewhere(ctx, file, line)}; map to {target!r}"
            ctx.add(value_node, f"synonyms.{key_node.value}", message)
    for ctx, root in files:
        for key_node, value_node in _pairs(root, "related"):
            names = [key_node, *(value_node.value if isinstance(value_node, SequenceNode) else ())]
            for node in names:
                tag = normalise(node.value)
                if tag in aliases:
                    target, file, line = aliases[tag]
                    ctx.add(node, f"related.{key_node.value}",
                            f"{tag!r} is an alias{_elsewhere(ctx, file, line)}; write {target!r}")


def load_vocabulary(
    extra_synonyms: Mapping[str, str] | None = None,
    extra_related: Mapping[str, Sequence[str]] | None = None,
    *,
    paths: Sequence[Path] | None = None,
) -> Vocabulary:
    """The shipped vocabulary (every `vocabulary*.yaml` of the package, in name order, merged;
    or the files `paths`) extended by the configuration's, whose synonyms win. An alias defined
    twice, in one file or two, is an error naming both places."""
    chosen = shipped_vocabulary_paths() if paths is None else list(paths)
    problems: list[str] = []
    read: list[tuple[Context, Node]] = []
    parsed: list[_VocabularyFile] = []
    contexts: list[Context] = []
    for one in chosen:
        ctx, root = _read(Path(one), problems)
        contexts.append(ctx)
        if root is not None and not ctx.problems:
            result = VOCABULARY.parse(root, "", ctx)
            if result is not INVALID:
                parsed.append(result)
                read.append((ctx, root))
    _check(read)
    for ctx in contexts:
        problems.extend(ctx.lines())
    if problems:
        raise ConfigError(clip(problems))
    synonyms: dict[str, str] = {}
    related: dict[str, list[str]] = {}
    for part in parsed:
        synonyms.update(part.synonyms)
        for tag, others in part.related.items():
            related.setdefault(tag, []).extend(others)
    synonyms.update(extra_synonyms or {})
    for tag, close in (extra_related or {}).items():
        related.setdefault(tag, []).extend(close)
    return Vocabulary.build(synonyms, related)
