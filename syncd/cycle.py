"""One sync cycle: read contacts → plan → render → reconcile → write. The CLI's `sync` and the
daemon both run exactly this. I/O lives here and in the sources and targets; every decision is
taken by the pure modules.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from syncd import interests, reciprocity, reconcile, render
from syncd.config import CalendarConfig, Config, SourceConfig
from syncd.errors import PreconditionFailed, SourceError, TargetError
from syncd.ledger import Ledger
from syncd.model import GAVE, REASONS, Contact, Exchange, FollowUp, Idea
from syncd.catalog import load_catalog, load_vocabulary
from syncd.ideas import Vocabulary
from syncd.inspire import EXCHANGE_KIND_OF_IDEA, Inspiration, enrich
from syncd.passwords import resolve_password
from syncd.planner import CADENCE_REASONS, GIVE_BACK, plan
from syncd.reconcile import Action, Desired
from syncd.sources import ContactSource, dedupe
from syncd.sources.files import VcfFileSource, VdirSource
from syncd.state import COMPLETED, DELETING, DISMISSED, OURS, PERSON, ListingCache, State, Written
from syncd.targets import Target

log = logging.getLogger(__name__)


@dataclass
class Contacts:
    contacts: list[Contact]
    failed: list[SourceError] = field(default_factory=list)  # one per source that failed
    damaged: list[str] = field(default_factory=list)  # files with cards that could not be read


@dataclass
class Report:
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    source_failures: list[SourceError] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        keys = ("created", "updated", "deleted", "unchanged", "kept", "completed", "dismissed",
                "failed")
        text = ", ".join(f"{self.counts[key]} {key}" for key in keys)
        return ("dry run: " + text) if self.dry_run else text


def make_source(source: SourceConfig, cache: ListingCache | None = None,
                key: str = "contacts[]") -> ContactSource:
    """The source of one `contacts` entry; a CardDAV source keeps its sync token and the cards
    it read in `cache` (the state file), so that it fetches only what changed."""
    if source.type == "carddav":
        from syncd.sources.carddav import CardDAVSource

        return CardDAVSource(
            source.url or "",
            source.username,
            resolve_password(source, key, SourceError),
            verify=source.verify,
            timeout=source.timeout.total_seconds(),
            cache=cache,
        )
    assert source.path is not None  # the schema requires it for vdir and vcf
    return VdirSource(source.path) if source.type == "vdir" else VcfFileSource(source.path)


def read_contacts(config: Config, state: State | None = None) -> Contacts:
    """Every contact of every source, with its interest tags. A source that fails as a whole is
    reported and the others go on. With `state`, CardDAV sources read incrementally."""
    result = Contacts([])
    for index, source in enumerate(config.contacts):
        try:
            reader = make_source(source, state, f"contacts[{index}]")
            found = reader.read()
            _check_not_emptied(reader.description, len(found), state)
        except SourceError as error:
            log.error("%s", error)
            result.failed.append(error)
            continue
        result.contacts.extend(found)
        result.damaged.extend(getattr(reader, "damaged", []))
    # The shipped vocabulary's synonyms and the configuration's, so that #vela is #sailing.
    synonyms = load_ideas(config)[1].synonyms
    result.contacts = interests.with_interests(
        dedupe(result.contacts), config.tags.markers, synonyms
    )
    return result


def _check_not_emptied(description: str, count: int, state: State | None) -> None:
    """A source that read cards last time and none now is an unmounted folder, a truncated
    export or a server answering an empty book, not people leaving: it fails, so that nothing
    is deleted, until it reads again."""
    if state is None:
        return
    key = f"source-cards:{description}"
    before = int(state.status().get(key, "0"))
    if count == 0 and before > 0:
        raise SourceError(f"{description}: read no card, but {before} last time; no follow-up "
                          "is deleted until it reads again")
    if count != before:
        state.set_status({key: str(count)})


def my_interests(config: Config) -> tuple[str, ...]:
    vocabulary = load_ideas(config)[1]
    tags = (vocabulary.canonical(tag) for tag in config.me.interests)
    return tuple(dict.fromkeys(tag for tag in tags if tag))


@dataclass(frozen=True)
class LedgerView:
    """The ledger as of one day: stored exchanges merged with the NOTE lines of the cards."""

    exchanges: list[Exchange]
    standings: dict[str, reciprocity.Standing]
    last_contact: dict[str, dt.date]  # when each keep-in-touch clock last restarted


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


def ledger_view(
    config: Config, contacts: list[Contact], today: dt.date, state: State | None
) -> LedgerView:
    ledger = Ledger(state) if state else None
    stored = ledger.exchanges() if ledger else []
    exchanges = reciprocity.merge(stored, note_exchanges(config, contacts))
    # An introduction counts for both people introduced (not exported: it is derived).
    mirrored = reciprocity.introduced_back(exchanges, contacts)
    credited = reciprocity.merge(exchanges, mirrored) if mirrored else exchanges
    standings = reciprocity.standings(credited, config.rules.give_back_window, today)
    clocks: list[dict[str, dt.date]] = [
        {uid: s.last_exchange for uid, s in standings.items() if s.last_exchange},
    ]
    if ledger:
        for reason in CADENCE_REASONS:
            clocks.append(ledger.last_events(DISMISSED, reason))
        for reason in REASONS:
            clocks.append(ledger.last_events(COMPLETED, reason))
    last_contact: dict[str, dt.date] = {}
    for clock in clocks:
        for uid, day in clock.items():
            if day <= today and day > last_contact.get(uid, dt.date.min):
                last_contact[uid] = day
    return LedgerView(exchanges, standings, last_contact)


def make_plan(
    config: Config, contacts: list[Contact], today: dt.date, state: State | None
) -> list[FollowUp]:
    written = state.written() if state else {}
    return _plan(config, contacts, today, written, ledger_view(config, contacts, today, state))


def _plan(
    config: Config, contacts: list[Contact], today: dt.date, written: dict[str, Written],
    view: LedgerView,
) -> list[FollowUp]:
    followups = plan(
        contacts, config.rules, today, my_interests=my_interests(config),
        pinned={uid: w.due for uid, w in written.items()},
        last_contact=view.last_contact, standings=view.standings,
    )
    catalog, vocabulary = load_ideas(config)
    inspiration = Inspiration.build(
        contacts, view.exchanges, catalog, vocabulary, my_interests=my_interests(config),
        my_language=config.me.language, per_followup=config.ideas.per_followup,
    )
    return enrich(followups, inspiration)


_IDEAS: dict[tuple, tuple[list[Idea], Vocabulary]] = {}


def load_ideas(config: Config) -> tuple[list[Idea], Vocabulary]:
    """The catalog (shipped and the person's files) and the tag vocabulary, read once per
    process for a given configuration; a bad catalog file is a ConfigError naming file and line."""
    key = (config.catalog, config.tags.synonyms, config.tags.related)
    if key not in _IDEAS:
        _IDEAS[key] = (load_catalog(list(config.catalog)),
                       load_vocabulary(config.tags.synonyms, config.tags.related))
    return _IDEAS[key]


def make_target(calendar: CalendarConfig, cache: ListingCache | None = None) -> Target:
    """The calendar target; `sync` hands a CalDAV target the state file as its `cache`."""
    if calendar.type == "local":
        from syncd.targets.local import LocalTarget

        return LocalTarget(calendar.path)
    from syncd.targets.caldav import CalDAVTarget

    return CalDAVTarget(
        calendar.url or "",
        calendar.calendar,
        calendar.username,
        resolve_password(calendar),
        verify=calendar.verify,
        timeout=calendar.timeout.total_seconds(),
        component=calendar.component,
        cache=cache,
    )


# Rendered follow-ups by value, kept across the cycles of one process (the daemon): a follow-up
# whose inputs did not change is not rendered again. icalendar costs about 2.3 ms per object
# (measured: 2,000 objects took 4.6 s to render), which made an idle daemon's cycle CPU-bound.
_RENDERED: dict[tuple[FollowUp, str, str], tuple[str, str]] = {}
_RENDERED_MAX = 200_000


def desire(config: Config, followups: list[FollowUp], target: Target,
           now: dt.datetime) -> dict[str, Desired]:
    if len(_RENDERED) > _RENDERED_MAX:
        _RENDERED.clear()
    desired = {}
    language, component = config.me.language, config.calendar.component
    for followup in followups:
        key = (followup, language, component)
        if key not in _RENDERED:
            _RENDERED[key] = render.render_with_hash(
                followup, language=language, component=component, now=now
            )
        item, digest = _RENDERED[key]
        desired[followup.uid] = Desired(followup, target.href_for(followup.uid), item, digest)
    return desired


def sync(
    config: Config,
    state: State,
    target: Target,
    today: dt.date,
    now: dt.datetime,
    *,
    dry_run: bool = False,
    progress: Callable[[int], Callable[[], None]] | None = None,
    stop: Callable[[], bool] | None = None,
) -> Report:
    """One cycle. Each write is followed by its own state transaction, so a crash between the
    two leaves an object that the next cycle recognises and adopts, never a duplicate."""
    report = Report(dry_run=dry_run)
    use_cache = getattr(target, "use_cache", None)
    if use_cache is not None:  # a CalDAV target: listing and sync token kept in the state file
        use_cache(state)
    read = read_contacts(config, state)
    report.errors.extend(map(str, read.failed))
    report.source_failures.extend(read.failed)
    counts, settled = _pass(config, state, target, today, now, read, report, dry_run,
                            progress, stop, settle_first=not dry_run)
    if settled:
        # What the person ticked off or deleted restarts clocks and settles balances, so the
        # first pass recorded only that; now plan with it, so that one sync converges and
        # nothing is written on the old plan only to be rewritten.
        counts += _pass(config, state, target, today, now, read, report, dry_run, progress,
                        stop, counted=settled)[0]
    report.counts.update(counts)
    return report


def _pass(
    config: Config, state: State, target: Target, today: dt.date, now: dt.datetime,
    read: Contacts, report: Report, dry_run: bool,
    progress: Callable[[int], Callable[[], None]] | None, stop: Callable[[], bool] | None,
    settle_first: bool = False, counted: frozenset[str] = frozenset(),
) -> tuple[Counter[str], frozenset[str]]:
    """Plan, reconcile and apply once; returns what it did (failures go to `report`, and the
    follow-ups in `counted` are not counted again) and the uids it settled. With
    `settle_first`, when the person completed or deleted follow-ups, only that is applied."""
    counts: Counter[str] = Counter()
    written = state.written()
    view = ledger_view(config, read.contacts, today, state)
    followups = _plan(config, read.contacts, today, written, view)
    desired = desire(config, followups, target, now)
    listing = target.list()
    fetched = {}
    for href in reconcile.to_fetch(desired, listing, written):
        try:
            fetched[href] = render.read(target.get(href)[0])
        except TargetError as error:
            _fail(report, str(error))
        except ValueError as error:
            _fail(report, f"{href}: not a valid iCalendar object ({error}); left alone")
    actions = reconcile.reconcile(desired, listing, written, fetched)
    settling = [a for a in actions if a.kind in (reconcile.COMPLETED, reconcile.DISMISS)]
    if settle_first and settling:
        actions = settling
    deletes_allowed = _deletes_allowed(read, written, report)
    context = _Context(config, today, view.standings, fetched,
                       {idea.id: idea for idea in load_ideas(config)[0]})
    step = progress(len(actions)) if progress else None
    settled: set[str] = set()
    for action in actions:
        if stop and stop():
            log.info("stopping: the remaining actions wait for the next cycle")
            break
        if action.kind == reconcile.DELETE and not deletes_allowed(action):
            outcome: str | None = "kept"
        elif dry_run:
            outcome = _COUNTED.get(action.kind, action.kind)
        else:
            outcome = _apply(action, state, target, report, context)
            if outcome in ("completed", "dismissed"):
                settled.add(action.uid)
        if outcome and action.uid not in counted:
            counts[outcome] += 1
        if step:
            step()
    return counts, frozenset(settled)


_COUNTED = {
    reconcile.CREATE: "created",
    reconcile.UPDATE: "updated",
    reconcile.DELETE: "deleted",
    reconcile.UNCHANGED: "unchanged",
    reconcile.ADOPT: "unchanged",
    reconcile.REFRESH: "unchanged",
    reconcile.PERSON_EDITED: "kept",
    reconcile.SKIP: "kept",
    reconcile.FORGET: "unchanged",
    reconcile.COMPLETED: "completed",
    reconcile.DISMISS: "dismissed",
}


def _deletes_allowed(read: Contacts, written: dict[str, Written],
                     report: Report) -> Callable[[Action], bool]:
    """A source that failed, a card that could not be read, or an address book that suddenly
    reads as empty must never make follow-ups disappear: that is an unmounted folder or a
    broken file, not people leaving. While the read is incomplete, a follow-up is deleted only
    when its contact was read in this cycle (a birthday removed from the card, a give-back
    settled): a broken card must not hold back everyone else's deletes for as long as it stays
    broken, and the contacts not read may be the ones in the broken file."""
    if read.failed:
        log.error("a contact source failed: only follow-ups of contacts read are deleted")
    elif read.damaged:
        for problem in read.damaged:
            log.warning("%s; the follow-ups of contacts not read are kept while it is so",
                        problem)
    elif not read.contacts and any(w.owner == OURS for w in written.values()):
        message = "the contact sources yielded no card: no follow-up is deleted in this cycle"
        log.error("%s", message)
        report.errors.append(message)
    else:
        return lambda action: True
    present = {contact.uid for contact in read.contacts}
    return lambda action: action.written is not None and action.written.contact_uid in present


@dataclass(frozen=True)
class _Context:
    """What applying an action may need besides the action itself."""

    config: Config
    today: dt.date
    standings: dict[str, reciprocity.Standing]
    fetched: dict[str, render.Stored]
    ideas: dict[str, Idea]


def _complete(action: Action, state: State, context: _Context) -> None:
    """A follow-up ticked off in the calendar: a give-back (`gave`) in the ledger and a restart of
    the keep-in-touch clock, in one transaction with the follow-up's own row."""
    entry = _remember(action, COMPLETED)
    stored = context.fetched[action.href]
    day = min(stored.completed or context.today, context.today)
    weights = context.config.rules.give_back_weights
    kind, item = "other", stored.summary or entry.reason
    idea = context.ideas.get(stored.idea or "")
    if idea is not None:  # the person left the idea the follow-up proposed
        kind, item = EXCHANGE_KIND_OF_IDEA[idea.kind], idea.title
    weight = weights[kind]
    if entry.reason == GIVE_BACK:
        # Ticking off a give-back settles what was owed, whatever was given.
        owed = context.standings.get(entry.contact_uid)
        weight = max(weight, owed.balance if owed else 0.0)
    exchange = Exchange(entry.contact_uid, GAVE, kind, item, day, weight, "calendar",
                        f"completed {entry.reason} follow-up {entry.uid}")
    log.info("%s: completed in the calendar; recorded as given", action.href)
    with state.transaction():
        state.record(entry)
        ledger = Ledger(state)
        ledger.add(exchange)
        ledger.record_event(entry.uid, COMPLETED, entry.contact_uid, entry.reason, day)


def _apply(action: Action, state: State, target: Target, report: Report,
           context: _Context) -> str | None:
    """Carry out one action; returns what to count it as (None: a failure, already counted)."""
    kind, want = action.kind, action.desired
    try:
        if kind == reconcile.CREATE:
            assert want
            etag = target.create(action.href, want.item)
            state.record(_entry(want, action.href, etag, want.hash, OURS))
        elif kind == reconcile.UPDATE:
            assert want and action.etag
            etag = target.update(action.href, want.item, action.etag)
            state.record(_entry(want, action.href, etag, want.hash, OURS))
        elif kind == reconcile.DELETE:
            assert action.etag and action.written
            # Write-ahead: after a crash between the DELETE and forgetting the row, the next
            # cycle must know that syncd deleted it, not the person.
            state.record(replace(action.written, owner=DELETING))
            target.delete(action.href, action.etag)
            state.forget(action.uid)
        elif kind in (reconcile.ADOPT, reconcile.REFRESH):
            assert want and action.etag and action.hash
            state.record(_entry(want, action.href, action.etag, action.hash, OURS))
        elif kind == reconcile.PERSON_EDITED:
            log.info("%s: edited in the calendar; left as it is", action.href)
            state.record(_remember(action, PERSON))
        elif kind == reconcile.COMPLETED:
            _complete(action, state, context)
        elif kind == reconcile.DISMISS:
            log.info("%s: deleted in the calendar; not re-created", action.href)
            entry = _remember(action, DISMISSED)
            with state.transaction():
                state.record(entry)
                Ledger(state).record_event(entry.uid, DISMISSED, entry.contact_uid, entry.reason,
                                           context.today)
        elif kind == reconcile.FORGET:
            state.forget(action.uid)
        elif kind == reconcile.SKIP and action.written is None:
            log.warning("%s: exists and was not written by syncd as it is now; left alone",
                        action.href)
    except PreconditionFailed as error:
        log.warning("%s; decided again next cycle", error)
        if kind == reconcile.DELETE and action.written:
            state.record(action.written)  # refused: nothing was deleted
        return "kept"
    except TargetError as error:
        _fail(report, str(error))
        return None
    return _COUNTED[kind]


def _entry(want: Desired, href: str, etag: str, hash_: str, owner: str) -> Written:
    followup = want.followup
    return Written(followup.uid, href, etag, hash_, followup.contact.uid, followup.reason,
                   followup.cycle, followup.due, owner)


def _remember(action: Action, owner: str) -> Written:
    if action.written is not None:
        base = action.written
        return Written(base.uid, base.href, action.etag or base.etag, action.hash or base.hash,
                       base.contact_uid, base.reason, base.cycle, base.due, owner)
    assert action.desired and action.etag and action.hash
    return _entry(action.desired, action.href, action.etag, action.hash, owner)


def _fail(report: Report, message: str) -> None:
    log.error("%s", message)
    report.errors.append(message)
    report.counts["failed"] += 1
