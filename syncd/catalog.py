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
from syncd.model import IDEA_KINDS, Idea

DATA = Path(__file__).with_name("data")
VOCABULARY_FILE = DATA / "vocabulary.yaml"


def shipped_catalog_paths() -> list[Path]:
    return sorted(DATA.glob("catalog*.yaml"))


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
        ctx.add(node, key, f"{value!r} is not a two-letter ISO 639-1 language code like 'en' or 'it'{hint}")
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


IDEA = Section(Idea, (
    Key("id", Slug(), "unique name of the idea, used in the ledger and the calendar", required=True),
    Key("kind", Choice(*IDEA_KINDS), "what sort of idea", required=True),
    Key("title", Text(), "title as people would log it", required=True),
    Key("by", Text(), "author or organiser", required=True),
    Key("tags", Tags(), "interest tags the idea suits", required=True),
    Key("language", Language(), "the language it is in", required=True),
    Key("url", Url(), "where to find it"),
    Key("year", WholeNumber(-3000, 2100), "year of publication or first edition"),
    Key("price", Text(), "what it costs, as text (`free`, `€25`)"),
    Key("note", Text(), "anything else worth a line"),
))


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
    return ctx, _compose(text, ctx)


def _entries(root: Node, ctx: Context) -> Iterator[tuple[int, Node]]:
    if isinstance(root, SequenceNode):
        yield from enumerate(root.value)
    else:
        ctx.add(root, "", f"expected a list of ideas, each starting with '- id:', got {describe(root)}")


def _id_node(node: Node) -> Node | None:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == "id":
                return value_node
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
                    ctx.add(id_node, f"[{index}].id", f"duplicate id {idea.id!r}; first given at {first[idea.id]}")
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
    Key("synonyms", MapOf(Text(), "mapping alias → tag"), "aliases of tags, e.g. `{vela: sailing}`"),
    Key("related", MapOf(TextList(), "mapping tag → list of tags"), "tags close to a tag, both ways"),
))


def _pairs(root: Node, name: str) -> list[tuple[Node, Node]]:
    """(key node, value node) of each entry of the `name` mapping, for line numbers."""
    section = mapping_pairs(root, "", Context("", Path()))  # problems were reported by the parse
    node = section.get(name, (None, None))[1]
    if not isinstance(node, MappingNode):
        return []
    return list(mapping_pairs(node, "", Context("", Path())).values())


def _check(root: Node, ctx: Context) -> None:
    aliases: dict[str, str] = {}
    for key_node, value_node in _pairs(root, "synonyms"):
        alias, tag = normalise(key_node.value), normalise(value_node.value)
        where = f"synonyms.{key_node.value}"
        if not alias or not tag:
            ctx.add(key_node, where, "an empty tag")
        elif alias == tag:
            ctx.add(key_node, where, "maps a tag to itself")
        elif alias in aliases and aliases[alias] != tag:
            ctx.add(key_node, where, f"given twice (as {aliases[alias]!r} too) once normalised")
        else:
            aliases[alias] = tag
    for key_node, value_node in _pairs(root, "synonyms"):
        tag = normalise(value_node.value)
        if tag in aliases:
            message = f"{tag!r} is itself an alias; map to {aliases[tag]!r}"
            ctx.add(value_node, f"synonyms.{key_node.value}", message)
    for key_node, value_node in _pairs(root, "related"):
        names = [key_node, *(value_node.value if isinstance(value_node, SequenceNode) else ())]
        for node in names:
            tag = normalise(node.value)
            if tag in aliases:
                ctx.add(node, f"related.{key_node.value}", f"{tag!r} is an alias; write {aliases[tag]!r}")


def load_vocabulary(
    extra_synonyms: Mapping[str, str] | None = None,
    extra_related: Mapping[str, Sequence[str]] | None = None,
    *,
    path: Path = VOCABULARY_FILE,
) -> Vocabulary:
    """The shipped vocabulary extended by the configuration's; the configuration's synonyms win."""
    problems: list[str] = []
    ctx, root = _read(path, problems)
    parsed = _VocabularyFile()
    if root is not None and not ctx.problems:
        parsed = VOCABULARY.parse(root, "", ctx)
        if parsed is not INVALID:
            _check(root, ctx)
    problems.extend(ctx.lines())
    if problems:
        raise ConfigError(clip(problems))
    synonyms = {**parsed.synonyms, **(extra_synonyms or {})}
    related: dict[str, list[str]] = {tag: list(others) for tag, others in parsed.related.items()}
    for tag, others in (extra_related or {}).items():
        related.setdefault(tag, []).extend(others)
    return Vocabulary.build(synonyms, related)
