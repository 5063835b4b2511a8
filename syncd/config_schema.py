"""Every configuration key in one table (`SCHEMA`), and the frozen dataclasses it fills.

Each `Key` names its value type and carries one line of help; the default is the default of the
dataclass field the key fills, so `Rules()` and a file without `rules:` agree by construction.
The validator (`Section.parse`), the effective-config dump (`Section.dump`) and the README table
(`reference_markdown`) all walk this one table. Reading and composing the file is `syncd.config`.

Value types parse a composed `yaml.Node` (so every problem has a line), report problems to a
`Context` and return `INVALID` instead of raising, so that one run reports every problem.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import platformdirs
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_K = TypeVar("_K")
_V = TypeVar("_V")


class FrozenMap(Mapping[_K, _V]):
    """A read-only, hashable, picklable mapping for frozen dataclass fields (`MappingProxyType` is
    neither hashable nor picklable, so `hash()`, `copy.deepcopy` and `dataclasses.asdict` fail)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[_K, _V] | None = None) -> None:
        self._data: dict[_K, _V] = dict(data or {})

    def __getitem__(self, key: _K) -> _V:
        return self._data[key]

    def __iter__(self) -> Iterator[_K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._data,))


# --- the result -----------------------------------------------------------------------------


def default_calendar_path() -> Path:
    return platformdirs.user_data_path("syncd") / "calendar"


def default_state_path() -> Path:
    return platformdirs.user_state_path("syncd") / "syncd.sqlite"


@dataclass(frozen=True)
class SourceConfig:
    type: str  # "vdir" | "vcf"  (a "carddav" type with url/username keys can join later)
    path: Path


@dataclass(frozen=True)
class CalendarConfig:
    type: str = "local"  # "local" | "caldav"
    path: Path = field(default_factory=default_calendar_path)  # local only
    url: str | None = None  # caldav only, from here to `verify`
    calendar: str = "Follow-ups"
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed
    password_command: str | None = None
    password_env: str | None = None
    verify: bool = True
    component: str = "todo"  # "todo" (VTODO) | "event" (VEVENT)

    def __repr__(self) -> str:  # a password written into the URL is masked too
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.repr}
        shown["url"] = self.url and Url().dump(self.url)
        return f"CalendarConfig({', '.join(f'{name}={value!r}' for name, value in shown.items())})"


@dataclass(frozen=True)
class MeConfig:
    name: str | None = None
    interests: tuple[str, ...] = ()
    language: str = "en"  # "en" | "it"


@dataclass(frozen=True)
class TagsConfig:
    markers: tuple[str, ...] = ("Interests", "Interessi")
    synonyms: Mapping[str, str] = field(default_factory=FrozenMap)  # alias -> tag

    def __post_init__(self) -> None:
        object.__setattr__(self, "synonyms", FrozenMap(self.synonyms))


@dataclass(frozen=True)
class Rules:
    keep_in_touch_default: timedelta = timedelta(days=90)
    keep_in_touch_categories: Mapping[str, timedelta] = field(default_factory=FrozenMap)
    birthday_lead: timedelta = timedelta(days=7)
    weekly_cap: int = 10
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday is 0
    horizon: timedelta = timedelta(days=28)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keep_in_touch_categories", FrozenMap(self.keep_in_touch_categories))


@dataclass(frozen=True)
class Config:
    contacts: tuple[SourceConfig, ...]
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    me: MeConfig = field(default_factory=MeConfig)
    tags: TagsConfig = field(default_factory=TagsConfig)
    rules: Rules = field(default_factory=Rules)
    state: Path = field(default_factory=default_state_path)
    path: Path | None = None  # the file this was read from


# --- walking nodes --------------------------------------------------------------------------


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = _Invalid()  # "a problem was reported here"; never a real value
MASK: Final = "********"
NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
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
        try:
            parts = urlsplit(value)
            if parts.scheme in ("http", "https") and parts.hostname:
                return value
        except ValueError:
            pass
        shown = "" if "@" in value else f"{value!r} "  # user:password@ may be in it
        ctx.add(node, key, f"{shown}is not an http:// or https:// URL")
        return INVALID

    def dump(self, value: Any) -> Any:
        """A password written into the URL (`https://me:secret@host`) is masked too."""
        parts = urlsplit(value)
        if parts.password is None:
            return value
        userinfo, _, host = parts.netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        return parts._replace(netloc=f"{user}:{MASK}@{host}").geturl()


class EnvName(Text):
    doc = "environment variable name"

    def check(self, value: str, node: Node, key: str, ctx: Context) -> Any:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            return value
        ctx.add(node, key, f"{value!r} is not an environment variable name")
        return INVALID


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
        self.doc = "duration in days (`30d`, `2w`)" if whole_days else "duration (`30d`, `12h`, `90m`)"

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
                ctx.add(item, f"{key}[{index}]", f"{name!r} is not a weekday; use {', '.join(WEEKDAYS)}")
                ok = False
            elif WEEKDAYS.index(name.lower()) in days:
                ctx.add(item, f"{key}[{index}]", f"{name!r} is listed twice")
                ok = False
            else:
                days.append(WEEKDAYS.index(name.lower()))
        return tuple(sorted(days)) if ok else INVALID

    def dump(self, value: Any) -> Any:
        return [WEEKDAYS[day] for day in value]


class TextList(ValueType):
    doc = "list of text"

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        if not isinstance(node, SequenceNode):
            ctx.add(node, key, f"expected a list like [a, b], got {describe(node)}")
            return INVALID
        items = [Text().parse(item, f"{key}[{index}]", ctx) for index, item in enumerate(node.value)]
        return INVALID if INVALID in items else tuple(items)

    def dump(self, value: Any) -> Any:
        return list(value)


class MapOf(ValueType):
    """A mapping from free names (categories, aliases) to values of one type."""

    def __init__(self, values: ValueType, doc: str) -> None:
        self.values = values
        self.doc = doc

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        if not isinstance(node, MappingNode):
            ctx.add(node, key, f"expected a mapping like {{name: value}}, got {describe(node)}")
            return INVALID
        result = {name: self.values.parse(value, join(key, name), ctx)
                  for name, (_, value) in mapping_pairs(node, key, ctx).items()}
        return INVALID if INVALID in result.values() else FrozenMap(result)

    def dump(self, value: Any) -> Any:
        return {name: self.values.dump(item) for name, item in value.items()}


# --- keys and sections ----------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    name: str
    type: ValueType | Section | SectionList
    help: str
    required: bool = False  # with `only_for`: required for that type only
    only_for: str | None = None  # valid only when the section's `type` has this value
    secret: bool = False  # masked in every output
    default_doc: str | None = None  # how the reference shows a computed default
    attr: str | None = None  # the dataclass field, when not `name`

    @property
    def field_name(self) -> str:
        return self.attr or self.name


def _field_default(cls: type, name: str) -> Any:
    for f in fields(cls):
        if f.name == name:
            if f.default is not MISSING:
                return f.default
            if f.default_factory is not MISSING:
                return f.default_factory()
            return MISSING
    raise KeyError(f"{cls.__name__} has no field {name!r}")


@dataclass(frozen=True)
class Section:
    """A mapping of keys filling `cls`. With a `prefix`, the keys fill fields `prefix + name` of
    the enclosing section's class instead: `rules.keep_in_touch.default` fills
    `Rules.keep_in_touch_default`."""

    cls: type
    keys: tuple[Key, ...]
    prefix: str = ""
    one_of: tuple[tuple[str, ...], ...] = ()  # at most one key of each group may be set
    doc: str = "mapping"

    def default(self, key: Key) -> Any:
        return _field_default(self.cls, self.prefix + key.field_name)

    def parse(self, node: Node | None, key: str, ctx: Context) -> Any:
        """The built dataclass (a dict of fields when flattened into the parent), or INVALID."""
        if is_null(node):
            pairs: dict[str, tuple[Node, Node]] = {}
        elif isinstance(node, MappingNode):
            pairs = mapping_pairs(node, key, ctx)
        else:
            ctx.add(node, key, f"expected a mapping of keys, got {describe(node)}")
            return INVALID
        where: Node | int = node if node is not None else 1
        known = {k.name: k for k in self.keys}
        for name, (key_node, _) in pairs.items():
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                ctx.add(key_node, join(key, name), f"unknown key{hint}")

        values: dict[str, Any] = {}
        rejected: set[str] = set()  # keys of the wrong `type`: reported once, not again below
        ok = True
        variant: Any = None  # the value of this section's `type`, once known
        for k in self.keys:
            path = join(key, k.name)
            key_node, value_node = pairs.get(k.name, (None, None))
            applies = k.only_for is None or k.only_for == variant
            if k.only_for and value_node is not None and variant not in (None, INVALID) and not applies:
                ctx.add(key_node, path, f"only valid with type: {k.only_for} (this one is type: {variant})")
                rejected.add(k.name)
                ok = False
                continue
            if is_null(value_node):
                if k.required and applies:
                    where_missing = where if value_node is None else value_node
                    message = "required key is missing" if value_node is None else "needs a value"
                    ctx.add(where_missing, path, message)
                    ok = False
                if k.name == "type":
                    variant = self.default(k)
                continue
            value = k.type.parse(value_node, path, ctx)
            if k.name == "type":
                variant = value
            if value is INVALID:
                ok = False
            elif isinstance(k.type, Section) and k.type.prefix:
                values.update(value)
            else:
                values[self.prefix + k.field_name] = value

        for group in self.one_of:
            given = [name for name in group
                     if name not in rejected and not is_null(pairs.get(name, (None, None))[1])]
            for name in given[1:]:
                message = f"set only one of {', '.join(group)} (also set: {given[0]})"
                ctx.add(pairs[name][0], join(key, name), message)
                ok = False
        if not ok:
            return INVALID
        return values if self.prefix else self.cls(**values)

    def dump(self, value: Any) -> dict[str, Any]:
        variant = getattr(value, self.prefix + "type", None)
        out: dict[str, Any] = {}
        for k in self.keys:
            if k.only_for and k.only_for != variant:
                continue
            if isinstance(k.type, Section) and k.type.prefix:
                out[k.name] = k.type.dump(value)
                continue
            item = getattr(value, self.prefix + k.field_name)
            out[k.name] = None if item is None else MASK if k.secret else k.type.dump(item)
        return out


@dataclass(frozen=True)
class SectionList:
    section: Section
    doc: str
    min_items: int = 1

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        if not isinstance(node, SequenceNode):
            ctx.add(node, key, f"expected a list (each entry starting with '- type:'), got {describe(node)}")
            return INVALID
        if len(node.value) < self.min_items:
            ctx.add(node, key, f"needs at least {self.min_items} entry")
            return INVALID
        items = [self.section.parse(item, f"{key}[{index}]", ctx) for index, item in enumerate(node.value)]
        return INVALID if INVALID in items else tuple(items)

    def dump(self, value: Any) -> list[Any]:
        return [self.section.dump(item) for item in value]


# --- the schema -----------------------------------------------------------------------------

_RELATIVE = "`~` and `$VARS` expand; relative to the configuration file's folder"

SOURCE = Section(SourceConfig, (
    Key("type", Choice("vdir", "vcf"), required=True,
        help="`vdir`: a folder of .vcf files (vdirsyncer / khard layout); `vcf`: one exported file"
        " with many cards"),
    Key("path", PathValue(), f"the folder or file; {_RELATIVE}", required=True),
))

CALENDAR = Section(CalendarConfig, one_of=(("password", "password_command", "password_env"),), keys=(
    Key("type", Choice("local", "caldav"),
        "`local`: a folder of .ics files; `caldav`: a calendar on a CalDAV server"),
    Key("path", PathValue(), f"folder of the local calendar; {_RELATIVE}", only_for="local",
        default_doc="user data dir (`~/.local/share/syncd/calendar` on Linux)"),
    Key("url", Url(), "the CalDAV server (or calendar collection) URL", only_for="caldav", required=True),
    Key("calendar", Text(), "name of the calendar the follow-ups go into"),
    Key("username", Text(), "CalDAV user name", only_for="caldav"),
    Key("password", Text(), only_for="caldav", secret=True,
        help="CalDAV password in plain text: allowed, but prefer password_command or password_env"),
    Key("password_command", Text(), only_for="caldav",
        help="shell command that prints the password (e.g. `pass show dav`)"),
    Key("password_env", EnvName(), "environment variable that holds the password", only_for="caldav"),
    Key("verify", Flag(), "verify the server's TLS certificate", only_for="caldav"),
    Key("component", Choice("todo", "event"),
        "write follow-ups as tasks (`todo`, VTODO) or as events (`event`, VEVENT)"),
))

ME = Section(MeConfig, (
    Key("name", Text(), "your name, for the wording of follow-ups"),
    Key("interests", TextList(), "your own interests: common ground with a contact makes a follow-up idea"),
    Key("language", Choice("en", "it"), "language of the follow-ups written into the calendar"),
))

TAGS = Section(TagsConfig, (
    Key("markers", TextList(), "NOTE lines `Marker: a, b, c` give a contact the tags a, b and c"),
    Key("synonyms", MapOf(Text(), "mapping alias → tag"),
        "tags to rename, e.g. `{ml: machine-learning, vela: sailing}`"),
))

RULES = Section(Rules, (
    Key("keep_in_touch", Section(Rules, prefix="keep_in_touch_", keys=(
        Key("default", Duration(whole_days=True), "how often to get in touch with anyone"),
        Key("categories", MapOf(Duration(whole_days=True), "mapping category → duration"),
            "per vCard CATEGORIES value, e.g. `{close-friends: 30d}`; the shortest matching one wins"),
    )), "how often to get in touch"),
    Key("birthday", Section(Rules, prefix="birthday_", keys=(
        Key("lead", Duration(whole_days=True), "how long before a birthday its follow-up is due"),
    )), "birthday follow-ups"),
    Key("weekly_cap", Count(), "at most this many keep-in-touch follow-ups per week"),
    Key("working_days", Weekdays(), "days follow-ups may fall on"),
    Key("horizon", Duration(whole_days=True), "follow-ups due further ahead than this are not written yet"),
))

SCHEMA = Section(Config, (
    Key("contacts", SectionList(SOURCE, "list of sources"), required=True,
        help="where your contacts are: one or more sources"),
    Key("calendar", CALENDAR, "where follow-ups are written"),
    Key("me", ME, "about you"),
    Key("tags", TAGS, "how interest tags are read from contacts"),
    Key("rules", RULES, "when follow-ups are due"),
    Key("state", PathValue(), f"the SQLite state file; {_RELATIVE}",
        default_doc="user state dir (`~/.local/state/syncd/syncd.sqlite` on Linux)"),
))


# --- the reference table --------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return f"`[{', '.join(map(str, value))}]`"
    if isinstance(value, dict):
        return "`{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}`"
    return f"`{value}`"


def reference_rows(section: Section = SCHEMA, parent: str = "") -> Iterator[tuple[str, str, str, str]]:
    """(key, type, default, meaning) for every key, parents before children."""
    for key in section.keys:
        path = join(parent, key.name)
        meaning = f"({key.only_for} only) {key.help}" if key.only_for else key.help
        if key.required:
            default = f"required for {key.only_for}" if key.only_for else "required"
        elif key.default_doc:
            default = key.default_doc
        elif isinstance(key.type, Section):
            default = ""
        else:
            default = _cell(None if (d := section.default(key)) is None else key.type.dump(d))
        yield path, key.type.doc, default, meaning
        if isinstance(key.type, Section):
            yield from reference_rows(key.type, path)
        elif isinstance(key.type, SectionList):
            yield from reference_rows(key.type.section, f"{path}[]")


def reference_markdown() -> str:
    """The README's table of every configuration key."""
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for path, type_doc, default, meaning in reference_rows():
        meaning = meaning.replace("|", "\\|")
        lines.append(f"| `{path}` | {type_doc} | {default} | {meaning} |")
    return "\n".join(lines) + "\n"
