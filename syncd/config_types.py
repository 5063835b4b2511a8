"""The result of reading the configuration: frozen dataclasses, and the defaults they carry.

The defaults here are the only ones: `syncd.config_schema` reads each key's default from the
field it fills, so `Rules()` and a file without `rules:` agree by construction. Nothing here
reads YAML; `syncd.config` re-exports these names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import platformdirs

from syncd.errors import ConfigError
from syncd.model import EXCHANGE_KINDS

_K = TypeVar("_K")
_V = TypeVar("_V")

MASK: Final = "********"
# The longest duration a rule (`rules:`, whole days) may have: with it, every date the planner
# adds or subtracts stays within `datetime.date`'s years 1-9999 from any day `--today` accepts
# (`syncd.clock.FIRST_DAY` .. `LAST_DAY`).
LONGEST_RULE: Final = timedelta(days=36_500)


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


def mask_url(url: str) -> str:
    """The URL with a password written into it (`https://me:secret@host`) masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return parts._replace(netloc=f"{user}:{MASK}@{host}").geturl()


def default_calendar_path() -> Path:
    return platformdirs.user_data_path("syncd") / "calendar"


# Set by the `syncd@NAME` unit to NAME; set it by hand to work with that profile from a shell.
PROFILE_VARIABLE: Final = "SYNCD_PROFILE"
_PROFILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def checked_profile(name: str, where: str) -> str:
    """`name` if it can name a profile's files (`NAME.yaml`, `NAME.sqlite`); `where` says in the
    error where it came from."""
    if not _PROFILE_NAME.fullmatch(name):
        raise ConfigError([f"{where}: {name!r} is not a profile name: letters, digits, '_', '.'"
                           " and '-', at most 64, not starting with '.' or '-'"])
    return name


def current_profile() -> str | None:
    """The profile named by `$SYNCD_PROFILE`, or None."""
    name = os.environ.get(PROFILE_VARIABLE)
    return checked_profile(name, f"${PROFILE_VARIABLE}") if name else None


def default_state_path() -> Path:
    """`syncd.sqlite` in the user state dir; `NAME.sqlite` there for a profile, so that two
    profiles without `state:` do not share one ledger (and one daemon lock)."""
    return platformdirs.user_state_path("syncd") / f"{current_profile() or 'syncd'}.sqlite"


# How much one exchange of each kind counts towards a give-back: 2 for these, 1 for the others.
_HEAVY_KINDS = ("book", "gift", "course", "intro")
DEFAULT_GIVE_BACK_WEIGHTS: Final = FrozenMap(
    {kind: 2.0 if kind in _HEAVY_KINDS else 1.0 for kind in EXCHANGE_KINDS}
)


@dataclass(frozen=True)
class SourceConfig:
    type: str  # "vdir" | "vcf" | "carddav"
    path: Path | None = None  # vdir and vcf only
    url: str | None = None  # carddav only, from here on: the address book collection
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never printed
    password_command: str | None = None
    password_env: str | None = None
    verify: bool = True
    timeout: timedelta = timedelta(seconds=30)  # per request: connect, or wait for an answer

    def __repr__(self) -> str:
        return _masked_repr(self)


def _masked_repr(config: SourceConfig | CalendarConfig) -> str:
    """The dataclass repr without the password, and with a password written into the URL
    masked too."""
    shown = {f.name: getattr(config, f.name) for f in fields(config) if f.repr}
    shown["url"] = config.url and mask_url(config.url)
    return f"{type(config).__name__}({', '.join(f'{k}={v!r}' for k, v in shown.items())})"


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
    timeout: timedelta = timedelta(seconds=30)  # per request: connect, or wait for an answer
    component: str = "todo"  # "todo" (VTODO) | "event" (VEVENT)

    def __repr__(self) -> str:
        return _masked_repr(self)


@dataclass(frozen=True)
class MeConfig:
    name: str | None = None
    interests: tuple[str, ...] = ()
    language: str = "en"  # "en" | "it"


@dataclass(frozen=True)
class TagsConfig:
    markers: tuple[str, ...] = ("Interests", "Interessi")
    synonyms: Mapping[str, str] = field(default_factory=FrozenMap)  # alias -> tag
    # tag -> related tags, added to the shipped vocabulary
    related: Mapping[str, tuple[str, ...]] = field(default_factory=FrozenMap)
    # CATEGORIES values (and tags anywhere) that are never interests, besides the known groups
    not_interests: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "synonyms", FrozenMap(self.synonyms))
        object.__setattr__(self, "not_interests", tuple(self.not_interests))
        related = {tag: tuple(more) for tag, more in self.related.items()}
        object.__setattr__(self, "related", FrozenMap(related))


@dataclass(frozen=True)
class Rules:
    keep_in_touch_default: timedelta = timedelta(days=90)
    keep_in_touch_categories: Mapping[str, timedelta] = field(default_factory=FrozenMap)
    birthday_lead: timedelta = timedelta(days=7)
    weekly_cap: int = 10
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday is 0
    horizon: timedelta = timedelta(days=28)
    give_back_threshold: float = 1.0  # received − given weights that make a give-back due
    give_back_window: timedelta = timedelta(days=365)
    give_back_after: timedelta = timedelta(days=7)
    # Always every kind of EXCHANGE_KINDS: the kinds given here override the defaults.
    give_back_weights: Mapping[str, float] = field(
        default_factory=lambda: DEFAULT_GIVE_BACK_WEIGHTS)
    # Contacts kept out: no follow-up, never introduced (`planner.kept_out`).
    skip_categories: tuple[str, ...] = ("no-followups",)  # CATEGORIES values, compared as groups
    skip: tuple[str, ...] = ()  # UIDs, emails or names, as `syncd log` finds a contact

    def __post_init__(self) -> None:
        object.__setattr__(self, "keep_in_touch_categories",
                           FrozenMap(self.keep_in_touch_categories))
        object.__setattr__(self, "skip_categories", tuple(self.skip_categories))
        object.__setattr__(self, "skip", tuple(self.skip))
        unknown = sorted(set(self.give_back_weights) - set(EXCHANGE_KINDS))
        if unknown:
            raise ValueError(f"give_back_weights: unknown exchange kind {unknown[0]!r}")
        given = {kind: float(w) for kind, w in self.give_back_weights.items()}
        weights = {**DEFAULT_GIVE_BACK_WEIGHTS, **given}
        object.__setattr__(self, "give_back_weights", FrozenMap(weights))


@dataclass(frozen=True)
class IdeasConfig:
    per_followup: int = 3  # at most this many catalog ideas in one follow-up; 0 for none


@dataclass(frozen=True)
class DaemonConfig:
    poll: timedelta = timedelta(minutes=5)  # how often `syncd run` polls the servers
    debounce: timedelta = timedelta(seconds=1)  # quiet time after a contact file changes


@dataclass(frozen=True)
class Config:
    contacts: tuple[SourceConfig, ...]
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    me: MeConfig = field(default_factory=MeConfig)
    tags: TagsConfig = field(default_factory=TagsConfig)
    rules: Rules = field(default_factory=Rules)
    ideas: IdeasConfig = field(default_factory=IdeasConfig)
    catalog: tuple[Path, ...] = ()  # extra catalog files, besides the shipped one
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    timezone: str | None = None  # IANA name; None: the system's local time
    state: Path = field(default_factory=default_state_path)
    path: Path | None = None  # the file this was read from
