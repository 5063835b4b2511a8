"""What a cycle reads before it decides: the contacts with a verdict on each source, the ledger
as of today, the plan and its rendered objects. The caches of a run (catalog, vocabulary,
rendered objects) belong to one `RunContext`: the daemon keeps it until a reload rebuilds it,
every command makes its own.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from syncd import identity, interests, reciprocity, render, rules
from syncd.catalog import load_catalog, load_vocabulary, shipped_catalog_paths
from syncd.config import Config
from syncd.errors import SourceError
from syncd.ideas import Vocabulary
from syncd.inspire import YEAR, Inspiration, enrich
from syncd.ledger import Ledger
from syncd.model import REASONS, Contact, Exchange, FollowUp, Idea, object_uid
from syncd.planner import CADENCE_REASONS, kept_out, plan
from syncd.reconcile import Desired
from syncd.rules import LedgerView
from syncd.sources import dedupe, make_source
from syncd.state import COMPLETED, DISMISSED, State, Written
from syncd.targets import Target

log = logging.getLogger(__name__)

# Rendered follow-ups kept by a run: a follow-up whose inputs did not change is not rendered
# again (icalendar cost about 2.3 ms per object, which made an idle daemon's cycle CPU-bound;
# the hand-written writer is faster, and the cache still saves the whole render of an idle cycle).
_RENDERED_MAX = 200_000


# The parsed catalog and vocabulary, shared by the runs of one process while the catalog files
# are unchanged: parsing the shipped catalog costs about 0.3 s, which every `cycle.sync` of a test
# and both halves of `syncd plan` paid again. A file edited (or a reload with other files) has
# another key, so a reload still reads an edited catalog.
_PARSED_IDEAS: dict[tuple[object, ...], tuple[list[Idea], Vocabulary]] = {}


def _stats(paths: tuple[Path, ...]) -> tuple[object, ...]:
    found: list[tuple[object, ...]] = []
    for path in (*shipped_catalog_paths(), *paths):
        try:
            info = os.stat(Path(path).expanduser())
            found.append((str(path), info.st_mtime_ns, info.st_size, info.st_ino))
        except OSError:
            found.append((str(path), None))  # load_catalog says what is wrong with it
    return tuple(found)


class RunContext:
    """The caches of one configuration: dropped with it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._ideas: tuple[list[Idea], Vocabulary] | None = None
        self._rendered: dict[tuple[FollowUp, str, str, str, str], render.Rendered] = {}
        self.said: set[tuple[str, str]] = set()  # messages given once per run

    def ideas(self) -> tuple[list[Idea], Vocabulary]:
        """The catalog (shipped and the person's files) and the tag vocabulary, read once per
        run; a bad catalog file is a ConfigError naming file and line."""
        if self._ideas is None:
            config = self.config
            key = (_stats(config.catalog), config.tags.synonyms, config.tags.related)
            if key not in _PARSED_IDEAS:
                _PARSED_IDEAS.clear()  # only the configuration in use is worth keeping
                _PARSED_IDEAS[key] = (load_catalog(list(config.catalog)),
                                      load_vocabulary(config.tags.synonyms, config.tags.related))
            self._ideas = _PARSED_IDEAS[key]
        return self._ideas

    def my_interests(self) -> tuple[str, ...]:
        """My interests, normalised, one per meaning, in my words (`vela`, not `sailing`)."""
        vocabulary = self.ideas()[1]
        mine: dict[str, str] = {}
        for written, canonical in map(vocabulary.forms, self.config.me.interests):
            if canonical:
                mine.setdefault(canonical, written)
        return tuple(mine.values())

    def desire(self, followups: list[FollowUp], target: Target, now: dt.datetime,
               instance: str, scope: str = "") -> dict[str, Desired]:
        """What the plan wants in `target`, rendered, keyed by follow-up; its UIDs in `scope`
        (`engine.uid_scope`)."""
        if len(self._rendered) > _RENDERED_MAX:
            self._rendered.clear()
        desired = {}
        language, component = self.config.me.language, self.config.calendar.component
        for followup in followups:
            key = (followup, language, component, instance, scope)
            uid = object_uid(followup.uid, scope)
            if key not in self._rendered:
                self._rendered[key] = render.render_with_hash(
                    followup, language=language, component=component, now=now,
                    instance=instance, object_uid=uid)
            item, digest, legacy = self._rendered[key]
            desired[followup.uid] = Desired(followup, target.href_for(uid), item, digest, legacy,
                                            object_uid=uid if scope else "")
        return desired


def load_ideas(config: Config) -> tuple[list[Idea], Vocabulary]:
    return RunContext(config).ideas()


def my_interests(config: Config) -> tuple[str, ...]:
    return RunContext(config).my_interests()


@dataclass
class Contacts:
    contacts: list[Contact]
    failed: list[SourceError] = field(default_factory=list)  # one per source that failed
    untrusted: list[str] = field(default_factory=list)  # why some read is not whole
    suspect: bool = False  # some source read far fewer cards than before (`rules.SUSPECT`)

    @property
    def trusted(self) -> bool:
        """Every source read whole: a contact missing from the read is gone."""
        return not self.failed and not self.untrusted

    @property
    def passing(self) -> bool:
        """A read that a later cycle will most likely not repeat (a source down, a restore half
        done): what it plans is not written over what was, only added to."""
        return bool(self.failed) or self.suspect


def read_contacts(config: Config, state: State | None = None, now: dt.datetime | None = None,
                  context: RunContext | None = None) -> Contacts:
    """Every contact of every source, with its interest tags. A source that fails as a whole is
    reported and the others go on. With `state`, CardDAV sources read incrementally and each
    read is judged by the source rule against the last one (`rules.source_verdict`)."""
    context = context or RunContext(config)
    result = Contacts([])
    for index, source in enumerate(config.contacts):
        try:
            reader = make_source(source, state, f"contacts[{index}]")
            found = reader.read()
        except SourceError as error:
            log.error("%s", error)
            result.failed.append(error)
            continue
        problems = [*reader.damaged, *(f"{where}: changed while it was read; read again next "
                                       "cycle" for where in reader.changed_during_read)]
        if state is not None:
            verdict = _judge(reader.description, len(found), reader.complete, state,
                             now or dt.datetime.now(dt.UTC), config.daemon.poll)
            if isinstance(verdict, SourceError):
                log.error("%s", verdict)
                result.failed.append(verdict)
                continue
            result.suspect = result.suspect or bool(verdict)
            problems += verdict
        for problem in problems:
            log.warning("%s; the follow-ups of contacts not read are kept while it is so", problem)
        result.untrusted.extend(problems)
        result.contacts.extend(found)
    # The shipped vocabulary's synonyms and the configuration's, so that #vela is #sailing.
    synonyms = context.ideas()[1].synonyms
    result.contacts = interests.with_interests(
        dedupe(result.contacts), config.tags.markers, synonyms,
        groups=(*config.rules.keep_in_touch_categories, *config.rules.skip_categories),
        not_interests=config.tags.not_interests)
    return result


# A card read this lately and gone now may be the one a close name on a new card fixed.
GONE_LATELY = dt.timedelta(days=14)


def with_ledgers(read: Contacts, state: State | None, today: dt.date, *,
                 relink: bool = True) -> list[Contact]:
    """The contacts read, each with the id its follow-ups keep (`Contact.linked_from`). With
    `relink`, and only when every source read whole (a half-read address book decides nothing),
    rows of ids that no contact has any more are first moved to the contact they belong to
    (`identity.relinks`), with a message each, and who each contact with rows is is kept."""
    if state is None:
        return read.contacts
    ledger = Ledger(state)
    if relink and read.trusted and not read.suspect:
        owners, known = ledger.owners(), ledger.known()
        present = {contact.uid for contact in read.contacts}
        orphans = owners - present
        if orphans:
            newcomers = [contact for contact in read.contacts if contact.uid not in owners]
            found = identity.relinks({uid: known.get(uid) for uid in sorted(orphans)}, newcomers,
                                     identity.legacy_uids(read.contacts),
                                     since=(today - GONE_LATELY).isoformat())
            for link in found:
                moved = ledger.relink(link.old, link.new.uid, link.why, today)
                log.warning("%s: the ledger of id %s is now %s's (id %s), by %s: %s",
                            link.new.where, link.old, link.new.name, link.new.uid, link.why,
                            ", ".join(f"{count} {what}" for what, count in moved.items() if count)
                            or "no rows")
                owners.add(link.new.uid)
        day = today.isoformat()
        ledger.remember({contact.uid: identity.Known.of(contact, day) for contact in read.contacts
                         if contact.uid in owners}, known)
    links = ledger.links()
    if not links:
        return read.contacts
    return [replace(contact, linked_from=links[contact.uid]) if contact.uid in links else contact
            for contact in read.contacts]


def _judge(description: str, cards: int, complete: bool, state: State, now: dt.datetime,
           poll: dt.timedelta) -> list[str] | SourceError:
    """The source rule on one read, with its memory kept in the state file: an error for an
    emptied source, the warning of a suspect one, or nothing."""
    status = state.status()
    memory = _memory(status.get(f"source:{description}"),
                     status.get(f"source-cards:{description}"))  # the key of syncd ≤ 0.1
    verdict, after = rules.source_verdict(memory, cards, complete, now, poll)
    if after != memory:
        state.set_status({f"source:{description}": json.dumps({
            "cards": after.cards, "pending": after.pending,
            "pending_since": after.pending_since.isoformat() if after.pending_since else None})})
    if verdict == rules.EMPTIED:
        return SourceError(f"{description}: read no card, but {memory.cards} last time; no "
                           "follow-up is deleted until it reads again")
    if verdict == rules.SUSPECT:
        return [f"{description}: read {cards} cards, {memory.cards} at the last whole read (a "
                "restore or an export not finished?); trusted once the same count is read again "
                f"{_duration(poll)} later"]
    return []


def _memory(saved: str | None, legacy: str | None) -> rules.SourceMemory:
    try:
        data = json.loads(saved) if saved else {"cards": int(legacy or 0)}
        since = data.get("pending_since")
        return rules.SourceMemory(int(data.get("cards", 0)), data.get("pending"),
                                  dt.datetime.fromisoformat(str(since)) if since else None)
    except (ValueError, TypeError, AttributeError):
        return rules.SourceMemory()  # a damaged entry: judged afresh


def _duration(span: dt.timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"{seconds // 60} min" if seconds >= 2 * 60 else f"{seconds} s"


def note_exchanges(config: Config, contacts: list[Contact]) -> list[Exchange]:
    found: list[Exchange] = []
    for contact in contacts:
        if ":" not in contact.note:
            continue
        exchanges, problems = reciprocity.note_exchanges(contact, config.rules.give_back_weights)
        found.extend(exchanges)
        for problem in problems:
            log.warning("%s", problem)
    return found


def ledger_view(config: Config, contacts: list[Contact], today: dt.date,
                state: State | None) -> LedgerView:
    ledger = Ledger(state) if state else None
    events = []
    if ledger:
        events += [ledger.last_events(DISMISSED, reason) for reason in CADENCE_REASONS]
        events += [ledger.last_events(COMPLETED, reason) for reason in REASONS]
    proposed = ledger.proposals(today - YEAR) if ledger and today != dt.date.max else []
    return rules.ledger_view(ledger.exchanges() if ledger else [],
                             note_exchanges(config, contacts), contacts, events, config.rules,
                             today, proposed)


def make_plan(config: Config, contacts: list[Contact], today: dt.date, state: State | None,
              context: RunContext | None = None) -> list[FollowUp]:
    written = state.written() if state else {}
    view = ledger_view(config, contacts, today, state)
    return plan_followups(context or RunContext(config), contacts, today, written, view)


def plan_followups(context: RunContext, contacts: list[Contact], today: dt.date,
                   written: dict[str, Written], view: LedgerView) -> list[FollowUp]:
    config = context.config
    excluded, problems = kept_out(contacts, config.rules)
    for problem in problems:
        log.warning("%s", problem)
    followups = plan(
        contacts, config.rules, today, my_interests=context.my_interests(),
        pinned={uid: w.due for uid, w in written.items()},
        last_contact=view.last_contact, standings=view.standings, excluded=excluded,
    )
    catalog, vocabulary = context.ideas()
    inspiration = Inspiration.build(
        contacts, view.exchanges, catalog, vocabulary, my_interests=context.my_interests(),
        my_language=config.me.language, per_followup=config.ideas.per_followup,
        proposed=view.proposed, today=today, excluded=excluded,
    )
    return enrich(followups, inspiration)
