"""kill -9 at random points of `syncd sync` against a real Radicale (issue 7, the fault suite).

500 contacts as real files, a Radicale of its own (no fsync: see `RadicaleServer`), the real
CLI as a subprocess, SIGKILL 20 times, restarting each time:

- 9 kills during the first sync of the 500 follow-ups: one before the first request (reading
  and planning) and 8 after a seeded random number of its writes, spread over the whole sync;
- then twice a round of changes, 11 kills in all: the person ticks off to-dos on the server
  (completions for the ledger), `syncd log` records exchanges (give-backs to create), cards are
  deleted (follow-ups to delete), renamed (to update) and added (to create); each round is
  killed while it fetches and records the completions, between its two passes (after the second
  listing) and after a random number of its writes.

Each kill lands a few milliseconds (seeded) after its trigger, so anywhere in a request, between
a write and its state transaction, or inside a transaction. Afterwards one full run must exit 0
and leave the server holding exactly `syncd plan --json` (the open follow-ups), every UID once
and one open follow-up per (contact, reason), every completed to-do still there; the run after
writes nothing; and `syncd ledger export` holds every logged exchange and one `gave` per
ticked-off to-do, each exactly once.

The kills are placed by counting the requests of the run at a counting proxy on loopback (no
fault injected), so where they land does not depend on the machine's speed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import sqlite3
import subprocess
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from fault_support import (
    ServerCalendar,
    check_calendar,
    loopback_env,
    planned,
    run_syncd,
    syncd_command,
    write_card,
)
from loopback_proxy import LoopbackProxy

from syncd.demo import RadicaleServer

SEED = 20261130
TODAY = "2026-11-30"  # a Monday
TICKED_AT = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.timezone.utc)
CONTACTS = 500
KILLS = 20
CALENDAR = "Follow-ups"
WRITES = ("PUT", "DELETE")


class Runs:
    """`syncd sync --today TODAY` as subprocesses, each killed when its trigger fires."""

    def __init__(self, home: Path, proxy: LoopbackProxy, env: dict[str, str], rng: random.Random):
        self.home = home
        self.proxy = proxy
        self.env = env
        self.rng = rng
        self.kills: list[str] = []  # what each kill was placed after
        self.finished = 0  # runs that ended before their trigger fired

    def count(self, methods: tuple[str, ...]) -> int:
        with self.proxy._lock:
            return sum(1 for m, _ in self.proxy.requests if m in methods)

    def run(self, trigger: tuple) -> bool:
        """One run, SIGKILLed when `trigger` fires: ("time", seconds) after the start, or
        ("requests", methods, n) once n requests of those methods were sent. True if killed."""
        seen = {methods: self.count(methods) for methods in (WRITES, ("GET",), ("REPORT",))}
        log = open(self.home / "run.log", "a")
        log.write(f"--- {trigger}\n")
        log.flush()
        started = time.monotonic()
        process = subprocess.Popen(syncd_command(self.home / "config.yaml", "sync", "--today", TODAY),
                                   stdout=log, stderr=subprocess.STDOUT, env=self.env)
        try:
            while process.poll() is None:
                if trigger[0] == "time":
                    fired = time.monotonic() - started >= trigger[1]
                else:
                    _, methods, n = trigger
                    fired = self.count(methods) - seen[methods] >= n
                if fired:
                    time.sleep(self.rng.uniform(0, 0.03))  # land anywhere in what follows
                    process.kill()
                    process.wait(timeout=30)
                    if process.returncode == -9:
                        self.kills.append(str(trigger))
                        return True
                    break
                time.sleep(0.002)
            process.wait(timeout=180)
        finally:
            log.close()
        assert process.returncode in (0, -9), (self.home / "run.log").read_text()[-3000:]
        self.finished += 1
        return False


def logged_exchanges(config: Path, env: dict[str, str], uids: list[str], tag: str) -> list[tuple]:
    """`syncd log received` for each uid; returns the (uid, direction, kind, item, date) rows."""
    rows = []
    for index, uid in enumerate(uids):
        item, day = f"Book {tag}-{index}", f"2026-11-{1 + index % 20:02d}"
        done = run_syncd(config, "log", "received", uid, "book", item, "--date", day, env=env)
        assert done.returncode == 0, done.stderr
        rows.append((uid, "received", "book", item, day))
    return rows


@pytest.fixture
def server(tmp_path):
    with RadicaleServer(tmp_path / "radicale", fsync=False) as radicale:
        yield radicale


def test_kill9_at_random_points_loses_and_duplicates_nothing(tmp_path, server):
    began = time.monotonic()
    rng = random.Random(SEED)
    home, cards = tmp_path, tmp_path / "contacts"
    cards.mkdir()
    names = {f"p{i:04d}": f"Person {i}" for i in range(CONTACTS)}
    for uid, name in names.items():
        write_card(cards, uid, name)
    config = home / "config.yaml"
    with LoopbackProxy(server.url) as proxy:
        config.write_text(textwrap.dedent(f"""\
            contacts: [{{type: vdir, path: contacts}}]
            calendar:
              type: caldav
              url: {proxy.url}
              calendar: {CALENDAR}
              username: {server.username}
              password_env: SYNCD_TEST_PASSWORD
            rules: {{weekly_cap: 1000, working_days: [mon, tue, wed, thu, fri, sat, sun]}}
            state: state.sqlite
            """))
        env = loopback_env(SYNCD_TEST_PASSWORD=server.password or "")
        calendar = ServerCalendar(server, CALENDAR)
        runs = Runs(home, proxy, env, rng)
        untouched = sorted(names)  # contacts no change has been made to yet
        rng.shuffle(untouched)

        def take(n: int) -> list[str]:
            chosen = sorted(untouched[:n])
            del untouched[:n]
            return chosen

        # Ledger rows first: give-backs owed by 15 people.
        expected_rows = logged_exchanges(config, env, take(15), "a")
        first_plan = planned(config, env, TODAY)
        assert len(first_plan) >= CONTACTS

        # 1. The first sync of the whole plan, killed 9 times.
        runs.run(("time", rng.uniform(0.05, 0.5)))  # starting, reading, planning
        positions = sorted(rng.sample(range(1, len(first_plan) - 20), 8))
        done = 0
        for position in positions:
            before = runs.count(WRITES)
            runs.run(("requests", WRITES, max(1, position - done)))
            done += runs.count(WRITES) - before
        assert len(runs.kills) == 9, runs.kills

        # 2. Two rounds of changes, each killed while it settles and while it writes.
        ticked: set[str] = set()
        for tag, kills in (("b", 6), ("c", 5)):
            on_server = [o for o in calendar.objects() if o.contact is not None and not o.completed]
            free = set(untouched)
            to_tick = [o for o in on_server if o.contact in free][:25]
            for item in to_tick:
                calendar.tick_off(item, TICKED_AT)
                ticked.add(item.uid)
                untouched.remove(item.contact)
            expected_rows += logged_exchanges(config, env, take(10), tag)
            for uid in take(40):
                (cards / f"{uid}.vcf").unlink()
            for uid in take(40):
                write_card(cards, uid, names[uid] + " Renamed")
            for i in range(40):
                uid = f"n{tag}{i:03d}"
                write_card(cards, uid, f"Newcomer {tag} {i}")
            target = len(runs.kills) + kills
            triggers = [("requests", ("GET",), rng.randint(1, len(to_tick))),
                        ("requests", ("REPORT",), 2)]
            while len(runs.kills) < target:
                trigger = triggers.pop(0) if triggers else ("requests", WRITES, rng.randint(1, 60))
                runs.run(trigger)
                assert runs.finished <= 6, f"too many runs ended before their kill: {runs.kills}"
        assert len(runs.kills) == KILLS

        # After all: one full run converges, and the next one writes nothing.
        converge = run_syncd(config, "sync", "--today", TODAY, env=env)
        assert converge.returncode == 0, converge.stdout + converge.stderr
        writes_before = runs.count(WRITES)
        again = run_syncd(config, "sync", "--today", TODAY, env=env)
        assert again.returncode == 0, again.stderr
        assert re.match(r"0 created, 0 updated, 0 deleted, \d+ unchanged", again.stdout), again.stdout
        assert runs.count(WRITES) == writes_before

    wanted = planned(config, env, TODAY)
    objects = calendar.objects()
    figures = check_calendar(objects, set(wanted))
    completed = {o.uid for o in objects if o.completed}
    assert ticked <= completed, f"ticked-off to-dos gone from the server: {ticked - completed}"

    # The ledger: every logged exchange and one `gave` per ticked-off to-do, each exactly once.
    export = run_syncd(config, "ledger", "export", "--format", "csv", env=env)
    assert export.returncode == 0, export.stderr
    rows = list(csv.DictReader(io.StringIO(export.stdout)))
    logged = [(r["contact_uid"], r["direction"], r["kind"], r["item"], r["date"])
              for r in rows if r["source"] == "cli"]
    assert sorted(logged) == sorted(expected_rows)
    completions = [re.search(r"follow-up (\S+)$", r["note"]).group(1)
                   for r in rows if r["source"] == "calendar"]
    assert sorted(completions) == sorted(ticked)
    assert all(r["direction"] == "gave" for r in rows if r["source"] == "calendar")
    assert len(rows) == len(expected_rows) + len(ticked)
    db = sqlite3.connect(home / "state.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        events = db.execute("SELECT followup_uid FROM events WHERE what = 'completed'").fetchall()
    finally:
        db.close()
    assert sorted(uid for (uid,) in events) == sorted(ticked)

    reasons = Counter(f["reason"] for f in wanted.values())
    print(f"\nkill -9: {len(runs.kills)} kills, {runs.finished} runs ended before their kill, "
          f"{figures['objects']} objects checked ({figures['open']} open: {dict(reasons)}; "
          f"{len(completed)} "
          f"completed), {figures['duplicates']} duplicate UIDs, 0 lost; {len(rows)} ledger rows "
          f"({len(ticked)} completions); {time.monotonic() - began:.0f} s")
