"""One sync cycle, wired: gather the inputs whole (`syncd.gather`), decide every write over them
(`syncd.engine`, pure), carry the decisions out (`syncd.apply`). The CLI's `sync` and the daemon
both run exactly this; nothing here decides.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from syncd import backups, engine, render
from syncd.apply import COUNTED, Applying, apply
from syncd.config import Config
from syncd.errors import SourceError, StateError, TargetError, TargetMissing
from syncd.gather import (
    Contacts,
    RunContext,
    ledger_view,
    load_ideas,
    make_plan,
    my_interests,
    plan_followups,
    read_contacts,
    with_ledgers,
)
from syncd.identity import Known
from syncd.ledger import Ledger
from syncd.model import Contact
from syncd.reconcile import Action
from syncd.rules import LedgerView
from syncd.sources import make_source
from syncd.state import OTHER_INSTANCE, UNASSIGNED, State, Written
from syncd.targets import Target, make_target

# The cycle's own names and those commands, benchmarks and tests use through it.
__all__ = [
    "DAEMON", "SYNC", "TIMER", "Contacts", "LedgerView", "Report", "RunContext", "ledger_view",
    "load_ideas", "lost_key", "make_plan", "make_source", "make_target", "my_interests",
    "plan_followups", "read_contacts", "record_outcome", "sync", "with_ledgers",
]

log = logging.getLogger(__name__)

Progress = Callable[[int], Callable[[], None]]


@dataclass
class Report:
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    source_failures: list[SourceError] = field(default_factory=list)
    dry_run: bool = False
    target: str = ""  # the identity of the target synced
    others: Counter[str] = field(default_factory=Counter)  # objects of other instances, by host

    def summary(self) -> str:
        keys = ("created", "updated", "deleted", "unchanged", "kept", "completed", "dismissed",
                "failed")
        text = ", ".join(f"{self.counts[key]} {key}" for key in keys)
        return ("dry run: " + text) if self.dry_run else text


# Who ran a cycle, as `syncd status` says it: the daemon, a `syncd sync` typed or scripted,
# or the `syncd sync` that syncd-sync.timer starts.
DAEMON, SYNC, TIMER = "daemon", "sync", "timer"


def record_outcome(state: State, result: str, errors: dict[str, str],
                   more: dict[str, str] | None = None, *, kind: str, ok: bool) -> None:
    """What `syncd status` shows of the last cycle of any `kind`, and whether it went `ok`."""
    state.set_status({
        "last_cycle": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "last_result": result,
        "last_kind": kind,
        "last_ok": "1" if ok else "0",
        "errors": json.dumps(errors, ensure_ascii=False),
        **(more or {}),
    })


def lost_key(identity: str) -> str:
    return f"target-lost:{identity}"


def sync(config: Config, state: State, target: Target, today: dt.date, now: dt.datetime, *,
         dry_run: bool = False, accept_dismissals: bool = False, new_ledger: bool = False,
         context: RunContext | None = None, progress: Progress | None = None,
         stop: Callable[[], bool] | None = None) -> Report:
    """One cycle. Raises TargetMissing, recording nothing, when the target is not the calendar
    syncd wrote to (gone, emptied, unmarked); StateError when the state file was just made but
    the calendar holds follow-ups of this syncd (a lost ledger), unless `new_ledger`."""
    report = Report(dry_run=dry_run)
    target.read_only = dry_run
    target.use_cache(state)
    context = context or RunContext(config)
    read = read_contacts(config, state, now, context)
    read.contacts = with_ledgers(read, state, today, relink=not dry_run)
    report.errors.extend(map(str, read.failed))
    report.source_failures.extend(read.failed)
    identity, unclaimed = _open(target, state, dry_run, accept_dismissals)
    report.target = identity
    run = _Cycle(config, state, target, identity, unclaimed, today, now, read, report, context,
                 dry_run, accept_dismissals, new_ledger)
    counts, settled = run.one_pass(progress, stop, settle_first=not dry_run)
    if settled:
        # What the person ticked off or deleted restarts clocks and settles balances, so the
        # first pass recorded only that; now plan with it, so that one sync converges.
        counts += run.one_pass(progress, stop, counted=settled)[0]
    report.counts.update(counts)
    if not dry_run:
        state.set_status({"target": identity})
        if read.trusted and not read.suspect:
            _remember_owners(state, read.contacts, today)
    return report


def _remember_owners(state: State, contacts: list[Contact], today: dt.date) -> None:
    """Who the people with follow-ups just written are, kept now rather than at the next
    cycle's `with_ledgers`: `syncd status` names them from the state file, without reading the
    address book (a CardDAV request, or every card, at each refresh of a status bar)."""
    ledger = Ledger(state)
    owners, day = ledger.owners(), today.isoformat()
    ledger.remember({contact.uid: Known.of(contact, day) for contact in contacts
                     if contact.uid in owners})


def _open(target: Target, state: State, dry_run: bool, accept: bool) -> tuple[str, bool]:
    """The target's identity by the target rule, claimed (folder and marker made) unless this
    is a dry run; and whether it is still unclaimed (a dry run on a folder not made yet)."""
    identity = target.identity()
    choice = engine.choose_target(target.description, target.place(), identity, target.absence,
                                  state.targets(), accept)
    if choice.refused:
        raise TargetMissing(choice.refused)
    if choice.claim and dry_run:
        return choice.inherit or f"{target.place()}#", True
    if choice.claim:
        identity = target.claim()
    assert identity is not None
    if choice.inherit and not dry_run:
        state.move_target(choice.inherit, identity)
    elif choice.inherit:
        return choice.inherit, False
    if not dry_run and (claimed := state.claim_unassigned(identity)):
        log.info("%s: %d follow-ups of an earlier syncd are this calendar's", identity, claimed)
    return identity, False


@dataclass
class _Cycle:
    config: Config
    state: State
    target: Target
    identity: str
    unclaimed: bool
    today: dt.date
    now: dt.datetime
    read: Contacts
    report: Report
    context: RunContext
    dry_run: bool
    accept_dismissals: bool
    new_ledger: bool

    def written(self) -> dict[str, Written]:
        """This target's rows; and what the person completed or dismissed in another calendar
        syncd wrote to, so that it is not created again here."""
        rows = self.state.written(self.identity)
        if self.dry_run:  # rows of an earlier syncd, not claimed in a dry run
            rows = {**self.state.written(UNASSIGNED), **rows}
        return {**self.state.decided_elsewhere(self.identity), **rows}

    def listing(self) -> dict[str, str]:
        try:
            return self.target.list()
        except TargetMissing:
            if self.unclaimed:
                return {}  # a dry run on a folder not made yet
            if not self.dry_run:
                self.state.set_status({lost_key(self.identity): self.today.isoformat()})
            raise

    def one_pass(self, progress: Progress | None, stop: Callable[[], bool] | None,
                 settle_first: bool = False, counted: frozenset[str] = frozenset(),
                 ) -> tuple[Counter[str], frozenset[str]]:
        """Gather, decide, apply once; returns what it did (the follow-ups in `counted` are not
        counted again) and the uids the person settled (completed or dismissed)."""
        state, read, report = self.state, self.read, self.report
        written = self.written()
        view = ledger_view(self.config, read.contacts, self.today, state)
        followups = plan_followups(self.context, read.contacts, self.today, written, view)
        instance = state.instance()
        listing = self.listing()
        own = (w.href for w in written.values() if w.target in (self.identity, UNASSIGNED))
        scope = engine.uid_scope(self.identity, own, listing)
        desired = self.context.desire(followups, self.target, self.now, instance, scope)
        deletable = engine.delete_guard(read.trusted, (c.uid for c in read.contacts), written)
        if read.failed:
            log.error("a contact source failed: only follow-ups of contacts read are deleted")
        elif read.trusted and deletable is not None:
            _fail(report, "the contact sources yielded no card: no follow-up is deleted in "
                  "this cycle", count=False)
        inputs = engine.Inputs(
            desired, listing, written, {}, deletable, instance, target=self.target.description,
            listing_complete=self.target.listing_complete,
            lost=lost_key(self.identity) in state.status(),
            accept_dismissals=self.accept_dismissals, settle_first=settle_first,
            hold_updates=read.passing)
        inputs = replace(inputs, fetched=self._fetch(engine.to_fetch(inputs)))
        decision = engine.decide(inputs)
        if decision.refused:
            raise TargetMissing(decision.refused)
        self._guard_lost_ledger(written, decision.actions)
        if not self.dry_run and inputs.lost:
            state.drop_status([lost_key(self.identity)])
        self._tell_others(written, decision.actions)
        how = Applying(self.config, state, self.target, self.identity, self.today,
                       view.standings, inputs.fetched,
                       {idea.id: idea for idea in self.context.ideas()[0]})
        counts: Counter[str] = Counter()
        settled: set[str] = set()
        step = progress(len(decision.actions)) if progress else None
        for action in decision.actions:
            if stop and stop():
                log.info("stopping: the remaining actions wait for the next cycle")
                break
            outcome: str | None = COUNTED[action.kind]
            if not self.dry_run:
                try:
                    outcome = apply(action, how)
                except TargetError as error:
                    _fail(report, str(error))  # counted there, as failed
                    outcome = None
                if outcome in ("completed", "dismissed", "reopened"):
                    settled.add(action.uid)
            if outcome and action.uid not in counted:
                counts[outcome] += 1
            if step:
                step()
        return counts, frozenset(settled)

    def _guard_lost_ledger(self, written: dict[str, Written], actions: list[Action]) -> None:
        """A state file just made next to a calendar that holds this syncd's follow-ups: the
        ledger they belong to was lost. Nothing is decided over an empty ledger unless the
        person says so."""
        if not self.state.ledger_is_new():
            return
        lost = 0 if self.new_ledger else engine.unknown_own_objects(
            actions, (w.href for w in written.values()))
        if not lost:
            if not self.dry_run:  # before the first write: a crash after it is only a crash
                self.state.ledger_accepted()
            return
        message = (
            f"{self.state.path}: this state file is new, but {self.target.description} holds "
            f"{lost} follow-ups this syncd wrote: the ledger they belong to is lost. Put back "
            f"a copy of {self.state.path} (there is no backup in "
            f"{backups.folder_of(Path(self.state.path))}) and run again, or run `syncd sync "
            "--new-ledger` to start an empty ledger and keep those follow-ups")
        if self.dry_run:
            log.warning("%s", message)
            return
        raise StateError(message)

    def _fetch(self, hrefs: set[str]) -> dict[str, render.Stored]:
        fetched = {}
        for href in sorted(hrefs):
            try:
                fetched[href] = render.read(self.target.get(href)[0])
            except TargetError as error:
                _fail(self.report, str(error))
            except ValueError as error:
                _fail(self.report, f"{href}: not a valid iCalendar object ({error}); left alone")
        return fetched

    def _tell_others(self, written: dict[str, Written], actions: list[Action]) -> None:
        """Once per run: the calendar also holds follow-ups another syncd wrote."""
        writers = {a.uid: a.writer for a in actions if a.writer}
        writers.update({uid: w.writer for uid, w in written.items()
                        if w.owner == OTHER_INSTANCE and uid not in writers})
        by_host = Counter(writer.rpartition("@")[2] or writer for writer in writers.values())
        self.report.others = by_host
        for host, count in sorted(by_host.items()):
            if (self.identity, host) not in self.context.said:
                self.context.said.add((self.identity, host))
                log.warning("%s also holds %d follow-ups written by syncd on %s (another state "
                            "file); they are left to it", self.target.description, count, host)


def _fail(report: Report, message: str, count: bool = True) -> None:
    log.error("%s", message)
    report.errors.append(message)
    if count:
        report.counts["failed"] += 1
