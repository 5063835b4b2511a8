"""Every configuration key in one table (`SCHEMA`): its name, value type and one line of help.

The default of a key is the default of the dataclass field it fills (`syncd.config_types`), so
`Rules()` and a file without `rules:` agree by construction. The validator (`Section.parse`),
the effective-config dump (`Section.dump`) and the README table (`reference_markdown`) all walk
this one table. The value types are `syncd.config_values`; reading the file is `syncd.config`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass, fields
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from syncd.config_passwords import check_password_source
from syncd.config_types import (
    MASK,
    CalendarConfig,
    Config,
    DaemonConfig,
    IdeasConfig,
    MeConfig,
    Rules,
    SourceConfig,
    TagsConfig,
)
from syncd.config_values import (
    INVALID,
    Choice,
    Context,
    Count,
    Duration,
    EnvName,
    Flag,
    ListOf,
    MapOf,
    PathValue,
    PositiveNumber,
    Text,
    TextList,
    TimeZone,
    Url,
    ValueType,
    Weekdays,
    WholeNumber,
    describe,
    is_null,
    join,
    mapping_pairs,
)
from syncd.model import EXCHANGE_KINDS

# --- keys and sections ----------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    name: str
    type: ValueType | Section | SectionList
    help: str
    required: bool = False  # with `only_for`: required for that type only
    only_for: str | tuple[str, ...] | None = None  # valid only when the section's `type` is this
    secret: bool = False  # masked in every output
    default_doc: str | None = None  # how the reference shows a computed default
    attr: str | None = None  # the dataclass field, when not `name`

    @property
    def field_name(self) -> str:
        return self.attr or self.name

    @property
    def types(self) -> tuple[str, ...]:
        """The section types this key is valid for; () for every type."""
        if self.only_for is None:
            return ()
        return (self.only_for,) if isinstance(self.only_for, str) else self.only_for

    def applies(self, variant: Any) -> bool:
        return not self.types or variant in self.types

    @property
    def types_text(self) -> str:
        return " or ".join(self.types)


def _field_default(cls: type, name: str) -> Any:
    for f in fields(cls):
        if f.name == name:
            if f.default is not MISSING:
                return f.default
            if f.default_factory is not MISSING:
                return f.default_factory()
            return MISSING
    raise KeyError(f"{cls.__name__} has no field {name!r}")


# (built dataclass, its key nodes by name, where, key, context) -> whether it is valid
SectionCheck = Callable[[Any, dict[str, tuple[Node, Node]], Node | int, str, Context], bool]


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
    # Checks the built dataclass as a whole, reporting to the context; False makes it INVALID.
    check: SectionCheck | None = None

    def default(self, key: Key) -> Any:
        return _field_default(self.cls, self.prefix + key.field_name)

    # Exempt from the size rules: the one parser of every section, a branch per schema rule.
    def parse(self, node: Node | None, key: str, ctx: Context) -> Any:  # noqa: PLR0912, PLR0915
        """The built dataclass (a dict of fields when flattened into the parent), or INVALID."""
        if node is None or is_null(node):
            pairs: dict[str, tuple[Node, Node]] = {}
        elif isinstance(node, MappingNode):
            pairs = mapping_pairs(node, key, ctx)
        else:
            ctx.add(node, key, f"expected a mapping of keys, got {describe(node)}")
            return INVALID
        where: Node | int = node if node is not None else 1
        known = {k.name: k for k in self.keys}
        for name, (name_node, _) in pairs.items():
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                ctx.add(name_node, join(key, name), f"unknown key{hint}")

        values: dict[str, Any] = {}
        rejected: set[str] = set()  # keys of the wrong `type`: reported once, not again below
        ok = True
        variant: Any = None  # the value of this section's `type`, once known
        for k in self.keys:
            path = join(key, k.name)
            key_node: Node | None
            value_node: Node | None
            key_node, value_node = pairs.get(k.name) or (None, None)
            applies = k.applies(variant)
            if (k.only_for and value_node is not None and variant not in (None, INVALID)
                    and not applies):
                ctx.add(key_node or value_node, path,
                        f"only valid with type: {k.types_text} (this one is type: {variant})")
                rejected.add(k.name)
                ok = False
                continue
            if value_node is None or is_null(value_node):
                if k.required and applies:
                    where_missing = where if value_node is None else value_node
                    message = "required key is missing" if value_node is None else "needs a value"
                    ctx.add(where_missing, path, message)
                    ok = False
                if k.name == "type":
                    variant = self.default(k)
                continue
            value = _parse_value(k.type, value_node, path, ctx)
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
        if self.prefix:
            return values
        built = self.cls(**values)
        if self.check is not None and not self.check(built, pairs, where, key, ctx):
            return INVALID
        return built

    def dump(self, value: Any) -> dict[str, Any]:
        variant = getattr(value, self.prefix + "type", None)
        out: dict[str, Any] = {}
        for k in self.keys:
            if not k.applies(variant):
                continue
            if isinstance(k.type, Section) and k.type.prefix:
                out[k.name] = k.type.dump(value)
                continue
            item = getattr(value, self.prefix + k.field_name)
            out[k.name] = None if item is None else MASK if k.secret else k.type.dump(item)
        return out


def _parse_value(kind: ValueType | Section | SectionList, node: Node, key: str,
                 ctx: Context) -> Any:
    """`kind.parse`, with a number too big for Python's int, float or timedelta (`weekly_cap:
    9999...` of 5,000 digits, `horizon: 99999999999d`) reported on the line holding it instead
    of escaping as a ValueError or OverflowError."""
    try:
        return kind.parse(node, key, ctx)
    except (ValueError, OverflowError) as error:
        where, path, digits = _longest_number(node, key)
        if digits < _TOO_MANY_DIGITS:  # not a number's fault: say what Python said
            ctx.add(where, path, f"cannot be read: {error}")
            return INVALID
        shown = where.value if len(where.value) <= _SHOWN else where.value[:_SHOWN - 4] + "..."
        ctx.add(where, path, f"{shown!r} is too large ({digits} digits)")
        return INVALID


# A failed parse is blamed on a number from this many digits; the value is shown up to _SHOWN
# characters; the search for it goes _MAX_DEPTH levels deep.
_TOO_MANY_DIGITS, _SHOWN, _MAX_DEPTH = 10, 20, 50


def _longest_number(node: Node, key: str) -> tuple[Node, str, int]:
    """The scalar under `node` with the longest run of digits, its key path and that length
    (`node` itself and 0 when it holds no scalar)."""
    best: tuple[Node, str, int] = (node, key, 0)
    stack: list[tuple[Node, str, int]] = [(node, key, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, ScalarNode):
            digits = max(map(len, re.findall(r"[0-9]+", item.value)), default=0)
            if digits > best[2]:
                best = (item, path, digits)
        elif depth < _MAX_DEPTH and isinstance(item, SequenceNode):
            stack.extend((child, f"{path}[{index}]", depth + 1)
                         for index, child in enumerate(item.value))
        elif depth < _MAX_DEPTH and isinstance(item, MappingNode):
            for key_node, value_node in item.value:
                name = key_node.value if isinstance(key_node, ScalarNode) else "?"
                stack.append((value_node, join(path, name), depth + 1))
    return best


@dataclass(frozen=True)
class SectionList:
    section: Section
    doc: str
    min_items: int = 1

    def parse(self, node: Node, key: str, ctx: Context) -> Any:
        if not isinstance(node, SequenceNode):
            ctx.add(node, key,
                    f"expected a list (each entry starting with '- type:'), got {describe(node)}")
            return INVALID
        if len(node.value) < self.min_items:
            ctx.add(node, key, f"needs at least {self.min_items} entry")
            return INVALID
        items = [self.section.parse(item, f"{key}[{index}]", ctx)
                 for index, item in enumerate(node.value)]
        return INVALID if INVALID in items else tuple(items)

    def dump(self, value: Any) -> list[Any]:
        return [self.section.dump(item) for item in value]


# --- the schema -----------------------------------------------------------------------------

_RELATIVE = "`~` and `$VARS` expand; relative to the configuration file's folder"

_PASSWORDS = ("password", "password_command", "password_env")
_KEYRING = "; none of the three: the system keyring, if the `keyring` package is installed"
_TIMEOUT = ("how long one request may take to connect or to get an answer before it fails and "
            "is retried later (`2s`, `1m`)")


def _server_keys(kind: str, protocol: str) -> tuple[Key, ...]:
    """The keys a source or calendar of type `kind` (a DAV server) has beside its URL."""
    return (
        Key("username", Text(), f"{protocol} user name", only_for=kind),
        Key("password", Text(), only_for=kind, secret=True,
            help=f"{protocol} password in plain text: allowed, but prefer password_command or "
            "password_env"),
        Key("password_command", Text(), only_for=kind,
            help="shell command that prints the password (e.g. `pass show dav`)"),
        Key("password_env", EnvName(), f"environment variable that holds the password{_KEYRING}",
            only_for=kind),
        Key("verify", Flag(),
            "verify the server's TLS certificate; `false` logs a warning at every start",
            only_for=kind),
        Key("timeout", Duration(), _TIMEOUT, only_for=kind),
    )


SOURCE = Section(SourceConfig, one_of=(_PASSWORDS,), check=check_password_source, keys=(
    Key("type", Choice("vdir", "vcf", "carddav"), required=True,
        help="`vdir`: a folder of .vcf files (vdirsyncer / khard layout); `vcf`: one exported file"
        " with many cards; `carddav`: an address book on a CardDAV server"),
    Key("path", PathValue(), f"the folder or file; {_RELATIVE}", required=True,
        only_for=("vdir", "vcf")),
    Key("url", Url(), "the address book collection URL, e.g. `https://dav.example.com/anna/contacts/`",
        required=True, only_for="carddav"),
    *_server_keys("carddav", "CardDAV"),
))

CALENDAR = Section(CalendarConfig, one_of=(_PASSWORDS,), check=check_password_source, keys=(
    Key("type", Choice("local", "caldav"),
        "`local`: a folder of .ics files; `caldav`: a calendar on a CalDAV server"),
    Key("path", PathValue(), f"folder of the local calendar; {_RELATIVE}", only_for="local",
        default_doc="user data dir (`~/.local/share/syncd/calendar` on Linux)"),
    Key("url", Url(), "the CalDAV server (or calendar collection) URL", only_for="caldav",
        required=True),
    Key("calendar", Text(), "name of the calendar the follow-ups go into"),
    *_server_keys("caldav", "CalDAV"),
    Key("component", Choice("todo", "event"),
        "write follow-ups as tasks (`todo`, VTODO) or as events (`event`, VEVENT)"),
))

ME = Section(MeConfig, (
    Key("name", Text(), "your name, for the wording of follow-ups"),
    Key("interests", TextList(),
        "your own interests: common ground with a contact makes a follow-up idea"),
    Key("language", Choice("en", "it"),
        "language of the follow-ups written into the calendar, and of a contact whose card "
        "gives no language of its own"),
))

TAGS = Section(TagsConfig, (
    Key("markers", TextList(),
        "NOTE lines `Marker: a, b; c / d and e` give a contact the tags a to e "
        "(items split on `,` `;` `/` and the words and, e, &)"),
    Key("synonyms", MapOf(Text(), "mapping alias → tag"),
        "tags to rename, e.g. `{ml: machine-learning, vela: sailing}`"),
    Key("related", MapOf(TextList(), "mapping tag → list of tags"),
        "more related tags, added to the shipped vocabulary, e.g. `{sailing: [ocean, boats]}`"),
    Key("not_interests", TextList(),
        "tags that are never interests, e.g. `[clients, newsletter]`: besides the known groups "
        "of the address book apps (myContacts, starred, Family, Work, Famiglia…) and the "
        "`rules.keep_in_touch.categories` names, which count as groups, not interests"),
))

RULES = Section(Rules, (
    Key("keep_in_touch", Section(Rules, prefix="keep_in_touch_", keys=(
        Key("default", Duration(whole_days=True), "how often to get in touch with anyone"),
        Key("categories", MapOf(Duration(whole_days=True), "mapping category → duration"),
            "per vCard CATEGORIES value, e.g. `{close-friends: 30d}`; "
            "the shortest matching one wins"),
    )), "how often to get in touch"),
    Key("birthday", Section(Rules, prefix="birthday_", keys=(
        Key("lead", Duration(whole_days=True), "how long before a birthday its follow-up is due"),
    )), "birthday follow-ups"),
    Key("weekly_cap", Count(), "at most this many keep-in-touch follow-ups per week"),
    Key("working_days", Weekdays(), "days follow-ups may fall on"),
    Key("horizon", Duration(whole_days=True),
        "follow-ups due further ahead than this are not written yet"),
    Key("give_back", Section(Rules, prefix="give_back_", keys=(
        Key("threshold", PositiveNumber(),
            "a give-back follow-up is due once the weights received minus those given reach this"),
        Key("window", Duration(whole_days=True),
            "only exchanges within this long before today count"),
        Key("after", Duration(whole_days=True),
            "the give-back is due this long after the last exchange received"),
        Key("weights", MapOf(PositiveNumber(), "mapping kind → positive number", EXCHANGE_KINDS,
                             what="exchange kind"),
            "weight per exchange kind, e.g. `{book: 3}`; the kinds not given keep their default"),
    )), "give-back follow-ups: return what you received"),
    Key("skip_categories", TextList(),
        "contacts in one of these vCard CATEGORIES (case, spaces and punctuation ignored) get no "
        "follow-up and are never suggested as an introduction; their ledger is kept"),
    Key("skip", TextList(),
        "contacts kept out the same way, each a UID, an email or a name (as `syncd log` takes "
        "it), e.g. `[dentist@example.org, \"Idraulico Rossi\"]`"),
))

IDEAS = Section(IdeasConfig, (
    Key("per_followup", WholeNumber(0, 10),
        "at most this many catalog ideas in one follow-up; 0 for none"),
))

DAEMON = Section(DaemonConfig, (
    Key("poll", Duration(), "how often `syncd run` polls the CalDAV/CardDAV servers"),
    Key("debounce", Duration(),
        "how long the contact files must be quiet before `syncd run` reads them (at most a "
        "minute after the first change), so a burst or an export being rewritten is one cycle"),
))

SCHEMA = Section(Config, (
    Key("contacts", SectionList(SOURCE, "list of sources"), required=True,
        help="where your contacts are: one or more sources"),
    Key("calendar", CALENDAR, "where follow-ups are written"),
    Key("me", ME, "about you"),
    Key("tags", TAGS, "how interest tags are read from contacts"),
    Key("rules", RULES, "when follow-ups are due"),
    Key("ideas", IDEAS, "ideas from the catalog (books, webinars, ...) in follow-ups"),
    Key("catalog", ListOf(PathValue(), "list of paths"),
        f"more catalog YAML files, added to the one shipped with syncd; {_RELATIVE}"),
    Key("daemon", DAEMON, "the background daemon, `syncd run`"),
    Key("timezone", TimeZone(),
        "the day changes (and the daemon re-plans) at midnight here; default: the system's"),
    Key("state", PathValue(), f"the SQLite state file; {_RELATIVE}",
        default_doc="user state dir (`~/.local/state/syncd/syncd.sqlite` on Linux; "
                    "`NAME.sqlite` for the profile `$SYNCD_PROFILE` names, as `syncd@NAME` does)"),
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


def reference_rows(section: Section = SCHEMA,
                   parent: str = "") -> Iterator[tuple[str, str, str, str]]:
    """(key, type, default, meaning) for every key, parents before children."""
    for key in section.keys:
        path = join(parent, key.name)
        meaning = f"({key.types_text} only) {key.help}" if key.only_for else key.help
        if key.required:
            default = f"required for {key.types_text}" if key.only_for else "required"
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
