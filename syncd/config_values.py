"""Reading composed YAML nodes into values: the problem `Context`, and one `ValueType` per kind
of value a key may hold (text, choices, paths, numbers, durations, lists, mappings).

Value types parse a composed `yaml.Node` (so every problem has a line), report problems to a
`Context` and return `INVALID` instead of raising, so that one run reports every problem. The
keys that use them are the table in `syncd.config_schema`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import SplitResult, urlsplit

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from syncd.config_types import LONGEST_RULE, FrozenMap, mask_url

# --- walking nodes --------------------------------------------------------------------------


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = _Invalid()  # "a problem was reported here"; never a real value
NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class Context:
    """Where problems go while walking one file."""

    file: str  # the path as the user gave it
    base_dir: Path  # relative paths in the file are relative to this
    problems: list[tuple[int, str]] = field(default_factory=list)

    def add(self, where: Node | int, key: str, message: str) -> None:
        line = where if isinstance(where, int) else where.start_mark.line + 1
        where_key = f"{key}: " if key else ""
        self.problems.append((line, f"{self.file}:{line}: {where_key}{message}"))

    def lines(self) -> list[str]:
        """Every problem once, in file order."""
        return list(dict.fromkeys(text for _, text in sorted(self.problems, key=lambda p: p[0])))


def join(parent: str, name: str) -> str:
    if not re.fullmatch(r"[\w-]+", name):
        return f"{parent}[{name!r}]" if parent else repr(name)
    return f"{parent}.{name}" if parent else name


def describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return repr(node.value)


def is_null(node: Node | None) -> bool:
    return node is None or (isinstance(node, ScalarNode) and node.tag == NULL_TAG)


def mapping_pairs(node: MappingNode, key: str, ctx: Context) -> dict[str, tuple[Node, Node]]:
    """name -> (key node, value node). Reports duplicate keys (PyYAML silently keeps the last; we
    keep the first) and non-text keys; applies `<<: *anchor` merges, explicit keys winning."""
    explicit: dict[str, tuple[Node, Node]] = {}
    merged: dict[str, tuple[Node, Node]] = {}
    for key_node, value_node in node.value:
        if key_node.tag == MERGE_TAG:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if isinstance(source, MappingNode):
                    for name, pair in mapping_pairs(source, key, ctx).items():
                        merged.setdefault(name, pair)
                else:
                    ctx.add(source, key, f"'<<' can only merge mappings, not {describe(source)}")
            continue
        if not isinstance(key_node, ScalarNode) or is_null(key_node) or not key_node.value:
            ctx.add(key_node, key, f"keys must be plain names, not {describe(key_node)}")
            continue
        name = key_node.value
        if name in explicit:
            first = explicit[name][0].start_mark.line + 1
            ctx.add(key_node, join(key, name), f"duplicate key; first given on line {first}")
            continue
        explicit[name] = (key_node, value_node)
    return {**merged, **explicit}


# --- value types ----------------------------------------------------------------------------


class ValueType:
    """Parses one node into a Python value (or reports and returns INVALID); dumps it back."""

    doc = "value"

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        raise NotImplementedError

    def dump(self, value: Any) -> Any:
        return value


class Text(ValueType):
    """Any non-empty scalar, as written (so `0755` or `yes` stay what they look like)."""

    doc = "text"

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        if not isinstance(node, ScalarNode):
            ctx.add(node, key, f"expected text, got {describe(node)}")
            return INVALID
        if is_null(node) or not node.value.strip():
            ctx.add(node, key, "must not be empty")
            return INVALID
        return self.check(node.value, node, key, ctx)

    def check(self, value: str, node: Node, key: str, ctx: Context) -> Any:
        return value


class Choice(Text):
    def __init__(self, *options: str) -> None:
        self.options = options
        self.doc = " \\| ".join(f"`{option}`" for option in options)

    def check(self, value: str, node: Node, key: str, ctx: Context) -> Any:
        if value.lower() in self.options:
            return value.lower()
        close = difflib.get_close_matches(value.lower(), self.options, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        ctx.add(node, key, f"{value!r} is not one of {', '.join(self.options)}{hint}")
        return INVALID


class Url(Text):
    doc = "http(s) URL"

    def check(self, value: str, node: Node, key: str, ctx: Context) -> Any:
        shown = "" if "@" in value else f"{value!r} "  # user:password@ may be in it
        try:
            parts: SplitResult | None = urlsplit(value)
        except ValueError:  # an unclosed `[` of an IPv6 host
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            ctx.add(node, key, f"{shown}is not an http:// or https:// URL")
            return INVALID
        if not _port_ok(parts):
            ctx.add(node, key, f"{shown}has a port that is not a number from 1 to 65535")
            return INVALID
        return value

    def dump(self, value: Any) -> Any:
        """A password written into the URL (`https://me:secret@host`) is masked too."""
        return mask_url(value)


def _port_ok(parts: SplitResult) -> bool:
    try:
        return parts.port != 0  # None when none is given
    except ValueError:  # past 65535, or not a number
        return False


class EnvName(Text):
    doc = "environment variable name"

    def check(self, value: str, node: Node, key: str, ctx: Context) -> Any:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            return value
        ctx.add(node, key, f"{value!r} is not an environment variable name")
        return INVALID


class TimeZone(Text):
    doc = "IANA time zone (`Europe/Rome`)"

    def check(self, value: str, node: Node, key: str, ctx: Context) -> Any:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            ctx.add(node, key, f"{value!r} is not a time zone like Europe/Rome")
            return INVALID
        return value


class PathValue(Text):
    """`~` and `$VARS` expand; a relative path is relative to the configuration file's folder."""

    doc = "path"

    def check(self, value: str, node: Node, key: str, ctx: Context) -> Any:
        names = re.findall(r"\$(?:\{(\w+)\}|(\w+))", value)
        unset = sorted({a or b for a, b in names} - set(os.environ))
        if unset:
            ctx.add(node, key, f"{value!r} uses ${unset[0]}, which is not set")
            return INVALID
        path = Path(os.path.expandvars(os.path.expanduser(value)))
        return path if path.is_absolute() else ctx.base_dir / path

    def dump(self, value: Any) -> Any:
        return str(value)


class Flag(ValueType):
    doc = "`true` \\| `false`"

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        if isinstance(node, ScalarNode) and node.tag == BOOL_TAG:
            return node.value.lower() in ("true", "yes", "on")
        ctx.add(node, key, f"expected true or false, got {describe(node)}")
        return INVALID


class Count(ValueType):
    doc = "positive integer"

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        if isinstance(node, ScalarNode) and node.tag == INT_TAG:  # `true` has the bool tag
            number = yaml.constructor.SafeConstructor().construct_yaml_int(node)
            if number > 0:
                return number
        ctx.add(node, key, f"expected a positive whole number, got {describe(node)}")
        return INVALID


class WholeNumber(ValueType):
    """An integer from `low` to `high`, both included."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        self.doc = f"integer {low}..{high}"

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        if isinstance(node, ScalarNode) and node.tag == INT_TAG:
            number = yaml.constructor.SafeConstructor().construct_yaml_int(node)
            if self.low <= number <= self.high:
                return number
        ctx.add(node, key,
                f"expected a whole number from {self.low} to {self.high}, got {describe(node)}")
        return INVALID


class PositiveNumber(ValueType):
    """An integer or a decimal above zero (`2`, `1.5`), read as a float."""

    doc = "positive number"

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        number = math.nan
        if isinstance(node, ScalarNode) and node.tag == INT_TAG:
            number = float(yaml.constructor.SafeConstructor().construct_yaml_int(node))
        elif isinstance(node, ScalarNode) and node.tag == FLOAT_TAG:
            number = yaml.constructor.SafeConstructor().construct_yaml_float(node)
        if math.isfinite(number) and number > 0:
            return number
        ctx.add(node, key, f"expected a positive number, got {describe(node)}")
        return INVALID

    def dump(self, value: Any) -> Any:
        return int(value) if float(value).is_integer() else value


_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1),
          "m": timedelta(minutes=1), "s": timedelta(seconds=1)}


def parse_duration(text: str) -> timedelta:
    """`30d`, `2w`, `12h`, `90m`, `45s` → timedelta; ValueError for anything else (zero too)."""
    match = re.fullmatch(r"\s*([0-9]+)([wdhms])\s*", text)
    if not match or int(match[1]) == 0:
        raise ValueError(f"{text!r} is not a duration like 30d")
    return int(match[1]) * _UNITS[match[2]]


def format_duration(value: timedelta) -> str:
    """The inverse of `parse_duration`, in days when whole days (never weeks: `14d`, not `2w`)."""
    for unit in "dhms":
        if value % _UNITS[unit] == timedelta(0):
            return f"{value // _UNITS[unit]}{unit}"
    return f"{value.total_seconds()}s"


class Duration(ValueType):
    def __init__(self, whole_days: bool = False) -> None:
        self.whole_days = whole_days
        self.doc = ("duration in days (`30d`, `2w`)" if whole_days
                    else "duration (`30d`, `12h`, `90m`)")

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        text = node.value if isinstance(node, ScalarNode) else ""
        try:
            value = parse_duration(text)
        except ValueError:
            message = f"{text!r} is not a duration like 30d"
            if not text:
                message = f"expected a duration like 30d, got {describe(node)}"
            if re.fullmatch(r"\s*[0-9]+\s*", text):
                message += f"; add a unit, e.g. {text.strip()}d"
            ctx.add(node, key, message)
            return INVALID
        if self.whole_days and value % _UNITS["d"]:
            ctx.add(node, key, f"{text!r} is not a whole number of days; write it like 7d or 2w")
            return INVALID
        if self.whole_days and value > LONGEST_RULE:
            ctx.add(node, key, f"{text!r} is too long: at most {LONGEST_RULE.days}d (100 years)")
            return INVALID
        return value

    def dump(self, value: Any) -> Any:
        return format_duration(value)


WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Weekdays(ValueType):
    doc = "list of weekdays (`mon`..`sun`)"

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        if not isinstance(node, SequenceNode):
            ctx.add(node, key, f"expected a list of weekdays like [mon, tue], got {describe(node)}")
            return INVALID
        if not node.value:
            ctx.add(node, key, "needs at least one day")
            return INVALID
        days: list[int] = []
        ok = True
        for index, item in enumerate(node.value):
            name = Text().parse(item, f"{key}[{index}]", ctx)
            if name is INVALID:
                ok = False
            elif name.lower() not in WEEKDAYS:
                ctx.add(item, f"{key}[{index}]",
                        f"{name!r} is not a weekday; use {', '.join(WEEKDAYS)}")
                ok = False
            elif WEEKDAYS.index(name.lower()) in days:
                ctx.add(item, f"{key}[{index}]", f"{name!r} is listed twice")
                ok = False
            else:
                days.append(WEEKDAYS.index(name.lower()))
        return tuple(sorted(days)) if ok else INVALID

    def dump(self, value: Any) -> Any:
        return [WEEKDAYS[day] for day in value]


class ListOf(ValueType):
    """A list of values of one type (possibly empty)."""

    def __init__(self, items: ValueType, doc: str) -> None:
        self.items = items
        self.doc = doc

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        if not isinstance(node, SequenceNode):
            ctx.add(node, key, f"expected a list like [a, b], got {describe(node)}")
            return INVALID
        items = [self.items.parse(item, f"{key}[{index}]", ctx)
                 for index, item in enumerate(node.value)]
        return INVALID if INVALID in items else tuple(items)

    def dump(self, value: Any) -> Any:
        return [self.items.dump(item) for item in value]


class TextList(ListOf):
    def __init__(self) -> None:
        super().__init__(Text(), "list of text")


class MapOf(ValueType):
    """A mapping from names (categories, aliases) to values of one type. Any name goes, unless
    `names` are given: then a name outside them is an "unknown {what}"."""

    def __init__(self, values: ValueType, doc: str, names: tuple[str, ...] = (),
                 what: str = "name") -> None:
        self.values = values
        self.doc = doc
        self.names = names
        self.what = what

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        if not isinstance(node, MappingNode):
            ctx.add(node, key, f"expected a mapping like {{name: value}}, got {describe(node)}")
            return INVALID
        result: dict[str, Any] = {}
        for name, (key_node, value) in mapping_pairs(node, key, ctx).items():
            if self.names and name not in self.names:
                close = difflib.get_close_matches(name, self.names, n=1)
                hint = (f"did you mean {close[0]!r}?" if close
                        else f"use one of {', '.join(self.names)}")
                ctx.add(key_node, join(key, name), f"unknown {self.what}; {hint}")
                result[name] = INVALID
            else:
                result[name] = self.values.parse(value, join(key, name), ctx)
        return INVALID if INVALID in result.values() else FrozenMap(result)

    def dump(self, value: Any) -> Any:
        return {name: self.values.dump(item) for name, item in value.items()}


