"""`syncd log`, `syncd balance` and `syncd ledger export|import`: the reciprocity ledger."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from syncd import cycle, gather, ledger_files, reciprocity, salvage
from syncd.cli_common import config_option, json_option, load, resolve_today, table, today_option
from syncd.errors import StateError, SyncdError
from syncd.ledger import Ledger
from syncd.lookup import find_contact
from syncd.model import RECEIVED, Contact, Exchange
from syncd.state import State
from syncd.terminal import shown


class _Word(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.4 only
    """A word of one of reciprocity's tables (a kind, a direction), as NOTE lines take it:
    `libro` is book, case ignored."""

    def __init__(self, name: str, meaning: Callable[[str], str | None], words: str) -> None:
        self.name, self.meaning, self.words = name, meaning, words

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        found = self.meaning(str(value))
        if found is None:
            self.fail(f"{value!r} is not a {self.name}; one of {self.words}", param, ctx)
        return found

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.name.upper()


DIRECTION = _Word("direction", reciprocity.direction_of, reciprocity.direction_words())
KIND = _Word("kind", reciprocity.kind_of, reciprocity.kind_words())


@click.command("log", help=f"""Record that you gave something to CONTACT or received something
    from them.

    DIRECTION is one of {reciprocity.direction_words()}. CONTACT is a UID, an email or a name
    (accents and case ignored). KIND is one of {reciprocity.kind_words()} (case ignored, as in a
    NOTE line).""")
@config_option
@click.argument("direction", type=DIRECTION)
@click.argument("contact")
@click.argument("kind", type=KIND)
@click.argument("item")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="When it happened (default: today).")
@click.option("--weight", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Instead of the kind's weight from rules.give_back.weights.")
@click.option("--note", default="", help="Anything to remember about it.")
@click.pass_context
def log_command(
    ctx: click.Context, config_path: Path | None, direction: str, contact: str, kind: str,
    item: str, day: dt.datetime | None, weight: float | None, note: str,
) -> None:
    config = load(ctx, config_path)
    read = cycle.read_contacts(config)
    person = find_contact(read.contacts, contact)
    when = resolve_today(day, config)
    today = resolve_today(None, config)
    if when > today:
        raise click.BadParameter(f"{when} is in the future (today is {today}"
                                 f"{f' in {config.timezone}' if config.timezone else ''}); log "
                                 "what happened, when it happened", param_hint="'--date'")
    exchange = Exchange(person.uid, direction, kind, item, when,
                        weight if weight is not None else config.rules.give_back_weights[kind],
                        "cli", note)
    with State(config.state) as state:
        people = cycle.with_ledgers(read, state, today)
        added = Ledger(state).add(exchange)
        view = cycle.ledger_view(config, people, today, state)
    standing = view.standings.get(person.uid)
    what = "logged" if added else "already in the ledger"
    arrow = "from" if direction == RECEIVED else "to"
    click.echo(shown(f"{what}: {direction} {kind} “{item}” {arrow} {person.name} on {when}"
                     f" (weight {exchange.weight:g}); balance {_balance(standing)}"))


@click.command()
@config_option
@today_option
@json_option
@click.argument("contact", required=False)
@click.pass_context
def balance(
    ctx: click.Context, config_path: Path | None, today: dt.datetime | None, as_json: bool,
    contact: str | None,
) -> None:
    """What is owed, person by person (received minus gave, in rules.give_back.window); with
    CONTACT, that person's whole history."""
    config = load(ctx, config_path)
    read = cycle.read_contacts(config)
    day = resolve_today(today, config)
    with State(config.state) as state:
        people = cycle.with_ledgers(read, state, resolve_today(None, config))
        view = cycle.ledger_view(config, people, day, state)
        known = Ledger(state).known()
    names = {p.uid: p.name for p in people}
    if contact:
        person = find_contact(people, contact)
        _history(person, view, as_json)
        return
    uids = sorted(
        view.standings.keys() | view.last_contact.keys(),
        key=lambda uid: (-(view.standings[uid].balance if uid in view.standings else 0.0),
                         (names.get(uid) or uid).casefold()),
    )
    rows = [_summary(uid, names.get(uid, uid), view) for uid in uids if uid in names]
    # Rows of an id no card has: a card removed, or one whose id changed and matched no card.
    unmatched = [_summary(uid, known[uid].name if uid in known else "", view) | {"unmatched": True}
                 for uid in uids if uid not in names]
    if as_json:
        click.echo(json.dumps(rows + unmatched, ensure_ascii=False, indent=2))
        return
    table(("name", "balance", "last exchange", "last contact"),
          [(r["name"], f"{r['balance']:g}", r["last_exchange"] or "", r["last_contact"] or "")
           for r in rows])
    if unmatched:
        click.echo(f"\n{len(unmatched)} in the ledger match no contact (a card removed, or one "
                   "whose id changed); `syncd ledger relink ID CONTACT` gives one to a contact:")
        table(("id", "last known as", "balance", "last exchange", "last contact"),
              [(r["uid"], r["name"], f"{r['balance']:g}", r["last_exchange"] or "",
                r["last_contact"] or "") for r in unmatched])


def _summary(uid: str, name: str, view: cycle.LedgerView) -> dict[str, Any]:
    standing = view.standings.get(uid)
    last_exchange = standing.last_exchange if standing else None
    last_contact = view.last_contact.get(uid)
    return {
        "uid": uid,
        "name": name,
        "balance": standing.balance if standing else 0.0,
        "last_exchange": last_exchange.isoformat() if last_exchange else None,
        "last_contact": last_contact.isoformat() if last_contact else None,
    }


def _history(person: Contact, view: cycle.LedgerView, as_json: bool) -> None:
    history = [e for e in view.exchanges if e.contact_uid == person.uid]
    data = _summary(person.uid, person.name, view) | {
        "history": [ledger_files.row(e, person.name) for e in history]
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(shown(f"{person.name}: balance {data['balance']:g}"))
    table(("id", "date", "direction", "kind", "item", "weight", "source"),
          [(reciprocity.entry_id(e), e.date.isoformat(), e.direction, e.kind, e.item,
            f"{e.weight:g}", e.source) for e in history])


def _balance(standing: reciprocity.Standing | None) -> str:
    value = standing.balance if standing else 0.0
    return f"{value:g} owed" if value > 0 else f"{value:g}"


@click.group()
def ledger() -> None:
    """Export, import or correct the ledger."""


@ledger.command("export")
@config_option
@click.option("--format", "fmt", type=click.Choice(["csv", "yaml"]), default="csv",
              show_default=True)
@click.pass_context
def export(ctx: click.Context, config_path: Path | None, fmt: str) -> None:
    """Print every exchange (stored ones and NOTE lines) as CSV or YAML. A state file that
    cannot be opened (damaged, read-only) is read read-only instead: every row that can be read
    is printed, and what could not be is said."""
    config = load(ctx, config_path)
    people = cycle.read_contacts(config).contacts
    names = {p.uid: p.name for p in people}
    problems: list[str] = []
    try:
        with State(config.state) as state:
            exchanges = cycle.ledger_view(config, people, dt.date.max, state).exchanges
    except (StateError, sqlite3.DatabaseError) as error:
        exchanges, problems = salvage.read_exchanges(Path(config.state))
        click.echo(f"syncd: warning: {error}; the stored exchanges that can be read are "
                   "exported (the NOTE lines are on the cards)", err=True)
    rows = [ledger_files.row(e, names.get(e.contact_uid, "")) for e in exchanges]
    click.echo(ledger_files.to_yaml(rows) if fmt == "yaml" else ledger_files.to_csv(rows),
               nl=False)
    _tell(problems)


def _tell(problems: list[str]) -> None:
    for problem in problems:
        click.echo(f"syncd: error: {problem}", err=True)
    if problems:
        sys.exit(1)


@ledger.command("remove")
@config_option
@click.argument("entry")
@click.pass_context
def remove(ctx: click.Context, config_path: Path | None, entry: str) -> None:
    """Take back the ledger entry ENTRY (its id, as `syncd balance CONTACT` and `syncd ledger
    export` show it)."""
    config = load(ctx, config_path)
    people = cycle.read_contacts(config).contacts
    by_uid = {p.uid: p for p in people}
    with State(config.state) as state:
        found = [e for e in cycle.ledger_view(config, people, dt.date.max, state).exchanges
                 if reciprocity.entry_id(e) == entry.strip().lower()]
        if not found:
            raise SyncdError(f"no ledger entry {entry!r}; `syncd balance CONTACT` lists the "
                             "entries of a contact with their ids")
        exchange = found[0]
        person = by_uid.get(exchange.contact_uid)
        name = shown(person.name if person else exchange.contact_uid)
        if exchange.source == "note":
            where = f" ({shown(person.source)}:{person.line})" if person else ""
            raise SyncdError(f"entry {entry} is a line of the NOTE on {name}'s card{where}: "
                             "remove that line from the card")
        if not Ledger(state).remove(exchange):
            raise SyncdError(f"entry {entry} mirrors an introduction recorded on another "
                             f"contact ({shown(exchange.note)}): remove that entry instead")
    click.echo(f"removed: {exchange.direction} {exchange.kind} “{shown(exchange.item)}” "
               f"({name}, {exchange.date})")


@ledger.command("relink")
@config_option
@click.argument("old")
@click.argument("contact")
@click.pass_context
def relink(ctx: click.Context, config_path: Path | None, old: str, contact: str) -> None:
    """Give every ledger row of the id OLD (as `syncd balance` lists the ids that match no
    contact) to CONTACT (a UID, an email or a name); its follow-ups keep their calendar objects.
    The next sync does this by itself when one card has OLD's email, phone or name."""
    config = load(ctx, config_path)
    read = cycle.read_contacts(config)
    person = find_contact(read.contacts, contact)
    if old == person.uid:
        raise SyncdError(f"{shown(old)} is already {shown(person.name)}'s id")
    with State(config.state) as state:
        ledger = Ledger(state)
        if old not in ledger.owners():
            raise SyncdError(f"no ledger rows under the id {shown(old)}; `syncd balance` lists "
                             "the ids that match no contact")
        moved = ledger.relink(old, person.uid, "by hand", resolve_today(None, config))
    said = ", ".join(f"{count} {what}" for what, count in moved.items() if count)
    click.echo(shown(f"relinked: {said or 'no rows'} of {old} to {person.name} ({person.uid})"))


@ledger.command("import")
@config_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_(ctx: click.Context, config_path: Path | None, file: Path) -> None:
    """Add the exchanges of a CSV or YAML file (an export, or one written by hand); those
    already there, stored or a NOTE line on a card, are left as they are. Every problem is
    listed and nothing is written unless the whole file is valid.

    A row names its contact by `contact_uid`, or by `contact` (a UID, an email or a name, as
    `syncd log` takes it); `direction` and `kind` take the words `syncd log` takes; an empty
    `weight` is the kind's weight from rules.give_back.weights."""
    config = load(ctx, config_path)
    read = cycle.read_contacts(config)
    people = read.contacts
    exchanges = ledger_files.exchanges(
        ledger_files.parse(str(file), _read(file)),
        lambda query: find_contact(people, query).uid, config.rules.give_back_weights)
    on_cards = {reciprocity.identity(e) for e in gather.note_exchanges(config, people)}
    # A NOTE line exported lives on its card: stored too, it would outlive the line, and every
    # export imported back would add it once more. One no card has now is kept as imported;
    # while a source did not read whole, one of a contact not read may still be on its card.
    fresh = [e for e in exchanges if reciprocity.identity(e) not in on_cards]
    read_uids = {p.uid for p in people}
    waiting = [e for e in fresh if e.source == "note" and not read.trusted
               and e.contact_uid not in read_uids]
    fresh = [replace(e, source="import") if e.source == "note" else e
             for e in fresh if e.source != "note" or read.trusted or e.contact_uid in read_uids]
    with State(config.state) as state:
        added = Ledger(state).add_many(fresh)
    click.echo(f"{len(exchanges)} exchanges read, {added} new, "
               f"{len(exchanges) - added - len(waiting)} already there")
    if waiting:
        click.echo(f"syncd: warning: {len(waiting)} NOTE lines of contacts not read now (a "
                   "source did not read whole) are not imported: import the file again once "
                   "it reads", err=True)


def _read(file: Path) -> str:
    # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte order mark.
    with file.open(encoding="utf-8-sig", newline="") as text:
        return text.read()


def register(main: click.Group) -> None:
    for command in (log_command, balance, ledger):
        main.add_command(command)
