"""What the sync state-machine and fault tests share: cards written as real files, a config built
from the dataclasses, a person's client acting on a target through the Target contract, and
target wrappers that crash or lose a race at a chosen write."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable
from pathlib import Path

import icalendar

from syncd import cycle, render
from syncd.config import Config, MeConfig, Rules, SourceConfig
from syncd.model import followup_of
from syncd.targets import Target

START = dt.date(2026, 11, 30)  # a Monday


def now_on(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), dt.timezone.utc)


# -- contacts ------------------------------------------------------------------------------------


def card_text(uid: str, name: str, birthday: dt.date | None = None, interests: str = "",
              complete: bool = True) -> str:
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"UID:{uid}", f"FN:{name}"]
    if birthday is not None:
        lines.append(f"BDAY:{birthday.isoformat()}")
    if interests:
        lines.append(f"NOTE:Interests: {interests}")
    if complete:
        lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def write_card(folder: Path, uid: str, name: str, birthday: dt.date | None = None,
               interests: str = "") -> Path:
    path = folder / f"{uid}.vcf"
    path.write_text(card_text(uid, name, birthday, interests), encoding="utf-8")
    return path


def make_config(home: Path, *sources: Path | SourceConfig, rules: Rules | None = None) -> Config:
    """Contacts from `sources` (a folder is a vdir; default `home/contacts`), the state file in
    `home`. The calendar is passed to `sync` directly, so the config's own is never used."""
    contacts = tuple(source if isinstance(source, SourceConfig) else SourceConfig("vdir", source)
                     for source in sources or (home / "contacts",))
    return Config(
        contacts=contacts,
        me=MeConfig(interests=("sailing",)),
        rules=rules or Rules(),
        state=home / "state.sqlite",
    )


LOCAL_HEAD = "contacts:\n  - type: vdir\n    path: contacts\ncalendar:\n  type: local\n  path: calendar\n"


def local_config(rest: str = "state: state/syncd.sqlite\n") -> str:
    """A config.yaml's text: the folder `contacts` to the calendar folder `calendar`, then
    `rest` (dedented), relative to the config's folder."""
    return LOCAL_HEAD + textwrap.dedent(rest)


def run_cli(home: Path, *args: str, code: int = 0):
    """`syncd ARGS --config HOME/config.yaml` in process; asserts the exit status."""
    from click.testing import CliRunner

    from syncd.cli import main

    result = CliRunner().invoke(main, [*args, "--config", str(home / "config.yaml")])
    assert result.exit_code == code, (result.output, result.stderr, result.exception)
    return result


def planned_uids(config: Config, state, today: dt.date) -> set[str]:
    """The follow-up UIDs `cycle.sync` will want on `today` (the same read and plan)."""
    contacts = cycle.read_contacts(config).contacts
    return {f.uid for f in cycle.make_plan(config, contacts, today, state)}


# -- a person's calendar app -----------------------------------------------------------------------


def parse(item: str) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(item)


def main_component(calendar: icalendar.Calendar):
    return next(c for c in calendar.walk() if c.name in ("VTODO", "VEVENT"))


def uid_of(item: str) -> str:
    """The follow-up the object is for (its UID without the calendar's scope)."""
    return followup_of(str(main_component(parse(item))["UID"]))


def is_syncd(item: str) -> bool:
    return render.MARK_CONTACT in main_component(parse(item))


def is_completed(item: str) -> bool:
    return str(main_component(parse(item)).get("STATUS", "")).upper() == "COMPLETED"


def edited(item: str, summary: str) -> str:
    """`item` as a person's app saves it after retitling it."""
    calendar = parse(item)
    component = main_component(calendar)
    component.pop("SUMMARY", None)
    component.add("summary", summary)
    return calendar.to_ical().decode("utf-8")


def completed(item: str, when: dt.datetime) -> str:
    """`item` as a person's app saves it after ticking it off."""
    calendar = parse(item)
    component = main_component(calendar)
    for name in ("STATUS", "COMPLETED", "PERCENT-COMPLETE"):
        component.pop(name, None)
    component.add("status", "COMPLETED")
    component.add("completed", when)
    component.add("percent-complete", 100)
    return calendar.to_ical().decode("utf-8")


def foreign_item(uid: str, summary: str = "Dentist") -> str:
    """An object another app wrote: no X-SYNCD marks."""
    todo = icalendar.Todo()
    todo.add("uid", uid)
    todo.add("dtstamp", dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
    todo.add("summary", summary)
    todo.add("due", dt.date(2026, 12, 24))
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//someone else//EN")
    calendar.add("version", "2.0")
    calendar.add_component(todo)
    return calendar.to_ical().decode("utf-8")


def objects(target: Target) -> dict[str, tuple[str, str]]:
    """href → (item, etag) of everything in the target."""
    return {href: target.get(href) for href in sorted(target.list())}


def write_counts(report: cycle.Report) -> tuple[int, int, int]:
    return report.counts["created"], report.counts["updated"], report.counts["deleted"]


# -- wrappers --------------------------------------------------------------------------------------


class Crash(BaseException):
    """The process dies: not an Exception, so nothing in syncd catches it."""


Hook = Callable[[str, str, "str | None", Callable[[], object]], object]


class Wrapper:
    """A Target that passes everything to `inner`, calling `hook(op, href, item, write)` for each
    of syncd's writes (`item` is None for a delete); the hook decides when and whether to call
    `write()`. `writes` lists the writes that succeeded, and `on_write(op, href)` is called
    right after each, in order with whatever the hook does."""

    def __init__(self, inner: Target, hook: Hook | None = None) -> None:
        self.inner = inner
        self.description = inner.description
        self.hook = hook or (lambda op, href, item, write: write())
        self.writes: list[tuple[str, str]] = []  # (op, href) of every write that went through
        self.on_write: Callable[[str, str], object] = lambda op, href: None

    def __getattr__(self, name: str):
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)  # anything else the target offers, e.g. `use_cache`

    def href_for(self, uid: str) -> str:
        return self.inner.href_for(uid)

    def list(self) -> dict[str, str]:
        return self.inner.list()

    def get(self, href: str) -> tuple[str, str]:
        return self.inner.get(href)

    def _do(self, op: str, href: str, item: str | None, write: Callable[[], object]):
        def recorded():
            result = write()
            self.writes.append((op, href))
            self.on_write(op, href)
            return result

        return self.hook(op, href, item, recorded)

    def create(self, href: str, item: str) -> str:
        return self._do("create", href, item, lambda: self.inner.create(href, item))  # type: ignore[return-value]

    def update(self, href: str, item: str, etag: str) -> str:
        return self._do("update", href, item, lambda: self.inner.update(href, item, etag))  # type: ignore[return-value]

    def delete(self, href: str, etag: str) -> None:
        self._do("delete", href, None, lambda: self.inner.delete(href, etag))


def crash_after(inner: Target, number: int, *, before: bool = False) -> Wrapper:
    """Dies right after (or right before) syncd's write number `number` (0-based) succeeded,
    before the state file learns about it."""
    seen = [0]

    def hook(op, href, item, write):
        index = seen[0]
        seen[0] += 1
        if index == number and before:
            raise Crash(f"before {op} {href}")
        result = write()
        if index == number:
            raise Crash(f"after {op} {href}")
        return result

    return Wrapper(inner, hook)
